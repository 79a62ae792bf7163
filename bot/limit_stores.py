"""Where the per-person limits live, chosen from the settings (handlers/limits.py).

Redis when `limits.redis_url` is set; else the database when it is shared (`storage.url`:
PostgreSQL, several workers); else this process's memory (SQLite, one process). Whatever is
returned, `await store.close()` at shutdown, before the repository is closed.
"""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.redis_limits import RedisLimitStore
from handlers.limits import DatabaseLimitStore, LimitStore, MemoryLimitStore
from storage.base import Repository

log = logging.getLogger("amigo.limits")


def build_limit_store(settings: Settings, repo: Repository) -> LimitStore:
    """The store for these settings; nothing is connected yet (Redis connects on first use)."""
    store: LimitStore
    if settings.limits.redis_url:
        store = RedisLimitStore.from_url(settings.limits.redis_url)
    elif settings.storage.url:
        store = DatabaseLimitStore(repo)
    else:
        store = MemoryLimitStore()
    log.info("limits.store", extra={"store": type(store).__name__})
    return store
