"""The privacy rights through the dispatcher, with a real database and a fake model (fast)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.clock import FrozenClock
from handlers.commands import COMMANDS
from handlers.events import Reply
from handlers.router import Dispatcher
from storage.models import Account, Purpose
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import CANARY
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import USER, onboard, press, say


async def active(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> tuple[RecordingChannel, Account]:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    return ch, account


def with_config(dispatcher: Dispatcher, **changes: object) -> Dispatcher:
    """The same handlers and database, under other settings (a new policy version, say)."""
    config = replace(dispatcher.deps.config, **changes)  # type: ignore[arg-type]
    return Dispatcher(replace(dispatcher.deps, config=config))


@pytest.mark.promise("P9.3")
@pytest.mark.promise("P9.6")
async def test_consent_toggles_both_ways_in_one_tap_with_ledger_rows(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    """P9.3/P9.6: each optional consent toggles in one step; every change is in the ledger."""
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, "/consent")
    assert "Turn on: Marketing messages" in [b.label for row in ch.replies[-1].buttons for b in row]
    await press(dispatcher, ch, "cons:mkt")
    assert "Marketing messages is now yes" in ch.texts[-1]
    await press(dispatcher, ch, "cons:mkt")
    assert "now no" in ch.texts[-1]
    await press(dispatcher, ch, "cons:train")
    ledger = [(c.purpose, c.granted) for c in await repo.consents(account.id)]
    assert ledger[-3:] == [
        (Purpose.MARKETING, True),
        (Purpose.MARKETING, False),
        (Purpose.MODEL_IMPROVEMENT, True),
    ]
    assert all(c.policy_version == "2026-04-22" for c in await repo.consents(account.id))
    await say(dispatcher, ch, "still chatting")  # withdrawing optional consent changes nothing else
    assert ch.texts[-1] == "echo: still chatting"


@pytest.mark.promise("P9.3")
async def test_withdrawing_the_terms_stops_chat_and_offers_deletion(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    ch, account = await active(dispatcher, repo)
    await press(dispatcher, ch, "cons:terms")
    assert "so I've stopped" in ch.texts[-1]
    assert [b.data for row in ch.replies[-1].buttons for b in row] == ["pol:accept", "del:acct"]
    calls = len(model.history)
    await say(dispatcher, ch, f"hello? {CANARY}")
    assert "can't chat" in ch.texts[-1] and len(model.history) == calls
    await say(dispatcher, ch, "/mydata")  # the rights keep working
    assert "What we hold about you" in ch.texts[-1]
    await press(dispatcher, ch, "pol:accept")
    await say(dispatcher, ch, "back")
    assert ch.texts[-1] == "echo: back"
    terms = [c.granted for c in await repo.consents(account.id) if c.purpose is Purpose.TERMS]
    assert terms == [True, False, True]


@pytest.mark.promise("P17.1")
async def test_a_material_policy_change_blocks_chat_until_accepted(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    ch, account = await active(dispatcher, repo)
    changed = with_config(
        dispatcher,
        policy_version="2026-12-01",
        policy_material=True,
        policy_change_summary="We now keep backups for 14 days.",
    )
    calls = len(model.history)
    await say(changed, ch, "hi")
    assert "changed in ways that matter" in ch.texts[-1] and "14 days" in ch.texts[-1]
    await say(changed, ch, "hi again")
    assert "changed in ways that matter" in ch.texts[-1]
    assert len(model.history) == calls
    await press(changed, ch, "pol:accept")
    await say(changed, ch, "thanks")
    assert ch.texts[-1] == "echo: thanks"
    last = (await repo.consents(account.id))[-1]
    assert (last.purpose, last.granted, last.policy_version) == (Purpose.TERMS, True, "2026-12-01")


@pytest.mark.promise("P17.1")
async def test_a_minor_policy_change_is_told_once(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch, _ = await active(dispatcher, repo)
    changed = with_config(dispatcher, policy_version="2026-05-01", policy_material=False)
    await say(changed, ch, "one")
    assert "was updated" in ch.texts[-2] and ch.texts[-1] == "echo: one"
    await say(changed, ch, "two")
    assert ch.texts[-1] == "echo: two" and "was updated" not in ch.texts[-2]


@pytest.mark.promise("P9.2")
@pytest.mark.promise("P4.1")
async def test_profile_fields_are_optional_settable_and_clearable(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    ch, account = await active(dispatcher, repo)
    assert await repo.profile(account.id) == type(await repo.profile(account.id))()  # all empty
    await say(dispatcher, ch, "/profile")
    assert ch.texts[-1].count("not set") == 4  # the time zone too, with the one used instead
    await press(dispatcher, ch, "prof:display_name")
    calls = len(model.history)
    await say(dispatcher, ch, "Priya")
    assert len(model.history) == calls  # a typed answer never goes to the LLM
    await say(dispatcher, ch, "/profile country India")
    await press(dispatcher, ch, "prof:gender")
    await press(dispatcher, ch, "profg:woman")
    profile = await repo.profile(account.id)
    assert (profile.display_name, profile.gender, profile.country) == ("Priya", "woman", "India")
    await say(dispatcher, ch, "/profile clear")
    assert await repo.profile(account.id) == type(profile)()
    await say(dispatcher, ch, "/profile shoe-size 42")
    assert "Use /profile" in ch.texts[-1]


@pytest.mark.promise("P4.2")
@pytest.mark.promise("P9.2")
async def test_companion_settings_change_and_reach_the_system_prompt(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    ch, _ = await active(dispatcher, repo)
    await say(dispatcher, ch, "/companion")
    await press(dispatcher, ch, "comp:name")
    await say(dispatcher, ch, "Rohan")
    await press(dispatcher, ch, "compg:male")
    await press(dispatcher, ch, "compt:witty")
    await say(dispatcher, ch, "hello")
    system = model.history[-1][0]["content"]
    assert "You are Rohan" in system and "a man" in system and "witty" in system
    await press(dispatcher, ch, "compt:furious")  # not a tone: nothing changes
    await say(dispatcher, ch, "hi")
    assert "witty" in model.history[-1][0]["content"]


@pytest.mark.promise("P9.5")
async def test_nominee_can_be_set_changed_and_removed_and_is_encrypted(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, "/nominate")
    assert "Now: none" in ch.texts[-1]
    await press(dispatcher, ch, "nom:set")
    await say(dispatcher, ch, "no comma here")
    assert "Please send a name" in ch.texts[-1]
    await say(dispatcher, ch, f"Asha {CANARY}, asha@example.com")
    nominee = await repo.nominee(account.id)
    assert nominee is not None and nominee.contact == "asha@example.com"
    await say(dispatcher, ch, "/nominate Ravi Kumar, +91 98765 43210")
    assert (await repo.nominee(account.id)).name == "Ravi Kumar"  # type: ignore[union-attr]
    await say(dispatcher, ch, "/mydata")
    assert "Nominee: set" in ch.texts[-1]
    await press(dispatcher, ch, "nom:remove")
    assert await repo.nominee(account.id) is None
    raw = b"".join(row[0] for row in stored.query(repo, "SELECT body_enc FROM messages"))
    assert CANARY.encode() not in raw and stored.cells_containing(repo, CANARY) == []
    if not stored.is_postgres(repo):  # the file itself too, byte for byte
        assert CANARY.encode() not in repo.path.read_bytes()


@pytest.mark.promise("P9.4")
async def test_grievance_gets_a_ticket_and_due_dates_at_once(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, "/grievance")
    calls = len(model.history)
    await say(dispatcher, ch, f"My data was wrong {CANARY}")
    assert len(model.history) == calls
    assert "ticket G-000001" in ch.texts[-1]
    assert "04 Jan 2026, 12:00 UTC" in ch.texts[-1]  # 72 hours after 1 Jan 12:00
    assert "31 Jan 2026" in ch.texts[-1]  # 30 days
    [ticket] = await repo.grievances(account.id)
    assert ticket.text.endswith(CANARY) and ticket.status == "open"
    assert ticket.ack_due - ticket.created_at == timedelta(hours=72)
    await say(dispatcher, ch, "/grievance " + "x" * 4000)
    assert "under 3000 characters" in ch.texts[-1]


async def test_cancel_ends_a_typed_answer_and_commands_do_too(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    ch, _ = await active(dispatcher, repo)
    await say(dispatcher, ch, "/grievance")
    await say(dispatcher, ch, "/cancel")
    assert ch.texts[-1] == "Cancelled."
    await say(dispatcher, ch, "just chatting")
    assert ch.texts[-1] == "echo: just chatting"
    await say(dispatcher, ch, "/nominate")
    await press(dispatcher, ch, "nom:set")
    await say(dispatcher, ch, "/help")
    await say(dispatcher, ch, "chat again")
    assert ch.texts[-1] == "echo: chat again"
    await say(dispatcher, ch, "/cancel")
    assert ch.texts[-1] == "Nothing to cancel."


@pytest.mark.promise("B5")
async def test_autodelete_setting_and_the_query_that_finds_what_is_due(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch, _ = await active(dispatcher, repo)
    await say(dispatcher, ch, "old message")
    await press(dispatcher, ch, "auto:7")
    assert "after 7 days" in ch.texts[-1]
    assert await repo.messages_due_for_autodelete(clock.now()) == []
    clock.advance(days=6, hours=23)
    assert await repo.messages_due_for_autodelete(clock.now()) == []
    await say(dispatcher, ch, "newer message")
    clock.advance(hours=2)
    due = await repo.messages_due_for_autodelete(clock.now())
    assert len(due) == 2  # the old message and its reply, not the newer ones
    await press(dispatcher, ch, "auto:5")  # not a choice: ignored
    await press(dispatcher, ch, "auto:0")
    assert await repo.messages_due_for_autodelete(clock.now()) == []
    await say(dispatcher, ch, "/mydata")
    assert "Kept while your account is open" in ch.texts[-1]


@pytest.mark.promise("P9.1")
@pytest.mark.promise("B3")
@pytest.mark.promise("P7.1")
async def test_mydata_lists_categories_purposes_retention_consents_recipients_and_access(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, "hello")
    await say(dispatcher, ch, "/mydata")
    text = ch.texts[-1]
    assert "Conversations: 1, with 2 messages" in text
    assert "Payment records: 0" in text and "Kept 7 years" in text
    assert "Safety records: 0" in text and "365 days" in text
    assert "Marketing messages: no" in text and "Terms and Privacy Policy (required): yes" in text
    assert "OpenAI" in text
    assert "Staff access to your data:\n• None" in text
    await repo.record_staff_access(account.id, "reviewer", "safety")
    await say(dispatcher, ch, "/mydata")
    assert "reviewer, for safety" in ch.texts[-1]


async def test_rights_commands_need_an_account(dispatcher: Dispatcher) -> None:
    ch = RecordingChannel()
    for command in ("/mydata", "/export", "/delete", "/consent", "/nominate"):
        await say(dispatcher, ch, command)
        assert "set up Amigo" in " ".join(ch.texts[-2:])
    await press(dispatcher, ch, "delok:acct")
    assert "set up Amigo" in ch.texts[-1]


def test_every_command_has_help_text() -> None:
    from handlers.texts import catalogue

    names = [c.name for c in COMMANDS]
    known = catalogue().entries
    assert len(names) == len(set(names)) and all(c.help_key in known for c in COMMANDS)


async def test_every_command_answers(dispatcher: Dispatcher, repo: SqliteRepository) -> None:
    ch, _ = await active(dispatcher, repo)
    for command in COMMANDS:  # each one routed to a handler, none falls through to "unknown"
        before = len(ch.replies)
        await say(dispatcher, ch, f"/{command.name}")
        assert len(ch.replies) > before, command.name
        assert "something went wrong" not in " ".join(ch.texts[before:]), command.name
        assert "don't know that command" not in " ".join(ch.texts[before:]), command.name
        await say(dispatcher, ch, "/cancel")


@pytest.mark.promise("P9.7")
async def test_an_export_too_large_for_telegram_goes_out_gzip_compressed(
    dispatcher: Dispatcher, repo: SqliteRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram refuses documents over 50 MB: a large export is compressed, never refused."""
    import gzip
    import json

    import handlers.export

    monkeypatch.setattr(handlers.export, "PLAIN_LIMIT_BYTES", 100)
    ch, _ = await active(dispatcher, repo)
    await say(dispatcher, ch, f"a message worth keeping {CANARY}")
    captured: list[bytes] = []
    original = ch.send

    async def keep_bytes(reply: Reply) -> bool:  # the temporary file is gone after sending
        if reply.document is not None:
            captured.append(reply.document.read())
        return await original(reply)

    ch.send = keep_bytes  # type: ignore[method-assign]
    await say(dispatcher, ch, "/export")
    document = ch.replies[-1].document
    assert document is not None and document.filename.endswith(".json.gz")
    data = json.loads(gzip.decompress(captured[0]))
    assert any(CANARY in m["text"] for c in data["conversations"] for m in c["messages"])
