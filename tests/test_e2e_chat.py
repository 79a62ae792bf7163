"""End to end: the real python-telegram-bot and openai client, over loopback HTTP, against fake servers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.config import Settings
from handlers.commands import COMMANDS
from tests import db as stored
from tests.conftest import CANARY, Bot, make_settings
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE, BOB = 501, 502


def db_rows(path: str, sql: str) -> list[tuple[object, ...]]:
    return stored.query(path, sql)


@pytest.mark.promise("P3.1")
async def test_over_18_onboarding_then_a_reply(bot: Bot, tg: FakeTelegram, llm: FakeOpenAI) -> None:
    done = await onboard(tg, ALICE, name="Meera")
    assert "I'm Meera" in done.text and "AI, not a human" in done.text
    llm.enqueue("Hi! **Lovely** to meet you.")
    reply = await say(tg, ALICE, "Hello there")
    assert reply.text == "Hi! Lovely to meet you." and reply.parse_mode == "HTML"
    assert "<b>Lovely</b>" in reply.raw_text
    request = llm.requests[-1]
    assert (
        request["messages"][0]["role"] == "system" and "Meera" in request["messages"][0]["content"]
    )
    assert request["messages"][-1] == {"role": "user", "content": "Hello there"}


@pytest.mark.promise("P3.1")
async def test_under_18_stores_no_content_and_cannot_retry(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    msg = await say(tg, ALICE, f"/start {CANARY}")
    msg = await press_for_edit(tg, ALICE, msg, "under 18")
    assert "only for adults" in msg.text and not msg.buttons()
    msg = await say(tg, ALICE, "/start")
    msg = await press(tg, ALICE, msg, "18 or older")
    assert "review" in msg.text
    db = bot.settings.storage.database_path
    assert db_rows(db, "SELECT COUNT(*) FROM users") == [(0,)]
    assert db_rows(db, "SELECT COUNT(*) FROM minor_markers") == [(1,)]
    assert llm.requests == []
    assert stored.cells_containing(db, CANARY) == []
    if not stored.is_postgres(db):  # the file itself too, byte for byte
        assert CANARY.encode() not in Path(db).read_bytes()


@pytest.mark.promise("P3.1")
async def test_text_before_consent_is_not_stored_or_sent(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    reply = await say(tg, ALICE, f"hi {CANARY}")
    assert "finish setting up" in reply.text
    msg = await tg.wait_for_message(ALICE, lambda m: "18 or older?" in m.text)
    await press(tg, ALICE, msg, "18 or older")
    reply = await say(tg, ALICE, f"again {CANARY}")
    await tg.wait_for_message(ALICE, lambda m: "accept the Terms" in m.text, after=tg.mark() - 2)
    assert llm.requests == []
    db = Path(bot.settings.storage.database_path)
    assert stored.cells_containing(db, CANARY) == []
    if not stored.is_postgres(db):  # the files themselves too (database, WAL), byte for byte
        raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert CANARY.encode() not in raw
    assert db_rows(str(db), "SELECT COUNT(*) FROM users") == [(0,)]


@pytest.mark.promise("P6.1")
async def test_memory_survives_a_restart(
    e2e_settings: Settings, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """P6.1: chats persist across restarts, and each reply uses that user's history."""
    harness = Bot(e2e_settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        await say(tg, ALICE, "My cat is called Biscuit")
    async with harness.running():
        await say(tg, ALICE, "What is my cat called?")
    contents = [m["content"] for m in llm.requests[-1]["messages"]]
    assert "My cat is called Biscuit" in contents
    assert contents[-1] == "What is my cat called?"


@pytest.mark.promise("P6.2")
async def test_window_is_trimmed_to_budget_and_holds_only_this_users_text(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """P6.2: older messages never sent once over budget; another user's text never sent."""
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        AMIGO_LLM__CONTEXT_TOKENS="700",
        AMIGO_LLM__REPLY_TOKENS="100",
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        await onboard(tg, BOB)
        await say(tg, BOB, f"bob secret {CANARY}")
        for i in range(12):
            await say(tg, ALICE, f"alice message {i} " + "lorem ipsum dolor " * 10)
    request = llm.requests[-1]
    contents = [m["content"] for m in request["messages"]]
    assert all(CANARY not in c for c in contents)
    assert not any(c.startswith("alice message 0 ") for c in contents)
    assert contents[-1].startswith("alice message 11 ")
    assert request["max_tokens"] == 100


async def test_new_starts_a_fresh_conversation_and_keeps_the_old(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    await say(tg, ALICE, "first conversation")
    reply = await say(tg, ALICE, "/new")
    assert "Fresh start" in reply.text
    await say(tg, ALICE, "second conversation")
    contents = [m["content"] for m in llm.requests[-1]["messages"][1:]]
    assert contents == ["second conversation"]
    db = bot.settings.storage.database_path
    assert db_rows(db, "SELECT COUNT(*) FROM conversations") == [(2,)]
    assert db_rows(db, "SELECT COUNT(*) FROM messages WHERE role = 'user'") == [(2,)]


@pytest.mark.parametrize("failure", ["500", "429", "empty", "timeout"])
async def test_llm_failure_apologises_keeps_the_message_then_recovers(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, failure: str
) -> None:
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        AMIGO_LLM__TIMEOUT_SECONDS="0.5",
        AMIGO_LLM__MAX_ATTEMPTS="2",
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        for _ in range(2):
            if failure == "empty":
                llm.enqueue(empty=True)
            elif failure == "timeout":
                llm.enqueue("too late", delay=2.0)
            else:
                llm.enqueue(status=int(failure))
        reply = await say(tg, ALICE, "are you there?")
        assert "couldn't think of a reply" in reply.text
        assert "Traceback" not in reply.text
        llm.enqueue("I'm back!")
        reply = await say(tg, ALICE, "hello again")
        assert reply.text == "I'm back!"
    contents = [m["content"] for m in llm.requests[-1]["messages"]]
    assert contents[-2:] == ["are you there?", "hello again"]  # the first message was kept


async def test_refused_connection_is_an_apology_not_a_crash(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL="http://127.0.0.1:9/v1",  # discard port: nothing listens
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        reply = await say(tg, ALICE, "anyone?")
        assert "couldn't think of a reply" in reply.text


async def test_streamed_completions_work(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI) -> None:
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        AMIGO_LLM__STREAM="true",
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        llm.enqueue("A streamed reply, in several pieces.")
        reply = await say(tg, ALICE, "stream please")
    assert reply.text == "A streamed reply, in several pieces."
    assert llm.requests[-1]["stream"] is True


async def test_ten_users_with_a_slow_llm_are_served_concurrently(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """Non-negotiable 7: one user's slow LLM call never holds up another."""
    users = list(range(700, 710))
    await asyncio.gather(*(onboard(tg, u) for u in users))
    llm.default_delay = 1.0
    mark = tg.mark()
    started = time.monotonic()
    for u in users:
        tg.send_text(u, f"hello from {u}")
    await asyncio.gather(
        *(tg.wait_for_message(u, lambda m: m.text.startswith("echo"), after=mark) for u in users)
    )
    elapsed = time.monotonic() - started
    assert elapsed < 5.0, f"10 users with a 1 s LLM took {elapsed:.1f} s"
    assert llm.concurrency_peak >= 5


async def test_one_users_messages_are_answered_in_order(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    llm.default_delay = 0.2
    mark = tg.mark()
    for i in range(3):
        tg.send_text(ALICE, f"number {i}")
    await tg.wait_for_message(ALICE, lambda m: m.text == "echo: number 2", after=mark)
    replies = [m.text for m in tg.messages_to(ALICE) if m.text.startswith("echo: number")]
    assert replies == ["echo: number 0", "echo: number 1", "echo: number 2"]


async def test_commands_menu_and_help_list_every_command(bot: Bot, tg: FakeTelegram) -> None:
    call = await tg.wait_for_call("setMyCommands")
    registered = [c["command"] for c in call.params["commands"]]
    assert registered == [c.name for c in COMMANDS]
    help_text = (await say(tg, ALICE, "/help")).text
    for command in COMMANDS:
        assert f"/{command.name}" in help_text
    assert "privacy@amigo.test" in help_text


async def test_unknown_command_gets_the_help(bot: Bot, tg: FakeTelegram) -> None:
    await say(tg, ALICE, "/frobnicate now")
    help_msg = await tg.wait_for_message(ALICE, lambda m: "Here's what you can do" in m.text)
    assert "/privacy" in help_msg.text


@pytest.mark.promise("P5.1")
@pytest.mark.promise("P7.1")
@pytest.mark.promise("P18.1")
async def test_privacy_shows_summary_contact_provider_and_the_full_policy(
    bot: Bot, tg: FakeTelegram
) -> None:
    msg = await say(tg, ALICE, "/privacy")
    assert "We do not sell your personal data" in msg.text
    assert "privacy@amigo.test" in msg.text and "the server at 127.0.0.1:" in msg.text
    msg = await tg.wait_for_message(ALICE, lambda m: "lawful" in m.text or "why we may" in m.text)
    assert "Marketing, only if you opt in: your consent" in msg.text
    doc = await press(tg, ALICE, msg, "Full policy")
    assert doc.document_name and doc.document_bytes
    assert b"Privacy Policy" in doc.document_bytes and b"privacy@amigo.test" in doc.document_bytes


@pytest.mark.promise("P4.4")
@pytest.mark.parametrize(
    "kind", ["photo", "voice", "video", "sticker", "document", "location", "contact"]
)
async def test_media_gets_a_clear_reply_and_nothing_is_stored(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI, kind: str
) -> None:
    await onboard(tg, ALICE)
    db = bot.settings.storage.database_path
    before = db_rows(db, "SELECT COUNT(*) FROM messages")
    mark = tg.mark()
    tg.send_media(ALICE, kind)
    reply = await tg.wait_for_message(ALICE, after=mark)
    assert "only read text" in reply.text
    assert db_rows(db, "SELECT COUNT(*) FROM messages") == before
    assert llm.requests == []


async def test_groups_are_told_once_that_amigo_talks_only_in_private(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    group = -100123
    mark = tg.mark()
    tg.send_text(ALICE, "hello group", chat_id=group, chat_type="group")
    notice = await tg.wait_for_message(group, after=mark)
    assert "only talk in private" in notice.text
    tg.send_text(BOB, "/start", chat_id=group, chat_type="group")
    tg.send_text(ALICE, "anyone?", chat_id=group, chat_type="supergroup")
    await say(tg, ALICE, "/help")  # a private round trip: the group updates were handled by now
    assert len(tg.messages_to(group)) == 1
    assert llm.requests == []
