"""Abuse and load limits (P15.1): automatic systems only slow down, refuse a message, or flag it.

A ban is always an operator's decision. The per-user rate (a token bucket: a burst, then a steady
rate) and the repeat counter live in memory; the daily allowance lives in the database so restarts
and other workers agree on it. A flood is told to slow down once per refusal window (until the
bucket lets a message through again), not message for message: answering each refusal would
itself flood the chat and Telegram's limits.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from core.clock import Clock
from handlers.events import Reply
from handlers.texts import t
from storage.base import Repository

V = TypeVar("V")
_TRACKED = 50_000  # users remembered in memory at once; the oldest are forgotten first


@dataclass(frozen=True)
class Limits:
    burst: int
    per_minute: int
    daily_messages: int
    max_message_chars: int
    repeat_threshold: int


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    refused: int = 0
    flagged: bool = False
    told: bool = False  # "slow down" was said since the last message let through


@dataclass(frozen=True)
class Refused:
    """A message the rate limit refused; `reply` is None when the person was already told."""

    reply: Reply | None


class Limiter:
    def __init__(self, limits: Limits, clock: Clock, repo: Repository) -> None:
        self.limits = limits
        self.clock = clock
        self.repo = repo
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()
        self._last_text: OrderedDict[int, tuple[bytes, int]] = OrderedDict()

    async def admit(self, tg_id: int, user_id: int | None) -> Refused | None:
        """The rate limit for anything a person types: None to go on, or the refusal (with the
        reply that says so, the first time in a refusal window only)."""
        now = self.clock.now()
        bucket = self._buckets.pop(tg_id, None) or _Bucket(float(self.limits.burst), now)
        self._remember(self._buckets, tg_id, bucket)
        rate = self.limits.per_minute / 60.0
        elapsed = (now - bucket.at).total_seconds()
        bucket.tokens = min(float(self.limits.burst), bucket.tokens + elapsed * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.refused = 0
            bucket.flagged = False
            bucket.told = False
            return None
        bucket.refused += 1
        if user_id is not None and bucket.refused >= self.limits.burst and not bucket.flagged:
            bucket.flagged = True
            await self.repo.flag(user_id, "abuse.flood", "low")
        if bucket.told:
            return Refused(None)
        bucket.told = True
        wait = max(1, math.ceil((1.0 - bucket.tokens) / rate))
        return Refused(Reply(t("limits.slow_down", seconds=wait)))

    async def admit_chat(self, user_id: int, text: str) -> Reply | None:
        """Limits for a message that would go to the LLM: length, repeats, the daily allowance."""
        if len(text) > self.limits.max_message_chars:
            return Reply(
                t("limits.too_long", length=len(text), limit=self.limits.max_message_chars)
            )
        digest = hashlib.blake2b(text.strip().casefold().encode(), digest_size=16).digest()
        last, count = self._last_text.pop(user_id, (b"", 0))
        count = count + 1 if digest == last else 1
        self._remember(self._last_text, user_id, (digest, count))
        if count >= self.limits.repeat_threshold:
            if count == self.limits.repeat_threshold:
                await self.repo.flag(user_id, "abuse.repeat", "low")
            return Reply(t("limits.repeat"))
        today = self.clock.now().date().isoformat()
        if await self.repo.count_today(user_id, today) > self.limits.daily_messages:
            return Reply(t("limits.daily", limit=self.limits.daily_messages))
        return None

    @staticmethod
    def _remember(table: OrderedDict[int, V], key: int, value: V) -> None:
        table[key] = value
        while len(table) > _TRACKED:
            table.popitem(last=False)
