"""SQLite queries behind the operator's commands: the hash-chained audit log, aggregate figures,
open flags, and the minimum a reviewer may see. No query here lists or searches conversations."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from storage.models import AuditEntry, ChatMessage, Flag, Stats, Status
from storage.sql_base import SqlBase, dt, inserted_id, ts

GENESIS = "0" * 64


def _link(prev_hash: str, at: str, actor: str, action: str, detail: str) -> str:
    payload = json.dumps([prev_hash, at, actor, action, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class AdminQueries(SqlBase):
    # -- audit log (B4) --------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, detail: str = "") -> int:
        """Append to the audit log; each row's hash covers the previous row's hash."""
        at = ts(self._clock.now())
        async with self.transaction() as db:
            async with db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") as cur:
                row = await cur.fetchone()
            prev = row[0] if row else GENESIS
            audit_id = await inserted_id(
                db,
                "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (at, actor, action, detail, prev, _link(prev, at, actor, action, detail)),
            )
            assert audit_id is not None
            return audit_id

    async def audit_tail(self, n: int) -> list[AuditEntry]:
        rows = await self._read(
            "SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (n,)
        )
        return [AuditEntry(r[0], dt(r[1]), r[2], r[3], r[4]) for r in reversed(rows)]

    async def verify_audit(self) -> tuple[int, int | None]:
        """(rows checked, id of the first broken link or None). Purges cut only the oldest end,
        so the chain is checked from the first remaining row's stored predecessor hash."""
        checked, expected, after = 0, None, 0
        while True:
            rows = await self._read(
                "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log"
                " WHERE id > ? ORDER BY id LIMIT 1000",
                (after,),
            )
            for r in rows:
                if expected is not None and r[5] != expected:
                    return checked, r[0]
                if _link(r[5], r[1], r[2], r[3], r[4]) != r[6]:
                    return checked, r[0]
                expected = r[6]
                checked += 1
            if len(rows) < 1000:
                return checked, None
            after = rows[-1][0]

    # -- figures ---------------------------------------------------------------------------------

    async def stats(self, now: datetime) -> Stats:
        users = {
            str(r[0]): r[1]
            for r in await self._read("SELECT status, COUNT(*) FROM users GROUP BY status")
        }

        async def active_since(delta: timedelta) -> int:
            rows = await self._read(
                "SELECT COUNT(DISTINCT user_id) FROM messages WHERE created_at >= ?",
                (ts(now - delta),),
            )
            return int(rows[0][0])

        per_day = [
            (str(r[0]), int(r[1]))
            for r in await self._read(
                "SELECT substr(created_at, 1, 10) AS day, COUNT(*) FROM messages"
                " WHERE created_at >= ? GROUP BY day ORDER BY day",
                (ts(now - timedelta(days=7)),),
            )
        ]
        active_users = users.get(Status.ACTIVE, 0)
        rates: dict[str, float] = {}
        for purpose in ("model_improvement", "marketing"):
            granted = await self._read(
                "SELECT COUNT(*) FROM users u WHERE u.status = ? AND (SELECT granted FROM consents c"
                " WHERE c.user_id = u.id AND c.purpose = ? ORDER BY c.id DESC LIMIT 1) = 1",
                (Status.ACTIVE, purpose),
            )
            rates[purpose] = granted[0][0] / active_users if active_users else 0.0
        flags = await self._read("SELECT COUNT(*) FROM safety_records WHERE reviewed_at IS NULL")
        grievances = await self._read("SELECT COUNT(*) FROM grievances WHERE status != 'resolved'")
        return Stats(
            users=users,
            active_today=await active_since(timedelta(days=1)),
            active_week=await active_since(timedelta(days=7)),
            messages_per_day=per_day,
            consent_rates=rates,
            open_flags=int(flags[0][0]),
            open_grievances=int(grievances[0][0]),
        )

    # -- flags and review ------------------------------------------------------------------------

    async def open_flags(self, limit: int = 50) -> list[Flag]:
        rows = await self._read(
            "SELECT id, user_id, category, severity, message_id, created_at FROM safety_records"
            " WHERE reviewed_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [Flag(r[0], r[1], r[2], r[3], r[4], dt(r[5])) for r in rows]

    async def flag_by_id(self, flag_id: int) -> Flag | None:
        rows = await self._read(
            "SELECT id, user_id, category, severity, message_id, created_at FROM safety_records"
            " WHERE id = ?",
            (flag_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Flag(r[0], r[1], r[2], r[3], r[4], dt(r[5]))

    async def mark_reviewed(self, flag_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE safety_records SET reviewed_at = ? WHERE id = ?",
                (ts(self._clock.now()), flag_id),
            )

    async def messages_around(
        self, user_id: int, message_id: int | None, around: int = 2
    ) -> list[ChatMessage]:
        """The flagged message and `around` on each side in its conversation (or the user's last
        few messages when there is no message), never the whole history."""
        if message_id is None:
            rows = await self._read(
                "SELECT id, role, body_enc, created_at FROM messages WHERE user_id = ?"
                " ORDER BY id DESC LIMIT ?",
                (user_id, around * 2 + 1),
            )
            rows.reverse()
        else:
            anchor = (user_id, message_id, user_id, message_id)
            rows = await self._read(
                "SELECT id, role, body_enc, created_at FROM ("
                " SELECT * FROM messages WHERE user_id = ? AND conversation_id ="
                "  (SELECT conversation_id FROM messages WHERE id = ? AND user_id = ?)"
                "  AND id < ? ORDER BY id DESC LIMIT ?) AS before"
                " UNION ALL SELECT id, role, body_enc, created_at FROM ("
                " SELECT * FROM messages WHERE user_id = ? AND conversation_id ="
                "  (SELECT conversation_id FROM messages WHERE id = ? AND user_id = ?)"
                "  AND id >= ? ORDER BY id LIMIT ?) AS after",
                (*anchor, around, *anchor, around + 1),
            )
            rows.sort(key=lambda r: r[0])
        return [
            ChatMessage(r[0], r[1], await self._open(user_id, "messages.body", r[2]), dt(r[3]))
            for r in rows
        ]

    async def last_review(self, user_id: int) -> datetime | None:
        rows = await self._read(
            "SELECT MAX(created_at) FROM staff_accesses WHERE user_id = ?", (user_id,)
        )
        return dt(rows[0][0]) if rows and rows[0][0] else None

    # -- accounts by internal id -----------------------------------------------------------------

    async def account_status(self, user_id: int) -> Status | None:
        rows = await self._read("SELECT status FROM users WHERE id = ?", (user_id,))
        return Status(rows[0][0]) if rows else None

    async def chat_of(self, user_id: int) -> int | None:
        """The chat to reach a user in (sealed at rest), for replies the operator sends."""
        rows = await self._read("SELECT chat_enc FROM users WHERE id = ?", (user_id,))
        if not rows or not rows[0][0]:
            return None
        return int(await self._open(user_id, "users.chat", rows[0][0]))

    async def mark_minor_account(self, user_id: int) -> None:
        """Block the Telegram account behind this user id from returning (keyed hash only)."""
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO minor_markers SELECT tg_ref, ? FROM users WHERE id = ?",
                (ts(self._clock.now()), user_id),
            )
