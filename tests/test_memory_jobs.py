"""Memory's background work through storage: quiet conversations found after a restart
(jobs/memory.py, Repository.memory_idle_users), and messages flagged for distress, by any check,
kept out of extraction (Repository.flagged_message_ids). Real SQLite file, fake model."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import get_args

import pytest

from core.clock import FrozenClock
from handlers.router import Dispatcher
from jobs.memory import run_memory_idle
from safety import detect_distress
from safety.rules import Category
from storage.models import Status
from storage.sqlite import SqliteRepository
from storage.sqlite_memory_jobs import _FLAGGED, _IDLE_USERS, DISTRESS_CATEGORIES
from tests import db as stored
from tests.doubles import RecordingChannel
from tests.test_memory import MemoryModel, account_id, chat, facts, remembered, with_memory
from tests.test_memory_storage import fill, person, plan, raw
from tests.test_onboarding import onboard, say

# -- quiet conversations, after a restart ----------------------------------------------------------


async def test_a_quiet_conversation_is_read_and_summarised_once_after_a_restart(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    d = with_memory(dispatcher, MemoryModel())
    await onboard(d, RecordingChannel())
    await chat(d, RecordingChannel(), "I start my new job on Monday")  # 1 of 3: unread
    await d.memory.close()  # the bot stops; nothing of this keeper survives
    model = MemoryModel()
    model.answers.append(facts("Starts a new job on Monday.", summary="About the new job."))
    restarted = with_memory(dispatcher, model)
    hours = restarted.deps.config.memory.idle_hours
    clock.advance(hours=hours - 1)
    assert await run_memory_idle(repo, restarted.memory.end_idle, clock.now(), hours) == 0
    clock.advance(hours=2)
    assert await run_memory_idle(repo, restarted.memory.end_idle, clock.now(), hours) == 1
    assert await run_memory_idle(repo, restarted.memory.end_idle, clock.now(), hours) == 0
    await restarted.memory.drain()
    [turns] = model.extractions
    assert "Person: I start my new job on Monday" in turns[1]["content"]
    assert [m.text for m in await remembered(repo)] == ["Starts a new job on Monday."]
    assert [s.text for s in await repo.summaries(await account_id(repo), 3)] == [
        "About the new job."
    ]


async def test_who_is_idle(repo: SqliteRepository, clock: FrozenClock) -> None:
    """Active, memory on, newest message before `quiet_since` and above the cursor."""
    quiet, talking, read, off, closed, silent = [await person(repo, i) for i in range(1, 7)]
    convs = {uid: await repo.start_conversation(uid) for uid in (quiet, read, off, closed)}
    for uid, conv in convs.items():
        await repo.add_message(uid, conv, "user", "hello")
    await repo.set_memory_cursor(read, await repo.add_message(read, convs[read], "assistant", "hi"))
    await repo.set_memory_enabled(off, False)
    raw_close(repo, closed)
    clock.advance(hours=7)
    await repo.add_message(talking, await repo.start_conversation(talking), "user", "hi")
    since = clock.now() - timedelta(hours=6)
    assert await repo.memory_idle_users(since, 10) == [quiet]
    assert await repo.memory_idle_users(since - timedelta(hours=2), 10) == []
    assert silent not in await repo.memory_idle_users(clock.now() + timedelta(hours=1), 10)
    assert await repo.memory_idle_users(clock.now() + timedelta(hours=1), 1) == [quiet]


def raw_close(repo: SqliteRepository, uid: int) -> None:
    stored.execute(repo, "UPDATE users SET status = ? WHERE id = ?", Status.CLOSED, uid)


@pytest.mark.sqlite_only  # SQLite's query planner (EXPLAIN QUERY PLAN)
async def test_idle_and_flag_queries_use_indexes_for_a_very_long_history(
    repo: SqliteRepository, clock: FrozenClock
) -> None:
    others = [await person(repo, i) for i in range(2, 12)]
    for uid in others:
        await fill(repo, uid, messages=100, memories=0)
        await repo.flag(uid, "self_harm", "high", 1)
    uid = await person(repo, 1)
    await fill(repo, uid, messages=200_000, memories=0)
    for i in range(200):
        await repo.flag(uid, ("self_harm", "age_signal")[i % 2], "high", i * 900)
    raw(repo, "ANALYZE")
    since = clock.now() + timedelta(hours=1)
    idle = plan(repo, _IDLE_USERS, "active", since.isoformat(), 50)
    # per account: the newest message through messages_user, then that one row by its key
    assert "SEARCH n USING COVERING INDEX messages_user (user_id=?)" in idle, idle
    assert "SEARCH m USING INTEGER PRIMARY KEY" in idle, idle
    assert "SCAN m" not in idle and "SCAN n" not in idle, idle
    flags = plan(repo, _FLAGGED, uid, 0, *DISTRESS_CATEGORIES)
    assert "safety_records_user" in flags and "SCAN" not in flags, flags
    assert (await repo.memory_idle_users(since, 50))[:1] == [min(others)]
    assert uid in await repo.memory_idle_users(since, 50)
    flagged = await repo.flagged_message_ids(uid, 0)
    assert flagged == {i * 900 for i in range(200) if i % 2 == 0} - {0}
    assert await repo.flagged_message_ids(uid, 90_000) == {i for i in flagged if i > 90_000}


# -- distress, flagged by any check, never sent ----------------------------------------------------


class Moderation:
    """A moderation endpoint that flags one phrase the built-in detector does not know."""

    PHRASE = "everything feels pointless and heavy lately"

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def distress(self, text: str) -> tuple[str, str] | None:
        self.asked.append(text)
        return ("self_harm", "medium") if self.PHRASE in text else None


async def test_a_message_flagged_by_the_moderation_endpoint_only_is_never_sent_for_extraction(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    assert detect_distress(Moderation.PHRASE) is None  # only the endpoint knows it
    moderation, model = Moderation(), MemoryModel()
    d = with_memory(Dispatcher(replace(dispatcher.deps, moderator=moderation)), model)
    ch = RecordingChannel()
    await onboard(d, ch)
    await chat(d, ch, "I love painting", Moderation.PHRASE, "my cat is Biscuit")
    await say(d, ch, "/new")
    await d.memory.drain()
    assert model.extractions
    for turns in model.extractions:
        assert "pointless" not in turns[1]["content"]  # nor the reply that echoed it
    transcript = model.extractions[0][1]["content"]
    assert "painting" in transcript and "Biscuit" in transcript
    assert transcript.count("Person:") == 2
    # The endpoint was asked once per message when it arrived, never again for memory.
    assert moderation.asked.count(Moderation.PHRASE) == 1


async def test_only_distress_flags_count(repo: SqliteRepository) -> None:
    uid, other = await person(repo, 1), await person(repo, 2)
    conv = await repo.start_conversation(uid)
    ids = [await repo.add_message(uid, conv, "user", f"m{i}") for i in range(5)]
    await repo.flag(uid, "suicide", "high", ids[0])
    await repo.flag(uid, "harm_to_others", "medium", ids[1])
    await repo.flag(uid, "age_signal", "review", ids[2])
    await repo.flag(uid, "abuse.flood", "low")
    await repo.flag(other, "self_harm", "high", ids[3])
    await repo.flag(uid, "self_harm", "medium", ids[4])
    assert await repo.flagged_message_ids(uid, 0) == {ids[0], ids[1], ids[4]}
    assert await repo.flagged_message_ids(uid, ids[1]) == {ids[4]}
    assert await repo.flagged_message_ids(other, 0) == {ids[3]}


def test_the_distress_categories_are_every_category_the_checks_raise() -> None:
    """The built-in detector's (and its model's) categories; the moderation adapter
    (bot/llm.py) answers with some of the same."""
    assert set(DISTRESS_CATEGORIES) == set(get_args(Category))
