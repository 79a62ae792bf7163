"""End to end: /delete under misuse and races (P6.6): cancelling, repeated, stale or forged
confirmations, no account at all, and a /delete that arrives while a reply is being written. Each
must delete nothing it never showed, or exactly what it showed, and say so."""

from __future__ import annotations

import asyncio

import pytest

from handlers.texts import t
from tests.conftest import Bot
from tests.delete_helpers import (
    ALICE,
    BOB,
    CAROL,
    ask,
    chat,
    conversation_ids,
    holdings,
    new_conversation,
    newest_user_id,
    open_menu,
    query,
    scope_of,
    snapshot,
    user_contents,
)
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

NOTHING_TO_DELETE = "nothing to delete"


async def push_button(tg: FakeTelegram, user: int, data: str, message_id: int) -> SentMessage:
    """Press a button by its data (stale, forged or repeated); return the edit or the new message."""
    mark = tg.mark()
    tg.press_button(user, data, message_id=message_id)
    # An edit to the same text fails with "message is not modified"; the bot then sends it anew.
    edited = asyncio.create_task(tg.wait_for_call("editMessageText", lambda c: c.ok, after=mark))
    sent = asyncio.create_task(tg.wait_for_message(user, after=mark))
    done, _ = await asyncio.wait((edited, sent), return_when=asyncio.FIRST_COMPLETED)
    edited.cancel()
    sent.cancel()
    if sent in done:
        return sent.result()
    call = edited.result()
    assert call.message is not None
    return call.message


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.promise("P6.6")
async def test_cancel_deletes_nothing(bot: Bot, tg: FakeTelegram) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "keep me")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "keep me too")
    before = snapshot(db, alice)

    menu = await open_menu(tg, ALICE)
    cancelled = await press_for_edit(tg, ALICE, menu, t("btn.cancel"))
    assert cancelled.text == t("delete.cancelled") and not cancelled.buttons()

    for choice in (t("delete.current"), t("delete.history"), t("delete.account")):
        confirm = await ask(tg, ALICE, choice)
        cancelled = await press_for_edit(tg, ALICE, confirm, t("btn.cancel"))
        assert cancelled.text == t("delete.cancelled") and not cancelled.buttons()
    pick = await ask(tg, ALICE, t("delete.earlier"))
    confirm = await press(tg, ALICE, pick, "messages")
    cancelled = await press_for_edit(tg, ALICE, confirm, t("btn.cancel"))
    assert cancelled.text == t("delete.cancelled")

    assert snapshot(db, alice) == before


