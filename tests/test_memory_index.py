"""handlers/memory_index.py: the per-person cache of opened memories is read again whenever the
person's memories change (added, corrected, forgotten, all forgotten, deleted with their
conversation), ranks exactly as handlers/relevance.py does, and holds nothing when memory is off."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import handler_config
from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers import memory_index
from handlers.chat import Chat
from handlers.deps import Deps
from handlers.memory_index import MemoryIndex
from handlers.relevance import rank, words
from storage.base import Unanswered
from storage.models import Memory
from storage.sqlite import SqliteRepository
from tests.conftest import make_settings
from tests.doubles import FakeModel, RecordingChannel
from tests.test_memory_storage import person, plan, raw


async def texts(
    index: MemoryIndex, repo: SqliteRepository, uid: int, clock: FrozenClock
) -> set[str]:
    return {m.text for m in await index.ranked(repo, uid, ["hello"], clock.now())}


async def test_the_cache_is_read_again_after_every_change(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    index = MemoryIndex()
    assert await texts(index, repo, uid, clock) == set()
    first = await repo.add_memory(uid, "has a sister Asha", conversation_id=conv, manual=False)
    assert await texts(index, repo, uid, clock) == {"has a sister Asha"}
    await repo.add_memory(uid, "is vegetarian", conversation_id=None, manual=True)
    assert await texts(index, repo, uid, clock) == {"has a sister Asha", "is vegetarian"}

    clock.advance(seconds=1)  # a correction moves updated_at on
    assert await repo.update_memory(uid, first, "has a brother Ravi")
    assert await texts(index, repo, uid, clock) == {"has a brother Ravi", "is vegetarian"}

    assert await repo.forget_memory(uid, first)
    assert await texts(index, repo, uid, clock) == {"is vegetarian"}

    learnt = await repo.add_memory(uid, "plays chess", conversation_id=conv, manual=False)
    assert await texts(index, repo, uid, clock) == {"is vegetarian", "plays chess"}
    assert await repo.delete_conversation(uid, conv) is not None
    assert await texts(index, repo, uid, clock) == {"is vegetarian"}
    assert learnt not in {m.id for m in await repo.memories(uid)}

    await repo.forget_memories(uid)
    assert await texts(index, repo, uid, clock) == set()
    assert uid not in index  # nothing opened is kept for a person with no memories


async def test_uses_are_applied_locally_and_kept_in_order(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await person(repo)
    ids = []
    for i in range(5):
        ids.append(await repo.add_memory(uid, f"fact {i}", conversation_id=None, manual=True))
        clock.advance(minutes=1)
    index = MemoryIndex()
    await index.ranked(repo, uid, ["nothing shared"], clock.now())
    for _ in range(3):
        clock.advance(hours=1)
        await repo.mark_memories_used(uid, ids[:2])
        index.used(uid, ids[:2], clock.now())
    now = clock.now() + timedelta(days=3)
    cached = list(await index.ranked(repo, uid, ["nothing shared"], now))
    assert cached == rank(await repo.memories(uid), ["nothing shared"], now)
    assert [m.uses for m in cached] == [3, 3, 0, 0, 0]


@pytest.mark.parametrize("candidates", [0, 20, 10_000])
async def test_the_indexed_ranking_equals_the_full_ranking(
    repo: SqliteRepository, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    """Random memories, uses and ages: the candidates sharing words with the newest turns, and
    the memories filling what is left, come in relevance.rank's order, score for score; both when
    the candidates are scored alone and when too many share a word (every run bounded)."""
    monkeypatch.setattr(memory_index, "CANDIDATES", candidates)
    rng = random.Random(14)
    vocabulary = [f"word{i}" for i in range(40)]
    uid = await person(repo)
    base = clock.now()
    for i in range(300):
        text = " ".join(rng.sample(vocabulary, rng.randint(1, 6)))
        clock._now = base - timedelta(seconds=rng.randint(0, 200 * 86400))
        await repo.add_memory(uid, f"{text} {i}", conversation_id=None, manual=False)
    clock._now = base
    by_id = {m.id: m for m in await repo.memories(uid)}
    for memory_id in rng.sample(sorted(by_id), 120):
        clock._now = base - timedelta(seconds=rng.randint(0, 100 * 86400))
        for _ in range(rng.randint(1, 4)):
            await repo.mark_memories_used(uid, [memory_id])
    clock._now = base
    memories = await repo.memories(uid)
    index = MemoryIndex()
    for _ in range(20):
        recent = [" ".join(rng.sample(vocabulary, 4)) for _ in range(3)]
        now = base + timedelta(days=rng.randint(0, 60))
        full = rank(memories, recent, now)
        cached = list(await index.ranked(repo, uid, recent, now))
        assert cached == full
        context = frozenset().union(*(words(t) for t in recent))
        sharing = [m for m in full if words(m.text) & context]
        assert sharing and [m for m in cached if words(m.text) & context] == sharing


async def test_memory_off_keeps_and_sends_nothing(
    tmp_path: Path, repo: SqliteRepository, clock: FrozenClock
) -> None:
    uid = await person(repo)
    conv = await repo.start_conversation(uid)
    await repo.add_memory(uid, "has a cat called Miso", conversation_id=None, manual=True)
    settings = make_settings(tmp_path, AMIGO_MEMORY__ENABLED="true")
    model = FakeModel()
    config = replace(handler_config(settings), stream=False)
    chat = Chat(Deps(repo, model, EstimateCounter(), clock, config, sign=lambda s: b""))

    async def say(text: str) -> str:
        until = clock.now() + timedelta(minutes=5)
        message_id = await repo.accept_message(uid, conv, text, claimed_until=until)
        message = Unanswered(message_id, uid, conv, text, clock.now())
        await chat.answer(message, RecordingChannel(), None)
        return model.history[-1][0]["content"]

    assert "Miso" in await say("my cat is hungry")
    assert uid in chat.memory_index
    await repo.set_memory_enabled(uid, False)
    assert "Miso" not in await say("my cat is hungry again")
    assert uid not in chat.memory_index


async def test_people_and_idle_bound_what_is_kept() -> None:
    index = MemoryIndex(people=2, idle=timedelta(minutes=30))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    memory = Memory(1, "a fact", None, True, now, now)

    class Repo:
        async def memory_version(self, user_id: int) -> tuple[int, int, str | None]:
            return (1, 1, now.isoformat())

        async def memories(self, user_id: int) -> list[Memory]:
            return [memory]

    async def ask(user_id: int, at: datetime) -> None:
        await index.ranked(Repo(), user_id, ["fact"], at)  # type: ignore[arg-type]

    for user_id in (1, 2, 3):
        await ask(user_id, now)
    assert 1 not in index and 2 in index and 3 in index
    await ask(3, now + timedelta(hours=1))  # 2 was idle for an hour
    assert 2 not in index and 3 in index


@pytest.mark.parametrize("candidates", [0, 20, 10_000])
async def test_ties_go_to_the_newer_memory_as_in_the_full_ranking(
    repo: SqliteRepository, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    """Learnt at one instant and all sharing a word (as in tests/benchmarks/window_bench.py)."""
    monkeypatch.setattr(memory_index, "CANDIDATES", candidates)
    uid = await person(repo)
    for i in range(60):
        await repo.add_memory(
            uid, f"likes film {i}, friend Name{i % 7}", conversation_id=None, manual=True
        )
    await repo.mark_memories_used(uid, [m.id for m in await repo.memories(uid)][::3])
    recent = ["what was that film about Name3?"]
    cached = list(await MemoryIndex().ranked(repo, uid, recent, clock.now()))
    assert cached == rank(await repo.memories(uid), recent, clock.now())


@pytest.mark.sqlite_only  # SQLite's query planner (EXPLAIN QUERY PLAN)
async def test_the_version_is_read_from_indexes_alone(repo: SqliteRepository) -> None:
    uid = await person(repo)
    assert await repo.memory_version(uid) == (0, 0, None)
    await repo.add_memory(uid, "a fact", conversation_id=None, manual=True)
    raw(repo, "ANALYZE")
    for column in ("count(*)", "max(id)", "max(updated_at)"):
        found = plan(repo, f"SELECT {column} FROM memories WHERE user_id = ?", uid)
        assert "COVERING INDEX memories_user" in found, (column, found)
