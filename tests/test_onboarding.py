"""Onboarding logic through the dispatcher with a real database and a fake model (fast)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.clock import FrozenClock
from handlers.events import ButtonPress, Media, Sender, Text
from handlers.router import Dispatcher
from storage.models import Companion, Purpose, Status
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import CANARY
from tests.doubles import FakeModel, RecordingChannel

USER = Sender(1001, 1001)


async def say(d: Dispatcher, ch: RecordingChannel, text: str, who: Sender = USER) -> None:
    await d.handle(Text(who, text), ch)


async def press(d: Dispatcher, ch: RecordingChannel, data: str, who: Sender = USER) -> None:
    await d.handle(ButtonPress(who, data, message_id=1), ch)


async def onboard(d: Dispatcher, ch: RecordingChannel, who: Sender = USER, name: str = "") -> None:
    await say(d, ch, "/start", who)
    await press(d, ch, "age:yes", who)
    await press(d, ch, ch.button("terms:"), who)
    await press(d, ch, "train:n", who)
    await press(d, ch, "mkt:n", who)
    if name:
        await say(d, ch, name, who)
    else:
        await press(d, ch, "name:default", who)
    await press(d, ch, "gender:female", who)
    await press(d, ch, "tone:warm", who)


def table_rows(repo: SqliteRepository) -> int:
    """Rows in every table of the data database, bookkeeping aside (either backend)."""
    tables = [
        name.removeprefix("main.") for name in stored.tables(repo) if name.startswith("main.")
    ]
    skip = {"meta", "schema_migrations", "id_high_water"}  # bookkeeping, nobody's data
    return sum(stored.scalar(repo, f"SELECT COUNT(*) FROM {t}") for t in tables if t not in skip)


@pytest.mark.promise("P3.1")
async def test_nothing_is_stored_or_sent_before_terms(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel
) -> None:
    """P3.1: before the age gate and Terms, text is neither stored nor sent to the LLM."""
    ch = RecordingChannel()
    await say(dispatcher, ch, f"hello {CANARY}")
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    await say(dispatcher, ch, f"still me {CANARY}")
    assert table_rows(repo) == 0
    assert model.history == []
    assert stored.cells_containing(repo, CANARY) == []
    if not stored.is_postgres(repo):  # the file itself too, byte for byte
        assert CANARY.encode() not in repo.path.read_bytes()
    assert "accept" in ch.replies[-1].text.lower()  # pointed back to the Terms step


@pytest.mark.promise("P3.1")
async def test_under_18_keeps_only_a_keyed_marker_and_blocks_a_later_yes(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:no")
    assert "only for adults" in ch.texts[-1]
    markers = stored.query(repo, "SELECT tg_ref FROM minor_markers")
    assert len(markers) == 1 and str(USER.tg_id).encode() not in markers[0][0]
    assert stored.scalar(repo, "SELECT COUNT(*) FROM users") == 0
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    assert "review" in ch.texts[-1]
    assert await repo.find_account(USER.tg_id) is None


async def test_full_onboarding_records_every_decision(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    await press(dispatcher, ch, ch.button("terms:"))
    await press(dispatcher, ch, "train:y")
    await press(dispatcher, ch, "mkt:n")
    await say(dispatcher, ch, "Meera 🌸")
    await press(dispatcher, ch, "gender:female")
    await press(dispatcher, ch, "tone:playful")
    assert "All set! I'm Meera 🌸" in ch.texts[-1]
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.status is Status.ACTIVE
    ledger = {(c.purpose, c.granted) for c in await repo.consents(account.id)}
    assert ledger == {
        (Purpose.AGE_18_PLUS, True),
        (Purpose.TERMS, True),
        (Purpose.MODEL_IMPROVEMENT, True),
        (Purpose.MARKETING, False),
    }
    assert all(c.policy_version for c in await repo.consents(account.id))
    companion = await repo.companion(account.id)
    assert companion is not None and (companion.gender, companion.tone) == ("female", "playful")


async def test_optional_consents_are_not_preselected(dispatcher: Dispatcher) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    await press(dispatcher, ch, ch.button("terms:"))
    training = ch.replies[-1]
    assert [b.data for b in training.buttons[0]] == ["train:y", "train:n"]
    assert "✓" not in "".join(b.label for b in training.buttons[0])


async def test_forged_or_expired_gate_token_is_refused(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch = RecordingChannel()
    await press(dispatcher, ch, "terms:abc.forged")
    assert await repo.find_account(USER.tg_id) is None
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    token = ch.button("terms:")
    other = Sender(2002, 2002)
    await press(dispatcher, ch, token, other)  # someone else's button
    assert await repo.find_account(other.tg_id) is None
    clock.advance(days=2)
    await press(dispatcher, ch, token)
    assert await repo.find_account(USER.tg_id) is None
    assert "expired" in " ".join(ch.texts[-2:])


@pytest.mark.promise("D5.3")
async def test_the_terms_language_is_signed_so_the_ledger_records_the_one_shown(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    """The Terms shown in Hindi: a button edited to claim English is refused, the real one opens
    the account in Hindi, and both ledger rows (18+, Terms) say so."""
    ch = RecordingChannel()
    hindi = Sender(3003, 3003, language_code="hi-IN")
    await say(dispatcher, ch, "/start", hindi)
    await press(dispatcher, ch, ch.button("age:hi:yes"), hindi)
    accept = ch.button("terms:hi:")
    await press(dispatcher, ch, accept.replace("terms:hi:", "terms:en:"), hindi)
    assert await repo.find_account(hindi.tg_id) is None
    await say(dispatcher, ch, "/start", hindi)
    await press(dispatcher, ch, ch.button("age:hi:yes"), hindi)
    await press(dispatcher, ch, ch.button("terms:hi:"), hindi)
    account = await repo.find_account(hindi.tg_id)
    assert account is not None and account.language == "hi"
    assert [c.language for c in await repo.consents(account.id)] == ["hi", "hi"]


async def test_declining_terms_stores_nothing(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    await press(dispatcher, ch, "terms:no")
    assert table_rows(repo) == 0
    assert "/start" in ch.texts[-1]


async def test_invalid_companion_names_are_refused(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    await press(dispatcher, ch, ch.button("terms:"))
    await press(dispatcher, ch, "train:n")
    await press(dispatcher, ch, "mkt:n")
    for bad in ["x" * 40, "https://spam.example", "\u202eevil", "   "]:
        await say(dispatcher, ch, bad)
        assert "Please pick a name" in " ".join(ch.texts[-2:])
    await say(dispatcher, ch, "Zoë")
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    assert await repo.companion(account.id) == Companion("Zoë", "nonbinary", "warm")


async def test_stale_and_repeated_buttons_change_nothing(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(dispatcher, ch, "/start")
    await press(dispatcher, ch, "age:yes")
    token = ch.button("terms:")
    await press(dispatcher, ch, token)
    await press(dispatcher, ch, token)  # double tap
    await press(dispatcher, ch, "tone:warm")  # a later step's button, too early
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.status is Status.ONBOARDING
    assert len(await repo.consents(account.id)) == 2
    assert "earlier step" in " ".join(ch.texts[-2:])


async def test_media_is_never_stored(dispatcher: Dispatcher, repo: SqliteRepository) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    before = table_rows(repo)
    await dispatcher.handle(Media(USER, "photo"), ch)
    assert "only read text" in ch.texts[-1]
    assert table_rows(repo) == before


async def test_chat_after_onboarding_uses_the_companion(
    dispatcher: Dispatcher, model: FakeModel
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch, name="Kabir")
    model.enqueue("Hello **there**")
    await say(dispatcher, ch, "hi")
    assert ch.replies[-1].text == "Hello **there**" and ch.replies[-1].format == "markdown"
    system = model.history[-1][0]
    assert system["role"] == "system" and "Kabir" in system["content"] and "AI" in system["content"]
    assert model.history[-1][-1] == {"role": "user", "content": "hi"}
    assert ch.typing_count == 1


async def test_an_unexpected_error_reaches_the_user_as_an_apology_not_a_traceback(
    dispatcher: Dispatcher, model: FakeModel
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    model.enqueue(RuntimeError(f"internal detail {CANARY}"))
    await say(dispatcher, ch, "hi")
    assert ch.texts[-1].startswith("Sorry, something went wrong")
    assert CANARY not in ch.texts[-1] and "Traceback" not in ch.texts[-1]
    model.enqueue("fine again")
    await say(dispatcher, ch, "hello?")
    assert ch.texts[-1] == "fine again"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=4096))
@example(text="न" * 4096)
@example(text="\x00\u202e\ud7ff\U0010ffff 👩‍🚀" * 100)
async def test_any_unicode_text_is_stored_and_answered(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel, text: str
) -> None:
    """Odd Unicode, control characters, 4,096 characters: never a crash, never a lost message."""
    ch = RecordingChannel()
    account = await repo.find_account(USER.tg_id)
    if account is None:
        await onboard(dispatcher, ch)
        account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    if text.startswith("/"):
        text = " " + text
    await say(dispatcher, ch, text)
    assert any(t.startswith("echo:") for t in ch.texts[-2:])  # a distress note may follow it
    stored = await repo.recent_messages(account.id, account.conversation_id, 2)
    assert [m.role for m in stored] == ["assistant", "user"] and stored[1].text == text
