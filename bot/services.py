"""The services every adapter, the console and the CLI build from Settings and Secrets: storage,
the model, limits and the dispatcher with its dependencies, here and nowhere else.

bot/app.py (the composition root) picks the Telegram library; bot/runtime.py opens these services
once the library is ready and closes them after it stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from secrets import token_hex

import safety
from bot.config import ConfigError, Secrets, Settings, is_example_address
from bot.limit_stores import build_limit_store
from bot.llm import OpenAIChatModel, OpenAIModerator
from bot.metrics import Metrics
from bot.tokens import make_counter
from core.clock import Clock, SystemClock
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
from jobs.retention import run_retention
from jobs.scheduler import JobLease
from storage.crypto import Vault, load_or_create_key_file, parse_master_key
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository, SqlRepository

log = logging.getLogger("amigo.app")


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
        menus: Callable[[int, str], Awaitable[None]] | None = None,
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
            menus=menus,
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
