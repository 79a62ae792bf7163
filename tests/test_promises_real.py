"""Promise tests that would fail if the promise broke (issue 13, item 5).

Each test drives the real bot end to end (fake Telegram and OpenAI on loopback), then checks what
the promise is about where it lives: raw file bytes, the live schema, the screens a person or a
staff member actually gets. Each also runs a positive control: a deliberately broken variant
(plaintext planted with sqlite3, a column added, a line removed, a rogue staff command) that the
same check must catch, so a check that cannot fail would fail here.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import sqlite3
import tomllib
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import handlers
from bot.config import Settings
from handlers import admin as admin_module
from handlers.admin import Admin, AdminCommand
from handlers.events import Reply
from handlers.ports import Channel
from handlers.texts import t
from safety import detect_distress
from tests import canary, postgres
from tests import db as stored
from tests.conftest import Bot, make_settings, settings_for
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

DISTRESS = "I want to kill myself tonight"


def resources_opening() -> str:
    """The safety reply's first line."""
    return t("safety.resources", lines="", emergency="").split("\n")[0]


def rows(db: stored.Target, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    return stored.query(db, sql, *args)


def user_ids(db: stored.Target) -> list[int]:
    """Internal account ids, in the order the accounts were created."""
    return [int(r[0]) for r in rows(db, "SELECT id FROM users ORDER BY id")]


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def holding(words: str) -> Callable[[SentMessage], bool]:
    """A wait_for_message predicate: the message holds `words`."""
    return lambda message: words in message.text


async def export_json(tg: FakeTelegram, user: int) -> dict[str, Any]:
    """/export, as the person gets it: the JSON document, decompressed if it came gzipped."""
    mark = tg.mark()
    tg.send_text(user, "/export")
    doc = await tg.wait_for_message(user, lambda m: m.document_bytes is not None, after=mark)
    assert doc.document_bytes is not None and doc.document_name is not None
    data = doc.document_bytes
    if doc.document_name.endswith(".gz"):
        data = gzip.decompress(data)
    result = json.loads(data)
    assert isinstance(result, dict)
    return result


# -- P12.2: every encrypted personal field, found in no file ---------------------------------------

PLAINTEXT_TG = 8765432109  # long enough that its digits cannot turn up in ciphertext by chance


def assert_nowhere(db: Path, needles: dict[str, str]) -> None:
    """No file of the data directory and no value of any table holds any of `needles`."""
    for label, needle in needles.items():
        assert canary.files_containing(db.parent, needle) == [], label
        assert canary.cells_containing(db, needle) == [], label


FIELDS = (
    "onboardingname",
    "message",
    "reply",
    "displayname",
    "country",
    "companionname",
    "nominee",
    "contact",
    "grievance",
    "grievancearg",
)
OVERWRITTEN = {"onboardingname"}  # renamed later: must be gone, cannot be exported


async def enter_every_field(tg: FakeTelegram, llm: FakeOpenAI, user: int) -> dict[str, str]:
    """Each personal field gets its own canary through the real screens (typed answers
    included); the canaries by field (tests/test_pg_forensics.py does the same on PostgreSQL)."""
    c = {label: canary.new(label) for label in FIELDS}
    await onboard(tg, user, name=c["onboardingname"])
    llm.enqueue(f"so glad you told me {c['reply']}")
    reply = await say(tg, user, f"my secret is {c['message']}")
    assert c["reply"] in reply.text
    for button, value in (("Set display name", "displayname"), ("Set country", "country")):
        ask = await press(tg, user, await say(tg, user, "/profile"), button)
        assert "(or /cancel)" in ask.text, ask.text
        assert "Saved" in (await say(tg, user, c[value])).text
    gender = await press(tg, user, await say(tg, user, "/profile"), "Set gender")
    await press_for_edit(tg, user, gender, "Non-binary")
    await press(tg, user, await say(tg, user, "/companion"), "Rename")
    assert "will remember" in (await say(tg, user, c["companionname"])).text
    await press(tg, user, await say(tg, user, "/nominate"), "Set or change")
    saved = await say(tg, user, f"{c['nominee']}, {c['contact']}@example.org")
    assert "is your nominee" in saved.text, saved.text
    assert "Tell me what's wrong" in (await say(tg, user, "/grievance")).text
    assert "ticket G-" in (await say(tg, user, f"charged twice {c['grievance']}")).text
    opened = await say(tg, user, f"/grievance refund please {c['grievancearg']}")
    assert "ticket G-" in opened.text
    return c


async def assert_exported(tg: FakeTelegram, user: int, c: dict[str, str]) -> None:
    """/export proves each field really was stored, so a search for them is not vacuous."""
    exported = json.dumps(await export_json(tg, user), ensure_ascii=False)
    for label, needle in c.items():
        assert (needle in exported) != (label in OVERWRITTEN), label


@pytest.mark.promise("P12.2")
@pytest.mark.sqlite_only  # every file of the data directory (PostgreSQL: test_pg_forensics.py)
async def test_every_encrypted_field_leaves_no_plaintext_in_any_file(
    e2e_settings: Settings, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """Each personal field gets its own canary through the real screens (typed answers included);
    then every file beside the database (database, -wal, -shm, the keys database and its own, the
    master key file) and every table value is searched. /export proves each field really was
    stored, so the search is not vacuous. Control: plaintext planted with sqlite3 into a main
    table (while the bot runs, so it sits in the WAL) and into the keys database is found."""
    db = Path(e2e_settings.storage.database_path)
    user = PLAINTEXT_TG
    async with Bot(e2e_settings, tg).running():
        c = await enter_every_field(tg, llm, user)
        files = [p.name for p in canary.data_files(db.parent)]
        assert db.name + "-wal" in files and canary.keys_path(db).name in files, files
        assert_nowhere(db, c)
        assert canary.files_containing(db.parent, str(user)) == []  # ids are hashed or sealed
        assert canary.cells_containing(db, "nonbinary") == []  # sealed choices too

        await assert_exported(tg, user, c)

        control = canary.new("controlmain")
        await asyncio.to_thread(
            canary.plant,
            db,
            "INSERT INTO job_runs (job, started_at) VALUES ('careless', ?)",
            (control,),
        )
        assert canary.cells_containing(db, control) == ["main.job_runs.started_at"]
        assert canary.files_containing(db.parent, control) != []

    assert_nowhere(db, c)  # after the checkpoint at shutdown too
    key_control = canary.new("controlkeys")
    canary.plant(db, "UPDATE keys.user_keys SET wrapped = ?", (key_control.encode(),))
    assert canary.files_containing(db.parent, key_control) == [canary.keys_path(db).name]
    assert canary.cells_containing(db, key_control) == ["keys.user_keys.wrapped"]


# -- P4.3: payment records, token and limited metadata only ---------------------------------------

PAYMENT_COLUMNS = {
    "id",
    "user_id",
    "provider_charge_id",
    "amount_minor",
    "currency",
    "status",
    "created_at",
    "telegram_charge_id",  # Telegram's reference for a Stars payment
    "subscription_id",  # the first payment's reference: what a renewal belongs to
    "period_end",  # the end of the Amigo Plus period paid for
    "refunded_at",
}
CARD_OR_UPI = re.compile(
    r"(^|_)(card|pan|cvv|cvc|upi|vpa|iban|ifsc|expiry|exp_month|exp_year|bank|account_number|"
    r"acct|cardholder)(_|$)",
    re.IGNORECASE,
)


def payment_schema_problems(schema: dict[str, list[str]]) -> list[str]:
    """What in the live schema could hold more than a payment token and limited metadata."""
    payments = schema.get("main.payments")
    if payments is None:
        return ["no payments table"]
    problems = [f"payments has {c}" for c in sorted(set(payments) - PAYMENT_COLUMNS)]
    problems += [
        f"{table}.{c}" for table, cs in schema.items() for c in cs if CARD_OR_UPI.search(c)
    ]
    return problems


def broken_copy_columns(db: Path, tmp_path: Path) -> dict[str, list[str]]:
    """The live schema of a copy of the database with a card and a UPI column added (on
    PostgreSQL a freshly migrated database: the test's schemas are shared with later tests)."""
    alter = (
        "ALTER TABLE payments ADD COLUMN card_last4 TEXT",
        "ALTER TABLE users ADD COLUMN upi_vpa TEXT",
    )
    if stored.is_postgres(db):
        name = postgres.create_database()
        try:
            copy = stored.Postgres(postgres.url_of(name), postgres.KEYS_SCHEMA)
            for statement in alter:
                stored.execute(copy, statement)
            return canary.columns(copy)
        finally:
            postgres.drop(name)
    path = tmp_path / "control" / "broken.db"
    path.parent.mkdir()
    with sqlite3.connect(db) as source, sqlite3.connect(path) as target:
        source.backup(target)
        for statement in alter:
            target.execute(statement)
    source.close()
    target.close()
    return canary.columns(path)


@pytest.mark.promise("P4.3")
async def test_payment_records_hold_only_a_token_and_limited_metadata(
    bot: Bot, tg: FakeTelegram, tmp_path: Path
) -> None:
    """The live schema after every migration (main and keys database or schema) has no
    place for card or UPI details, and a payment record comes back in /mydata and /export as
    exactly the token and its metadata. A record from another provider (INR, no Telegram charge)
    is written behind the code's back in the schema's own columns, as storage's readers expect it;
    Stars payments through the real flow are in tests/test_e2e_payments.py. Control: a copy of the live database with a card column and a
    UPI column added is caught by the same check."""
    user_tg = 1501
    db = Path(bot.settings.storage.database_path)
    await onboard(tg, user_tg)
    [uid] = user_ids(db)
    assert payment_schema_problems(canary.columns(db)) == []

    await asyncio.to_thread(
        canary.plant,
        db,
        "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency, status,"
        " created_at) VALUES (?, 'ch_3Pxyz', 49900, 'INR', 'paid', '2026-01-02T03:04:05+00:00')",
        (uid,),
    )
    assert "Payment records: 1" in (await say(tg, user_tg, "/mydata")).text
    records = (await export_json(tg, user_tg))["payment_records"]
    assert records == [
        {
            "provider_charge_id": "ch_3Pxyz",
            "amount_minor": 49900,
            "currency": "INR",
            "status": "paid",
            "created_at": records[0]["created_at"],
            "telegram_charge_id": None,
            "period_end": None,
            "refunded_at": None,
        }
    ]
    assert str(records[0]["created_at"]).startswith("2026-01-02T03:04:05")

    assert sorted(payment_schema_problems(broken_copy_columns(db, tmp_path))) == [
        "main.payments.card_last4",
        "main.users.upi_vpa",
        "payments has card_last4",
    ]


# -- P5.1: every purpose of the policy's table is shown by /privacy -------------------------------

POLICY = Path(handlers.__file__).parent / "privacy_policy.txt"
BASES = ("performance of contract", "consent", "legitimate interest", "legal obligation")


def policy_purpose_rows(policy: str) -> list[str]:
    """The rows of section 5's table (purpose, examples, lawful basis, flattened to one line)."""
    lines = policy.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"5\.\s+How We Use", line))
    header = next(
        i
        for i in range(start, len(lines))
        if lines[i].startswith("Purpose") and "Lawful basis" in lines[i]
    )
    table: list[str] = []
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        table.append(line.strip())
    return table


