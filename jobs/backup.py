"""Scheduled and on-demand backups, rotated after `backup.keep_days` (P11.4)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from storage.backup import copy_database
from storage.sqlite import SqliteRepository

log = logging.getLogger("amigo.backup")

_STAMP = "%Y%m%d-%H%M%S"


class BackupConfig(Protocol):
    """Where backups go and how long they stay (bot.config.BackupSettings is one)."""

    @property
    def directory(self) -> str: ...
    @property
    def keep_days(self) -> int: ...
    @property
    def interval_hours(self) -> int: ...


def backup_name(now: datetime) -> str:
    return f"amigo-{now.astimezone(UTC):{_STAMP}}.db"


async def run_backup(repo: SqliteRepository, settings: BackupConfig, now: datetime) -> Path:
    """Copy the main database (never the key file) and delete backups past their days."""
    directory = Path(settings.directory)
    target = directory / backup_name(now)
    await asyncio.to_thread(copy_database, repo.path, target)
    removed = rotate(directory, now - timedelta(days=settings.keep_days))
    await repo.record_event("backup.written", counts={"rotated": removed})  # processing log
    log.info("backup.written", extra={"rotated": removed, "bytes": target.stat().st_size})
    return target


def rotate(directory: Path, older_than: datetime) -> int:
    """Delete backups whose timestamp (from their name, not the file system) is too old."""
    removed = 0
    for path in directory.glob("amigo-*.db"):
        try:
            taken = datetime.strptime(path.stem.removeprefix("amigo-"), _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # not ours: leave it alone
        if taken < older_than:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
