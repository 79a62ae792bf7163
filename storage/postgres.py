"""PostgreSQL plumbing for the same query mixins as SQLite: an asyncpg pool, the keys in their own
schema, migrations under an advisory lock, and transactions that behave as SQLite's single writer.

Every statement goes through storage/pg_dialect.py. A `transaction()` holds one pooled connection
inside one PostgreSQL transaction and first takes `pg_advisory_xact_lock(_WRITE_LOCK)`: write
transactions are serialised across every worker on the database, so the mixins' read-then-write
sequences (the audit chain, the id high-water mark...) stay as correct as under SQLite's one writer.
Within a process they also queue on an asyncio lock, so waiting for the advisory lock never ties up
more than one pooled connection. Single-statement `_write` calls are atomic on their own.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from core.clock import Clock
from storage.crypto import Vault
from storage.pg_dialect import arguments, check_schema_name, rowcount, translate
from storage.pg_migrations import migrate
from storage.sql_base import Params, SqlBase, Tx, ts
from storage.sqlite import SqlRepository

log = logging.getLogger("amigo.storage")

_WRITE_LOCK = 0x616D69676F02  # pg_advisory_xact_lock key of every write transaction
_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES)\b|\bRETURNING\b", re.IGNORECASE)


@dataclass
class PgCursor:
    """The finished result of one statement, read like an aiosqlite cursor (no `lastrowid`:
    inserts that need their id say `RETURNING id`)."""

    rowcount: int
    rows: list[Any] = field(default_factory=list)

    async def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[Any]:
        return self.rows


class _Call:
    """What `PgTx.execute` returns: awaited, or used as `async with ... as cur`."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        cursor: PgCursor = yield from self._run.__await__()
        return cursor

    async def __aenter__(self) -> PgCursor:
        cursor: PgCursor = await self._run
        return cursor

    async def __aexit__(self, *exc: Any) -> None:
        return None


async def _run(conn: Any, sql: str, params: Params, keys_schema: str) -> PgCursor:
    statement = translate(sql, keys_schema)
    args = arguments(statement, params)
    if _ROWS.search(statement.sql):
        rows = await conn.fetch(statement.sql, *args)
        return PgCursor(len(rows), rows)
    return PgCursor(rowcount(await conn.execute(statement.sql, *args)))


class PgTx:
    """One asyncpg connection inside one transaction, with the aiosqlite calls the mixins use."""

    def __init__(self, conn: Any, keys_schema: str) -> None:
        self._conn = conn
        self._schema = keys_schema

    def execute(self, sql: str, parameters: Params = ()) -> _Call:
        return _Call(_run(self._conn, sql, parameters, self._schema))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> None:
        statement = translate(sql, self._schema)
        batch = [arguments(statement, p) for p in parameters]
        if batch:
            await self._conn.executemany(statement.sql, batch)

    async def execute_fetchall(self, sql: str, parameters: Params = ()) -> list[Any]:
        return (await _run(self._conn, sql, parameters, self._schema)).rows


class PostgresBase(SqlBase):
    """Pool, migrations, transactions; the queries live in the mixins, shared with SQLite."""

    def __init__(
        self,
        url: str,
        vault: Vault,
        *,
        clock: Clock | None = None,
        keys_schema: str = "amigo_keys",
        pool_size: int = 10,
    ) -> None:
        super().__init__(vault, clock=clock)
        self._url = url  # may hold a password: never logged
        self._schema = check_schema_name(keys_schema)
        self._pool_size = pool_size
        self._pool: Any = None
        self._tx_lock = asyncio.Lock()

    @property
    def keys_schema(self) -> str:
        return self._schema

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._url, min_size=1, max_size=self._pool_size, statement_cache_size=1024
        )
        try:
            async with self._pool.acquire() as conn:
                version = await migrate(conn, self._schema, ts(self._clock.now()))
            await self._check_master_key()
            await self._raise_high_water()
        except BaseException:
            await self.close()
            raise
        log.info("storage.opened", extra={"backend": "postgres", "version": version})

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _raise_high_water(self) -> None:
        """A key restored from a newer dump holds ids the data may not: never hand them out."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE id_high_water SET last = max(last,"
                " (SELECT coalesce(max(user_id), 0) FROM keys.user_keys)) WHERE name = 'users'"
            )

    async def checkpoint(self) -> None:
        """Nothing to fold in: deleted rows are gone from every later read, and the keys that
        could open a copy of them (WAL, a dump) are destroyed with the account."""

    def _require(self) -> Any:
        if self._pool is None:
            raise RuntimeError("storage is not open")
        return self._pool

    # -- statements ------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        pool = self._require()
        async with self._tx_lock, pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
            yield PgTx(conn, self._schema)

    async def _write(self, sql: str, params: Params = ()) -> PgCursor:
        return await _run(self._require(), sql, params, self._schema)

    async def _write_rows(self, sql: str, params: Params = ()) -> list[Any]:
        return (await _run(self._require(), sql, params, self._schema)).rows

    async def _read(self, sql: str, params: Params = ()) -> list[Any]:
        return (await _run(self._require(), sql, params, self._schema)).rows


class PostgresRepository(PostgresBase, SqlRepository):
    """The shared backend: every worker of every host on one PostgreSQL database."""
