"""End to end: /delete through the real bot and the fake servers (P6.6, B2, and B1's precondition).

Every scope (this conversation, an earlier one, all history, the whole account) must delete exactly
its scope, at once, say what went and what is kept, and leave no copy of the deleted ciphertext in
the database files (main and keys) or their WALs (on PostgreSQL: in any value of any table of
either schema). Other conversations and users stay untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from handlers.texts import t
from tests import db as stored
from tests.conftest import Bot
from tests.delete_helpers import (
    ALICE,
    BOB,
    CAROL,
    PER_USER_TABLES,
    ask,
    chat,
    conversation_ids,
    holdings,
    new_conversation,
    newest_user_id,
    query,
    scope_of,
    snapshot,
    user_contents,
)
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

TELEGRAM_NOTE = "“Delete chat”"


# -- deleted means gone from the files and their WALs (B2) ------------------------------------


def bodies(db: stored.Target, sql: str, params: Sequence[object] = ()) -> list[bytes]:
    """Sealed blobs (message bodies, fields, wrapped keys) selected by `sql`."""
    rows = query(db, sql, params)
    blobs = [row[0] for row in rows]
    assert all(isinstance(b, bytes) and len(b) > 28 for b in blobs)
    return [b for b in blobs if isinstance(b, bytes)]


def on_disk(db: stored.Target) -> list[bytes]:
    """What is stored, as it is now. SQLite: both database files (main and keys) and their -wal,
    -shm and -journal files, as one run of bytes. PostgreSQL, whose files a test cannot read:
    every value of every table of the data and the keys schema, one each (a full scan)."""
    database = stored.resolve(db)
    if isinstance(database, stored.Postgres):
        return [value for _, value in stored.values(database)]
    files = [
        p
        for base in (database.path, database.keys_path)
        for p in sorted(base.parent.glob(base.name + "*"))
    ]
    assert any(p.name.endswith("-wal") for p in files)  # WAL mode: the check covers the WAL
    return [b"".join(p.read_bytes() for p in files)]


def fragments(blob: bytes) -> list[bytes]:
    """The whole blob and 16-byte pieces of it: the nonce, the middle and the GCM tag."""
    middle = len(blob) // 2
    return [blob, blob[:16], blob[middle - 8 : middle + 8], blob[-16:]]


def assert_on_disk(db: stored.Target, blobs: Sequence[bytes]) -> None:
    """The positive control: before deleting, the ciphertext really is stored."""
    raw = on_disk(db)
    assert blobs, "nothing to look for"
    for blob in blobs:
        assert any(blob in chunk for chunk in raw)


def assert_gone_from_disk(db: stored.Target, blobs: Sequence[bytes]) -> None:
    """B2: no piece of deleted ciphertext is left in the database files or their WALs (on
    PostgreSQL: in any value of any table of either schema)."""
    raw = on_disk(db)
    for blob in blobs:
        for piece in fragments(blob):
            assert not any(piece in chunk for chunk in raw), "deleted ciphertext (or key) is stored"


# -- the rest of the scene: where a user is, and records that outlive the account ------------


def current_conversation(db: str, user_id: int) -> int | None:
    value = query(db, "SELECT conversation_id FROM users WHERE id = ?", (user_id,))[0][0]
    assert value is None or isinstance(value, int)
    return value


def add_payment(db: str, user_id: int, charge: str) -> None:
    """A payment record as the (future) payments module would write it."""
    stored.execute(
        db,
        "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency,"
        " status, created_at) VALUES (?, ?, 499, 'EUR', 'paid', '2025-01-02T03:04:05')",
        user_id,
        charge,
    )


def add_safety_record(db: str, user_id: int) -> None:
    """A safety record (category and severity only) as the safety module would write it."""
    stored.execute(
        db,
        "INSERT INTO safety_records (user_id, category, severity, message_id, created_at)"
        " VALUES (?, 'self_harm', 'high', NULL, '2025-01-02T03:04:05')",
        user_id,
    )


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
    assert done.text.startswith("Deleted: 1 conversation, 4 messages.")
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

    assert done.text.startswith("Deleted: 1 conversation, 2 messages.")
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

    assert done.text.startswith("Deleted: 2 conversations, 6 messages.")
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
    assert t("delete.kept.will_stay") in confirm.text
    assert "1 payment record: a payment token and the amount" in confirm.text
    assert f"Kept {years} years from each payment" in confirm.text
    assert "1 safety record" in confirm.text and "Proof of your consents" in confirm.text
    done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))

    assert done.text.startswith("Your account is deleted: 1 conversation, 2 messages")
    assert "encryption key is destroyed" in done.text
    assert t("delete.kept.stays") in done.text and f"Kept {years} years" in done.text
    assert "1 payment record" in done.text and "1 safety record" in done.text
    assert t("delete.telegram_note") in done.text and t("delete.goodbye") in done.text

    # Nothing personal is left; the key is gone (B1); the payment stays, detached.
    assert holdings(db, alice) == dict.fromkeys(PER_USER_TABLES, 0)
    assert query(
        db, "SELECT status, chat_enc, conversation_id FROM users WHERE id = ?", (alice,)
    ) == [("closed", b"", None)]
    assert query(db, "SELECT COUNT(*) FROM users WHERE tg_ref = ?", (old_ref,)) == [(0,)]
    # The keyed reference stays only as the proof of consent (the ledger's rows, no content).
    assert query(db, "SELECT DISTINCT tg_ref, account_id FROM consent_proofs") == [(old_ref, alice)]
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
    assert_gone_from_disk(db, [*doomed, *sealed_companion, *wrapped_key])

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
    assert "1 conversation, 2 messages" in confirm.text

    await chat(tg, BOB, "bob carries on")
    assert user_contents(llm)[:2] == ["bob's diary", "echo: bob's diary"]


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B1")
async def test_account_deleted_during_onboarding_says_exactly_what_is_kept(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    msg = await say(tg, CAROL, "/start")
    msg = await press(tg, CAROL, msg, "I'm 18 or older")
    msg = await press(tg, CAROL, msg, "I accept")  # the account exists from here on
    carol = newest_user_id(db)
    assert holdings(db, carol)["keys.user_keys"] == 1

    confirm = await ask(tg, CAROL, t("delete.account"))
    assert "0 messages" in confirm.text and "payment record" not in confirm.text
    done = await press_for_edit(tg, CAROL, confirm, t("delete.yes"))

    assert done.text.startswith("Your account is deleted: 0 conversations, 0 messages")
    assert "payment record" not in done.text and "safety record" not in done.text
    assert "Proof of your consents" in done.text and "processing log" in done.text
    assert t("delete.telegram_note") in done.text
    assert holdings(db, carol) == dict.fromkeys(PER_USER_TABLES, 0)
    again = await say(tg, CAROL, "/start")
    assert "18 or older?" in again.text
