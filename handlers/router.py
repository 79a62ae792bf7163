"""The dispatcher: one ordered routing table from an event to the handler that owns it.

Messages of one user are handled one at a time, in arrival order; different users run concurrently.
Nothing a handler raises reaches the user as a traceback: they get a short apology, the log gets the
error type and ids only.

Bursts ("hey" / "so" / "i need to tell you something") get one reply. Each chat text is accepted
(stored, checked, rate limited) at once, in order, under the person's lock, and joins their burst;
the lock is then released and the newest text's handler waits until no text came for
`burst_window_seconds` (at most BURST_CAP windows after the burst began), takes the lock again and
answers the whole burst in one model call. Texts that arrive while a reply is being written wait
for the lock, then form the next burst, answered as soon as the newest of them is a window old
(often at once). Anything else (a command, a button, media) answers the burst collected so far
first, then runs, so it keeps its place; a plain text that does not reach chat (refused by a
limit, a typed answer) is not merged and its short notice may come before the burst's reply.
All of this lives here, beside the lock; a window of 0 answers each text at once, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from handlers.admin import Admin
from handlers.chat import Accepted, Chat
from handlers.commands import COMMANDS
from handlers.deletion import Deletion
from handlers.deps import Deps
from handlers.events import ButtonPress, Event, Media, Reply, Text
from handlers.info import Info
from handlers.limits import Limiter
from handlers.onboarding import Onboarding
from handlers.personal import Personal
from handlers.policy_gate import PolicyGate
from handlers.ports import Channel
from handlers.rights import Rights
from handlers.texts import t
from storage.models import Account, Status

log = logging.getLogger("amigo.router")

AccountHandler = Callable[[Account, str, Channel], Awaitable[None]]
ONBOARDING_BUTTONS = frozenset({"age", "terms", "train", "mkt", "name", "gender", "tone"})
BURST_CAP = 4
"""A burst is answered at most this many windows after its first text, so a steady typist is
answered too."""


def storable(event: Event) -> Event:
    """The event with any lone UTF-16 surrogate in its text (or button data) as U+FFFD.

    Telegram's JSON may carry one ("\\ud800"), and such a string cannot be encoded: not sealed, not
    stored, not sent to the model or back to Telegram. Cleaning it here, where every event enters
    the handlers, lets the message be stored and answered like any other.
    """
    if isinstance(event, Text):
        text = _without_lone_surrogates(event.text)
        return event if text is event.text else replace(event, text=text)
    if isinstance(event, ButtonPress):
        data = _without_lone_surrogates(event.data)
        return event if data is event.data else replace(event, data=data)
    return event


def _without_lone_surrogates(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a round trip through UTF-16 keeps pairs, replaces lone halves
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


class UserLocks:
    """One asyncio.Lock per user, dropped when nobody waits on it. FIFO, so order is kept."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user_id]
            if users == 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class _Burst:
    """One person's chat texts accepted and not yet answered; times are the event loop's clock
    (monotonic, and real even where a test freezes the Clock)."""

    items: list[Accepted]
    channel: Channel
    first: float
    last: float

    def due(self, window: float) -> float:
        return min(self.last + window, self.first + window * BURST_CAP)


