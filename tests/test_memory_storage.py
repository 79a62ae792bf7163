"""The memory section of the Repository contract on the real SQLite backend: memories, summaries,
the on/off switch, the extraction cursor, the profile's time zone, and that every query stays on
an index for a person with a very long history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FrozenClock
from storage.models import Profile
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import CANARY


async def person(repo: SqliteRepository, tg_id: int = 1) -> int:
    account = await repo.create_account(
        tg_id, tg_id, policy_version="v1", age_confirmed_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    await repo.set_step(account.id, None, activate=True)
    return account.id


def raw(repo: SqliteRepository, sql: str, *params: object) -> list[tuple[object, ...]]:
    return stored.query(repo, sql, *params)


# -- memories --------------------------------------------------------------------------------


async def test_a_memory_is_stored_sealed_and_read_back_with_its_source(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    learnt = await repo.add_memory(uid, f"sister Asha {CANARY}", conversation_id=conv, manual=False)
    clock.advance(minutes=1)
    added = await repo.add_memory(uid, "I'm vegetarian", conversation_id=None, manual=True)
    assert learnt < added
    first, second = await repo.memories(uid)
    assert (first.id, first.text, first.conversation_id, first.manual) == (
        learnt,
        f"sister Asha {CANARY}",
        conv,
        False,
    )
    assert (second.conversation_id, second.manual) == (None, True)
    assert first.created_at == first.updated_at < second.created_at
    assert (first.last_used_at, first.uses) == (None, 0)
    # Sealed: the text is nowhere in the clear.
    bodies = raw(repo, "SELECT body_enc FROM memories")
    assert bodies and all(isinstance(b[0], bytes) and CANARY.encode() not in b[0] for b in bodies)


async def test_a_memory_cannot_name_someone_elses_or_a_deleted_conversation(
    repo: SqliteRepository,
) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    bobs = await repo.start_conversation(bob)
    with pytest.raises(LookupError):
        await repo.add_memory(alice, "x", conversation_id=bobs, manual=False)
    with pytest.raises(LookupError):
        await repo.add_memory(alice, "x", conversation_id=999, manual=False)
    with pytest.raises(LookupError):
        await repo.set_summary(alice, bobs, "x")
    assert await repo.memories(alice) == []
    assert await repo.memory_counts(alice) == (0, 0)


async def test_update_forget_and_forget_all_touch_only_that_persons_memories(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    conv = await repo.start_conversation(alice)
    one = await repo.add_memory(alice, "likes tea", conversation_id=conv, manual=False)
    two = await repo.add_memory(alice, "exam on Friday", conversation_id=conv, manual=False)
    bobs = await repo.add_memory(bob, "bob's", conversation_id=None, manual=True)
    await repo.set_summary(alice, conv, "talked about tea")

    clock.advance(hours=1)
    assert await repo.update_memory(alice, one, "likes coffee") is True
    assert await repo.update_memory(alice, bobs, "taken over") is False
    assert await repo.update_memory(alice, 12345, "none") is False
    updated = (await repo.memories(alice))[0]
    assert updated.text == "likes coffee" and updated.updated_at > updated.created_at

    assert await repo.forget_memory(alice, bobs) is False
    assert await repo.forget_memory(alice, two) is True
    assert await repo.forget_memory(alice, two) is False
    assert [m.id for m in await repo.memories(alice)] == [one]

    assert await repo.forget_memories(alice) == 1
    assert await repo.memories(alice) == [] and await repo.summaries(alice, 10) == []
    assert [m.text for m in await repo.memories(bob)] == ["bob's"]


async def test_ids_are_never_reused_after_forgetting(repo: SqliteRepository) -> None:
    """A stale /memory button names an id: it must never reach a newer memory."""
    uid = await person(repo)
    old = await repo.add_memory(uid, "a", conversation_id=None, manual=True)
    await repo.forget_memory(uid, old)
    assert await repo.add_memory(uid, "b", conversation_id=None, manual=True) > old


async def test_marking_used_counts_and_dates_only_the_named_ones(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    ids = [
        await repo.add_memory(alice, f"m{i}", conversation_id=None, manual=True) for i in range(3)
    ]
    bobs = await repo.add_memory(bob, "b", conversation_id=None, manual=True)
    clock.advance(minutes=5)
    await repo.mark_memories_used(alice, [ids[0], ids[2], bobs])
    await repo.mark_memories_used(alice, [ids[0]])
    await repo.mark_memories_used(alice, [])
    used = {m.id: (m.uses, m.last_used_at) for m in await repo.memories(alice)}
    assert used == {ids[0]: (2, clock.now()), ids[1]: (0, None), ids[2]: (1, clock.now())}
    assert (await repo.memories(bob))[0].uses == 0


# -- the switch and the cursor ---------------------------------------------------------------


async def test_memory_is_on_until_switched_off(repo: SqliteRepository) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    assert await repo.memory_enabled(alice) is True
    await repo.set_memory_enabled(alice, False)
    assert await repo.memory_enabled(alice) is False
    assert await repo.memory_enabled(bob) is True
    await repo.set_memory_enabled(alice, True)
    assert await repo.memory_enabled(alice) is True


async def test_the_cursor_and_messages_after_read_both_roles_of_every_conversation(
    repo: SqliteRepository,
) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    assert await repo.memory_cursor(alice) == 0
    first = await repo.start_conversation(alice)
    a1 = await repo.add_message(alice, first, "user", "hello")
    a2 = await repo.add_message(alice, first, "assistant", "hi")
    bobs = await repo.start_conversation(bob)
    await repo.add_message(bob, bobs, "user", "not alice's")
    second = await repo.start_conversation(alice)
    a3 = await repo.add_message(alice, second, "user", "again")

    got = await repo.messages_after(alice, 0, 10)
    assert [(c, m.id, m.role, m.text) for c, m in got] == [
        (first, a1, "user", "hello"),
        (first, a2, "assistant", "hi"),
        (second, a3, "user", "again"),
    ]
    assert [m.id for _, m in await repo.messages_after(alice, a1, 1)] == [a2]
    await repo.set_memory_cursor(alice, a2)
    assert await repo.memory_cursor(alice) == a2
    assert await repo.memory_cursor(bob) == 0
    after = await repo.messages_after(alice, await repo.memory_cursor(alice), 10)
    assert [m.id for _, m in after] == [a3]


async def test_deleting_the_newest_messages_rewinds_the_cursor_so_new_ones_are_read(
    repo: SqliteRepository,
) -> None:
    """SQLite gives the next message the id after the highest left: a cursor beyond it would
    make extraction skip everything the person says after deleting their history."""
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    newest = 0
    for i in range(3):
        newest = await repo.add_message(uid, conv, "user", f"m{i}")
    await repo.set_memory_cursor(uid, newest)
    await repo.delete_history(uid)
    conv = await repo.start_conversation(uid)
    fresh = await repo.add_message(uid, conv, "user", "after the deletion")
    if isinstance(repo, SqliteRepository):
        assert fresh <= newest  # the reuse the rewind is for (PostgreSQL never reuses an id)
    after = await repo.messages_after(uid, await repo.memory_cursor(uid), 10)
    assert [m.text for _, m in after] == ["after the deletion"]


# -- summaries -------------------------------------------------------------------------------


async def test_one_summary_per_conversation_newest_first(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    alice, bob = await person(repo, 1), await person(repo, 2)
    convs = [await repo.start_conversation(alice) for _ in range(3)]
    for conv in convs:
        await repo.set_summary(alice, conv, f"about {conv}")
        clock.advance(minutes=1)
    await repo.set_summary(alice, convs[0], "about the first, again")  # replaces
    await repo.set_summary(bob, await repo.start_conversation(bob), "bob's")
    summaries = await repo.summaries(alice, 10)
    assert [(s.conversation_id, s.text) for s in summaries] == [
        (convs[2], f"about {convs[2]}"),
        (convs[1], f"about {convs[1]}"),
        (convs[0], "about the first, again"),
    ]
    assert summaries[2].created_at == clock.now()
    assert [s.conversation_id for s in await repo.summaries(alice, 2)] == convs[:0:-1]
    assert await repo.memory_counts(alice) == (0, 3)


async def test_counts_for_mydata(repo: SqliteRepository) -> None:
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    await repo.add_memory(uid, "a", conversation_id=conv, manual=False)
    await repo.add_memory(uid, "b", conversation_id=None, manual=True)
    await repo.set_summary(uid, conv, "s")
    assert await repo.memory_counts(uid) == (2, 1)


# -- the time zone ---------------------------------------------------------------------------


@pytest.mark.promise("P9.2")
async def test_the_time_zone_is_a_sealed_profile_field(repo: SqliteRepository) -> None:
    uid = await person(repo)
    assert (await repo.profile(uid)).time_zone is None
    await repo.set_profile_field(uid, "time_zone", "Asia/Kolkata")
    await repo.set_profile_field(uid, "country", "India")
    assert await repo.profile(uid) == Profile(country="India", time_zone="Asia/Kolkata")
    assert (await repo.inventory(uid)).profile_fields == 2
    sealed = raw(repo, "SELECT time_zone_enc FROM profiles WHERE user_id = ?", uid)[0][0]
    assert isinstance(sealed, bytes) and b"Kolkata" not in sealed
    await repo.set_profile_field(uid, "time_zone", None)
    assert (await repo.profile(uid)).time_zone is None


# -- a very long history stays on the indexes ------------------------------------------------


async def fill(repo: SqliteRepository, uid: int, *, messages: int, memories: int) -> int:
    """Rows written straight in (sealed once, copied): fast enough for 200,000 messages."""
    conv = await repo.start_conversation(uid)
    body = await repo._seal(uid, "messages.body", "filler")
    memory = await repo._seal(uid, "memories.body", "a fact")
    summary = await repo._seal(uid, "summaries.body", "a summary")
    at = repo._clock.now().isoformat()
    async with repo.transaction() as db:
        await db.executemany(
            "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((conv, uid, ("user", "assistant")[i % 2], body, at) for i in range(messages)),
        )
        await db.executemany(
            "INSERT INTO memories (user_id, conversation_id, body_enc, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((uid, conv, memory, at, at) for _ in range(memories)),
        )
        await db.execute("INSERT INTO summaries VALUES (?, ?, ?, ?)", (conv, uid, summary, at))
    return conv


def plan(repo: SqliteRepository, sql: str, *params: object) -> str:
    rows = raw(repo, f"EXPLAIN QUERY PLAN {sql}", *params)
    return " | ".join(str(r[-1]) for r in rows)


@pytest.mark.sqlite_only  # SQLite's query planner (EXPLAIN QUERY PLAN)
async def test_memory_queries_use_indexes_for_a_very_long_history(
    repo: SqliteRepository,
) -> None:
    other = await person(repo, 2)
    await fill(repo, other, messages=1000, memories=100)
    uid = await person(repo, 1)
    await fill(repo, uid, messages=200_000, memories=10_000)
    raw(repo, "ANALYZE")  # the planner must pick the index with statistics too

    for sql, index in (
        (
            "SELECT id, body_enc FROM memories WHERE user_id = ? ORDER BY id",
            "memories_user",
        ),
        (
            "SELECT conversation_id, body_enc FROM summaries"
            " WHERE user_id = ? ORDER BY conversation_id DESC LIMIT 5",
            "summaries_user",
        ),
        (
            "SELECT conversation_id, id, role, body_enc, created_at FROM messages"
            " WHERE user_id = ? AND id > ? ORDER BY id LIMIT 50",
            "messages_user",
        ),
        ("SELECT COUNT(*) FROM memories WHERE user_id = ?", "memories_user"),
        ("DELETE FROM memories WHERE conversation_id = ? AND user_id = ?", "memories_"),
    ):
        params = (uid, 100_000) if "id > ?" in sql else (uid,) * sql.count("?")
        found = plan(repo, sql, *params)
        assert index in found and "SCAN" not in found.replace("SCAN CONSTANT", ""), (sql, found)
        assert "TEMP B-TREE" not in found, (sql, found)

    # The methods themselves, with a generous bound on what they return.
    assert len(await repo.memories(uid)) == 10_000
    assert len(await repo.summaries(uid, 5)) == 1
    newest = await repo.newest_message_id(uid)
    tail = await repo.messages_after(uid, newest - 50, 100)
    assert len(tail) == 50 and tail[-1][1].id == newest
    assert await repo.memory_counts(uid) == (10_000, 1)
