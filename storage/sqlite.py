"""SQLite backend: one writer connection for every write, one reader for queries (WAL lets them overlap).

The database file is created owner-only; WAL, foreign keys, secure_delete and a busy timeout are set on
every connection. Sealed columns go through the Vault with each user's own data key.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.clock import Clock, SystemClock
from storage.crypto import MasterKeyError, Vault
from storage.migrations import MIGRATIONS
from storage.models import (
    Account,
    ChatMessage,
    Companion,
    ConsentRecord,
    Purpose,
    Role,
    Status,
)

log = logging.getLogger("amigo.storage")

_KEY_CACHE_SIZE = 2048


def _ts(value: datetime) -> str:
    return value.isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class SqliteRepository:
    """The SQLite implementation of storage.base.Repository."""

    def __init__(
        self, path: str | Path, vault: Vault, *, clock: Clock | None = None, busy_ms: int = 5000
    ) -> None:
        self.path = Path(path)
        self._vault = vault
        self._clock = clock or SystemClock()
        self._busy_ms = busy_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._keys: OrderedDict[int, bytes] = OrderedDict()

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        self._create_file()
        try:
            self._writer = await self._connect()
            await self._migrate()
            await self._check_master_key()
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await self.close()  # an open connection's thread would keep the process alive
            raise

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    def _create_file(self) -> None:
        if str(self.path) == ":memory:":
            raise ValueError("use a file: WAL and the reader connection need one")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "journal_mode = WAL",
            "foreign_keys = ON",
            "secure_delete = ON",
            f"busy_timeout = {self._busy_ms}",
            "synchronous = NORMAL",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        return conn

    async def _migrate(self) -> None:
        assert self._writer is not None
        await self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        async with self._writer.execute("SELECT MAX(version) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        current = (row[0] if row else None) or 0
        for version, sql in MIGRATIONS:
            if version <= current:
                continue
            async with self.transaction() as db:
                for statement in sql.split(";"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (version, _ts(self._clock.now()))
                )
            log.info("storage.migrated", extra={"version": version})

    async def _check_master_key(self) -> None:
        """Refuse to start with a master key other than the one this database was made with."""
        async with self.transaction() as db:
            async with db.execute("SELECT value FROM meta WHERE key = 'key_check'") as cur:
                row = await cur.fetchone()
            if row is None:
                await db.execute(
                    "INSERT INTO meta VALUES ('key_check', ?)", (self._vault.fingerprint,)
                )
            elif row[0] != self._vault.fingerprint:
                raise MasterKeyError("the master key does not match this database")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Every write goes through here: one writer, one transaction at a time."""
        if self._writer is None:
            raise RuntimeError("storage is not open")
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        if self._reader is None:
            raise RuntimeError("storage is not open")
        async with self._reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- keys ------------------------------------------------------------------------------------

    async def _data_key(self, user_id: int) -> bytes:
        if (key := self._keys.get(user_id)) is not None:
            self._keys.move_to_end(user_id)
            return key
        rows = await self._read("SELECT wrapped FROM user_keys WHERE user_id = ?", (user_id,))
        if not rows:
            raise LookupError(f"no data key for user {user_id}")
        key = self._vault.unwrap(rows[0][0], user_id)
        self._keys[user_id] = key
        if len(self._keys) > _KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return key

    async def _seal(self, user_id: int, place: str, text: str) -> bytes:
        return self._vault.seal(await self._data_key(user_id), text, place, user_id)

    async def _open(self, user_id: int, place: str, sealed: bytes) -> str:
        return self._vault.open(await self._data_key(user_id), sealed, place, user_id)

    # -- accounts --------------------------------------------------------------------------------

    async def find_account(self, tg_id: int) -> Account | None:
        rows = await self._read(
            "SELECT id, status, step, policy_version, conversation_id, created_at"
            " FROM users WHERE tg_ref = ?",
            (self._vault.pseudonym("tg", tg_id),),
        )
        return _account(rows[0]) if rows else None

    async def create_account(
        self, tg_id: int, chat_id: int, *, policy_version: str, age_confirmed_at: datetime
    ) -> Account:
        now = self._clock.now()
        data_key = self._vault.new_data_key()
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT INTO users (tg_ref, chat_enc, status, step, policy_version,"
                " age_confirmed_at, created_at) VALUES (?, x'', ?, NULL, ?, ?, ?)",
                (
                    self._vault.pseudonym("tg", tg_id),
                    Status.ONBOARDING,
                    policy_version,
                    _ts(age_confirmed_at),
                    _ts(now),
                ),
            )
            user_id = cur.lastrowid
            assert user_id is not None
            await db.execute(
                "INSERT INTO user_keys VALUES (?, ?)",
                (user_id, self._vault.wrap(data_key, user_id)),
            )
            self._keys[user_id] = data_key
            chat_enc = self._vault.seal(data_key, str(chat_id), "users.chat", user_id)
            await db.execute("UPDATE users SET chat_enc = ? WHERE id = ?", (chat_enc, user_id))
            await db.execute("INSERT INTO profiles (user_id) VALUES (?)", (user_id,))
            for purpose, at in ((Purpose.AGE_18_PLUS, age_confirmed_at), (Purpose.TERMS, now)):
                await db.execute(
                    "INSERT INTO consents (user_id, purpose, granted, policy_version, created_at)"
                    " VALUES (?, ?, 1, ?, ?)",
                    (user_id, purpose, policy_version, _ts(at)),
                )
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
        self, user_id: int, purpose: Purpose, granted: bool, policy_version: str
    ) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO consents (user_id, purpose, granted, policy_version, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, purpose, int(granted), policy_version, _ts(self._clock.now())),
            )

    async def consents(self, user_id: int) -> Sequence[ConsentRecord]:
        rows = await self._read(
            "SELECT purpose, granted, policy_version, created_at FROM consents"
            " WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [ConsentRecord(Purpose(r[0]), bool(r[1]), r[2], _dt(r[3])) for r in rows]

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
            cur = await db.execute(
                "INSERT INTO conversations (user_id, started_at) VALUES (?, ?)",
                (user_id, _ts(self._clock.now())),
            )
            conversation_id = cur.lastrowid
            assert conversation_id is not None
            await db.execute(
                "UPDATE users SET conversation_id = ? WHERE id = ?", (conversation_id, user_id)
            )
        return conversation_id

    async def add_message(self, user_id: int, conversation_id: int, role: Role, text: str) -> int:
        body = await self._seal(user_id, "messages.body", text)
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
                " SELECT id, user_id, ?, ?, ? FROM conversations WHERE id = ? AND user_id = ?",
                (role, body, _ts(self._clock.now()), conversation_id, user_id),
            )
            if cur.rowcount != 1 or cur.lastrowid is None:
                raise LookupError(f"conversation {conversation_id} is not user {user_id}'s")
            return cur.lastrowid

    async def recent_messages(
        self, user_id: int, conversation_id: int, limit: int
    ) -> Sequence[ChatMessage]:
        rows = await self._read(
            "SELECT id, role, body_enc, created_at FROM messages"
            " WHERE conversation_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
            (conversation_id, user_id, limit),
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


def _account(row: aiosqlite.Row) -> Account:
    return Account(
        id=row[0],
        status=Status(row[1]),
        step=row[2],
        policy_version=row[3],
        conversation_id=row[4],
        created_at=_dt(row[5]),
    )
