"""The implementation of storage.base.Repository: accounts, consent, companion and chat, in SQL both
backends run (SQLite as written, PostgreSQL through storage/pg_dialect.py).

Privacy-rights queries (inventory, export, deletion...) are in storage/sqlite_rights.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import (
    Account,
    ChatMessage,
    Companion,
    ConsentRecord,
    Purpose,
    Role,
    Status,
)
from storage.sql_base import dt as _dt
from storage.sql_base import inserted_id, next_id
from storage.sql_base import ts as _ts
from storage.sqlite_admin import AdminQueries
from storage.sqlite_base import SqliteBase
from storage.sqlite_breach import BreachQueries
from storage.sqlite_leases import LeaseQueries
from storage.sqlite_limits import LimitQueries
from storage.sqlite_memory import MemoryQueries
from storage.sqlite_memory_jobs import MemoryJobQueries
from storage.sqlite_operator import OperatorQueries
from storage.sqlite_payments import PaymentQueries
from storage.sqlite_pipeline import PipelineQueries
from storage.sqlite_records import RecordsQueries, log_event
from storage.sqlite_requests import RequestQueries
from storage.sqlite_rights import RightsQueries
from storage.sqlite_safety import SafetyQueries
from storage.sqlite_training import TrainingQueries

log = logging.getLogger("amigo.storage")


class SqlRepository(
    PipelineQueries,
    MemoryQueries,
    MemoryJobQueries,
    TrainingQueries,
    OperatorQueries,
    AdminQueries,
    SafetyQueries,
    RightsQueries,
    BreachQueries,
    RequestQueries,
    RecordsQueries,
    LeaseQueries,
    LimitQueries,
    PaymentQueries,
):
    """Every query of storage.base.Repository, for either backend: accounts, consent ledger,
    companion and conversations here, the rest in the mixins. Built as SqliteRepository or
    storage.postgres.PostgresRepository; code that takes either names this class."""

    # -- accounts --------------------------------------------------------------------------------

    async def find_account(self, tg_id: int) -> Account | None:
        rows = await self._read(
            f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE tg_ref = ?",
            (self._vault.pseudonym("tg", tg_id),),
        )
        return _account(rows[0]) if rows else None

    async def account_by_id(self, user_id: int) -> Account | None:
        rows = await self._read(f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return _account(rows[0]) if rows else None

    async def create_account(
        self,
        tg_id: int,
        chat_id: int,
        *,
        policy_version: str,
        age_confirmed_at: datetime,
        language: str = "en",
    ) -> Account:
        now = self._clock.now()
        data_key = self._vault.new_data_key()
        async with self.transaction() as db:
            user_id = await next_id(db, "users")
            await db.execute(
                "INSERT INTO users (id, tg_ref, chat_enc, status, step, policy_version,"
                " age_confirmed_at, created_at, language) VALUES (?, ?, x'', ?, NULL, ?, ?, ?, ?)",
                (
                    user_id,
                    self._vault.pseudonym("tg", tg_id),
                    Status.ONBOARDING,
                    policy_version,
                    _ts(age_confirmed_at),
                    _ts(now),
                    language,
                ),
            )
            await db.execute(
                "INSERT INTO keys.user_keys VALUES (?, ?)",
                (user_id, self._vault.wrap(data_key, user_id)),
            )
            self._keys[user_id] = data_key
            chat_enc = self._vault.seal(data_key, str(chat_id), "users.chat", user_id)
            await db.execute("UPDATE users SET chat_enc = ? WHERE id = ?", (chat_enc, user_id))
            await db.execute("INSERT INTO profiles (user_id) VALUES (?)", (user_id,))
            for purpose, at in ((Purpose.AGE_18_PLUS, age_confirmed_at), (Purpose.TERMS, now)):
                await db.execute(
                    "INSERT INTO consents (user_id, purpose, granted, policy_version, created_at,"
                    " language) VALUES (?, ?, 1, ?, ?, ?)",
                    (user_id, purpose, policy_version, _ts(at), language),
                )
            await log_event(db, now, "account.created", user_id)
        log.info("account.created", extra={"uid": user_id})
        account = await self.find_account(tg_id)
        assert account is not None
        return account

    async def set_step(self, user_id: int, step: str | None, *, activate: bool = False) -> None:
        async with self.transaction() as db:
            if activate:
                await db.execute(
                    "UPDATE users SET step = ?, status = ? WHERE id = ?",
                    (step, Status.ACTIVE, user_id),
                )
            else:
                await db.execute("UPDATE users SET step = ? WHERE id = ?", (step, user_id))

    async def record_consent(
        self,
        user_id: int,
        purpose: Purpose,
        granted: bool,
        policy_version: str,
        *,
        language: str = "en",
    ) -> None:
        """A ledger row, with the language of the screen it was given on. For the Terms it also
        starts (withdrawn: the first time only, so the erasure date told stays put) or cancels (given again) the erasure after the grace."""
        now = _ts(self._clock.now())
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO consents (user_id, purpose, granted, policy_version, created_at,"
                " language) VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, purpose, int(granted), policy_version, now, language),
            )
            if purpose == Purpose.TERMS:
                await db.execute(
                    "UPDATE users SET terms_withdrawn_at ="
                    " CASE WHEN ? = 1 THEN NULL ELSE coalesce(terms_withdrawn_at, ?) END WHERE id = ?",
                    (int(granted), now, user_id),
                )

    async def consents(self, user_id: int) -> Sequence[ConsentRecord]:
        rows = await self._read(
            "SELECT purpose, granted, policy_version, created_at, language FROM consents"
            " WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [ConsentRecord(Purpose(r[0]), bool(r[1]), r[2], _dt(r[3]), r[4]) for r in rows]

    async def set_language(self, user_id: int, language: str) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))

    async def language_of(self, user_id: int) -> str:
        rows = await self._read("SELECT language FROM users WHERE id = ?", (user_id,))
        return str(rows[0][0]) if rows else "en"

    # -- companion -------------------------------------------------------------------------------

    async def set_companion(self, user_id: int, companion: Companion) -> None:
        sealed = [
            await self._seal(user_id, f"companions.{field}", value)
            for field, value in (
                ("name", companion.name),
                ("gender", companion.gender),
                ("tone", companion.tone),
            )
        ]
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO companions (user_id, name_enc, gender_enc, tone_enc)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
                " name_enc = excluded.name_enc, gender_enc = excluded.gender_enc,"
                " tone_enc = excluded.tone_enc",
                (user_id, *sealed),
            )

    async def companion(self, user_id: int) -> Companion | None:
        rows = await self._read(
            "SELECT name_enc, gender_enc, tone_enc FROM companions WHERE user_id = ?", (user_id,)
        )
        if not rows:
            return None
        name, gender, tone = [
            await self._open(user_id, f"companions.{field}", rows[0][i])
            for i, field in enumerate(("name", "gender", "tone"))
        ]
        return Companion(name=name, gender=gender, tone=tone)

    # -- conversations ---------------------------------------------------------------------------

    async def start_conversation(self, user_id: int) -> int:
        async with self.transaction() as db:
            conversation_id = await next_id(db, "conversations")
            await db.execute(
                "INSERT INTO conversations (id, user_id, started_at) VALUES (?, ?, ?)",
                (conversation_id, user_id, _ts(self._clock.now())),
            )
            await db.execute(
                "UPDATE users SET conversation_id = ? WHERE id = ?", (conversation_id, user_id)
            )
        return conversation_id

    async def add_message(self, user_id: int, conversation_id: int, role: Role, text: str) -> int:
        body = await self._seal(user_id, "messages.body", text)
        async with self.transaction() as db:
            message_id = await inserted_id(
                db,
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
                " SELECT id, user_id, ?, ?, ? FROM conversations WHERE id = ? AND user_id = ?"
                " RETURNING id",
                (role, body, _ts(self._clock.now()), conversation_id, user_id),
            )
            if message_id is None:
                raise LookupError(f"conversation {conversation_id} is not user {user_id}'s")
            return message_id

    async def recent_messages(
        self, user_id: int, conversation_id: int, limit: int, *, through: int | None = None
    ) -> Sequence[ChatMessage]:
        # Ordered as the messages_thread index (migration 9): a reply sits at its message's place.
        rows = await self._read(
            "SELECT id, role, body_enc, created_at FROM messages"
            " WHERE conversation_id = :c AND user_id = :u"
            # `:through IS NULL` last: PostgreSQL types the parameter at its first comparison.
            " AND (coalesce(reply_to, id) < :through OR id = :through OR :through IS NULL)"
            " ORDER BY coalesce(reply_to, id) DESC, id DESC LIMIT :limit",
            {"c": conversation_id, "u": user_id, "through": through, "limit": limit},
        )
        return [
            ChatMessage(r[0], r[1], await self._open(user_id, "messages.body", r[2]), _dt(r[3]))
            for r in rows
        ]

    # -- markers ---------------------------------------------------------------------------------

    async def is_minor_marked(self, tg_id: int) -> bool:
        rows = await self._read(
            "SELECT 1 FROM minor_markers WHERE tg_ref = ?", (self._vault.pseudonym("tg", tg_id),)
        )
        return bool(rows)

    async def mark_minor(self, tg_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO minor_markers VALUES (?, ?)",
                (self._vault.pseudonym("tg", tg_id), _ts(self._clock.now())),
            )

    async def first_group_notice(self, chat_id: int) -> bool:
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO group_notices VALUES (?, ?)",
                (self._vault.pseudonym("chat", chat_id), _ts(self._clock.now())),
            )
            return cur.rowcount == 1


_ACCOUNT_COLUMNS = (
    "id, status, step, policy_version, conversation_id, created_at,"
    " awaiting, autodelete_days, last_export_at, language, plus_canceled"
)


def _account(row: Any) -> Account:
    return Account(
        id=row[0],
        status=Status(row[1]),
        step=row[2],
        policy_version=row[3],
        conversation_id=row[4],
        created_at=_dt(row[5]),
        awaiting=row[6],
        autodelete_days=row[7],
        last_export_at=_dt(row[8]) if row[8] else None,
        language=row[9],
        plus_canceled=bool(row[10]),
    )


class SqliteRepository(SqlRepository, SqliteBase):
    """The embedded backend: one SQLite file, and its key file beside it."""
