"""Operator commands that work on the database directly: backup, restore, purge, the training export,
and the move of a SQLite database into PostgreSQL.

Each gets its repository from the composition root (bot/app.py), like the bot itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import Secrets, Settings
from bot.process_lock import database_lock
from bot.services import master_key, open_repository, repository
from core.clock import SystemClock
from jobs.backup import run_backup
from jobs.retention import run_retention
from jobs.training_export import TrainingExportReport, write_training_export
from storage.backup import BackupError, restore_database
from storage.crypto import MasterKeyError, Vault, load_or_create_key_file, parse_master_key
from storage.pg_import import (
    ImportReport,
    MigrationRefused,
    copy_sqlite_to_postgres,
    keys_path_of,
    plain_errors,
    sqlite_key_check,
)
from storage.sql_base import SqlBase
from storage.sqlite import SqliteRepository


def _sqlite_only(settings: Settings, command: str) -> None:
    """`backup` and `restore` copy the SQLite file; PostgreSQL has pg_dump, data and keys apart."""
    if settings.storage.url:
        schema = settings.storage.keys_schema
        raise BackupError(
            f"{command} works on the SQLite file only: on PostgreSQL use pg_dump, the data and"
            f" the keys apart (`pg_dump --exclude-schema={schema}` for the data,"
            f" `pg_dump --schema={schema}` for the keys; README, Backups)"
        )


async def backup(settings: Settings, secrets: Secrets) -> Path:
    """Safe while the bot runs: SQLite's online backup reads a consistent snapshot."""
    _sqlite_only(settings, "backup")
    async with open_repository(settings, secrets) as repo:
        if not isinstance(repo, SqliteRepository):  # storage.url is empty: it is one
            raise BackupError("backup works on the SQLite file only")
        return (await run_backup(repo, settings.backup, SystemClock().now())).resolve()


async def restore(settings: Settings, secrets: Secrets, file: Path) -> int:
    """Into a stopped instance only. Returns how many accounts deleted since the backup were
    removed again (their keys are gone, so their content could not be read anyway)."""
    _sqlite_only(settings, "restore")
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


@dataclass(frozen=True)
class Migrated:
    """What `python -m bot migrate-to-postgres` copied, and from where."""

    report: ImportReport
    database: Path
    keys: Path
    key_file: Path | None  # the master key came from this file, not AMIGO_MASTER_KEY

    def summary(self) -> str:
        rows = sorted(self.report.rows.items(), key=lambda item: ("." in item[0], item[0]))
        width = max((len(name) for name, _ in rows), default=0)
        lines = [
            f"copied {len(rows)} tables, {self.report.total} rows, into PostgreSQL"
            " (rows per table, the same in both databases):",
            *(f"  {name:<{width}}  {count}" for name, count in rows),
        ]
        if self.key_file is not None:
            lines.append(
                f"the master key came from {self.key_file}: give every worker the same key in"
                " AMIGO_MASTER_KEY (or AMIGO_MASTER_KEY_FILE)"
            )
        lines.append(
            f"keep {self.database} and {self.keys} until you are satisfied, then delete them"
            " and their backups: they hold everything PostgreSQL now does"
        )
        return "\n".join(lines)


async def migrate_to_postgres(settings: Settings, secrets: Secrets) -> Migrated:
    """`python -m bot migrate-to-postgres`: the SQLite database (and its key file) of a stopped
    instance copied into the empty PostgreSQL database `storage.url` names (storage/pg_import.py).
    The master key is checked against both before a row moves; the ciphertext is copied as it is."""
    database, keys = _sqlite_files(settings)
    key, key_file = _migration_key(settings, secrets)
    vault = Vault(key)
    with database_lock(str(database)):
        made_with = await sqlite_key_check(database)
        if made_with != vault.fingerprint:  # checked first: PostgreSQL keeps the key it first sees
            raise MigrationRefused(
                f"the master key does not match {database}: use the key it was made with"
            )
        # PostgreSQL first: migrated, and its key check written or compared; then SQLite,
        # migrated to the same version.
        async with plain_errors():
            await _open_once(repository(settings, vault), "the PostgreSQL database")
        async with plain_errors(str(database)):
            sqlite = SqliteRepository(database, vault, busy_ms=settings.storage.busy_timeout_ms)
            await _open_once(sqlite, str(database))
        report = await copy_sqlite_to_postgres(
            database, settings.storage.url, settings.storage.keys_schema
        )
    return Migrated(report, database, keys, key_file)


def _sqlite_files(settings: Settings) -> tuple[Path, Path]:
    """The database and key file to copy, refused unless there is somewhere to copy them to."""
    if not settings.storage.url:
        raise MigrationRefused(
            "storage.url is empty: set AMIGO_STORAGE__URL to the PostgreSQL database to copy into"
        )
    database = Path(settings.storage.database_path)
    keys = keys_path_of(database)
    if not database.is_file():
        raise MigrationRefused(f"no SQLite database at {database} (storage.database_path)")
    if not keys.is_file():
        raise MigrationRefused(
            f"no key file at {keys}: without it nobody's data in {database.name} can be read"
        )
    return database, keys


def _migration_key(settings: Settings, secrets: Secrets) -> tuple[bytes, Path | None]:
    """AMIGO_MASTER_KEY, else the SQLite instance's key file; never a new key (it would open
    nothing of the data being moved)."""
    if secrets.master_key:
        return parse_master_key(secrets.master_key), None
    path = Path(settings.security.master_key_file)
    if not path.is_file():
        raise MigrationRefused(
            f"no master key: set AMIGO_MASTER_KEY to the key {settings.storage.database_path}"
            f" was made with (there is no {path})"
        )
    return load_or_create_key_file(path)[0], path


async def _open_once(repo: SqlBase, name: str) -> None:
    try:
        await repo.open()
    except MasterKeyError:
        raise MigrationRefused(f"the master key does not match {name}") from None
    await repo.close()
