"""At start, answer the chat messages a crash or stop left accepted but unanswered.

Telegram never redelivers an update the bot has taken, so a message stored before a SIGKILL would
otherwise wait until the person wrote again. Each one is answered by the moment it was left at:
stored but not yet asked, or asked without an answer, is asked again with the window ending at that
message; a reply stored but not sent is sent as stored, without a new model call. Very old messages
get a notice instead of an answer. People are served concurrently, each person's messages oldest
first under the router's per-user lock, so their new messages wait their turn.

With bursts on (`burst_window_seconds` > 0), a person's unanswered messages in a row, in one
conversation, are answered together, as they would have been live: one reply to the newest,
covering the others. A stored reply covers the unanswered messages before it (its window held
them), so it is sent as stored and they get no reply of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.chat import CLAIM_FOR, Accepted, claim_for
from handlers.events import Reply
from handlers.ports import Channel
from handlers.router import Dispatcher
from handlers.texts import current_language, speak, speaking, t
from safety import Distress
from storage.base import Unanswered

log = logging.getLogger("amigo.recovery")


@dataclass(frozen=True)
class RecoveryConfig:
    note_after: timedelta = timedelta(minutes=10)
    """Older than this, the answer begins with "sorry, I was away"."""
    max_age: timedelta = timedelta(hours=24)
    """Older than this, no answer: the person is told the message arrived, and to write again."""
    people_at_once: int = 16
    """People answered at the same time (model calls are capped again by the model client)."""
    batch: int = 10_000


@dataclass
class _Person:
    """One person's recovery: where to answer, what they were told, and the messages claimed
    but not yet answered (one burst, when merging)."""

    channel: Channel
    expired_by: datetime
    known: Mapping[int, Distress | None] = field(default_factory=dict)
    told_away: bool = False
    told_too_old: bool = False
    waiting: list[Unanswered] = field(default_factory=list)
    speaks: bool = False
    """Whether `t()` already speaks the person's language (else read with their first message)."""