def shown_purposes(text: str) -> dict[str, str]:
    """Bulleted lines of a screen by the purpose name they start with (before '(', ',' or ':')."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if bullet := re.match(r"\s*[•*-]\s*(.+)", line):
            name = re.split(r"[(,:]", bullet.group(1), maxsplit=1)[0].strip()
            found[name] = line
    return found


def unshown_rows(table: list[str], shown: dict[str, str]) -> list[str]:
    """Policy rows no shown line names, or whose lawful basis the shown line leaves out."""
    missing: list[str] = []
    for row in table:
        names = [n for n in shown if n and row.casefold().startswith(n.casefold() + " ")]
        if not names:
            missing.append(row)
            continue
        line = shown[max(names, key=len)].casefold()
        missing += [f"{row} [basis: {b}]" for b in BASES if b in row.casefold() and b not in line]
    return missing


@pytest.mark.promise("P5.1")
async def test_privacy_shows_every_purpose_of_the_policys_table(bot: Bot, tg: FakeTelegram) -> None:
    """The purposes are parsed from the policy file (section 5's table), not written here; each
    row must be named by its own line of what /privacy sends, with the row's lawful basis.
    Control: the same screen with one purpose line removed, or one basis cut, is caught."""
    user = 1601
    table = policy_purpose_rows(POLICY.read_text())
    assert len(table) >= 5, table  # the parser found the table
    mark = tg.mark()
    tg.send_text(user, "/privacy")
    screen = await tg.wait_for_message(
        user, lambda m: any("/mydata" in label for label, _ in m.buttons()), after=mark
    )
    shown = shown_purposes(screen.text)
    assert unshown_rows(table, shown) == []
    claimed = {
        max((n for n in shown if row.casefold().startswith(n.casefold() + " ")), key=len)
        for row in table
    }
    assert len(claimed) == len(table)  # one line per row, no line standing in for two
    catalogue_lines = shown_purposes(t("privacy.purpose_list"))
    assert set(catalogue_lines) <= set(shown)  # the catalogue's lines, all of them

    row = table[2]
    name = max((n for n in shown if row.casefold().startswith(n.casefold() + " ")), key=len)
    without_line = screen.text.replace(shown[name] + "\n", "").replace(shown[name], "")
    assert unshown_rows(table, shown_purposes(without_line)) == [row]
    last = table[-1]
    last_name = max((n for n in shown if last.casefold().startswith(n.casefold() + " ")), key=len)
    cut = screen.text.replace(shown[last_name], shown[last_name].split(":")[0] + ":")
    assert [m for m in unshown_rows(table, shown_purposes(cut)) if m.startswith(last)] != []


# -- P6.4: no staff command lists or searches conversations; a review shows only its window ------

OWNER_TG, ALICE_TG, BOB_TG = 9101, 1401, 1402
MESSAGES = 12
FLAGGED = 6  # the distress message, flagged by the real safety path


def staff_messages(tg: FakeTelegram, after: int) -> list[str]:
    """Text and document contents of everything sent to the owner after call index `after`."""
    out: list[str] = []
    for call in tg.calls[after:]:
        sent = call.message
        if sent is not None and sent.chat_id == OWNER_TG:
            out.append(sent.text + (sent.document_bytes or b"").decode(errors="replace"))
    return out


def shown(canaries: list[str], texts: Iterable[str]) -> set[int]:
    joined = "\n".join(texts)
    return {i for i, needle in enumerate(canaries) if needle in joined}


@pytest.mark.promise("P6.4")
async def test_no_staff_command_shows_conversations_beyond_the_reviewed_window(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every admin command in the table, driven by an owner with plausible arguments (searches
    for a word of the chat included), then commands added later with generic ones: no reply
    holds words the person wrote, except /review. /review of a flag shows the flag's window (the
    flagged message and its neighbours), /review of an account its newest few messages: never
    anything older. Control: a rogue /browse that lists a history is caught by the same check."""
    settings = settings_for(tmp_path, tg, llm, staff={OWNER_TG: "owner"})
    db = settings.storage.database_path
    canaries = [canary.new(f"m{i}") for i in range(MESSAGES)]
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE_TG)
        for i, needle in enumerate(canaries):
            text = f"note {i} about the garden {needle}"
            if i == FLAGGED:
                text = f"{DISTRESS}, {text}"
                assert detect_distress(text) is not None
                mark = tg.mark()
                tg.send_text(ALICE_TG, text)
                await tg.wait_for_message(
                    ALICE_TG, lambda m: resources_opening() in m.text, after=mark
                )
                await tg.wait_for_message(ALICE_TG, holding(needle), after=mark)
            else:
                await say(tg, ALICE_TG, text, containing=needle)
        assert "ticket G-" in (await say(tg, ALICE_TG, "/grievance a billing question")).text
        await onboard(tg, BOB_TG)
        alice, bob = user_ids(db)
        [(flag,)] = rows(db, "SELECT id FROM safety_records WHERE user_id = ?", (alice,))
        ref = f"u{alice}"
        ticket = "G-" + f"{int(rows(db, 'SELECT id FROM grievances')[0][0]):06d}"
        window_of_flag = {FLAGGED - 1, FLAGGED, FLAGGED + 1}  # 2 on each side, replies included
        newest = {MESSAGES - 3, MESSAGES - 2, MESSAGES - 1}  # the last 5 rows: a9 u10 a10 u11 a11

        def allowed(name: str, args: str) -> set[int]:
            if name == "review" and args.startswith(f"f{flag} "):
                return window_of_flag
            if name == "review" and args.startswith(f"{ref} "):
                return newest
            if name == "exportfor" and args.startswith(f"{ref} email "):
                # The one exception, by design (issue 13, item 3): a request that came by
                # verified e-mail gets the person's own export through the owner, audited.
                return set(range(MESSAGES))
            return set()

        leaks: list[str] = []
        reviews: dict[str, list[str]] = {}
        excepted: list[str] = []

        def audits() -> int:
            return int(rows(db, "SELECT COUNT(*) FROM audit_log")[0][0])

        async def drive(name: str, args: str) -> list[str]:
            before, mark = audits(), tg.mark()
            tg.send_text(OWNER_TG, f"/{name} {args}".strip())
            await until(partial(lambda n: audits() > n, before))
            await asyncio.sleep(0.05)  # anything sent with the same command
            texts = staff_messages(tg, mark)
            if extra := shown(canaries, texts) - allowed(name, args):
                leaks.append(f"/{name} {args}: shows messages {sorted(extra)}")
            return texts

        searches = ["garden", f"{ref} garden", f"{ref} support garden"]
        safe: dict[str, list[str]] = {
            "admin": [""],
            "stats": [""],
            "flags": [""],
            "review": [f"f{flag} safety checking the flag", f"{ref} support they asked for help"],
            "hold": [f"{ref} court order 1/2026"],
            "holds": [""],
            "release": [ref],
            "retention": ["", "run"],
            "audit": ["", "200", "verify"],
            "grievances": [""],
            "ack": [ticket],
            "reply": [f"{ticket} we are looking into it"],
            "resolve": [ticket],
            "find": [f"{ALICE_TG} support request by email"],
            "exportfor": [f"{ref} chat asked by email", f"{ref} email verified request by email"],
            "nominee": [f"{ref} show checking the nominee"],
            "unminor": [f"{ALICE_TG} reviewed the id"],
        }
        harmful: dict[str, list[str]] = {
            "ban": [f"{ref} spamming the garden"],
            "unban": [ref],
            "broadcast": ["service garden maintenance tonight"],
            "breach": [f"{ref} a garden notice", "status", "preview"],
            "erasefor": [f"u{bob} asked by email"],
            "policy": ["publish 2027-01-01 minor garden wording"],
            "minor": [f"u{bob}"],
        }
        table = list(admin_module.ADMIN_COMMANDS)
        for name in (n for n in table if n in safe):
            for args in [*safe[name], *searches]:
                texts = await drive(name, args)
                if name == "review" and args in safe["review"]:
                    reviews[args] = texts
                if name == "exportfor" and args == safe["exportfor"][1]:
                    excepted = texts

        flag_review = "\n".join(reviews[safe["review"][0]])
        assert canaries[FLAGGED] in flag_review  # the review does show its window
        assert sum("[user]" in ln or "[assistant]" in ln for ln in flag_review.splitlines()) <= 5
        assert canaries[MESSAGES - 1] in "\n".join(reviews[safe["review"][1]])
        assert leaks == []

        async def browse(admin: Admin, role: str, args: str, channel: Channel) -> str:
            """The rogue: a history lister, as a careless new command would be."""
            history = await admin.deps.repo.messages_around(int(args.strip()[1:]), None, 1000)
            await channel.send(Reply("\n".join(m.text for m in history)))
            return "rogue"

        rogue = AdminCommand("browse", ("owner",), "/browse <u34>", browse)
        monkeypatch.setitem(admin_module.ADMIN_COMMANDS, "browse", rogue)
        rogue_texts = await drive("browse", ref)
        assert leaks == [f"/browse {ref}: shows messages {list(range(MESSAGES))}"]
        monkeypatch.delitem(admin_module.ADMIN_COMMANDS, "browse")
        leaks.clear()

        for name in (n for n in table if n in harmful):
            for args in harmful[name]:
                await drive(name, args)
        for name in (n for n in table if n not in safe and n not in harmful):
            for args in ["", *searches, f"u{bob}", f"{ref} support garden review", f"f{flag}"]:
                await drive(name, args)
        await asyncio.sleep(0.2)  # broadcasts finish in the background
        assert leaks == []
        everything = [t for t in staff_messages(tg, 0) if t not in rogue_texts + excepted]
        late = shown(canaries, everything) - window_of_flag - newest
        assert late == set(), late


