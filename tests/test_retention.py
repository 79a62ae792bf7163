"""Retention (privacy policy section 11): every category goes when its period is over, not a day
before, never while a legal hold stands, and in batches that survive being killed. How runs are
recorded, started by hand and scheduled is in test_retention_runs.py."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.config import RetentionSettings
from core.clock import FrozenClock
from jobs.retention import JOB, run_retention
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.retention_helpers import (
    SETTINGS,
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


def references(repo: SqliteRepository, uid: int) -> int:
    """Rows anywhere that still point at this user id (either backend, the keys included)."""
    tables = [
        name.removeprefix("main.")
        for name, columns in stored.tables(repo).items()
        if "user_id" in columns and name != "main.legal_holds"
    ]
    found = int(stored.scalar(repo, "SELECT COUNT(*) FROM users WHERE id = ?", uid))
    for table in tables:
        found += int(stored.scalar(repo, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", uid))
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


# -- bookkeeping tables -------------------------------------------------------------------------


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
