"""Abuse and load limits (P15.1): automatic systems only slow down, refuse a message, or flag it.

A ban is always an operator's decision. The per-person rate (a token bucket: a burst, then a steady
rate) and the repeat counter live in a `LimitStore`: in this process's memory (`MemoryLimitStore`,
one process on SQLite), or shared by every worker of one bot (the database, `DatabaseLimitStore`,
or Redis, bot/redis_limits.py), so a person flooding two workers at once is limited as if there
were one. Each store operation is atomic (one SQL statement, one Lua script). The daily allowance
lives in the database. A flood is told to slow down once per refusal window (until the bucket lets
a message through again), not message for message: answering each refusal would itself flood the
chat and Telegram's limits. Shared stores never see a Telegram id or a text: buckets are keyed by
a keyed pseudonym of the Telegram id, repeats by a keyed digest of the text (`pseudonym`).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from core.clock import Clock
from handlers.events import Button, Reply
from handlers.texts import t
from storage.base import Repository

K = TypeVar("K")
V = TypeVar("V")
_TRACKED = 50_000  # people remembered in memory at once; the oldest are forgotten first
IDLE_SECONDS = 3600.0
"""A shared bucket idle this long (or burst/rate, if longer) is full again: dropping it changes
nothing, so shared stores forget it (a Redis TTL, `Repository.purge_idle_limits`)."""


def idle_after(burst: int, per_second: float) -> float:
    """Seconds after which an untouched bucket may be forgotten: by then it has refilled."""
    return max(IDLE_SECONDS, burst / per_second)


@dataclass(frozen=True)
class Limits:
    burst: int
    per_minute: int
    daily_messages: int
    max_message_chars: int
    repeat_threshold: int


@dataclass(frozen=True)
class BucketResult:
    """What one `LimitStore.take` decided, all the Limiter needs to answer."""

    admitted: bool
    tokens: float
    """Tokens left after this take (a refusal: what the bucket holds, less than one)."""
    refused: int
    """Refusals since the last message let through (0 when admitted)."""
    flag: bool
    """This refusal is the one that reached `burst` refusals: write the flood flag now (once)."""

    @property
    def tell(self) -> bool:
        """The first refusal of a refusal window: say "slow down" (once per window)."""
        return self.refused == 1

    @classmethod
    def of(cls, tokens: float, refused: int, flag: bool) -> BucketResult:
        return cls(admitted=refused == 0, tokens=tokens, refused=refused, flag=flag)


class LimitStore(Protocol):
    """The state the Limiter keeps, with atomic operations so workers sharing it agree."""

    shared: bool
    """True when the state leaves this process: keys must then be keyed pseudonyms."""

    async def take(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> BucketResult:
        """Refill the bucket `key` (full at first: `burst`) for the time since its last take,
        then take one token if there is one: admitted, refusals reset. Else count a refusal, and
        when `can_flag` and the refusals reached `burst`, flag it once (until the next admit)."""
        ...

    async def repeat(self, user_id: int, digest: bytes) -> int:
        """How many times in a row `user_id` sent the text with this digest, this one included."""
        ...

    async def close(self) -> None:
        """Release what the store holds (a Redis connection pool); the Limiter never calls it."""
        ...


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    refused: int = 0
    flagged: bool = False


class MemoryLimitStore:
    """This process's memory, bounded (the least recently seen are forgotten): one worker only."""

    shared = False

    def __init__(self, tracked: int = _TRACKED) -> None:
        self.tracked = tracked
        self.buckets: OrderedDict[bytes, _Bucket] = OrderedDict()
        self.last_text: OrderedDict[int, tuple[bytes, int]] = OrderedDict()

    async def take(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> BucketResult:
        bucket = self.buckets.pop(key, None) or _Bucket(float(burst), now)
        self._remember(self.buckets, key, bucket)
        # A clock stepped back never takes tokens away (nor moves the refill's start back).
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(burst), bucket.tokens + elapsed * per_second)
        bucket.at = max(bucket.at, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.refused = 0
            bucket.flagged = False
            return BucketResult.of(bucket.tokens, 0, False)
        bucket.refused += 1
        flag = can_flag and bucket.refused >= burst and not bucket.flagged
        bucket.flagged = bucket.flagged or flag
        return BucketResult.of(bucket.tokens, bucket.refused, flag)

    async def repeat(self, user_id: int, digest: bytes) -> int:
        last, count = self.last_text.pop(user_id, (b"", 0))
        count = count + 1 if digest == last else 1
        self._remember(self.last_text, user_id, (digest, count))
        return count

    async def close(self) -> None:
        return None

    def _remember(self, table: OrderedDict[K, V], key: K, value: V) -> None:
        table[key] = value
        while len(table) > self.tracked:
            table.popitem(last=False)


class DatabaseLimitStore:
    """The database every worker shares (PostgreSQL): one atomic upsert per operation
    (storage/sqlite_limits.py). Idle buckets are purged every `purge_every` takes of this worker,
    so buckets of people without an account do not pile up."""

    shared = True

    def __init__(self, repo: Repository, *, purge_every: int = 1000) -> None:
        self.repo = repo
        self.purge_every = purge_every
        self._takes = 0

    async def take(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> BucketResult:
        tokens, refused, flag = await self.repo.take_limit_token(
            key, now, burst, per_second, can_flag=can_flag
        )
        self._takes += 1
        if self._takes % self.purge_every == 0:
            await self.repo.purge_idle_limits(
                now - timedelta(seconds=idle_after(burst, per_second))
            )
        return BucketResult.of(tokens, refused, flag)

    async def repeat(self, user_id: int, digest: bytes) -> int:
        return await self.repo.count_repeat(user_id, digest)

    async def close(self) -> None:
        return None  # the repository is closed by whoever opened it


def _unkeyed(text: str) -> bytes:
    """The default pseudonym: unkeyed, so for this process's memory only (see Limiter)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


@dataclass(frozen=True)
class Refused:
    """A message the rate limit refused; `reply` is None when the person was already told."""

    reply: Reply | None


class Limiter:
    def __init__(
        self,
        limits: Limits,
        clock: Clock,
        repo: Repository,
        *,
        store: LimitStore | None = None,
        pseudonym: Callable[[str], bytes] | None = None,
        plus_allowance: Callable[[int], Awaitable[int | None]] | None = None,
    ) -> None:
        """`store`: memory by default. `pseudonym`: a keyed MAC (Deps.sign), required with a
        shared store so that no Telegram id or text leaves the process (keys, digests).
        `plus_allowance`: a person's daily allowance with Amigo Plus (0: none; None: no Plus),
        asked only once the free allowance is used up; None where Plus is not offered."""
        self.plus_allowance = plus_allowance
        self.limits = limits
        self.clock = clock
        self.repo = repo
        self.store: LimitStore = store or MemoryLimitStore()
        if self.store.shared and pseudonym is None:
            raise ValueError("a shared limit store needs a keyed pseudonym (Deps.sign)")
        self._pseudonym = pseudonym or _unkeyed

    def bucket_key(self, tg_id: int) -> bytes:
        return self._pseudonym(f"limits.bucket:{tg_id}")[:16]

    async def admit(self, tg_id: int, user_id: int | None) -> Refused | None:
        """The rate limit for anything a person types: None to go on, or the refusal (with the
        reply that says so, the first time in a refusal window only)."""
        rate = self.limits.per_minute / 60.0
        taken = await self.store.take(
            self.bucket_key(tg_id),
            self.clock.now(),
            self.limits.burst,
            rate,
            can_flag=user_id is not None,
        )
        if taken.admitted:
            return None
        if taken.flag and user_id is not None:
            await self.repo.flag(user_id, "abuse.flood", "low")
        if not taken.tell:
            return Refused(None)
        wait = max(1, math.ceil((1.0 - taken.tokens) / rate))
        return Refused(Reply(t("limits.slow_down", seconds=wait)))

    async def admit_chat(self, user_id: int, text: str) -> Reply | None:
        """Limits for a message that would go to the LLM: length, repeats, the daily allowance."""
        if len(text) > self.limits.max_message_chars:
            return Reply(
                t("limits.too_long", length=len(text), limit=self.limits.max_message_chars)
            )
        digest = self._pseudonym("limits.repeat:" + text.strip().casefold())[:16]
        count = await self.store.repeat(user_id, digest)
        if count >= self.limits.repeat_threshold:
            if count == self.limits.repeat_threshold:
                await self.repo.flag(user_id, "abuse.repeat", "low")
            return Reply(t("limits.repeat"))
        today = self.clock.now().date().isoformat()
        sent = await self.repo.count_today(user_id, today)
        if sent <= self.limits.daily_messages:
            return None
        if self.plus_allowance is None:
            return Reply(t("limits.daily", limit=self.limits.daily_messages))
        plus = await self.plus_allowance(user_id)
        if plus is not None and (plus == 0 or sent <= plus):
            return None
        if plus is not None:  # Plus, and its allowance is used up too
            return Reply(t("limits.daily", limit=plus))
        text = t("limits.daily", limit=self.limits.daily_messages) + "\n\n" + t("plus.nudge")
        return Reply(text, buttons=((Button(t("plus.nudge_button"), "plusc:offer"),),))
