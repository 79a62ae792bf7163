"""End to end: the operator's core commands, by role, through the real bot and the fake servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest

from bot.config import Settings
from handlers.admin import ADMIN_COMMANDS
from tests import db as stored
from tests.conftest import CANARY, Bot, settings_for
from tests.e2e import onboard, say, write_db
from tests.fakes import FakeOpenAI, FakeTelegram

OWNER, REVIEWER, SUPPORT, NOBODY = 9001, 9002, 9003, 9004
ALICE = 1301
ROLES = {OWNER: "owner", REVIEWER: "reviewer", SUPPORT: "support"}


def staff_settings(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str) -> Settings:
    return settings_for(tmp_path, tg, llm, staff=ROLES, **env)


@pytest.fixture
async def staffed(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI) -> AsyncIterator[Bot]:
    harness = Bot(staff_settings(tmp_path, tg, llm), tg)
    async with harness.running():
        yield harness


def rows(db: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return stored.query(db, sql, *args)


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """The audit row is written just after the reply is sent: wait for it, briefly."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def uid(db: str) -> int:
    return int(
        str(rows(db, "SELECT id FROM users WHERE status != 'closed' ORDER BY id DESC")[0][0])
    )


def audit_rows(db: str) -> int:
    return int(str(rows(db, "SELECT COUNT(*) FROM audit_log")[0][0]))


@pytest.mark.promise("P12.3")
async def test_role_matrix_every_admin_command_by_every_role(
    staffed: Bot, tg: FakeTelegram
) -> None:
    """P12.3: each command only for the roles that need it; a non-admin learns nothing; every
    attempt, allowed or refused, is audited."""
    db = staffed.settings.storage.database_path
    for command, spec in ADMIN_COMMANDS.items():
        for tg_id in (OWNER, REVIEWER, SUPPORT, NOBODY):
            before = audit_rows(db)
            reply = await say(tg, tg_id, f"/{command}")
            role = ROLES.get(tg_id)
            if role is None:
                assert "I don't know that command" in reply.text, command
                assert "owner" not in reply.text and "reviewer" not in reply.text
            elif role in spec.roles:
                assert "can't use" not in reply.text, (command, role)
            else:
                assert f"Your role ({role}) can't use /{command}" in reply.text
            expected = before + 1
            await until(partial(lambda n: audit_rows(db) == n, expected))
    actors = {str(r[0]).split(":")[0] for r in rows(db, "SELECT actor FROM audit_log")}
    assert actors == {"owner", "reviewer", "support", "non-staff"}
    assert not rows(db, "SELECT 1 FROM audit_log WHERE actor LIKE ?", (f"%{NOBODY}%",))


async def test_admin_lists_only_what_the_role_may_use(staffed: Bot, tg: FakeTelegram) -> None:
    support = (await say(tg, SUPPORT, "/admin")).text
    assert "/stats" in support and "/review" not in support and "/hold" not in support
    owner = (await say(tg, OWNER, "/admin")).text
    assert all(spec.usage.split()[0] in owner for spec in ADMIN_COMMANDS.values())


