"""/memory: what the companion remembers, in plain words, and the person's say over it.

`/memory` lists it numbered (oldest first), each with when and where it came from, says whether
memory is on and how many are kept at most; `/memory forget 3`, `/memory forget all` (confirmed),
`/memory add <fact>`, `/memory fix 3 <text>`, `/memory off` (asks whether to delete what is kept)
and `/memory on`, and buttons for the same. Buttons carry memory ids and choices, never text.
"""

from __future__ import annotations

import logging
from datetime import datetime

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.memory import FACT_CHARS, MemoryKeeper
from handlers.payments import memory_limit
from handlers.ports import Channel
from handlers.texts import day, t
from storage.models import Account, Memory

log = logging.getLogger("amigo.memory")

FORGET_BUTTONS = 10
"""Memories with a "Forget n" button of their own (the first ones); the rest by command."""


def fmt_day(value: datetime) -> str:
    return day(value)


class MemoryCommand:
    def __init__(self, deps: Deps, keeper: MemoryKeeper) -> None:
        self.deps = deps
        self.keeper = keeper

    async def command(self, account: Account, args: str, channel: Channel) -> None:
        verb, _, rest = args.strip().partition(" ")
        verb, rest = verb.casefold(), rest.strip()
        if not verb:
            await self.show(account, channel)
        elif verb == "forget" and rest.casefold() == "all":
            await self._ask_forget_all(account, channel)
        elif verb == "forget" and rest.isdigit():
            await self._forget_number(account, int(rest), channel)
        elif verb == "add" and rest:
            await self._add(account, rest, channel)
        elif verb == "fix" and (parts := rest.split(maxsplit=1)) and parts[0].isdigit():
            if len(parts) == 2:
                await self._fix(account, int(parts[0]), parts[1], channel)
            else:
                await channel.send(Reply(t("memory.usage")))
        elif verb == "off" and not rest:
            await self._ask_off(account, channel)
        elif verb == "on" and not rest:
            await self._on(account, channel)
        else:
            await channel.send(Reply(t("memory.usage")))

    async def on_button(self, account: Account, value: str, channel: Channel) -> None:
        repo = self.deps.repo
        if value == "all":
            await self._ask_forget_all(account, channel)
        elif value == "allok":
            count = await repo.forget_memories(account.id)
            log.info("memory.forgot_all", extra={"uid": account.id, "count": count})
            await channel.send(Reply(t("memory.forgot_all", count=count), edit=True))
        elif value == "keep":
            await channel.send(Reply(t("memory.kept"), edit=True))
        elif value == "off":
            await self._ask_off(account, channel)
        elif value in ("offkeep", "offdel"):
            await repo.set_memory_enabled(account.id, False)
            if value == "offdel":
                count = await repo.forget_memories(account.id)
                await channel.send(Reply(t("memory.off_deleted", count=count), edit=True))
            else:
                await channel.send(Reply(t("memory.off_done"), edit=True))
            log.info("memory.switched", extra={"uid": account.id, "on": 0})
        elif value == "on":
            await self._on(account, channel)
        elif value.startswith("f") and value[1:].isdigit():
            memories = await repo.memories(account.id)
            found = next((m for m in memories if m.id == int(value[1:])), None)
            if found is not None and await repo.forget_memory(account.id, found.id):
                await channel.send(Reply(t("memory.forgotten", text=found.text)))
            await self.show(account, channel)

    async def show(self, account: Account, channel: Channel) -> None:
        repo, limit = self.deps.repo, await memory_limit(self.deps, account.id)
        memories = await repo.memories(account.id)
        on = await repo.memory_enabled(account.id)
        state = self._state(on)
        if not memories:
            toggle = Button(t("memory.off_button"), "mem:off")
            if not on:
                toggle = Button(t("memory.on_button"), "mem:on")
            await channel.send(Reply(t("memory.empty", state=state), buttons=((toggle,),)))
            return
        started = {c.id: c.started_at for c in await repo.conversations(account.id)}
        lines = [t("memory.title", state=state, count=len(memories), limit=limit)]
        lines += [self._line(n, m, started) for n, m in enumerate(memories, 1)]
        notes = []
        if not on:
            notes.append(t("memory.off_note"))
        if len(memories) >= limit:
            notes.append(t("memory.full", limit=limit))
        notes.append(t("memory.help", toggle="on" if not on else "off"))
        numbers = [
            Button(t("memory.forget_button", n=n), f"mem:f{m.id}")
            for n, m in enumerate(memories[:FORGET_BUTTONS], 1)
        ]
        rows = [tuple(numbers[i : i + 5]) for i in range(0, len(numbers), 5)]
        rows.append(
            (
                Button(t("memory.forget_all_button"), "mem:all"),
                Button(t("memory.off_button"), "mem:off")
                if on
                else Button(t("memory.on_button"), "mem:on"),
            )
        )
        text = "\n\n".join(["\n".join(lines), *notes])
        await channel.send(Reply(text, buttons=tuple(rows)))

    def _state(self, on: bool) -> str:
        if not self.deps.config.memory.enabled:
            return t("memory.state_off_service")
        return t("memory.state_on" if on else "memory.state_off")

    @staticmethod
    def _line(n: int, memory: Memory, started: dict[int, datetime]) -> str:
        if memory.manual or memory.conversation_id is None:
            source = t("memory.source_manual")
        else:
            when = started.get(memory.conversation_id, memory.created_at)
            source = t("memory.source_conversation", date=fmt_day(when))
        return t(
            "memory.item", n=n, text=memory.text, date=fmt_day(memory.updated_at), source=source
        )

    async def _numbered(self, account: Account, n: int, channel: Channel) -> Memory | None:
        memories = await self.deps.repo.memories(account.id)
        if 1 <= n <= len(memories):
            return memories[n - 1]
        await channel.send(Reply(t("memory.no_such", n=n)))
        return None

    async def _forget_number(self, account: Account, n: int, channel: Channel) -> None:
        memory = await self._numbered(account, n, channel)
        if memory is not None and await self.deps.repo.forget_memory(account.id, memory.id):
            log.info("memory.forgot", extra={"uid": account.id})
            await channel.send(Reply(t("memory.forgotten", text=memory.text)))

    async def _ask_forget_all(self, account: Account, channel: Channel) -> None:
        count, _ = await self.deps.repo.memory_counts(account.id)  # counted, not opened
        buttons = (
            (
                Button(t("memory.forget_all_yes"), "mem:allok"),
                Button(t("memory.keep"), "mem:keep"),
            ),
        )
        await channel.send(Reply(t("memory.forget_all_ask", count=count), buttons=buttons))

    async def _add(self, account: Account, text: str, channel: Channel) -> None:
        """Kept as written, sensitive or not: the person chose to."""
        if (fact := await self._fact(text, channel)) is None:
            return
        new_id = await self.deps.repo.add_memory(
            account.id, fact, conversation_id=None, manual=True
        )
        dropped = await self.keeper.enforce_cap(account.id, keep=[new_id])
        log.info("memory.added", extra={"uid": account.id, "dropped": dropped})
        if dropped:
            await channel.send(Reply(t("memory.added_full", text=fact, dropped=dropped)))
        else:
            await channel.send(Reply(t("memory.added", text=fact)))

    async def _fix(self, account: Account, n: int, text: str, channel: Channel) -> None:
        if (fact := await self._fact(text, channel)) is None:
            return
        memory = await self._numbered(account, n, channel)
        if memory is not None and await self.deps.repo.update_memory(account.id, memory.id, fact):
            log.info("memory.fixed", extra={"uid": account.id})
            await channel.send(Reply(t("memory.fixed", text=fact)))

    @staticmethod
    async def _fact(text: str, channel: Channel) -> str | None:
        """A fact the person typed, on one line; None (and they are told) when too long."""
        text = " ".join(text.split())
        if len(text) > FACT_CHARS:
            await channel.send(Reply(t("memory.too_long", limit=FACT_CHARS)))
            return None
        return text

    async def _ask_off(self, account: Account, channel: Channel) -> None:
        count, _ = await self.deps.repo.memory_counts(account.id)  # counted, not opened
        buttons = (
            (
                Button(t("memory.off_delete"), "mem:offdel"),
                Button(t("memory.off_keep"), "mem:offkeep"),
            ),
        )
        await channel.send(Reply(t("memory.off_ask", count=count), buttons=buttons))

    async def _on(self, account: Account, channel: Channel) -> None:
        repo = self.deps.repo
        if not self.deps.config.memory.enabled:
            await channel.send(Reply(t("memory.service_off")))
            return
        if await repo.memory_enabled(account.id):
            await channel.send(Reply(t("memory.already_on")))
            return
        # What was said while memory was off is never read for it: start after the newest.
        await repo.set_memory_cursor(account.id, await repo.newest_message_id(account.id))
        await repo.set_memory_enabled(account.id, True)
        log.info("memory.switched", extra={"uid": account.id, "on": 1})
        await channel.send(Reply(t("memory.on_done")))
