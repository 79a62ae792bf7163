"""Operator commands that work on the database directly: backup, restore, the training export."""

from __future__ import annotations

from pathlib import Path

from bot.app import master_key
from bot.config import Secrets, Settings
from bot.process_lock import database_lock
from core.clock import SystemClock
from jobs.backup import run_backup
from jobs.training_export import TrainingExportReport, write_training_export
from storage.backup import restore_database
from storage.crypto import Vault
from storage.sqlite import SqliteRepository


def _repository(settings: Settings, vault: Vault) -> SqliteRepository:
    return SqliteRepository(
        settings.storage.database_path, vault, busy_ms=settings.storage.busy_timeout_ms
    )


async def backup(settings: Settings, secrets: Secrets) -> Path:
    """Safe while the bot runs: SQLite's online backup reads a consistent snapshot."""
    repo = _repository(settings, Vault(master_key(settings, secrets)))
    await repo.open()
    try:
        return (await run_backup(repo, settings.backup, SystemClock().now())).resolve()
    finally:
        await repo.close()


async def restore(settings: Settings, secrets: Secrets, file: Path) -> int:
    """Into a stopped instance only. Returns how many accounts deleted since the backup were
    removed again (their keys are gone, so their content could not be read anyway)."""
    vault = Vault(master_key(settings, secrets))
    with database_lock(settings.storage.database_path):
        restore_database(file, Path(settings.storage.database_path), vault)
        repo = _repository(settings, vault)
        await repo.open()
        try:
            return await repo.purge_keyless_accounts()
        finally:
            await repo.close()


async def training_export(
    settings: Settings, secrets: Secrets, output: Path | None = None
) -> TrainingExportReport:
    """`python -m bot training-export` (P6.5). Safe while the bot runs: it only reads, and consent is
    read again before each conversation. By default the file goes beside the database (data/)."""
    now = SystemClock().now()
    default = f"training-export-{now:%Y-%m-%d}.jsonl"
    path = output or Path(settings.storage.database_path).parent / default
    repo = _repository(settings, Vault(master_key(settings, secrets)))
    await repo.open()
    try:
        return await write_training_export(repo, path, now)
    finally:
        await repo.close()
