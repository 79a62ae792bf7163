"""End to end: faults found by outside fault and load runs, each shown through the real bot.

An export Telegram refused is neither counted nor silent; a lone UTF-16 surrogate is stored and
answered; a "delete" confirmation deletes only what existed when it was shown.
"""

from __future__ import annotations

import json

import pytest

from handlers.texts import t
from tests.conftest import Bot
from tests.delete_helpers import (
    ALICE,
    ask,
    chat,
    conversation_ids,
    holdings,
    new_conversation,
    newest_user_id,
    query,
    user_contents,
)
from tests.e2e import onboard, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

HELP_START = t("help", commands="", contact="").split(":")[0]
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for an inline button's data


# -- 1. an export Telegram refused is not counted ---------------------------------------------


@pytest.mark.promise("P9.7")
async def test_an_undelivered_export_is_not_counted_and_can_be_retried_at_once(
    bot: Bot, tg: FakeTelegram, caplog_all: pytest.LogCaptureFixture
) -> None:
    await onboard(tg, ALICE)
    attempts = bot.settings.telegram.send_attempts
    tg.fail_next(
        "sendDocument", status=400, description="Bad Request: file too big", times=attempts
    )
    mark, before = tg.mark(), len(tg.messages_to(ALICE))
    tg.send_text(ALICE, "/export")
    tg.send_text(ALICE, "/help")  # handled in order: once it is answered, /export was handled
    await tg.wait_for_message(ALICE, lambda m: m.text.startswith(HELP_START), after=mark)
    refused = [c for c in tg.calls[mark:] if c.method == "sendDocument"]
    assert refused and not any(c.ok for c in refused)
    told = [m.text for m in tg.messages_to(ALICE)[before:]]
    assert len(told) == 2 and told[0] == t("export.failed"), told
    events = [r.getMessage() for r in caplog_all.records]
    assert "export.sent" not in events and "export.undelivered" in events

    tg.clear_failures()
    mark = tg.mark()
    tg.send_text(ALICE, "/export")
    sent = await tg.wait_for_message(ALICE, lambda m: m.document_name is not None, after=mark)
    assert sent.document_bytes and json.loads(sent.document_bytes)["format"] == "amigo-export"
    # ...and that one counts: a third right after is refused until the interval has passed.
    again = await say(tg, ALICE, "/export")
    assert again.text.startswith(t("export.too_soon", hours=24, when="")[:30]), again.text


# -- 4. a lone UTF-16 surrogate is stored and answered ----------------------------------------


async def test_a_lone_surrogate_is_stored_and_answered(bot: Bot, tg: FakeTelegram) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    mark = tg.mark()
    update_id = tg.send_text(ALICE, "half a pair \ud800 here")
    reply = await tg.wait_for_message(ALICE, after=mark)
    # The fake delivers it as Telegram can: a JSON escape python-telegram-bot decodes to U+D800.
    [delivery] = [
        c
        for c in tg.calls_of("getUpdates")
        if any(u["update_id"] == update_id for u in c.result or [])
    ]
    assert "\\ud800" in json.dumps(delivery.result)
    assert reply.text == "echo: half a pair \ufffd here", reply.text
    assert reply.text != t("error.generic")
    assert holdings(db, alice)["messages"] == 2  # the person's message and the answer
    later = await say(tg, ALICE, "still there?")
    assert later.text == "echo: still there?"


def test_the_generic_apology_claims_nothing_was_kept() -> None:
    """It is sent when anything failed, also before the message was stored."""
    text = t("error.generic").lower()
    assert not any(word in text for word in ("lost", "kept", "saved", "stored"))


# -- 5. a confirmation deletes only what existed when it was shown ----------------------------


@pytest.mark.promise("P6.6")
async def test_an_older_history_confirmation_spares_what_was_written_after_it(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "before the confirmation")
    old = await ask(tg, ALICE, t("delete.history"))
    assert "2 messages" in old.text, old.text
    await chat(tg, ALICE, "after the confirmation")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "in a newer conversation")
    newer = await ask(tg, ALICE, t("delete.history"))
    old_data, newer_data = old.button_data(t("delete.yes")), newer.button_data(t("delete.yes"))
    assert old_data != newer_data, "two confirmations must not carry the same data"
    for data in (old_data, newer_data):
        assert len(data.encode()) <= CALLBACK_DATA_LIMIT and data.isascii()

    done = await press_for_edit(tg, ALICE, old, t("delete.yes"))
    assert done.text.startswith(t("delete.done", conversations=0, n=2)), done.text
    assert t("delete.kept_newer") in done.text
    assert holdings(db, alice)["messages"] == 4
    assert len(conversation_ids(db, alice)) == 2  # the first still holds the newer exchange
    first, _ = conversation_ids(db, alice)
    kept = query(db, "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (first,))
    assert kept == [(2,)]  # "after the confirmation" and its answer
    await chat(tg, ALICE, "what is left?")
    assert user_contents(llm)[0] == "in a newer conversation"

    # The newer confirmation takes what it showed; "what is left?" came after it, and stays.
    done = await press_for_edit(tg, ALICE, newer, t("delete.yes"))
    assert done.text.startswith(t("delete.done", conversations=1, n=4)), done.text
    assert t("delete.kept_newer") in done.text
    left = query(db, "SELECT COUNT(*) FROM messages WHERE user_id = ?", (alice,))
    assert left == [(2,)] and len(conversation_ids(db, alice)) == 1


@pytest.mark.promise("P6.6")
async def test_a_conversation_confirmation_spares_messages_written_after_it(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "shown in the confirmation")
    confirm = await ask(tg, ALICE, t("delete.current"))
    assert "2 messages" in confirm.text, confirm.text
    data = confirm.button_data(t("delete.yes"))
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT and data.isascii()
    await chat(tg, ALICE, "written after it")

    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    assert done.text.startswith(t("delete.done", conversations=0, n=2)), done.text
    assert t("delete.kept_newer") in done.text
    assert holdings(db, alice)["messages"] == 2
    await chat(tg, ALICE, "and now?")
    assert user_contents(llm)[:2] == ["written after it", "echo: written after it"]


@pytest.mark.promise("P6.6")
async def test_a_pressed_confirmation_pressed_again_after_more_chat_deletes_nothing(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "first")
    confirm = await ask(tg, ALICE, t("delete.history"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    await chat(tg, ALICE, "a fresh start")
    mark = tg.mark()
    tg.press_button(ALICE, data, message_id=confirm.message_id)
    call = await tg.wait_for_call("editMessageText", after=mark)
    assert call.message is not None and call.message.text == t("delete.nothing")
    assert holdings(db, alice)["messages"] == 2
