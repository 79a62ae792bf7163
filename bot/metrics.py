"""Prometheus metrics: counts, latencies and gauges with small, fixed label sets.

Each Application gets its own `Metrics` with its own CollectorRegistry (never the global default
one), so two bots in one test process never share a counter. No metric or label ever carries a
user id, chat id, name or text: every label value is checked against a fixed set and anything
else is counted as "other". Gauges that need the database (messages waiting, the last purge) are
read at scrape time through async callables (`ScrapeSources`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from jobs.retention import CATEGORIES

log = logging.getLogger("amigo.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PURGE_KINDS = frozenset(CATEGORIES)
UPDATE_KINDS = frozenset({"text", "command", "button", "media", "payment", "pre_checkout", "other"})
MODEL_CALLS = frozenset({"complete", "stream"})
MODEL_ERRORS = frozenset(
    {
        "timeout",
        "connection",
        "rate_limited",
        "server",
        "bad_answer",
        "empty",
        "refused",
        "deadline",
    }
)
TELEGRAM_ERROR_KINDS = frozenset(
    {
        "RetryAfter",
        "Forbidden",
        "BadRequest",
        "NotFound",
        "TimedOut",
        "Conflict",
        "InvalidToken",
        "EndPointNotFound",
        "ChatMigrated",
        "NetworkError",
    }
)
"""Error classes counted by name, from bot/telegram_api.py or either library (the same names)."""
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
WAITING_CAP = 10_000  # counting the backlog stays cheap however large it grows


@dataclass
class ScrapeSources:
    """What /metrics reads from storage at scrape time: accepted messages not yet answered (at
    most WAITING_CAP), and the rows the newest retention run removed, by category."""

    waiting: Callable[[], Awaitable[int]] | None = None
    purged: Callable[[], Awaitable[Mapping[str, int]]] | None = None


def telegram_error_kind(exc: BaseException) -> str:
    """The most specific known class name in the error's ancestry ("other" if none)."""
    for kind in type(exc).__mro__:
        if kind.__name__ in TELEGRAM_ERROR_KINDS:
            return kind.__name__
    return "other"


class Metrics:
    """The bot's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # process_* (memory, CPU, open files) and python_info
        PlatformCollector(registry=r)
        self.updates = Counter(
            "amigo_updates_received",
            "Updates handed to the dispatcher, by kind.",
            ["kind"],
            registry=r,
        )
        self.replies = Counter("amigo_replies_sent", "Replies delivered to Telegram.", registry=r)
        self.model_latency = Histogram(
            "amigo_model_latency_seconds",
            "Time of one successful model attempt, to its last byte.",
            ["call"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_errors = Counter(
            "amigo_model_errors", "Failed model attempts, by kind.", ["kind"], registry=r
        )
        self.telegram_errors = Counter(
            "amigo_telegram_errors",
            "Failed Bot API requests, by error class.",
            ["kind"],
            registry=r,
        )
        self.webhook_forbidden = Counter(
            "amigo_webhook_forbidden", "Webhook posts refused for a wrong secret.", registry=r
        )
        self.waiting = Gauge(
            "amigo_messages_waiting",
            f"Accepted chat messages not yet answered (counted up to {WAITING_CAP}).",
            registry=r,
        )
        self.purged = Gauge(
            "amigo_retention_last_run_purged_rows",
            "Rows the newest finished retention run removed, by category.",
            ["kind"],
            registry=r,
        )

    def update(self, kind: str) -> None:
        self.updates.labels(kind if kind in UPDATE_KINDS else "other").inc()

    def reply_sent(self) -> None:
        self.replies.inc()

    def model_answered(self, call: str, seconds: float) -> None:
        self.model_latency.labels(call if call in MODEL_CALLS else "complete").observe(seconds)

    def model_failed(self, kind: str) -> None:
        self.model_errors.labels(kind if kind in MODEL_ERRORS else "other").inc()

    def telegram_failed(self, exc: BaseException) -> None:
        self.telegram_errors.labels(telegram_error_kind(exc)).inc()

    async def refresh(self, sources: ScrapeSources) -> None:
        """Read the gauges that live in storage; a failing source leaves its gauge as it was."""
        try:
            if sources.waiting is not None:
                self.waiting.set(min(await sources.waiting(), WAITING_CAP))
            if sources.purged is not None:
                for kind, count in (await sources.purged()).items():
                    if kind in PURGE_KINDS:
                        self.purged.labels(kind).set(count)
        except Exception as exc:  # a scrape never fails for a busy or broken database
            log.warning("metrics.refresh_failed", extra={"error": type(exc).__name__})

    def render(self) -> bytes:
        return generate_latest(self.registry)
