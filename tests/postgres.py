"""PostgreSQL for the tests: a throwaway schema pair (data, keys) per test, in one database per
test process; whole throwaway databases for the few tests that need one.

`AMIGO_TEST_BACKEND=postgres` runs the whole suite on PostgreSQL (tests/conftest.py points every
Settings at fresh schemas through `search_path` in the URL, and `storage.keys_schema`; the
repository migrates them on open); tests/test_pg_*.py use PostgreSQL always. A schema costs a few
milliseconds where a database costs a second or two. The server is
`AMIGO_TEST_PG_URL` (default: postgres on 127.0.0.1:5432, trust auth). Where it is unreachable
the PostgreSQL tests skip with one line saying what to install, except under CI=true: there they
fail, so a CI without PostgreSQL cannot pass silently.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest

from storage.pg_migrations import migrate

ADMIN_URL = os.environ.get("AMIGO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KEYS_SCHEMA = "amigo_keys"
UNREACHABLE = (
    "PostgreSQL is not reachable at {where}: install and start PostgreSQL 15+"
    " (apt-get install postgresql; trust auth for user postgres on 127.0.0.1) or set"
    " AMIGO_TEST_PG_URL"
)

T = TypeVar("T")


def on_postgres() -> bool:
    """The whole suite runs on PostgreSQL (AMIGO_TEST_BACKEND=postgres)."""
    return os.environ.get("AMIGO_TEST_BACKEND", "sqlite").lower() in {"postgres", "postgresql"}


def url_of(database: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _where() -> str:
    parts = urlsplit(ADMIN_URL)
    return f"{parts.hostname}:{parts.port or 5432}"  # never the password


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, even inside a running event loop."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class _Server:
    """Per test process: whether the server answers, its migrated template and its database."""

    def __init__(self) -> None:
        self.reachable: bool | None = None
        self.template: str | None = None
        self.database: str | None = None
        self.lock = threading.Lock()

    def database_name(self) -> str:
        with self.lock:
            if self.database is None:
                name = f"amigo_test_{uuid.uuid4().hex[:16]}"
                run(_admin(f"CREATE DATABASE {name}"))
                self.database = name
                atexit.register(drop, name)
            return self.database

    def check(self) -> bool:
        with self.lock:
            if self.reachable is None:
                try:
                    run(_admin("SELECT 1"))
                    self.reachable = True
                except (TimeoutError, OSError, asyncpg.PostgresError):
                    self.reachable = False
            return self.reachable

    def template_name(self) -> str:
        with self.lock:
            if self.template is None:
                name = f"amigo_tpl_{uuid.uuid4().hex[:12]}"
                run(_admin(f"CREATE DATABASE {name}"))
                run(_migrate(url_of(name)))
                self.template = name
                atexit.register(drop, name)
            return self.template


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, KEYS_SCHEMA, "2024-01-01T00:00:00+00:00")
    finally:
        await conn.close()


_server = _Server()
_by_path: dict[Path, tuple[str, str]] = {}


def require() -> None:
    """Skip (fail under CI=true) when no PostgreSQL answers."""
    if _server.check():
        return
    message = UNREACHABLE.format(where=_where())
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def create_database() -> str:
    """A fresh, migrated database (a copy of the template): its name."""
    require()
    name = f"amigo_test_{uuid.uuid4().hex[:16]}"
    run(_admin(f"CREATE DATABASE {name} TEMPLATE {_server.template_name()}"))
    return name


def drop(name: str) -> None:
    run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def settings_for(directory: Path) -> dict[str, str]:
    """The storage settings standing for `directory`'s SQLite file: the same directory gets the
    same schemas within a test, as it would get the same file. A pair is migrated once, then
    reused: emptied back to its freshly migrated rows after each test (a TRUNCATE is a few
    milliseconds, a migration most of a second)."""
    if directory not in _by_path:
        require()
        _by_path[directory] = _free.pop() if _free else run(_new_pair(_server.database_name()))
    url, keys = _by_path[directory]
    return {"AMIGO_STORAGE__URL": url, "AMIGO_STORAGE__KEYS_SCHEMA": keys}


def drop_test_schemas() -> None:
    """After each test: empty the schemas settings_for handed out, for the next test."""
    while _by_path:
        _, pair = _by_path.popitem()
        run(_reset(pair))
        _free.append(pair)


_free: list[tuple[str, str]] = []
_seed: dict[str, list[Any]] = {}  # per data schema: table -> rows a fresh migration leaves


async def _new_pair(database: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = f"{url_of(database)}?search_path={schema}"
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await migrate(conn, f"{schema}_keys", "2024-01-01T00:00:00+00:00")
        seeds = []
        for table in await _tables(conn, schema):
            if table != "schema_migrations" and (rows := await conn.fetch(f"TABLE {table}")):
                seeds.append((table, rows))
        _seed[schema] = seeds
    finally:
        await conn.close()
    return url, f"{schema}_keys"


async def _tables(conn: Any, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1"
        " AND table_type = 'BASE TABLE'",
        schema,
    )
    return [str(r[0]) for r in rows]


async def _reset(pair: tuple[str, str]) -> None:
    """DELETE, not TRUNCATE: on tables this small it is far cheaper (no new files to sync)."""
    url, keys = pair
    schema = url.rsplit("=", 1)[-1]
    conn = await asyncpg.connect(url, timeout=5)
    try:
        tables = [f"{schema}.{t}" for t in await _tables(conn, schema) if t != "schema_migrations"]
        tables += [f"{keys}.{t}" for t in await _tables(conn, keys)]
        sequences = await conn.fetch(
            # pg_sequences, not information_schema.sequences: only it lists identity columns'.
            "SELECT sequencename FROM pg_sequences WHERE schemaname = $1",
            schema,
        )
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '10s'")
            await conn.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
            for table in tables:
                await conn.execute(f"DELETE FROM {table}")
            for (sequence,) in sequences:
                await conn.execute(f"ALTER SEQUENCE {schema}.{sequence} RESTART")
            for table, rows in _seed[schema]:
                await conn.copy_records_to_table(table, records=rows, schema_name=schema)
    finally:
        await conn.close()


def rows(url: str, sql: str, *args: object) -> list[Any]:
    """Read a database directly, as the SQLite tests open the file (tests only)."""

    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return run(fetch())
