"""End to end: the operator's grievance queue, broadcasts, breach notices and policy publishing,
through the real bot and the fake servers. Staff come from the config file, as in production."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

import handlers.broadcasts
from bot.config import Settings
from core.clock import FrozenClock
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.e2e import onboard, press, press_for_edit, say, write_db
from tests.fakes import FakeOpenAI, FakeTelegram

OWNER, SUPPORT, REVIEWER = 9101, 9102, 9103
ALICE, BOB, CAROL, DAVE = 1401, 1402, 1403, 1404
STAFF = {OWNER: "owner", SUPPORT: "support", REVIEWER: "reviewer"}


def operator_settings(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str) -> Settings:
    return settings_for(tmp_path, tg, llm, staff=STAFF, **env)


def rows(db: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return stored.query(db, sql, *args)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def copies(tg: FakeTelegram, user: int, text: str) -> int:
    return sum(text in m.text for m in tg.messages_to(user))


@pytest.fixture(autouse=True)
def fast_broadcasts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers.broadcasts, "BROADCAST_PAUSE_SECONDS", 0.005)


async def grieve(tg: FakeTelegram, user: int, text: str) -> str:
    await say(tg, user, "/grievance")
    reply = await say(tg, user, text)
    return reply.text.split("ticket ")[1].split(".")[0]


@pytest.mark.promise("P9.4")
async def test_grievance_queue_by_due_date_with_overdue_marked_then_ack_reply_resolve(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    """P9.4: support sees the open queue soonest-due first, overdue marked, and the text within
    its purpose (the access recorded where the user sees it); ack, reply and resolve reach the
    user and stamp the grievance."""
    slow = operator_settings(tmp_path, tg, llm)  # resolve within 30 days (the default)
    fast = operator_settings(tmp_path, tg, llm, AMIGO_PRIVACY__GRIEVANCE_RESOLVE_DAYS="5")
    harness = Bot(slow, tg, clock)
    async with harness.running():
        await onboard(tg, ALICE)
        await onboard(tg, BOB)
        alice_ticket = await grieve(tg, ALICE, "I was charged twice for March")
    clock.advance(days=1)
    async with harness.running(fast):
        bob_ticket = await grieve(tg, BOB, "My export was missing a conversation")
        clock.advance(days=6)  # Bob's is past resolve-due; Alice's only past ack-due
        queue = (await say(tg, SUPPORT, "/grievances")).text
        assert alice_ticket == "G-000001" and bob_ticket == "G-000002"
        assert queue.index(bob_ticket) < queue.index(alice_ticket)  # due first, not filed first
        bob_line, alice_line = queue.split("\n\n")[1:3]
        assert "⚠ OVERDUE" in bob_line and "export was missing" in bob_line and "open" in bob_line
        assert "⚠ ack overdue" in alice_line and "charged twice" in alice_line
        assert "2 open grievance(s)" in queue and "2 overdue" in queue
        refused = await say(tg, REVIEWER, "/grievances")
        assert "can't use /grievances" in refused.text

        mark = tg.mark()
        assert "G-000001 acknowledged" in (await say(tg, SUPPORT, f"/ack {alice_ticket}")).text
        ack = await tg.wait_for_message(ALICE, after=mark)
        assert "received your grievance G-000001" in ack.text
        mark = tg.mark()
        answer = "We have refunded the second charge today."
        sent = await say(tg, SUPPORT, f"/reply {bob_ticket} {answer}")
        assert "reply to G-000002 sent" in sent.text
        assert answer in (await tg.wait_for_message(BOB, after=mark)).text
        mark = tg.mark()
        assert "G-000002 resolved" in (await say(tg, OWNER, "/resolve G-000002")).text
        assert "marked resolved" in (await tg.wait_for_message(BOB, after=mark)).text

        for text, expected in (
            ("/ack G-000099", "No such record"),
            ("/ack banana", "not a ticket"),
            ("/reply G-000001", "add the text"),
            ("/resolve", "not a ticket"),
        ):
            reply = await say(tg, SUPPORT, text)
            assert expected in reply.text and "Usage:" in reply.text, text
        assert "already resolved" in (await say(tg, SUPPORT, "/resolve G-000002")).text
        assert "already acknowledged" in (await say(tg, SUPPORT, "/ack G-000001")).text
        after = (await say(tg, SUPPORT, "/grievances")).text
        assert alice_ticket in after and bob_ticket not in after
        assert "support, for support" in (await say(tg, ALICE, "/mydata")).text

    db = slow.storage.database_path
    assert [r[0] for r in rows(db, "SELECT status FROM grievances ORDER BY id")] == [
        "acknowledged",
        "resolved",
    ]
    stamps = rows(db, "SELECT acknowledged_at IS NOT NULL, resolved_at IS NOT NULL FROM grievances")
    assert stamps == [(1, 0), (1, 1)]
    audit = " ".join(str(r[0]) for r in rows(db, "SELECT detail FROM audit_log"))
    assert f"chars={len(answer)}" in audit and "tickets=G-000002,G-000001" in audit
    assert "refunded" not in audit and "charged twice" not in audit  # ids and counts only
    accesses = rows(db, "SELECT role, reason_category FROM staff_accesses")
    assert set(accesses) == {("support", "support")}


@pytest.mark.promise("P9.6")
async def test_marketing_reaches_only_consenting_users_and_service_every_active_one(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P9.6: marketing goes only to users whose newest marketing consent is a grant; a service
    announcement to every active user; the operator gets progress and a final count."""
    monkeypatch.setattr(handlers.broadcasts, "BROADCAST_REPORT_EVERY", 2)
    settings = operator_settings(tmp_path, tg, llm)
    db = settings.storage.database_path
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE, marketing=True)
        await onboard(tg, BOB)
        await onboard(tg, CAROL, marketing=True)
        menu = await say(tg, CAROL, "/consent")
        assert "now no" in (await press(tg, CAROL, menu, "Turn off: Marketing")).text
        await onboard(tg, DAVE)
        # banned by an operator: no longer active
        await write_db(db, "UPDATE users SET status = 'banned' WHERE id = 4")

        mark = tg.mark()
        started = await say(
            tg, OWNER, "/broadcast marketing 20% off Premium this week", containing="started"
        )
        assert "b1 (marketing) started: 1 user(s)" in started.text
        done = await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
        assert "1 user(s) in all. This run sent 1; 0 could not be reached" in done.text
        assert [copies(tg, u, "20% off") for u in (ALICE, BOB, CAROL, DAVE)] == [1, 0, 0, 0]
        assert "/consent" in tg.messages_to(ALICE)[-1].text  # how to stop them

        mark = tg.mark()
        started = await say(
            tg,
            OWNER,
            "/broadcast service Maintenance tonight 02:00-02:30 UTC",
            containing="started",
        )
        assert "b2 (service) started: 3 user(s)" in started.text
        await tg.wait_for_message(OWNER, lambda m: "b2 (service): 2 sent so far" in m.text)
        done = await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
        assert "3 user(s) in all" in done.text
        counts = [copies(tg, u, "Maintenance tonight") for u in (ALICE, BOB, CAROL, DAVE)]
        assert counts == [1, 1, 1, 0]

        for text in ("/broadcast", "/broadcast news hello", "/broadcast service   "):
            assert "Usage:" in (await say(tg, OWNER, text)).text, text
        assert "can't use /broadcast" in (await say(tg, SUPPORT, "/broadcast service hi")).text
    assert rows(db, "SELECT kind, finished_at IS NOT NULL FROM broadcasts") == [
        ("marketing", 1),
        ("service", 1),
    ]
    assert rows(db, "SELECT COUNT(*) FROM broadcast_deliveries") == [(4,)]


