"""The opened memories of the people talking now, kept in this process, so that a reply ranks only
the memories that can matter instead of opening and scoring every one (issue 14).

Per person: their memories (opened), each memory's words (handlers/relevance.py `words`), an
inverted index (word -> memory ids) and, per (word count, use count), a run of the memories in
order of their last change or use. Before every reply one indexed query (Repository.memory_version: how many, the
highest id, the newest change) tells whether anything was added, corrected or deleted since; if
so the person's memories are read again. Uses (Repository.mark_memories_used) are applied here too.

The ranking is handlers/relevance.py's, score for score, produced lazily, most relevant first:

- the memories sharing a word with the newest turns (found through the index) are scored in full;
- every other memory has no overlap, so its score is recency + use. Within one run that falls
  with the time since its last change or use, so each run is already in order, and a merge of
  the runs with the first list yields the full ranking's order while scoring only what the window
  takes (handlers/window.py stops when the budget is spent);
- when more than CANDIDATES memories share a word (a word most of them have), only the few that
  share more words than the rest are scored in full; the runs are merged the threshold way, each
  run's next memory bounded by the overlap it could have at most (`_bounded`).

At most `people` persons are kept (least recently answered go first), and a person not answered for
`idle` is dropped at the next reply to anyone: opened texts do not linger for someone who left or
deleted their data. Nothing here is ever logged.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections import Counter, OrderedDict
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import chain
from typing import Generic, TypeVar

from handlers.relevance import (
    OVERLAP_WEIGHT,
    RECENCY_WEIGHT,
    USE_WEIGHT,
    context_words,
    recency,
    score_words,
    use,
    words,
)
from storage.base import Repository
from storage.models import Memory

PEOPLE = 256
CANDIDATES = 256
"""Memories sharing a word with the newest turns beyond which they are not all scored."""
IDLE = timedelta(minutes=30)

Version = tuple[int, int, str | None]
T = TypeVar("T")
_Order = tuple[datetime, datetime, int]
"""(last change or use, last change, id): within one run, ascending order is ascending
score (relevance.recency), ties going to the newer memory as in relevance.rank."""


_Shape = tuple[int, int]
"""(how many words, uses): the runs. Within one, a memory sharing no word with the newest turns
ranks by recency alone."""
_Key = tuple[float, datetime, int]
"""relevance.rank's order: (score, updated_at, id), highest first."""


class _Desc(Generic[T]):
    """An entry of a max-heap (heapq keeps the smallest first)."""

    __slots__ = ("item", "key")

    def __init__(self, key: _Key, item: T) -> None:
        self.key = key
        self.item = item

    def __lt__(self, other: _Desc[T]) -> bool:
        return self.key > other.key


def _order(memory: Memory) -> _Order:
    last = max(memory.updated_at, memory.last_used_at or memory.updated_at)
    return (last, memory.updated_at, memory.id)