# -- P14.2: a safety record holds no words of the message ----------------------------------------

SAFETY_COLUMNS = {
    "id",
    "user_id",
    "category",
    "severity",
    "message_id",
    "created_at",
    "reviewed_at",
}
IDENTIFIER = re.compile(r"[a-z][a-z0-9_.]{0,40}")


def safety_record_problems(db: Path) -> list[str]:
    """Anything in safety_records beyond a category, a severity, a reference and times."""
    columns = canary.columns(db)["main.safety_records"]
    problems = [f"column {c}" for c in columns if c not in SAFETY_COLUMNS]
    for record in rows(db, "SELECT category, severity, message_id FROM safety_records"):
        category, severity, message_id = record
        problems += [f"value {v!r}" for v in (category, severity) if not IDENTIFIER.fullmatch(v)]
        if message_id is not None and not isinstance(message_id, int):
            problems.append(f"reference {message_id!r}")
    return problems


@pytest.mark.promise("P14.2")
async def test_a_safety_record_holds_no_words_of_the_message(bot: Bot, tg: FakeTelegram) -> None:
    """A distress message with a canary: the canary and the distress words are in no file (the
    database, its WAL, the keys database) and no value of any table; the record is a category,
    a severity and a message reference. Control: the same record with the words copied into it
    (planted with sqlite3) is caught by all three checks."""
    user = 1701
    db = Path(bot.settings.storage.database_path)
    await onboard(tg, user)
    needle = canary.new("distress")
    text = f"{DISTRESS} {needle}"
    assert detect_distress(text) is not None
    mark = tg.mark()
    tg.send_text(user, text)
    await tg.wait_for_message(user, lambda m: resources_opening() in m.text, after=mark)
    await tg.wait_for_message(user, lambda m: needle in m.text, after=mark)
    [(category, severity, message_id)] = rows(
        db, "SELECT category, severity, message_id FROM safety_records"
    )
    [(body,)] = rows(db, "SELECT body_enc FROM messages WHERE id = ?", (message_id,))
    assert isinstance(body, bytes) and needle.encode() not in body  # the reference, sealed
    assert safety_record_problems(db) == []
    for words in (needle, "kill myself"):
        if not stored.is_postgres(db):  # the files (database, WAL, keys database) too
            assert canary.files_containing(db.parent, words) == [], words
        assert canary.cells_containing(db, words) == [], words

    await asyncio.to_thread(
        canary.plant, db, "UPDATE safety_records SET category = category || ': ' || ?", (text,)
    )
    assert safety_record_problems(db) == [f"value '{category}: {text}'"]
    assert canary.cells_containing(db, needle) == ["main.safety_records.category"]
    if not stored.is_postgres(db):
        assert canary.files_containing(db.parent, needle) != []
    assert severity and IDENTIFIER.fullmatch(str(severity))


