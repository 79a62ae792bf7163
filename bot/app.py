"""The composition root: every service is built here from Settings and Secrets, and nowhere else.

Services open in PTB's post_init and close in post_shutdown. Tests and the console build the very same
objects; they only swap the transport.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from secrets import token_hex
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

import safety
from bot.config import ConfigError, Secrets, Settings, is_example_address
from bot.limit_stores import build_limit_store
from bot.llm import OpenAIChatModel, OpenAIModerator
from bot.metrics import Metrics
from bot.ops import run_until_signal, shut_down, with_ops_server
from bot.telegram_adapter import (
    ALLOWED_UPDATES,
    AmigoData,
    TelegramChannel,
    on_error,
    rate_limiter,
    register_commands,
    telegram_handlers,
)
from bot.telegram_payments import TelegramPayments
from bot.tokens import make_counter
from bot.webhook import running_webhook, webhook_secret
from core.clock import Clock, SystemClock
from handlers.breach import owner_reminder
from handlers.deps import (
    Deps,
    HandlerConfig,
    HelplineInfo,
    MemoryConfig,
    PlusConfig,
    WorkersConfig,
)
from handlers.limits import Limits, LimitStore
from handlers.ports import Channel, ChatModel, Payments
from handlers.recovery import Recovery, RecoveryConfig
from handlers.router import Dispatcher
from handlers.shared_lane import SharedLane
from jobs import breach as breach_job
from jobs import memory as memory_job
from jobs.retention import run_retention
from jobs.scheduler import JobLease, JobScheduler, build_scheduler
from storage.crypto import Vault, load_or_create_key_file, parse_master_key
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository, SqlRepository

log = logging.getLogger("amigo.app")

CONCURRENT_UPDATES = 256
PTB_TIMEDELTA = "PTB_TIMEDELTA"

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

KEY_WARNING = """\
************************************************************************************
* AMIGO_MASTER_KEY is not set, so a new master key was written to {path}.
* Everything users write is encrypted with it: without it the data cannot be read.
* BACK IT UP NOW, and keep it apart from the database and its backups.
* In production, set AMIGO_MASTER_KEY (or AMIGO_MASTER_KEY_FILE) instead.
************************************************************************************"""


def master_key(settings: Settings, secrets: Secrets) -> bytes:
    """From AMIGO_MASTER_KEY, else the key file (created owner-only, with a loud warning)."""
    if secrets.master_key:
        return parse_master_key(secrets.master_key)
    if settings.storage.url:  # a key file of each worker's own would differ from the others'
        raise ConfigError(
            "config error: AMIGO_MASTER_KEY (or AMIGO_MASTER_KEY_FILE) must be set when "
            "storage.url names PostgreSQL: every worker needs the same master key"
        )
    path = Path(settings.security.master_key_file)
    key, created = load_or_create_key_file(path)
    if created:
        print(KEY_WARNING.format(path=path), file=sys.stderr)
        log.warning("security.master_key_created")
    return key


def refuse_example_contact(settings: Settings) -> None:
    """The bot never tells people to write to an example address (the console may)."""
    if is_example_address(settings.privacy.contact_email):
        raise ConfigError(
            "config error: privacy.contact_email: an example address is shown to users as the "
            "privacy contact; set AMIGO_PRIVACY__CONTACT_EMAIL (or privacy.contact_email in "
            "the config file) to an address you answer"
        )


def warn_if_provider_unnamed(settings: Settings) -> None:
    """Users are told who runs the model; "OpenAI" (the default) for another server is untrue."""
    if settings.llm.provider_unnamed:
        log.warning(
            "config.provider_name_unset",
            extra={"set": "llm.provider_name", "env": "AMIGO_LLM__PROVIDER_NAME"},
        )


def repository(settings: Settings, vault: Vault, clock: Clock | None = None) -> SqlRepository:
    """The one place a repository is built: the bot, the console, the CLI commands and the jobs all
    get theirs here. `storage.url` set: PostgreSQL (every table, the keys in their own schema);
    empty: the embedded SQLite file."""
    if settings.storage.url:
        return PostgresRepository(
            settings.storage.url,
            vault,
            clock=clock or SystemClock(),
            keys_schema=settings.storage.keys_schema,
            pool_size=settings.storage.pool_size,
        )
    return SqliteRepository(
        settings.storage.database_path,
        vault,
        clock=clock or SystemClock(),
        busy_ms=settings.storage.busy_timeout_ms,
    )


@asynccontextmanager
async def open_repository(
    settings: Settings, secrets: Secrets, clock: Clock | None = None
) -> AsyncIterator[SqlRepository]:
    """An opened repository under the configured master key, closed on the way out (CLI commands)."""
    repo = repository(settings, Vault(master_key(settings, secrets)), clock)
    await repo.open()
    try:
        yield repo
    finally:
        await repo.close()


def worker_name() -> str:
    """This process in the leases it takes: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{token_hex(3)}"


