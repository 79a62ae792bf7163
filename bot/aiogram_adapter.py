"""The aiogram adapter: its updates become plain events, its Bot speaks BotApi.

The twin of bot/ptb_adapter.py, and knows aiogram and nothing else: rendering, splitting,
streaming and flood control are library-neutral (bot/channel.py, bot/telegram_stream.py,
bot/telegram_api.py), and what runs beside the library is bot/runtime.py. One Router takes the
updates python-telegram-bot's handlers take (messages, channel posts, button presses, pre-checkout
queries); aiogram runs each update as a task of its own, so one slow person never holds up another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.types import PreCheckoutQuery, TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.aiogram_api import AiogramApi, errors
from bot.config import Secrets, Settings
from bot.ops import serving_ops
from bot.runners import Runners
from bot.runtime import Runtime, event_kind, pre_checkout_refusal
from bot.services import refuse_example_contact
from bot.telegram_api import ALLOWED_UPDATES, TelegramError
from bot.updates import to_event
from bot.webhook import (
    ROUTED_TIMEOUT,
    WebhookReceiver,
    serving_webhook,
    webhook_secret,
)
from core.clock import Clock
from handlers.events import ButtonPress, PreCheckout, Sender

log = logging.getLogger("amigo.telegram")

CONCURRENT_UPDATES = 256
"""Updates handled at once, as python-telegram-bot's adapter allows."""
AIOGRAM_LOGGERS = ("aiogram.dispatcher", "aiogram.event")

