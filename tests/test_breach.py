"""Breach handling as DPDP Rules 2025, rule 7 requires (P12.4): the structured notice, previewed
and sent to the affected accounts or all; the Board intimation record with the 72-hour report;
the owners' reminders; and breach records kept past the 90 days other broadcasts are kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

import handlers.broadcasts
from core.clock import FrozenClock
from handlers.breach import NOTICE_FIELDS, REPORT_FIELDS, parse_fields, reminder
from handlers.staff import BadArguments
from jobs.breach import run_breach_reminders
from jobs.retention import run_retention
from storage.models import Breach
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import Bot, make_settings, settings_for
from tests.e2e import onboard, say, write_db
from tests.fakes import FakeOpenAI, FakeTelegram

OWNER, SUPPORT = 9201, 9202
ALICE, BOB, CAROL = 1501, 1502, 1503
STAFF = {OWNER: "owner", SUPPORT: "support"}

NOTICE = {
    "nature": "Someone copied our backup bucket",
    "extent": "Profile fields of 3 accounts; messages stayed encrypted",
    "timing": "2 to 3 January 2026",
    "location": "Our cloud backup storage",
    "consequences": "Your display name could be seen",
    "mitigation": "We revoked the leaked credentials",
    "advice": "Watch for messages pretending to be us",
    "contact": "Grievance officer, dpo@amigo.test",
}
REPORT = {
    "facts": "A storage key was exposed",
    "circumstances": "A debug log was published",
    "reasons": "Missing log scrubbing",
    "measures": "Key rotated within an hour",
    "responsible": "A contractor's build script",
    "remediation": "Log scrubbing and key scanning in CI",
}


def form(step: str, fields: dict[str, str], *extra: str) -> str:
    return "\n".join([f"/breach {step}", *extra, *(f"{k}: {v}" for k, v in fields.items())])


def rows(db: str, sql: str) -> list[tuple[object, ...]]:
    return stored.query(db, sql)


@pytest.fixture(autouse=True)
def fast_broadcasts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers.broadcasts, "BROADCAST_PAUSE_SECONDS", 0.005)


def test_the_form_is_parsed_strictly() -> None:
    text = "nature: a\n  and more\nextent: b\nNote: continues extent"
    assert parse_fields(text, NOTICE_FIELDS) == {
        "nature": "a\nand more",
        "extent": "b\nNote: continues extent",
    }
    for bad, words in (("hello\nnature: a", "own line"), ("nature: a\nnature: b", "twice")):
        with pytest.raises(BadArguments, match=words):
            parse_fields(bad, NOTICE_FIELDS)


@pytest.mark.promise("P12.4")
async def test_a_structured_breach_notice_is_previewed_sent_to_all_and_the_board_record_kept(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    """P12.4: every field of rule 7(1) is required, the owner sees the notice before it goes, it
    reaches every account whose data is held (a banned one's too), and the Board record shows
    what is due when; every step is audited with ids and counts, never the words."""
    settings = settings_for(tmp_path, tg, llm, staff=STAFF)
    db = settings.storage.database_path
    async with Bot(settings, tg, clock).running():
        for user in (ALICE, BOB, CAROL):
            await onboard(tg, user)
        await write_db(db, "UPDATE users SET status = 'banned' WHERE id = 3")
        assert "/breach intimated" in (await say(tg, OWNER, "/breach")).text
        assert "can't use /breach" in (await say(tg, SUPPORT, "/breach status")).text
        assert "No breach is recorded" in (await say(tg, OWNER, "/breach status")).text
        blank = (await say(tg, OWNER, "/breach new")).text
        assert all(f"\n{name}: " in blank for name in NOTICE_FIELDS)
        partial = {k: v for k, v in NOTICE.items() if k not in ("advice", "contact")}
        refused = (await say(tg, OWNER, form("new", partial))).text
        assert "Missing: advice, contact" in refused and "Usage:" in refused
        late = (await say(tg, OWNER, form("new", NOTICE, "discovered: 2027-01-01 00:00"))).text
        assert "not in the future" in late

        created = await say(tg, OWNER, form("new", NOTICE, "discovered: 2026-01-01 09:30"))
        assert "Breach B1 recorded" in created.text and "04 Jan 2026, 09:30 UTC" in created.text
        edited = await say(tg, OWNER, "/breach edit\nadvice: Change nothing\n  and stay calm")
        assert "changed advice" in edited.text
        preview = (await say(tg, OWNER, "/breach preview")).text
        assert "Notice of a personal data breach" in preview and "and stay calm" in preview
        assert all(value in preview for k, value in NOTICE.items() if k != "advice")
        assert "Usage:" in (await say(tg, OWNER, "/breach send")).text
        assert "Usage:" in (await say(tg, OWNER, "/breach send u1,ux")).text
        assert "Usage:" in (await say(tg, OWNER, "/breach send b9 all")).text

        mark = tg.mark()
        started = await say(tg, OWNER, "/breach send all", containing="started")
        assert "b1 (breach) started: 3 user(s)" in started.text
        await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
        for user in (ALICE, BOB, CAROL):
            [message] = [m for m in tg.messages_to(user) if "personal data breach" in m.text]
            assert NOTICE["contact"] in message.text and "and stay calm" in message.text

        status = (await say(tg, OWNER, "/breach status")).text
        assert "⚠ due now, without delay" in status
        assert "due by 04 Jan 2026, 09:30 UTC (69 h 30 min left)" in status
        assert "3 notification(s) in 1 sending(s)" in status
        assert (
            "intimation to the Board recorded" in (await say(tg, OWNER, "/breach intimated")).text
        )
        assert "already recorded" in (await say(tg, OWNER, "/breach intimated")).text
        assert "report first" in (await say(tg, OWNER, "/breach filed")).text
        blank = (await say(tg, OWNER, "/breach report")).text
        assert all(f"\n{name}: " in blank for name in REPORT_FIELDS)
        missing = (await say(tg, OWNER, form("report", {"facts": "x"}))).text
        assert "Missing: circumstances, reasons, measures, responsible, remediation" in missing
        assert "report recorded" in (await say(tg, OWNER, form("report", REPORT))).text
        report = (await say(tg, OWNER, "/breach report")).text
        assert all(value in report for value in REPORT.values())
        assert "01 Jan 2026, 12:00 UTC" in report  # the intimation
        assert "3 notification(s)" in report and "every account whose data is held" in report
        clock.advance(hours=80)
        filed = (await say(tg, OWNER, "/breach filed")).text
        assert "made to the Board" in filed and "after the 72 hours" in filed
        assert "made 04 Jan 2026, 20:00 UTC" in (await say(tg, OWNER, "/breach status")).text

    [breach] = rows(db, "SELECT id, discovered_at, intimated_at, report_filed_at FROM breaches")
    assert breach[0] == 1 and str(breach[1]).startswith("2026-01-01T09:30")
    assert breach[2] is not None and breach[3] is not None
    assert rows(db, "SELECT broadcast_id, breach_id FROM breach_notices") == [(1, 1)]
    assert rows(db, "SELECT COUNT(*) FROM broadcast_deliveries WHERE broadcast_id = 1") == [(3,)]
    audit = rows(db, "SELECT actor, action, detail FROM audit_log WHERE action LIKE '%breach%'")
    assert (f"support:{SUPPORT}", "refused /breach", "role support") in audit
    details = [str(d) for _, _, d in audit]
    assert "breach=1 new fields=8 chars=" in " ".join(details)
    assert any(d.startswith("breach=1 send targets=all broadcast=1 kind=breach") for d in details)
    assert "breach=1 filed late=True" in details
    assert "bad arguments: Missing: advice, contact. Each is required" in " ".join(details)
    words = [*NOTICE.values(), *REPORT.values(), "stay calm"]
    assert not [w for w in words for d in details if w in d]  # ids and counts only


@pytest.mark.promise("P12.4")
async def test_a_breach_notice_can_go_only_to_the_affected_accounts(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, staff=STAFF)
    db = settings.storage.database_path
    async with Bot(settings, tg).running():
        for user in (ALICE, BOB, CAROL):
            await onboard(tg, user)
        await say(tg, OWNER, form("new", NOTICE))
        mark = tg.mark()
        started = await say(tg, OWNER, "/breach send b1 u1,u3", containing="started")
        assert "2 user(s)" in started.text
        await tg.wait_for_message(OWNER, lambda m: "finished" in m.text, after=mark)
        status = (await say(tg, OWNER, "/breach status b1")).text
        assert "to 2 named account(s): 2 notified" in status
    reached = {
        user
        for user in (ALICE, BOB, CAROL)
        if any(NOTICE["nature"] in m.text for m in tg.messages_to(user))
    }
    assert reached == {ALICE, CAROL}
    assert rows(db, "SELECT user_id FROM broadcast_targets ORDER BY user_id") == [(1,), (3,)]


@pytest.mark.promise("P12.4")
async def test_breach_records_outlive_the_90_days_other_broadcasts_are_kept(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    """Who was notified of a breach is kept at least as long as the audit log: retention purges
    a finished service broadcast after 90 days, never a breach notice or the breach record."""
    breach = await repo.create_breach(clock.now(), NOTICE)
    service = await repo.create_broadcast("service", "Maintenance tonight")
    notice = await repo.create_breach_notice(breach, "the notice", [1, 2])
    for broadcast in (service, notice):
        await repo.claim_delivery(broadcast, 1)
        await repo.finish_broadcast(broadcast)
    await repo.claim_breach_reminder(breach, "24h")
    clock.advance(days=400)  # past the broadcasts' 90 days and the audit log's year
    counts = await run_retention(repo, make_settings(tmp_path).retention, clock.now())
    assert counts["broadcast_records"] == 1
    db = str(tmp_path / "amigo.db")
    assert rows(db, "SELECT id, kind FROM broadcasts") == [(notice, "breach")]
    assert rows(db, "SELECT COUNT(*) FROM broadcast_targets") == [(2,)]
    assert rows(db, "SELECT broadcast_id, user_id FROM broadcast_deliveries") == [(notice, 1)]
    for table in ("breaches", "breach_notices", "breach_reminders"):
        assert rows(db, f"SELECT COUNT(*) FROM {table}") == [(1,)], table


@pytest.mark.promise("P12.4")
async def test_the_owners_are_reminded_once_at_each_mark_until_the_report_is_made(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    """24 h, 6 h and 1 h before the 72-hour deadline and at it, each once; marks passed together
    make one reminder; none once the report is made."""
    told: list[tuple[int, str]] = []

    async def remind(b: Breach, now: datetime) -> int:
        told.append((b.id, reminder(b, now)))
        return 1

    start = clock.now()
    first = await repo.create_breach(start, NOTICE)
    late = await repo.create_breach(start - timedelta(hours=70), NOTICE)  # recorded late
    assert await run_breach_reminders(repo, clock.now(), remind) == 1  # 24h and 6h of `late`
    assert told[-1][0] == late and "(2 h left)" in told[-1][1]
    assert "initial intimation is not recorded" in told[-1][1]
    assert await run_breach_reminders(repo, clock.now(), remind) == 0  # each once
    await repo.record_breach_report(late, REPORT)
    await repo.file_breach_report(late)

    for hours, left in ((48, "(24 h left)"), (66, "(6 h left)"), (71, "(1 h left)")):
        clock.advance(hours=hours - (clock.now() - start).total_seconds() / 3600)
        assert await run_breach_reminders(repo, clock.now(), remind) == 1, hours
        assert told[-1][0] == first and left in told[-1][1], hours
        clock.advance(minutes=5)
        assert await run_breach_reminders(repo, clock.now(), remind) == 0, hours
    await repo.record_breach_intimation(first)
    clock.advance(hours=1)
    assert await run_breach_reminders(repo, clock.now(), remind) == 1
    assert "now overdue" in told[-1][1] and "initial intimation" not in told[-1][1]
    await repo.file_breach_report(first)
    clock.advance(days=3)
    assert await run_breach_reminders(repo, clock.now(), remind) == 0
    assert len(told) == 5
    entries = [e.detail for e in await repo.audit_tail(20) if e.action == "breach reminder"]
    assert f"breach={late} marks=24h,6h owners=1" in entries
    assert f"breach={first} marks=due owners=1" in entries