@pytest.mark.promise("P9.6")
async def test_a_broadcast_resumes_after_a_crash_and_nobody_gets_it_twice(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped mid-way, the broadcast resumes by itself at the next start. At-most-once: a user
    claimed just before the crash (the row written, the message not yet sent) gets nothing; no
    user ever gets two copies; the owner gets the final count."""
    monkeypatch.setattr(handlers.broadcasts, "BROADCAST_PAUSE_SECONDS", 0.1)
    users = list(range(1500, 1512))
    text = "We are moving to a new server on Sunday"
    settings = operator_settings(tmp_path, tg, llm)
    db = settings.storage.database_path
    harness = Bot(settings, tg)
    async with harness.running():
        for user in users:  # one by one, so internal ids 1..12 follow this order
            await onboard(tg, user)
        await say(tg, OWNER, f"/broadcast service {text}")
        await until(lambda: sum(copies(tg, u, text) for u in users) >= 4)
    # The bot stopped mid-broadcast. Now fake a crash just after the next claim: the row is
    # written, the message never sent.
    claimed = [int(str(r[0])) for r in rows(db, "SELECT user_id FROM broadcast_deliveries")]
    assert 4 <= len(claimed) < len(users)
    assert rows(db, "SELECT finished_at FROM broadcasts") == [(None,)]
    victim = max(claimed) + 1
    await write_db(db, "INSERT INTO broadcast_deliveries VALUES (1, ?, 'crash')", (victim,))

    mark = tg.mark()
    async with harness.running():
        resumed = await tg.wait_for_message(OWNER, lambda m: "resumes now" in m.text, after=mark)
        assert f"{len(users) - len(claimed) - 1} user(s) to go" in resumed.text
        done = await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
    assert f"{len(users)} user(s) in all" in done.text
    got = {user: copies(tg, user, text) for user in users}
    assert all(n <= 1 for n in got.values()), got  # never twice
    assert got[users[victim - 1]] == 0  # the one lost to the crash
    in_flight = users[max(claimed) - 1]  # the send a stop may have cut short
    assert {u for u, n in got.items() if n == 0} <= {users[victim - 1], in_flight}
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM broadcast_deliveries") == [
        (len(users), len(users))
    ]
    assert rows(db, "SELECT finished_at IS NOT NULL FROM broadcasts") == [(1,)]
    actions = [r[0] for r in rows(db, "SELECT action FROM audit_log")]
    assert actions.count("broadcast resumed") == 1 and actions.count("broadcast finished") == 1


@pytest.mark.promise("P12.4")
async def test_a_breach_notice_reaches_every_user_and_is_recorded(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """P12.4: a breach notice reaches each user whose data we hold (a banned account's too),
    with its contact; the notice is kept (broadcasts row) and audited. The structured notice and
    the Board record: tests/test_breach.py."""
    settings = operator_settings(tmp_path, tg, llm)
    db = settings.storage.database_path
    notice = "On 3 May an attacker read our backup bucket; your messages stayed encrypted."
    fields = ("extent", "timing", "location", "consequences", "mitigation", "advice")
    lines = (
        "nature: " + notice,
        *(f"{f}: some {f}" for f in fields),
        "contact: privacy@amigo.test",
    )
    form = "\n".join(("/breach new", *lines))
    async with Bot(settings, tg).running():
        for user in (ALICE, BOB, CAROL):
            await onboard(tg, user)
        await write_db(db, "UPDATE users SET status = 'banned' WHERE id = 3")
        assert "No breach is recorded" in (await say(tg, OWNER, "/breach send all")).text
        assert "can't use /breach" in (await say(tg, SUPPORT, form)).text
        await say(tg, OWNER, form)
        mark = tg.mark()
        started = await say(tg, OWNER, "/breach send all", containing="started")
        assert "b1 (breach) started: 3 user(s)" in started.text
        await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
    for user in (ALICE, BOB, CAROL):
        [message] = [m for m in tg.messages_to(user) if notice in m.text]
        assert "personal data breach" in message.text and "privacy@amigo.test" in message.text
    chars = len(notice) + sum(len(f"some {f}") for f in fields) + len("privacy@amigo.test")
    [(kind, body)] = rows(db, "SELECT kind, body FROM broadcasts")
    assert kind == "breach" and notice in str(body)
    audit = rows(db, "SELECT actor, action, detail FROM audit_log WHERE action LIKE '%breach%'")
    assert audit == [
        (f"owner:{OWNER}", "/breach", "send none"),
        (f"support:{SUPPORT}", "refused /breach", "role support"),
        (f"owner:{OWNER}", "/breach", f"breach=1 new fields=8 chars={chars}"),
        (
            f"owner:{OWNER}",
            "/breach",
            f"breach=1 send targets=all broadcast=1 kind=breach recipients=3 chars={len(str(body))}",
        ),
    ]
    finished = rows(db, "SELECT detail FROM audit_log WHERE action = 'broadcast finished'")
    assert finished == [("broadcast=1 kind=breach total=3 sent=3 failed=0",)]


@pytest.mark.promise("P17.1")
async def test_published_policy_versions_minor_told_once_material_must_be_accepted(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """P17.1: the newest published version is the one in force, everywhere: a minor one is told
    once, a material one blocks chat until accepted (even behind a later minor one), new
    accounts record it, and it survives a restart."""
    settings = operator_settings(tmp_path, tg, llm)
    db = settings.storage.database_path
    harness = Bot(settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        await onboard(tg, CAROL)
        published = await say(tg, OWNER, "/policy publish 2026-06-01 minor Clearer section 4.")
        assert "Published policy 2026-06-01 (minor" in published.text
        mark = tg.mark()
        tg.send_text(ALICE, "hello")
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: hello", after=mark)
        told = [m.text for m in tg.messages_to(ALICE)[-2:]]
        assert "was updated (version 2026-06-01" in told[0] and "Clearer section 4." in told[0]
        assert (await say(tg, ALICE, "again")).text == "echo: again"  # told once

        published = await say(tg, OWNER, "/policy publish 2026-07-01 material Backups: 14 days.")
        assert "must accept it" in published.text
        calls = len(llm.requests)
        notice = await say(tg, ALICE, "hi")
        assert "changed in ways that matter (version 2026-07-01" in notice.text
        assert "Backups: 14 days." in notice.text and len(llm.requests) == calls
        await press_for_edit(tg, ALICE, notice, "I accept the new policy")
        assert (await say(tg, ALICE, "back")).text == "echo: back"

        await say(tg, OWNER, "/policy publish 2026-08-01 minor Typo fixes.")
        notice = await say(tg, CAROL, "hi")  # skipped the material one: must still accept
        assert "changed in ways that matter (version 2026-08-01" in notice.text
        mark = tg.mark()
        tg.send_text(ALICE, "and now?")  # accepted the material one: only told
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: and now?", after=mark)

        exists = await say(tg, OWNER, "/policy publish 2026-07-01 minor again")
        assert "already published" in exists.text
        for text in ("/policy", "/policy publish 2026-09-01 huge x", "/policy publish v9 minor"):
            assert "Usage:" in (await say(tg, OWNER, text)).text, text
        assert "can't use /policy" in (await say(tg, SUPPORT, "/policy publish v9 minor x")).text
    async with harness.running():
        await onboard(tg, BOB)
        assert "(version 2026-08-01)" in (await say(tg, BOB, "/privacy")).text
    ledger = rows(db, "SELECT user_id, purpose, granted, policy_version FROM consents")
    assert (1, "terms_and_privacy", 1, "2026-07-01") in ledger
    assert {r[3] for r in ledger if r[0] == 3} == {"2026-08-01"}  # Bob joined under it
    assert rows(db, "SELECT version, material FROM policy_versions ORDER BY published_at") == [
        ("2026-06-01", 0),
        ("2026-07-01", 1),
        ("2026-08-01", 0),
    ]
    audit = rows(db, "SELECT detail FROM audit_log WHERE action = '/policy'")
    assert ("version=2026-07-01 material=True summary_chars=17",) in audit


@pytest.mark.promise("P12.4")
async def test_a_breach_notice_can_name_only_the_affected_accounts(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = operator_settings(tmp_path, tg, llm)
    notice = "A support laptop with two accounts' grievance tickets was stolen."
    async with Bot(settings, tg).running():
        for user in (ALICE, BOB, CAROL):
            await onboard(tg, user)
        mark = tg.mark()
        fields = ("extent", "timing", "location", "consequences", "mitigation", "advice")
        lines = (
            "nature: " + notice,
            *(f"{f}: some {f}" for f in fields),
            "contact: privacy@amigo.test",
        )
        form = "\n".join(("/breach new", *lines))
        await say(tg, OWNER, form)
        started = await say(tg, OWNER, "/breach send u1,u3", containing="started")
        assert "2 user(s)" in started.text
        await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
        assert "Usage:" in (await say(tg, OWNER, "/breach send u1,ux")).text
    reached = {
        user for user in (ALICE, BOB, CAROL) if any(notice in m.text for m in tg.messages_to(user))
    }
    assert reached == {ALICE, CAROL}