Middleware = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class TypesOnly(logging.Filter):
    """aiogram logs an exception's text (a polling failure that could not be read shows the
    updates' JSON): only its type is kept, and no traceback, as everywhere in Amigo."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        record.exc_info, record.exc_text = None, None
        return True


def _types_only_logs() -> None:
    for name in AIOGRAM_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TypesOnly) for f in logger.filters):
            logger.addFilter(TypesOnly())


class AiogramBot(Runners):
    """bot.runtime.TelegramBot on aiogram: a Dispatcher that polls, or is fed by the webhook,
    started and stopped in the same order as the python-telegram-bot adapter."""

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None) -> None:
        if not secrets.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        refuse_example_contact(settings)
        _types_only_logs()
        self.settings, self.secrets = settings, secrets
        self.runtime = Runtime(settings, secrets, clock)
        server = TelegramAPIServer.from_base(settings.telegram.api_base_url)
        self.bot = Bot(secrets.telegram_bot_token, session=AiohttpSession(api=server))
        self.dispatcher = Dispatcher(disable_fsm=True)  # no state kept per person by aiogram
        self.dispatcher.update.outer_middleware(self._guarded)
        router = Router(name="amigo")
        for observer in (router.message, router.channel_post, router.callback_query):
            observer.register(self._on_update)
        router.pre_checkout_query.register(self._on_pre_checkout)
        self.dispatcher.include_router(router)
        self.dispatcher.startup.register(self._polling_started)
        self._polling_now = asyncio.Event()  # set once start_polling holds its lock
        self._accepting = False  # webhook mode: posts are taken (else 503, Telegram retries)
        self._handling: set[asyncio.Task[Any]] = set()

    async def _guarded(
        self, handler: Middleware, update: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Around every update: counted as in flight (a stop waits for it), an update type this
        aiogram does not know is skipped, and an error is logged by type only."""
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            if isinstance(update, Update):
                _ = update.event_type  # raises for a type this aiogram does not know
            return await handler(update, data)
        except UpdateTypeLookupError:
            return UNHANDLED
        except Exception as exc:
            if isinstance(exc, TelegramError | TelegramAPIError):
                self.runtime.metrics.telegram_failed(exc)
            update_id = update.update_id if isinstance(update, Update) else None
            log.warning("telegram.error", extra={"error": type(exc).__name__, "update": update_id})
            return None
        finally:
            if task is not None:
                self._handling.discard(task)

    async def _on_update(self, event: TelegramObject, event_update: Update, bot: Bot) -> None:
        """Messages, channel posts and button presses: convert, then hand to the dispatcher."""
        runtime = self.runtime
        converted = to_event(event_update)
        runtime.metrics.update(event_kind(converted))
        if converted is None or runtime.dispatcher is None:
            return
        if (query := event_update.callback_query) is not None:
            try:
                async with errors():
                    await bot.answer_callback_query(query.id)
            except TelegramError as exc:
                log.debug("telegram.answer_failed", extra={"error": type(exc).__name__})
        message_id = converted.message_id if isinstance(converted, ButtonPress) else None
        channel = runtime.channel(converted.sender.chat_id, message_id)
        routed = runtime.routed.pop(event_update.update_id, None)
        await runtime.dispatcher.handle(converted, channel, routed=routed)

    async def _on_pre_checkout(self, query: PreCheckoutQuery, bot: Bot) -> None:
        """Telegram asks whether a payment may go ahead: answered at once, within its time limit."""
        user = query.from_user
        event = PreCheckout(
            Sender(user.id, user.id, language_code=user.language_code),
            query.id,
            query.invoice_payload,
            query.currency,
            query.total_amount,
        )
        refusal = await pre_checkout_refusal(self.runtime, event)
        try:
            async with errors():
                await bot.answer_pre_checkout_query(
                    query.id, ok=refusal is None, error_message=refusal
                )
        except TelegramError as exc:
            log.warning("payments.pre_checkout_unanswered", extra={"error": type(exc).__name__})

    def _track(self, processing: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Webhook mode: the update's processing, in flight from now until it is done."""
        task = asyncio.ensure_future(processing)
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
        return task

    async def _finish_updates(self) -> None:
        """Wait for the updates being handled, as python-telegram-bot's Application.stop does."""
        while self._handling:
            await asyncio.gather(*self._handling, return_exceptions=True)

    @asynccontextmanager
    async def _started(self) -> AsyncIterator[None]:
        """getMe, the runtime, updates taken; at exit: the updates in flight handled, stop
        sending, then the runtime and the bot's connections closed."""
        bot, runtime = self.bot, self.runtime
        try:
            async with errors():
                await bot.me()  # a wrong token or server stops start-up here, as with PTB
            await runtime.start(AiogramApi(bot, runtime.gate))
            self._accepting = True
            try:
                yield
            finally:
                self._accepting = False
                await self._finish_updates()
                await runtime.stop_sending()
        finally:
            await runtime.close()
            await bot.session.close()

    @asynccontextmanager
    async def _polling(self) -> AsyncIterator[None]:
        """aiogram's polling loop as a task of this event loop, taken down at exit."""
        bot, dp, telegram = self.bot, self.dispatcher, self.settings.telegram
        async with errors():  # as python-telegram-bot's start_polling: a set webhook would 409
            await bot.delete_webhook(drop_pending_updates=False)
        started = self._polling_now
        started.clear()
        polling = asyncio.create_task(
            dp.start_polling(
                bot,
                polling_timeout=telegram.poll_timeout_seconds,
                handle_as_tasks=True,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=False,
                close_bot_session=False,
                tasks_concurrency_limit=CONCURRENT_UPDATES,
            )
        )
        waiting = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({waiting, polling}, return_when=asyncio.FIRST_COMPLETED)
            if polling.done():
                polling.result()  # raises what stopped it
                raise RuntimeError("aiogram's polling stopped at start")
            yield
        finally:
            waiting.cancel()
            if not polling.done() and started.is_set():
                await dp.stop_polling()
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

    async def _polling_started(self) -> None:
        self._polling_now.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[AiogramBot]:
        async with (
            self._started(),
            serving_ops(self.runtime, self.settings.ops.listen),
            self._polling(),
        ):
            yield self

    @asynccontextmanager
    async def running_webhook(
        self, *, routed_timeout: float = ROUTED_TIMEOUT
    ) -> AsyncIterator[AiogramBot]:
        settings, bot, dp = self.settings.telegram, self.bot, self.dispatcher
        secret = webhook_secret(settings, self.secrets.webhook_secret)

        def prepare(body: dict[str, Any]) -> Callable[[], Awaitable[object]]:
            update = Update.model_validate(body, context={"bot": bot})
            return lambda: self._track(dp.feed_update(bot, update))

        receiver = WebhookReceiver(
            self.runtime,
            secret,
            prepare,
            accepting=lambda: self._accepting,
            routed_timeout=routed_timeout,
        )

        async with self._started(), serving_webhook(receiver, settings):
            yield self
