"""SQLite plumbing (SqlBase, storage/sql_base.py, holds what PostgreSQL shares): one writer connection for every write, one reader for queries (WAL lets them overlap).

The database file is created owner-only; WAL, foreign keys, secure_delete and a busy timeout are set on
every connection. Sealed columns go through the Vault with each user's own data key. Every statement is
run to its end in one job on its connection's thread, so none is left open across an await (see _read).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from core.clock import Clock
from storage.crypto import Vault
from storage.migrations import MIGRATIONS
from storage.sql_base import Params, SqlBase, dt, next_id, ts

log = logging.getLogger("amigo.storage")


class SqliteBase(SqlBase):
    """Connections, migrations, transactions and sealing; the queries live in the subclasses."""

    def __init__(
        self, path: str | Path, vault: Vault, *, clock: Clock | None = None, busy_ms: int = 5000
    ) -> None:
        super().__init__(vault, clock=clock)
        self.path = Path(path)
        self.keys_path = self.path.with_name(self.path.stem + "-keys" + self.path.suffix)
        self._busy_ms = busy_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        self._create_file()
        try:
            self._writer = await self._connect()
            await self._migrate()
            await self._check_master_key()
            await self._raise_high_water()
            self._reader = await self._connect()
            await self._reader.execute_fetchall("PRAGMA query_only = ON")
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
        for path in (self.path, self.keys_path):
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.chmod(path, 0o600)

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # The wrapped data keys live in their own file, never in a backup of the main one (B1).
        await conn.execute("ATTACH DATABASE ? AS keys", (str(self.keys_path),))
        for pragma in (
            "journal_mode = WAL",
            "keys.journal_mode = WAL",
            "foreign_keys = ON",
            "secure_delete = ON",
            "keys.secure_delete = ON",
            f"busy_timeout = {self._busy_ms}",
            "synchronous = NORMAL",
        ):
            # Fetched to the end: a pragma that answers with a row would otherwise leave its
            # statement, and so a read snapshot, open until the cursor happened to be collected.
            await conn.execute_fetchall(f"PRAGMA {pragma}")
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
                code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
                for statement in code.split(";"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (version, ts(self._clock.now()))
                )
            log.info("storage.migrated", extra={"version": version})

    async def _raise_high_water(self) -> None:
        """After a restore the key file is newer than the database: never hand out an id it holds."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE id_high_water SET last = max(last,"
                " (SELECT coalesce(max(user_id), 0) FROM keys.user_keys)) WHERE name = 'users'"
            )

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

    async def _write(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """One write statement, atomic on its own (SQLite's autocommit), through the one writer.

        The same guarantees as a `transaction()` holding that statement, in one trip to the
        writer's thread instead of three (BEGIN, the statement, COMMIT): the message path makes
        several such writes a reply (docs/benchmarks.md). Its cursor is finished: read
        `rowcount`; for a statement that returns rows (RETURNING id), use `_write_rows`."""
        if self._writer is None:
            raise RuntimeError("storage is not open")
        async with self._write_lock:
            return await self._writer.execute(sql, params)

    async def _write_rows(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """`_write` for a statement with RETURNING: run and fetched to its end in one trip, so
        the statement, and with it the write, is finished (committed) when this returns."""
        if self._writer is None:
            raise RuntimeError("storage is not open")
        async with self._write_lock:
            return list(await self._writer.execute_fetchall(sql, params))

    async def checkpoint(self) -> None:
        """Fold the WAL into the database and truncate it, so deleted pages leave no copy behind."""
        if self._writer is not None:
            async with self._write_lock:
                await self._writer.execute("PRAGMA main.wal_checkpoint(TRUNCATE)")
                await self._writer.execute("PRAGMA keys.wal_checkpoint(TRUNCATE)")

    async def _read(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """One query, executed and fetched to its end in a single job on the reader's thread.

        SQLite keeps a connection's read transaction, and so its WAL snapshot, open while any of its
        statements is unfinished, and a statement started meanwhile reads that same snapshot. With
        `execute` and `fetchall` as two awaits, another task's query could start in between and miss
        a commit that task had awaited: the chat window read right after storing a message lacked
        it, and the model answered the previous message. Now no statement outlives a call, so every
        read sees every commit that finished before it was called."""
        if self._reader is None:
            raise RuntimeError("storage is not open")
        return list(await self._reader.execute_fetchall(sql, params))


__all__ = ["SqliteBase", "dt", "next_id", "ts"]
