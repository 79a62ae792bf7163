"""SQLite queries behind requests that do not come from the chat (handlers/admin_requests.py):
lifting an under-18 marker after an operator's review. The marker is a keyed hash of the Telegram
id, so it is found from the id the request names and nothing of that id is stored."""

from __future__ import annotations

from storage.sql_base import SqlBase


class RequestQueries(SqlBase):
    async def lift_minor_marker(self, tg_id: int) -> bool:
        """Remove the under-18 marker of this Telegram account; False when there was none."""
        async with self.transaction() as db:
            cur = await db.execute(
                "DELETE FROM minor_markers WHERE tg_ref = ?", (self._vault.pseudonym("tg", tg_id),)
            )
            return cur.rowcount > 0
