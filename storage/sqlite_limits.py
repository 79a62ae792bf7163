"""The per-person limits shared by every worker on one database (migration 14, handlers/limits.py).

Each operation is one portable upsert with RETURNING, atomic on SQLite (one writer) and on
PostgreSQL (the conflicting row is locked, the update sees its latest version), so two workers
taking from one bucket at once take two tokens, never the same one. Time is REAL epoch seconds so
the refill is plain arithmetic; CASE instead of scalar min()/max(). Keys are pseudonyms the caller
gives, digests are keyed: no Telegram id and no text is ever stored here.
"""

from __future__ import annotations

import logging
from datetime import datetime

from storage.sql_base import SqlBase

log = logging.getLogger("amigo.storage")

# Seconds since the bucket's last take (never negative: a clock stepped back takes nothing away),
# and the tokens it holds now, refilled at its rate up to its burst.
_ELAPSED = (
    "(CASE WHEN excluded.at > limit_buckets.at THEN excluded.at - limit_buckets.at ELSE 0 END)"
)
_REFILLED = (
    f"(CASE WHEN limit_buckets.tokens + {_ELAPSED} * excluded.per_second > excluded.burst"
    f" THEN excluded.burst ELSE limit_buckets.tokens + {_ELAPSED} * excluded.per_second END)"
)
# A new bucket is full: this message takes one of its `burst` tokens. `flagged_at` records the
# refusal that reached `burst` (so RETURNING tells whether this very take flagged the flood).
_TAKE = (
    "INSERT INTO limit_buckets (key, tokens, at, refused, flagged_at, burst, per_second)"
    " VALUES (?, ?, ?, 0, 0, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET"
    f" tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,"
    " at = CASE WHEN excluded.at > limit_buckets.at THEN excluded.at ELSE limit_buckets.at END,"
    f" refused = CASE WHEN {_REFILLED} >= 1 THEN 0 ELSE limit_buckets.refused + 1 END,"
    f" flagged_at = CASE WHEN {_REFILLED} >= 1 THEN 0"
    " WHEN limit_buckets.flagged_at = 0 AND ? = 1"
    " AND limit_buckets.refused + 1 >= excluded.burst THEN limit_buckets.refused + 1"
    " ELSE limit_buckets.flagged_at END,"
    " burst = excluded.burst, per_second = excluded.per_second"
    " RETURNING tokens, refused, flagged_at"
)
_REPEAT = (
    "INSERT INTO limit_repeats (user_id, digest, repeats) VALUES (?, ?, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET"
    " repeats = CASE WHEN limit_repeats.digest = excluded.digest"
    " THEN limit_repeats.repeats + 1 ELSE 1 END,"
    " digest = excluded.digest"
    " RETURNING repeats"
)


class LimitQueries(SqlBase):
    async def take_limit_token(
        self, key: bytes, now: datetime, burst: int, per_second: float, *, can_flag: bool
    ) -> tuple[float, int, bool]:
        rows = await self._write_rows(
            _TAKE,
            (key, float(burst - 1), now.timestamp(), burst, per_second, int(can_flag)),
        )
        tokens, refused, flagged_at = float(rows[0][0]), int(rows[0][1]), int(rows[0][2])
        return tokens, refused, 0 < flagged_at == refused

    async def count_repeat(self, user_id: int, digest: bytes) -> int:
        rows = await self._write_rows(_REPEAT, (user_id, digest))
        return int(rows[0][0])

    async def purge_idle_limits(self, before: datetime) -> int:
        cur = await self._write("DELETE FROM limit_buckets WHERE at < ?", (before.timestamp(),))
        if cur.rowcount:
            log.info("limits.purged", extra={"count": cur.rowcount})
        return cur.rowcount