def workers_config(settings: Settings) -> WorkersConfig | None:
    """Several workers may share a PostgreSQL database; a SQLite file has one (its file lock)."""
    if not settings.storage.url:
        return None
    return WorkersConfig(worker_name(), settings.workers.lease_seconds)


def handler_config(settings: Settings, workers: WorkersConfig | None = None) -> HandlerConfig:
    return HandlerConfig(
        privacy_contact=settings.privacy.contact_email,
        policy_version=settings.privacy.policy_version,
        policy_url=settings.privacy.policy_url,
        policy_date=settings.privacy.policy_date,
        policy_material=settings.privacy.policy_material,
        policy_change_summary=settings.privacy.policy_change_summary,
        export_interval_hours=settings.privacy.export_interval_hours,
        grievance_ack_hours=settings.privacy.grievance_ack_hours,
        grievance_resolve_days=settings.privacy.grievance_resolve_days,
        closed_account_grace_days=settings.retention.closed_account_grace_days,
        payment_records_years=settings.retention.payment_records_years,
        safety_records_days=settings.retention.safety_records_days,
        provider_name=settings.llm.provider_label,
        default_name=settings.companion.default_name,
        default_gender=settings.companion.default_gender,
        default_tone=settings.companion.default_tone,
        context_tokens=settings.llm.context_tokens,
        reply_tokens=settings.llm.reply_tokens,
        stream=settings.llm.stream,
        max_reply_chars=settings.llm.max_reply_chars,
        window_max_messages=settings.storage.window_max_messages,
        burst_window_seconds=settings.companion.burst_window_seconds,
        limits=Limits(
            burst=settings.limits.burst,
            per_minute=settings.limits.per_minute,
            daily_messages=settings.limits.daily_messages,
            max_message_chars=settings.limits.max_message_chars,
            repeat_threshold=settings.limits.repeat_threshold,
        ),
        helplines=tuple(HelplineInfo(**h.model_dump()) for h in settings.safety.helplines),
        default_country=settings.safety.default_country,
        staff=tuple((m.user_id, m.role) for m in settings.admin.staff),
        ban_needs_review_days=settings.admin.ban_needs_review_days,
        consent_proof_days=settings.retention.consent_proof_days,
        processing_log_days=settings.retention.processing_log_days,
        memory=MemoryConfig(**settings.memory.model_dump()),
        plus=PlusConfig(**settings.plus.model_dump()),
        default_time_zone=settings.companion.default_time_zone,
        workers=workers,
    )


def recovery_config(settings: Settings) -> RecoveryConfig:
    return RecoveryConfig(
        note_after=timedelta(minutes=settings.companion.recovery_note_after_minutes),
        max_age=timedelta(hours=settings.companion.recovery_max_age_hours),
    )


