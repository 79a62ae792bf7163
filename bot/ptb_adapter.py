"""The python-telegram-bot adapter: its updates become plain events, its Bot speaks BotApi.

Knows python-telegram-bot and nothing else: rendering, splitting, streaming and flood control are
library-neutral (bot/channel.py, bot/telegram_stream.py, bot/telegram_api.py), and what runs beside
the library is bot/runtime.py. The aiogram adapter (bot/aiogram_adapter.py) is its twin.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.config import Secrets, Settings
from bot.ops import serving_ops
from bot.ptb_api import PtbApi
from bot.runners import Runners
from bot.runtime import Runtime, event_kind, pre_checkout_refusal
from bot.services import refuse_example_contact
from bot.telegram_api import ALLOWED_UPDATES
from bot.updates import to_event
from bot.webhook import ROUTED_TIMEOUT, WebhookReceiver, serving_webhook, webhook_secret
from core.clock import Clock
from handlers.events import ButtonPress, PreCheckout, Sender

log = logging.getLogger("amigo.telegram")

CONCURRENT_UPDATES = 256
PTB_TIMEDELTA = "PTB_TIMEDELTA"


@dataclass
class AmigoData:
    """PTB's bot_data, typed: the runtime the handlers hand each update to."""

    runtime: Runtime | None = None


AmigoContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], AmigoData]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


async def on_update(update: Update, context: AmigoContext) -> None:
    """Every registered handler ends here: convert, then hand to the transport-neutral dispatcher."""
    runtime = context.bot_data.runtime
    if runtime is None:
        return
    event = to_event(update)
    runtime.metrics.update(event_kind(event))
    if event is None or runtime.dispatcher is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as exc:
            log.debug("telegram.answer_failed", extra={"error": type(exc).__name__})
    message_id = event.message_id if isinstance(event, ButtonPress) else None
    channel = runtime.channel(event.sender.chat_id, message_id)
    routed = runtime.routed.pop(update.update_id, None)
    await runtime.dispatcher.handle(event, channel, routed=routed)


async def on_pre_checkout(update: Update, context: AmigoContext) -> None:
    """Telegram asks whether a payment may go ahead: answered at once, within its time limit."""
    query, runtime = update.pre_checkout_query, context.bot_data.runtime
    if query is None or runtime is None:
        return
    user = query.from_user
    event = PreCheckout(
        Sender(user.id, user.id, language_code=user.language_code),
        query.id,
        query.invoice_payload,
        query.currency,
        query.total_amount,
    )
    refusal = await pre_checkout_refusal(runtime, event)
    try:
        await query.answer(ok=refusal is None, error_message=refusal)
    except TelegramError as exc:
        log.warning("payments.pre_checkout_unanswered", extra={"error": type(exc).__name__})


async def on_error(update: object, context: AmigoContext) -> None:
    """Errors PTB catches outside our handlers (network, polling): type only, never content."""
    error = context.error
    runtime = context.bot_data.runtime
    if isinstance(error, TelegramError) and runtime is not None:
        runtime.metrics.telegram_failed(error)
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


class PtbBot(Runners):
    """bot.runtime.TelegramBot on python-telegram-bot: an Application that polls or serves the
    webhook, started and stopped in run_polling's order inside the current event loop."""

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None) -> None:

        if not secrets.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        refuse_example_contact(settings)
        # Durations from PTB (RetryAfter.retry_after, ...) as timedelta: the coming default,
        # opted into now instead of silencing the deprecation warning PTB raises on every 429.
        os.environ[PTB_TIMEDELTA] = "1"
        self.settings, self.secrets = settings, secrets
        self.runtime = Runtime(settings, secrets, clock)
        api = settings.telegram.api_base_url.rstrip("/")
        poll = settings.telegram.poll_timeout_seconds
        self.app: AnyApplication = (
            ApplicationBuilder()
            .token(secrets.telegram_bot_token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .context_types(ContextTypes(bot_data=AmigoData))
            .concurrent_updates(CONCURRENT_UPDATES)
            .get_updates_read_timeout(poll + 10)
            .build()
        )
        self.app.add_handlers(telegram_handlers())
        self.app.add_error_handler(on_error)

    @asynccontextmanager
    async def _started(self) -> AsyncIterator[None]:
        """initialize, the runtime, start; at exit: stop, stop sending, shutdown, close."""
        app, runtime = self.app, self.runtime
        await app.initialize()
        try:
            app.bot_data.runtime = runtime
            await runtime.start(PtbApi(app.bot, runtime.gate))
            await app.start()
            try:
                yield
            finally:
                if app.running:
                    await app.stop()
                await runtime.stop_sending()
        finally:
            await app.shutdown()
            await runtime.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[PtbBot]:
        async with self._started(), serving_ops(self.runtime, self.settings.ops.listen):
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                poll_interval=0,
                timeout=self.settings.telegram.poll_timeout_seconds,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            try:
                yield self
            finally:
                await self.app.updater.stop()

    @asynccontextmanager
    async def running_webhook(
        self, *, routed_timeout: float = ROUTED_TIMEOUT
    ) -> AsyncIterator[PtbBot]:
        settings, app = self.settings.telegram, self.app
        secret = webhook_secret(settings, self.secrets.webhook_secret)

        def prepare(body: dict[str, Any]) -> Callable[[], Awaitable[object]]:
            update = Update.de_json(body, app.bot)
            if isinstance(app.bot, ExtBot):  # arbitrary callback data, as PTB's handler does
                app.bot.insert_callback_data(update)
            return lambda: app.create_task(
                app.update_processor.process_update(update, app.process_update(update)),
                update=update,
            )

        receiver = WebhookReceiver(
            self.runtime,
            secret,
            prepare,
            accepting=lambda: app.running,
            routed_timeout=routed_timeout,
        )

        async with self._started(), serving_webhook(receiver, settings):
            yield self
