"""What runs beside the Telegram library, the same for python-telegram-bot and aiogram.

An adapter (bot/ptb_adapter.py, bot/aiogram_adapter.py) gives it a BotApi once the library is
ready (`start`), hands it each update as a plain event, and stops it in two steps: `stop_sending`
while the library can still send (a broadcast is not left claimed and unsent), then `close`.
Started: the services (storage, model, dispatcher), the recovery of what a crash left unanswered
(or, with several workers, the sweep), interrupted broadcasts, the command menu per language, and
the scheduled jobs.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Protocol

from bot.channel import TelegramChannel
from bot.config import Secrets, Settings
from bot.metrics import Metrics
from bot.services import Services, recovery_config, sweeping
from bot.telegram_api import BotApi, FloodGate, TelegramError
from bot.telegram_payments import TelegramPayments
from bot.telegram_stream import DraftSupport
from core.clock import Clock, SystemClock
from handlers.breach import owner_reminder
from handlers.commands import COMMANDS
from handlers.events import ButtonPress, Event, Media, Paid, PreCheckout, Text
from handlers.recovery import Recovery
from handlers.router import Dispatcher
from handlers.texts import ENGLISH, LANGUAGES, speaking, t
from jobs import breach as breach_job
from jobs import memory as memory_job
from jobs.scheduler import JobScheduler, build_scheduler

log = logging.getLogger("amigo.app")

PRE_CHECKOUT_SECONDS = 8.0
"""Telegram cancels a payment whose pre-checkout query is not answered within 10 seconds."""


class Runtime:
    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None) -> None:

        self.settings = settings
        self.secrets = secrets
        self.clock = clock or SystemClock()
        self.metrics = Metrics()  # one registry per bot
        self.draft_support = DraftSupport()  # learnt once per bot
        self.gate = FloodGate(
            requests_per_second=settings.telegram.requests_per_second,
            attempts=settings.telegram.send_attempts,
        )
        self.routed: dict[int, asyncio.Event] = {}
        """Webhook mode: set when the update of that id leaves the intake lane (bot/webhook.py)."""
        self.ops_url = ""  # where /healthz and /metrics are served, once they are (tests read it)
        self.api: BotApi | None = None
        self.services: Services | None = None
        self._schedulers: list[JobScheduler] = []
        self._background: list[asyncio.Task[None]] = []

    @property
    def dispatcher(self) -> Dispatcher | None:
        return self.services.dispatcher if self.services is not None else None

    async def chat_menu(self, chat_id: int, language: str) -> None:
        """The command menu of one private chat in the language chosen there (with /language or
        at the Terms), which may not be the Telegram app's. Best effort: logged, never raised."""
        if self.api is None:
            return
        try:
            await self.api.set_my_commands(menu(language), chat_id=chat_id)
        except TelegramError as exc:
            log.warning("telegram.chat_menu_not_set", extra={"error": type(exc).__name__})

    def channel(self, chat_id: int, button_message_id: int | None = None) -> TelegramChannel:
        assert self.api is not None, "the runtime is not started"
        return TelegramChannel(
            self.api,
            chat_id,
            self.settings.telegram,
            button_message_id,
            self.draft_support,
            self.metrics,
        )

    async def start(self, api: BotApi) -> Dispatcher:

        self.api, settings, clock = api, self.settings, self.clock
        services = await Services.open(
            settings,
            self.secrets,
            clock=clock,
            channels=self.channel,
            metrics=self.metrics,
            payments=TelegramPayments(api),
            menus=self.chat_menu,
        )
        self.services = services
        dispatcher = services.dispatcher
        if services.lane is None:
            # Chat messages a crash left unanswered are answered now, each person's before any
            # new one of theirs (their locks are queued on before updates are fetched). This
            # process holds the database's file lock (bot/__main__.py): the sole worker.
            recovery = Recovery(dispatcher, recovery_config(settings))
            self._background.append(await recovery.start(sole_worker=True))
        else:  # several workers: what a dead one left is answered once its leases run out
            sweep = sweeping(services.lane, settings.workers.sweep_seconds)
            self._background.append(asyncio.create_task(sweep))
        # A broadcast a stop or crash interrupted goes on, in the background (at-most-once).
        self._background.append(asyncio.create_task(dispatcher.admin.resume_broadcasts()))
        await register_commands(api)
        scheduler = await build_scheduler(
            services.repo, settings, clock, lease=services.job_lease()
        )
        self._schedulers.append(scheduler)
        remind = owner_reminder(dispatcher.admin.deps, dispatcher.admin.staff)

        async def breach_reminders() -> None:  # before a breach report's 72 hours are up
            await breach_job.run_breach_reminders(services.repo, clock.now(), remind)

        first = datetime.now(UTC)
        scheduler.add_interval_job(breach_job.JOB, breach_reminders, breach_job.EVERY, first)

        async def memory_idle() -> None:  # quiet conversations end: facts and a summary
            await memory_job.run_memory_idle(
                services.repo, dispatcher.memory.end_idle, clock.now(), settings.memory.idle_hours
            )

        if settings.memory.enabled:  # found from storage, so also what went quiet while down
            scheduler.add_interval_job(memory_job.JOB, memory_idle, memory_job.EVERY, first)
        scheduler.start()  # retention and backups; a run missed while down happens now
        log.info("bot.started", extra={"library": settings.telegram.library})
        return dispatcher

    async def stop_sending(self) -> None:
        """Stop sending while the library can still send, so no delivery is claimed and then
        failed for a closed connection; an unfinished broadcast resumes at the next start."""
        background, self._background = self._background, []
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        if self.services is not None:
            await self.services.dispatcher.admin.stop_broadcasts()

    async def close(self) -> None:
        await self.stop_sending()  # already done before the library stopped; in case it was not
        schedulers, self._schedulers = self._schedulers, []
        for scheduler in schedulers:
            await scheduler.stop()  # before storage closes under a running job
        services, self.services = self.services, None
        if services is not None:
            await services.close()
            log.info("bot.stopped")


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