@dataclass
class Services:
    settings: Settings
    repo: SqlRepository
    model: ChatModel
    dispatcher: Dispatcher
    _owned_model: OpenAIChatModel | None
    lane: SharedLane | None = None
    """Set when several workers share the database: answers under per-person leases."""
    limit_store: LimitStore | None = None

    @classmethod
    async def open(
        cls,
        settings: Settings,
        secrets: Secrets,
        *,
        clock: Clock | None = None,
        model: ChatModel | None = None,
        channels: Callable[[int], Channel] | None = None,
        metrics: Metrics | None = None,
        payments: Payments | None = None,
    ) -> Services:
        clock = clock or SystemClock()
        warn_if_provider_unnamed(settings)
        vault = Vault(master_key(settings, secrets))
        repo = repository(settings, vault, clock)
        await repo.open()
        try:
            owned = None
            if model is None:
                model = owned = OpenAIChatModel(
                    settings.llm,
                    secrets.openai_api_key,
                    settings.limits.max_concurrent_llm_calls,
                    metrics,
                )
            tokens = make_counter(settings.llm.tokenizer_file)
            safety.load()  # rules and weights now: a broken install fails at start-up
        except BaseException:
            await repo.close()
            raise
        moderator = None
        if owned is not None and settings.safety.moderation_model:
            moderator = OpenAIModerator(owned.client, settings.safety.moderation_model)
        deps = Deps(
            repo=repo,
            model=model,
            tokens=tokens,
            clock=clock,
            config=handler_config(settings, workers := workers_config(settings)),
            sign=lambda text: vault.pseudonym("sign", text),
            moderator=moderator,
            channels=channels,
            run_retention=lambda: run_retention(repo, settings.retention, clock.now()),
            limit_store=(limit_store := build_limit_store(settings, repo)),
            payments=payments,
        )
        dispatcher = Dispatcher(deps)
        lane = None
        if workers is not None:
            lane = SharedLane(Recovery(dispatcher, recovery_config(settings)), workers)
            dispatcher.reply_lane = lane.answer
        return cls(settings, repo, model, dispatcher, owned, lane, limit_store)

    def job_lease(self) -> JobLease | None:
        """Each firing of a scheduled job runs in one worker only (None: the only worker)."""
        workers, clock = self.dispatcher.deps.config.workers, self.dispatcher.deps.clock
        if workers is None:
            return None

        async def lease(job: str, span: timedelta) -> bool:
            return await self.repo.take_lease(f"job:{job}", workers.holder, clock.now() + span)

        return lease

    async def close(self) -> None:
        await self.dispatcher.memory.close()  # background memory work, before the model and storage
        if self._owned_model is not None:
            await self._owned_model.close()
        if self.limit_store is not None:
            await self.limit_store.close()
        await self.repo.close()


async def sweeping(lane: SharedLane, every: float) -> None:
    """Every `every` seconds, answer what a dead worker left (SharedLane.sweep); until cancelled."""
    while True:
        try:
            await lane.sweep()
        except Exception as exc:  # the database may be away for a moment: try again next time
            log.error("lanes.sweep_failed", extra={"error": type(exc).__name__})
        await asyncio.sleep(every)


