"""The storage contract every backend fulfils (SQLite now; PostgreSQL can implement the same).

Handlers depend on this Protocol, never on a backend. Values go in and come out as plain text:
sealing and opening are the backend's job, so no other layer ever sees a ciphertext or a key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from storage.models import (
    Account,
    AuditEntry,
    Breach,
    BreachNotice,
    Broadcast,
    BroadcastKind,
    ChatMessage,
    Companion,
    ConsentProof,
    ConsentRecord,
    ConversationInfo,
    Deleted,
    Flag,
    Grievance,
    Hold,
    Inventory,
    JobRun,
    Memory,
    NewPayment,
    Nominee,
    PaymentRecord,
    PlusStats,
    PlusStatus,
    PolicyVersion,
    ProcessingEvent,
    Profile,
    Purpose,
    Role,
    SafetyRecord,
    StaffAccess,
    StaffGrievance,
    Stats,
    Status,
    Summary,
)


class AlreadyAccepted(Exception):
    """The update this chat message came in was accepted before (a redelivery after a worker
    died before answering Telegram): it is answered once, as that message."""


@dataclass(frozen=True)
class Unanswered:
    """An accepted chat message, claimed for answering; `reply` is its stored reply, if any (the
    process stopped after storing it and before sending it)."""

    id: int
    user_id: int
    conversation_id: int
    text: str
    created_at: datetime
    reply: str | None = None


class Repository(Protocol):
    async def find_account(self, tg_id: int) -> Account | None: ...

    async def create_account(
        self,
        tg_id: int,
        chat_id: int,
        *,
        policy_version: str,
        age_confirmed_at: datetime,
        language: str = "en",
    ) -> Account:
        """Open an account after the age gate and Terms; records both in the consent ledger,
        with the language the person read them in."""
        ...

    async def set_step(self, user_id: int, step: str | None, *, activate: bool = False) -> None: ...

    async def record_consent(
        self,
        user_id: int,
        purpose: Purpose,
        granted: bool,
        policy_version: str,
        *,
        language: str = "en",
    ) -> None: ...

    async def consents(self, user_id: int) -> Sequence[ConsentRecord]: ...

    # -- Amigo Plus (storage/sqlite_payments.py) ---------------------------------------------------

    async def record_payment(self, user_id: int | None, payment: NewPayment) -> bool:
        """Record a successful payment once; False when this charge was recorded before."""
        ...

    async def plus(self, user_id: int, now: datetime) -> PlusStatus | None:
        """Plus now, from the paid and unrefunded records; None when free."""
        ...

    async def set_plus_canceled(self, user_id: int, canceled: bool) -> None: ...

    async def refund_payment(self, user_id: int, telegram_charge_id: str) -> PaymentRecord | None:
        """Mark the person's paid charge refunded; None when there is no such charge of theirs."""
        ...

    async def plus_stats(self, now: datetime) -> PlusStats: ...

    async def set_language(self, user_id: int, language: str) -> None: ...

    async def language_of(self, user_id: int) -> str:
        """The language the person reads the bot in ('en' for no such account)."""
        ...

    async def set_companion(self, user_id: int, companion: Companion) -> None: ...

    async def companion(self, user_id: int) -> Companion | None: ...

    async def start_conversation(self, user_id: int) -> int: ...

    async def add_message(
        self, user_id: int, conversation_id: int, role: Role, text: str
    ) -> int: ...

    async def recent_messages(
        self, user_id: int, conversation_id: int, limit: int, *, through: int | None = None
    ) -> Sequence[ChatMessage]:
        """Newest first, only this user's messages of this conversation, each reply right after
        the message it answers (a reply stored late by recovery still sits in its place). With
        `through`, the window ends with that message: nothing written after it, nor its reply."""
        ...

    # -- accepted, not yet answered (storage/sqlite_pipeline.py) ---------------------------------
    # A companion chat message is stored "accepted" with a claim that expires (`claimed_until`),
    # and becomes "answered" once its reply is stored and sent. The claim is a lease, not an
    # in-process flag: PostgreSQL implements `claim_unanswered` as an UPDATE of a row picked with
    # SELECT ... FOR UPDATE SKIP LOCKED, so several workers never answer the same message.

    async def accept_message(
        self,
        user_id: int,
        conversation_id: int,
        text: str,
        *,
        claimed_until: datetime,
        update_id: int | None = None,
    ) -> int:
        """Store a user's chat message as accepted, claimed by the caller until `claimed_until`;
        AlreadyAccepted when the Telegram update `update_id` was accepted before."""
        ...

    async def add_reply(
        self, user_id: int, conversation_id: int, answers: int, text: str
    ) -> int | None:
        """Store the reply to message `answers` of that user and conversation; its id, or None
        when that message is gone (deleted while the reply was written): then nothing is stored.
        At most one reply per message: a second one raises, so recovery can never store an
        answer twice."""
        ...

    async def mark_answered(self, message_id: int) -> None:
        """The reply to `message_id` (or the notice standing for it) was sent: it, and every
        earlier accepted message of its conversation, is answered. A reply answers all its window
        held up to that message: a burst, or a message whose own answer broke off."""
        ...

    async def unanswered(self, expired_by: datetime, limit: int = 1000) -> list[tuple[int, int]]:
        """(message id, user id) of accepted messages of active accounts (Terms not withdrawn)
        whose claim ended before `expired_by`, oldest first."""
        ...

    async def claim_unanswered(
        self, message_id: int, *, expired_by: datetime, until: datetime
    ) -> Unanswered | None:
        """Take the claim on an accepted message whose claim ended before `expired_by`, until
        `until`; None when it was answered or is claimed by someone else meanwhile."""
        ...

    async def is_minor_marked(self, tg_id: int) -> bool: ...

    async def mark_minor(self, tg_id: int) -> None: ...

    async def first_group_notice(self, chat_id: int) -> bool:
        """True the first time a group is seen, so the bot explains itself there only once."""
        ...

    # -- privacy rights --------------------------------------------------------------------------

    async def set_awaiting(self, user_id: int, what: str | None) -> None: ...

    async def set_policy_version(self, user_id: int, version: str) -> None: ...

    async def set_autodelete(self, user_id: int, days: int | None) -> None: ...

    async def mark_exported(self, user_id: int) -> None: ...

    async def profile(self, user_id: int) -> Profile: ...

    async def set_profile_field(self, user_id: int, field: str, value: str | None) -> None: ...

    async def nominee(self, user_id: int) -> Nominee | None: ...

    async def set_nominee(self, user_id: int, name: str, contact: str) -> None: ...

    async def remove_nominee(self, user_id: int) -> bool: ...

    async def open_grievance(
        self,
        user_id: int,
        text: str,
        *,
        ack_within: timedelta,
        resolve_within: timedelta,
        category: str = "general",
    ) -> Grievance: ...

    async def grievances(self, user_id: int) -> Sequence[Grievance]: ...

    async def inventory(self, user_id: int) -> Inventory: ...

    async def conversations(self, user_id: int) -> Sequence[ConversationInfo]: ...

    def iter_messages(
        self, user_id: int, conversation_id: int, *, batch: int = 500
    ) -> AsyncIterator[ChatMessage]: ...

    async def staff_accesses(self, user_id: int) -> Sequence[StaffAccess]: ...

    async def record_staff_access(self, user_id: int, role: str, reason_category: str) -> None: ...

    async def safety_records(self, user_id: int) -> Sequence[SafetyRecord]: ...

    async def payment_records(self, user_id: int) -> Sequence[PaymentRecord]: ...

    async def messages_due_for_autodelete(self, now: datetime, limit: int = 1000) -> list[int]: ...

    async def newest_message_id(self, user_id: int, conversation_id: int | None = None) -> int:
        """The highest id of this user's messages (in one conversation); 0 when there are none.
        A deletion confirmation carries it, so it deletes only what existed when it was shown."""
        ...

    async def delete_conversation(
        self,
        user_id: int,
        conversation_id: int,
        *,
        through_message: int | None = None,
        shown_at: datetime | None = None,
    ) -> Deleted | None:
        """None when that conversation is not (or no longer) this user's. With `through_message`
        and `shown_at`, only messages up to that id written up to that time go, and the
        conversation itself only when nothing newer is left in it."""
        ...

    async def delete_history(
        self,
        user_id: int,
        *,
        through_message: int | None = None,
        through_conversation: int | None = None,
        shown_at: datetime | None = None,
    ) -> Deleted:
        """Every conversation and message, or with the bounds only those that existed when the
        confirmation was shown (as for `delete_conversation`)."""
        ...

    async def delete_account(self, user_id: int) -> Deleted:
        """Erase the account at once: its consent ledger is kept as proof (consent_proofs), the
        key destroyed, the rest deleted; both written to the processing log."""
        ...

    async def terms_withdrawn_at(self, user_id: int) -> datetime | None:
        """When the person withdrew their consent to the Terms (the first time since they last
        gave it); None while it stands. Set and cleared by `record_consent` for the Terms; the
        account is erased `closed_account_grace_days` after it (`purge_closed_accounts`)."""
        ...

    # -- proof of consent and the processing log (storage/sqlite_records.py) ---------------------

    async def record_event(
        self,
        event: str,
        *,
        account_id: int | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        """Append a security-relevant event (one of sqlite_records.EVENTS) to the processing log:
        ids and counts only. Storage writes most events itself; this is for the rest (backups,
        retention runs)."""
        ...

    async def processing_log(
        self, *, since: datetime | None = None, limit: int = 1000
    ) -> list[ProcessingEvent]: ...

    async def consent_proofs(self, tg_id: int) -> list[ConsentProof]:
        """The proof of consent kept for erased accounts of this Telegram user, oldest first."""
        ...

    async def purge_consent_proofs(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_processing_log(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    # -- retention (storage/sqlite_retention.py) -------------------------------------------------
    # Each purge deletes in batches of `batch` rows, one short transaction each, skips users under
    # an active legal hold, and returns how many it removed (or, with dry_run, would remove).

    async def checkpoint(self) -> None:
        """Fold the write-ahead log into the database and truncate it (after a purge)."""
        ...

    async def place_hold(self, user_id: int, reason: str) -> int: ...

    async def holds(self, *, include_released: bool = False) -> list[Hold]: ...

    async def release_hold(self, user_id: int) -> int: ...

    async def purge_closed_accounts(
        self, now: datetime, *, grace_days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_payment_records(
        self, now: datetime, *, years: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_safety_records(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_audit_log(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_autodeleted_messages(
        self, now: datetime, *, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_minor_markers(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def start_job_run(
        self, job: str, started_at: datetime, *, dry_run: bool = False
    ) -> int: ...

    async def finish_job_run(
        self, run_id: int, finished_at: datetime, removed: Mapping[str, int]
    ) -> None: ...

    async def last_runs(self) -> list[JobRun]:
        """The newest run of each job, so the operator sees when each last ran and what it did."""
        ...

    async def last_finished_run(self, job: str) -> JobRun | None: ...

    # -- safety and abuse ------------------------------------------------------------------------

    async def first_delivery(self, update_id: int) -> bool: ...

    async def take_lease(self, name: str, holder: str, until: datetime) -> bool:
        """Hold `name` for `holder` until `until`: True when it was free, expired, or already
        `holder`'s (then extended). Shared by every worker on the database: 'reply:<user id>'
        answers a person's messages, 'job:<name>' runs a scheduled job once across workers."""
        ...

    async def release_lease(self, name: str, holder: str) -> None:
        """Give up `name` if `holder` still holds it."""
        ...

    # -- shared per-person limits (storage/sqlite_limits.py, handlers/limits.py) -----------------
    # Shared by every worker on the database; each call is one atomic statement. `key` is a keyed
    # pseudonym the caller gives, `digest` a keyed digest of a text: never an id or a text itself.

    async def take_limit_token(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> tuple[float, int, bool]:
        """Refill bucket `key` (new: full, `burst` tokens) at `per_second` since its last take,
        then take a token if there is one (refusals reset) or count a refusal. Returns the tokens
        left, the refusals since the last admitted take (0: admitted), and whether this refusal
        flagged the flood (`can_flag` and `burst` refusals reached; once until the next admit)."""
        ...

    async def count_repeat(self, user_id: int, digest: bytes) -> int:
        """Times in a row the person sent a text with this digest, this one included."""
        ...

    async def purge_idle_limits(self, before: datetime) -> int:
        """Forget buckets untouched since `before` (refilled by then: nothing changes). How many."""
        ...

    async def unanswered_of(self, user_id: int, *, after: int = 0) -> list[int]:
        """Ids of the person's accepted (unanswered) messages newer than `after`, oldest first,
        whoever holds their claims (the caller holds the person's 'reply:' lease)."""
        ...

    async def delivered(self, update_id: int) -> bool:
        """Whether `first_delivery` recorded this update: it was handled to its end before."""
        ...

    async def reply_cursor(self, user_id: int) -> int:
        """The newest of the person's messages whose answer was attempted, 0 for none (several
        workers: an accepted message at or before it failed and is covered by the next reply)."""
        ...

    async def set_reply_cursor(self, user_id: int, message_id: int) -> None:
        """Move the person's reply cursor forward to `message_id`; never back."""
        ...

    async def flag(
        self, user_id: int, category: str, severity: str, message_id: int | None = None
    ) -> int: ...

    async def set_banned(self, user_id: int, banned: bool) -> None: ...

    async def count_today(self, user_id: int, day: str) -> int: ...

    async def disclosed_at(self, user_id: int) -> datetime | None: ...

    async def mark_disclosed(self, user_id: int) -> None: ...

    # -- operator (admin) ------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, detail: str = "") -> int: ...

    async def audit_tail(self, n: int) -> list[AuditEntry]: ...

    async def verify_audit(self) -> tuple[int, int | None]: ...

    async def stats(self, now: datetime) -> Stats: ...

    async def open_flags(self, limit: int = 50) -> list[Flag]: ...

    async def flag_by_id(self, flag_id: int) -> Flag | None: ...

    async def mark_reviewed(self, flag_id: int) -> None: ...

    async def messages_around(
        self, user_id: int, message_id: int | None, around: int = 2
    ) -> list[ChatMessage]: ...

    async def last_review(self, user_id: int) -> datetime | None: ...

    async def account_status(self, user_id: int) -> Status | None: ...

    async def chat_of(self, user_id: int) -> int | None: ...

    async def mark_minor_account(self, user_id: int) -> None: ...

    # -- training export (storage/sqlite_training.py) --------------------------------------------

    async def consenting_users(self) -> list[int]:
        """Active accounts whose newest model_improvement (and Terms) consent row is granted."""
        ...

    async def consents_to_training(self, user_id: int) -> bool: ...

    async def flagged_conversations(self, user_id: int) -> set[int]:
        """Conversations with a message the live safety checks flagged."""
        ...

    # -- operator: grievances, broadcasts, policy versions (storage/sqlite_operator.py) ----------

    async def grievance_queue(self, limit: int = 50) -> list[StaffGrievance]:
        """Open and acknowledged grievances, soonest resolve-due first."""
        ...

    async def grievance_by_id(self, grievance_id: int) -> StaffGrievance | None: ...

    async def acknowledge_grievance(self, grievance_id: int) -> bool: ...

    async def resolve_grievance(self, grievance_id: int) -> bool: ...

    async def create_broadcast(
        self, kind: BroadcastKind, body: str, targets: Sequence[int] = ()
    ) -> int: ...

    async def unfinished_broadcasts(self) -> list[Broadcast]: ...

    async def broadcast_recipients(
        self, broadcast_id: int, kind: BroadcastKind, limit: int
    ) -> list[int]:
        """The next users due this broadcast and not yet claimed for it, by id."""
        ...

    async def count_broadcast_recipients(self, broadcast_id: int, kind: BroadcastKind) -> int: ...

    async def claim_delivery(self, broadcast_id: int, user_id: int) -> bool:
        """Record a delivery before it is sent (at-most-once); False if already claimed."""
        ...

    async def broadcast_deliveries(self, broadcast_id: int) -> int: ...

    async def finish_broadcast(self, broadcast_id: int) -> None: ...

    async def publish_policy(
        self, version: str, date: str, material: bool, summary: str
    ) -> bool: ...

    async def policy_versions(self) -> list[PolicyVersion]:
        """Every published policy version, newest first."""
        ...

    async def purge_processed_updates(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_broadcast_records(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    async def purge_job_runs(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int: ...

    # -- personal data breaches (storage/sqlite_breach.py) ---------------------------------------

    async def create_breach(self, discovered_at: datetime, notice: Mapping[str, str]) -> int:
        """A new breach record with its notice's fields; returns its id."""
        ...

    async def breach(self, breach_id: int | None = None) -> Breach | None:
        """That breach, or the newest one when `breach_id` is None."""
        ...

    async def update_breach(
        self, breach_id: int, notice: Mapping[str, str], discovered_at: datetime | None = None
    ) -> None:
        """Replace the notice's fields and, when given, when the breach became known."""
        ...

    async def record_breach_intimation(self, breach_id: int) -> bool:
        """When the initial intimation to the Board was made (now); False if already recorded."""
        ...

    async def record_breach_report(self, breach_id: int, report: Mapping[str, str]) -> None:
        """The detailed report's fields (replacing any recorded before)."""
        ...

    async def file_breach_report(self, breach_id: int) -> bool:
        """When the detailed report was made to the Board (now); False if already recorded."""
        ...

    async def create_breach_notice(
        self, breach_id: int, body: str, targets: Sequence[int] = ()
    ) -> int:
        """A breach broadcast carrying this breach's notice, linked to it; returns its id."""
        ...

    async def breach_notices(self, breach_id: int) -> list[BreachNotice]:
        """Every sending of this breach's notice, oldest first, with its counts."""
        ...

    async def breaches_awaiting_report(self) -> list[Breach]:
        """Breaches whose detailed report has not been made to the Board, oldest first."""
        ...

    async def claim_breach_reminder(self, breach_id: int, mark: str) -> bool:
        """Record a reminder before it is sent (each once); False if already claimed."""
        ...

    # -- requests that do not come from the chat (handlers/admin_requests.py) --------------------

    async def account_by_id(self, user_id: int) -> Account | None:
        """The account with this internal id (u34), whatever its status."""
        ...

    async def lift_minor_marker(self, tg_id: int) -> bool:
        """Remove the under-18 marker of this Telegram account (after an operator's review), so
        its age gate may be passed again; False when there was none."""
        ...

    # -- memory (handlers/memory.py) ---------------------------------------------------------------
    # Every memory and summary is sealed under the person's data key, names its source
    # conversation and goes with it: deleting a conversation, all history or the account, and
    # retention and /autodelete, delete what was derived from it. Never in the training export.

    async def memories(self, user_id: int) -> list[Memory]:
        """Everything remembered about the person, oldest first (as /memory numbers them)."""
        ...

    async def add_memory(
        self, user_id: int, text: str, *, conversation_id: int | None, manual: bool
    ) -> int:
        """Remember `text`; its id."""
        ...

    async def update_memory(self, user_id: int, memory_id: int, text: str) -> bool:
        """Replace the text of one of the person's memories (a correction); False if none."""
        ...

    async def forget_memory(self, user_id: int, memory_id: int) -> bool:
        """Delete one of the person's memories; False if there was none."""
        ...

    async def forget_memories(self, user_id: int) -> int:
        """Delete all the person's memories and conversation summaries; how many memories."""
        ...

    async def mark_memories_used(self, user_id: int, memory_ids: Sequence[int]) -> None:
        """These memories went into a request: their use count and last use move on."""
        ...

    async def memory_version(self, user_id: int) -> tuple[int, int, str | None]:
        """(how many, the highest id, the newest updated_at) of the person's memories, from
        indexes alone: it changes whenever a memory is added, corrected or deleted (not when one
        is used), so a cache of opened memories can be checked before every reply."""
        ...

    async def memory_enabled(self, user_id: int) -> bool:
        """Memory is on unless the person switched it off (/memory off)."""
        ...

    async def set_memory_enabled(self, user_id: int, enabled: bool) -> None: ...

    async def memory_cursor(self, user_id: int) -> int:
        """The id of the newest message that extraction has read (0: none yet)."""
        ...

    async def set_memory_cursor(self, user_id: int, message_id: int) -> None: ...

    async def messages_after(
        self, user_id: int, after_id: int, limit: int
    ) -> list[tuple[int, ChatMessage]]:
        """(conversation id, message) of the person's messages (both roles, every
        conversation) with an id above `after_id`, oldest first, at most `limit`; what
        extraction reads next."""
        ...

    async def set_summary(self, user_id: int, conversation_id: int, text: str) -> None:
        """Store (or replace) the summary of one of the person's conversations."""
        ...

    async def summaries(self, user_id: int, limit: int) -> list[Summary]:
        """The person's newest conversation summaries, newest first."""
        ...

    async def memory_counts(self, user_id: int) -> tuple[int, int]:
        """(memories, summaries) held for the person, for /mydata."""
        ...

    async def memory_idle_users(self, quiet_since: datetime, limit: int) -> list[int]:
        """Active accounts with memory on whose newest message is older than `quiet_since` and
        not yet read by extraction (above their memory cursor): a conversation gone quiet with
        unread messages, found the same after a restart. By id, at most `limit`."""
        ...

    async def flagged_message_ids(self, user_id: int, after_id: int) -> set[int]:
        """Ids above `after_id` of the person's messages that raised a distress signal when they
        arrived (the built-in detector or the moderation endpoint; not an under-18 signal):
        never sent for extraction."""
        ...
