"""The window with memory (handlers/window.py, handlers/chat.py): what is remembered, the newest
summaries and the newest turns, within the budget whatever the amounts; name and local time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal, overload
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers.deps import MemoryConfig
from handlers.persona import SAFE_MESSAGING, local_moment, system_prompt
from handlers.relevance import rank
from handlers.router import Dispatcher
from handlers.timezones import country_zone, parse_zone, zone_for
from handlers.window import build_memory_window, window_cost
from storage.models import ChatMessage, Companion, Memory, Summary
from storage.sqlite import SqliteRepository
from tests.doubles import FakeModel
from tests.test_onboarding import press, say
from tests.test_rights import active, with_config

NOW = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # a Tuesday; 12:00 in India
UTC_ZONE = ZoneInfo("UTC")
SYSTEM = system_prompt(Companion("Amigo", "nonbinary", "warm"), name="Asha", now=NOW)


class LazyHistory(Sequence[ChatMessage]):
    """`n` stored messages, newest first, made only when read (as the repository's rows are)."""

    def __init__(self, n: int, text: str = "and then we talked about the weather again") -> None:
        self.n, self.text, self.reads = n, text, 0

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> ChatMessage: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ChatMessage]: ...
    def __getitem__(self, i: int | slice) -> ChatMessage | Sequence[ChatMessage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.reads += 1
        role: Literal["user", "assistant"] = "user" if i % 2 == 0 else "assistant"
        return ChatMessage(self.n - i, role, f"{self.text} ({self.n - i})", NOW)


def memories(n: int) -> list[Memory]:
    return [
        Memory(
            i,
            f"Fact number {i}: likes thing {i} and the colour {i % 7}",
            i % 50,
            False,
            NOW - timedelta(days=i % 400),
            NOW - timedelta(days=i % 400),
            uses=i % 9,
        )
        for i in range(1, n + 1)
    ]


def summaries(n: int) -> list[Summary]:
    return [
        Summary(100 - i, f"Talked about plans for weekend {i}.", NOW - timedelta(days=i))
        for i in range(n)
    ]


@pytest.mark.promise("P6.1")
@pytest.mark.parametrize("context", [2048, 8192, 32768, 128000])
@pytest.mark.parametrize("share", [0.01, 0.25, 0.5])
def test_the_budget_holds_with_10000_memories_and_1000000_messages(
    context: int, share: float
) -> None:
    counter = EstimateCounter()
    history = LazyHistory(1_000_000)
    ranked = rank(memories(10_000), ["which colour do I like?"], NOW)
    window = build_memory_window(
        SYSTEM,
        history,
        counter,
        context_tokens=context,
        reply_tokens=context // 4,
        memories=ranked,
        summaries=summaries(20),
        share=share,
        name="Asha",
        zone=UTC_ZONE,
        instructions=[SAFE_MESSAGING],
    )
    assert window_cost(window.turns, counter) <= context - context // 4
    system = window.turns[0]["content"]
    assert system.startswith(SYSTEM) and system.endswith(SAFE_MESSAGING)
    block = system.removeprefix(SYSTEM).removesuffix("\n\n" + SAFE_MESSAGING)
    assert counter.count(block) <= int((context - context // 4) * share)
    # the newest turns, contiguous, and only as many messages read as fit (plus the one that did not)
    newest = [t["content"] for t in window.turns[1:]]
    assert newest[-1].endswith("(1000000)") and len(newest) + 1 == history.reads
    assert newest[0].endswith(f"({1_000_000 - len(newest) + 1})")
    assert len(window.memory_ids) == len(set(window.memory_ids))
    if share < 0.25:  # a sliver of the budget: the labels may not even fit, never more
        return
    place = {m.id: i for i, m in enumerate(ranked)}  # in ranked order; a longer one may be skipped
    assert [place[i] for i in window.memory_ids] == sorted(place[i] for i in window.memory_ids)
    assert window.memory_ids[0] == ranked[0].id
    assert "What you remember about Asha" in system and "Summaries of your earlier" in system
    assert all(f"Fact number {i}:" in system for i in window.memory_ids)


@given(
    st.lists(st.text(min_size=1, max_size=300), max_size=60),
    st.lists(st.text(min_size=1, max_size=300), max_size=8),
    st.lists(st.text(min_size=1, max_size=600), min_size=1, max_size=30),
    st.integers(min_value=600, max_value=6000),
    st.floats(min_value=0.01, max_value=0.5),
)
@settings(max_examples=150, deadline=None)
def test_the_budget_holds_for_any_texts(
    facts: list[str], notes: list[str], texts: list[str], context: int, share: float
) -> None:
    counter = EstimateCounter()
    mems = [Memory(i, f, None, True, NOW, NOW) for i, f in enumerate(facts)]
    sums = [Summary(i, s, NOW) for i, s in enumerate(notes)]
    history = [ChatMessage(i, "user", x, NOW) for i, x in enumerate(texts)]
    window = build_memory_window(
        "You are Amigo.",
        history,
        counter,
        context_tokens=context,
        reply_tokens=200,
        memories=mems,
        summaries=sums,
        share=share,
        zone=UTC_ZONE,
    )
    assert window_cost(window.turns, counter) <= context - 200
    assert len(window.turns) >= 2  # the newest message always goes in, whole or cut


def test_memories_go_in_most_relevant_first_and_summaries_newest_first() -> None:
    counter = EstimateCounter()
    mems = [
        Memory(1, "Has a cat called Biscuit", 3, False, NOW, NOW),
        Memory(2, "Physics exam on Friday", 4, False, NOW - timedelta(days=9), NOW),
        Memory(3, "Sister Priya lives in Pune", None, True, NOW, NOW, uses=3),
    ]
    ranked = rank(mems, ["my exam is in two days"], NOW)
    window = build_memory_window(
        SYSTEM,
        [ChatMessage(9, "user", "my exam is in two days", NOW)],
        counter,
        context_tokens=4096,
        reply_tokens=512,
        memories=ranked,
        summaries=summaries(2),
        name="Asha",
        zone=ZoneInfo("Asia/Kolkata"),
    )
    system = window.turns[0]["content"]
    assert window.memory_ids == (2, 3, 1)
    assert system.index("Physics exam") < system.index("Sister Priya") < system.index("Biscuit")
    assert system.index("weekend 0") < system.index("weekend 1")
    assert "- 03 Mar 2026: Talked about plans for weekend 0." in system
    assert window.turns[1:] == [{"role": "user", "content": "my exam is in two days"}]


def test_nothing_remembered_adds_nothing_to_the_prompt() -> None:
    window = build_memory_window(
        SYSTEM,
        [ChatMessage(1, "user", "hi", NOW)],
        EstimateCounter(),
        context_tokens=4096,
        reply_tokens=512,
        zone=UTC_ZONE,
    )
    assert window.turns[0]["content"] == SYSTEM and window.memory_ids == ()


def test_system_prompt_names_the_person_and_their_local_time() -> None:
    kolkata = NOW.astimezone(ZoneInfo("Asia/Kolkata"))
    prompt = system_prompt(Companion("Amigo", "female", "calm"), name="Asha", now=kolkata)
    assert "The user's name is Asha" in prompt
    assert "Tuesday, 3 March 2026, 12:00 (Asia/Kolkata)" in prompt
    assert local_moment(NOW.astimezone(ZoneInfo("America/New_York"))) == (
        "Tuesday, 3 March 2026, 01:30 (America/New_York)"
    )
    bare = system_prompt(Companion("Amigo", "female", "calm"))
    assert "name is" not in bare and "it is now" not in bare


def test_zone_is_theirs_else_their_countrys_else_the_default() -> None:
    assert str(zone_for("Europe/Paris", "India", "UTC")) == "Europe/Paris"
    assert str(zone_for(None, "India", "UTC")) == "Asia/Kolkata"
    assert str(zone_for(None, "de", "UTC")) == "Europe/Berlin"
    assert str(zone_for(None, "United States", "UTC")) == "America/New_York"
    assert str(zone_for(None, "Atlantis", "Asia/Tokyo")) == "Asia/Tokyo"
    assert str(zone_for("Not/AZone", None, "Asia/Tokyo")) == "Asia/Tokyo"
    assert str(zone_for(None, None, "nonsense")) == "UTC"
    assert country_zone("IN") == country_zone("india") == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("asia/kolkata", "Asia/Kolkata"),
        ("America/New York", "America/New_York"),
        ("Kolkata", "Asia/Kolkata"),
        ("new york", "America/New_York"),
        ("Mumbai", "Asia/Kolkata"),
        ("Germany", "Europe/Berlin"),
        ("+5:30", "Asia/Kolkata"),
        ("UTC+05:45", "Asia/Kathmandu"),
        ("UTC-3", "Etc/GMT+3"),
        ("GMT+9", "Etc/GMT-9"),
        ("+0", "UTC"),
        ("Narnia", None),
        ("+13:17", None),
        ("+25", None),
        ("", None),
    ],
)
def test_typed_time_zones(typed: str, zone: str | None) -> None:
    assert parse_zone(typed) == zone


# -- through the handlers, with the real repository ------------------------------------------------


def remembering(dispatcher: Dispatcher, clock: FrozenClock, **memory: object) -> Dispatcher:
    clock._now = NOW
    return with_config(dispatcher, memory=replace(MemoryConfig(), **memory))  # type: ignore[arg-type]


def last_system(model: FakeModel) -> str:
    chats = [h for h in model.history if "You are" in h[0]["content"]]
    return chats[-1][0]["content"]


@pytest.mark.promise("P6.1")
async def test_memories_reach_the_request_and_are_marked_used(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel, clock: FrozenClock
) -> None:
    d = remembering(dispatcher, clock)
    ch, account = await active(d, repo)
    await repo.add_memory(
        account.id, "Has a physics exam on Friday", conversation_id=None, manual=True
    )
    await say(d, ch, "/new")
    await say(d, ch, "wish me luck for the exam")
    system = last_system(model)
    assert "What you remember about the user" in system and "physics exam on Friday" in system
    [kept] = await repo.memories(account.id)
    assert kept.uses == 1 and kept.last_used_at == NOW


async def test_memory_off_for_the_person_or_everyone_sends_nothing_remembered(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel, clock: FrozenClock
) -> None:
    d = remembering(dispatcher, clock)
    ch, account = await active(d, repo)
    await repo.add_memory(account.id, "Has a physics exam", conversation_id=None, manual=True)
    await repo.set_memory_enabled(account.id, False)
    await say(d, ch, "the exam went well")
    assert "physics exam" not in last_system(model) and "remember" not in last_system(model)
    await repo.set_memory_enabled(account.id, True)
    off = remembering(dispatcher, clock, enabled=False)
    await say(off, ch, "the exam went well")
    assert "physics exam" not in last_system(model)
    [kept] = await repo.memories(account.id)
    assert kept.uses == 0


async def test_name_and_local_time_from_the_profile_reach_the_request(
    dispatcher: Dispatcher, repo: SqliteRepository, model: FakeModel, clock: FrozenClock
) -> None:
    d = remembering(dispatcher, clock)
    d = with_config(d, default_time_zone="Asia/Tokyo")
    ch, _ = await active(d, repo)
    await say(d, ch, "hello")
    assert "Tuesday, 3 March 2026, 15:30 (Asia/Tokyo)" in last_system(model)  # the default
    await say(d, ch, "/profile country India")
    await say(d, ch, "/profile name Asha")
    await say(d, ch, "hello")
    system = last_system(model)
    assert "12:00 (Asia/Kolkata)" in system and "The user's name is Asha" in system
    await say(d, ch, "/profile timezone Europe/London")
    assert "Europe/London" in ch.texts[-1] and "06:30" in ch.texts[-1]
    await say(d, ch, "hello")
    assert "Tuesday, 3 March 2026, 06:30 (Europe/London)" in last_system(model)


async def test_profile_time_zone_by_button_refuses_unknown_names(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    clock._now = NOW
    ch, account = await active(dispatcher, repo)
    await say(dispatcher, ch, "/profile")
    assert "Time zone: not set (I use Asia/Kolkata)" in ch.texts[-1]
    await press(dispatcher, ch, "prof:time_zone")
    assert "Which time zone" in ch.texts[-1]
    await say(dispatcher, ch, "Narnia/Cair_Paravel")
    assert "don't know that time zone" in ch.texts[-1]
    assert (await repo.profile(account.id)).time_zone is None
    await say(dispatcher, ch, "new york")
    assert "America/New_York" in ch.texts[-1] and "01:30" in ch.texts[-1]
    assert (await repo.profile(account.id)).time_zone == "America/New_York"
    await say(dispatcher, ch, "/profile")
    assert "Time zone: America/New_York" in ch.texts[-1]
    await say(dispatcher, ch, "/profile clear")
    assert (await repo.profile(account.id)).time_zone is None