def build_application(
    settings: Settings, secrets: Secrets, *, clock: Clock | None = None
) -> AnyApplication:
    """The python-telegram-bot Application, wired to our services."""
    if not secrets.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    refuse_example_contact(settings)
    # Durations from PTB (RetryAfter.retry_after, ...) as timedelta: the coming default, opted into
    # now instead of silencing the deprecation warning every 429 raises inside PTB itself.
    os.environ[PTB_TIMEDELTA] = "1"
    services: list[Services] = []
    schedulers: list[JobScheduler] = []
    background: list[asyncio.Task[None]] = []
    clock = clock or SystemClock()

    async def post_init(app: AnyApplication) -> None:
        data: AmigoData = app.bot_data
        channels = lambda chat_id: TelegramChannel(  # noqa: E731
            app.bot, chat_id, settings.telegram, None, data.draft_support, data.metrics
        )
        services.append(
            await Services.open(
                settings,
                secrets,
                clock=clock,
                channels=channels,
                metrics=data.metrics,
                payments=TelegramPayments(app.bot),
            )
        )
        data.dispatcher = services[0].dispatcher
        data.settings = settings.telegram
        lane = services[0].lane
        if lane is None:
            # Chat messages a crash left unanswered are answered now, each person's before any
            # new one of theirs (their locks are queued on before polling starts). This process
            # holds the database's file lock (bot/__main__.py), so it is the sole worker.
            recovery = Recovery(data.dispatcher, recovery_config(settings))
            background.append(await recovery.start(sole_worker=True))
        else:  # several workers: what a dead one left is answered once its leases run out
            background.append(asyncio.create_task(sweeping(lane, settings.workers.sweep_seconds)))
        # A broadcast a stop or crash interrupted goes on, in the background (at-most-once).
        background.append(asyncio.create_task(data.dispatcher.admin.resume_broadcasts()))
        await register_commands(app.bot)
        schedulers.append(
            await build_scheduler(services[0].repo, settings, clock, lease=services[0].job_lease())
        )
        remind = owner_reminder(data.dispatcher.admin.deps, data.dispatcher.admin.staff)

        async def breach_reminders() -> None:  # before a breach report's 72 hours are up
            await breach_job.run_breach_reminders(services[0].repo, clock.now(), remind)

        first = datetime.now(UTC)
        schedulers[0].add_interval_job(breach_job.JOB, breach_reminders, breach_job.EVERY, first)

        async def memory_idle() -> None:  # quiet conversations end: facts and a summary
            await memory_job.run_memory_idle(
                services[0].repo,
                services[0].dispatcher.memory.end_idle,
                clock.now(),
                settings.memory.idle_hours,
            )

        if settings.memory.enabled:  # found from storage, so also what went quiet while down
            schedulers[0].add_interval_job(memory_job.JOB, memory_idle, memory_job.EVERY, first)
        schedulers[0].start()  # retention and backups; a run missed while down happens now
        log.info("bot.started", extra={"concurrency": CONCURRENT_UPDATES})

    async def stop_broadcasts(app: AnyApplication) -> None:
        """Stop sending while the bot can still send, so no delivery is claimed and then failed
        for a closed connection; an unfinished broadcast resumes at the next start."""
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for service in services:
            await service.dispatcher.admin.stop_broadcasts()

    async def post_shutdown(app: AnyApplication) -> None:
        await stop_broadcasts(app)  # already done in post_stop; here in case stop was skipped
        for scheduler in schedulers:
            await scheduler.stop()  # before storage closes under a running job
        for service in services:
            await service.close()
        log.info("bot.stopped")

    api = settings.telegram.api_base_url.rstrip("/")
    poll = settings.telegram.poll_timeout_seconds
    app = (
        ApplicationBuilder()
        .token(secrets.telegram_bot_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(ContextTypes(bot_data=AmigoData))
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(rate_limiter(settings.telegram))
        .get_updates_read_timeout(poll + 10)
        .post_init(post_init)
        .post_stop(stop_broadcasts)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.add_handlers(telegram_handlers())
    app.add_error_handler(on_error)
    return app


def run_polling(app: AnyApplication, settings: Settings) -> None:
    with_ops_server(app, settings.ops.listen)  # /healthz and /metrics, when ops.listen is set
    app.run_polling(
        allowed_updates=ALLOWED_UPDATES,
        timeout=settings.telegram.poll_timeout_seconds,
        drop_pending_updates=False,
    )


@asynccontextmanager
async def running(
    app: AnyApplication,
    settings: Settings,
) -> AsyncIterator[AnyApplication]:
    """Start and stop the bot inside an existing event loop, in run_polling's order (for tests)."""
    with_ops_server(app, settings.ops.listen)
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0,
        timeout=settings.telegram.poll_timeout_seconds,
        allowed_updates=ALLOWED_UPDATES,
    )
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await shut_down(app)


def run_webhook(app: AnyApplication, settings: Settings, secrets: Secrets) -> None:
    """Serve Telegram's webhook (and /healthz, /metrics) until SIGTERM or SIGINT."""
    webhook_secret(settings.telegram, secrets.webhook_secret)  # refused before anything starts
    run_until_signal(running_webhook(app, settings, secrets))


__all__ = [
    "Services",
    "Update",
    "build_application",
    "run_polling",
    "run_webhook",
    "running",
    "running_webhook",
]
