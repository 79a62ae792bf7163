"""One process per SQLite database: the bot and the console hold this lock; restore needs it free.
On PostgreSQL several workers share the database (leases in it keep them apart): no file lock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path


class DatabaseInUse(Exception):
    """Another Amigo process has this database open."""


@contextmanager
def database_lock(database_path: str) -> Iterator[None]:
    path = Path(f"{database_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"another Amigo process is using {database_path}: stop it first"
            ) from None
        yield
    finally:
        os.close(fd)


def sole_process(database_path: str, url: str) -> AbstractContextManager[None]:
    """The file lock for a SQLite database; nothing when `url` names a PostgreSQL one."""
    return nullcontext() if url else database_lock(database_path)
