"""Proof of consent after erasure, and the processing log (DPDP Act s. 6(10), DPDP Rules 2025 rule 6):
what each keeps (keyed ids, choices, times, counts; never content or names), for how long, and that
every path that erases an account or does a security-relevant thing writes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import BackupSettings, RetentionSettings
from core.clock import FrozenClock
from handlers.router import Dispatcher
from jobs.backup import run_backup
from jobs.retention import run_retention
from storage.models import Purpose
from storage.sqlite import SqliteRepository
from storage.sqlite_records import log_event
from tests import db as stored
from tests.conftest import CANARY
from tests.retention_helpers import account
from tests.test_onboarding import say
from tests.test_rights import active

SETTINGS = RetentionSettings(batch_size=2)


def move_to(clock: FrozenClock, when: datetime) -> None:
    clock.advance(seconds=(when - clock.now()).total_seconds())


def dump(repo: SqliteRepository, table: str) -> str:
    return repr(stored.query(repo, f"SELECT * FROM {table}"))


@pytest.mark.promise("P9.3")
async def test_deleting_an_account_keeps_a_minimal_proof_of_consent_for_its_period(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await account(repo, 501, messages=2)
    await repo.set_profile_field(uid, "display_name", f"Name {CANARY}")
    await repo.record_consent(uid, Purpose.MARKETING, True, "v1")
    await repo.record_consent(uid, Purpose.MARKETING, False, "v2")
    ledger = [
        (c.purpose, c.granted, c.policy_version, c.created_at) for c in await repo.consents(uid)
    ]
    await repo.delete_account(uid)
    erased_at = clock.now()

    proofs = await repo.consent_proofs(501)
    assert [(p.purpose, p.granted, p.policy_version, p.at) for p in proofs] == ledger
    assert {p.erased_at for p in proofs} == {erased_at}
    assert await repo.consent_proofs(502) == []  # keyed by the Telegram id's hash only
    raw = dump(repo, "consent_proofs")
    assert CANARY not in raw and "501" not in raw.replace(f"({uid},", "")  # no id, no content
    assert stored.tables(repo)["main.consent_proofs"] == [
        "id",
        "tg_ref",
        "account_id",
        "purpose",
        "granted",
        "policy_version",
        "at",
        "erased_at",
        "language",
    ]

    clock.advance(days=SETTINGS.closed_account_grace_days + 1)  # the tombstone goes, proof stays
    counts = await run_retention(repo, SETTINGS, clock.now())
    assert counts["closed_accounts"] == 1 and counts["consent_proofs"] == 0
    assert len(await repo.consent_proofs(501)) == len(ledger)

    move_to(clock, erased_at + timedelta(days=SETTINGS.consent_proof_days) - timedelta(seconds=1))
    assert (await run_retention(repo, SETTINGS, clock.now()))["consent_proofs"] == 0
    clock.advance(seconds=2)
    assert (await run_retention(repo, SETTINGS, clock.now()))["consent_proofs"] == len(ledger)
    assert await repo.consent_proofs(501) == []


@pytest.mark.promise("P9.1")
async def test_mydata_says_the_proof_of_consent_is_kept_and_for_how_long(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch, _ = await active(dispatcher, repo)
    await say(dispatcher, ch, "/mydata")
    days = dispatcher.deps.config.consent_proof_days
    assert f"we keep proof of your consents for {days} days" in ch.texts[-1]


@pytest.mark.sqlite_only  # backs the SQLite file up and restores it (backup.* events)
async def test_the_processing_log_records_each_security_event_with_ids_and_counts_only(
    repo: SqliteRepository, clock: FrozenClock, tmp_path: Path
) -> None:
    uid = await account(repo, 601, messages=1)
    other = await account(repo, 602)
    await repo.set_profile_field(uid, "display_name", CANARY)
    await repo.mark_exported(uid)
    await repo.record_staff_access(other, "support", "safety")
    await repo.delete_account(uid)
    await run_backup(repo, BackupSettings(directory=str(tmp_path / "backups")), clock.now())
    await repo.purge_keyless_accounts()  # what a restore runs
    await run_retention(repo, SETTINGS, clock.now(), dry_run=True)  # a dry run processes nothing
    await run_retention(repo, SETTINGS, clock.now())

    events = [(e.event, e.account_id) for e in await repo.processing_log()]
    assert events == [
        ("account.created", uid),
        ("account.created", other),
        ("export.sent", uid),
        ("staff.access", other),
        ("key.destroyed", uid),
        ("account.erased", uid),
        ("backup.written", None),
        ("backup.restored", None),
        ("retention.run", None),
    ]
    log = await repo.processing_log()
    assert log[5].counts == {"messages": 1, "conversations": 1, "proofs": 2}
    assert log[-1].counts["closed_accounts"] == 0 and "processing_log" in log[-1].counts
    raw = dump(repo, "processing_log")
    assert CANARY not in raw and "support" not in raw and "601" not in raw


async def test_the_processing_log_is_kept_its_period_then_purged(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    await account(repo, 701)
    start = clock.now()
    move_to(clock, start + timedelta(days=SETTINGS.processing_log_days) - timedelta(seconds=1))
    assert (await run_retention(repo, SETTINGS, clock.now()))["processing_log"] == 0
    move_to(clock, start + timedelta(days=SETTINGS.processing_log_days, seconds=1))
    assert (await run_retention(repo, SETTINGS, clock.now()))["processing_log"] == 1
    assert [e.event for e in await repo.processing_log()] == ["retention.run", "retention.run"]


def test_the_periods_have_defaults_and_the_log_is_kept_at_least_a_year() -> None:
    assert RetentionSettings().consent_proof_days == 1095
    assert RetentionSettings().processing_log_days == 365
    with pytest.raises(ValidationError):
        RetentionSettings(processing_log_days=364)
    assert RetentionSettings(processing_log_days=400).processing_log_days == 400


async def test_the_log_takes_known_events_and_integer_counts_only(repo: SqliteRepository) -> None:
    async with repo.transaction() as db:
        with pytest.raises(ValueError, match="unknown"):
            await log_event(db, repo._clock.now(), "message.read", 1)
        with pytest.raises(ValueError, match="integers"):
            await log_event(db, repo._clock.now(), "export.sent", 1, {"name": "Asha"})  # type: ignore[dict-item]
    assert await repo.processing_log() == []
