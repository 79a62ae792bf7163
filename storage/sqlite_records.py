"""SQLite queries behind the records the law asks for: proof of consent and the processing log.

Proof of consent (DPDP Act 2023, s. 6(10)): when an account is erased, its consent ledger is kept as
a minimal proof: the keyed hash of the Telegram id (the account's `tg_ref`, never the id), each
row's purpose, choice, policy version and time, and when the account was erased. No content, no
names. It is written in the transaction that erases the ledger, so no erasure can skip it, and
retention purges it after `retention.consent_proof_days`.

The processing log (DPDP Rules 2025, rule 6): one row per security-relevant event (an account
created or erased, an export, staff access to content, a key destroyed, a backup or restore, a
retention run), with an event name from EVENTS, the internal account id where there is one, and
counts. Never text, names or Telegram ids. Most events are written by the storage method that does
the thing, inside its transaction; retention purges the log after `retention.processing_log_days`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from storage.models import ConsentProof, ProcessingEvent, Purpose
from storage.sql_base import SqlBase, Tx, dt, ts

EVENTS = frozenset(
    {
        "account.created",
        "account.erased",  # by the person (/delete) or after a Terms withdrawal's grace
        "account.purged",  # a retention run removed erased accounts' tombstones (a count)
        "key.destroyed",
        "export.sent",
        "staff.access",
        "backup.written",
        "backup.restored",
        "retention.run",
        "payment.received",  # Amigo Plus: a first payment or a renewal (counts: first)
        "payment.refunded",
    }
)


def _counts_json(counts: Mapping[str, int] | None) -> str:
    checked: dict[str, int] = {}
    for name, value in (counts or {}).items():
        if not name.replace("_", "").isalnum() or type(value) is not int:
            raise ValueError(f"processing-log counts are named integers, not {name!r}")
        checked[name] = value
    return json.dumps(checked, sort_keys=True)


async def log_event(
    db: Tx,
    at: datetime,
    event: str,
    account_id: int | None = None,
    counts: Mapping[str, int] | None = None,
) -> None:
    """Append one event to the processing log, inside the caller's transaction."""
    if event not in EVENTS:
        raise ValueError(f"unknown processing-log event {event!r}")
    await db.execute(
        "INSERT INTO processing_log (at, event, account_id, counts) VALUES (?, ?, ?, ?)",
        (ts(at), event, account_id, _counts_json(counts)),
    )


async def keep_consent_proof(db: Tx, user_id: int, erased_at: datetime) -> int:
    """Copy the account's consent ledger into consent_proofs before it is erased, inside the
    erasing transaction (while `users.tg_ref` is still the keyed hash); returns the rows kept."""
    cur = await db.execute(
        "INSERT INTO consent_proofs"
        " (tg_ref, account_id, purpose, granted, policy_version, at, erased_at, language)"
        " SELECT u.tg_ref, c.user_id, c.purpose, c.granted, c.policy_version, c.created_at, ?,"
        " c.language"
        " FROM consents c JOIN users u ON u.id = c.user_id WHERE c.user_id = ? ORDER BY c.id",
        (ts(erased_at), user_id),
    )
    return cur.rowcount


class RecordsQueries(SqlBase):
    """Writing and reading the processing log; reading the proof of consent."""

    async def record_event(
        self,
        event: str,
        *,
        account_id: int | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        async with self.transaction() as db:
            await log_event(db, self._clock.now(), event, account_id, counts)

    async def processing_log(
        self, *, since: datetime | None = None, limit: int = 1000
    ) -> list[ProcessingEvent]:
        rows = await self._read(
            "SELECT at, event, account_id, counts FROM processing_log"
            " WHERE (at >= :since OR :since IS NULL) ORDER BY id LIMIT :limit",
            {"since": ts(since) if since else None, "limit": limit},
        )
        return [
            ProcessingEvent(
                at=dt(r[0]),
                event=r[1],
                account_id=r[2],
                counts={str(k): int(v) for k, v in json.loads(r[3]).items()},
            )
            for r in rows
        ]

    async def consent_proofs(self, tg_id: int) -> list[ConsentProof]:
        rows = await self._read(
            "SELECT purpose, granted, policy_version, at, erased_at, language FROM consent_proofs"
            " WHERE tg_ref = ? ORDER BY id",
            (self._vault.pseudonym("tg", tg_id),),
        )
        return [
            ConsentProof(Purpose(r[0]), bool(r[1]), r[2], dt(r[3]), dt(r[4]), r[5]) for r in rows
        ]