# -- P14.1: every configured helpline reaches the person whose country it serves -----------------

Helpline = dict[str, str]
SHIPPED_CONFIG = Path(handlers.__file__).parent.parent / "config.toml"
ELSEWHERE: list[Helpline] = [
    {
        "country": "GB",
        "country_name": "United Kingdom",
        "name": "Samaritans",
        "number": "116 123",
        "hours": "24x7",
        "last_verified": "2026-01-15",
    },
    {
        "country": "GB",
        "country_name": "United Kingdom",
        "name": "Emergency",
        "number": "999",
        "hours": "",
        "last_verified": "",
    },
]


def missing_helplines(reply: str, helplines: list[Helpline]) -> list[str]:
    """Helplines whose name and number (with hours and check date, when set) no line shows."""
    missing: list[str] = []
    for h in helplines:
        line = next((ln for ln in reply.splitlines() if f"{h['name']}: {h['number']}" in ln), "")
        extras = [h[k] for k in ("hours", "last_verified") if h.get(k)]
        if not line or not all(extra in line for extra in extras):
            missing.append(h["name"])
    return missing


def helplines_toml(default_country: str, helplines: list[Helpline]) -> str:
    out = f"[safety]\ndefault_country = {json.dumps(default_country)}\n"
    for h in helplines:
        out += "[[safety.helplines]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in h.items())
    return out


