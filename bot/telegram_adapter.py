"""python-telegram-bot adapter: Telegram updates become plain events; replies go back out safely.

This is the only module (with bot/app.py) that knows python-telegram-bot. It renders Markdown to
Telegram HTML, splits long replies, keeps "typing…" up while the model thinks, honours flood control,
and falls back to plain text when Telegram refuses the formatting. Replies shown while the model
writes them (`TelegramChannel.stream`) are in bot/telegram_stream.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    ExtBot,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.config import TelegramSettings
from bot.flood import FloodControl
from bot.metrics import Metrics
from bot.render import markdown_to_html, markdown_to_plain
from bot.split import fit_utf16, split_markdown
from bot.telegram_stream import DraftSupport, StreamingReplies
from handlers.commands import COMMANDS
from handlers.events import (
    ButtonPress,
    ChatKind,
    Event,
    Media,
    Paid,
    PreCheckout,
    Reply,
    Sender,
    Text,
)
from handlers.router import Dispatcher
from handlers.texts import ENGLISH, LANGUAGES, speaking, t

log = logging.getLogger("amigo.telegram")

CAPTION_LIMIT = 1024  # UTF-16 units, as Telegram counts

T = TypeVar("T")

MEDIA_KINDS = (
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "sticker",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


ALLOWED_UPDATES = ["message", "callback_query", "channel_post", "pre_checkout_query"]
PRE_CHECKOUT_SECONDS = 8.0
"""Telegram cancels a payment whose pre-checkout query is not answered within 10 seconds."""


@dataclass
class AmigoData:
    """PTB's bot_data, typed: what the composition root puts there in post_init."""

    dispatcher: Dispatcher | None = None
    settings: TelegramSettings = field(default_factory=TelegramSettings)
    draft_support: DraftSupport = field(default_factory=DraftSupport)  # one per bot
    metrics: Metrics = field(default_factory=Metrics)  # one registry per Application
    # Webhook mode: set when the update of that id leaves the intake lane (bot/webhook.py).
    routed: dict[int, asyncio.Event] = field(default_factory=dict)
    ops_url: str = ""  # where /healthz and /metrics are served, once they are (tests read it)


AmigoContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], AmigoData]


def rate_limiter(settings: TelegramSettings) -> FloodControl:
    """Flood control for every request of the bot: `telegram.requests_per_second` overall and 20 a
    minute per group (Telegram's limits); a 429 holds back all requests for its retry_after, then
    the refused one is retried, up to `telegram.send_attempts` attempts in all. Broadcasts pace
    themselves below this ceiling, leaving room for replies."""
    return FloodControl(
        requests_per_second=settings.requests_per_second, attempts=settings.send_attempts
    )


def to_event(update: Update) -> Event | None:
    """The plain event for an update, or None for updates Amigo ignores (edits, joins...)."""
    if (query := update.callback_query) is not None:
        chat = query.message.chat if query.message else None
        sender = Sender(
            query.from_user.id,
            chat.id if chat else query.from_user.id,
            language_code=query.from_user.language_code,
        )
        message_id = query.message.message_id if query.message else None
        return ButtonPress(sender, query.data or "", message_id, update.update_id)
    message = update.message or update.channel_post
    if message is None:
        return None
    kind: ChatKind = (
        "private"
        if message.chat.type == "private"
        else "channel"
        if message.chat.type == "channel"
        else "group"
    )
    tg_id = message.from_user.id if message.from_user else message.chat.id
    code = message.from_user.language_code if message.from_user else None
    sender = Sender(tg_id, message.chat.id, kind, code)
    if (paid := message.successful_payment) is not None:
        return Paid(
            sender,
            paid.invoice_payload,
            paid.currency,
            paid.total_amount,
            paid.telegram_payment_charge_id,
            paid.provider_payment_charge_id or "",
            paid.subscription_expiration_date,
            first=bool(paid.is_first_recurring) or not paid.is_recurring,
            update_id=update.update_id,
        )
    if message.text is not None:
        return Text(sender, message.text, update.update_id)
    media = next((k for k in MEDIA_KINDS if getattr(message, k, None)), "other")
    return Media(sender, media, update.update_id)


