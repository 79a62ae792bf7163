"""The training export (P6.5): only current consent, de-identified, sensitive chats left out (P4.5)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import jobs.training_export as training
from core.clock import FrozenClock
from handlers.events import Sender
from handlers.rights import latest
from handlers.router import Dispatcher
from jobs.training_export import deidentify, write_training_export
from safety import Distress
from storage.crypto import Vault
from storage.models import Account, Purpose, Status
from storage.sqlite import SqliteRepository
from tests.conftest import CANARY
from tests.doubles import FakeModel, RecordingChannel
from tests.test_backup import cli
from tests.test_onboarding import onboard, press, say

# Identifiers that must never reach the file, and the forms people type them in.
EMAIL = "zq.canary.7f3a@mailbox-example.org"
PHONE = "+91 98765 43210"
HANDLE = "@zq_canary_handle"
AADHAAR = "2345 6789 0123"
PAN = "QWERT1234Y"
CARD = "4111 1111 1111 1111"
UPI = "zqcanary@okaxis"
LINK = "https://t.me/zq_canary_channel"
URL = "https://zq-canary.example.com/me?id=7"
DISPLAY_NAME = "Zephyrine Quellwater"
NOMINEE = "Ottoline Brackenbury"
NOMINEE_CONTACT = "ottoline.b@kinmail.example.net"
IDENTIFIERS = [
    EMAIL,
    PHONE,
    "9876543210",
    HANDLE,
    AADHAAR,
    "234567890123",
    PAN,
    CARD,
    UPI,
    LINK,
    "zq_canary_channel",
    URL,
    "zq-canary",
    "Zephyrine",
    "Quellwater",
    NOMINEE,
    "Ottoline",
    "Brackenbury",
    NOMINEE_CONTACT,
    "ottoline.b",
]
EMAIL_SHAPE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
LONG_DIGITS = re.compile(r"\d{10,}")


def export_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def all_text(path: Path) -> str:
    return " ".join(m["text"] for line in export_lines(path) for m in line["messages"])


async def member(
    d: Dispatcher, repo: SqliteRepository, tg_id: int, *, consent: bool = True
) -> tuple[RecordingChannel, Sender, Account]:
    """An onboarded user (who declines training during onboarding), then opts in with /consent."""
    ch, who = RecordingChannel(), Sender(tg_id, tg_id)
    await onboard(d, ch, who)
    if consent:
        await press(d, ch, "cons:train", who)
    account = await repo.find_account(tg_id)
    assert account is not None
    return ch, who, account


async def export(
    repo: SqliteRepository, path: Path, clock: FrozenClock
) -> training.TrainingExportReport:
    return await write_training_export(repo, path, clock.now())


@pytest.mark.promise("P6.5")
async def test_only_users_whose_current_consent_is_granted_are_exported(
    tmp_path: Path, dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    """Declined, withdrawn, banned, onboarding or Terms-withdrawn accounts are never in the file."""
    people: dict[str, Account] = {}
    for i, who in enumerate(["yes", "declined", "withdrew", "again", "banned", "noterms"]):
        ch, sender, account = await member(dispatcher, repo, 5000 + i, consent=who != "declined")
        if who in ("withdrew", "again"):
            await press(dispatcher, ch, "cons:train", sender)  # off
        if who == "again":
            await press(dispatcher, ch, "cons:train", sender)  # on again: the newest row counts
        await say(dispatcher, ch, f"marker{who}word", sender)
        if who == "banned":
            await repo.set_banned(account.id, True)
        if who == "noterms":
            await press(dispatcher, ch, "cons:terms", sender)
        people[who] = account
    onboarding = await repo.create_account(
        6000, 6000, policy_version="v", age_confirmed_at=clock.now()
    )
    await repo.record_consent(onboarding.id, Purpose.MODEL_IMPROVEMENT, True, "v")
    conversation = await repo.start_conversation(onboarding.id)
    await repo.add_message(onboarding.id, conversation, "user", "markeronboardingword")

    assert await repo.consenting_users() == [people["yes"].id, people["again"].id]
    report = await export(repo, tmp_path / "out.jsonl", clock)
    text = all_text(tmp_path / "out.jsonl")
    assert "markeryesword" in text and "markeragainword" in text
    for left_out in ("declined", "withdrew", "banned", "noterms", "onboarding"):
        assert f"marker{left_out}word" not in text
    assert (report.consenting_users, report.users, report.conversations) == (2, 2, 2)
    assert report.messages == 4  # each user's message and the companion's answer


@pytest.mark.promise("P6.5")
async def test_withdrawing_consent_excludes_from_later_exports_and_changes_nothing_else(
    tmp_path: Path,
    dispatcher: Dispatcher,
    repo: SqliteRepository,
    clock: FrozenClock,
    model: FakeModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ch, who, account = await member(dispatcher, repo, 5100)
    await say(dispatcher, ch, "a day at the lake", who)
    await export(repo, tmp_path / "before.jsonl", clock)
    assert "lake" in all_text(tmp_path / "before.jsonl")

    clock.advance(minutes=5)
    await press(dispatcher, ch, "cons:train", who)  # withdraw
    assert not latest(await repo.consents(account.id))[Purpose.MODEL_IMPROVEMENT].granted
    report = await export(repo, tmp_path / "after.jsonl", clock)
    assert (tmp_path / "after.jsonl").read_text() == "" and report.users == 0

    # Nothing else changed: still active, still chatting, history kept.
    calls = len(model.history)
    await say(dispatcher, ch, "still here", who)
    assert ch.texts[-1] == "echo: still here" and len(model.history) == calls + 1
    after = await repo.find_account(who.tg_id)
    assert after is not None and after.status is Status.ACTIVE
    assert (await repo.inventory(account.id)).messages == 4

    # A withdrawal made while a long export is already running still counts.
    stale = [account.id]

    async def consenting_at_start() -> list[int]:
        return stale

    monkeypatch.setattr(repo, "consenting_users", consenting_at_start)
    report = await export(repo, tmp_path / "during.jsonl", clock)
    assert (tmp_path / "during.jsonl").read_text() == ""
    assert report.dropped["consent_withdrawn"] == 1


@pytest.mark.promise("P6.5")
async def test_identifiers_never_reach_the_file_while_ordinary_words_do(
    tmp_path: Path, dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    tg_id = 880055501234
    ch, who, account = await member(dispatcher, repo, tg_id)
    await say(dispatcher, ch, f"/profile name {DISPLAY_NAME}", who)
    await say(dispatcher, ch, f"/nominate {NOMINEE}, {NOMINEE_CONTACT}", who)
    nominee = await repo.nominee(account.id)
    profile = await repo.profile(account.id)
    assert nominee is not None and nominee.name == NOMINEE
    assert profile.display_name == DISPLAY_NAME
    for text in [
        f"I am {DISPLAY_NAME}, call me Zephyrine. Mail {EMAIL} or ring {PHONE} / 9876543210",
        f"Insta {HANDLE}, channel {LINK}, site {URL}",
        f"aadhaar {AADHAAR} (or 234567890123), pan {PAN}, card {CARD}, upi {UPI}",
        f"My emergency person is {NOMINEE} at {NOMINEE_CONTACT}, Ottoline knows. {CANARY}",
    ]:
        await say(dispatcher, ch, text, who)
    out = tmp_path / "export.jsonl"
    report = await export(repo, out, clock)

    raw = out.read_text(encoding="utf-8")
    for identifier in IDENTIFIERS:
        assert identifier.lower() not in raw.lower(), identifier
    assert str(tg_id) not in raw
    # The random hex conversation id may hold a run of decimal digits by chance: look past it.
    content = re.sub(r'"conversation": "[0-9a-f]{32}"', "", raw)
    assert not EMAIL_SHAPE.search(content) and not LONG_DIGITS.search(content)
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", raw)  # no dates, no times
    for word in ("emergency", "knows", "purple", "elephant", "Insta", "channel", "aadhaar"):
        assert word in raw
    for placeholder in ("[EMAIL]", "[PHONE]", "[HANDLE]", "[URL]", "[ID]", "[NAME]"):
        assert placeholder in raw

    (line,) = export_lines(out)
    assert set(line) == {"conversation", "messages"}
    assert re.fullmatch(r"[0-9a-f]{32}", line["conversation"])
    assert all(set(m) == {"role", "text"} for m in line["messages"])
    assert [m["role"] for m in line["messages"][:2]] == ["user", "assistant"]
    assert report.redactions["name"] >= 8 and report.redactions["email"] >= 4
    # The id is made for this file: another export of the same conversation gets another one.
    await export(repo, tmp_path / "again.jsonl", clock)
    assert export_lines(tmp_path / "again.jsonl")[0]["conversation"] != line["conversation"]


@pytest.mark.promise("P6.5")
@pytest.mark.promise("P4.5")
async def test_sensitive_conversations_are_left_out_whole(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation where the distress detector fires on a user message, or which the live checks
    flagged (detector or moderation model), is not in the file at all; the others are."""

    def detector(text: str) -> Distress | None:
        return Distress("self_harm", "high") if "SIGNALWORD" in text else None

    monkeypatch.setattr(training, "detect_distress", detector)
    account = await repo.create_account(
        7000, 7000, policy_version="v", age_confirmed_at=clock.now()
    )
    await repo.set_step(account.id, None, activate=True)
    await repo.record_consent(account.id, Purpose.MODEL_IMPROVEMENT, True, "v")
    ordinary, distressed, flagged, answered = [
        await repo.start_conversation(account.id) for _ in range(4)
    ]
    for conversation, words in [
        (ordinary, ["plain gardening talk"]),
        (distressed, ["first distressedchat line", "then SIGNALWORD", "and later"]),
        (flagged, ["flaggedchat words"]),
        (answered, ["kept talk"]),
    ]:
        for text in words:
            await repo.add_message(account.id, conversation, "user", text)
    flagged_id = await repo.add_message(account.id, flagged, "user", "flagged message")
    await repo.flag(account.id, "suicide", "high", flagged_id)
    # The detector reads the user's words only: an answer that quotes them does not drop a chat.
    await repo.add_message(account.id, answered, "assistant", "SIGNALWORD quoted back")

    report = await export(repo, tmp_path / "out.jsonl", clock)
    text = all_text(tmp_path / "out.jsonl")
    assert "gardening" in text and "kept talk" in text
    assert "distressedchat" not in text and "flaggedchat" not in text
    assert report.dropped["distress"] == 1 and report.dropped["flagged"] == 1
    assert report.conversations == 2


