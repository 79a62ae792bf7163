"""Leases shared by every worker on one database (migration 13): one portable upsert each, so
SQLite and PostgreSQL take them the same way. A row is the lease; an expired row is free."""

from __future__ import annotations

from datetime import datetime

from storage.sql_base import SqlBase, ts


class LeaseQueries(SqlBase):
    async def take_lease(self, name: str, holder: str, until: datetime) -> bool:
        now = ts(self._clock.now())
        rows = await self._write_rows(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.until < ? OR leases.holder = excluded.holder RETURNING holder",
            (name, holder, ts(until), now),
        )
        return bool(rows)

    async def release_lease(self, name: str, holder: str) -> None:
        await self._write("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    async def unanswered_of(self, user_id: int, *, after: int = 0) -> list[int]:
        """The person's accepted messages newer than message `after`, oldest first, whoever holds
        their claims: the caller holds the person's 'reply:' lease."""
        rows = await self._read(
            "SELECT id FROM messages WHERE user_id = ? AND status = 'accepted' AND id > ?"
            " ORDER BY id",
            (user_id, after),
        )
        return [int(r[0]) for r in rows]

    async def delivered(self, update_id: int) -> bool:
        """Whether the update was handled to its end before (Repository.first_delivery)."""
        rows = await self._read("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,))
        return bool(rows)

    async def reply_cursor(self, user_id: int) -> int:
        """The newest message of the person whose answer was attempted (0: none)."""
        rows = await self._read("SELECT reply_cursor FROM users WHERE id = ?", (user_id,))
        return int(rows[0][0]) if rows else 0

    async def set_reply_cursor(self, user_id: int, message_id: int) -> None:
        """Move the cursor forward to `message_id` (never back)."""
        await self._write(
            "UPDATE users SET reply_cursor = ? WHERE id = ? AND reply_cursor < ?",
            (message_id, user_id, message_id),
        )
