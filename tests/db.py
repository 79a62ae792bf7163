"""Looking into the database behind the code's back, on either backend (tests only).

A test that checks what is stored reads the database itself, not what the code returns. `target`
names the database: Settings, a repository, or the path of the SQLite file (a PostgreSQL URL
too). On SQLite the SQL runs with `sqlite3` on the file, the keys file attached as `keys` when the
SQL names `keys.`; on PostgreSQL (a repository or Settings with `storage.url`, or a path while the
suite runs with AMIGO_TEST_BACKEND=postgres: tests/postgres.py hands the path's directory its
schema pair) it goes through storage/pg_dialect.py as storage's own SQL does, `keys.` naming the
keys schema. Write the SQL as the query mixins do: SQLite's, `?` placeholders.

Each call opens its own connection and closes it at once (on SQLite it must not pin the WAL);
foreign keys are enforced on both, as storage's own connections have them.
Writes on PostgreSQL take storage's write lock, so they queue behind the bot's transactions as a
write with sqlite3 queues behind the bot's writer. From a running bot's event loop write with
`awrite`: a blocking write there could wait for a transaction that needs that same loop to end.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]

from bot.config import Settings
from storage.pg_dialect import arguments, translate
from storage.postgres import _WRITE_LOCK, PostgresBase
from storage.sqlite import SqlRepository
from storage.sqlite_base import SqliteBase
from tests import postgres

Row = tuple[Any, ...]

_KEYS = re.compile(r"(?<![\w.\"])keys\.")


@dataclass(frozen=True)
class Sqlite:
    path: Path

    @property
    def keys_path(self) -> Path:
        """Beside the database, `<stem>-keys<suffix>` (storage/sqlite_base.py)."""
        return self.path.with_name(self.path.stem + "-keys" + self.path.suffix)


@dataclass(frozen=True)
class Postgres:
    url: str
    keys_schema: str

    @property
    def schema(self) -> str:
        """The data schema: the URL's search_path, else public."""
        _, found, schema = self.url.partition("search_path=")
        return schema.split("&", 1)[0] if found else "public"


Database = Sqlite | Postgres
Target = Settings | SqlRepository | SqliteBase | PostgresBase | Database | str | os.PathLike[str]


def resolve(target: Target) -> Database:
    """Which database `target` names."""
    if isinstance(target, Sqlite | Postgres):
        return target
    if isinstance(target, Settings):
        if target.storage.url:
            return Postgres(target.storage.url, target.storage.keys_schema)
        return _path(target.storage.database_path)
    if isinstance(target, PostgresBase):
        return Postgres(target._url, target.keys_schema)
    if isinstance(target, SqliteBase):
        return Sqlite(target.path)
    if isinstance(target, SqlRepository):
        raise TypeError(f"no database file or URL known for {type(target).__name__}")
    text = os.fspath(target)
    if text.startswith(("postgresql://", "postgres://")):
        schema = Postgres(text, "").schema
        return Postgres(text, f"{schema}_keys" if schema != "public" else postgres.KEYS_SCHEMA)
    return _path(text)


def _path(path: str | os.PathLike[str]) -> Database:
    """A SQLite path, or under AMIGO_TEST_BACKEND=postgres the schemas standing for its file."""
    if postgres.on_postgres():
        found = postgres.settings_for(Path(path).parent)
        return Postgres(found["AMIGO_STORAGE__URL"], found["AMIGO_STORAGE__KEYS_SCHEMA"])
    return Sqlite(Path(path))


def is_postgres(target: Target) -> bool:
    return isinstance(resolve(target), Postgres)


# -- reading and writing ---------------------------------------------------------------------------


def query(target: Target, sql: str, *params: object) -> list[Row]:
    """Every row of one statement, as tuples."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        with _sqlite(database, sql) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    return postgres.run(_pg(database, sql, params, write=False))[0]


def scalar(target: Target, sql: str, *params: object) -> Any:
    """The first column of the first row (None without rows)."""
    found = query(target, sql, *params)
    return found[0][0] if found else None


def execute(target: Target, sql: str, *params: object) -> int:
    """Run one writing statement in its own transaction; the number of rows it changed."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        with _sqlite(database, sql) as conn, conn:
            conn.execute("PRAGMA foreign_keys = ON")  # as storage's connections (and PostgreSQL)
            return conn.execute(sql, params).rowcount
    return postgres.run(_pg(database, sql, params, write=True))[1]


