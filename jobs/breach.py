"""Reminders to the owners before a breach's detailed report to the Data Protection Board is due
(72 hours after the breach became known; DPDP Rules 2025, rule 7(2)(b)).

Every few minutes the job looks at the breaches whose report is not yet made and, once a mark is
reached (24 h, 6 h and 1 h before the deadline, and the deadline itself), reminds the owners once
for it: the mark is claimed in storage before the reminder is sent, so a restart never repeats
one. Marks passed together (a breach recorded late, or the bot down) make one reminder, for the
most urgent. The words and the sending are injected (bot/app.py): jobs never import handlers.
Logs and audit entries carry ids and counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from storage.base import Repository
from storage.models import Breach

log = logging.getLogger("amigo.breach")

JOB = "breach_reminders"
EVERY = timedelta(minutes=5)
MARKS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)),
    ("6h", timedelta(hours=6)),
    ("1h", timedelta(hours=1)),
    ("due", timedelta(0)),
)
"""Each reminder's name and how long before the report's deadline it is sent, earliest first."""

Remind = Callable[[Breach, datetime], Awaitable[int]]
"""Tell the owners about this breach at this time; returns how many owners were reached."""


async def run_breach_reminders(repo: Repository, now: datetime, remind: Remind) -> int:
    """Send the reminders due at `now`; returns how many were sent."""
    sent = 0
    for b in await repo.breaches_awaiting_report():
        reached = [mark for mark, before in MARKS if now >= b.report_due - before]
        claimed = [mark for mark in reached if await repo.claim_breach_reminder(b.id, mark)]
        if not claimed:
            continue
        owners = await remind(b, now)
        sent += 1
        marks = ",".join(claimed)
        await repo.audit(
            "system", "breach reminder", f"breach={b.id} marks={marks} owners={owners}"
        )
        log.info("breach.reminded", extra={"breach": b.id, "owners": owners})
    return sent