class _Person:
    __slots__ = ("index", "memories", "runs", "seen", "version", "words")

    def __init__(self, version: Version, memories: Iterable[Memory], seen: datetime) -> None:
        self.version = version
        self.seen = seen
        self.memories: dict[int, Memory] = {m.id: m for m in memories}
        self.words: dict[int, frozenset[str]] = {}
        self.index: dict[str, set[int]] = {}
        self.runs: dict[_Shape, list[_Order]] = {}
        for memory in self.memories.values():
            found = words(memory.text)
            self.words[memory.id] = found
            for word in found:
                self.index.setdefault(word, set()).add(memory.id)
            self.runs.setdefault(self._shape(memory), []).append(_order(memory))
        for run in self.runs.values():
            run.sort()

    def _shape(self, memory: Memory) -> _Shape:
        return (len(self.words[memory.id]), memory.uses)

    def ranked(self, recent_texts: Sequence[str], now: datetime) -> Iterator[Memory]:
        context = context_words(recent_texts)
        # How many words each memory shares, counted without walking the largest posting (a word
        # most memories have): a memory only in it shares one.
        postings = sorted((self.index[w] for w in context if w in self.index), key=len)
        biggest: set[int] = postings.pop() if postings else set()
        shared = Counter(chain.from_iterable(postings))
        also = [i for i in shared if i in biggest]
        shared.update(also)
        total = len(biggest) + len(shared) - len(also)

        def key(memory: Memory) -> _Key:
            return (
                score_words(memory, self.words[memory.id], context, now),
                memory.updated_at,
                memory.id,
            )

        if total > CANDIDATES:
            # A word most memories share: those sharing more words than `most` (few) are scored
            # in full, the rest lazily, their overlap bounded by `most` words'.
            per_count = Counter(shared.values())
            per_count[1] += len(biggest) - len(also)
            most, left = 0, total
            for count in sorted(per_count):
                if left <= CANDIDATES:
                    break
                most, left = count, left - per_count[count]
            alone = {i for i, c in shared.items() if c > most}
            sharing = sorted((self.memories[i] for i in alone), key=key, reverse=True)
            rest = self._bounded(key, most, len(context), now, alone)
            return heapq.merge(sharing, rest, key=key, reverse=True)
        touched = biggest | shared.keys()
        sharing = sorted((self.memories[i] for i in touched), key=key, reverse=True)
        runs = [self._run(run, touched) for run in self.runs.values()]
        return heapq.merge(sharing, *runs, key=key, reverse=True)

    def _bounded(
        self,
        key: Callable[[Memory], _Key],
        most: int,
        context: int,
        now: datetime,
        skip: Container[int],
    ) -> Iterator[Memory]:
        """Every run at once, the threshold way: a memory is given once no memory not yet
        scored can rank above it. A run's next memory ranks at most as it would sharing `most`
        words (the most any memory shares), and the memories after it lower still."""

        def bound(shape: _Shape, at: _Order) -> _Key:
            memory = self.memories[at[2]]
            most_overlap = min(most, shape[0]) / math.sqrt(shape[0] * context)
            upper = OVERLAP_WEIGHT * most_overlap + RECENCY_WEIGHT * recency(memory, now)
            return (upper + USE_WEIGHT * use(memory), at[1], at[2])

        todo: list[_Desc[tuple[_Shape, int]]] = []  # the runs, by their next memory's bound
        for shape, run in self.runs.items():
            if run and shape[0]:
                todo.append(_Desc(bound(shape, run[-1]), (shape, len(run) - 1)))
            elif run:  # no words: never shares any, scored as it is
                todo.append(_Desc(key(self.memories[run[-1][2]]), (shape, len(run) - 1)))
        heapq.heapify(todo)
        ready: list[_Desc[Memory]] = []
        while todo or ready:
            while todo and (not ready or todo[0].key >= ready[0].key):
                shape, at = heapq.heappop(todo).item
                run = self.runs[shape]
                memory = self.memories[run[at][2]]
                if memory.id not in skip:
                    heapq.heappush(ready, _Desc(key(memory), memory))
                if at > 0:
                    nxt = run[at - 1]
                    head = bound(shape, nxt) if shape[0] else key(self.memories[nxt[2]])
                    heapq.heappush(todo, _Desc(head, (shape, at - 1)))
            if ready:  # empty only when the runs ended with memories scored apart (`skip`)
                yield heapq.heappop(ready).item

    def _run(self, run: list[_Order], skip: Container[int]) -> Iterator[Memory]:
        for _, _, memory_id in reversed(run):
            if memory_id not in skip:
                yield self.memories[memory_id]

    def used(self, memory_ids: Iterable[int], now: datetime) -> None:
        for memory_id in memory_ids:
            memory = self.memories.get(memory_id)
            if memory is None:
                continue
            shape = self._shape(memory)
            run = self.runs[shape]
            at = bisect_left(run, _order(memory))
            if at < len(run) and run[at][2] == memory_id:
                del run[at]
            if not run:
                del self.runs[shape]
            memory = replace(memory, uses=memory.uses + 1, last_used_at=now)
            self.memories[memory_id] = memory
            insort(self.runs.setdefault(self._shape(memory), []), _order(memory))


class MemoryIndex:
    """Owned by handlers/chat.py `Chat`; one per process."""

    def __init__(self, people: int = PEOPLE, idle: timedelta = IDLE) -> None:
        self._people: OrderedDict[int, _Person] = OrderedDict()
        self._size = people
        self._idle = idle

    async def ranked(
        self, repo: Repository, user_id: int, recent_texts: Sequence[str], now: datetime
    ) -> Iterator[Memory]:
        """The person's memories, most relevant to `recent_texts` first (relevance.rank's order),
        lazily: take only what is needed. Consume it before the next await, as uses applied
        meanwhile (`used`) move memories between the runs it reads."""
        self._sweep(now)
        version = await repo.memory_version(user_id)
        person = self._people.get(user_id)
        if person is None or person.version != version:
            self._people.pop(user_id, None)
            if version[0] == 0:
                return iter(())
            # Read after the version: a change in between makes the next reply read them again.
            person = _Person(version, await repo.memories(user_id), now)
            self._people[user_id] = person
            while len(self._people) > self._size:
                self._people.popitem(last=False)
        else:
            person.seen = now
            self._people.move_to_end(user_id)
        return person.ranked(recent_texts, now)

    def used(self, user_id: int, memory_ids: Sequence[int], now: datetime) -> None:
        """As Repository.mark_memories_used did in storage (their version does not change)."""
        person = self._people.get(user_id)
        if person is not None:
            person.used(memory_ids, now)

    def drop(self, user_id: int) -> None:
        """Forget what is kept for the person (memory switched off)."""
        self._people.pop(user_id, None)

    def __contains__(self, user_id: int) -> bool:
        return user_id in self._people

    def _sweep(self, now: datetime) -> None:
        while self._people:
            user_id, person = next(iter(self._people.items()))
            if now - person.seen < self._idle:
                break
            del self._people[user_id]
