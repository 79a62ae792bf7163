"""SQLite queries behind memory's background work (handlers/memory.py, jobs/memory.py): who has a
conversation gone quiet with messages extraction has not read, and which messages raised a
distress signal (never sent for extraction).

Both are answered from indexes: the idle query walks the accounts (users_closed on status) and,
per account, finds the newest message through messages_user(user_id, id) and reads that one row by
its primary key, so a person with a million messages costs one index probe, not a scan; the flags
come from safety_records_user(user_id, id), named in the query: statistics skewed by one person
with many flags would otherwise make the planner scan the table.
"""

from __future__ import annotations

from datetime import datetime

from storage.models import Status
from storage.sql_base import SqlBase, ts

DISTRESS_CATEGORIES = ("suicide", "self_harm", "harm_to_others")
"""What handlers/chat.py records for a distress signal (safety.rules.Category: the built-in
detector and the moderation endpoint both answer with these); "age_signal" and "abuse.*" are not
about what the message says of its writer."""

_IDLE_USERS = (
    "SELECT u.id FROM users u"
    " JOIN messages m ON m.id = (SELECT max(n.id) FROM messages n WHERE n.user_id = u.id)"
    " WHERE u.status = ? AND u.memory_off = 0"
    " AND m.id > u.memory_cursor AND m.created_at < ?"
    " ORDER BY u.id LIMIT ?"
)

_FLAGGED = (
    "SELECT DISTINCT message_id FROM safety_records INDEXED BY safety_records_user"
    " WHERE user_id = ? AND message_id > ?"
    f" AND category IN ({', '.join('?' for _ in DISTRESS_CATEGORIES)})"
)


class MemoryJobQueries(SqlBase):
    async def memory_idle_users(self, quiet_since: datetime, limit: int) -> list[int]:
        rows = await self._read(_IDLE_USERS, (Status.ACTIVE, ts(quiet_since), limit))
        return [int(r[0]) for r in rows]

    async def flagged_message_ids(self, user_id: int, after_id: int) -> set[int]:
        rows = await self._read(_FLAGGED, (user_id, after_id, *DISTRESS_CATEGORIES))
        return {int(r[0]) for r in rows}