@pytest.mark.promise("P6.5")
async def test_the_file_is_owner_only_and_replaced_whole(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    account = await repo.create_account(
        7100, 7100, policy_version="v", age_confirmed_at=clock.now()
    )
    await repo.set_step(account.id, None, activate=True)
    await repo.record_consent(account.id, Purpose.MODEL_IMPROVEMENT, True, "v")
    conversation = await repo.start_conversation(account.id)
    await repo.add_message(account.id, conversation, "user", "hello there")
    out = tmp_path / "nested" / "export.jsonl"
    await export(repo, out, clock)
    assert out.stat().st_mode & 0o777 == 0o600
    out.write_text("stale content")
    out.chmod(0o644)
    await export(repo, out, clock)
    assert out.stat().st_mode & 0o777 == 0o600
    assert "stale" not in out.read_text() and len(export_lines(out)) == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["export.jsonl"]  # no part files


@pytest.mark.promise("P6.5")
async def test_messages_after_the_snapshot_are_not_exported(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    account = await repo.create_account(
        7200, 7200, policy_version="v", age_confirmed_at=clock.now()
    )
    await repo.set_step(account.id, None, activate=True)
    await repo.record_consent(account.id, Purpose.MODEL_IMPROVEMENT, True, "v")
    conversation = await repo.start_conversation(account.id)
    await repo.add_message(account.id, conversation, "user", "before the cut")
    cut = clock.now()
    clock.advance(seconds=1)
    await repo.add_message(account.id, conversation, "user", "after the cut")
    await write_training_export(repo, tmp_path / "out.jsonl", cut)
    assert all_text(tmp_path / "out.jsonl") == "before the cut"


@pytest.mark.promise("P6.5")
async def test_cli_writes_the_export_and_prints_counts_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "amigo.db"
    repo = SqliteRepository(database, Vault(bytes(32)))  # the key cli() sets
    await repo.open()
    try:
        now = datetime.now(UTC)
        account = await repo.create_account(7300, 7300, policy_version="v", age_confirmed_at=now)
        await repo.set_step(account.id, None, activate=True)
        await repo.record_consent(account.id, Purpose.MODEL_IMPROVEMENT, True, "v")
        await repo.set_profile_field(account.id, "display_name", DISPLAY_NAME)
        conversation = await repo.start_conversation(account.id)
        await repo.add_message(account.id, conversation, "user", f"{DISPLAY_NAME} {EMAIL} sunshine")
        await repo.add_message(account.id, conversation, "assistant", f"hi {PHONE}")
    finally:
        await repo.close()

    chosen = tmp_path / "exports" / "chosen.jsonl"
    done = cli("training-export", "--output", str(chosen), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert chosen.stat().st_mode & 0o777 == 0o600
    assert "sunshine" in chosen.read_text() and EMAIL not in chosen.read_text()
    assert re.search(r"users included\s+1 \(of 1 consenting\)", done.stdout)
    assert re.search(r"conversations\s+1\n", done.stdout)
    assert re.search(r"messages\s+2\n", done.stdout)
    for kind, n in (("email", 1), ("phone", 1), ("name", 1)):
        assert re.search(rf"{kind}\s+{n}\n", done.stdout), done.stdout
    for secret in ("sunshine", "Zephyrine", EMAIL, PHONE):
        assert secret not in done.stdout + done.stderr

    default = cli("training-export", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    (written,) = (tmp_path / "data").glob("training-export-*.jsonl")
    assert re.fullmatch(r"training-export-\d{4}-\d{2}-\d{2}\.jsonl", written.name)
    assert str(written) in default.stdout

    bad = cli(
        "training-export", "--output", str(tmp_path / "data" / "amigo.db" / "x"), cwd=tmp_path
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail a.b+c@mail.co.in, thanks", "mail [EMAIL], thanks"),
        ("upi rahul.k@okaxis or 9876543210@ybl", "upi [ID] or [ID]"),
        ("call +91-98765-43210 or 098765 43210", "call [PHONE] or [PHONE]"),
        ("US +1 (415) 555-2671, UK +44 20 7946 0958", "US [PHONE], UK [PHONE]"),
        ("office (022) 2345 6789", "office [PHONE]"),
        ("aadhaar 2345-6789-0123, card 4111111111111111", "aadhaar [ID], card [ID]"),
        ("pan abcde1234f and car MH12AB1234", "pan [ID] and car [ID]"),
        ("see t.me/somebody and www.site.in/page.", "see [HANDLE] and [URL]."),
        ("ping @some.one now", "ping [HANDLE] now"),
        ("born 12/05/1990, pincode 400050", "born [DATE], pincode [NUMBER]"),
        ("in 2019-2023 I paid 50000 at 10:30", "in 2019-2023 I paid 50000 at 10:30"),
        ("ring ९८७६५४३२१० now", "ring [PHONE] now"),
        ("I love my dad", "I love my dad"),
    ],
)
def test_deidentify_examples(text: str, expected: str) -> None:
    assert deidentify(text)[0] == expected


def test_deidentify_names_whole_words_any_case_and_the_companion() -> None:
    text, counts = deidentify(
        "zephyrine met ZEPHYRINE QUELLWATER and Quellwater's cat; Meera said hi, [NAME] kept",
        [DISPLAY_NAME, "Name"],
        companion="Meera",
    )
    assert text == "[NAME] met [NAME] and [NAME]'s cat; [COMPANION] said hi, [NAME] kept"
    assert counts == {"name": 3, "companion": 1}
    # Not inside longer words, and common words in a chosen name stay ordinary words.
    assert deidentify("Zephyrines love", ["Zephyrine Love"])[0] == "Zephyrines love"


_email = st.from_regex(r"[a-z0-9._%+-]{1,12}@[a-z0-9-]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True)
_digits = st.from_regex(r"\+?[0-9]{1,6}([ .()-]{0,2}[0-9]{1,6}){0,4}", fullmatch=True)
_pieces = st.lists(st.one_of(st.text(max_size=40), _email, _digits), max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=_pieces,
    glue=st.sampled_from(["", " ", ".", "@", "-", "\n"]),
    names=st.lists(st.text(max_size=20), max_size=3),
)
@example(pieces=["a@b.cc", ".+x@y.zz"], glue="", names=[])
@example(pieces=["x" * 4000, "1" * 30], glue="", names=["x" * 10])
@example(pieces=["[NAME]", "name"], glue=" ", names=["Name", "[", ""])
def test_deidentify_never_raises_nor_leaves_an_email_or_a_long_number(
    pieces: list[str], glue: str, names: list[str]
) -> None:
    text, counts = deidentify(glue.join(pieces), names, companion=names[0] if names else None)
    assert not EMAIL_SHAPE.search(text), text
    assert not LONG_DIGITS.search(text), text
    assert all(n > 0 for n in counts.values())
