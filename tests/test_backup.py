"""Backups: consistent, owner-only, rotated; restore; and deletion reaching into old backups (B1)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import BackupSettings
from bot.process_lock import DatabaseInUse, database_lock
from core.clock import FrozenClock
from jobs.backup import backup_name, rotate, run_backup
from storage.backup import BackupError, check_backup, restore_database
from storage.crypto import MasterKeyError, Vault
from storage.models import Account
from storage.sqlite import SqliteRepository
from tests.conftest import CANARY

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

# Backups and restores of the SQLite file (PostgreSQL: pg_dump without the keys schema).
pytestmark = pytest.mark.sqlite_only


async def user_with_messages(repo: SqliteRepository, tg_id: int, *texts: str) -> Account:
    account = await repo.create_account(tg_id, tg_id, policy_version="v", age_confirmed_at=NOW)
    conversation = await repo.start_conversation(account.id)
    for text in texts:
        await repo.add_message(account.id, conversation, "user", text)
    found = await repo.find_account(tg_id)
    assert found is not None
    return found


def settings_for(tmp_path: Path, keep_days: int = 7) -> BackupSettings:
    return BackupSettings(
        directory=str(tmp_path / "backups"), interval_hours=24, keep_days=keep_days
    )


@pytest.mark.promise("B1")
@pytest.mark.promise("P11.4")
async def test_an_old_backup_cannot_reveal_a_deleted_account(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> None:
    """B1: chat, back up, delete the account: the old backup no longer opens that user's messages,
    while another user's messages in the same backup still read back."""
    alice = await user_with_messages(repo, 1, f"alice secret {CANARY}")
    bob = await user_with_messages(repo, 2, "bob's ordinary day")
    backup = await run_backup(repo, settings_for(tmp_path), clock.now())
    await repo.delete_account(alice.id)

    # Open the old backup as a database, with the master key and the live key file.
    old = tmp_path / "old" / "amigo.db"
    old.parent.mkdir()
    shutil.copy(backup, old)
    shutil.copy(repo.keys_path, old.with_name("amigo-keys.db"))
    reader = SqliteRepository(old, vault)
    await reader.open()
    try:
        assert alice.conversation_id is not None and bob.conversation_id is not None
        with pytest.raises(LookupError):
            await reader.recent_messages(alice.id, alice.conversation_id, 10)
        bobs = await reader.recent_messages(bob.id, bob.conversation_id, 10)
        assert [m.text for m in bobs] == ["bob's ordinary day"]
    finally:
        await reader.close()
    assert CANARY.encode() not in backup.read_bytes()


@pytest.mark.promise("B1")
async def test_restoring_an_old_backup_replays_later_deletions(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> None:
    alice = await user_with_messages(repo, 1, "alice")
    bob = await user_with_messages(repo, 2, "bob")
    backup = await run_backup(repo, settings_for(tmp_path), clock.now())
    await repo.delete_account(alice.id)
    await repo.close()
    restore_database(backup, repo.path, vault)
    await repo.open()
    assert await repo.purge_keyless_accounts() == 1
    assert await repo.find_account(1) is None
    assert bob.conversation_id is not None
    assert [m.text for m in await repo.recent_messages(bob.id, bob.conversation_id, 5)] == ["bob"]


async def test_sign_ups_after_a_restore_take_ids_the_key_file_has_never_held(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> None:
    """The key file is never rolled back: accounts made after the backup still have keys there.
    A sign-up after the restore must not collide with one (it used to fail for everyone)."""
    await user_with_messages(repo, 1, "alice")
    backup = await run_backup(repo, settings_for(tmp_path), clock.now())
    after_backup = await user_with_messages(repo, 2, "bob, lost with the restore")
    await repo.close()
    restore_database(backup, repo.path, vault)
    await repo.open()
    assert await repo.purge_keyless_accounts() == 0
    carol = await user_with_messages(repo, 3, "carol")
    assert carol.id > after_backup.id
    assert carol.conversation_id is not None
    assert [m.text for m in await repo.recent_messages(carol.id, carol.conversation_id, 5)] == [
        "carol"
    ]


@pytest.mark.promise("P11.4")
async def test_backup_is_consistent_owner_only_and_holds_no_keys(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> None:
    account = await user_with_messages(repo, 1, "first")
    assert account.conversation_id is not None

    async def keep_writing() -> None:
        for i in range(200):
            await repo.add_message(account.id, account.conversation_id or 0, "user", f"m{i}")

    writer = asyncio.create_task(keep_writing())
    backup = await run_backup(repo, settings_for(tmp_path), clock.now())
    await writer
    assert backup.name == backup_name(clock.now())
    assert backup.stat().st_mode & 0o077 == 0
    assert not Path(f"{backup}-wal").exists()
    check_backup(backup, vault)
    with sqlite3.connect(backup) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "user_keys" not in tables
        assert 1 <= db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] <= 201


@pytest.mark.promise("P11.4")
def test_rotation_deletes_backups_past_their_days_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for days in (0, 6, 7, 8, 30):
        (folder / backup_name(NOW - timedelta(days=days, minutes=1))).write_text("x")
    (folder / "notes.txt").write_text("keep me")
    (folder / "amigo-manual-copy.db").write_text("keep me too")
    assert rotate(folder, NOW - timedelta(days=7)) == 3
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(
        [backup_name(NOW - timedelta(days=d, minutes=1)) for d in (0, 6)]
        + ["notes.txt", "amigo-manual-copy.db"]
    )


async def test_restore_refuses_foreign_damaged_or_other_key_backups(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError):
        check_backup(garbage, vault)
    backup = await run_backup(repo, settings_for(tmp_path), clock.now())
    with pytest.raises(MasterKeyError):
        check_backup(backup, Vault(bytes(32)))


def test_restore_needs_a_stopped_instance(tmp_path: Path) -> None:
    database = str(tmp_path / "amigo.db")
    with database_lock(database), pytest.raises(DatabaseInUse), database_lock(database):
        pass
    with database_lock(database):  # free again once the first holder let go
        pass


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGO_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), AMIGO_MASTER_KEY="00" * 32)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.promise("P11.4")
def test_backup_and_restore_commands_round_trip(tmp_path: Path) -> None:
    made = cli("backup", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    written = Path(made.stdout.strip().removeprefix("backup written: "))
    assert written.exists() and written.parent == tmp_path / "data" / "backups"
    restored = cli("restore", str(written), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout
    bad = cli("restore", str(tmp_path / "missing.db"), cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
