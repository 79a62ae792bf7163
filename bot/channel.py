"""handlers.ports.Channel for one Telegram chat, whichever library speaks to Telegram.

Renders Markdown to Telegram HTML, splits long replies past 4,096 UTF-16 units, keeps "typing…"
up while the model thinks, falls back to plain text when Telegram refuses the formatting, edits
the message whose button was pressed, sends documents (an export), and retries brief network
errors. Flood control (429) is the API's (bot/telegram_api.FloodGate). Replies shown while the
model writes them are in bot/telegram_stream.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from bot.config import TelegramSettings
from bot.metrics import Metrics
from bot.render import markdown_to_html, markdown_to_plain
from bot.split import fit_utf16, split_markdown
from bot.telegram_api import BadRequest, BotApi, Buttons, NetworkError, TelegramError
from bot.telegram_stream import DraftSupport, StreamingReplies
from handlers.events import Reply

log = logging.getLogger("amigo.telegram")

CAPTION_LIMIT = 1024  # UTF-16 units, as Telegram counts
EDIT_LIMIT = 4000  # a longer reply is sent anew (and split), not edited into one message

T = TypeVar("T")


class TelegramChannel(StreamingReplies):
    """One chat. `draft_support` is shared by the bot's channels so a refusal of drafts is learnt
    once; without one, this channel learns alone."""

    def __init__(
        self,
        api: BotApi,
        chat_id: int,
        settings: TelegramSettings,
        button_message_id: int | None = None,
        draft_support: DraftSupport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.api = api
        self.chat_id = chat_id
        self.settings = settings
        self.button_message_id = button_message_id
        self.draft_support = draft_support or DraftSupport()
        self.metrics = metrics

    async def send(self, reply: Reply) -> bool:
        try:
            await self._send(reply)
        except TelegramError as exc:  # delivery failed after retries: the data is already stored
            log.warning("reply.undelivered", extra={"error": type(exc).__name__})
            return False
        self._sent()
        return True

    @asynccontextmanager
    async def typing(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._keep_typing())
        try:
            yield
        finally:
            task.cancel()

    async def _keep_typing(self) -> None:
        while True:
            try:
                await self.api.send_typing(self.chat_id)
            except TelegramError as exc:  # typing is a courtesy; its failure never stops a reply
                self._failed(exc)
                log.debug("typing.failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.settings.typing_interval_seconds)

    async def _send(self, reply: Reply) -> None:
        if reply.document is not None:
            document, caption = reply.document, fit_utf16(reply.text, CAPTION_LIMIT)
            await self._retry(
                lambda: self.api.send_document(
                    self.chat_id, document.filename, document.read(), caption=caption
                )
            )
            return
        if reply.edit and self.button_message_id is not None and len(reply.text) < EDIT_LIMIT:
            message_id = self.button_message_id
            try:
                await self._retry(
                    lambda: self.api.edit_message_text(
                        self.chat_id, message_id, reply.text, buttons=reply.buttons
                    )
                )
                return
            except BadRequest:  # too old to edit, or unchanged: send it as a new message
                pass
        chunks = split_markdown(reply.text) or [reply.text]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._send_chunk(chunk, reply.format == "markdown", reply.buttons if last else ())

    async def _send_chunk(self, chunk: str, markdown: bool, buttons: Buttons = ()) -> int:
        if markdown:
            try:
                return await self._retry(
                    lambda: self.api.send_message(
                        self.chat_id, markdown_to_html(chunk), html=True, buttons=buttons
                    )
                )
            except BadRequest as exc:
                log.info("reply.plain_fallback", extra={"error": type(exc).__name__})
                chunk = markdown_to_plain(chunk)
        return await self._retry(
            lambda: self.api.send_message(self.chat_id, chunk, buttons=buttons)
        )

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """Ride out brief network errors. Flood control (429) is the API's FloodGate, which
        pauses every request as Telegram asks and retries the refused one."""
        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except TelegramError as exc:
                self._failed(exc)
                if not isinstance(exc, NetworkError) or attempt == attempts:
                    raise  # a refusal, flood control already retried, or out of attempts
                log.info("telegram.retry", extra={"error": type(exc).__name__, "attempt": attempt})
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")
