"""SQLite queries behind safety and abuse: flags (category and time, never text), bans, the daily
allowance, AI-disclosure timing and redelivered updates."""

from __future__ import annotations

from datetime import datetime

from storage.models import Status
from storage.sql_base import SqlBase, dt, inserted_id, ts


class SafetyQueries(SqlBase):
    async def first_delivery(self, update_id: int) -> bool:
        """True the first time an update id is seen; False for Telegram's redeliveries."""
        cur = await self._write(
            "INSERT OR IGNORE INTO processed_updates VALUES (?, ?)",
            (update_id, ts(self._clock.now())),
        )
        return cur.rowcount == 1

    async def flag(
        self, user_id: int, category: str, severity: str, message_id: int | None = None
    ) -> int:
        """A safety or abuse record: who, what kind, how serious, when; a reference, not a copy."""
        async with self.transaction() as db:
            flag_id = await inserted_id(
                db,
                "INSERT INTO safety_records (user_id, category, severity, message_id, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (user_id, category, severity, message_id, ts(self._clock.now())),
            )
            assert flag_id is not None
            return flag_id

    async def set_banned(self, user_id: int, banned: bool) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE users SET status = ? WHERE id = ? AND status IN (?, ?)",
                (
                    Status.BANNED if banned else Status.ACTIVE,
                    user_id,
                    Status.ACTIVE,
                    Status.BANNED,
                ),
            )

    async def count_today(self, user_id: int, day: str) -> int:
        """Count one more message for `day` (a UTC date); the count restarts on a new day."""
        rows = await self._write_rows(
            "UPDATE users SET day_count = CASE WHEN day = ? THEN day_count + 1 ELSE 1 END,"
            " day = ? WHERE id = ? RETURNING day_count",
            (day, day, user_id),
        )
        return int(rows[0][0]) if rows else 0

    async def disclosed_at(self, user_id: int) -> datetime | None:
        rows = await self._read("SELECT disclosed_at FROM users WHERE id = ?", (user_id,))
        return dt(rows[0][0]) if rows and rows[0][0] else None

    async def mark_disclosed(self, user_id: int) -> None:
        await self._write(
            "UPDATE users SET disclosed_at = ? WHERE id = ?", (ts(self._clock.now()), user_id)
        )
