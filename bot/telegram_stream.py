"""Replies that appear while the model writes them: Telegram drafts, or one message edited.

Split from bot/channel.py (which mixes `StreamingReplies` into its `TelegramChannel`) to keep both
files short; like it, written against bot/telegram_api.BotApi, so either library sends. In a private chat the growing text goes out as `sendMessageDraft`, then the
final text as a normal message through the channel's `send` path (Markdown → HTML, split, plain
fallback). Where drafts are refused (a Bot API server that does not know the method, or rejects
it), the first refusal switches this reply and, through the shared `DraftSupport`, the whole bot to
sending the first part once and editing it. Either way at most one draft or edit goes out per
`telegram.stream_edit_interval_seconds`, one at a time (a 429 is waited out by the rate limiter, so
a request in flight simply delays the next), and the model's chunks are read meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.config import TelegramSettings
from bot.metrics import Metrics
from bot.render import markdown_to_html, markdown_to_plain
from bot.split import TELEGRAM_LIMIT, split_markdown, utf16_len
from bot.telegram_api import (
    BadRequest,
    BotApi,
    Buttons,
    NetworkError,
    NotFound,
    RetryAfter,
    TelegramError,
)
from handlers.events import Reply, ReplyFormat
from handlers.ports import StreamResult

log = logging.getLogger("amigo.telegram")

T = TypeVar("T")


@dataclass
class DraftSupport:
    """Whether the bot's Bot API server takes `sendMessageDraft`. One is shared by every channel of
    a bot (kept by its Runtime), so after the first refusal no reply tries drafts again."""

    drafts: bool = True


def _first_part(text: str) -> str:
    """What one message can show of `text`: all of it, or the first part a send would split off."""
    if utf16_len(text) <= TELEGRAM_LIMIT:
        return text
    parts = split_markdown(text)
    return parts[0] if parts else ""


def _refused(exc: BadRequest) -> bool:
    """A refusal of the formatting (retry as plain text), not of the method or the message."""
    return "parse entities" in exc.message.lower()


class _Preview:
    """The growing text in one chat, one update at a time: a draft, or the first message edited."""

    def __init__(
        self,
        api: BotApi,
        chat_id: int,
        support: DraftSupport,
        markdown: bool,
        failed: Callable[[TelegramError], None] = lambda exc: None,
    ) -> None:
        self.api, self.chat_id, self.support, self.markdown = api, chat_id, support, markdown
        self.failed = failed  # counts a failed request (metrics)
        self.drafts = support.drafts and chat_id > 0  # drafts exist in private chats only
        self.draft_id = random.randrange(1, 2**31)  # fresh per reply: a new draft, not an old one
        self.message_id: int | None = None
        self.shown = ""
        self.updates = 0
        self.last_at = float("-inf")  # event-loop time the latest update was started
        self.broken = False  # stop previewing this reply (blocked bot, message gone...)

    def _rendered(self, text: str) -> tuple[str, bool]:
        if self.markdown:
            return markdown_to_html(text), True
        return text, False

    async def show(self, text: str) -> None:
        """Update the preview to `text` (its first part); failures only end the previews."""
        head = _first_part(text).strip()
        if self.broken or not head or head == self.shown:
            return
        self.last_at = asyncio.get_running_loop().time()
        try:
            await self._update(head)
        except (RetryAfter, NetworkError) as exc:  # brief trouble: the next update may pass
            self.failed(exc)
            if isinstance(exc, BadRequest):
                self._give_up(exc)
            else:
                log.info("stream.update_skipped", extra={"error": type(exc).__name__})
            return
        except TelegramError as exc:
            self.failed(exc)
            self._give_up(exc)
            return
        self.shown = head
        self.updates += 1

    def _give_up(self, exc: TelegramError) -> None:
        log.info("stream.preview_stopped", extra={"error": type(exc).__name__})
        self.broken = True

    async def _update(self, head: str) -> None:
        if self.drafts:
            try:
                await self._formatted(head, self._draft)
                return
            # Refused: 404 (an older server) or 400.
            except (NotFound, BadRequest) as exc:
                self.failed(exc)
                log.info("stream.drafts_refused", extra={"error": type(exc).__name__})
                self.drafts = self.support.drafts = False
        if self.message_id is None:
            self.message_id = await self._formatted(head, self._send)
        else:
            await self.edit(head)

    async def edit(self, text: str) -> None:
        """Set the preview message to `text`; unchanged text is no error."""
        try:
            await self._formatted(text, self._edit)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def _formatted(self, text: str, call: Callable[[str, bool], Awaitable[T]]) -> T:
        """`call` with the text as HTML; as plain text when Telegram refuses the formatting."""
        if self.markdown:
            try:
                return await call(*self._rendered(text))
            except BadRequest as exc:
                if not _refused(exc):
                    raise
                log.info("stream.plain_fallback", extra={"error": type(exc).__name__})
                self.markdown = False
                text = markdown_to_plain(text)
        return await call(text, False)

    async def _draft(self, text: str, html: bool) -> None:
        await self.api.send_message_draft(self.chat_id, self.draft_id, text, html=html)

    async def _send(self, text: str, html: bool) -> int:
        return await self.api.send_message(self.chat_id, text, html=html)

    async def _edit(self, text: str, html: bool) -> None:
        assert self.message_id is not None
        await self.api.edit_message_text(self.chat_id, self.message_id, text, html=html)


class StreamingReplies:
    """`Channel.stream` for TelegramChannel, which provides the attributes and methods below."""

    api: BotApi
    chat_id: int
    settings: TelegramSettings
    draft_support: DraftSupport
    metrics: Metrics | None

    async def send(self, reply: Reply) -> bool:
        raise NotImplementedError

    def _sent(self) -> None:
        """A reply reached the person (counted, never anything of its content)."""
        if self.metrics is not None:
            self.metrics.reply_sent()

    def _failed(self, exc: TelegramError) -> None:
        """A Bot API request failed (counted by error class)."""
        if self.metrics is not None:
            self.metrics.telegram_failed(exc)

    async def _keep_typing(self) -> None:
        raise NotImplementedError

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def _send_chunk(self, chunk: str, markdown: bool, buttons: Buttons = ()) -> int:
        raise NotImplementedError

    async def stream(
        self,
        chunks: AsyncIterator[str],
        *,
        format: ReplyFormat = "markdown",
        finish: Callable[[str], Awaitable[str]] | None = None,
    ) -> StreamResult:
        markdown = format == "markdown"
        preview = _Preview(self.api, self.chat_id, self.draft_support, markdown, self._failed)
        parts: list[str] = []
        changed, closing = asyncio.Event(), asyncio.Event()
        typing: asyncio.Task[None] | None = asyncio.create_task(self._keep_typing())
        pump = asyncio.create_task(self._pump(preview, parts, changed, closing))
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                parts.append(chunk)
                if typing is not None and chunk.strip():  # the text itself now shows progress
                    typing.cancel()
                    typing = None
                changed.set()
        except Exception:  # the model broke off: no partial text may stand as the answer
            closing.set()
            changed.set()
            await pump
            await self._withdraw(preview)
            raise
        except BaseException:  # cancelled: leave at once
            pump.cancel()
            raise
        finally:
            if typing is not None:
                typing.cancel()
        closing.set()
        changed.set()
        await pump
        text = "".join(parts)
        try:
            final = await finish(text) if finish is not None else text.strip()
        except Exception:
            await self._withdraw(preview)
            raise
        if not final.strip():
            await self._withdraw(preview)
            log.info("stream.empty", extra={"chunks": len(parts)})
            return StreamResult("", False)
        delivered = await self._deliver(preview, final, format)
        log.info(
            "stream.sent",
            extra={
                "updates": preview.updates,
                "drafts": preview.drafts,
                "chunks": len(parts),
                "delivered": delivered,
            },
        )
        return StreamResult(final, delivered)

    async def _pump(
        self, preview: _Preview, parts: list[str], changed: asyncio.Event, closing: asyncio.Event
    ) -> None:
        """Show the newest text whenever it changed, at most once per interval, one at a time."""
        loop = asyncio.get_running_loop()
        interval = self.settings.stream_edit_interval_seconds
        while True:
            await changed.wait()
            if closing.is_set():
                return
            wait = preview.last_at + interval - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closing.wait(), wait)
                if closing.is_set():
                    return
            changed.clear()
            await preview.show("".join(parts))

    async def _deliver(self, preview: _Preview, final: str, format: ReplyFormat) -> bool:
        """The final text as a normal reply: a new message after drafts, else the preview
        message edited (no sooner than the interval allows) and the rest sent after it."""
        if preview.message_id is None or preview.broken:
            await self._withdraw(preview)
            return await self.send(Reply(final, format=format))
        pieces = split_markdown(final) or [final]
        markdown = format == "markdown"
        if len(pieces) == 1 and pieces[0].strip() == preview.shown and preview.markdown == markdown:
            self._sent()
            return True  # the last update already shows the final text
        wait = preview.last_at + self.settings.stream_edit_interval_seconds
        await asyncio.sleep(max(0.0, wait - asyncio.get_running_loop().time()))
        try:
            preview.markdown = markdown
            await self._retry(lambda: preview.edit(pieces[0]))
        except BadRequest as exc:  # the preview is gone: send the reply afresh
            log.info("stream.final_edit_failed", extra={"error": type(exc).__name__})
            return await self.send(Reply(final, format=format))
        except TelegramError as exc:
            log.warning("reply.undelivered", extra={"error": type(exc).__name__})
            return False
        try:
            for piece in pieces[1:]:
                await self._send_chunk(piece, markdown)
        except TelegramError as exc:
            log.warning("reply.undelivered", extra={"error": type(exc).__name__})
            return False
        self._sent()
        return True

    async def _withdraw(self, preview: _Preview) -> None:
        """Delete a partial preview message; a draft fades by itself. Best effort."""
        if preview.message_id is None:
            return
        try:
            await self.api.delete_message(self.chat_id, preview.message_id)
        except TelegramError as exc:
            self._failed(exc)
            log.info("stream.withdraw_failed", extra={"error": type(exc).__name__})
