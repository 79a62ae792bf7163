"""End to end: limits, floods, repeats, redelivered updates, bans, the LLM cap, and safety replies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Settings
from core.clock import FrozenClock
from safety import detect_distress
from tests import db as stored
from tests.conftest import CANARY, Bot, settings_for
from tests.e2e import onboard, say, write_db
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE, BOB = 1201, 1202


async def after_all_sent(tg: FakeTelegram, user: int) -> None:
    """Wait until everything `user` sent so far is handled: a button (never rate limited) pressed
    now is handled after it, in order; it asks for the policy file."""
    mark = tg.mark()
    tg.press_button(user, "privacy:policy", message_id=tg.last_message(user).message_id)
    await tg.wait_for_message(user, lambda m: m.document_name is not None, after=mark)


def rows(db: str, sql: str) -> list[tuple[object, ...]]:
    return stored.query(db, sql)


@pytest.mark.promise("P15.1")
async def test_rate_limit_reached_then_lifted(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    settings = settings_for(
        tmp_path, tg, llm, AMIGO_LIMITS__BURST="3", AMIGO_LIMITS__PER_MINUTE="6"
    )
    async with Bot(settings, tg, clock).running():
        await onboard(tg, ALICE)
        clock.advance(minutes=5)  # onboarding taps used up the burst; a fresh start
        replies = [(await say(tg, ALICE, f"message {i}")).text for i in range(4)]
        assert replies[:3] == ["echo: message 0", "echo: message 1", "echo: message 2"]
        assert "Try again in" in replies[3]
        before = len(tg.messages_to(ALICE))
        tg.send_text(ALICE, "message 4")  # refused as well, in silence: told once is enough
        await after_all_sent(tg, ALICE)
        assert not any("Try again in" in m.text for m in tg.messages_to(ALICE)[before:])
        clock.advance(seconds=10)
        assert (await say(tg, ALICE, "after a pause")).text == "echo: after a pause"
    db = settings.storage.database_path
    stored = rows(db, "SELECT COUNT(*) FROM messages WHERE role = 'user'")
    assert stored == [(4,)]  # refused messages are not stored, accepted ones are
    assert rows(db, "SELECT category FROM safety_records") == []


@pytest.mark.promise("P15.1")
async def test_a_flood_is_flagged_for_the_operator_not_banned(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    settings = settings_for(
        tmp_path, tg, llm, AMIGO_LIMITS__BURST="2", AMIGO_LIMITS__PER_MINUTE="2"
    )
    async with Bot(settings, tg, clock).running():
        await onboard(tg, ALICE)
        before = len(tg.messages_to(ALICE))
        for i in range(8):
            tg.send_text(ALICE, f"spam {i}")
        await after_all_sent(tg, ALICE)
        told = [m.text for m in tg.messages_to(ALICE)[before:] if "Try again in" in m.text]
        assert len(told) == 1  # every refusal after the first is silent
        clock.advance(minutes=2)
        assert (await say(tg, ALICE, "sorry")).text == "echo: sorry"
    db = settings.storage.database_path
    assert rows(db, "SELECT category, severity FROM safety_records") == [("abuse.flood", "low")]
    assert rows(db, "SELECT status FROM users") == [("active",)]


@pytest.mark.promise("P15.1")
async def test_daily_allowance_resets_the_next_day(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_LIMITS__DAILY_MESSAGES="2")
    async with Bot(settings, tg, clock).running():
        await onboard(tg, ALICE)
        assert (await say(tg, ALICE, "one")).text == "echo: one"
        assert (await say(tg, ALICE, "two")).text == "echo: two"
        assert "today's limit of 2" in (await say(tg, ALICE, "three")).text
        clock.advance(days=1)
        assert (await say(tg, ALICE, "new day")).text.endswith("echo: new day")


@pytest.mark.promise("P15.1")
async def test_repeats_are_flagged_and_refused_and_too_long_is_refused(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(
        tmp_path, tg, llm, AMIGO_LIMITS__REPEAT_THRESHOLD="3", AMIGO_LIMITS__MAX_MESSAGE_CHARS="100"
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        texts = [(await say(tg, ALICE, "same thing")).text for _ in range(4)]
        assert texts[:2] == ["echo: same thing"] * 2 and all("few times" in t for t in texts[2:])
        assert "too long" in (await say(tg, ALICE, "x" * 101)).text
        assert (await say(tg, ALICE, "something new")).text == "echo: something new"
    db = settings.storage.database_path
    assert rows(db, "SELECT category FROM safety_records") == [("abuse.repeat",)]
    assert len(llm.requests) == 3


@pytest.mark.promise("P15.1")
async def test_fifty_users_at_once_never_exceed_the_llm_cap(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_LIMITS__MAX_CONCURRENT_LLM_CALLS="5")
    users = list(range(3000, 3050))
    async with Bot(settings, tg).running():
        await asyncio.gather(*(onboard(tg, u) for u in users))
        llm.default_delay = 0.2
        mark = tg.mark()
        for u in users:
            tg.send_text(u, f"hi from {u}")
        await asyncio.gather(
            *(
                tg.wait_for_message(u, lambda m: m.text.startswith("echo"), after=mark, timeout=30)
                for u in users
            )
        )
    assert llm.concurrency_peak <= 5
    assert len(llm.requests) == 50


async def test_a_redelivered_update_is_answered_once_even_across_a_restart(
    e2e_settings: Settings, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    harness = Bot(e2e_settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        update_id = tg.send_text(ALICE, "only once please")
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: only once please")
        raw = next(u for u in tg.updates if u["update_id"] == update_id)
        tg.push_update(dict(raw))
        await say(tg, ALICE, "/help")
    async with harness.running():
        tg.push_update(dict(raw))
        await say(tg, ALICE, "/help")
    replies = [m for m in tg.messages_to(ALICE) if m.text == "echo: only once please"]
    assert len(replies) == 1
    db = e2e_settings.storage.database_path
    assert rows(db, "SELECT COUNT(*) FROM messages WHERE role = 'user'") == [(1,)]


@pytest.mark.promise("P15.1")
async def test_a_banned_account_is_refused_and_nothing_is_stored(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    db = bot.settings.storage.database_path
    await write_db(db, "UPDATE users SET status = 'banned'")
    reply = await say(tg, ALICE, f"let me in {CANARY}")
    assert "can't chat with Amigo" in reply.text
    assert rows(db, "SELECT COUNT(*) FROM messages") == [(0,)]
    assert "What we hold about you" in (await say(tg, ALICE, "/mydata")).text  # rights still work
    assert "can't chat" in (await say(tg, ALICE, "/new")).text
    assert llm.requests == []


@pytest.mark.promise("P14.1")
@pytest.mark.promise("P14.2")
async def test_distress_surfaces_helplines_and_records_no_text(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    phrase = "I want to kill myself tonight"
    assert detect_distress(phrase) is not None
    await onboard(tg, ALICE)
    llm.enqueue("I'm really glad you told me. I'm here with you.")
    mark = tg.mark()
    tg.send_text(ALICE, phrase)
    reply = await tg.wait_for_message(ALICE, after=mark)
    help_msg = await tg.wait_for_message(ALICE, lambda m: "Tele-MANAS" in m.text, after=mark)
    assert "glad you told me" in reply.text
    assert (
        "14416" in help_msg.text and "112" in help_msg.text and "not medical care" in help_msg.text
    )
    system = llm.requests[-1]["messages"][0]["content"]
    assert "safe-messaging" in system
    db = bot.settings.storage.database_path
    [(category, _severity, message_id)] = rows(
        db, "SELECT category, severity, message_id FROM safety_records"
    )
    assert category in ("suicide", "self_harm") and message_id is not None
    columns = stored.tables(db)["main.safety_records"]
    assert not any("text" in c or "body" in c for c in columns)  # P14.2: no copy of the words
    assert (await say(tg, ALICE, "thank you")).text == "echo: thank you"  # never cut off


async def test_the_companion_says_it_is_an_ai_when_asked_and_every_three_hours(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, clock: FrozenClock
) -> None:
    from safety import asks_if_ai

    settings = settings_for(tmp_path, tg, llm)
    async with Bot(settings, tg, clock).running():
        await onboard(tg, ALICE)
        assert (await say(tg, ALICE, "hello")).text == "echo: hello"
        clock.advance(hours=3, minutes=1)
        assert "I'm an AI, not a human" in (await say(tg, ALICE, "still there?")).text
        assert (await say(tg, ALICE, "ok")).text == "echo: ok"
        if asks_if_ai("are you a real person?"):
            reply = await say(tg, ALICE, "are you a real person?")
            assert "I'm an AI, not a human" in reply.text
            assert "not a human" in llm.requests[-1]["messages"][0]["content"]


@pytest.mark.promise("P14.1")
async def test_a_configured_moderation_endpoint_is_used_as_well(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    subtle = "tell me about the old quarry road again"  # the built-in check lets it pass
    assert detect_distress(subtle) is None
    llm.flagged_phrases.add("quarry road")
    settings = settings_for(
        tmp_path, tg, llm, AMIGO_SAFETY__MODERATION_MODEL="omni-moderation-latest"
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        mark = tg.mark()
        tg.send_text(ALICE, subtle)
        await tg.wait_for_message(ALICE, lambda m: "Tele-MANAS" in m.text, after=mark)
        assert (await say(tg, ALICE, "a sunny day")).text == "echo: a sunny day"
    assert [r["input"] for r in llm.moderation_requests] == [subtle, "a sunny day"]
    assert rows(settings.storage.database_path, "SELECT category FROM safety_records") == [
        ("self_harm",)
    ]


async def test_without_a_moderation_model_the_endpoint_is_never_called(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    await say(tg, ALICE, "hello")
    assert llm.moderation_requests == []
