"""End to end: /delete through the real bot and the fake servers (P6.6, B2, and B1's precondition).

Every scope (this conversation, an earlier one, all history, the whole account) must delete exactly
its scope, at once, say what went and what is kept, and leave no copy of the deleted ciphertext in
the database files (main and keys) or their WALs. Other conversations and users stay untouched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from handlers.texts import t
from tests.conftest import Bot
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

ALICE, BOB, CAROL = 611, 612, 613

PER_USER_TABLES = (
    "conversations",
    "messages",
    "consents",
    "companions",
    "profiles",
    "keys.user_keys",
    "nominees",
    "grievances",
    "payments",
    "safety_records",
    "staff_accesses",
)

NOTHING_TO_DELETE = "nothing to delete"
TELEGRAM_NOTE = "“Delete chat”"


# -- looking into the database -----------------------------------------------------------------


def query(db: str, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Run one query on a fresh connection that is closed at once (it must not pin the WAL).

    The wrapped data keys live in their own file, attached as `keys` as the bot does.
    """
    conn = sqlite3.connect(db)
    try:
        conn.execute("ATTACH DATABASE ? AS keys", (str(keys_file(db)),))
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def keys_file(db: str) -> Path:
    """Where the storage keeps the wrapped data keys: next to the database, named '<stem>-keys'."""
    path = Path(db)
    return path.with_name(path.stem + "-keys" + path.suffix)


def newest_user_id(db: str) -> int:
    """The internal id of the account created last."""
    rows = query(db, "SELECT MAX(id) FROM users")
    value = rows[0][0]
    assert isinstance(value, int)
    return value


def holdings(db: str, user_id: int) -> dict[str, int]:
    """How many rows of each per-user table belong to `user_id`."""
    counts: dict[str, int] = {}
    for table in PER_USER_TABLES:
        value = query(db, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,))[0][0]
        assert isinstance(value, int)
        counts[table] = value
    return counts


def snapshot(db: str, user_id: int) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """Counts plus every message row and the account row, to prove a user was left untouched."""
    messages = query(
        db,
        "SELECT id, conversation_id, role, body_enc, created_at FROM messages"
        " WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    account = query(db, "SELECT * FROM users WHERE id = ?", (user_id,))
    return holdings(db, user_id), messages + account


def bodies(db: str, sql: str, params: Sequence[object] = ()) -> list[bytes]:
    """Sealed blobs (message bodies, fields, wrapped keys) selected by `sql`."""
    rows = query(db, sql, params)
    blobs = [row[0] for row in rows]
    assert all(isinstance(b, bytes) and len(b) > 28 for b in blobs)
    return [b for b in blobs if isinstance(b, bytes)]


def on_disk(db: str) -> bytes:
    """Both database files (main and keys) and their -wal, -shm and -journal files, as they are now."""
    files = [
        p for base in (Path(db), keys_file(db)) for p in sorted(base.parent.glob(base.name + "*"))
    ]
    assert any(p.name.endswith("-wal") for p in files)  # WAL mode: the check covers the WAL
    return b"".join(p.read_bytes() for p in files)


def fragments(blob: bytes) -> list[bytes]:
    """The whole blob and 16-byte pieces of it: the nonce, the middle and the GCM tag."""
    middle = len(blob) // 2
    return [blob, blob[:16], blob[middle - 8 : middle + 8], blob[-16:]]


def assert_on_disk(db: str, blobs: Sequence[bytes]) -> None:
    """The positive control: before deleting, the ciphertext really is in the files."""
    raw = on_disk(db)
    assert blobs, "nothing to look for"
    for blob in blobs:
        assert blob in raw


def assert_gone_from_disk(db: str, blobs: Sequence[bytes]) -> None:
    """B2: no piece of deleted ciphertext is left in the database files or their WALs."""
    raw = on_disk(db)
    for blob in blobs:
        for piece in fragments(blob):
            assert piece not in raw, "deleted ciphertext (or key) is still on disk"


def user_contents(llm: FakeOpenAI) -> list[str]:
    """The non-system messages of the latest LLM request."""
    return [str(m["content"]) for m in llm.requests[-1]["messages"] if m["role"] != "system"]


# -- steps -------------------------------------------------------------------------------------


async def open_menu(tg: FakeTelegram, user: int) -> SentMessage:
    menu = await say(tg, user, "/delete")
    assert menu.text == t("delete.choose"), menu.text
    labels = [label for label, _ in menu.buttons()]
    assert labels == [
        t("delete.current"),
        t("delete.earlier"),
        t("delete.history"),
        t("delete.account"),
        t("btn.cancel"),
    ]
    return menu


async def ask(tg: FakeTelegram, user: int, choice: str) -> SentMessage:
    """/delete, then one of the menu's choices; returns what the bot shows next."""
    menu = await open_menu(tg, user)
    return await press(tg, user, menu, choice)


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


def scope_of(data: str) -> str:
    """The scope part of a confirmation's data ("delok:c12" of "delok:c12.<check>")."""
    return data.partition(".")[0]


async def chat(tg: FakeTelegram, user: int, *texts: str) -> None:
    """Say each text and wait for the companion's echo."""
    for text in texts:
        reply = await say(tg, user, text)
        assert reply.text == f"echo: {text}", reply.text


async def new_conversation(tg: FakeTelegram, user: int) -> None:
    reply = await say(tg, user, "/new")
    assert reply.text == t("chat.new"), reply.text


def current_conversation(db: str, user_id: int) -> int | None:
    value = query(db, "SELECT conversation_id FROM users WHERE id = ?", (user_id,))[0][0]
    assert value is None or isinstance(value, int)
    return value


def conversation_ids(db: str, user_id: int) -> list[int]:
    rows = query(db, "SELECT id FROM conversations WHERE user_id = ? ORDER BY id", (user_id,))
    return [int(str(r[0])) for r in rows]


def add_payment(db: str, user_id: int, charge: str) -> None:
    """A payment record as the (future) payments module would write it."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency,"
                " status, created_at) VALUES (?, ?, 499, 'EUR', 'paid', '2025-01-02T03:04:05')",
                (user_id, charge),
            )
    finally:
        conn.close()


def add_safety_record(db: str, user_id: int) -> None:
    """A safety record (category and severity only) as the safety module would write it."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "INSERT INTO safety_records (user_id, category, severity, message_id, created_at)"
                " VALUES (?, 'self_harm', 'high', NULL, '2025-01-02T03:04:05')",
                (user_id,),
            )
    finally:
        conn.close()


