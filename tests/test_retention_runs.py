"""Retention runs (privacy policy section 11): a dry run that changes nothing, the job_runs record,
`python -m bot purge`, and running on schedule by itself, catching up once after downtime."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import FrozenClock
from jobs.retention import CATEGORIES, JOB
from jobs.scheduler import BACKUP, build_scheduler
from storage.crypto import Vault, parse_master_key
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import CANARY, Bot, make_settings
from tests.retention_helpers import (
    account,
    audit,
    closed_account,
    payment,
    purge,
    safety_record,
    scalar,
)
from tests.retention_helpers import (  # autouse: keeps export clean-up off the real /tmp
    own_tempdir as own_tempdir,
)

ZERO_KEY = "0" * 64


def snapshot(repo: SqliteRepository) -> dict[str, int]:
    """Rows in each table of the data database (either backend)."""
    tables = [
        name.removeprefix("main.") for name in stored.tables(repo) if name.startswith("main.")
    ]
    return {t: stored.scalar(repo, f"SELECT COUNT(*) FROM {t}") for t in tables}


# -- dry run, job_runs, the command --------------------------------------------------------------


async def everything_due(repo: SqliteRepository, clock: FrozenClock) -> None:
    await closed_account(repo, 1, leftovers=2)
    auto = await account(repo, 2, messages=2)
    await repo.set_autodelete(auto, 1)
    await payment(repo, None, clock.now().isoformat())
    await safety_record(repo, None, clock.now().isoformat())
    await audit(repo, clock.now().isoformat())
    await repo.mark_minor(77)
    clock.advance(days=8 * 366)


EVERY_ONE = {
    "closed_accounts": 1,
    "autodelete_messages": 2,
    "payment_records": 2,  # the leftover of the closed account's, and the other one
    "safety_records": 2,
    "audit_log": 1,
    "minor_markers": 1,
    "processed_updates": 0,
    "broadcast_records": 0,
    "job_runs": 0,
    "consent_proofs": 2,  # the closed account's ledger (age, Terms), kept as proof at deletion
    "processing_log": 4,  # two accounts created, one erased, one key destroyed
    "export_files": 0,
}


async def test_a_dry_run_counts_and_changes_nothing_but_is_recorded(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    await everything_due(repo, clock)
    before = snapshot(repo)
    assert await purge(repo, clock, dry_run=True) == EVERY_ONE
    after = snapshot(repo)
    assert after.pop("job_runs") == before.pop("job_runs") + 1
    assert after == before
    runs = await repo.last_runs()
    assert [(r.job, r.dry_run, r.removed) for r in runs] == [(JOB, True, EVERY_ONE)]
    assert await repo.last_finished_run(JOB) is None  # a dry run is not a run that did the work
    assert await purge(repo, clock) == EVERY_ONE
    assert await purge(repo, clock, dry_run=True) == dict.fromkeys(CATEGORIES, 0)


async def test_job_runs_record_when_and_what_with_counts_only_in_the_logs(
    repo: SqliteRepository, clock: FrozenClock, caplog_all: pytest.LogCaptureFixture
) -> None:
    await everything_due(repo, clock)
    counts = await purge(repo, clock)
    runs = await repo.last_runs()
    assert len(runs) == 1
    run = runs[0]
    assert (run.job, run.dry_run, run.removed, run.started_at) == (JOB, False, counts, clock.now())
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert await repo.last_finished_run(JOB) == run
    assert scalar(repo, "SELECT removed FROM job_runs") == (
        '{"audit_log": 1, "autodelete_messages": 2, "broadcast_records": 0, "closed_accounts": 1,'
        ' "consent_proofs": 2, "export_files": 0, "job_runs": 0, "minor_markers": 1,'
        ' "payment_records": 2, "processed_updates": 0, "processing_log": 4, "safety_records": 2}'
    )
    done = [r for r in caplog_all.records if r.msg == "retention.run"]
    assert len(done) == 1 and done[0].__dict__["closed_accounts"] == 1
    assert CANARY not in caplog_all.text


async def test_the_wal_is_checkpointed_once_after_a_run_that_removed_rows(
    repo: SqliteRepository, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints: list[int] = []
    real = repo.checkpoint

    async def counted() -> None:
        checkpoints.append(1)
        await real()

    await everything_due(repo, clock)
    monkeypatch.setattr(repo, "checkpoint", counted)
    await purge(repo, clock, dry_run=True)
    assert checkpoints == []
    await purge(repo, clock)
    assert checkpoints == [1]
    await purge(repo, clock)  # nothing left to remove
    assert checkpoints == [1]


async def test_python_m_bot_purge_dry_run_prints_per_category_counts(
    tmp_path: Path, clock: FrozenClock
) -> None:
    database = tmp_path / "data" / "amigo.db"
    repo = SqliteRepository(database, Vault(parse_master_key(ZERO_KEY)), clock=clock)
    await repo.open()
    try:
        await closed_account(repo, 1)
        await payment(repo, None, "2010-01-01T00:00:00+00:00")
        await audit(repo, "2010-01-01T00:00:00+00:00")
    finally:
        await repo.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGO_", "OPENAI_"))}
    env |= {"AMIGO_STORAGE__DATABASE_PATH": str(database), "AMIGO_MASTER_KEY": ZERO_KEY}
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "purge", *args],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(Path(__file__).parents[1])},
            capture_output=True,
            text=True,
            timeout=60,
        )

    dry = run("--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dict(line.split(" would remove ") for line in dry.stdout.splitlines()[1:])
    assert {k.strip(): int(v) for k, v in lines.items()} == {
        **dict.fromkeys(CATEGORIES, 0),
        "closed_accounts": 1,  # closed in 2026-01 (the frozen clock): past 30 days by now
        "payment_records": 1,
        "audit_log": 1,
    }
    assert "dry run" in dry.stdout.splitlines()[0]
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM payments").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (1,)
        assert db.execute("SELECT dry_run FROM job_runs").fetchall() == [(1,)]
    real = run()
    assert real.returncode == 0, real.stderr
    assert "payment_records      removed 1" in real.stdout
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM payments").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (0,)


# -- on schedule, by itself ----------------------------------------------------------------------


async def finished_runs(repo: SqliteRepository, job: str) -> int:
    rows = await repo._read(
        "SELECT COUNT(*) FROM job_runs WHERE job = ? AND finished_at IS NOT NULL", (job,)
    )
    return int(rows[0][0])


async def wait_for_runs(repo: SqliteRepository, job: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while await finished_runs(repo, job) < count:
        assert time.monotonic() < deadline, f"{job} did not run"
        await asyncio.sleep(0.02)


async def recorded_run(repo: SqliteRepository, job: str, finished_ago: timedelta) -> None:
    now = repo._clock.now()
    run = await repo.start_job_run(job, now - finished_ago - timedelta(seconds=5))
    await repo.finish_job_run(run, now - finished_ago, {})


@pytest.mark.promise("P11.1")
async def test_missed_runs_make_exactly_one_run_on_start(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    settings = make_settings(tmp_path, AMIGO_BACKUP__DIRECTORY=str(tmp_path / "backups"))
    await closed_account(repo, 1, leftovers=3)
    clock.advance(days=40)
    # Down for 30 days: 720 retention slots and 30 backups missed.
    await recorded_run(repo, JOB, timedelta(days=30))
    await recorded_run(repo, BACKUP, timedelta(days=30))
    scheduler = await build_scheduler(repo, settings, clock)
    # The backup job is SQLite's: PostgreSQL is backed up with pg_dump (README).
    jobs = (JOB, BACKUP) if isinstance(repo, SqliteRepository) else (JOB,)
    assert scheduler.get_job(BACKUP) is None or BACKUP in jobs
    for name in jobs:
        assert scheduler.get_job(name).next_run_time <= datetime.now(UTC)
    scheduler.start()
    try:
        for name in jobs:
            await wait_for_runs(repo, name, 2)
        await asyncio.sleep(0.3)
        for name in jobs:
            assert await finished_runs(repo, name) == 2
        next_run = scheduler.get_job(JOB).next_run_time
        assert next_run - datetime.now(UTC) > timedelta(minutes=59)
    finally:
        await scheduler.stop()
    assert not scheduler.running
    last = await repo.last_finished_run(JOB)
    assert last is not None and last.removed["closed_accounts"] == 1
    backups = len(list((tmp_path / "backups").glob("amigo-*.db")))
    assert backups == (1 if BACKUP in jobs else 0)


async def test_no_run_on_start_when_none_is_due(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    settings = make_settings(tmp_path, AMIGO_BACKUP__DIRECTORY=str(tmp_path / "backups"))
    await recorded_run(repo, JOB, timedelta(minutes=10))  # the backup never ran: a fresh install
    scheduler = await build_scheduler(repo, settings, clock)
    wall = datetime.now(UTC)
    retention_at = scheduler.get_job(JOB).next_run_time
    assert abs(retention_at - (wall + timedelta(minutes=50))) < timedelta(seconds=30)
    if isinstance(repo, SqliteRepository):  # PostgreSQL has no backup job (pg_dump, README)
        backup_at = scheduler.get_job(BACKUP).next_run_time
        assert abs(backup_at - (wall + timedelta(hours=24))) < timedelta(seconds=30)
    else:
        assert scheduler.get_job(BACKUP) is None
    scheduler.start()
    try:
        await asyncio.sleep(0.3)
    finally:
        await scheduler.stop()
    assert await finished_runs(repo, JOB) == 1 and await finished_runs(repo, BACKUP) == 0


async def test_a_run_killed_by_a_restart_runs_again_on_the_next_start(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    await recorded_run(repo, JOB, timedelta(minutes=70))
    await repo.start_job_run(JOB, clock.now() - timedelta(minutes=5))  # never finished
    scheduler = await build_scheduler(repo, make_settings(tmp_path), clock)
    scheduler.start()
    try:
        await wait_for_runs(repo, JOB, 2)
    finally:
        await scheduler.stop()


async def test_the_bot_runs_retention_by_itself(bot: Bot) -> None:
    """Started with the bot (never ran before: due at once), stopped with it."""
    deadline = time.monotonic() + 10
    while True:
        runs = stored.query(
            bot.settings, "SELECT job, dry_run FROM job_runs WHERE finished_at IS NOT NULL"
        )
        if runs:
            break
        assert time.monotonic() < deadline, "retention did not run"
        await asyncio.sleep(0.05)
    assert runs == [(JOB, 0)]