class Recovery:
    def __init__(
        self,
        dispatcher: Dispatcher,
        config: RecoveryConfig | None = None,
        *,
        channels: Callable[[int], Channel] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.deps = dispatcher.deps
        self.config = config or RecoveryConfig()
        self.channels = channels or self.deps.channels
        self.outcomes: Counter[str] = Counter()

    async def start(self, *, sole_worker: bool) -> asyncio.Task[None]:
        """Find the unanswered messages and queue on each person's lock before returning, so
        updates handled after this call wait behind them; the answering runs in the returned task.

        `sole_worker`: this process is the only one serving the database (the bot and the console
        hold its file lock), so every claim taken before now belongs to a process that is gone and
        is taken over at once. Several workers (PostgreSQL) pass False and wait for leases to end.
        """
        now = self.deps.clock.now()
        expired_by = now + CLAIM_FOR if sole_worker else now
        by_person: dict[int, list[int]] = {}
        # One read: anything past `batch` waits for the next start (that many is a bad crash).
        for message_id, user_id in await self.deps.repo.unanswered(expired_by, self.config.batch):
            by_person.setdefault(user_id, []).append(message_id)
        if not by_person or self.channels is None:
            if by_person:
                log.warning("recovery.no_channels", extra={"people": len(by_person)})
            return asyncio.create_task(asyncio.sleep(0))
        slots = asyncio.Semaphore(self.config.people_at_once)
        tasks = []
        for user_id, ids in by_person.items():
            chat = await self.deps.repo.chat_of(user_id)
            if chat is None:
                continue
            tasks.append(asyncio.create_task(self._person(chat, ids, expired_by, slots)))
        await asyncio.sleep(0)  # each task's first step takes or queues on its person's lock
        log.info(
            "recovery.started",
            extra={"people": len(tasks), "messages": sum(map(len, by_person.values()))},
        )
        return asyncio.create_task(self._finish(tasks))

    async def run(self, *, sole_worker: bool) -> Counter[str]:
        """Start and wait until every found message is handled; the outcomes, counted."""
        await (await self.start(sole_worker=sole_worker))
        return self.outcomes

    async def _finish(self, tasks: list[asyncio.Task[None]]) -> None:
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        log.info("recovery.done", extra=dict(self.outcomes))

    async def _person(
        self, chat: int, ids: list[int], expired_by: datetime, slots: asyncio.Semaphore
    ) -> None:
        # The person's replying lane (by Telegram user id; a private chat's id is its user's id):
        # their new texts are accepted meanwhile and answered after these; commands run at once.
        async with self.dispatcher.replying.hold(chat), slots:
            assert self.channels is not None
            await self.answer_messages(self.channels(chat), ids, expired_by)

    async def answer_messages(
        self,
        channel: Channel,
        ids: list[int],
        expired_by: datetime,
        known: Mapping[int, Distress | None] | None = None,
        *,
        in_language: bool = False,
    ) -> None:
        """Claim and answer one person's messages `ids` (oldest first) whose claims ended before
        `expired_by`; the caller holds their replying lane (and, with several workers, their
        lease: handlers/shared_lane.py). `known`: the safety check of those just accepted here,
        by message id, so it is not run (nor a moderation endpoint asked) twice. `in_language`:
        the caller already speaks the person's language (an event of theirs)."""
        person = _Person(channel, expired_by, known or {}, speaks=in_language)
        with speaking(current_language()):  # the person's, once read, for this call only
            await self._answer_messages(person, ids)

    async def _answer_messages(self, person: _Person, ids: list[int]) -> None:
        merge = self.deps.config.burst_window_seconds > 0
        message_id = ids[0]
        try:
            for message_id in ids:
                await self._one(person, message_id, merge)
            await self._answer(person)  # the burst the last ones formed
        except Exception as exc:  # stop here: this person's later ones keep their order
            log.error(
                "recovery.failed",
                extra={"message_id": message_id, "error": type(exc).__name__},
            )
            self.outcomes["failed"] += 1

    async def _one(self, person: _Person, message_id: int, merge: bool) -> None:
        repo = self.deps.repo
        now = self.deps.clock.now()
        message = await repo.claim_unanswered(
            message_id, expired_by=person.expired_by, until=now + claim_for(self.deps)
        )
        if message is None:
            self.outcomes["skipped"] += 1  # answered meanwhile, or another worker holds it
            return
        if not person.speaks:
            speak(await repo.language_of(message.user_id))
            person.speaks = True
        waiting = person.waiting
        if waiting and waiting[-1].conversation_id != message.conversation_id:
            await self._answer(person)  # a burst never spans two conversations
        if now - message.created_at >= self.config.max_age:  # too late to answer well: say so
            await self._answer(person)  # (older ones come first, so none wait here)
            if not person.told_too_old:
                await person.channel.send(Reply(t("recovery.too_old")))
                person.told_too_old = True
            await repo.mark_answered(message.id)  # even if unsent: never retried past max_age
            self.outcomes["too_old"] += 1
            return
        person.waiting.append(message)
        if message.reply is not None or not merge:
            await self._answer(person)

    async def _answer(self, person: _Person) -> None:
        """Answer the waiting messages in one reply to the newest: send its stored reply (stored
        before the kill, never sent) as it is, or ask the model with the window ending there."""
        burst, person.waiting = person.waiting, []
        if not burst:
            return
        chat, newest = self.dispatcher.chat, burst[-1]
        late = self.deps.clock.now() - burst[0].created_at >= self.config.note_after
        note = t("recovery.away") if late and not person.told_away else ""
        if newest.reply is not None:  # sent, it answers the others too (Repository.mark_answered)
            await chat.deliver(newest, newest.reply, person.channel, note)
            outcome = "resent"
        else:  # each was flagged when accepted; checked again here for the prompt
            checked = [
                Accepted(
                    m, person.known[m.id] if m.id in person.known else await chat.distress(m.text)
                )
                for m in burst
            ]
            await chat.answer_burst(checked, person.channel, note)
            outcome = "answered"
        self.outcomes[f"{outcome}_late" if late else outcome] += len(burst)
        person.told_away = person.told_away or late