@pytest.mark.promise("P6.3")
@pytest.mark.promise("P14.2")
@pytest.mark.promise("B3")
async def test_review_needs_a_reason_shows_the_minimum_and_appears_in_mydata(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    for i in range(8):
        await say(tg, ALICE, f"message {i} {CANARY if i == 4 else ''}")
    user = uid(db)
    flagged = rows(
        db, "SELECT id FROM messages WHERE user_id = ? AND role = 'user' ORDER BY id", (user,)
    )[4][0]
    await write_db(
        db,
        "INSERT INTO safety_records (user_id, category, severity, message_id, created_at)"
        " VALUES (?, 'abuse.repeat', 'low', ?, '2026-01-01T00:00:00+00:00')",
        (user, flagged),
    )
    flags = (await say(tg, REVIEWER, "/flags")).text
    assert f"u{user} abuse.repeat" in flags and CANARY not in flags
    refused = await say(tg, REVIEWER, "/review f1 curiosity just looking")
    assert "reason category" in refused.text and CANARY not in refused.text
    review = (await say(tg, REVIEWER, "/review f1 abuse repeated identical messages")).text
    assert CANARY in review  # the flagged message itself
    shown = [line for line in review.splitlines() if "[user]" in line or "[assistant]" in line]
    assert len(shown) == 5  # two on each side, never the whole history
    assert "message 0" not in review and "message 7" not in review
    mydata = (await say(tg, ALICE, "/mydata")).text
    assert "reviewer, for abuse" in mydata
    assert "No open flags" in (await say(tg, REVIEWER, "/flags")).text  # reviewed now
    audit = rows(
        db, "SELECT detail FROM audit_log WHERE action = '/review' ORDER BY id DESC LIMIT 1"
    )
    assert "reason_category=abuse" in str(audit[0][0]) and CANARY not in str(audit[0][0])


async def test_stats_and_flags_hold_no_content_or_identities(
    staffed: Bot, tg: FakeTelegram
) -> None:
    await onboard(tg, ALICE, name=CANARY[:20])
    await say(tg, ALICE, f"hello {CANARY}")
    stats = (await say(tg, OWNER, "/stats")).text
    assert "Users: active 1" in stats and "Active today: 1" in stats
    assert CANARY[:20] not in stats and str(ALICE) not in stats


@pytest.mark.promise("P15.1")
async def test_a_ban_needs_a_review_first_and_the_user_is_told(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    user = uid(db)
    refused = await say(tg, REVIEWER, f"/ban u{user} spamming")
    assert "/review them first" in refused.text
    assert rows(db, "SELECT status FROM users WHERE id = ?", (user,)) == [("active",)]
    await say(tg, REVIEWER, f"/review u{user} abuse reported by another user")
    mark = tg.mark()
    await say(tg, REVIEWER, f"/ban u{user} spamming after review")
    notice = await tg.wait_for_message(ALICE, after=mark)
    assert "can no longer chat" in notice.text
    assert "can't chat" in (await say(tg, ALICE, "hello?")).text
    await say(tg, REVIEWER, f"/unban u{user}")
    assert (await say(tg, ALICE, "back")).text == "echo: back"


@pytest.mark.promise("P3.2")
async def test_minor_erases_everything_and_blocks_the_account(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    await say(tg, ALICE, "I'm 15 actually")
    user = uid(db)
    await say(tg, REVIEWER, f"/minor u{user}")
    assert rows(db, "SELECT COUNT(*) FROM messages") == [(0,)]
    assert rows(db, "SELECT status FROM users WHERE id = ?", (user,)) == [("closed",)]
    again = await say(tg, ALICE, "/start")
    retry = await tg.wait_for_message(
        ALICE, lambda m: "18 or older?" in m.text, after=tg.mark() - 2
    )
    assert again and retry
    tg.press_button(ALICE, retry.button_data("I'm 18 or older"), message_id=retry.message_id)
    blocked = await tg.wait_for_message(ALICE, lambda m: "review by our team" in m.text)
    assert blocked


async def test_holds_and_retention(staffed: Bot, tg: FakeTelegram) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    user = uid(db)
    assert "Please give a reason" in (await say(tg, OWNER, f"/hold u{user}")).text
    assert "No such record" in (await say(tg, OWNER, "/hold u999 court order")).text
    assert "hold 1 on" in (await say(tg, OWNER, f"/hold u{user} court order 17/2026")).text
    assert "court order 17/2026" in (await say(tg, OWNER, "/holds")).text
    assert "1 hold(s)" in (await say(tg, OWNER, f"/release u{user}")).text
    ran = await say(tg, OWNER, "/retention run")
    assert "Retention ran:" in ran.text
    assert "retention:" in (await say(tg, OWNER, "/retention")).text


@pytest.mark.promise("B4")
async def test_audit_chain_detects_an_edited_row(staffed: Bot, tg: FakeTelegram) -> None:
    db = staffed.settings.storage.database_path
    await say(tg, OWNER, "/stats")
    await say(tg, SUPPORT, "/stats")
    await say(tg, NOBODY, "/stats")
    ok = await say(tg, OWNER, "/audit verify")
    assert "intact" in ok.text
    assert "/stats" in (await say(tg, OWNER, "/audit 5")).text
    await until(lambda: audit_rows(db) >= 5)
    await write_db(db, "UPDATE audit_log SET actor = 'owner:1' WHERE id = 2")
    broken = await say(tg, OWNER, "/audit verify")
    assert "BROKEN at entry #2" in broken.text


async def test_malformed_arguments_get_one_line_and_change_nothing(
    staffed: Bot, tg: FakeTelegram
) -> None:
    for text in ("/ban", "/ban xyz reason", "/unban u", "/minor banana", "/audit 9999", "/review"):
        reply = await say(tg, OWNER, text)
        assert "Usage:" in reply.text and "Traceback" not in reply.text, text
