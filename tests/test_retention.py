"""Retention (privacy policy section 11): every category goes when its period is over, not a day before,
never while a legal hold stands, in batches that survive being killed, and on schedule by itself."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.config import RetentionSettings
from core.clock import FrozenClock
from jobs.retention import CATEGORIES, JOB, run_retention
from jobs.scheduler import BACKUP, build_scheduler
from storage.crypto import Vault, parse_master_key
from storage.sqlite import SqliteRepository
from tests.conftest import CANARY, Bot, make_settings

SETTINGS = RetentionSettings(batch_size=2)
ZERO_KEY = "0" * 64


@pytest.fixture(autouse=True)
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Export-file clean-up looks in the process's temp dir: never the real one in these tests."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield temp


# -- helpers -------------------------------------------------------------------------------------


def scalar(repo: SqliteRepository, sql: str, *params: object) -> Any:
    with closing(sqlite3.connect(repo.path)) as db:
        return db.execute(sql, params).fetchone()[0]


def snapshot(repo: SqliteRepository) -> dict[str, int]:
    with closing(sqlite3.connect(repo.path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


async def execute(repo: SqliteRepository, sql: str, *params: object) -> int:
    async with repo.transaction() as db:
        cur = await db.execute(sql, params)
        assert cur.lastrowid is not None
        return cur.lastrowid


async def account(repo: SqliteRepository, tg_id: int, messages: int = 0) -> int:
    acc = await repo.create_account(
        tg_id, tg_id, policy_version="v1", age_confirmed_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    await repo.set_step(acc.id, None, activate=True)
    conversation = await repo.start_conversation(acc.id)
    for i in range(messages):
        await repo.add_message(acc.id, conversation, "user", f"{CANARY} {i}")
    return acc.id


async def closed_account(repo: SqliteRepository, tg_id: int, leftovers: int = 0) -> int:
    """A tombstone left by /delete, with `leftovers` rows still pointing at it (as if a crash or an
    older version had left them): a conversation with messages, a safety and a payment record."""
    uid = await account(repo, tg_id, messages=2)
    await repo.delete_account(uid)
    if leftovers:
        now = repo._clock.now().isoformat()
        conv = await execute(
            repo, "INSERT INTO conversations (user_id, started_at) VALUES (?, ?)", uid, now
        )
        async with repo.transaction() as db:
            await db.executemany(
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
                " VALUES (?, ?, 'user', x'00', ?)",
                [(conv, uid, now)] * leftovers,
            )
        await safety_record(repo, uid, now)
        await payment(repo, uid, now)
    return uid


async def payment(repo: SqliteRepository, uid: int | None, at: str) -> int:
    return await execute(
        repo,
        "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency, status,"
        " created_at) VALUES (?, 'ch_1', 49900, 'INR', 'paid', ?)",
        uid,
        at,
    )


async def safety_record(repo: SqliteRepository, uid: int | None, at: str) -> int:
    return await execute(
        repo,
        "INSERT INTO safety_records (user_id, category, severity, created_at)"
        " VALUES (?, 'abuse', 'low', ?)",
        uid,
        at,
    )


async def audit(repo: SqliteRepository, at: str) -> int:
    return await execute(
        repo,
        "INSERT INTO audit_log (at, actor, action, prev_hash, hash) VALUES (?, 'op', 'x', '', '')",
        at,
    )


async def purge(repo: SqliteRepository, clock: FrozenClock, **kw: Any) -> dict[str, int]:
    return await run_retention(repo, SETTINGS, clock.now(), **kw)


def references(repo: SqliteRepository, uid: int) -> int:
    """Rows anywhere that still point at this user id."""
    with closing(sqlite3.connect(repo.path)) as db:
        db.execute("ATTACH DATABASE ? AS keys", (str(repo.keys_path),))
        tables = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if "user_id" in [c[1] for c in db.execute(f"PRAGMA table_info({r[0]})")]
            and r[0] != "legal_holds"
        ]
        found: int = db.execute("SELECT COUNT(*) FROM users WHERE id = ?", (uid,)).fetchone()[0]
        for table in [*tables, "keys.user_keys"]:
            found += db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (uid,)
            ).fetchone()[0]
        return found


# -- each category at its boundary ---------------------------------------------------------------


@pytest.mark.promise("P11.1")
async def test_closed_account_goes_after_its_grace_period_with_all_it_still_held(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await closed_account(repo, 1, leftovers=5)
    keep = await account(repo, 2, messages=3)
    clock.advance(days=SETTINGS.closed_account_grace_days - 1)
    assert (await purge(repo, clock))["closed_accounts"] == 0
    assert scalar(repo, "SELECT COUNT(*) FROM users WHERE id = ?", uid) == 1
    clock.advance(days=2)
    assert (await purge(repo, clock))["closed_accounts"] == 1
    assert references(repo, uid) == 0
    # Payment and safety records stay, detached, for their own periods; the open account is untouched.
    assert scalar(repo, "SELECT COUNT(*) FROM payments WHERE user_id IS NULL") == 1
    assert scalar(repo, "SELECT COUNT(*) FROM safety_records WHERE user_id IS NULL") == 1
    assert scalar(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", keep) == 3
    assert (await purge(repo, clock))["closed_accounts"] == 0  # idempotent


async def test_a_purged_accounts_id_is_never_given_to_anyone_else(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    """Holds, audit entries and reviews name accounts by id: a purged newest account's id must not
    pass to the next sign-up (SQLite alone would reuse it), nor a conversation's."""
    await account(repo, 1, messages=1)
    newest = await closed_account(repo, 2)
    last_conversation = scalar(repo, "SELECT MAX(id) FROM conversations")
    clock.advance(days=SETTINGS.closed_account_grace_days + 1)
    assert (await purge(repo, clock))["closed_accounts"] == 1
    assert scalar(repo, "SELECT MAX(id) FROM users") < newest
    later = await account(repo, 3, messages=1)
    assert later > newest
    assert scalar(repo, "SELECT MAX(id) FROM conversations") > last_conversation


