"""SQLite queries behind the rest of the operator's commands: the grievance queue, broadcasts and
published policy versions.

Broadcasts are at-most-once: a delivery row is claimed (inserted) before each send, so a restart
mid-way skips everyone already claimed. A crash between the claim and the send loses that one
delivery; it never sends anyone the same message twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import Broadcast, BroadcastKind, PolicyVersion, StaffGrievance, Status
from storage.sql_base import SqlBase, dt, inserted_id, ts

OPEN_STATUSES = ("open", "acknowledged")

_GRIEVANCE_COLUMNS = (
    "id, body_enc, status, created_at, ack_due, resolve_due, user_id, acknowledged_at, category"
)


# Everyone, unless the broadcast names its targets (two parameters: the broadcast id twice).
_TARGETED = (
    "(NOT EXISTS (SELECT 1 FROM broadcast_targets t WHERE t.broadcast_id = ?)"
    " OR EXISTS (SELECT 1 FROM broadcast_targets t WHERE t.broadcast_id = ? AND t.user_id = u.id))"
)


def _recipients_where(kind: BroadcastKind) -> tuple[str, tuple[Any, ...]]:
    """Who a broadcast of this kind is for. Marketing: only active users whose newest marketing
    consent row is a grant (P9.6). A breach notice goes to every account whose data we still
    hold (banned and unfinished ones too), since each of them may be affected (P12.4)."""
    if kind == "breach":
        return "u.status != ?", (Status.CLOSED,)
    if kind == "marketing":
        return (
            "u.status = ? AND (SELECT c.granted FROM consents c WHERE c.user_id = u.id"
            " AND c.purpose = 'marketing' ORDER BY c.id DESC LIMIT 1) = 1",
            (Status.ACTIVE,),
        )
    return "u.status = ?", (Status.ACTIVE,)


class OperatorQueries(SqlBase):
    # -- grievance queue (P9.4) ------------------------------------------------------------------

    async def grievance_queue(self, limit: int = 50) -> list[StaffGrievance]:
        """Open and acknowledged grievances, the one due to be resolved soonest first."""
        rows = await self._read(
            f"SELECT {_GRIEVANCE_COLUMNS} FROM grievances WHERE status IN (?, ?)"
            " ORDER BY resolve_due, id LIMIT ?",
            (*OPEN_STATUSES, limit),
        )
        return [await self._staff_grievance(r) for r in rows]

    async def grievance_by_id(self, grievance_id: int) -> StaffGrievance | None:
        rows = await self._read(
            f"SELECT {_GRIEVANCE_COLUMNS} FROM grievances WHERE id = ?", (grievance_id,)
        )
        return await self._staff_grievance(rows[0]) if rows else None

    async def acknowledge_grievance(self, grievance_id: int) -> bool:
        """Open → acknowledged, stamped now; False when it was not open."""
        async with self.transaction() as db:
            cur = await db.execute(
                "UPDATE grievances SET status = 'acknowledged', acknowledged_at = ?"
                " WHERE id = ? AND status = 'open'",
                (ts(self._clock.now()), grievance_id),
            )
            return cur.rowcount == 1

    async def resolve_grievance(self, grievance_id: int) -> bool:
        """→ resolved, stamped now (and acknowledged, if that was skipped); False if it was."""
        now = ts(self._clock.now())
        async with self.transaction() as db:
            cur = await db.execute(
                "UPDATE grievances SET status = 'resolved', resolved_at = ?,"
                " acknowledged_at = COALESCE(acknowledged_at, ?)"
                " WHERE id = ? AND status != 'resolved'",
                (now, now, grievance_id),
            )
            return cur.rowcount == 1

    async def _staff_grievance(self, r: Any) -> StaffGrievance:
        return StaffGrievance(
            id=r[0],
            text=await self._open(r[6], "grievances.body", r[1]),
            status=r[2],
            created_at=dt(r[3]),
            ack_due=dt(r[4]),
            resolve_due=dt(r[5]),
            user_id=r[6],
            acknowledged_at=dt(r[7]) if r[7] else None,
            category=r[8],
        )

    # -- broadcasts (P9.6, P12.4) ----------------------------------------------------------------

    async def create_broadcast(
        self, kind: BroadcastKind, body: str, targets: Sequence[int] = ()
    ) -> int:
        """A new broadcast; `targets` limits it to those accounts (a breach affecting a few)."""
        async with self.transaction() as db:
            broadcast_id = await inserted_id(
                db,
                "INSERT INTO broadcasts (kind, body, created_at) VALUES (?, ?, ?) RETURNING id",
                (kind, body, ts(self._clock.now())),
            )
            assert broadcast_id is not None
            await db.executemany(
                "INSERT OR IGNORE INTO broadcast_targets VALUES (?, ?)",
                [(broadcast_id, user_id) for user_id in targets],
            )
            return broadcast_id

    async def unfinished_broadcasts(self) -> list[Broadcast]:
        rows = await self._read(
            "SELECT id, kind, body, created_at FROM broadcasts WHERE finished_at IS NULL"
            " ORDER BY id"
        )
        return [Broadcast(r[0], r[1], r[2], dt(r[3])) for r in rows]

    async def broadcast_recipients(
        self, broadcast_id: int, kind: BroadcastKind, limit: int
    ) -> list[int]:
        """The next users this broadcast is for and has not been claimed for, by id. Asked again
        for every batch, so a consent withdrawn mid-broadcast is honoured at once."""
        where, params = _recipients_where(kind)
        rows = await self._read(
            f"SELECT u.id FROM users u WHERE {where} AND {_TARGETED} AND NOT EXISTS (SELECT 1"
            " FROM broadcast_deliveries d WHERE d.broadcast_id = ? AND d.user_id = u.id)"
            " ORDER BY u.id LIMIT ?",
            (*params, broadcast_id, broadcast_id, broadcast_id, limit),
        )
        return [int(r[0]) for r in rows]

    async def count_broadcast_recipients(self, broadcast_id: int, kind: BroadcastKind) -> int:
        where, params = _recipients_where(kind)
        rows = await self._read(
            f"SELECT COUNT(*) FROM users u WHERE {where} AND {_TARGETED} AND NOT EXISTS (SELECT 1"
            " FROM broadcast_deliveries d WHERE d.broadcast_id = ? AND d.user_id = u.id)",
            (*params, broadcast_id, broadcast_id, broadcast_id),
        )
        return int(rows[0][0])

    async def claim_delivery(self, broadcast_id: int, user_id: int) -> bool:
        """Record a delivery BEFORE sending it; False when someone already claimed it."""
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO broadcast_deliveries (broadcast_id, user_id, at)"
                " VALUES (?, ?, ?)",
                (broadcast_id, user_id, ts(self._clock.now())),
            )
            return cur.rowcount == 1

    async def broadcast_deliveries(self, broadcast_id: int) -> int:
        rows = await self._read(
            "SELECT COUNT(*) FROM broadcast_deliveries WHERE broadcast_id = ?", (broadcast_id,)
        )
        return int(rows[0][0])

    async def finish_broadcast(self, broadcast_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE broadcasts SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
                (ts(self._clock.now()), broadcast_id),
            )

    # -- policy versions (P17.1) -----------------------------------------------------------------

    async def publish_policy(self, version: str, date: str, material: bool, summary: str) -> bool:
        """False when that version was published before (versions are never rewritten)."""
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO policy_versions (version, date, material, summary,"
                " published_at) VALUES (?, ?, ?, ?, ?)",
                (version, date, int(material), summary, ts(self._clock.now())),
            )
            return cur.rowcount == 1

    async def policy_versions(self) -> list[PolicyVersion]:
        """Every published version, newest first."""
        rows = await self._read(
            "SELECT version, date, material, summary, published_at FROM policy_versions"
            " ORDER BY published_at DESC, version DESC"
        )
        return [PolicyVersion(r[0], r[1], bool(r[2]), r[3], _when(r[4])) for r in rows]


def _when(value: str | None) -> datetime | None:
    return dt(value) if value else None
