"""The Telegram Bot API as Amigo uses it, whichever library speaks it.

`BotApi` is every call the bot makes (replies, drafts, edits, documents, the command menu, Stars
payments) in plain types, and the errors below are what any of them raises. The channel
(bot/channel.py, with streaming in bot/telegram_stream.py), the payments gateway and the command
menu are written once against it; bot/ptb_api.py (python-telegram-bot) and bot/aiogram_api.py
(aiogram) implement it, each translating its library's errors. `FloodGate` is the one flood-control
policy both use for every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from aiolimiter import AsyncLimiter

from handlers.events import Button

log = logging.getLogger("amigo.telegram")

T = TypeVar("T")
Buttons = tuple[tuple[Button, ...], ...]

ALLOWED_UPDATES = ["message", "callback_query", "channel_post", "pre_checkout_query"]
"""The update types Amigo asks for, in polling and webhook mode alike."""
GROUP_PER_MINUTE = 20
"""Telegram's limit on messages to one group."""
MARGIN_SECONDS = 0.1
"""Added to every retry_after, so the retry does not arrive a hair too early."""


class TelegramError(Exception):
    """A Bot API call failed. `message` is Telegram's short reason (or the library's), never any
    text of ours."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class BadRequest(TelegramError):
    """Telegram refused the request (400): bad formatting, a message too old to edit..."""


class Forbidden(TelegramError):
    """The person blocked the bot, or the bot may not write there (403)."""


class NotFound(TelegramError):
    """The method does not exist on this Bot API server (404), e.g. drafts on an older one."""


class NetworkError(TelegramError):
    """The request did not get through, or no answer came: worth a retry."""


class RetryAfter(TelegramError):
    """Flood control (429): nothing may be sent for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}")
        self.seconds = seconds


class BotApi(Protocol):
    """The calls Amigo makes. Text is sent as HTML when `html` is true, else as plain text; link
    previews are always off. Each raises the errors above."""

    async def send_message(
        self, chat_id: int, text: str, *, html: bool = False, buttons: Buttons = ()
    ) -> int:
        """The sent message's id."""
        ...

    async def edit_message_text(
        self, chat_id: int, message_id: int, text: str, *, html: bool = False, buttons: Buttons = ()
    ) -> None: ...

    async def send_message_draft(
        self, chat_id: int, draft_id: int, text: str, *, html: bool = False
    ) -> None: ...

    async def delete_message(self, chat_id: int, message_id: int) -> None: ...

    async def send_typing(self, chat_id: int) -> None: ...

    async def send_document(
        self, chat_id: int, filename: str, content: bytes, *, caption: str = ""
    ) -> None: ...

    async def set_my_commands(
        self,
        commands: Sequence[tuple[str, str]],
        *,
        language_code: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The menu for an app language (or the default), or for one private chat."""
        ...

    async def create_invoice_link(
        self,
        *,
        title: str,
        description: str,
        payload: str,
        label: str,
        stars: int,
        subscription_period: int,
    ) -> str: ...

    async def edit_user_star_subscription(
        self, user_id: int, telegram_charge_id: str, *, canceled: bool
    ) -> None: ...

    async def refund_star_payment(self, user_id: int, telegram_charge_id: str) -> None: ...

    async def set_webhook(self, url: str, *, secret_token: str, max_connections: int) -> None:
        """Webhook mode: Telegram posts ALLOWED_UPDATES to `url` with the secret header;
        updates already waiting are kept."""
        ...


class FloodGate:
    """Telegram's flood limits for every call, the same whichever library sends it.

    At most `requests_per_second` calls a second overall and 20 a minute to one group. A 429 sets
    a deadline that every call waits out before it is sent (Telegram asks a flooding bot to stop
    all requests, not only the refused one); the refused call is then retried, `attempts` tries
    in all. Network errors are left to the caller (bot/channel.py retries sends)."""

    def __init__(self, *, requests_per_second: float, attempts: int) -> None:
        self.attempts = max(1, attempts)
        # A bucket holds at least one request: under one a second, the period grows instead.
        # 0: unpaced (a test server without limits); 429s are still honoured.
        self._overall: AsyncLimiter | None = (
            None
            if requests_per_second <= 0
            else AsyncLimiter(requests_per_second, 1)
            if requests_per_second >= 1
            else AsyncLimiter(1, 1 / requests_per_second)
        )
        self._groups: dict[int, AsyncLimiter] = {}
        self._resume_at = 0.0  # event-loop time before which nothing is sent

    async def call(
        self, request: Callable[[], Awaitable[T]], *, chat_id: int | None = None, endpoint: str = ""
    ) -> T:
        loop = asyncio.get_running_loop()
        for attempt in range(1, self.attempts + 1):
            # A deadline, not polling: another 429 may move it while this call sleeps.
            while (wait := self._resume_at - loop.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            group, overall = self._group(chat_id), self._overall
            async with group or contextlib.nullcontext(), overall or contextlib.nullcontext():
                try:
                    return await request()
                except RetryAfter as exc:
                    seconds = exc.seconds + MARGIN_SECONDS
                    self._resume_at = max(self._resume_at, loop.time() + seconds)
                    log.info(
                        "telegram.flood_wait", extra={"seconds": seconds, "endpoint": endpoint}
                    )
                    if attempt == self.attempts:
                        raise
        raise AssertionError("unreachable")

    def _group(self, chat_id: int | None) -> AsyncLimiter | None:
        if chat_id is None or chat_id >= 0:
            return None
        if chat_id not in self._groups:
            self._groups[chat_id] = AsyncLimiter(GROUP_PER_MINUTE, 60)
        return self._groups[chat_id]
