"""End to end: how replies reach Telegram (typing, splitting, formatting, flood control), and B6/P12.2."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.config import Secrets, Settings
from bot.runtime import Runtime
from bot.split import utf16_len
from tests import db as stored
from tests.conftest import CANARY, Bot, make_settings
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE = 601
BOB = 602


async def test_typing_is_shown_while_waiting_and_its_failure_never_stops_the_reply(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    llm.enqueue("thought about it", delay=1.0)
    mark = tg.mark()
    reply = await say(tg, ALICE, "think slowly")
    actions = [c for c in tg.calls[mark:] if c.method == "sendChatAction"]
    assert actions and actions[0].params["action"] == "typing"
    tg.fail_always("sendChatAction", status=500, description="Internal Server Error")
    llm.enqueue("still here")
    reply = await say(tg, ALICE, "again")
    assert reply.text == "still here"


async def test_long_replies_are_split_never_truncated(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    paragraphs = [f"Paragraph {i}: " + "नमस्ते दोस्त, 😊 how are you today? " * 12 for i in range(30)]
    long_reply = "\n\n".join(paragraphs)
    assert utf16_len(long_reply) > 3 * 4096
    await onboard(tg, ALICE)
    llm.enqueue(long_reply)
    mark = tg.mark()
    tg.send_text(ALICE, "tell me a long story")
    await tg.wait_for_message(ALICE, lambda m: "Paragraph 29" in m.text, after=mark)
    parts = [m for m in tg.messages_to(ALICE) if m.text.startswith("Paragraph")]
    assert len(parts) >= 4
    assert all(utf16_len(p.text) <= 4096 for p in parts)
    assert "\n\n".join(p.text for p in parts).split() == long_reply.split()


async def test_flood_control_is_honoured_not_turned_into_a_lost_reply(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    tg.fail_next("sendMessage", status=429, retry_after=1)
    llm.enqueue("after the flood")
    reply = await say(tg, ALICE, "hello")
    assert reply.text == "after the flood"
    refused = [c for c in tg.calls if c.method == "sendMessage"]
    assert len(refused) >= 2


async def test_flood_control_pauses_every_request_not_only_the_refused_one(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """Telegram asks a flooding bot to stop sending for retry_after: all of it, not one chat."""
    await onboard(tg, ALICE)
    await onboard(tg, BOB)
    tg.fail_next("sendMessage", status=429, retry_after=1, when=lambda p: p.get("chat_id") == ALICE)
    mark = tg.mark()
    tg.send_text(ALICE, "first")
    flooded = await tg.wait_for_call("sendMessage", lambda c: c.status == 429, after=mark)
    bob = await say(tg, BOB, "meanwhile")
    assert bob.text == "echo: meanwhile"
    bob_sent = next(
        c for c in tg.calls[mark:] if c.method == "sendMessage" and c.chat_id == BOB and c.ok
    )
    assert bob_sent.at - flooded.at >= 1.0  # waited out Alice's flood wait too
    await tg.wait_for_message(ALICE, lambda m: m.text == "echo: first", after=mark)


def test_the_rate_limiter_follows_the_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, AMIGO_TELEGRAM__REQUESTS_PER_SECOND="30", AMIGO_TELEGRAM__SEND_ATTEMPTS="3"
    )
    gate = Runtime(settings, Secrets("token", None, None)).gate  # one policy, either library
    assert gate.attempts == 3 and gate._overall is not None and gate._overall.max_rate == 30


async def test_formatting_telegram_rejects_falls_back_to_plain_text(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    tg.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: unsupported start tag",
        when=lambda params: params.get("parse_mode") == "HTML",
    )
    llm.enqueue("Some **bold** words")
    reply = await say(tg, ALICE, "format please")
    assert reply.parse_mode is None and "bold" in reply.text


async def test_llm_html_is_escaped_not_interpreted(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    llm.enqueue("Try <b>this</b> & <script>alert(1)</script>")
    reply = await say(tg, ALICE, "html?")
    assert reply.text == "Try <b>this</b> & <script>alert(1)</script>"


@pytest.mark.promise("B6")
@pytest.mark.promise("P12.2")
async def test_a_whole_conversation_leaves_no_plaintext_in_logs_or_database(
    bot: Bot,
    tg: FakeTelegram,
    llm: FakeOpenAI,
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    """B6 and P12.2: the canary is in no log record and nowhere in the database file or its WAL."""
    ALICE = 8765432109  # long enough that its digits cannot turn up in ciphertext by chance
    await onboard(tg, ALICE, name=CANARY)
    llm.default_reply = lambda request: f"I heard you say {CANARY}"
    await say(tg, ALICE, f"my secret is {CANARY}")
    llm.enqueue(status=500)
    llm.enqueue(status=500)
    llm.enqueue(status=500)
    await say(tg, ALICE, f"and again {CANARY}")
    tg.send_media(ALICE, "contact")
    await say(tg, ALICE, "/help")
    for record in caplog_all.records:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        assert CANARY not in text, record.name
    db = Path(bot.settings.storage.database_path)
    assert stored.cells_containing(db, CANARY) == []
    assert stored.cells_containing(db, str(ALICE)) == []  # ids are hashed
    if not stored.is_postgres(db):  # the files themselves too (database, WAL), byte for byte
        files = list(db.parent.glob(db.name + "*"))
        assert any(f.name.endswith("-wal") for f in files)
        for file in files:
            assert CANARY.encode() not in file.read_bytes(), file.name
            assert str(ALICE).encode() not in file.read_bytes(), file.name
    assert caplog_all.records, "the run logged nothing at all?"
    assert any(r.name.startswith("amigo") for r in caplog_all.records)
    assert all(r.levelno < logging.ERROR for r in caplog_all.records if r.name.startswith("amigo"))


@pytest.mark.promise("P12.2")
@pytest.mark.sqlite_only  # the file's mode (PostgreSQL: tests/test_pg_forensics.py)
async def test_database_file_is_owner_only(bot: Bot, tg: FakeTelegram) -> None:
    db = Path(bot.settings.storage.database_path)
    assert db.stat().st_mode & 0o077 == 0


async def test_a_failed_command_menu_registration_is_not_fatal(
    e2e_settings: Settings, tg: FakeTelegram
) -> None:
    tg.fail_always("setMyCommands", status=500, description="Internal Server Error")
    async with Bot(e2e_settings, tg).running():
        reply = await say(tg, ALICE, "/help")
    assert "/privacy" in reply.text


async def test_telegram_refusing_a_reply_loses_nothing(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard(tg, ALICE)
    attempts = bot.settings.telegram.send_attempts
    tg.fail_next("sendMessage", status=500, description="Internal Server Error", times=attempts)
    mark = tg.mark()
    tg.send_text(ALICE, "kept even if the reply fails")

    def all_refused(_: object) -> bool:
        return sum(not c.ok for c in tg.calls[mark:] if c.method == "sendMessage") >= attempts

    await tg.wait_for_call("sendMessage", all_refused, after=mark)
    reply = await say(tg, ALICE, "and now?")
    assert reply.text == "echo: and now?"
    contents = [m["content"] for m in llm.requests[-1]["messages"]]
    assert contents[-3:] == [
        "kept even if the reply fails",
        "echo: kept even if the reply fails",
        "and now?",
    ]