def minus(before: dict[str, int], **gone: int) -> dict[str, int]:
    return {table: count - gone.get(table, 0) for table, count in before.items()}


# -- each scope deletes exactly its scope --------------------------------------------------------


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_this_conversation_deletes_only_it(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "an older chat about gardening")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "current chat one", "current chat two")
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob likes chess")

    alice_before, bob_before = holdings(db, alice), snapshot(db, bob)
    current = current_conversation(db, alice)
    doomed = bodies(db, "SELECT body_enc FROM messages WHERE conversation_id = ?", (current,))
    kept = bodies(db, "SELECT body_enc FROM messages WHERE conversation_id != ?", (current,))
    assert len(doomed) == 4
    assert_on_disk(db, doomed)

    confirm = await ask(tg, ALICE, t("delete.current"))
    assert "4 messages, yours and mine" in confirm.text and "can't be undone" in confirm.text
    assert [label for label, _ in confirm.buttons()] == [t("delete.yes"), t("btn.cancel")]
    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))

    assert done.message_id == confirm.message_id and not done.buttons()
    assert done.text.startswith("Deleted: 1 conversation(s), 4 message(s).")
    assert t("delete.telegram_note") in done.text and TELEGRAM_NOTE in done.text
    assert t("delete.goodbye") not in done.text
    assert holdings(db, alice) == minus(alice_before, conversations=1, messages=4)
    assert current_conversation(db, alice) is None
    assert snapshot(db, bob) == bob_before
    assert_gone_from_disk(db, doomed)
    assert_on_disk(db, kept)

    await chat(tg, ALICE, "hello after")
    assert user_contents(llm) == ["hello after"]
    await chat(tg, BOB, "what do I like?")
    assert user_contents(llm) == ["bob likes chess", "echo: bob likes chess", "what do I like?"]


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_an_earlier_conversation_deletes_only_it(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "first chat")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "second chat a", "second chat b")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "third chat")
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob's only chat")

    first, second, third = conversation_ids(db, alice)
    assert current_conversation(db, alice) == third
    alice_before, bob_before = holdings(db, alice), snapshot(db, bob)
    doomed = bodies(db, "SELECT body_enc FROM messages WHERE conversation_id = ?", (first,))
    assert len(doomed) == 2
    assert_on_disk(db, doomed)

    pick = await ask(tg, ALICE, t("delete.earlier"))
    assert pick.text == t("delete.pick")
    # Newest first, the current conversation not offered, labelled by date and size.
    assert [data for _, data in pick.buttons()] == [f"del:c{second}", f"del:c{first}"]
    labels = [label for label, _ in pick.buttons()]
    assert labels[0].endswith("· 4 messages") and labels[1].endswith("· 2 messages")

    confirm = await press(tg, ALICE, pick, "· 2 messages")
    assert "2 messages, yours and mine" in confirm.text
    assert scope_of(confirm.button_data(t("delete.yes"))) == f"delok:c{first}"
    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))

    assert done.text.startswith("Deleted: 1 conversation(s), 2 message(s).")
    assert t("delete.telegram_note") in done.text
    assert conversation_ids(db, alice) == [second, third]
    assert current_conversation(db, alice) == third
    assert holdings(db, alice) == minus(alice_before, conversations=1, messages=2)
    assert snapshot(db, bob) == bob_before
    assert_gone_from_disk(db, doomed)

    await chat(tg, ALICE, "still here?")
    assert user_contents(llm) == ["third chat", "echo: third chat", "still here?"]
    await chat(tg, BOB, "and me?")
    assert user_contents(llm)[0] == "bob's only chat"


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_all_history_deletes_every_conversation_and_keeps_the_account(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE, name="Meera")
    alice = newest_user_id(db)
    await chat(tg, ALICE, "history one")
    await new_conversation(tg, ALICE)
    await chat(tg, ALICE, "history two", "history three")
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob stays")

    alice_before, bob_before = holdings(db, alice), snapshot(db, bob)
    doomed = bodies(db, "SELECT body_enc FROM messages WHERE user_id = ?", (alice,))
    assert len(doomed) == 6
    assert_on_disk(db, doomed)

    confirm = await ask(tg, ALICE, t("delete.history"))
    assert "2 conversations, 6 messages" in confirm.text
    assert "account and settings stay" in confirm.text
    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))

    assert done.text.startswith("Deleted: 2 conversation(s), 6 message(s).")
    assert t("delete.telegram_note") in done.text
    assert holdings(db, alice) == minus(alice_before, conversations=2, messages=6)
    assert query(db, "SELECT status FROM users WHERE id = ?", (alice,)) == [("active",)]
    assert snapshot(db, bob) == bob_before
    assert_gone_from_disk(db, doomed)

    await chat(tg, ALICE, "a clean slate")
    assert user_contents(llm) == ["a clean slate"]
    assert "Meera" in llm.requests[-1]["messages"][0]["content"]  # the companion was kept
    await chat(tg, BOB, "bob again")
    assert user_contents(llm)[:2] == ["bob stays", "echo: bob stays"]


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
@pytest.mark.promise("B1")
async def test_whole_account_goes_payments_stay_detached_and_start_is_afresh(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    years = bot.settings.retention.payment_records_years
    await onboard(tg, ALICE, name="Meera", training=True)
    alice = newest_user_id(db)
    await chat(tg, ALICE, "my secret diary entry")
    await onboard(tg, BOB)
    bob = newest_user_id(db)
    await chat(tg, BOB, "bob's diary")
    add_payment(db, alice, "ch_alice_1")
    add_payment(db, bob, "ch_bob_1")
    add_safety_record(db, alice)

    bob_before = snapshot(db, bob)
    alice_before = holdings(db, alice)
    assert alice_before["keys.user_keys"] == 1 and alice_before["payments"] == 1
    doomed = bodies(db, "SELECT body_enc FROM messages WHERE user_id = ?", (alice,))
    sealed_companion = bodies(db, "SELECT name_enc FROM companions WHERE user_id = ?", (alice,))
    wrapped_key = bodies(db, "SELECT wrapped FROM keys.user_keys WHERE user_id = ?", (alice,))
    (old_ref,) = query(db, "SELECT tg_ref FROM users WHERE id = ?", (alice,))[0]
    assert isinstance(old_ref, bytes)
    assert_on_disk(db, [*doomed, *sealed_companion, *wrapped_key, old_ref])

    confirm = await ask(tg, ALICE, t("delete.account"))
    assert "2 messages" in confirm.text and "destroys your encryption key" in confirm.text
    assert f"Payment records (1) are kept {years} years" in confirm.text
    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))

    assert done.text.startswith("Your account is deleted: 1 conversation(s), 2 message(s)")
    assert "encryption key is destroyed" in done.text
    assert f"Kept: 1 payment record(s), for {years} years" in done.text
    assert "no longer linked to you" in done.text
    assert t("delete.telegram_note") in done.text and t("delete.goodbye") in done.text

    # Nothing personal is left; the key is gone (B1); the payment stays, detached.
    assert holdings(db, alice) == dict.fromkeys(PER_USER_TABLES, 0)
    assert query(
        db, "SELECT status, chat_enc, conversation_id FROM users WHERE id = ?", (alice,)
    ) == [("closed", b"", None)]
    assert query(db, "SELECT COUNT(*) FROM users WHERE tg_ref = ?", (old_ref,)) == [(0,)]
    assert query(
        db,
        "SELECT user_id, amount_minor, currency, status FROM payments"
        " WHERE provider_charge_id = 'ch_alice_1'",
    ) == [(None, 499, "EUR", "paid")]
    assert query(db, "SELECT user_id, category FROM safety_records") == [(None, "self_harm")]
    assert query(db, "SELECT user_id FROM payments WHERE provider_charge_id = 'ch_bob_1'") == [
        (bob,)
    ]
    assert snapshot(db, bob) == bob_before
    assert_gone_from_disk(db, [*doomed, *sealed_companion, *wrapped_key, old_ref])

    # Coming back is a brand-new start: the age question, then an empty history.
    again = await say(tg, ALICE, "/start")
    assert "18 or older?" in again.text
    await onboard(tg, ALICE)
    new_alice = newest_user_id(db)
    assert new_alice != alice
    await chat(tg, ALICE, "do you remember me?")
    assert user_contents(llm) == ["do you remember me?"]
    assert "Meera" not in llm.requests[-1]["messages"][0]["content"]
    assert holdings(db, new_alice)["payments"] == 0
    confirm = await ask(tg, ALICE, t("delete.history"))
    assert "1 conversations, 2 messages" in confirm.text

    await chat(tg, BOB, "bob carries on")
    assert user_contents(llm)[:2] == ["bob's diary", "echo: bob's diary"]


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B1")
async def test_account_deleted_during_onboarding_says_nothing_else_is_kept(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    msg = await say(tg, CAROL, "/start")
    msg = await press(tg, CAROL, msg, "I'm 18 or older")
    msg = await press(tg, CAROL, msg, "I accept")  # the account exists from here on
    carol = newest_user_id(db)
    assert holdings(db, carol)["keys.user_keys"] == 1

    confirm = await ask(tg, CAROL, t("delete.account"))
    assert "0 messages" in confirm.text and "Payment records (0)" in confirm.text
    done = await press_for_edit(tg, CAROL, confirm, t("delete.yes"))

    assert done.text.startswith("Your account is deleted: 0 conversation(s), 0 message(s)")
    assert t("delete.kept_nothing") in done.text and "payment record" not in done.text
    assert t("delete.telegram_note") in done.text
    assert holdings(db, carol) == dict.fromkeys(PER_USER_TABLES, 0)
    again = await say(tg, CAROL, "/start")
    assert "18 or older?" in again.text


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
async def test_delete_waits_for_the_reply_being_written_then_completes_in_order(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = bot.settings.storage.database_path
    await onboard(tg, ALICE)
    alice = newest_user_id(db)

    # /delete sent while the companion is still answering: the answer comes first, then the menu.
    llm.enqueue("a slow answer", delay=0.6)
    mark = tg.mark()
    tg.send_text(ALICE, "first words")
    await llm.wait_for_requests(1)
    tg.send_text(ALICE, "/delete")
    menu = await tg.wait_for_message(ALICE, lambda m: m.text == t("delete.choose"), after=mark)
    sent = [m.text for m in tg.messages_to(ALICE)[-2:]]
    assert sent == ["a slow answer", t("delete.choose")], sent
    confirm = await press(tg, ALICE, menu, t("delete.current"))
    assert "2 messages" in confirm.text

    # "Yes, delete" pressed while another answer is in flight: that exchange is deleted too.
    llm.enqueue("another slow answer", delay=0.6)
    mark = tg.mark()
    tg.send_text(ALICE, "second words")
    await llm.wait_for_requests(2)
    tg.press_button(ALICE, confirm.button_data(t("delete.yes")), message_id=confirm.message_id)
    edit = await tg.wait_for_call("editMessageText", after=mark)
    replies = [c.message.text for c in tg.calls[mark:] if c.method == "sendMessage" and c.message]
    assert replies == ["another slow answer"]
    assert edit.message is not None
    assert edit.message.text.startswith("Deleted: 1 conversation(s), 4 message(s).")
    assert holdings(db, alice)["messages"] == 0 and holdings(db, alice)["conversations"] == 0
