"""SQLite queries behind personal data breaches (DPDP Rules 2025, rule 7): the notice for the
people affected, the record of the intimation to the Data Protection Board, the broadcasts that
carried the notice, and the reminders sent before the detailed report is due.

None of these rows is ever purged by retention; the broadcasts that carried a notice (and their
targets and deliveries, the list of who was notified) are kept as long as the audit log
(storage/sqlite_retention.py, purge_broadcast_records).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.models import Breach, BreachNotice
from storage.sql_base import SqlBase, dt, inserted_id, ts

_BREACH_COLUMNS = (
    "id, discovered_at, created_at, notice, intimated_at, report, report_recorded_at,"
    " report_filed_at"
)


def _when(value: str | None) -> datetime | None:
    return dt(value) if value else None


def _fields(value: str | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(value).items()} if value else {}


def _breach(r: Any) -> Breach:
    return Breach(
        id=r[0],
        discovered_at=dt(r[1]),
        created_at=dt(r[2]),
        notice=_fields(r[3]),
        intimated_at=_when(r[4]),
        report=_fields(r[5]) if r[5] else None,
        report_recorded_at=_when(r[6]),
        report_filed_at=_when(r[7]),
    )


class BreachQueries(SqlBase):
    async def create_breach(self, discovered_at: datetime, notice: Mapping[str, str]) -> int:
        breach_id = await self._insert(
            "INSERT INTO breaches (discovered_at, created_at, notice) VALUES (?, ?, ?) RETURNING id",
            (ts(discovered_at), ts(self._clock.now()), json.dumps(dict(notice))),
        )
        assert breach_id is not None
        return breach_id

    async def breach(self, breach_id: int | None = None) -> Breach | None:
        if breach_id is None:
            rows = await self._read(
                f"SELECT {_BREACH_COLUMNS} FROM breaches ORDER BY id DESC LIMIT 1"
            )
        else:
            rows = await self._read(
                f"SELECT {_BREACH_COLUMNS} FROM breaches WHERE id = ?", (breach_id,)
            )
        return _breach(rows[0]) if rows else None

    async def update_breach(
        self, breach_id: int, notice: Mapping[str, str], discovered_at: datetime | None = None
    ) -> None:
        await self._write(
            "UPDATE breaches SET notice = ?, discovered_at = coalesce(?, discovered_at)"
            " WHERE id = ?",
            (json.dumps(dict(notice)), ts(discovered_at) if discovered_at else None, breach_id),
        )

    async def record_breach_intimation(self, breach_id: int) -> bool:
        cur = await self._write(
            "UPDATE breaches SET intimated_at = ? WHERE id = ? AND intimated_at IS NULL",
            (ts(self._clock.now()), breach_id),
        )
        return cur.rowcount == 1

    async def record_breach_report(self, breach_id: int, report: Mapping[str, str]) -> None:
        await self._write(
            "UPDATE breaches SET report = ?, report_recorded_at = ? WHERE id = ?",
            (json.dumps(dict(report)), ts(self._clock.now()), breach_id),
        )

    async def file_breach_report(self, breach_id: int) -> bool:
        cur = await self._write(
            "UPDATE breaches SET report_filed_at = ? WHERE id = ? AND report_filed_at IS NULL",
            (ts(self._clock.now()), breach_id),
        )
        return cur.rowcount == 1

    async def create_breach_notice(
        self, breach_id: int, body: str, targets: Sequence[int] = ()
    ) -> int:
        """The broadcast, its targets and its link to the breach, in one transaction."""
        async with self.transaction() as db:
            broadcast_id = await inserted_id(
                db,
                "INSERT INTO broadcasts (kind, body, created_at) VALUES ('breach', ?, ?)"
                " RETURNING id",
                (body, ts(self._clock.now())),
            )
            assert broadcast_id is not None
            await db.executemany(
                "INSERT OR IGNORE INTO broadcast_targets VALUES (?, ?)",
                [(broadcast_id, user_id) for user_id in targets],
            )
            await db.execute(
                "INSERT INTO breach_notices (broadcast_id, breach_id) VALUES (?, ?)",
                (broadcast_id, breach_id),
            )
        return broadcast_id

    async def breach_notices(self, breach_id: int) -> list[BreachNotice]:
        rows = await self._read(
            "SELECT b.id, b.created_at, b.finished_at,"
            " (SELECT COUNT(*) FROM broadcast_targets t WHERE t.broadcast_id = b.id),"
            " (SELECT COUNT(*) FROM broadcast_deliveries d WHERE d.broadcast_id = b.id)"
            " FROM breach_notices n JOIN broadcasts b ON b.id = n.broadcast_id"
            " WHERE n.breach_id = ? ORDER BY b.id",
            (breach_id,),
        )
        return [BreachNotice(r[0], dt(r[1]), r[3], r[4], _when(r[2])) for r in rows]

    async def breaches_awaiting_report(self) -> list[Breach]:
        rows = await self._read(
            f"SELECT {_BREACH_COLUMNS} FROM breaches WHERE report_filed_at IS NULL ORDER BY id"
        )
        return [_breach(r) for r in rows]

    async def claim_breach_reminder(self, breach_id: int, mark: str) -> bool:
        cur = await self._write(
            "INSERT OR IGNORE INTO breach_reminders (breach_id, mark, at) VALUES (?, ?, ?)",
            (breach_id, mark, ts(self._clock.now())),
        )
        return cur.rowcount == 1