@pytest.mark.promise("P11.2")
async def test_payment_records_go_after_the_tax_period(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await account(repo, 1)
    await payment(repo, uid, clock.now().isoformat())
    await payment(repo, None, clock.now().isoformat())  # detached by an account deletion
    end = clock.now().replace(year=clock.now().year + SETTINGS.payment_records_years)
    clock.advance(days=(end - clock.now()).days - 1)
    assert (await purge(repo, clock))["payment_records"] == 0
    clock.advance(days=2)
    assert (await purge(repo, clock))["payment_records"] == 2
    assert scalar(repo, "SELECT COUNT(*) FROM payments") == 0


@pytest.mark.promise("P11.3")
async def test_safety_records_go_after_their_period(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await account(repo, 1)
    await safety_record(repo, uid, clock.now().isoformat())
    clock.advance(days=SETTINGS.safety_records_days - 1)
    await safety_record(repo, None, clock.now().isoformat())  # a newer one stays
    assert (await purge(repo, clock))["safety_records"] == 0
    clock.advance(days=2)
    assert (await purge(repo, clock))["safety_records"] == 1
    assert scalar(repo, "SELECT COUNT(*) FROM safety_records") == 1


async def test_audit_log_is_kept_a_year_then_purged_from_the_start_only(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    with pytest.raises(ValueError):
        RetentionSettings(audit_log_days=364)
    start = clock.now()
    first = await audit(repo, start.isoformat())
    await audit(repo, (start + timedelta(days=10)).isoformat())
    await audit(repo, (start - timedelta(days=5)).isoformat())  # out of order: kept with its chain
    clock.advance(days=364)
    assert (await purge(repo, clock))["audit_log"] == 0
    clock.advance(days=2)
    assert (await purge(repo, clock))["audit_log"] == 1
    assert scalar(repo, "SELECT MIN(id) FROM audit_log") == first + 1
    clock.advance(days=10)
    assert (await purge(repo, clock))["audit_log"] == 2


@pytest.mark.promise("B5")
async def test_disappearing_chats_go_after_the_users_own_period(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    short = await account(repo, 1, messages=3)
    await repo.set_autodelete(short, 1)
    weekly = await account(repo, 2, messages=2)
    await repo.set_autodelete(weekly, 7)
    forever = await account(repo, 3, messages=2)
    clock.advance(hours=23)
    assert (await purge(repo, clock))["autodelete_messages"] == 0
    clock.advance(hours=2)
    assert await repo.messages_due_for_autodelete(clock.now()) != []
    assert (await purge(repo, clock))["autodelete_messages"] == 3
    assert await repo.messages_due_for_autodelete(clock.now()) == []
    clock.advance(days=7)
    assert (await purge(repo, clock))["autodelete_messages"] == 2
    assert scalar(repo, "SELECT COUNT(*) FROM messages") == 2
    assert scalar(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", forever) == 2


@pytest.mark.promise("P3.1")
async def test_under_18_markers_go_after_their_period(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    await repo.mark_minor(4242)
    clock.advance(days=SETTINGS.minor_marker_days - 1)
    assert (await purge(repo, clock))["minor_markers"] == 0
    assert await repo.is_minor_marked(4242)
    clock.advance(days=2)
    assert (await purge(repo, clock))["minor_markers"] == 1
    assert not await repo.is_minor_marked(4242)


async def test_export_files_left_by_a_crash_go_after_an_hour(
    repo: SqliteRepository, clock: FrozenClock, own_tempdir: Path
) -> None:
    now = clock.now().timestamp()
    old, fresh, other = (
        own_tempdir / "amigo-export-old.json",
        own_tempdir / "amigo-export-new.json",
        own_tempdir / "something-else.json",
    )
    for path, age in ((old, 3601), (fresh, 3500), (other, 99_999)):
        path.write_text("{}")
        os.utime(path, (now - age, now - age))
    (own_tempdir / "amigo-export-link.json").symlink_to(other)
    assert (await purge(repo, clock, dry_run=True))["export_files"] == 1
    assert old.exists()
    assert (await purge(repo, clock))["export_files"] == 1
    assert not old.exists() and fresh.exists() and other.exists()


# -- legal holds ---------------------------------------------------------------------------------


@pytest.mark.promise("P11.1")
@pytest.mark.promise("P11.3")
@pytest.mark.promise("B5")
async def test_a_legal_hold_blocks_every_purge_until_it_is_lifted(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    closed = await closed_account(repo, 1, leftovers=3)
    chatty = await account(repo, 2, messages=2)
    await repo.set_autodelete(chatty, 1)
    await payment(repo, chatty, clock.now().isoformat())
    await safety_record(repo, chatty, clock.now().isoformat())
    free = await closed_account(repo, 3)
    hold_ids = [
        await repo.place_hold(closed, "court order"),
        await repo.place_hold(chatty, "police request"),
        await repo.place_hold(chatty, "second matter"),
    ]
    assert [(h.id, h.user_id, h.reason) for h in await repo.holds()] == [
        (hold_ids[0], closed, "court order"),
        (hold_ids[1], chatty, "police request"),
        (hold_ids[2], chatty, "second matter"),
    ]
    with pytest.raises(LookupError):
        await repo.place_hold(9999, "no such account")

    clock.advance(days=8 * 366)  # past every period
    counts = await purge(repo, clock)
    assert counts["closed_accounts"] == 1  # only the account without a hold
    assert references(repo, free) == 0
    assert counts["autodelete_messages"] == counts["payment_records"] == 0
    assert counts["safety_records"] == 0
    assert scalar(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", closed) == 3
    assert scalar(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", chatty) == 2

    assert await repo.release_hold(chatty) == 2
    assert await repo.release_hold(chatty) == 0
    assert [h.user_id for h in await repo.holds()] == [closed]
    released = [h for h in await repo.holds(include_released=True) if h.released_at]
    assert len(released) == 2 and released[0].released_at == clock.now()
    counts = await purge(repo, clock)
    assert counts["autodelete_messages"] == 2
    assert counts["payment_records"] == counts["safety_records"] == 1
    assert counts["closed_accounts"] == 0 and references(repo, closed) > 0

    await repo.release_hold(closed)
    counts = await purge(repo, clock)
    assert counts["closed_accounts"] == 1  # its records, detached by that, go in the same run
    assert counts["payment_records"] == counts["safety_records"] == 1
    assert references(repo, closed) == 0


# -- killed half-way, then a clean finish --------------------------------------------------------


def faulty_transactions(
    repo: SqliteRepository, monkeypatch: pytest.MonkeyPatch, after: int, fault: Any
) -> None:
    """From the `after`+1-th transaction on, call `fault()` instead of opening it."""
    original = repo.transaction
    opened = 0

    @asynccontextmanager
    async def transaction() -> AsyncIterator[aiosqlite.Connection]:
        nonlocal opened
        opened += 1
        if opened > after:
            await fault()
        async with original() as db:
            yield db

    monkeypatch.setattr(repo, "transaction", transaction)


@pytest.mark.promise("P11.1")
@pytest.mark.parametrize("kill", ["exception", "cancel"])
async def test_a_purge_killed_half_way_is_finished_by_the_next_run(
    repo: SqliteRepository, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, kill: str
) -> None:
    uid = await closed_account(repo, 1, leftovers=6)
    clock.advance(days=31)
    settings = RetentionSettings(batch_size=1)
    stuck = asyncio.Event()

    async def fault() -> None:
        if kill == "exception":
            raise RuntimeError("killed")
        stuck.set()
        await asyncio.Event().wait()  # hangs here until cancelled

    # Transaction 1 records the run; 2 and 3 each delete one message; 4 is killed.
    faulty_transactions(repo, monkeypatch, after=3, fault=fault)
    task = asyncio.create_task(run_retention(repo, settings, clock.now()))
    if kill == "cancel":
        await asyncio.wait_for(stuck.wait(), 5)
        task.cancel()
    with pytest.raises(RuntimeError if kill == "exception" else asyncio.CancelledError):
        await task
    assert scalar(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", uid) == 4
    assert [r.finished_at for r in await repo.last_runs()] == [None]
    assert await repo.last_finished_run(JOB) is None

    monkeypatch.undo()
    assert (await run_retention(repo, settings, clock.now()))["closed_accounts"] == 1
    assert references(repo, uid) == 0
    last = await repo.last_finished_run(JOB)
    assert last is not None and last.removed["closed_accounts"] == 1


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
        ' "export_files": 0, "job_runs": 0, "minor_markers": 1, "payment_records": 2,'
        ' "processed_updates": 0, "safety_records": 2}'
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
    for name in (JOB, BACKUP):
        assert scheduler.get_job(name).next_run_time <= datetime.now(UTC)
    scheduler.start()
    try:
        await wait_for_runs(repo, JOB, 2)
        await wait_for_runs(repo, BACKUP, 2)
        await asyncio.sleep(0.3)
        assert await finished_runs(repo, JOB) == 2
        assert await finished_runs(repo, BACKUP) == 2
        next_run = scheduler.get_job(JOB).next_run_time
        assert next_run - datetime.now(UTC) > timedelta(minutes=59)
    finally:
        await scheduler.stop()
    assert not scheduler.running
    last = await repo.last_finished_run(JOB)
    assert last is not None and last.removed["closed_accounts"] == 1
    assert len(list((tmp_path / "backups").glob("amigo-*.db"))) == 1


async def test_no_run_on_start_when_none_is_due(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    settings = make_settings(tmp_path, AMIGO_BACKUP__DIRECTORY=str(tmp_path / "backups"))
    await recorded_run(repo, JOB, timedelta(minutes=10))  # the backup never ran: a fresh install
    scheduler = await build_scheduler(repo, settings, clock)
    wall = datetime.now(UTC)
    retention_at = scheduler.get_job(JOB).next_run_time
    backup_at = scheduler.get_job(BACKUP).next_run_time
    assert abs(retention_at - (wall + timedelta(minutes=50))) < timedelta(seconds=30)
    assert abs(backup_at - (wall + timedelta(hours=24))) < timedelta(seconds=30)
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
    database = bot.settings.storage.database_path
    deadline = time.monotonic() + 10
    while True:
        with closing(sqlite3.connect(database)) as db:
            runs = db.execute(
                "SELECT job, dry_run FROM job_runs WHERE finished_at IS NOT NULL"
            ).fetchall()
        if runs:
            break
        assert time.monotonic() < deadline, "retention did not run"
        await asyncio.sleep(0.05)
    assert runs == [(JOB, 0)]


async def test_handled_update_ids_are_forgotten_after_a_week(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    assert await repo.first_delivery(1001)
    clock.advance(days=6, hours=23)
    assert await repo.purge_processed_updates(clock.now(), days=7, batch=10) == 0
    assert not await repo.first_delivery(1001)  # still remembered: a redelivery is ignored
    clock.advance(hours=2)
    assert await repo.purge_processed_updates(clock.now(), days=7, batch=10) == 1


async def test_old_broadcast_records_and_job_runs_go_the_newest_run_stays(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    broadcast = await repo.create_broadcast("service", "hello", [])
    await repo.claim_delivery(broadcast, 1)
    await repo.finish_broadcast(broadcast)
    first = await repo.start_job_run("retention", clock.now(), dry_run=False)
    await repo.finish_job_run(first, clock.now(), {})
    clock.advance(days=400)
    second = await repo.start_job_run("retention", clock.now(), dry_run=False)
    await repo.finish_job_run(second, clock.now(), {})
    assert await repo.purge_broadcast_records(clock.now(), days=90, batch=10) == 1
    assert await repo.broadcast_deliveries(broadcast) == 0
    assert await repo.purge_job_runs(clock.now(), days=365, batch=10) == 1
    assert [r.id for r in await repo.last_runs()] == [second]
