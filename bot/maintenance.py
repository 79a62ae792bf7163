"""Operator commands that work on the database directly: backup, restore, purge, the training export.

Each gets its repository from the composition root (bot/app.py), like the bot itself.
"""

from __future__ import annotations

from pathlib import Path

from bot.app import master_key, open_repository, repository
from bot.config import Secrets, Settings
from bot.process_lock import database_lock
from core.clock import SystemClock
from jobs.backup import run_backup
from jobs.retention import run_retention
from jobs.training_export import TrainingExportReport, write_training_export
from storage.backup import restore_database
from storage.crypto import Vault


async def backup(settings: Settings, secrets: Secrets) -> Path:
    """Safe while the bot runs: SQLite's online backup reads a consistent snapshot."""
    async with open_repository(settings, secrets) as repo:
        return (await run_backup(repo, settings.backup, SystemClock().now())).resolve()


async def restore(settings: Settings, secrets: Secrets, file: Path) -> int:
    """Into a stopped instance only. Returns how many accounts deleted since the backup were
    removed again (their keys are gone, so their content could not be read anyway)."""
    vault = Vault(master_key(settings, secrets))
    with database_lock(settings.storage.database_path):
        restore_database(file, Path(settings.storage.database_path), vault)
        repo = repository(settings, vault)
        await repo.open()
        try:
            return await repo.purge_keyless_accounts()
        finally:
            await repo.close()


async def purge(settings: Settings, secrets: Secrets, *, dry_run: bool) -> dict[str, int]:
    """`python -m bot purge`: one run now, against the configured database (safe while the bot runs:
    every batch is its own transaction through SQLite's locking)."""
    async with open_repository(settings, secrets) as repo:
        return await run_retention(repo, settings.retention, SystemClock().now(), dry_run=dry_run)


async def training_export(
    settings: Settings, secrets: Secrets, output: Path | None = None
) -> TrainingExportReport:
    """`python -m bot training-export` (P6.5). Safe while the bot runs: it only reads, and consent is
    read again before each conversation. By default the file goes beside the database (data/)."""
    now = SystemClock().now()
    default = f"training-export-{now:%Y-%m-%d}.jsonl"
    path = output or Path(settings.storage.database_path).parent / default
    async with open_repository(settings, secrets) as repo:
        return await write_training_export(repo, path, now)