async def safety_reply(tg: FakeTelegram, user: int) -> SentMessage:
    mark = tg.mark()
    tg.send_text(user, DISTRESS)
    return await tg.wait_for_message(user, lambda m: resources_opening() in m.text, after=mark)


@pytest.mark.promise("P14.1")
async def test_every_configured_helpline_reaches_the_people_of_its_country(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """The shipped config.toml's helplines and a second country's, configured from a file: a
    person whose /profile country matches (by name or code) gets every helpline of that country
    and its emergency number; everyone else (no country, or one with none listed) gets the
    default country's. Control: the reply with one line taken out, and another country's reply,
    are caught by the same check."""
    shipped: list[Helpline] = tomllib.loads(SHIPPED_CONFIG.read_text())["safety"]["helplines"]
    default = [h for h in shipped if h["country"] == "IN"]
    assert default, "the shipped config lists no helpline for India"
    (tmp_path / "config.toml").write_text(helplines_toml("IN", shipped + ELSEWHERE))
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
    )
    assert len(settings.safety.helplines) == len(shipped) + len(ELSEWHERE)
    people = {2101: None, 2102: "United Kingdom", 2103: "gb", 2104: "Atlantis"}
    replies: dict[int, str] = {}
    async with Bot(settings, tg).running():
        for user, country in people.items():
            await onboard(tg, user)
            if country:
                assert "Saved" in (await say(tg, user, f"/profile country {country}")).text
            replies[user] = (await safety_reply(tg, user)).text
    for user, country in people.items():
        wanted, others = (
            (ELSEWHERE, default) if country in ("United Kingdom", "gb") else (default, ELSEWHERE)
        )
        assert missing_helplines(replies[user], wanted) == [], (country, replies[user])
        assert missing_helplines(replies[user], others) == [h["name"] for h in others], country
        emergency = next(h["number"] for h in wanted if h["name"] == "Emergency")
        assert f"({emergency})" in replies[user], country

    alice = replies[2101]
    first = default[0]
    broken = "\n".join(ln for ln in alice.splitlines() if f"{first['name']}:" not in ln)
    assert missing_helplines(broken, default) == [first["name"]]
    assert missing_helplines(replies[2102], default) == [h["name"] for h in default]
