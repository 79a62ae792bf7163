"""`python -m bot migrate-to-postgres`: every table of a SQLite database, and the wrapped keys of its
key file, copied into a PostgreSQL database at the same migration version, in one transaction.

Rows are copied as they are stored: sealed columns stay ciphertext (nothing is decrypted; the master
key only has to match, `meta.key_check` on both sides), ids stay the ids. Tables go in foreign-key
order, derived from SQLite's `PRAGMA foreign_key_list`, each in one `COPY` with its columns named.
`schema_migrations` and `meta` rows PostgreSQL already has (its own migrations, the key check) are
skipped; `id_high_water` replaces PostgreSQL's seed rows as it is. Then every identity sequence is
set past max(id), and every table must hold as many rows in PostgreSQL as in SQLite, or all of it
rolls back. The transaction holds the write lock of every PostgreSQL worker (storage/postgres.py).

The caller holds the SQLite file's process lock and has opened both repositories once (so both are
migrated and the master key checked); this module opens its own connections for the copy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

from storage.pg_dialect import check_schema_name
from storage.postgres import _WRITE_LOCK

log = logging.getLogger("amigo.storage")

_BATCH = 5000  # rows fetched from SQLite per trip; one COPY per table streams them all
_MERGED = {"schema_migrations": "version", "meta": "key"}  # rows PostgreSQL has are kept
_REPLACED = frozenset({"id_high_water"})  # PostgreSQL's seed rows give way to SQLite's
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class MigrationRefused(Exception):
    """Nothing was copied: the databases are not in a state to copy from and into."""


class MigrationFailed(Exception):
    """The copy went wrong and was rolled back: PostgreSQL holds nothing of it."""


@dataclass(frozen=True)
class Table:
    schema: str  # "main" or "keys" in SQLite
    name: str
    columns: tuple[str, ...]
    references: frozenset[str]  # tables of the same schema it points at (itself excluded)


@dataclass(frozen=True)
class ImportReport:
    """Rows per table (PostgreSQL's name; equal in both databases, checked), in copy order."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def keys_path_of(path: Path) -> Path:
    """The key file beside a SQLite database (as storage/sqlite_base.py names it)."""
    return path.with_name(path.stem + "-keys" + path.suffix)


async def sqlite_key_check(path: Path) -> str | None:
    """The master key fingerprint a SQLite database was made with, read without writing."""
    try:
        async with aiosqlite.connect(_read_only(path), uri=True) as db:
            rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE key = 'key_check'"))
    except aiosqlite.Error as exc:
        raise MigrationRefused(f"{path} is not an Amigo SQLite database ({exc})") from None
    return str(rows[0][0]) if rows else None


@asynccontextmanager
async def plain_errors(where: str = "PostgreSQL") -> AsyncIterator[None]:
    """The database's and the network's errors as one line: the message only, never PostgreSQL's
    DETAIL (it may quote a row) nor the URL (it may hold a password)."""
    try:
        yield
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise MigrationFailed(f"{where}: {_message(exc)}") from None
    except aiosqlite.Error as exc:
        raise MigrationFailed(f"SQLite: {_message(exc)}") from None


def _message(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else str(exc)
    return (text.splitlines() or [type(exc).__name__])[0]


async def copy_sqlite_to_postgres(path: Path, url: str, keys_schema: str) -> ImportReport:
    """Copy everything of the SQLite database at `path` (and its key file) into `url`."""
    keys_schema = check_schema_name(keys_schema)
    async with (
        plain_errors(),
        aiosqlite.connect(_read_only(path), uri=True, isolation_level=None) as src,
    ):
        await src.execute("ATTACH DATABASE ? AS keys", (_read_only(keys_path_of(path)),))
        await src.execute("BEGIN")  # one snapshot of both files for every read below
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
                report = await _copy(src, conn, keys_schema)
        finally:
            await conn.close()
    log.info("storage.imported", extra={"tables": len(report.rows), "rows": report.total})
    return report


async def _copy(src: aiosqlite.Connection, dst: Any, keys_schema: str) -> ImportReport:
    data_schema = str(await dst.fetchval("SELECT current_schema()"))
    schemas = {"main": data_schema, "keys": keys_schema}
    tables = in_foreign_key_order(await _sqlite_tables(src, "main"))
    tables += in_foreign_key_order(await _sqlite_tables(src, "keys"))
    await _check_same_version(src, dst)
    await _check_same_key(src, dst)
    targets = {t: await _pg_columns(dst, schemas[t.schema], t) for t in tables}
    await _check_no_others(dst, data_schema, {t.name for t in tables if t.schema == "main"})
    await _check_empty(dst, schemas, tables)

    rows: dict[str, int] = {}
    for table in tables:
        schema = schemas[table.schema]
        name = table.name if table.schema == "main" else f"{schema}.{table.name}"
        if table.name in _REPLACED and table.schema == "main":
            await dst.execute(f'DELETE FROM "{schema}"."{table.name}"')
        key = _MERGED.get(table.name) if table.schema == "main" else None
        skip: set[Any] = set()
        if key is not None:  # rows PostgreSQL already has (its migrations, the key check)
            skip = {r[0] for r in await dst.fetch(f'SELECT "{key}" FROM "{schema}"."{table.name}"')}
        await dst.copy_records_to_table(
            table.name,
            schema_name=schema,
            columns=list(table.columns),
            records=_records(src, table, targets[table], skip, key),
        )
        rows[name] = 0
    await _reset_sequences(src, dst, schemas)
    for table, name in zip(tables, rows, strict=True):
        source = await _sqlite_count(src, table)
        copied = await dst.fetchval(
            f'SELECT count(*) FROM "{schemas[table.schema]}"."{table.name}"'
        )
        if copied != source:
            raise MigrationFailed(
                f"{name}: {copied} rows in PostgreSQL, {source} in SQLite; nothing was copied"
            )
        rows[name] = source
    return ImportReport(rows)


def in_foreign_key_order(tables: Sequence[Table]) -> list[Table]:
    """Every table after the tables it references (by name among equals, so the order is stable)."""
    by_name = {t.name: t for t in tables}
    done: list[Table] = []
    placed: set[str] = set()
    while len(done) < len(tables):
        ready = sorted(
            name
            for name, t in by_name.items()
            if name not in placed and all(r in placed or r not in by_name for r in t.references)
        )
        if not ready:
            left = ", ".join(sorted(set(by_name) - placed))
            raise MigrationRefused(f"the foreign keys of {left} form a cycle: no order to copy in")
        for name in ready:
            done.append(by_name[name])
            placed.add(name)
    return done


async def _sqlite_tables(src: aiosqlite.Connection, schema: str) -> list[Table]:
    names = await src.execute_fetchall(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    tables = []
    for (name,) in names:
        if not _NAME.fullmatch(name):
            raise MigrationRefused(f"SQLite table {name!r} is not one of Amigo's")
        columns = await src.execute_fetchall(
            "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", (name, schema)
        )
        references = await src.execute_fetchall(
            'SELECT DISTINCT "table" FROM pragma_foreign_key_list(?, ?)', (name, schema)
        )
        tables.append(
            Table(
                schema,
                name,
                tuple(str(c[0]) for c in columns),
                frozenset(str(r[0]) for r in references) - {name},
            )
        )
    return tables


async def _check_same_version(src: aiosqlite.Connection, dst: Any) -> None:
    rows = list(
        await src.execute_fetchall("SELECT coalesce(max(version), 0) FROM schema_migrations")
    )
    sqlite_version = int(rows[0][0])
    pg_version = int(await dst.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
    if sqlite_version != pg_version:
        raise MigrationRefused(
            f"the SQLite database is at migration {sqlite_version}, PostgreSQL at {pg_version}:"
            " run the same version of Amigo against both"
        )


async def _check_same_key(src: aiosqlite.Connection, dst: Any) -> None:
    """Both made with the same master key, or the copied keys would open nothing."""
    rows = list(await src.execute_fetchall("SELECT value FROM meta WHERE key = 'key_check'"))
    theirs = await dst.fetchval("SELECT value FROM meta WHERE key = 'key_check'")
    if not rows or theirs is None or rows[0][0] != theirs:
        raise MigrationRefused(
            "the SQLite and PostgreSQL databases were made with other master keys"
        )


async def _pg_columns(dst: Any, schema: str, table: Table) -> list[Callable[[Any], Any]]:
    """A converter per column of `table`, checking that PostgreSQL has the same columns."""
    found = await dst.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = $1 AND table_name = $2",
        schema,
        table.name,
    )
    types = {str(r[0]): str(r[1]) for r in found}
    if not types:
        raise MigrationRefused(f"PostgreSQL has no table {schema}.{table.name}: the schemas differ")
    if set(types) != set(table.columns):
        differ = ", ".join(sorted(set(types) ^ set(table.columns)))
        raise MigrationRefused(f"{table.name}: the columns differ between the databases ({differ})")
    return [_converter(table.name, column, types[column]) for column in table.columns]


async def _check_no_others(dst: Any, schema: str, names: set[str]) -> None:
    found = await dst.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        schema,
    )
    if extra := sorted({str(r[0]) for r in found} - names):
        raise MigrationRefused(f"PostgreSQL has tables SQLite has not ({', '.join(extra)})")


async def _check_empty(dst: Any, schemas: dict[str, str], tables: Sequence[Table]) -> None:
    """Only into a database no one has used: ids and the audit chain would collide otherwise."""
    users = int(await dst.fetchval(f'SELECT count(*) FROM "{schemas["main"]}".users'))
    if users:
        raise MigrationRefused(
            f"the PostgreSQL database already holds {users} account(s):"
            " migrate into a new, empty database"
        )
    for table in tables:
        if table.schema == "main" and (table.name in _MERGED or table.name in _REPLACED):
            continue
        schema = schemas[table.schema]
        if await dst.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table.name}")'):
            raise MigrationRefused(
                f"PostgreSQL table {schema}.{table.name} already holds rows:"
                " migrate into a new, empty database"
            )


async def _records(
    src: aiosqlite.Connection,
    table: Table,
    convert: Sequence[Callable[[Any], Any]],
    skip: set[Any],
    key: str | None,
) -> AsyncIterator[tuple[Any, ...]]:
    at = table.columns.index(key) if key is not None else -1
    columns = ", ".join(f'"{c}"' for c in table.columns)
    async with src.execute(
        f'SELECT {columns} FROM {table.schema}."{table.name}" ORDER BY rowid'
    ) as cursor:
        while batch := await cursor.fetchmany(_BATCH):
            for row in batch:
                if at >= 0 and row[at] in skip:
                    continue
                yield tuple(c(v) for c, v in zip(convert, row, strict=True))


async def _sqlite_count(src: aiosqlite.Connection, table: Table) -> int:
    rows = list(await src.execute_fetchall(f'SELECT count(*) FROM {table.schema}."{table.name}"'))
    return int(rows[0][0])


async def _reset_sequences(src: aiosqlite.Connection, dst: Any, schemas: dict[str, str]) -> None:
    """Each identity (or serial) column's next value past every id copied, and past SQLite's
    AUTOINCREMENT mark (memories: an id once used is never handed out again)."""
    marks = {
        str(name): int(seq)
        for name, seq in await _sqlite_sequence(src)
        if isinstance(name, str) and isinstance(seq, int)
    }
    found = await dst.fetch(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = ANY($1::text[])"
        " AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
        sorted(set(schemas.values())),
    )
    for schema, table, column in found:
        mark = marks.get(table, 0) if schema == schemas["main"] else 0
        await dst.execute(
            f'SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(coalesce(max("{column}"), 0),'
            f' $3::bigint) + 1, false) FROM "{schema}"."{table}"',
            f'"{schema}"."{table}"',
            column,
            mark,
        )


async def _sqlite_sequence(src: aiosqlite.Connection) -> list[Any]:
    exists = await src.execute_fetchall(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    )
    if not list(exists):
        return []
    return list(await src.execute_fetchall("SELECT name, seq FROM main.sqlite_sequence"))


def _converter(table: str, column: str, pg_type: str) -> Callable[[Any], Any]:
    """The value SQLite holds as PostgreSQL's binary COPY takes it for `pg_type`. A value that does
    not fit fails naming the table and column, never the value (it may be personal)."""

    def refuse(value: object) -> MigrationFailed:
        return MigrationFailed(
            f"{table}.{column}: SQLite holds a {type(value).__name__} where PostgreSQL"
            f" expects {pg_type}; nothing was copied"
        )

    if pg_type in {"bigint", "integer", "smallint"}:

        def to_int(value: Any) -> Any:
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                return value
            raise refuse(value)

        return to_int
    if pg_type in {"double precision", "real"}:

        def to_float(value: Any) -> Any:
            if value is None or isinstance(value, float):
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            raise refuse(value)

        return to_float
    if pg_type == "bytea":

        def to_bytes(value: Any) -> Any:
            if value is None or isinstance(value, bytes):
                return value
            if isinstance(value, memoryview | bytearray):
                return bytes(value)
            raise refuse(value)

        return to_bytes
    if pg_type in {"text", "character varying"}:

        def to_text(value: Any) -> Any:
            if value is None or isinstance(value, str):
                return value
            raise refuse(value)

        return to_text
    raise MigrationRefused(f"{table}.{column}: no copy for PostgreSQL type {pg_type}")


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"