class Dispatcher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.onboarding = Onboarding(deps)
        self.chat = Chat(deps)
        self.info = Info(deps)
        self.rights = Rights(deps)
        self.personal = Personal(deps)
        self.deletion = Deletion(deps)
        self.policy = PolicyGate(deps)
        self.locks = UserLocks()
        self.burst_window = deps.config.burst_window_seconds
        self._bursts: dict[int, _Burst] = {}  # by Telegram user id, as the locks
        self.limiter = Limiter(deps.config.limits, deps.clock, deps.repo)
        self.admin = Admin(
            deps,
            dict(deps.config.staff),
            ban_needs_review_days=deps.config.ban_needs_review_days,
            run_retention=deps.run_retention,
        )
        self._specs = {c.name: c for c in COMMANDS}
        # Commands for people with an account; (account, arguments, channel).
        self._account_commands: dict[str, AccountHandler] = {
            "new": self._new,
            "mydata": lambda a, _, ch: self.rights.mydata(a, ch),
            "export": lambda a, _, ch: self.rights.export(a, ch),
            "delete": lambda a, _, ch: self.deletion.menu(a, ch),
            "consent": lambda a, _, ch: self.rights.consent(a, ch),
            "profile": self.personal.profile,
            "companion": lambda a, _, ch: self.personal.companion(a, ch),
            "nominate": self.personal.nominate,
            "grievance": self.personal.grievance,
            "autodelete": lambda a, _, ch: self.rights.autodelete(a, ch),
            "cancel": lambda a, _, ch: self.personal.cancel(a, ch),
        }
        # Buttons for people with an account, by the prefix of their data; (account, value, channel).
        self._account_buttons: dict[str, AccountHandler] = {
            "cons": lambda a, v, ch: self.rights.toggle(a, v, ch),
            "auto": lambda a, v, ch: self.rights.set_autodelete(a, v, ch),
            "prof": lambda a, v, ch: self.personal.on_profile_button(a, v, ch),
            "profg": lambda a, v, ch: self.personal.set_gender(a, v, ch),
            "comp": lambda a, _, ch: self.personal.await_text(a, "companion.name", ch),
            "compg": lambda a, v, ch: self.personal.set_companion_choice(a, "compg", v, ch),
            "compt": lambda a, v, ch: self.personal.set_companion_choice(a, "compt", v, ch),
            "nom": lambda a, v, ch: self.personal.on_nominee_button(a, v, ch),
            "del": lambda a, v, ch: self.deletion.on_button(a, "del", v, ch),
            "delok": lambda a, v, ch: self.deletion.on_button(a, "delok", v, ch),
            "pol": lambda a, _, ch: self.policy.accept(a, ch),
            "cancel": lambda a, _, ch: self.personal.cancel(a, ch),
        }

    async def handle(self, event: Event, channel: Channel) -> None:
        """Handle one event; a chat text that joins a burst returns once the burst is answered
        (by this call, if it is the newest) or has been handed to a newer text's call."""
        arrived = asyncio.get_running_loop().time()
        event = storable(event)
        joined: Accepted | None = None
        async with self.locks.hold(event.sender.tg_id):
            try:
                joined = await self._route(event, channel, arrived)
            except Exception as exc:
                log.error(
                    "handler.failed",
                    exc_info=exc,
                    extra={"update": event.update_id, "kind": type(event).__name__},
                )
                await channel.send(Reply(t("error.generic")))
        if joined is not None:
            await self._answer_when_quiet(event.sender.tg_id, joined)

    async def _answer_when_quiet(self, tg_id: int, mine: Accepted) -> None:
        """While `mine` is the newest text of the person's burst: wait until the burst is due,
        then answer it under the lock. A newer text takes this over; a command may answer the
        burst first (then there is nothing left to do)."""
        loop = asyncio.get_running_loop()
        while (burst := self._bursts.get(tg_id)) is not None and burst.items[-1] is mine:
            wait = burst.due(self.burst_window) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self.locks.hold(tg_id):
                burst = self._bursts.get(tg_id)  # a text queued on the lock may have joined it
                if burst is not None and burst.items[-1] is mine:
                    await self._answer_burst(tg_id)
            return

    async def _answer_burst(self, tg_id: int) -> None:
        """Answer the person's collected burst, if any, in one reply. Called under their lock."""
        burst = self._bursts.pop(tg_id, None)
        if burst is None:
            return
        try:
            await self.chat.answer_burst(burst.items, burst.channel)
        except Exception as exc:  # they stay accepted: a later reply or the next start answers
            log.error(
                "handler.failed", exc_info=exc, extra={"kind": "burst", "count": len(burst.items)}
            )
            await burst.channel.send(Reply(t("error.generic")))

    def _join(self, tg_id: int, item: Accepted, channel: Channel, arrived: float) -> Accepted:
        burst = self._bursts.get(tg_id)
        if burst is None:
            self._bursts[tg_id] = _Burst([item], channel, arrived, arrived)
        else:
            burst.items.append(item)
            burst.channel = channel
            burst.first, burst.last = min(burst.first, arrived), max(burst.last, arrived)
        return item

    async def _route(self, event: Event, channel: Channel, arrived: float) -> Accepted | None:
        """Route `event`; a chat text that joined the person's burst is returned."""
        if event.update_id is not None and not await self.deps.repo.first_delivery(event.update_id):
            log.info("update.duplicate", extra={"update": event.update_id})
            return None  # Telegram delivered it again: it was answered the first time
        if not isinstance(event, Text) or event.command is not None:
            await self._answer_burst(event.sender.tg_id)  # never merged: it keeps its place
        if event.sender.chat_kind != "private":
            if await self.deps.repo.first_group_notice(event.sender.chat_id):
                await channel.send(Reply(t("group.private_only")))
            return None
        if isinstance(event, Media):
            await channel.send(Reply(t("media.unsupported")))
            return None
        account = await self.deps.repo.find_account(event.sender.tg_id)
        if isinstance(event, ButtonPress):
            await self._on_button(event, account, channel)
            return None
        refused = await self.limiter.admit(event.sender.tg_id, account.id if account else None)
        if refused is not None:
            if refused.reply is not None:
                await channel.send(refused.reply)
        elif event.command is not None:
            await self._on_command(event, *event.command, account, channel)
        elif account is not None and account.status is Status.BANNED:
            await channel.send(Reply(t("banned", contact=self.deps.config.privacy_contact)))
        elif account is None or account.status is not Status.ACTIVE:
            await self.onboarding.on_text(event, account, channel)
        elif account.awaiting:
            await self.personal.on_awaited_text(account, event.text, channel)
        elif not await self.policy.allows_chat(account, channel):
            pass
        elif (refusal := await self.limiter.admit_chat(account.id, event.text)) is not None:
            await channel.send(refusal)
        elif self.burst_window <= 0:
            await self.chat.on_text(event, account, channel)  # merging off: answered at once
        else:
            accepted = await self.chat.accept(event, account)
            return self._join(event.sender.tg_id, accepted, channel, arrived)
        return None

    async def _on_button(
        self, event: ButtonPress, account: Account | None, channel: Channel
    ) -> None:
        kind, _, value = event.data.partition(":")
        if kind in ONBOARDING_BUTTONS:
            await self.onboarding.on_button(event, account, channel)
        elif event.data == "privacy:policy":
            await self.info.send_policy(channel)
        elif kind == "priv":
            as_command = Text(event.sender, f"/{value}", event.update_id)
            await self._on_command(as_command, value, "", account, channel)
        elif kind in self._account_buttons:
            if account is None:
                await channel.send(Reply(t("rights.need_account")))
            else:
                await self._account_buttons[kind](account, value, channel)

    async def _on_command(
        self, event: Text, name: str, args: str, account: Account | None, channel: Channel
    ) -> None:
        if await self.admin.handle(event, name, args, channel):
            return
        spec = self._specs.get(name)
        if spec is None:  # unknown, or an admin command from someone who is not staff
            await self.info.help(channel, unknown=True)
            return
        if account is not None and account.awaiting and name != "cancel":
            await self.deps.repo.set_awaiting(account.id, None)  # a command ends any typed answer
        active = account is not None and account.status is Status.ACTIVE
        if name == "start":
            await self.onboarding.start(event.sender, account, channel)
        elif name == "help":
            await self.info.help(channel)
        elif name == "privacy":
            await self.info.privacy(channel)
        elif account is None:
            await channel.send(Reply(t("rights.need_account")))
            await self.onboarding.start(event.sender, account, channel)
        elif spec.needs == "active" and account.status is Status.BANNED:
            await channel.send(Reply(t("banned", contact=self.deps.config.privacy_contact)))
        elif spec.needs == "active" and not active:
            await self.onboarding.on_text(event, account, channel)
        else:
            await self._account_commands[name](account, args, channel)

    async def _new(self, account: Account, _args: str, channel: Channel) -> None:
        if await self.policy.allows_chat(account, channel):
            await self.chat.new_conversation(account, channel)
