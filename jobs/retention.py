"""The retention purge (privacy policy section 11): each kind of data goes when its period is over.

One run purges every category once, through storage only, in bounded batches, and is recorded in
job_runs with its per-category counts. Runs are idempotent: a run killed half-way leaves whole batches
done and its job_runs row unfinished, and the next run finishes the work. Logs carry counts only.
"""

from __future__ import annotations

import logging
import stat
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from storage.base import Repository

log = logging.getLogger("amigo.retention")

JOB = "retention"
EXPORT_PATTERN = "amigo-export-*.json"  # handlers/export.py's temporary files
EXPORT_MAX_AGE = timedelta(hours=1)


class RetentionConfig(Protocol):
    """The periods a run reads (bot.config.RetentionSettings is one): jobs never import bot/."""

    @property
    def batch_size(self) -> int: ...
    @property
    def closed_account_grace_days(self) -> int: ...
    @property
    def payment_records_years(self) -> int: ...
    @property
    def safety_records_days(self) -> int: ...
    @property
    def audit_log_days(self) -> int: ...
    @property
    def minor_marker_days(self) -> int: ...
    @property
    def consent_proof_days(self) -> int: ...
    @property
    def processing_log_days(self) -> int: ...
    @property
    def interval_minutes(self) -> int: ...


# Every category a run reports, in the order it runs.
CATEGORIES = (
    "closed_accounts",
    "autodelete_messages",
    "payment_records",
    "safety_records",
    "audit_log",
    "minor_markers",
    "processed_updates",
    "broadcast_records",
    "job_runs",
    "consent_proofs",
    "processing_log",
    "export_files",
)


# Telegram keeps an undelivered update for at most 24 hours; a week is ample to catch redelivery.
PROCESSED_UPDATE_DAYS = 7
# Who was sent a finished broadcast matters only while it might be resumed or questioned.
BROADCAST_RECORD_DAYS = 90


async def run_retention(
    repo: Repository,
    settings: RetentionConfig,
    now: datetime,
    *,
    dry_run: bool = False,
    export_dir: Path | None = None,
) -> dict[str, int]:
    """Purge everything due at `now` (or, with dry_run, only count it); per-category counts."""
    started = time.monotonic()
    run_id = await repo.start_job_run(JOB, now, dry_run=dry_run)
    batch = settings.batch_size
    counts = {
        "closed_accounts": await repo.purge_closed_accounts(
            now, grace_days=settings.closed_account_grace_days, batch=batch, dry_run=dry_run
        ),
        "autodelete_messages": await repo.purge_autodeleted_messages(
            now, batch=batch, dry_run=dry_run
        ),
        "payment_records": await repo.purge_payment_records(
            now, years=settings.payment_records_years, batch=batch, dry_run=dry_run
        ),
        "safety_records": await repo.purge_safety_records(
            now, days=settings.safety_records_days, batch=batch, dry_run=dry_run
        ),
        "audit_log": await repo.purge_audit_log(
            now, days=settings.audit_log_days, batch=batch, dry_run=dry_run
        ),
        "minor_markers": await repo.purge_minor_markers(
            now, days=settings.minor_marker_days, batch=batch, dry_run=dry_run
        ),
        "processed_updates": await repo.purge_processed_updates(
            now, days=PROCESSED_UPDATE_DAYS, batch=batch, dry_run=dry_run
        ),
        "broadcast_records": await repo.purge_broadcast_records(
            now, days=BROADCAST_RECORD_DAYS, batch=batch, dry_run=dry_run
        ),
        "job_runs": await repo.purge_job_runs(
            now, days=settings.audit_log_days, batch=batch, dry_run=dry_run
        ),
        "consent_proofs": await repo.purge_consent_proofs(
            now, days=settings.consent_proof_days, batch=batch, dry_run=dry_run
        ),
        "processing_log": await repo.purge_processing_log(
            now, days=settings.processing_log_days, batch=batch, dry_run=dry_run
        ),
        "export_files": purge_export_files(now, directory=export_dir, dry_run=dry_run),
    }
    if not dry_run and any(n for name, n in counts.items() if name != "export_files"):
        await repo.checkpoint()  # once: fold the WAL in and truncate it, no copy of deleted pages
    finished = now + timedelta(seconds=time.monotonic() - started)
    await repo.finish_job_run(run_id, finished, counts)
    if not dry_run:  # a dry run processes nothing
        await repo.record_event("retention.run", counts=counts)
    seconds = round((finished - now).total_seconds(), 3)
    log.info("retention.run", extra={"dry_run": dry_run, "seconds": seconds, **counts})
    return counts


def purge_export_files(
    now: datetime, *, directory: Path | None = None, dry_run: bool = False
) -> int:
    """/export's temporary files older than an hour: only a crash leaves one behind."""
    folder = Path(directory or tempfile.gettempdir())
    cutoff = (now - EXPORT_MAX_AGE).timestamp()
    removed = 0
    for path in folder.glob(EXPORT_PATTERN):
        try:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= cutoff:  # no symlinks
                continue
            if not dry_run:
                path.unlink()
        except OSError:
            continue  # gone meanwhile, or not ours to delete (another user's, in a shared /tmp)
        removed += 1
    return removed


def report(counts: dict[str, int], *, dry_run: bool) -> str:
    """Per-category lines for `python -m bot purge`."""
    verb = "would remove" if dry_run else "removed"
    width = max(len(c) for c in CATEGORIES)
    lines = [f"retention purge{' (dry run: nothing removed)' if dry_run else ''}:"]
    lines += [f"  {name:<{width}}  {verb} {counts.get(name, 0)}" for name in CATEGORIES]
    return "\n".join(lines)
