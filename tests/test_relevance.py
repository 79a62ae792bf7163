"""Relevance of memories (handlers/relevance.py): pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.relevance import overlap, rank, recency, score, use, words
from storage.models import Memory

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def memory(
    mid: int, text: str, *, days_old: float = 0, used_days_ago: float | None = None, uses: int = 0
) -> Memory:
    at = NOW - timedelta(days=days_old)
    used = None if used_days_ago is None else NOW - timedelta(days=used_days_ago)
    return Memory(mid, text, 1, False, at, at, last_used_at=used, uses=uses)


def test_words_are_casefolded_without_stop_words_or_single_letters() -> None:
    assert words("My SISTER Priya is a doctor, and I love her!") == {
        "sister",
        "priya",
        "doctor",
        "love",
    }
    assert words("Straße") == words("STRASSE")  # casefold, not lower
    assert words("") == frozenset()


def test_overlap_is_the_cosine_of_the_word_sets() -> None:
    assert overlap(frozenset({"exam", "physics"}), frozenset({"exam", "physics"})) == 1.0
    assert overlap(frozenset({"exam"}), frozenset({"cats"})) == 0.0
    assert overlap(frozenset(), frozenset({"cats"})) == 0.0
    half = overlap(frozenset({"exam", "physics"}), frozenset({"exam", "tomorrow"}))
    assert abs(half - 0.5) < 1e-9


def test_recency_halves_every_thirty_days_and_counts_the_last_use() -> None:
    assert recency(memory(1, "x"), NOW) == 1.0
    assert abs(recency(memory(1, "x", days_old=30), NOW) - 0.5) < 1e-9
    assert abs(recency(memory(1, "x", days_old=60), NOW) - 0.25) < 1e-9
    assert recency(memory(1, "x", days_old=60, used_days_ago=0), NOW) == 1.0
    assert recency(memory(1, "x", days_old=-1), NOW) == 1.0  # a clock step back: no bonus


def test_use_grows_with_the_count_and_stays_below_one() -> None:
    assert use(memory(1, "x")) == 0.0
    assert use(memory(1, "x", uses=5)) == 0.5
    assert 0.5 < use(memory(1, "x", uses=50)) < 1.0


def test_what_the_conversation_is_about_ranks_first() -> None:
    memories = [
        memory(1, "Has a cat called Biscuit", uses=40),
        memory(2, "Physics exam on Friday", days_old=20),
        memory(3, "Likes filter coffee"),
    ]
    ranked = rank(memories, ["I'm so nervous about the exam", "which exam?"], NOW)
    assert [m.id for m in ranked] == [2, 1, 3]


def test_without_overlap_recent_and_used_memories_come_first() -> None:
    memories = [
        memory(1, "Old and unused", days_old=90),
        memory(2, "Old but used a lot", days_old=90, uses=30),
        memory(3, "Learnt today"),
        memory(4, "Old, used yesterday", days_old=90, used_days_ago=1, uses=1),
    ]
    ranked = rank(memories, ["hello"], NOW)
    assert [m.id for m in ranked] == [4, 3, 2, 1]  # used yesterday and once: above new


def test_ties_go_to_the_newer_memory_and_ranking_is_total() -> None:
    same = [memory(i, "Likes tea", days_old=0) for i in range(1, 4)]
    assert [m.id for m in rank(same, [], NOW)] == [3, 2, 1]
    assert rank([], ["anything"], NOW) == []


def test_score_weights_overlap_above_recency_and_use() -> None:
    context = words("my exam tomorrow")
    relevant_but_old = memory(1, "exam tomorrow", days_old=365)
    fresh_and_used = memory(2, "likes rain", uses=1000)
    assert score(relevant_but_old, context, NOW) > score(fresh_and_used, context, NOW)
