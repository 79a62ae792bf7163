"""What every SQL backend shares: sealing with per-user data keys, the key cache, and the small I/O
surface (`_read`, `_write`, `_write_rows`, `transaction`) the query mixins are written against.

The mixins (storage/sqlite_*.py) speak SQLite's SQL; SQLite runs it as written, PostgreSQL through
storage/pg_dialect.py. Inside a transaction they use the subset of aiosqlite's connection API that
`Tx` names, which storage/postgres.py offers on an asyncpg connection too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from core.clock import Clock, SystemClock
from storage.crypto import MasterKeyError, Vault

_KEY_CACHE_SIZE = 2048

Params = Sequence[Any] | Mapping[str, Any]


def ts(value: datetime) -> str:
    return value.isoformat()


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Written(Protocol):
    """What a finished write statement tells: how many rows it changed."""

    @property
    def rowcount(self) -> int: ...


class Cursor(Written, Protocol):
    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class CursorContext(Protocol):
    """`db.execute(...)`: awaited for a cursor, or used as `async with db.execute(...) as cur`."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, *exc: Any) -> Any: ...


class Tx(Protocol):
    """One connection inside one transaction (aiosqlite.Connection is one as it is)."""

    def execute(self, sql: str, parameters: Params = ...) -> CursorContext: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Any: ...

    def execute_fetchall(self, sql: str, parameters: Params = ...) -> Any: ...


_HIGH_WATER_TABLES = frozenset({"users", "conversations"})


async def next_id(db: Tx, table: str) -> int:
    """The next id for `table`, never one used before, even by a row since purged (migration 8).
    Call inside the transaction that inserts the row. Rows inserted some other way (by hand, by an
    older version) only move the mark up: max(id) is read too, from the primary key's index."""
    if table not in _HIGH_WATER_TABLES:
        raise ValueError(f"no id high-water mark for {table}")
    async with db.execute(
        "UPDATE id_high_water SET last = max(last,"
        f" (SELECT coalesce(max(id), 0) FROM {table})) + 1 WHERE name = ? RETURNING last",
        (table,),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None, f"no id_high_water row for {table}"
    return int(row[0])


async def inserted_id(db: Tx, sql: str, params: Params = ()) -> int | None:
    """Run an `INSERT ... RETURNING id` in a transaction; the new id, None when nothing was
    inserted (an INSERT ... SELECT that found no row). Both backends, no `lastrowid`."""
    rows = list(await db.execute_fetchall(sql, params))
    return int(rows[0][0]) if rows else None


class SqlBase:
    """Sealing and the key cache; the I/O methods are the backend's (SqliteBase, PostgresBase)."""

    def __init__(self, vault: Vault, *, clock: Clock | None = None) -> None:
        self._vault = vault
        self._clock = clock or SystemClock()
        self._keys: OrderedDict[int, bytes] = OrderedDict()

    # -- the backend's part ----------------------------------------------------------------------

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Every multi-statement write goes through here, one transaction at a time."""
        raise NotImplementedError

    async def _write(self, sql: str, params: Params = ()) -> Written:
        """One write statement, atomic on its own."""
        raise NotImplementedError

    async def _write_rows(self, sql: str, params: Params = ()) -> list[Any]:
        """`_write` for a statement with RETURNING: its rows, the write committed."""
        raise NotImplementedError

    async def _read(self, sql: str, params: Params = ()) -> list[Any]:
        """One query, fetched to its end; sees every commit that finished before the call."""
        raise NotImplementedError

    async def checkpoint(self) -> None:
        """Leave no copy of deleted rows behind (SQLite's WAL); nothing to do elsewhere."""

    async def _insert(self, sql: str, params: Params = ()) -> int | None:
        """A single `INSERT ... RETURNING id`, atomic on its own; the id or None."""
        rows = await self._write_rows(sql, params)
        return int(rows[0][0]) if rows else None

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

    # -- keys ------------------------------------------------------------------------------------

    def forget_key(self, user_id: int) -> None:
        self._keys.pop(user_id, None)

    async def _data_key(self, user_id: int) -> bytes:
        if (key := self._keys.get(user_id)) is not None:
            self._keys.move_to_end(user_id)
            return key
        rows = await self._read("SELECT wrapped FROM keys.user_keys WHERE user_id = ?", (user_id,))
        if not rows:
            raise LookupError(f"no data key for user {user_id}")
        key = self._vault.unwrap(bytes(rows[0][0]), user_id)
        self._keys[user_id] = key
        if len(self._keys) > _KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return key

    async def _seal(self, user_id: int, place: str, text: str) -> bytes:
        return self._vault.seal(await self._data_key(user_id), text, place, user_id)

    async def _open(self, user_id: int, place: str, sealed: bytes) -> str:
        return self._vault.open(await self._data_key(user_id), sealed, place, user_id)