async def pre_checkout_refusal(runtime: Runtime, event: PreCheckout) -> str | None:
    """Whether a payment may go ahead (None) or why not, within Telegram's time limit."""
    runtime.metrics.update("pre_checkout")
    dispatcher = runtime.dispatcher
    if dispatcher is None:
        with speaking(event.sender.language_code):
            return t("error.generic")
    try:
        return await asyncio.wait_for(dispatcher.pre_checkout(event), PRE_CHECKOUT_SECONDS)
    except TimeoutError:
        log.warning("payments.pre_checkout_slow")
        with speaking(event.sender.language_code):
            return t("error.generic")


def menu(language: str) -> list[tuple[str, str]]:
    """The command menu in `language`: every command with its description."""
    with speaking(language):
        return [(c.name, t(c.help_key)) for c in COMMANDS]


async def register_commands(api: BotApi) -> None:
    """The command menu, once per language: Telegram shows a person the menu registered for
    their app's language, and the default (English) to everyone else. A failure is logged and
    start-up goes on."""
    for language in LANGUAGES:
        code = None if language == ENGLISH else language
        try:
            await api.set_my_commands(menu(language), language_code=code)
        except TelegramError as exc:
            log.warning(
                "telegram.commands_not_registered",
                extra={"error": type(exc).__name__, "language": language},
            )


class TelegramBot(Protocol):
    """One bot on one Telegram library (bot/ptb_adapter.PtbBot, bot/aiogram_adapter.AiogramBot);
    bot/app.build_bot picks by `telegram.library`. The context managers run the bot inside the
    current event loop (tests, and the blocking runners below)."""

    runtime: Runtime

    def running(self) -> AbstractAsyncContextManager[TelegramBot]:
        """Polling (getUpdates), with /healthz and /metrics on `ops.listen` when set."""
        ...

    def running_webhook(
        self, *, routed_timeout: float = ...
    ) -> AbstractAsyncContextManager[TelegramBot]:
        """Webhook mode: serve `telegram.webhook_listen` (and /healthz, /metrics), setWebhook."""
        ...

    def run_polling(self) -> None:
        """Poll until SIGTERM or SIGINT."""
        ...

    def run_webhook(self) -> None:
        """Serve the webhook until SIGTERM or SIGINT."""
        ...
