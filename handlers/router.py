"""The dispatcher: one ordered routing table from an event to the handler that owns it.

Each person has two lanes, both FIFO, and different people never wait for each other:
- intake: every event of theirs is routed one at a time, in arrival order. A chat text is
  accepted there (stored, checked, rate limited) and joins their burst; commands, buttons and
  typed answers run there to the end. Nothing in this lane waits for the model.
- replying: their bursts are answered one at a time, in the order they closed, one model call
  each. So /delete, /export or a button is handled at once while a reply is being written.

Bursts ("hey" / "so" / "i need to tell you something") get one reply: the newest text's handler
waits until no text came for `burst_window_seconds` (at most BURST_CAP windows after the burst
began), then closes the burst and answers it in the replying lane. Texts that arrive meanwhile
form the next burst. A command, button or media closes the burst collected so far (it is
answered at once, never merged with what follows), then runs; its own answer may come before the
burst's reply. A window of 0 answers each text on its own. A reply whose message was deleted
while it was being written (/delete) is dropped (handlers/chat.py). Nothing a handler raises
reaches the person as a traceback: they get a short apology, the log gets ids and types only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from handlers.admin import Admin
from handlers.chat import Accepted, Chat
from handlers.commands import COMMANDS
from handlers.deletion import Deletion
from handlers.deps import Deps
from handlers.events import ButtonPress, Event, Media, Paid, PreCheckout, Reply, Text
from handlers.info import Info
from handlers.language import Language
from handlers.limits import Limiter
from handlers.memory import MemoryKeeper
from handlers.memory_command import MemoryCommand
from handlers.onboarding import Onboarding, language_in
from handlers.payments import Plus
from handlers.personal import Personal
from handlers.policy_gate import PolicyGate
from handlers.ports import Channel
from handlers.rights import Rights
from handlers.texts import speak, speaking, t
from storage.base import AlreadyAccepted
from storage.models import Account, Status

log = logging.getLogger("amigo.router")

AccountHandler = Callable[[Account, str, Channel], Awaitable[None]]
ReplyLane = Callable[[list[Accepted], Channel, int], Awaitable[None]]
"""Answers a closed burst (burst, channel, Telegram user id) in place of this process's own
replying lane: with several workers on one database, handlers/shared_lane.py."""
ONBOARDING_BUTTONS = frozenset(
    {"age", "agelang", "terms", "tlang", "train", "mkt", "name", "gender", "tone"}
)
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
    (monotonic, and real even where a test freezes the Clock). Closed: no text joins any more,
    and it is answered as soon as the replying lane is free."""

    items: list[Accepted]
    channel: Channel
    first: float
    last: float
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def due(self, window: float) -> float:
        return min(self.last + window, self.first + window * BURST_CAP)


