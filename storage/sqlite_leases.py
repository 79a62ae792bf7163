"""Leases shared by every worker on one database (migration 13): one portable upsert each, so
SQLite and PostgreSQL take them the same way. A row is the lease; an expired row is free."""

from __future__ import annotations

from datetime import datetime

from storage.sqlite_base import SqliteBase, ts


class LeaseQueries(SqliteBase):
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
