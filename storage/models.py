"""Plain records that cross the storage boundary, already decrypted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

Role = Literal["user", "assistant"]


class Status(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    CLOSED = "closed"
    BANNED = "banned"


class Purpose(StrEnum):
    """What a consent-ledger row is about."""

    AGE_18_PLUS = "age_18_plus"
    TERMS = "terms_and_privacy"
    MODEL_IMPROVEMENT = "model_improvement"
    MARKETING = "marketing"


@dataclass(frozen=True)
class Account:
    id: int
    status: Status
    step: str | None
    policy_version: str
    conversation_id: int | None
    created_at: datetime
    awaiting: str | None = None
    """Which typed answer the bot waits for (a name, a grievance...), so it is not sent to the LLM."""
    autodelete_days: int | None = None
    last_export_at: datetime | None = None
    language: str = "en"
    """The language the person reads the bot in (handlers/texts.LANGUAGES)."""
    plus_canceled: bool = False
    """They cancelled their Amigo Plus subscription's renewal (handlers/payments.py)."""


@dataclass(frozen=True)
class Companion:
    name: str
    gender: str
    tone: str


@dataclass(frozen=True)
class ChatMessage:
    id: int
    role: Role
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ConsentRecord:
    purpose: Purpose
    granted: bool
    policy_version: str
    created_at: datetime
    language: str = "en"
    """The language of the screen the choice was made on."""


PROFILE_FIELDS = ("display_name", "gender", "country", "time_zone")
AUTODELETE_CHOICES = (1, 7, 30, 90)  # days, for /autodelete


@dataclass(frozen=True)
class Profile:
    """The only personal fields an account has (P4.1); each stays empty unless the user sets it."""

    display_name: str | None = None
    gender: str | None = None
    country: str | None = None
    time_zone: str | None = None  # an IANA name ("Asia/Kolkata"); empty: from country or config


@dataclass(frozen=True)
class Nominee:
    name: str
    contact: str
    updated_at: datetime


@dataclass(frozen=True)
class Grievance:
    id: int
    text: str
    status: str
    created_at: datetime
    ack_due: datetime
    resolve_due: datetime
    category: str = "general"
    """'general', or 'payment' (/paysupport)."""

    @property
    def ticket(self) -> str:
        return f"G-{self.id:06d}"


@dataclass(frozen=True)
class ConversationInfo:
    id: int
    started_at: datetime
    messages: int
    last_at: datetime | None


@dataclass(frozen=True)
class StaffAccess:
    at: datetime
    role: str
    reason_category: str


@dataclass(frozen=True)
class SafetyRecord:
    category: str
    severity: str
    created_at: datetime


@dataclass(frozen=True)
class PaymentRecord:
    """A payment, as the policy allows (section 4.1): charge ids, amount, currency, status, the
    period paid for and the dates. Never card or UPI details (Stars have none)."""

    provider_charge_id: str
    amount_minor: int
    currency: str
    status: str
    created_at: datetime
    telegram_charge_id: str | None = None
    period_end: datetime | None = None
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class NewPayment:
    """A successful payment as Telegram reports it (handlers/payments.py)."""

    telegram_charge_id: str
    provider_charge_id: str
    amount: int
    currency: str
    period_end: datetime
    first: bool
    """The first payment of a subscription (not a renewal)."""


@dataclass(frozen=True)
class PlusStatus:
    """Amigo Plus, computed from the payment records and the clock."""

    until: datetime
    renews: bool
    subscription_id: str


@dataclass(frozen=True)
class PlusStats:
    """Aggregates only, for /stats: no person, no charge."""

    subscribers: int
    renewing: int
    stars_paid: int
    stars_refunded: int
    payments: int


@dataclass(frozen=True)
class Inventory:
    """Counts of everything held about one user, for /mydata."""

    profile_fields: int
    companion: bool
    conversations: int
    messages: int
    consents: int
    grievances: int
    nominee: bool
    safety_records: int
    payment_records: int
    staff_accesses: int


@dataclass(frozen=True)
class Deleted:
    """What one deletion removed, for the reply that says so."""

    conversations: int = 0
    messages: int = 0
    account: bool = False
    payment_records_kept: int = 0


@dataclass(frozen=True)
class Hold:
    """A legal hold: while it stands (released_at is None), retention purges nothing of that user."""

    id: int
    user_id: int
    reason: str
    placed_at: datetime
    released_at: datetime | None = None


@dataclass(frozen=True)
class JobRun:
    """One run of a scheduled job: when it ran and what it removed, per category (counts only)."""

    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    removed: dict[str, int]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class Flag:
    id: int
    user_id: int | None
    category: str
    severity: str
    message_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Stats:
    users: dict[str, int]
    active_today: int
    active_week: int
    messages_per_day: list[tuple[str, int]]
    consent_rates: dict[str, float]
    open_flags: int
    open_grievances: int


@dataclass(frozen=True)
class StaffGrievance(Grievance):
    """A grievance as the support queue sees it: whose it is, so a reply can reach them."""

    user_id: int = field(kw_only=True)
    acknowledged_at: datetime | None = None


BroadcastKind = Literal["service", "marketing", "breach", "policy"]


@dataclass(frozen=True)
class Broadcast:
    """An operator's message to many users; unfinished ones resume when the bot starts."""

    id: int
    kind: BroadcastKind
    body: str
    created_at: datetime
    finished_at: datetime | None = None


@dataclass(frozen=True)
class PolicyVersion:
    """A version of the privacy policy: published by the operator, or the configured one."""

    version: str
    date: str
    material: bool
    summary: str
    published_at: datetime | None = None


@dataclass(frozen=True)
class ConsentProof:
    """One consent-ledger row kept as proof after its account was erased (storage/sqlite_records.py)."""

    purpose: Purpose
    granted: bool
    policy_version: str
    at: datetime
    erased_at: datetime
    language: str = "en"


@dataclass(frozen=True)
class ProcessingEvent:
    """One processing-log entry: an event name, an internal account id at most, and counts."""

    at: datetime
    event: str
    account_id: int | None
    counts: Mapping[str, int]


BREACH_REPORT_DUE = timedelta(hours=72)
"""DPDP Rules 2025, rule 7(2)(b): the detailed report to the Board is due this long after the
breach became known (or later, if the Board allows)."""


@dataclass(frozen=True)
class Breach:
    """A personal data breach: the notice for the people affected and the Board intimation record.
    `notice` and `report` map field names to the operator's words (handlers/breach.py names them)."""

    id: int
    discovered_at: datetime
    created_at: datetime
    notice: Mapping[str, str]
    intimated_at: datetime | None = None
    report: Mapping[str, str] | None = None
    report_recorded_at: datetime | None = None
    report_filed_at: datetime | None = None

    @property
    def report_due(self) -> datetime:
        return self.discovered_at + BREACH_REPORT_DUE


@dataclass(frozen=True)
class BreachNotice:
    """One sending of a breach's notice: its broadcast, how many accounts it named (0: everyone
    whose data is held) and how many deliveries were made."""

    broadcast_id: int
    created_at: datetime
    targets: int
    delivered: int
    finished_at: datetime | None


@dataclass(frozen=True)
class Memory:
    """One thing the companion remembers about its person (decrypted). `conversation_id` is the
    conversation it was learnt from, and it is deleted with it; None for one the person added
    with /memory add (kept until they forget it or delete all history)."""

    id: int
    text: str
    conversation_id: int | None
    manual: bool
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None
    uses: int = 0


@dataclass(frozen=True)
class Summary:
    """A short summary of one finished conversation, deleted with it."""

    conversation_id: int
    text: str
    created_at: datetime
