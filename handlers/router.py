"""The dispatcher: one ordered routing table from an event to the handler that owns it.

Messages of one user are handled one at a time, in arrival order; different users run concurrently.
Nothing a handler raises reaches the user as a traceback: they get a short apology, the log gets the
error type and ids only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from handlers.chat import Chat
from handlers.commands import COMMANDS
from handlers.deps import Deps
from handlers.events import ButtonPress, Event, Media, Reply, Text
from handlers.info import Info
from handlers.onboarding import Onboarding
from handlers.ports import Channel
from handlers.texts import t
from storage.models import Account, Status

log = logging.getLogger("amigo.router")


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


class Dispatcher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.onboarding = Onboarding(deps)
        self.chat = Chat(deps)
        self.info = Info(deps)
        self.locks = UserLocks()
        self._commands = {c.name: c for c in COMMANDS}

    async def handle(self, event: Event, channel: Channel) -> None:
        async with self.locks.hold(event.sender.user_id):
            try:
                await self._route(event, channel)
            except Exception as exc:
                log.error(
                    "handler.failed",
                    exc_info=exc,
                    extra={"update": event.update_id, "event": type(event).__name__},
                )
                await channel.send(Reply(t("error.generic")))

    async def _route(self, event: Event, channel: Channel) -> None:
        if event.sender.chat_kind != "private":
            if await self.deps.repo.first_group_notice(event.sender.chat_id):
                await channel.send(Reply(t("group.private_only")))
            return
        if isinstance(event, Media):
            await channel.send(Reply(t("media.unsupported")))
            return
        account = await self.deps.repo.find_account(event.sender.user_id)
        if isinstance(event, ButtonPress):
            await self._on_button(event, account, channel)
        elif event.command is not None:
            await self._on_command(event, *event.command, account, channel)
        elif account is not None and account.status is Status.ACTIVE:
            await self.chat.on_text(event, account, channel)
        else:
            await self.onboarding.on_text(event, account, channel)

    async def _on_button(
        self, event: ButtonPress, account: Account | None, channel: Channel
    ) -> None:
        if event.data == "privacy:policy":
            await self.info.send_policy(channel)
        else:
            await self.onboarding.on_button(event, account, channel)

    async def _on_command(
        self, event: Text, name: str, _args: str, account: Account | None, channel: Channel
    ) -> None:
        spec = self._commands.get(name)
        if spec is None:
            await self.info.help(channel, unknown=True)
            return
        active = account is not None and account.status is Status.ACTIVE
        if spec.needs_account and not active:
            await self.onboarding.on_text(event, account, channel)
        elif name == "start":
            await self.onboarding.start(event.sender, account, channel)
        elif name == "help":
            await self.info.help(channel)
        elif name == "privacy":
            await self.info.privacy(channel)
        elif name == "new" and account is not None:
            await self.chat.new_conversation(account, channel)