@pytest.mark.promise("P6.6")
async def test_a_repeated_conversation_confirmation_finds_nothing(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "older")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "to be deleted")
    confirm = await ask(tg, ALICE, t("delete.current"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    after_first = snapshot(db, alice)

    again = await push_button(tg, ALICE, data, confirm.message_id)
    assert NOTHING_TO_DELETE in again.text and "Deleted" not in again.text
    assert snapshot(db, alice) == after_first


@pytest.mark.promise("P6.6")
async def test_a_repeated_history_confirmation_says_there_is_nothing_to_delete(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "to be deleted")
    confirm = await ask(tg, ALICE, t("delete.history"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    after_first = snapshot(db, alice)

    again = await push_button(tg, ALICE, data, confirm.message_id)
    assert snapshot(db, alice) == after_first
    assert NOTHING_TO_DELETE in again.text, again.text


@pytest.mark.promise("P6.6")
async def test_a_repeated_account_confirmation_changes_nothing(bot: Bot, tg: FakeTelegram) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "to be deleted")
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob stays")
    confirm = await ask(tg, ALICE, t("delete.account"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    tombstone, bob_before = snapshot(db, alice), snapshot(db, bob)
    users_before = query(db, "SELECT * FROM users ORDER BY id")

    again = await push_button(tg, ALICE, data, confirm.message_id)
    assert again.text == t("rights.need_account"), again.text  # no account: nothing to delete
    assert snapshot(db, alice) == tombstone and snapshot(db, bob) == bob_before
    assert query(db, "SELECT * FROM users ORDER BY id") == users_before


@pytest.mark.promise("P6.6")
async def test_a_stale_conversation_confirmation_spares_a_newer_conversation(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "to be deleted")
    confirm = await ask(tg, ALICE, t("delete.current"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    await chat(tg, ALICE, "a brand-new conversation, never confirmed for deletion")
    fresh = snapshot(db, alice)
    assert fresh[0]["messages"] == 2
    # SQLite used to give the new conversation the deleted one's id; ids are no longer reused,
    # and the button is checked against the conversation's start time as well.
    [newer] = conversation_ids(db, alice)
    assert newer > int(scope_of(data).removeprefix("delok:c"))

    again = await push_button(tg, ALICE, data, confirm.message_id)
    assert snapshot(db, alice) == fresh, "the stale button deleted a conversation it never showed"
    assert NOTHING_TO_DELETE in again.text, again.text


@pytest.mark.promise("P6.6")
async def test_a_stale_account_confirmation_spares_a_new_account(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    await chat(tg, ALICE, "old account")
    confirm = await ask(tg, ALICE, t("delete.account"))
    data = confirm.button_data(t("delete.yes"))
    await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
    await onboard(tg, ALICE)
    new_alice = newest_user_id(db)
    await chat(tg, ALICE, "new account, never confirmed for deletion")
    fresh = snapshot(db, new_alice)

    await push_button(tg, ALICE, data, confirm.message_id)
    assert snapshot(db, new_alice) == fresh, "the stale button deleted the new account"


@pytest.mark.promise("P6.6")
async def test_another_users_conversation_id_deletes_nothing_of_theirs(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob's private chat")
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "alice's chat")
    (bobs,) = conversation_ids(db, bob)
    # Bob's own, genuine confirmation (left unpressed): its exact data is the strongest forgery.
    bobs_confirm = await ask(tg, BOB, t("delete.current"))
    bobs_data = bobs_confirm.button_data(t("delete.yes"))
    assert scope_of(bobs_data) == f"delok:c{bobs}"
    alice_before, bob_before = snapshot(db, alice), snapshot(db, bob)

    none_earlier = await ask(tg, ALICE, t("delete.earlier"))
    assert none_earlier.text == t("delete.no_earlier")
    confirm = await ask(tg, ALICE, t("delete.current"))  # a real message to press buttons under
    asked = await push_button(tg, ALICE, f"del:c{bobs}", confirm.message_id)
    assert NOTHING_TO_DELETE in asked.text and "yours and mine" not in asked.text
    for forgery in (f"delok:c{bobs}", bobs_data):
        forged = await push_button(tg, ALICE, forgery, confirm.message_id)
        assert NOTHING_TO_DELETE in forged.text and "Deleted" not in forged.text, forgery
    for junk in ("delok:c-1", "delok:cx", "delok:c", "delok:all.0", "delok:acct.0", "del:c99999"):
        reply = await push_button(tg, ALICE, junk, confirm.message_id)
        assert NOTHING_TO_DELETE in reply.text, (junk, reply.text)

    assert snapshot(db, bob) == bob_before and snapshot(db, alice) == alice_before
    await chat(tg, BOB, "still mine?")
    assert user_contents(llm)[0] == "bob's private chat"


@pytest.mark.promise("P6.6")
async def test_delete_without_an_account_gets_a_clear_reply(bot: Bot, tg: FakeTelegram) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob stays")
    bob_before = snapshot(db, bob)

    mark = tg.mark()
    reply = await say(tg, CAROL, "/delete")
    assert reply.text == t("rights.need_account")
    age = await tg.wait_for_message(CAROL, lambda m: "18 or older?" in m.text, after=mark)
    assert age.buttons()
    for data in ("delok:acct", "delok:all", f"delok:c{conversation_ids(db, bob)[0]}", "del:acct"):
        answer = await push_button(tg, CAROL, data, reply.message_id)
        assert answer.text == t("rights.need_account"), (data, answer.text)

    assert query(db, "SELECT COUNT(*) FROM users") == [(1,)]
    assert snapshot(db, bob) == bob_before


@pytest.mark.promise("P6.6")
async def test_delete_runs_while_a_reply_is_being_written_and_deletes_only_what_it_showed(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)

    # /delete sent while the companion is still answering: the menu comes at once, the answer
    # when the model has written it.
    llm.enqueue("a slow answer", delay=0.6)
    mark = tg.mark()
    tg.send_text(ALICE, "first words")
    await llm.wait_for_requests(1)
    tg.send_text(ALICE, "/delete")
    menu = await tg.wait_for_message(ALICE, lambda m: m.text == t("delete.choose"), after=mark)
    assert not any(m.text == "a slow answer" for m in tg.messages_to(ALICE))
    await tg.wait_for_message(ALICE, lambda m: m.text == "a slow answer", after=mark)
    confirm = await press(tg, ALICE, menu, t("delete.current"))
    assert "2 messages" in confirm.text

    # "Yes, delete" pressed while another answer is in flight: the confirmation deletes only the
    # exchange it showed, at once; the message written after it stays, and its answer (stored
    # after the deletion) arrives whole.
    llm.enqueue("another slow answer", delay=0.6)
    mark = tg.mark()
    tg.send_text(ALICE, "second words")
    await llm.wait_for_requests(2)
    tg.press_button(ALICE, confirm.button_data(t("delete.yes")), message_id=confirm.message_id)
    edit = await tg.wait_for_call("editMessageText", after=mark)
    assert edit.message is not None
    assert edit.message.text.startswith("Deleted: 0 conversations, 2 messages.")
    await tg.wait_for_message(ALICE, lambda m: m.text == "another slow answer", after=mark)
    replies = [c.message.text for c in tg.calls[mark:] if c.method == "sendMessage" and c.message]
    assert replies == ["another slow answer"]
    assert holdings(db, alice)["messages"] == 2 and holdings(db, alice)["conversations"] == 1
