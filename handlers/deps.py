"""Everything a handler may use, injected by the composition root (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from core.clock import Clock
from handlers.limits import Limits, LimitStore
from handlers.policy import CurrentPolicy
from handlers.ports import Channel, ChatModel, Moderator, Payments, TokenCounter
from storage.base import Repository
from storage.models import PolicyVersion


@dataclass(frozen=True)
class HelplineInfo:
    country: str
    country_name: str
    name: str
    number: str
    hours: str
    last_verified: str


@dataclass(frozen=True)
class MemoryConfig:
    """The memory.* settings (handlers/memory.py, handlers/window.py)."""

    enabled: bool = True
    extract_every_messages: int = 10
    idle_hours: int = 6
    max_items: int = 200
    budget_share: float = 0.25
    summaries_in_window: int = 3


@dataclass(frozen=True)
class PlusConfig:
    """The plus.* settings (handlers/payments.py)."""

    enabled: bool = True
    price_stars: int = 250
    daily_messages: int = 0
    memory_items: int = 1000


@dataclass(frozen=True)
class WorkersConfig:
    """Set when several workers share the database (PostgreSQL): who this worker is in the
    leases, and how long a lease or a message's claim lasts (workers.lease_seconds)."""

    holder: str
    lease_seconds: float


@dataclass(frozen=True)
class HandlerConfig:
    """The settings handlers read, copied from bot.config.Settings by the composition root."""

    privacy_contact: str
    policy_version: str
    policy_url: str
    policy_date: str
    policy_material: bool
    policy_change_summary: str
    export_interval_hours: int
    grievance_ack_hours: int
    grievance_resolve_days: int
    closed_account_grace_days: int
    payment_records_years: int
    safety_records_days: int
    provider_name: str
    default_name: str
    default_gender: str
    default_tone: str
    context_tokens: int
    reply_tokens: int
    stream: bool
    """Show replies as the model writes them (Channel.stream); else send them whole."""
    max_reply_chars: int
    """Longest reply sent and stored; a longer answer is cut at a clean boundary (chat.cap_reply)."""
    window_max_messages: int
    burst_window_seconds: float
    """Texts of one person this close together are answered in one reply (handlers/router.py)."""
    limits: Limits
    helplines: tuple[HelplineInfo, ...]
    default_country: str
    staff: tuple[tuple[int, str], ...] = ()
    """(Telegram user id, role) of everyone who may use the admin commands."""
    ban_needs_review_days: int = 30
    consent_proof_days: int = 1095
    """How long the proof of consent of an erased account is kept (retention.consent_proof_days)."""
    processing_log_days: int = 365
    """How long processing-log entries are kept (retention.processing_log_days)."""
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    plus: PlusConfig = field(default_factory=PlusConfig)
    default_time_zone: str = "Asia/Kolkata"
    """IANA zone when a person set none and their country gives none (companion.*)."""
    workers: WorkersConfig | None = None
    """None: this process is the database's only worker (SQLite)."""


@dataclass(frozen=True)
class Deps:
    repo: Repository
    model: ChatModel
    tokens: TokenCounter
    clock: Clock
    config: HandlerConfig
    sign: Callable[[str], bytes]
    """Keyed MAC, used to carry the passed age gate in a button without storing anything."""
    moderator: Moderator | None = None
    channels: Callable[[int], Channel] | None = None
    """A way to reach a user's own chat by chat id (staff notices, broadcasts); None in the
    console and in tests that do not need it."""
    run_retention: Callable[[], Awaitable[Mapping[str, int]]] | None = None
    limit_store: LimitStore | None = None
    """Where the per-person limits live (bot/limit_stores.py); None: this process's memory."""
    payments: Payments | None = None
    """Telegram Stars invoices, renewals and refunds (bot/telegram_payments.py); None where the
    transport takes no payments (the console)."""
    menus: Callable[[int, str], Awaitable[None]] | None = None
    """Set one private chat's command menu to a language (chat id, language): Telegram shows the
    menu of the app's language otherwise. None where there is no menu (the console)."""

    @cached_property
    def policy(self) -> CurrentPolicy:
        """The policy in force; read it here, never from `config.policy_*` directly."""
        configured = PolicyVersion(
            self.config.policy_version,
            self.config.policy_date,
            self.config.policy_material,
            self.config.policy_change_summary,
        )
        return CurrentPolicy(self.repo, configured)
