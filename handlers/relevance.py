"""Which memories matter now: a simple, local score (no model call, nothing leaves the machine).

    score = 3 × overlap + 1 × recency + 0.5 × use

- overlap: the cosine of the memory's words and the words of the conversation's newest turns
  (casefolded words, stop words left out), 0..1;
- recency: 0.5 ** (days since the memory was learnt, corrected or last used / 30), 0..1;
- use: uses / (uses + 5), 0..1, so a memory used often ranks above one never used.

Overlap weighs most, so what the person is talking about now comes first; among memories the
conversation does not touch, recent and often used ones fill what is left of the budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from storage.models import Memory

OVERLAP_WEIGHT = 3.0
RECENCY_WEIGHT = 1.0
USE_WEIGHT = 0.5
HALF_LIFE_DAYS = 30.0
USE_HALF = 5

_WORD = re.compile(r"\w+")
_STOP = """
    a about am an and are as at be been but by can could did do does for from had has have
    he her him his how i if in is it its just me my no not of on or our she so that the
    their them then there they this to too up us was we were what when where which who why
    will with would you your yes ok okay
"""
STOP_WORDS = frozenset(_STOP.split())


def words(text: str) -> frozenset[str]:
    """The casefolded words of `text`, stop words and single letters left out."""
    return frozenset(
        w for w in _WORD.findall(text.casefold()) if len(w) > 1 and w not in STOP_WORDS
    )


def overlap(memory_words: frozenset[str], context_words: frozenset[str]) -> float:
    """Cosine of two word sets: 1 for the same words, 0 for none shared."""
    if not memory_words or not context_words:
        return 0.0
    shared = len(memory_words & context_words)
    return shared / math.sqrt(len(memory_words) * len(context_words))


def recency(memory: Memory, now: datetime) -> float:
    """1 for a memory learnt or used just now, halving every HALF_LIFE_DAYS."""
    last = max(memory.updated_at, memory.last_used_at or memory.updated_at)
    days = max(0.0, (now - last).total_seconds() / 86400)
    return float(0.5 ** (days / HALF_LIFE_DAYS))


def use(memory: Memory) -> float:
    return memory.uses / (memory.uses + USE_HALF) if memory.uses > 0 else 0.0


def score(memory: Memory, context_words: frozenset[str], now: datetime) -> float:
    return score_words(memory, words(memory.text), context_words, now)


def score_words(
    memory: Memory, memory_words: frozenset[str], context_words: frozenset[str], now: datetime
) -> float:
    """`score` with the memory's words already taken (handlers/memory_index.py keeps them)."""
    return (
        OVERLAP_WEIGHT * overlap(memory_words, context_words)
        + RECENCY_WEIGHT * recency(memory, now)
        + USE_WEIGHT * use(memory)
    )


def context_words(recent_texts: Sequence[str]) -> frozenset[str]:
    """The words of the conversation's newest turns, together."""
    return frozenset().union(*(words(t) for t in recent_texts))


def rank(memories: Iterable[Memory], recent_texts: Sequence[str], now: datetime) -> list[Memory]:
    """`memories`, most relevant to `recent_texts` (the conversation's newest turns) first; ties
    go to the newer memory."""
    context = context_words(recent_texts)
    scored = [(score(m, context, now), m.updated_at, m.id, m) for m in memories]
    scored.sort(key=lambda row: (row[0], row[1], row[2]), reverse=True)
    return [row[3] for row in scored]