async def awrite(target: Target, sql: str, *params: object) -> int:
    """`execute` from async code while the bot runs on this event loop (a thread on SQLite, a
    write lock wait on the loop on PostgreSQL: neither blocks the bot)."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        return await asyncio.to_thread(execute, database, sql, *params)
    return (await _pg(database, sql, params, write=True))[1]


def _sqlite(database: Sqlite, sql: str) -> closing[sqlite3.Connection]:
    conn = sqlite3.connect(database.path, timeout=30)
    if _KEYS.search(sql) and database.keys_path.exists():  # ATTACH would create a missing file
        conn.execute("ATTACH DATABASE ? AS keys", (str(database.keys_path),))
    return closing(conn)


def _schemas(database: Sqlite) -> tuple[str, ...]:
    return ("main", "keys") if database.keys_path.exists() else ("main",)


async def _pg(
    database: Postgres, sql: str, params: tuple[object, ...], *, write: bool
) -> tuple[list[Row], int]:
    statement = translate(sql, database.keys_schema)
    args = arguments(statement, params)
    conn = await asyncpg.connect(database.url, timeout=10)
    try:
        if not write:
            return [tuple(r) for r in await conn.fetch(statement.sql, *args)], 0
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
            status = await conn.execute(statement.sql, *args)
        last = str(status).rsplit(" ", 1)[-1]
        return [], int(last) if last.isdigit() else 0
    finally:
        await conn.close()


# -- the whole database ----------------------------------------------------------------------------


def tables(target: Target) -> dict[str, list[str]]:
    """Every table -> its columns in order, named `main.<table>` and `keys.<table>` on both
    backends (on PostgreSQL the data and the keys schema)."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        with _sqlite(database, "keys.") as conn:
            return {
                f"{schema}.{table}": [
                    str(r[1]) for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')
                ]
                for schema in _schemas(database)
                for (table,) in conn.execute(
                    f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
                ).fetchall()
            }
    found = _pg_run(database, lambda conn: _pg_columns(conn, database))
    return {name: [column for column, _ in columns] for name, columns in found.items()}


def cells_containing(target: Target, needle: str) -> list[str]:
    """`main|keys.<table>.<column>` of every value of every table that holds `needle`: as text,
    or as raw UTF-8 bytes in a blob. On PostgreSQL a full scan of both schemas in SQL: bytea
    columns searched byte for byte, every other column as its `::text` (LIKE)."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        return sorted({name for name, value in _sqlite_cells(database) if needle.encode() in value})

    async def scan(conn: Any) -> list[str]:
        found: list[str] = []
        for name, columns in (await _pg_columns(conn, database)).items():
            alias, table = name.split(".", 1)
            schema = database.schema if alias == "main" else database.keys_schema
            for column, kind in columns:
                arg: bytes | str = needle.encode() if kind == "bytea" else _like(needle)
                test = (
                    f'position($1::bytea in "{column}") > 0'
                    if kind == "bytea"
                    else f"\"{column}\"::text LIKE '%' || $1 || '%'"
                )
                sql = f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}" WHERE {test})'
                if await conn.fetchval(sql, arg):
                    found.append(f"{name}.{column}")
        return found

    return sorted(_pg_run(database, scan))


def values(target: Target) -> list[tuple[str, bytes]]:
    """Every value of every table of both schemas, `(main|keys.<table>.<column>, raw)`: a blob's
    bytes, anything else as its text in UTF-8. What the database holds, all of it."""
    database = resolve(target)
    if isinstance(database, Sqlite):
        return _sqlite_cells(database)

    async def dump(conn: Any) -> list[tuple[str, bytes]]:
        found: list[tuple[str, bytes]] = []
        for name, columns in (await _pg_columns(conn, database)).items():
            alias, table = name.split(".", 1)
            schema = database.schema if alias == "main" else database.keys_schema
            for row in await conn.fetch(f'SELECT * FROM "{schema}"."{table}"'):
                for (column, _), value in zip(columns, row, strict=True):
                    found.append((f"{name}.{column}", _raw(value)))
        return found

    return _pg_run(database, dump)


def rows_of_user(target: Target, user_id: int) -> dict[str, int]:
    """For every table of both schemas with a `user_id` column (and `users` by its id), how many
    rows point at `user_id`, where any do."""
    found: dict[str, int] = {}
    for name, columns in tables(target).items():
        column = "id" if name == "main.users" else "user_id"
        if column in columns:
            table = name.removeprefix("main.")
            count = scalar(target, f"SELECT count(*) FROM {table} WHERE {column} = ?", user_id)
            if count:
                found[name] = int(count)
    return found


def _raw(value: object) -> bytes:
    return bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()


def _like(needle: str) -> str:
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sqlite_cells(database: Sqlite) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    with _sqlite(database, "keys.") as conn:
        for schema in _schemas(database):
            names = conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
            for (table,) in names.fetchall():
                cursor = conn.execute(f'SELECT * FROM {schema}."{table}"')
                columns = [d[0] for d in cursor.description]
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        found.append((f"{schema}.{table}.{column}", _raw(value)))
    return found


T = TypeVar("T")


def _pg_run(database: Postgres, work: Callable[[Any], Awaitable[T]]) -> T:
    """`work(conn)` on one connection of its own."""

    async def run() -> T:
        conn = await asyncpg.connect(database.url, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return postgres.run(run())


async def _pg_columns(conn: Any, database: Postgres) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.fetch(
        "SELECT CASE WHEN c.table_schema = $1 THEN 'main' ELSE 'keys' END, c.table_name,"
        " c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        " AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema IN ($1, $2) ORDER BY 1, 2, c.ordinal_position",
        database.schema,
        database.keys_schema,
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for alias, table, column, kind in rows:
        found.setdefault(f"{alias}.{table}", []).append((str(column), str(kind)))
    return found
