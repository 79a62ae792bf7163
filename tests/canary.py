"""Canaries: unique markers written through the real code paths, then looked for everywhere.

A promise test that only reads what the code returns can pass while the promise is broken; these
helpers look at what is actually on disk (every file of the data directory, byte for byte: the
database, its -wal and -shm, the keys database beside it with its own, the master key file; SQLite
only) and at every value of every table (either backend), so plaintext anywhere is found. `plant`
writes plaintext on purpose: each test calls it as its positive control, to show the same search
finds what it looks for.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tests import db as db_


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


def cells_containing(db: db_.Target, needle: str) -> list[str]:
    """`schema.table.column` of every value, in the main and the keys database (on PostgreSQL the
    data and the keys schema), that holds `needle` as text or as raw bytes (read on a connection
    of its own, so rows still in the WAL count): tests/db.py."""
    return db_.cells_containing(db, needle)


def columns(db: db_.Target) -> dict[str, list[str]]:
    """The live schema: `schema.table` -> its columns, main and keys (tests/db.py)."""
    return db_.tables(db)


def plant(db: db_.Target, sql: str, params: tuple[object, ...] = ()) -> None:
    """Write behind the code's back, as a careless code path would (the positive controls).
    Call it in a thread while the bot runs (see tests.db.awrite for why)."""
    db_.execute(db, sql, *params)
