"""Withdrawing the Terms: processing stops at once, the person is told the exact date their account
is erased (the closed-account grace after the withdrawal) and how to come back before it; accepting
again cancels the erasure; after the grace, retention erases the account as /delete would, keeping
only the proof of consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import RetentionSettings
from core.clock import FrozenClock
from handlers.events import Sender
from handlers.rights import fmt_day
from handlers.router import Dispatcher
from jobs.retention import run_retention
from storage import sqlite_base
from storage.crypto import Vault
from storage.migrations import MIGRATIONS
from storage.models import Purpose
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import CANARY, Bot
from tests.doubles import FakeModel, RecordingChannel
from tests.e2e import onboard as onboard_e2e
from tests.e2e import press as press_e2e
from tests.e2e import press_for_edit
from tests.e2e import say as say_e2e
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.test_onboarding import USER, onboard, press, say
from tests.test_rights import active

SETTINGS = RetentionSettings(batch_size=2)
GRACE = SETTINGS.closed_account_grace_days
OTHER = Sender(1002, 1002)


def rows(repo: SqliteRepository, sql: str, *params: object) -> list[tuple[object, ...]]:
    return stored.query(repo, sql, *params)


@pytest.mark.promise("P9.3")
async def test_withdrawal_stops_chat_and_names_the_erasure_date_and_the_way_back(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel, clock: FrozenClock
) -> None:
    ch, account = await active(dispatcher, repo)
    withdrawn = clock.now()
    erase_on = fmt_day(withdrawn + timedelta(days=GRACE))

    await say(dispatcher, ch, "/consent")
    assert (
        f"erased {GRACE} days later" in ch.texts[-1] and "closes your account" not in ch.texts[-1]
    )
    await press(dispatcher, ch, "cons:terms")
    notice = ch.texts[-1]
    assert f"On {erase_on} your account will be erased" in notice
    assert f"“Accept the Terms again” before {erase_on}" in notice
    assert "cancels the erasure" in notice and "still here" not in notice
    assert [b.data for row in ch.replies[-1].buttons for b in row] == ["pol:accept", "del:acct"]
    assert await repo.terms_withdrawn_at(account.id) == withdrawn

    calls = len(model.history)
    clock.advance(days=3)
    await say(dispatcher, ch, f"are you there? {CANARY}")
    assert "can't chat" in ch.texts[-1] and f"erased on {erase_on}" in ch.texts[-1]
    assert len(model.history) == calls  # nothing went to the model
    assert rows(repo, "SELECT COUNT(*) FROM messages WHERE user_id = ?", account.id) == [(0,)]

    await press(dispatcher, ch, "cons:terms")  # withdrawing again does not move the date
    assert f"On {erase_on}" in ch.texts[-1]
    assert await repo.terms_withdrawn_at(account.id) == withdrawn


@pytest.mark.promise("P9.3")
async def test_accepting_again_before_the_date_cancels_the_erasure(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch, account = await active(dispatcher, repo)
    await press(dispatcher, ch, "cons:terms")
    clock.advance(days=GRACE - 1)
    await press(dispatcher, ch, "pol:accept")
    assert await repo.terms_withdrawn_at(account.id) is None
    assert "will not be erased" in ch.texts[-1]  # the person is told the erasure is off
    clock.advance(days=GRACE * 3)
    counts = await run_retention(repo, SETTINGS, clock.now())
    assert counts["closed_accounts"] == 0
    await say(dispatcher, ch, "back")
    assert ch.texts[-1].endswith("echo: back")  # (after weeks away, the AI reminder first)
    terms = [c.granted for c in await repo.consents(account.id) if c.purpose is Purpose.TERMS]
    assert terms == [True, False, True]


@pytest.mark.promise("P11.1")
async def test_retention_erases_a_withdrawn_account_after_the_grace_like_a_deleted_one(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, f"my secret {CANARY}")
    await onboard(dispatcher, RecordingChannel(), OTHER)  # someone who keeps their account
    await press(dispatcher, ch, "cons:terms")
    ref = rows(repo, "SELECT tg_ref FROM users WHERE id = ?", account.id)[0][0]

    clock.advance(days=GRACE - 1)
    assert (await run_retention(repo, SETTINGS, clock.now()))["closed_accounts"] == 0
    assert await repo.find_account(USER.tg_id) is not None

    clock.advance(days=2)
    assert (await run_retention(repo, SETTINGS, clock.now(), dry_run=True))["closed_accounts"] == 1
    assert await repo.find_account(USER.tg_id) is not None  # a dry run changes nothing
    assert (await run_retention(repo, SETTINGS, clock.now()))["closed_accounts"] == 1

    assert await repo.find_account(USER.tg_id) is None
    assert rows(repo, "SELECT COUNT(*) FROM users WHERE id = ?", account.id) == [(0,)]
    for table in ("messages", "conversations", "consents", "companions", "profiles"):
        assert rows(repo, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", account.id) == [(0,)]
    assert rows(repo, "SELECT COUNT(*) FROM keys.user_keys WHERE user_id = ?", account.id) == [(0,)]
    proofs = await repo.consent_proofs(USER.tg_id)
    assert [(p.purpose, p.granted) for p in proofs][-1] == (Purpose.TERMS, False)
    assert {p.erased_at for p in proofs} == {clock.now()}
    assert rows(repo, "SELECT DISTINCT tg_ref FROM consent_proofs") == [(ref,)]
    events = [(e.event, e.account_id) for e in await repo.processing_log()]
    assert ("account.erased", account.id) in events and ("key.destroyed", account.id) in events
    erased = [e for e in await repo.processing_log() if e.event == "account.erased"]
    assert erased[0].counts == {"terms_withdrawn": 1, "proofs": len(proofs)}
    assert await repo.find_account(OTHER.tg_id) is not None

    # Coming back after the date is a fresh start.
    await say(dispatcher, ch, "/start")
    assert "18 or older?" in ch.texts[-1]


async def test_a_legal_hold_keeps_a_withdrawn_account(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch, account = await active(dispatcher, repo)
    await press(dispatcher, ch, "cons:terms")
    await repo.place_hold(account.id, "court order")
    clock.advance(days=GRACE + 1)
    assert (await run_retention(repo, SETTINGS, clock.now()))["closed_accounts"] == 0
    assert await repo.find_account(USER.tg_id) is not None
    await repo.release_hold(account.id)
    assert (await run_retention(repo, SETTINGS, clock.now()))["closed_accounts"] == 1


async def test_an_account_that_withdrew_before_the_upgrade_gets_the_full_grace(
    tmp_path: Path, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 10: an account that had withdrawn is dated from the upgrade, never erased at once
    (those people were told their data stays until they delete it)."""
    old = SqliteRepository(tmp_path / "old.db", vault)
    monkeypatch.setattr(sqlite_base, "MIGRATIONS", [m for m in MIGRATIONS if m[0] <= 9])
    await old.open()
    async with old.transaction() as db:
        for uid, version in ((1, ""), (2, "v1")):
            await db.execute(
                "INSERT INTO users (id, tg_ref, chat_enc, status, policy_version,"
                " age_confirmed_at, created_at) VALUES (?, ?, x'', 'active', ?, ?, ?)",
                (
                    uid,
                    bytes([uid]) * 32,
                    version,
                    "2020-01-01T00:00:00+00:00",
                    "2020-01-01T00:00:00+00:00",
                ),
            )
    await old.close()
    monkeypatch.undo()
    upgraded = SqliteRepository(tmp_path / "old.db", vault)
    await upgraded.open()
    try:
        now = datetime.now(UTC)
        withdrawn = await upgraded.terms_withdrawn_at(1)
        assert withdrawn is not None and abs(withdrawn - now) < timedelta(minutes=5)
        assert await upgraded.terms_withdrawn_at(2) is None
        assert (await run_retention(upgraded, SETTINGS, now))["closed_accounts"] == 0
        later = now + timedelta(days=GRACE, minutes=10)
        assert (await run_retention(upgraded, SETTINGS, later))["closed_accounts"] == 1
    finally:
        await upgraded.close()


# -- end to end ------------------------------------------------------------------------------------

ALICE = 911


@pytest.mark.promise("P9.3")
async def test_withdrawal_end_to_end(bot: Bot, tg: FakeTelegram, llm: FakeOpenAI) -> None:
    await onboard_e2e(tg, ALICE)
    menu = await say_e2e(tg, ALICE, "/consent")
    assert "erased 30 days later" in menu.text
    notice = await press_e2e(tg, ALICE, menu, "Withdraw consent to the Terms")
    assert "your account will be erased" in notice.text and "before" in notice.text
    blocked = await say_e2e(tg, ALICE, f"hello {CANARY}")
    assert "can't chat" in blocked.text and "will be erased on" in blocked.text
    assert llm.requests == []
    await press_for_edit(tg, ALICE, blocked, "Accept the Terms again")
    reply = await say_e2e(tg, ALICE, "hello again")
    assert reply.text == "echo: hello again"
    assert stored.query(bot.settings, "SELECT terms_withdrawn_at FROM users") == [(None,)]
