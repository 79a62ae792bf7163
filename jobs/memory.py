"""Finish quiet conversations for memory: every few minutes, a conversation without a reply for
`memory.idle_hours` counts as ended, so what is left of it is read for facts and it gets its
summary, as after /new (handlers/memory.py does the reading; jobs never import handlers, so the
composition root hands the job that step). Who is due comes from storage (the newest message and
the extraction cursor), not from memory of this process, so a conversation that went quiet while
the bot was down, or before a restart, is still read. At most PER_RUN people a run, one at a time,
so the model is not asked for a crowd at once; the rest are found by the next run. Logs counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from storage.base import Repository

log = logging.getLogger("amigo.jobs")

JOB = "memory_idle"
EVERY = timedelta(minutes=10)

PER_RUN = 50
"""People read per run at most (each is one model call, a few for a long backlog)."""

EndIdle = Callable[[int], Awaitable[None]]
"""Read and summarise what is left of the person's quiet conversation (MemoryKeeper.end_idle);
returns when done. Never raises for one person's failure."""


async def run_memory_idle(
    repo: Repository, end_idle: EndIdle, now: datetime, idle_hours: int, limit: int = PER_RUN
) -> int:
    """End the conversations quiet since before `now - idle_hours` that hold unread messages;
    how many people had one."""
    users = await repo.memory_idle_users(now - timedelta(hours=idle_hours), limit)
    for user_id in users:
        await end_idle(user_id)
    if users:
        log.info("memory.idle_ended", extra={"users": len(users)})
    return len(users)