class TelegramChannel(StreamingReplies):
    """handlers.ports.Channel for one Telegram chat. `draft_support` is shared by the bot's
    channels so a refusal of drafts is learnt once; without one, this channel learns alone."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        settings: TelegramSettings,
        button_message_id: int | None,
        draft_support: DraftSupport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.bot = bot
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
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING)
            except TelegramError as exc:  # typing is a courtesy; its failure never stops a reply
                self._failed(exc)
                log.debug("typing.failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.settings.typing_interval_seconds)

    async def _send(self, reply: Reply) -> None:
        markup = _markup(reply)
        if reply.document is not None:
            doc = InputFile(reply.document.read(), filename=reply.document.filename)
            await self._retry(
                lambda: self.bot.send_document(
                    self.chat_id, doc, caption=fit_utf16(reply.text, CAPTION_LIMIT)
                )
            )
            return
        if reply.edit and self.button_message_id is not None and len(reply.text) < 4000:
            try:
                await self._retry(
                    lambda: self.bot.edit_message_text(
                        reply.text, self.chat_id, self.button_message_id, reply_markup=markup
                    )
                )
                return
            except BadRequest:  # too old to edit, or unchanged: send it as a new message
                pass
        chunks = split_markdown(reply.text) or [reply.text]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._send_chunk(chunk, reply.format == "markdown", markup if last else None)

    async def _send_chunk(
        self, chunk: str, markdown: bool, markup: InlineKeyboardMarkup | None
    ) -> Message:
        if markdown:
            try:
                return await self._retry(
                    lambda: self.bot.send_message(
                        self.chat_id,
                        markdown_to_html(chunk),
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        disable_web_page_preview=True,
                    )
                )
            except BadRequest as exc:
                log.info("reply.plain_fallback", extra={"error": type(exc).__name__})
                chunk = markdown_to_plain(chunk)
        return await self._retry(
            lambda: self.bot.send_message(
                self.chat_id, chunk, reply_markup=markup, disable_web_page_preview=True
            )
        )

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """Ride out brief network errors. Flood control (429) is not handled here: the bot's
        AIORateLimiter paces every request and, on a RetryAfter, pauses all of them as Telegram
        asks, then retries (see `rate_limiter`)."""
        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except TelegramError as exc:
                self._failed(exc)
                if isinstance(exc, BadRequest | RetryAfter) or not isinstance(exc, NetworkError):
                    raise  # a refusal, or flood control the rate limiter already retried
                if attempt == attempts:
                    raise
                log.info("telegram.retry", extra={"error": type(exc).__name__, "attempt": attempt})
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in reply.buttons
        ]
    )


def event_kind(event: Event | None) -> str:
    """The metrics label of an update: a small fixed set, never anything of its content."""
    if isinstance(event, Text):
        return "command" if event.command is not None else "text"
    if isinstance(event, ButtonPress):
        return "button"
    if isinstance(event, Media):
        return "media"
    if isinstance(event, Paid):
        return "payment"
    return "other"


async def register_commands(bot: Bot) -> None:
    """The command menu, once per language: Telegram shows a person the menu registered for
    their app's language, and the default (English) to everyone else. A failure is logged and
    start-up goes on."""
    for language in LANGUAGES:
        with speaking(language):
            commands = [BotCommand(c.name, t(c.help_key)) for c in COMMANDS]
        code = None if language == ENGLISH else language
        try:
            await bot.set_my_commands(commands, language_code=code)
        except TelegramError as exc:
            log.warning(
                "telegram.commands_not_registered",
                extra={"error": type(exc).__name__, "language": language},
            )


async def on_update(update: Update, context: AmigoContext) -> None:
    """Every registered handler ends here: convert, then hand to the transport-neutral dispatcher."""
    event = to_event(update)
    data = context.bot_data
    data.metrics.update(event_kind(event))
    if event is None or data.dispatcher is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as exc:
            log.debug("telegram.answer_failed", extra={"error": type(exc).__name__})
    message_id = event.message_id if isinstance(event, ButtonPress) else None
    channel = TelegramChannel(
        context.bot,
        event.sender.chat_id,
        data.settings,
        message_id,
        data.draft_support,
        data.metrics,
    )
    await data.dispatcher.handle(event, channel, routed=data.routed.pop(update.update_id, None))


async def on_pre_checkout(update: Update, context: AmigoContext) -> None:
    """Telegram asks whether a payment may go ahead: answered at once, within its time limit."""
    query, dispatcher = update.pre_checkout_query, context.bot_data.dispatcher
    if query is None or dispatcher is None:
        return
    context.bot_data.metrics.update("pre_checkout")
    user = query.from_user
    event = PreCheckout(
        Sender(user.id, user.id, language_code=user.language_code),
        query.id,
        query.invoice_payload,
        query.currency,
        query.total_amount,
    )
    try:
        refusal = await asyncio.wait_for(dispatcher.pre_checkout(event), PRE_CHECKOUT_SECONDS)
    except TimeoutError:
        log.warning("payments.pre_checkout_slow")
        with speaking(user.language_code):
            refusal = t("error.generic")
    try:
        await query.answer(ok=refusal is None, error_message=refusal)
    except TelegramError as exc:
        log.warning("payments.pre_checkout_unanswered", extra={"error": type(exc).__name__})


async def on_error(update: object, context: AmigoContext) -> None:
    """Errors PTB catches outside our handlers (network, polling): type only, never content."""
    error = context.error
    if isinstance(error, TelegramError):
        context.bot_data.metrics.telegram_failed(error)
    log.warning(
        "telegram.error",
        extra={
            "error": type(error).__name__,
            "update": update.update_id if isinstance(update, Update) else None,
        },
    )


def telegram_handlers() -> list[BaseHandler[Update, AmigoContext, None]]:
    """The updates Amigo accepts, in order; everything else (edits, joins) is ignored."""
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(on_update),  # inline buttons
        PreCheckoutQueryHandler(on_pre_checkout),  # may this payment go ahead?
        MessageHandler(private & filters.SUCCESSFUL_PAYMENT, on_update),  # Amigo Plus paid
        MessageHandler(filters.UpdateType.CHANNEL_POSTS, on_update),  # explains once, then quiet
        MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.GROUPS, on_update),  # likewise
        MessageHandler(private & filters.TEXT, on_update),  # commands and chat
        MessageHandler(private, on_update),  # photos, voice, stickers...: last, the catch-all
    ]