class Dispatcher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.onboarding = Onboarding(deps)
        self.memory = MemoryKeeper(deps)  # background work: Services.close stops it
        self.chat = Chat(deps, self.memory)
        self.memory_command = MemoryCommand(deps, self.memory)
        self.info = Info(deps)
        self.rights = Rights(deps)
        self.personal = Personal(deps)
        self.deletion = Deletion(deps)
        self.policy = PolicyGate(deps)
        self.language = Language(deps)
        self.plus = Plus(deps)
        self.intake = UserLocks()  # every event, in order; never held while the model writes
        self.replying = UserLocks()  # one reply at a time per person, bursts in order
        self.burst_window = deps.config.burst_window_seconds
        self._bursts: dict[int, _Burst] = {}  # by Telegram user id, as the locks
        self.reply_lane: ReplyLane | None = None  # set by the composition root for workers
        self.limiter = Limiter(
            deps.config.limits,
            deps.clock,
            deps.repo,
            store=deps.limit_store,
            pseudonym=deps.sign,
            plus_allowance=self.plus.daily_allowance if self.plus.available else None,
        )
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
            "memory": self.memory_command.command,
            "plus": lambda a, _, ch: self.plus.command(a, ch),
            "paysupport": self.personal.paysupport,
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
            "mem": self.memory_command.on_button,
            "lang": lambda a, v, ch: self.language.choose(a, v, ch),
            "plusc": self.plus.on_button,
            "cancel": lambda a, _, ch: self.personal.cancel(a, ch),
        }

    async def handle(
        self, event: Event, channel: Channel, *, routed: asyncio.Event | None = None
    ) -> None:
        """Handle one event; a chat text that joins a burst returns once the burst is answered
        (by this call, if it is the newest) or has been handed to a newer text's call.

        `routed` is set when the event leaves the intake lane: a command or button is then done,
        a chat text accepted (so a caller feeding events one by one, the console, can go on and
        let texts form a burst)."""
        with speaking(event.sender.language_code):  # until the person's own choice is known
            await self._handle(event, channel, routed)

    async def _handle(self, event: Event, channel: Channel, routed: asyncio.Event | None) -> None:
        arrived = asyncio.get_running_loop().time()
        event = storable(event)
        joined: tuple[_Burst, Accepted] | None = None
        try:
            async with self.intake.hold(event.sender.tg_id):
                try:
                    joined = await self._route(event, channel, arrived)
                except Exception as exc:
                    log.error(
                        "handler.failed",
                        exc_info=exc,
                        extra={"update": event.update_id, "kind": type(event).__name__},
                    )
                    await channel.send(Reply(t("error.generic")))
        finally:
            if routed is not None:
                routed.set()
        if joined is not None:
            await self._answer_when_quiet(event.sender.tg_id, *joined)

    async def _answer_when_quiet(self, tg_id: int, burst: _Burst, mine: Accepted) -> None:
        """While `mine` is the newest text of `burst`: wait until the burst is due (or closed by
        a command), close it, then answer it in the person's replying lane. A newer text takes
        this over."""
        loop = asyncio.get_running_loop()
        while not burst.closed and burst.items[-1] is mine:
            wait = burst.due(self.burst_window) - loop.time()
            if wait <= 0:
                break
            burst.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(burst.wake.wait(), wait)
        if burst.items[-1] is not mine:
            return  # a newer text joined: its call answers the burst
        self._close_burst(tg_id, burst)
        if self.reply_lane is not None:  # several workers: whoever holds the person's lease
            try:
                await self.reply_lane(burst.items, burst.channel, tg_id)
            except Exception as exc:  # they stay accepted: the sweep answers them
                log.error("handler.failed", extra={"kind": "lane", "error": type(exc).__name__})
            return
        async with self.replying.hold(tg_id):  # queued behind the person's earlier bursts
            try:
                await self.chat.answer_burst(burst.items, burst.channel)
            except Exception as exc:  # they stay accepted: a later reply or the next start answers
                log.error(
                    "handler.failed",
                    exc_info=exc,
                    extra={"kind": "burst", "count": len(burst.items)},
                )
                await burst.channel.send(Reply(t("error.generic")))

    def _close_burst(self, tg_id: int, burst: _Burst | None = None) -> None:
        """No text joins `burst` (default: the person's open one) any more; its newest text's
        call stops waiting for the window and answers it."""
        burst = burst or self._bursts.get(tg_id)
        if burst is None:
            return
        if self._bursts.get(tg_id) is burst:
            del self._bursts[tg_id]
        burst.closed = True
        burst.wake.set()

    def _join(
        self, tg_id: int, item: Accepted, channel: Channel, arrived: float
    ) -> tuple[_Burst, Accepted]:
        burst = self._bursts.get(tg_id)
        if burst is None:
            burst = _Burst([item], channel, arrived, arrived)
            if self.burst_window > 0:
                self._bursts[tg_id] = burst
            else:  # merging off: each text is a burst of its own
                burst.closed = True
        else:
            burst.items.append(item)
            burst.channel = channel
            burst.first, burst.last = min(burst.first, arrived), max(burst.last, arrived)
            burst.wake.set()  # the older text's call sees it is no longer the newest
        return burst, item

    async def _route(
        self, event: Event, channel: Channel, arrived: float
    ) -> tuple[_Burst, Accepted] | None:
        """Route `event`; a chat text that joined the person's burst is returned."""
        if event.update_id is not None and await self.deps.repo.delivered(event.update_id):
            log.info("update.duplicate", extra={"update": event.update_id})
            return None  # Telegram delivered it again: it was handled the first time
        try:
            return await self._route_new(event, channel, arrived)
        finally:  # recorded once handled, so a worker that died half-way sees it delivered again
            if event.update_id is not None:
                await self.deps.repo.first_delivery(event.update_id)

    async def _route_new(
        self, event: Event, channel: Channel, arrived: float
    ) -> tuple[_Burst, Accepted] | None:
        if not isinstance(event, Text) or event.command is not None:
            self._close_burst(event.sender.tg_id)  # never merged: it keeps its place
        if event.sender.chat_kind != "private":
            if await self.deps.repo.first_group_notice(event.sender.chat_id):
                await channel.send(Reply(t("group.private_only")))
            return None
        if isinstance(event, Media):
            await channel.send(Reply(t("media.unsupported")))
            return None
        account = await self.deps.repo.find_account(event.sender.tg_id)
        if account is not None:  # this event, and the reply to its burst, in their language
            speak(account.language)
        elif (isinstance(event, ButtonPress) and (chosen := language_in(event.data))) or (
            chosen := self.onboarding.pending_language(event.sender.tg_id)
        ) is not None:
            speak(chosen)
        if isinstance(event, Paid):  # never limited: the money has moved
            await self.plus.paid(event, account, channel)
            return None
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
        else:
            try:
                accepted = await self.chat.accept(event, account)
            except AlreadyAccepted:  # a worker stored it and died before telling Telegram
                log.info("update.duplicate", extra={"update": event.update_id})
                return None
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
        elif name == "language":
            await self.language.command(account, channel)
        elif name == "terms":
            await self.info.plus_terms(channel)
        elif name == "paysupport" and account is None:
            await channel.send(
                Reply(t("paysupport.no_account", contact=self.deps.config.privacy_contact))
            )
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

    async def pre_checkout(self, event: PreCheckout) -> str | None:
        """Telegram asks whether a payment may go ahead: None (yes) or why not. Answered at
        once, outside the person's lanes (Telegram waits 10 seconds at most); it only reads."""
        with speaking(event.sender.language_code):
            account = await self.deps.repo.find_account(event.sender.tg_id)
            if account is not None:
                speak(account.language)
            try:
                return await self.plus.pre_checkout(event)
            except Exception as exc:
                log.error(
                    "handler.failed", extra={"kind": "pre_checkout", "error": type(exc).__name__}
                )
                return t("error.generic")

    async def _new(self, account: Account, _args: str, channel: Channel) -> None:
        if await self.policy.allows_chat(account, channel):
            await self.chat.new_conversation(account, channel)
