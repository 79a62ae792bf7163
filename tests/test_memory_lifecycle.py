"""Memories and summaries follow their conversation through every deletion path, leave no copy in
the database files or their WALs, are in /export and /mydata, and never in the training export.

Deletion is checked as tests/test_e2e_delete.py does: the sealed blobs are read from the table,
found on disk first (the positive control), and no piece of them is on disk afterwards.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from core.clock import FrozenClock
from handlers.export import write_export
from handlers.router import Dispatcher
from jobs.training_export import write_training_export
from storage.models import Purpose
from storage.sqlite import SqliteRepository
from tests.conftest import CANARY
from tests.doubles import RecordingChannel
from tests.retention_helpers import SETTINGS, account, purge, scalar
from tests.test_e2e_delete import assert_gone_from_disk, assert_on_disk, bodies
from tests.test_e2e_export import assert_matches_documented_schema
from tests.test_memory_storage import person
from tests.test_onboarding import USER, onboard, say
from tests.test_training_export import member


def sealed(repo: SqliteRepository, where: str = "1 = 1", *params: object) -> list[bytes]:
    """The sealed memory and summary texts `where` selects (a condition on user_id and
    conversation_id, both tables have them)."""
    return bodies(repo, f"SELECT body_enc FROM memories WHERE {where}", params) + bodies(
        repo, f"SELECT body_enc FROM summaries WHERE {where}", params
    )


def memory_body(repo: SqliteRepository, memory_id: int) -> list[bytes]:
    return bodies(repo, "SELECT body_enc FROM memories WHERE id = ?", (memory_id,))


async def remembered(repo: SqliteRepository, uid: int) -> tuple[int, int, int]:
    """A person with two conversations, each with a message, a learnt memory and a summary, and
    one memory they added themselves; returns (first conversation, second, the added memory)."""
    first = await repo.start_conversation(uid)
    await repo.add_message(uid, first, "user", "my sister is Asha")
    await repo.add_memory(uid, f"sister Asha {CANARY}", conversation_id=first, manual=False)
    await repo.set_summary(uid, first, f"talked about Asha {CANARY}")
    second = await repo.start_conversation(uid)
    await repo.add_message(uid, second, "user", "exam on Friday")
    await repo.add_memory(uid, "exam on Friday", conversation_id=second, manual=False)
    await repo.set_summary(uid, second, "talked about the exam")
    added = await repo.add_memory(uid, "I'm vegetarian", conversation_id=None, manual=True)
    return first, second, added


# -- /delete ---------------------------------------------------------------------------------


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_deleting_a_conversation_deletes_what_was_derived_from_it(
    repo: SqliteRepository,
) -> None:
    """/delete "this conversation" and "an earlier conversation" use the same query."""
    uid, other = await person(repo, 1), await person(repo, 2)
    first, second, added = await remembered(repo, uid)
    await remembered(repo, other)
    gone = sealed(repo, "conversation_id = ?", first)
    kept = sealed(repo, "user_id = ? AND coalesce(conversation_id, 0) != ?", uid, first)
    others = sealed(repo, "user_id = ?", other)
    assert_on_disk(repo, gone)

    deleted = await repo.delete_conversation(uid, first)
    assert deleted is not None and deleted.conversations == 1

    assert_gone_from_disk(repo, gone)
    assert {m.conversation_id for m in await repo.memories(uid)} == {second, None}
    assert [s.conversation_id for s in await repo.summaries(uid, 10)] == [second]
    assert sealed(repo, "user_id = ?", uid) == kept and sealed(repo, "user_id = ?", other) == others
    assert added in {m.id for m in await repo.memories(uid)}


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_a_conversation_kept_by_a_newer_message_still_loses_its_memories(
    repo: SqliteRepository,
) -> None:
    """The confirmation covers the messages shown; one sent after it keeps the conversation row,
    but nothing derived from the deleted messages may stay."""
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    shown = await repo.add_message(uid, conv, "user", "my sister is Asha")
    await repo.add_memory(uid, f"sister Asha {CANARY}", conversation_id=conv, manual=False)
    await repo.set_summary(uid, conv, "about Asha")
    gone = sealed(repo)
    await repo.add_message(uid, conv, "user", "sent after the confirmation was shown")
    deleted = await repo.delete_conversation(uid, conv, through_message=shown)
    assert deleted is not None and deleted.conversations == 0
    assert await repo.memory_counts(uid) == (0, 0)
    assert_gone_from_disk(repo, gone)


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_deleting_all_history_deletes_every_memory_and_summary_added_ones_too(
    repo: SqliteRepository,
) -> None:
    uid, other = await person(repo, 1), await person(repo, 2)
    await remembered(repo, uid)
    await remembered(repo, other)
    gone = sealed(repo, "user_id = ?", uid)
    assert_on_disk(repo, gone)
    await repo.delete_history(uid)
    assert await repo.memories(uid) == [] and await repo.memory_counts(uid) == (0, 0)
    assert_gone_from_disk(repo, gone)
    assert await repo.memory_counts(other) == (3, 2)


@pytest.mark.promise("P6.6")
@pytest.mark.promise("B2")
async def test_deleting_the_account_deletes_memories_summaries_and_the_setting(
    repo: SqliteRepository,
) -> None:
    uid = await person(repo)
    await remembered(repo, uid)
    await repo.set_memory_enabled(uid, False)
    gone = sealed(repo, "user_id = ?", uid)
    assert_on_disk(repo, gone)
    await repo.delete_account(uid)
    assert scalar(repo, "SELECT COUNT(*) FROM memories") == 0
    assert scalar(repo, "SELECT COUNT(*) FROM summaries") == 0
    assert scalar(repo, "SELECT memory_off + memory_cursor FROM users WHERE id = ?", uid) == 0
    assert_gone_from_disk(repo, gone)


@pytest.mark.promise("B2")
async def test_forgetting_and_correcting_leave_no_copy_on_disk(repo: SqliteRepository) -> None:
    uid = await person(repo)
    conv, _, added = await remembered(repo, uid)
    [learnt] = [m.id for m in await repo.memories(uid) if m.conversation_id == conv]
    old = memory_body(repo, learnt)
    assert await repo.update_memory(uid, learnt, "sister Asha, lives in Pune")
    assert_gone_from_disk(repo, old)

    one = memory_body(repo, added)
    assert await repo.forget_memory(uid, added)
    assert_gone_from_disk(repo, one)

    rest = sealed(repo, "user_id = ?", uid)
    assert await repo.forget_memories(uid) == 2
    assert await repo.memory_counts(uid) == (0, 0)
    assert_gone_from_disk(repo, rest)
    assert await repo.add_message(uid, conv, "user", "the conversation itself stays")


# -- retention -------------------------------------------------------------------------------


@pytest.mark.promise("B5")
@pytest.mark.promise("B2")
async def test_autodelete_removes_memories_and_summaries_as_their_conversation_ages(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await person(repo)
    _, _, added = await remembered(repo, uid)
    await repo.set_autodelete(uid, 1)
    old = sealed(repo, "user_id = ? AND conversation_id IS NOT NULL", uid)
    clock.advance(days=2)
    conv = await repo.start_conversation(uid)
    await repo.add_message(uid, conv, "user", "today")
    fresh = await repo.add_memory(uid, "said something today", conversation_id=conv, manual=False)
    held = await person(repo, 2)  # under a legal hold nothing is purged
    await repo.set_autodelete(held, 1)
    await remembered(repo, held)
    await repo.place_hold(held, "court order")
    clock.advance(days=2)
    await repo.add_message(uid, conv, "user", "still today")
    await repo.update_memory(uid, fresh, "said something today, again")  # changed: kept

    counts = await purge(repo, clock)

    assert counts["autodelete_messages"] == 3
    assert {m.id for m in await repo.memories(uid)} == {fresh, added}  # added by hand: kept
    assert await repo.summaries(uid, 10) == []
    assert await repo.memory_counts(held) == (3, 2)
    assert_gone_from_disk(repo, old)


@pytest.mark.promise("B5")
@pytest.mark.promise("B2")
async def test_autodelete_of_only_derived_rows_still_checkpoints(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    """The job checkpoints after a run that counted removals; memories alone count as none."""
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    await repo.add_memory(uid, f"old {CANARY}", conversation_id=conv, manual=False)
    await repo.set_autodelete(uid, 1)
    gone = sealed(repo)
    clock.advance(days=2)
    counts = await purge(repo, clock)
    assert counts["autodelete_messages"] == 0 and await repo.memory_counts(uid) == (0, 0)
    assert_gone_from_disk(repo, gone)


@pytest.mark.promise("P11.1")
@pytest.mark.promise("B2")
async def test_a_closed_accounts_leftover_memories_are_purged_with_it(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    """delete_account empties them; rows left by a crash or an older version go with the purge."""
    uid = await account(repo, 1, messages=1)
    await repo.delete_account(uid)
    at = clock.now().isoformat()
    async with repo.transaction() as db:
        cur = await db.execute(
            "INSERT INTO conversations (user_id, started_at) VALUES (?, ?) RETURNING id",
            (uid, at),
        )
        row = await cur.fetchone()
        assert row is not None
        conv = row[0]
        for manual, source in ((0, conv), (1, None)):
            await db.execute(
                "INSERT INTO memories (user_id, conversation_id, manual, body_enc, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (uid, source, manual, os.urandom(64), at, at),
            )
        await db.execute(
            "INSERT INTO summaries VALUES (?, ?, ?, ?)", (conv, uid, os.urandom(64), at)
        )
    gone = sealed(repo)
    clock.advance(days=SETTINGS.closed_account_grace_days + 1)
    assert (await purge(repo, clock))["closed_accounts"] == 1
    assert scalar(repo, "SELECT COUNT(*) FROM memories") == 0
    assert scalar(repo, "SELECT COUNT(*) FROM summaries") == 0
    assert_gone_from_disk(repo, gone)


@pytest.mark.promise("P11.1")
@pytest.mark.promise("B2")
async def test_terms_withdrawal_erasure_takes_memories_and_summaries(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await account(repo, 1)
    await remembered(repo, uid)
    kept = await account(repo, 2)
    await remembered(repo, kept)
    gone = sealed(repo, "user_id = ?", uid)
    await repo.record_consent(uid, Purpose.TERMS, False, "v1")
    clock.advance(days=SETTINGS.closed_account_grace_days + 1)
    assert (await purge(repo, clock))["closed_accounts"] == 1
    assert scalar(repo, "SELECT COUNT(*) FROM memories WHERE user_id = ?", uid) == 0
    assert scalar(repo, "SELECT COUNT(*) FROM summaries WHERE user_id = ?", uid) == 0
    assert await repo.memory_counts(kept) == (3, 2)
    assert_gone_from_disk(repo, gone)


async def test_a_restored_keyless_account_takes_its_memories_along(
    repo: SqliteRepository,
) -> None:
    """After a restore, accounts deleted since the backup are purged: the foreign keys carry
    their memories and summaries with them."""
    uid, other = await person(repo, 1), await person(repo, 2)
    await remembered(repo, uid)
    await remembered(repo, other)
    async with repo.transaction() as db:
        await db.execute("DELETE FROM keys.user_keys WHERE user_id = ?", (uid,))
    repo.forget_key(uid)
    assert await repo.purge_keyless_accounts() == 1
    assert scalar(repo, "SELECT COUNT(*) FROM memories WHERE user_id = ?", uid) == 0
    assert scalar(repo, "SELECT COUNT(*) FROM summaries WHERE user_id = ?", uid) == 0
    assert await repo.memory_counts(other) == (3, 2)


# -- /export, /mydata and the training export -------------------------------------------------


@pytest.mark.promise("P9.7")
async def test_export_holds_memories_and_summaries_as_derived_data(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    found = await repo.find_account(USER.tg_id)
    assert found is not None
    uid = found.id
    first, second, added = await remembered(repo, uid)
    await repo.set_profile_field(uid, "time_zone", "Asia/Kolkata")
    await repo.mark_memories_used(uid, [added])
    account_now = await repo.account_by_id(uid)
    assert account_now is not None
    path = await write_export(
        repo, account_now, dispatcher.deps.config, clock.now(), policy_version="v1"
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    finally:
        path.unlink()
    assert_matches_documented_schema(data)
    assert data["version"] == 3 and list(data)[-1] == "conversations"
    assert data["profile"]["time_zone"] == "Asia/Kolkata"
    assert data["account"]["memory_enabled"] is True
    memories = data["derived"]["memories"]
    assert [(m["text"], m["conversation_id"], m["manual"], m["uses"]) for m in memories] == [
        (f"sister Asha {CANARY}", first, False, 0),
        ("exam on Friday", second, False, 0),
        ("I'm vegetarian", None, True, 1),
    ]
    assert memories[2]["last_used_at"] == clock.now().isoformat()
    summaries = data["derived"]["summaries"]
    assert [(s["conversation_id"], s["text"]) for s in summaries] == [
        (first, f"talked about Asha {CANARY}"),
        (second, "talked about the exam"),
    ]


@pytest.mark.promise("P9.1")
async def test_mydata_counts_memories_summaries_and_four_profile_fields(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    found = await repo.find_account(USER.tg_id)
    assert found is not None
    await remembered(repo, found.id)
    await repo.set_profile_field(found.id, "time_zone", "Asia/Kolkata")
    await say(dispatcher, ch, "/mydata")
    text = ch.texts[-1]
    assert "Memories: 3, and 2 summaries" in text and "memory is on" in text
    assert "1 of 4 optional fields set" in text and "time zone" in text
    await repo.set_memory_enabled(found.id, False)
    await say(dispatcher, ch, "/mydata")
    assert "memory is off" in ch.texts[-1]


@pytest.mark.promise("P6.5")
async def test_the_training_export_never_holds_memories_or_summaries(
    tmp_path: Path, dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch, who, found = await member(dispatcher, repo, 7001)
    await say(dispatcher, ch, "markerchatword about my weekend", who)
    fresh = await repo.account_by_id(found.id)
    assert fresh is not None and fresh.conversation_id is not None
    await repo.add_memory(
        found.id, f"memorymarker {CANARY}", conversation_id=fresh.conversation_id, manual=False
    )
    await repo.add_memory(found.id, "manualmarker", conversation_id=None, manual=True)
    await repo.set_summary(found.id, fresh.conversation_id, "summarymarker")
    assert await repo.consents_to_training(found.id)

    out = tmp_path / "training.jsonl"
    report = await write_training_export(repo, out, clock.now() + timedelta(seconds=1))
    raw = out.read_text(encoding="utf-8")
    assert "markerchatword" in raw and report.users == 1  # the positive control
    for marker in (CANARY, "memorymarker", "manualmarker", "summarymarker"):
        assert marker not in raw
