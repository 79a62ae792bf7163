"""Finish quiet conversations for memory: every few minutes, a conversation without a reply for
`memory.idle_hours` counts as ended, so what is left of it is read for facts and it gets its
summary, as after /new (handlers/memory.py does the reading; jobs never import handlers, so the
composition root hands the job that step). Logs counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

log = logging.getLogger("amigo.jobs")

JOB = "memory_idle"
EVERY = timedelta(minutes=10)

CloseIdle = Callable[[datetime], int]
"""End the conversations quiet since before `now - idle_hours`; how many people had one. The
reading itself runs in the background, one person at a time, and never blocks the scheduler."""


async def run_memory_idle(close_idle: CloseIdle, now: datetime) -> int:
    ended = close_idle(now)
    if ended:
        log.info("memory.idle_ended", extra={"users": ended})
    return ended
