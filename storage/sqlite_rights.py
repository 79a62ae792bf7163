"""SQLite queries behind the privacy rights: profile, nominee, grievances, inventory, export, deletion.

Deletion is immediate and thorough: rows go with secure_delete on, the user's data key is destroyed
with the account (so old backups cannot be read), and the WAL is checkpointed and truncated so no copy
of a deleted page stays in it (B1, B2).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from storage.models import (
    AUTODELETE_CHOICES,
    PROFILE_FIELDS,
    ChatMessage,
    ConversationInfo,
    Deleted,
    Grievance,
    Inventory,
    Nominee,
    Profile,
    SafetyRecord,
    StaffAccess,
    Status,
)
from storage.sql_base import Tx, dt, inserted_id, ts
from storage.sqlite_memory import (
    delete_conversation_memories,
    delete_memories,
    rewind_memory_cursor,
)
from storage.sqlite_records import keep_consent_proof, log_event
from storage.sqlite_retention import RetentionQueries

log = logging.getLogger("amigo.storage")


class RightsQueries(RetentionQueries):
    # -- small account settings ------------------------------------------------------------------

    async def set_awaiting(self, user_id: int, what: str | None) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE users SET awaiting = ? WHERE id = ?", (what, user_id))

    async def set_policy_version(self, user_id: int, version: str) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE users SET policy_version = ? WHERE id = ?", (version, user_id))

    async def set_autodelete(self, user_id: int, days: int | None) -> None:
        if days is not None and days not in AUTODELETE_CHOICES:
            raise ValueError(f"autodelete must be one of {AUTODELETE_CHOICES}")
        async with self.transaction() as db:
            await db.execute("UPDATE users SET autodelete_days = ? WHERE id = ?", (days, user_id))

    async def mark_exported(self, user_id: int) -> None:
        now = self._clock.now()
        async with self.transaction() as db:
            await db.execute("UPDATE users SET last_export_at = ? WHERE id = ?", (ts(now), user_id))
            await log_event(db, now, "export.sent", user_id)

    async def terms_withdrawn_at(self, user_id: int) -> datetime | None:
        rows = await self._read("SELECT terms_withdrawn_at FROM users WHERE id = ?", (user_id,))
        return dt(rows[0][0]) if rows and rows[0][0] else None

    # -- profile and nominee ---------------------------------------------------------------------

    async def profile(self, user_id: int) -> Profile:
        rows = await self._read(
            f"SELECT {', '.join(f'{f}_enc' for f in PROFILE_FIELDS)} FROM profiles WHERE user_id = ?",
            (user_id,),
        )
        if not rows:
            return Profile()
        values = [
            await self._open(user_id, f"profiles.{field}", rows[0][i]) if rows[0][i] else None
            for i, field in enumerate(PROFILE_FIELDS)
        ]
        return Profile(*values)

    async def set_profile_field(self, user_id: int, field: str, value: str | None) -> None:
        if field not in PROFILE_FIELDS:
            raise ValueError(f"no profile field {field!r}")
        sealed = await self._seal(user_id, f"profiles.{field}", value) if value else None
        async with self.transaction() as db:
            await db.execute(
                f"UPDATE profiles SET {field}_enc = ? WHERE user_id = ?", (sealed, user_id)
            )

    async def nominee(self, user_id: int) -> Nominee | None:
        rows = await self._read(
            "SELECT name_enc, contact_enc, updated_at FROM nominees WHERE user_id = ?", (user_id,)
        )
        if not rows:
            return None
        name = await self._open(user_id, "nominees.name", rows[0][0])
        contact = await self._open(user_id, "nominees.contact", rows[0][1])
        return Nominee(name, contact, dt(rows[0][2]))

    async def set_nominee(self, user_id: int, name: str, contact: str) -> None:
        sealed_name = await self._seal(user_id, "nominees.name", name)
        sealed_contact = await self._seal(user_id, "nominees.contact", contact)
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO nominees VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
                " name_enc = excluded.name_enc, contact_enc = excluded.contact_enc,"
                " updated_at = excluded.updated_at",
                (user_id, sealed_name, sealed_contact, ts(self._clock.now())),
            )

    async def remove_nominee(self, user_id: int) -> bool:
        async with self.transaction() as db:
            cur = await db.execute("DELETE FROM nominees WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0

    # -- grievances ------------------------------------------------------------------------------

    async def open_grievance(
        self,
        user_id: int,
        text: str,
        *,
        ack_within: timedelta,
        resolve_within: timedelta,
        category: str = "general",
    ) -> Grievance:
        now = self._clock.now()
        body = await self._seal(user_id, "grievances.body", text)
        async with self.transaction() as db:
            grievance_id = await inserted_id(
                db,
                "INSERT INTO grievances (user_id, body_enc, created_at, ack_due, resolve_due,"
                " category) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (user_id, body, ts(now), ts(now + ack_within), ts(now + resolve_within), category),
            )
            assert grievance_id is not None
        log.info("grievance.opened", extra={"uid": user_id, "grievance": grievance_id})
        return Grievance(
            grievance_id, text, "open", now, now + ack_within, now + resolve_within, category
        )

    async def grievances(self, user_id: int) -> Sequence[Grievance]:
        rows = await self._read(
            "SELECT id, body_enc, status, created_at, ack_due, resolve_due, category"
            " FROM grievances WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [
            Grievance(
                r[0],
                await self._open(user_id, "grievances.body", r[1]),
                r[2],
                dt(r[3]),
                dt(r[4]),
                dt(r[5]),
                r[6],
            )
            for r in rows
        ]

    # -- what is held ----------------------------------------------------------------------------

    async def inventory(self, user_id: int) -> Inventory:
        def count(table: str) -> str:
            return f"(SELECT COUNT(*) FROM {table} WHERE user_id = :u)"

        rows = await self._read(
            "SELECT"
            " (SELECT count(display_name_enc) + count(gender_enc)"  # count(x): x is not NULL
            "  + count(country_enc) + count(time_zone_enc)"
            "  FROM profiles WHERE user_id = :u),"
            f" {count('companions')}, {count('conversations')}, {count('messages')},"
            f" {count('consents')}, {count('grievances')}, {count('nominees')},"
            f" {count('safety_records')}, {count('payments')}, {count('staff_accesses')}",
            {"u": user_id},
        )
        r = rows[0]
        return Inventory(
            profile_fields=r[0] or 0,
            companion=bool(r[1]),
            conversations=r[2],
            messages=r[3],
            consents=r[4],
            grievances=r[5],
            nominee=bool(r[6]),
            safety_records=r[7],
            payment_records=r[8],
            staff_accesses=r[9],
        )

    async def conversations(self, user_id: int) -> Sequence[ConversationInfo]:
        """Newest first, with how many messages each holds."""
        rows = await self._read(
            "SELECT c.id, c.started_at, COUNT(m.id), MAX(m.created_at) FROM conversations c"
            " LEFT JOIN messages m ON m.conversation_id = c.id"
            " WHERE c.user_id = ? GROUP BY c.id ORDER BY c.id DESC",
            (user_id,),
        )
        return [ConversationInfo(r[0], dt(r[1]), r[2], dt(r[3]) if r[3] else None) for r in rows]

    async def iter_messages(
        self, user_id: int, conversation_id: int, *, batch: int = 500
    ) -> AsyncIterator[ChatMessage]:
        """One conversation's messages, oldest first, read in batches so memory stays flat."""
        after = 0
        while True:
            # "+user_id" keeps SQLite on the messages_conversation index: without it, the user index
            # makes the last query of every conversation scan all later messages (quadratic export).
            rows = await self._read(
                "SELECT id, role, body_enc, created_at FROM messages"
                " WHERE conversation_id = ? AND +user_id = ? AND id > ? ORDER BY id LIMIT ?",
                (conversation_id, user_id, after, batch),
            )
            for r in rows:
                text = await self._open(user_id, "messages.body", r[2])
                yield ChatMessage(r[0], r[1], text, dt(r[3]))
            if len(rows) < batch:
                return
            after = rows[-1][0]

    async def staff_accesses(self, user_id: int) -> Sequence[StaffAccess]:
        rows = await self._read(
            "SELECT created_at, role, reason_category FROM staff_accesses"
            " WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [StaffAccess(dt(r[0]), r[1], r[2]) for r in rows]

    async def record_staff_access(self, user_id: int, role: str, reason_category: str) -> None:
        now = self._clock.now()
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO staff_accesses (user_id, role, reason_category, created_at)"
                " VALUES (?, ?, ?, ?)",
                (user_id, role, reason_category, ts(now)),
            )
            await log_event(db, now, "staff.access", user_id)

    async def safety_records(self, user_id: int) -> Sequence[SafetyRecord]:
        rows = await self._read(
            "SELECT category, severity, created_at FROM safety_records WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [SafetyRecord(r[0], r[1], dt(r[2])) for r in rows]

    async def messages_due_for_autodelete(self, now: datetime, limit: int = 1000) -> list[int]:
        """Ids of messages older than their owner's /autodelete setting (B5), oldest first."""
        due: list[int] = []
        for days in AUTODELETE_CHOICES:
            rows = await self._read(
                "SELECT m.id FROM messages m JOIN users u ON u.id = m.user_id"
                " WHERE u.autodelete_days = ? AND m.created_at < ? ORDER BY m.id LIMIT ?",
                (days, ts(now - timedelta(days=days)), limit - len(due)),
            )
            due.extend(r[0] for r in rows)
            if len(due) >= limit:
                break
        return due

    # -- deletion --------------------------------------------------------------------------------

    async def newest_message_id(self, user_id: int, conversation_id: int | None = None) -> int:
        if conversation_id is None:
            rows = await self._read("SELECT max(id) FROM messages WHERE user_id = ?", (user_id,))
        else:
            rows = await self._read(
                "SELECT max(id) FROM messages WHERE conversation_id = ? AND +user_id = ?",
                (conversation_id, user_id),
            )
        return int(rows[0][0] or 0)

    async def delete_conversation(
        self,
        user_id: int,
        conversation_id: int,
        *,
        through_message: int | None = None,
        shown_at: datetime | None = None,
    ) -> Deleted | None:
        """None when that conversation is not (or no longer) this user's."""
        shown, params = _shown(through_message, shown_at)
        async with self.transaction() as db:
            async with db.execute(
                "SELECT 1 FROM conversations WHERE id = ? AND user_id = ?",
                (conversation_id, user_id),
            ) as cur:
                if await cur.fetchone() is None:
                    return None
            cur = await db.execute(
                f"DELETE FROM messages WHERE conversation_id = ? AND user_id = ?{shown}",
                (conversation_id, user_id, *params),
            )
            messages = cur.rowcount
            cur = await db.execute(
                "DELETE FROM conversations WHERE id = ? AND user_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?)",
                (conversation_id, user_id, conversation_id),
            )
            conversations = cur.rowcount
            # What was derived from it goes too, even if a newer message kept the row.
            derived = await delete_conversation_memories(db, user_id, conversation_id)
            await _forget_deleted_current(db, user_id)
            await rewind_memory_cursor(db, user_id)
        await self.checkpoint()
        _log_deleted("deleted.conversation", user_id, messages, conversations, derived)
        return Deleted(conversations=conversations, messages=messages)

    async def delete_history(
        self,
        user_id: int,
        *,
        through_message: int | None = None,
        through_conversation: int | None = None,
        shown_at: datetime | None = None,
    ) -> Deleted:
        shown, params = _shown(through_message, shown_at)
        older = "" if through_conversation is None else " AND id <= ?"
        async with self.transaction() as db:
            cur = await db.execute(
                f"DELETE FROM messages WHERE user_id = ?{shown}", (user_id, *params)
            )
            messages = cur.rowcount
            cur = await db.execute(
                f"DELETE FROM conversations WHERE user_id = ?{older}"
                " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id)",
                (user_id, *([] if through_conversation is None else [through_conversation])),
            )
            conversations = cur.rowcount
            # All history means every memory and summary too, the ones the person added included.
            derived = await delete_memories(db, user_id)
            await _forget_deleted_current(db, user_id)
            await rewind_memory_cursor(db, user_id)
        await self.checkpoint()
        _log_deleted("deleted.history", user_id, messages, conversations, derived)
        return Deleted(conversations=conversations, messages=messages)

    async def purge_keyless_accounts(self) -> int:
        """Remove open accounts whose data key is gone: deletions that happened after a backup
        was taken, replayed when that backup is restored."""
        async with self.transaction() as db:
            cur = await db.execute(
                "DELETE FROM users WHERE status != ?"
                " AND id NOT IN (SELECT user_id FROM keys.user_keys)",
                (Status.CLOSED,),
            )
            removed = cur.rowcount
            await log_event(db, self._clock.now(), "backup.restored", counts={"accounts": removed})
        if removed:
            await self.checkpoint()
        log.info("restore.keyless_purged", extra={"accounts": removed})
        return removed

    async def delete_account(self, user_id: int) -> Deleted:
        """Destroy the data key and every personal row; keep only what retention requires.

        The account row stays as a detached tombstone (no Telegram reference, no key) until the
        retention job purges it; payment and safety records stay, detached, for their periods.
        The consent ledger is kept as proof (consent_proofs) in the same transaction.
        """
        now = self._clock.now()
        async with self.transaction() as db:
            proofs = await keep_consent_proof(db, user_id, now)
            derived = await delete_memories(db, user_id)
            cur = await db.execute("DELETE FROM messages WHERE user_id = ?", (user_id,))
            messages = cur.rowcount
            cur = await db.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
            conversations = cur.rowcount
            for table in (
                "companions",
                "profiles",
                "nominees",
                "grievances",
                "consents",
                "staff_accesses",
                "limit_repeats",  # a keyed digest of their last text (handlers/limits.py)
                "keys.user_keys",  # crypto-shredding: without it nothing of theirs can be read
            ):
                await db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            cur = await db.execute(
                "UPDATE payments SET user_id = NULL WHERE user_id = ?", (user_id,)
            )
            payments = cur.rowcount
            await db.execute(
                "UPDATE safety_records SET user_id = NULL WHERE user_id = ?", (user_id,)
            )
            await db.execute(
                "UPDATE users SET tg_ref = ?, chat_enc = x'', status = ?, step = NULL,"
                " awaiting = NULL, conversation_id = NULL, autodelete_days = NULL,"
                " terms_withdrawn_at = NULL, closed_at = ?, memory_off = 0, memory_cursor = 0"
                " WHERE id = ?",
                (secrets.token_bytes(32), Status.CLOSED, ts(now), user_id),
            )
            await log_event(db, now, "key.destroyed", user_id)
            erased = {"messages": messages, "conversations": conversations, "proofs": proofs}
            await log_event(db, now, "account.erased", user_id, erased)
        self.forget_key(user_id)
        await self.checkpoint()
        log.info(
            "deleted.account",
            extra={
                "uid": user_id,
                "messages": messages,
                "memories": derived[0],
                "summaries": derived[1],
            },
        )
        return Deleted(conversations, messages, account=True, payment_records_kept=payments)


def _shown(
    through_message: int | None, shown_at: datetime | None
) -> tuple[str, tuple[object, ...]]:
    """The condition (and its parameters) for "messages that existed when the confirmation was
    shown": up to the newest id then, and written by then. Both: SQLite hands the id of a deleted
    newest message to the next one, and a clock may stand still (or step back)."""
    sql, params = "", list[object]()
    if through_message is not None:
        sql += " AND id <= ?"
        params.append(through_message)
    if shown_at is not None:
        sql += " AND created_at <= ?"
        params.append(ts(shown_at))
    return sql, tuple(params)


async def _forget_deleted_current(db: Tx, user_id: int) -> None:
    """The current conversation pointer goes with the conversation it pointed to."""
    await db.execute(
        "UPDATE users SET conversation_id = NULL WHERE id = ? AND conversation_id IS NOT NULL"
        " AND conversation_id NOT IN (SELECT id FROM conversations WHERE user_id = ?)",
        (user_id, user_id),
    )


def _log_deleted(
    event: str, user_id: int, messages: int, conversations: int, derived: tuple[int, int]
) -> None:
    """What a deletion removed, counted (never what it said)."""
    log.info(
        event,
        extra={
            "uid": user_id,
            "messages": messages,
            "conversations": conversations,
            "memories": derived[0],
            "summaries": derived[1],
        },
    )
