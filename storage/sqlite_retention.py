"""SQLite queries behind retention: legal holds, batched purges and the record of each job run.

Every purge works the same way: the rows due are named by one SELECT (the same one counts them for a
dry run), and they are deleted at most `batch` at a time, each batch its own short transaction, with the
event loop given a turn in between, so a chat message never waits behind more than one batch. A purge
killed half-way has committed whole batches only, and the next run simply finds fewer rows due.
Nothing of a user under an active legal hold is ever selected. The purges do not checkpoint: the
caller (jobs/retention.py) calls checkpoint() once after a run that removed rows, so deleted pages
leave no copy in the WAL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from storage.models import AUTODELETE_CHOICES, Hold, JobRun, Status
from storage.sql_base import SqlBase, dt, inserted_id, ts
from storage.sqlite_memory import rewind_memory_cursor
from storage.sqlite_records import keep_consent_proof, log_event

log = logging.getLogger("amigo.storage")


def not_held(user_column: str) -> str:
    """SQL true unless the row's user is under an active legal hold (rows with no user never are)."""
    return (
        "NOT EXISTS (SELECT 1 FROM legal_holds h"
        f" WHERE h.user_id = {user_column} AND h.released_at IS NULL)"
    )


def years_before(now: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February becomes the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


_CLOSED_DUE = (
    f"u.status = '{Status.CLOSED.value}' AND u.closed_at IS NOT NULL AND u.closed_at < ?"
    f" AND {not_held('u.id')}"
)
# Accounts whose consent to the Terms was withdrawn more than the grace ago: erased like /delete
# (proof of consent kept, key destroyed), with closed_at the withdrawal, so the same run purges them.
_WITHDRAWN_DUE = (
    f"u.status != '{Status.CLOSED.value}' AND u.terms_withdrawn_at IS NOT NULL"
    f" AND u.terms_withdrawn_at < ? AND {not_held('u.id')}"
)
# What a closed account may still hold (delete_account already emptied most of it), biggest first,
# each with its primary key (in SQLite the rowid itself, so no slower than naming rowid).
# Payment and safety records are not here: deleting the users row detaches them (ON DELETE SET NULL)
# and they keep their own retention periods.
_ACCOUNT_TABLES = (
    ("messages", "id"),
    ("memories", "id"),  # before conversations, which would cascade them in one unbatched statement
    ("summaries", "conversation_id"),
    ("conversations", "id"),
    ("grievances", "id"),
    ("consents", "id"),
    ("staff_accesses", "id"),
    ("companions", "user_id"),
    ("profiles", "user_id"),
    ("nominees", "user_id"),
)


class RetentionQueries(SqlBase):
    """Legal holds, the purge of each retention category, and the record of job runs."""

    # -- legal holds -----------------------------------------------------------------------------

    async def place_hold(self, user_id: int, reason: str) -> int:
        """Stop every purge of this account until the hold is released; returns the hold's id."""
        async with self.transaction() as db:
            async with db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)) as cur:
                if await cur.fetchone() is None:
                    raise LookupError(f"no account {user_id}")
            hold_id = await inserted_id(
                db,
                "INSERT INTO legal_holds (user_id, reason, placed_at) VALUES (?, ?, ?) RETURNING id",
                (user_id, reason, ts(self._clock.now())),
            )
        assert hold_id is not None
        log.info("hold.placed", extra={"uid": user_id, "hold": hold_id})
        return hold_id

    async def holds(self, *, include_released: bool = False) -> list[Hold]:
        """Active holds (and, if asked, released ones too), oldest first."""
        where = "" if include_released else " WHERE released_at IS NULL"
        rows = await self._read(
            f"SELECT id, user_id, reason, placed_at, released_at FROM legal_holds{where} ORDER BY id"
        )
        return [Hold(r[0], r[1], r[2], dt(r[3]), dt(r[4]) if r[4] else None) for r in rows]

    async def release_hold(self, user_id: int) -> int:
        """Lift every active hold on this account; returns how many were lifted."""
        async with self.transaction() as db:
            cur = await db.execute(
                "UPDATE legal_holds SET released_at = ? WHERE user_id = ? AND released_at IS NULL",
                (ts(self._clock.now()), user_id),
            )
            lifted = cur.rowcount
        log.info("hold.released", extra={"uid": user_id, "holds": lifted})
        return lifted

    # -- purges ----------------------------------------------------------------------------------

    async def purge_closed_accounts(
        self, now: datetime, *, grace_days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Accounts closed more than `grace_days` ago: whatever still references them, then the
        tombstone row itself (P11.1). Accounts whose consent to the Terms was withdrawn more than
        `grace_days` ago are erased first and go in the same run. Returns the number of accounts
        (rows removed are logged)."""
        cutoff = (ts(now - timedelta(days=grace_days)),)
        if dry_run:
            return await self._count(
                f"SELECT u.id FROM users u WHERE {_CLOSED_DUE}"
                f" UNION ALL SELECT u.id FROM users u WHERE {_WITHDRAWN_DUE}",
                cutoff * 2,
            )
        await self._erase_withdrawn(now, cutoff[0], batch)
        rows = 0
        for table, key in _ACCOUNT_TABLES:  # users first (CROSS JOIN): few due accounts, indexed
            rows += await self._delete_batches(
                table,
                key,
                f"SELECT t.{key} FROM users u CROSS JOIN {table} t ON t.user_id = u.id"
                f" WHERE {_CLOSED_DUE}",
                cutoff,
                batch,
            )
        rows += await self._delete_batches(
            "keys.user_keys",
            "user_id",
            f"SELECT k.user_id FROM users u CROSS JOIN keys.user_keys k ON k.user_id = u.id"
            f" WHERE {_CLOSED_DUE}",
            cutoff,
            batch,
        )
        accounts = await self._delete_batches(
            "users", "id", f"SELECT u.id FROM users u WHERE {_CLOSED_DUE}", cutoff, batch
        )
        if accounts:
            async with self.transaction() as db:
                await log_event(db, now, "account.purged", counts={"accounts": accounts})
            log.info("retention.closed_accounts", extra={"accounts": accounts, "rows": rows})
        return accounts

    async def _erase_withdrawn(self, now: datetime, cutoff: str, batch: int) -> None:
        """Each account due after a Terms withdrawal, in one short transaction: its consent ledger
        kept as proof, then erased, its key destroyed and its Telegram reference replaced, as
        /delete does; it becomes a tombstone closed at the withdrawal, so the batched purge of
        closed accounts removes the rest of it right after."""
        while True:
            due = await self._read(
                f"SELECT u.id, u.terms_withdrawn_at FROM users u WHERE {_WITHDRAWN_DUE}"
                " ORDER BY u.id LIMIT ?",
                (cutoff, batch),
            )
            for user_id, withdrawn_at in due:
                async with self.transaction() as db:
                    proofs = await keep_consent_proof(db, user_id, now)
                    for table in ("consents", "keys.user_keys"):
                        await db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
                    await db.execute(
                        "UPDATE users SET tg_ref = ?, chat_enc = x'', status = ?, step = NULL,"
                        " awaiting = NULL, conversation_id = NULL, terms_withdrawn_at = NULL,"
                        " closed_at = ? WHERE id = ?",
                        (secrets.token_bytes(32), Status.CLOSED, withdrawn_at, user_id),
                    )
                    await log_event(db, now, "key.destroyed", user_id)
                    await log_event(
                        db, now, "account.erased", user_id, {"terms_withdrawn": 1, "proofs": proofs}
                    )
                self.forget_key(user_id)
                log.info("retention.terms_withdrawn_erased", extra={"uid": user_id})
            if len(due) < batch:
                return
            await asyncio.sleep(0)

    async def purge_payment_records(
        self, now: datetime, *, years: int, batch: int, dry_run: bool = False
    ) -> int:
        """Payment records older than the tax-law period (P11.2)."""
        return await self._purge(
            "payments",
            "id",
            f"SELECT p.id FROM payments p WHERE p.created_at < ? AND {not_held('p.user_id')}",
            (ts(years_before(now, years)),),
            batch,
            dry_run,
        )

    async def purge_safety_records(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Safety and abuse records older than their period (P11.3)."""
        return await self._purge(
            "safety_records",
            "id",
            f"SELECT s.id FROM safety_records s WHERE s.created_at < ? AND {not_held('s.user_id')}",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_audit_log(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Audit entries older than `days`, oldest first and only as a prefix of the log, so the
        hash chain that remains is unbroken from its first row on."""
        rows = await self._read(
            "SELECT MIN(id) FROM audit_log WHERE at >= ?", (ts(now - timedelta(days=days)),)
        )
        first_kept: int | None = rows[0][0]
        if first_kept is None:
            rows = await self._read("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log")
            first_kept = int(rows[0][0])
        return await self._purge(
            "audit_log",
            "id",
            "SELECT a.id FROM audit_log a WHERE a.id < ? ORDER BY a.id",
            (first_kept,),
            batch,
            dry_run,
        )

    async def purge_autodeleted_messages(
        self, now: datetime, *, batch: int, dry_run: bool = False
    ) -> int:
        """Disappearing chats (B5): messages older than their owner's /autodelete setting.

        The same rows as messages_due_for_autodelete, less those of users under a legal hold.
        What was derived from them goes too: summaries and learnt memories older than the
        setting (a memory by its last change), and those whose conversation has no message left.
        Memories the person added with /memory add stay. Returns the number of messages.
        """
        removed = derived = 0
        for days in AUTODELETE_CHOICES:
            params = (days, ts(now - timedelta(days=days)))
            removed += await self._purge(
                "messages",
                "id",
                "SELECT m.id FROM users u CROSS JOIN messages m ON m.user_id = u.id"
                f" WHERE u.autodelete_days = ? AND m.created_at < ? AND {not_held('u.id')}",
                params,
                batch,
                dry_run,
            )
            if dry_run:
                continue
            for table, key, learnt, changed in (
                ("memories", "id", " AND t.manual = 0", "t.updated_at"),
                ("summaries", "conversation_id", "", "t.created_at"),
            ):
                derived += await self._delete_batches(
                    table,
                    key,
                    f"SELECT t.{key} FROM users u CROSS JOIN {table} t ON t.user_id = u.id"
                    f" WHERE u.autodelete_days = ? AND {not_held('u.id')}{learnt}"
                    f" AND ({changed} < ? OR (t.conversation_id IS NOT NULL AND NOT EXISTS"
                    "  (SELECT 1 FROM messages x WHERE x.conversation_id = t.conversation_id)))",
                    params,
                    batch,
                )
        if removed and not dry_run:
            async with self.transaction() as db:
                await rewind_memory_cursor(db)
        if derived:
            log.info("retention.autodeleted_memories", extra={"rows": derived})
            if not removed:  # the caller checkpoints only after a run that counted removals
                await self.checkpoint()
        return removed

    async def purge_minor_markers(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """The keyed under-18 markers older than `days` (P3.1)."""
        return await self._purge(
            "minor_markers",
            "tg_ref",
            "SELECT k.tg_ref FROM minor_markers k WHERE k.created_at < ?",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_processed_updates(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Handled update ids, kept only as long as Telegram might deliver one again."""
        return await self._purge(
            "processed_updates",
            "update_id",
            "SELECT p.update_id FROM processed_updates p WHERE p.at < ?",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_broadcast_records(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Finished broadcasts (with their delivery and target rows) older than `days`; the audit
        log keeps that they happened. Breach notices are never purged here: their targets and
        deliveries are the list of who was notified, part of the breach record (DPDP rule 7),
        which is kept at least as long as the audit log (storage/sqlite_breach.py)."""
        return await self._purge(
            "broadcasts",
            "id",
            "SELECT b.id FROM broadcasts b WHERE b.finished_at IS NOT NULL AND b.finished_at < ?"
            " AND b.kind != 'breach'",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_consent_proofs(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Proof of consent of erased accounts, `days` after the erasure."""
        return await self._purge(
            "consent_proofs",
            "id",
            "SELECT c.id FROM consent_proofs c WHERE c.erased_at < ?"
            f" AND {not_held('c.account_id')}",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_processing_log(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """Processing-log entries older than `days` (at least a year: DPDP Rules 2025, rule 6)."""
        return await self._purge(
            "processing_log",
            "id",
            f"SELECT p.id FROM processing_log p WHERE p.at < ? AND {not_held('p.account_id')}",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def purge_job_runs(
        self, now: datetime, *, days: int, batch: int, dry_run: bool = False
    ) -> int:
        """The record of job runs older than `days`, keeping each job's newest run."""
        return await self._purge(
            "job_runs",
            "id",
            "SELECT r.id FROM job_runs r WHERE r.started_at < ?"
            " AND r.id NOT IN (SELECT MAX(id) FROM job_runs GROUP BY job)",
            (ts(now - timedelta(days=days)),),
            batch,
            dry_run,
        )

    async def _purge(
        self,
        table: str,
        key: str,
        due: str,
        params: Sequence[Any],
        batch: int,
        dry_run: bool,
    ) -> int:
        if dry_run:
            return await self._count(due, params)
        return await self._delete_batches(table, key, due, params, batch)

    async def _count(self, due: str, params: Sequence[Any]) -> int:
        rows = await self._read(f"SELECT COUNT(*) FROM ({due}) AS due", params)
        return int(rows[0][0])

    async def _delete_batches(
        self, table: str, key: str, due: str, params: Sequence[Any], batch: int
    ) -> int:
        """Delete the rows `due` selects, `batch` at a time, one short transaction each."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        removed = 0
        while True:
            async with self.transaction() as db:
                cur = await db.execute(
                    f"DELETE FROM {table} WHERE {key} IN ({due} LIMIT ?)", (*params, batch)
                )
                count = cur.rowcount
            removed += count
            if count < batch:
                return removed
            await asyncio.sleep(0)  # let chat writes waiting on the writer go first

    # -- job runs --------------------------------------------------------------------------------

    async def start_job_run(self, job: str, started_at: datetime, *, dry_run: bool = False) -> int:
        async with self.transaction() as db:
            run_id = await inserted_id(
                db,
                "INSERT INTO job_runs (job, started_at, dry_run) VALUES (?, ?, ?) RETURNING id",
                (job, ts(started_at), int(dry_run)),
            )
        assert run_id is not None
        return run_id

    async def finish_job_run(
        self, run_id: int, finished_at: datetime, removed: Mapping[str, int]
    ) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE job_runs SET finished_at = ?, removed = ? WHERE id = ?",
                (ts(finished_at), json.dumps(dict(removed), sort_keys=True), run_id),
            )

    async def last_runs(self) -> list[JobRun]:
        """The newest run of each job (dry or not, finished or not), by job name."""
        rows = await self._read(
            f"SELECT {_RUN_COLUMNS} FROM job_runs"
            " WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY job"
        )
        return [_job_run(r) for r in rows]

    async def last_finished_run(self, job: str) -> JobRun | None:
        """The newest run of `job` that finished and was not a dry run: when it last did its work."""
        rows = await self._read(
            f"SELECT {_RUN_COLUMNS} FROM job_runs"
            " WHERE job = ? AND finished_at IS NOT NULL AND dry_run = 0 ORDER BY id DESC LIMIT 1",
            (job,),
        )
        return _job_run(rows[0]) if rows else None


_RUN_COLUMNS = "id, job, started_at, finished_at, dry_run, removed"


def _job_run(row: Any) -> JobRun:
    removed = json.loads(row[5] or "{}")
    return JobRun(
        id=row[0],
        job=row[1],
        started_at=dt(row[2]),
        finished_at=dt(row[3]) if row[3] else None,
        dry_run=bool(row[4]),
        removed={str(k): int(v) for k, v in removed.items()},
    )
