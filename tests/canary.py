"""Canaries: unique markers written through the real code paths, then looked for everywhere.

A promise test that only reads what the code returns can pass while the promise is broken; these
helpers look at what is actually on disk (every file of the data directory, byte for byte: the
database, its -wal and -shm, the keys database beside it with its own, the master key file) and at
every value of every table, so plaintext anywhere is found. `plant` writes plaintext on purpose:
each test calls it as its positive control, to show the same search finds what it looks for.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path


def new(label: str) -> str:
    """A marker that occurs nowhere by chance: letters and hex digits, one line, no spaces, at
    most 26 characters (it fits every field, a companion name of 32 included)."""
    return f"cnry{label[:10]}{secrets.token_hex(6)}"


def data_files(directory: Path) -> list[Path]:
    """Every regular file under the data directory, recursively."""
    return sorted(p for p in directory.rglob("*") if p.is_file())


def files_containing(directory: Path, needle: str) -> list[str]:
    """Names (relative to `directory`) of the files whose raw bytes hold `needle` (UTF-8)."""
    raw = needle.encode()
    return [str(p.relative_to(directory)) for p in data_files(directory) if raw in p.read_bytes()]


def keys_path(db: Path) -> Path:
    """Where storage keeps the wrapped data keys (storage/sqlite_base.py: `<stem>-keys<suffix>`)."""
    return db.with_name(db.stem + "-keys" + db.suffix)


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
    ]


def cells_containing(db: Path, needle: str) -> list[str]:
    """`schema.table.column` of every value, in the main and the keys database, that holds
    `needle` as text or as raw bytes (read with sqlite3, so rows still in the WAL count)."""
    raw = needle.encode()
    found: list[str] = []
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("ATTACH DATABASE ? AS keys", (str(keys_path(db)),))
        for schema in ("main", "keys"):
            for table in _tables(conn, schema):
                cursor = conn.execute(f'SELECT * FROM {schema}."{table}"')
                columns = [d[0] for d in cursor.description]
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        text = value if isinstance(value, bytes) else str(value).encode()
                        if raw in text:
                            found.append(f"{schema}.{table}.{column}")
    finally:
        conn.close()
    return sorted(set(found))


def columns(db: Path) -> dict[str, list[str]]:
    """The live schema: `schema.table` -> its columns, from PRAGMA table_info, main and keys."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("ATTACH DATABASE ? AS keys", (str(keys_path(db)),))
        return {
            f"{schema}.{table}": [
                str(r[1]) for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')
            ]
            for schema in ("main", "keys")
            for table in _tables(conn, schema)
        }
    finally:
        conn.close()


def plant(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Write behind the code's back, as a careless code path would (the positive controls).
    Call it in a thread while the bot runs (see tests.e2e.write_db for why)."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("ATTACH DATABASE ? AS keys", (str(keys_path(db)),))
        conn.execute(sql, params)
    conn.close()
