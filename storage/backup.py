"""Consistent copies of the main database, and putting one back.

A backup holds the main file only. The wrapped data keys stay in the key file, so a backup taken
before an account was deleted cannot reveal that account's content afterwards (B1). Restoring a
backup therefore also replays such deletions: accounts whose key is gone are removed.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from storage.crypto import MasterKeyError, Vault


class BackupError(Exception):
    """The file is not a usable Amigo backup for this master key."""


def copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent snapshot while the bot keeps writing (WAL)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    os.chmod(target, 0o600)


def check_backup(path: Path, vault: Vault) -> None:
    """Refuse files that are not ours, are damaged, or were made under another master key."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{path.name} is damaged")
            row = db.execute("SELECT value FROM meta WHERE key = 'key_check'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not an Amigo backup ({exc})") from None
    if row is None or row[0] != vault.fingerprint:
        raise MasterKeyError(f"{path.name} was made with another master key")


def restore_database(backup: Path, database: Path, vault: Vault) -> None:
    """Copy a checked backup over a stopped instance's database (its key file stays as it is)."""
    check_backup(backup, vault)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    copy_database(backup, database)
