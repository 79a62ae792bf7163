"""The in-process scheduler: APScheduler 3.x's AsyncIOScheduler on the bot's own event loop.

APScheduler's memory job store forgets everything on restart, so the schedule is rebuilt from job_runs
on every start: a job whose last finished run is at least one interval old (it was missed while the bot
was down, or a run was killed half-way) runs once at once, however many slots were missed (coalesced);
any other job first runs when its interval since that run is over. Retention that never ran runs at
once; a backup that never ran waits one interval (a fresh install has nothing to back up yet).
Jobs work through storage only, log counts and error types only, and record each run in job_runs.

With several workers on one database every worker schedules every job, and a `lease` makes each
firing run once: the first worker to take the job's lease (for half its interval) runs it, the
others skip that firing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from core.clock import Clock
from jobs.backup import BackupConfig, run_backup
from jobs.retention import JOB as RETENTION
from jobs.retention import RetentionConfig, run_retention
from storage.sqlite import SqliteRepository, SqlRepository

log = logging.getLogger("amigo.jobs")

BACKUP = "backup"

Job = Callable[[], Awaitable[None]]
JobLease = Callable[[str, timedelta], Awaitable[bool]]
"""(job name, how long) -> whether this worker runs this firing of the job."""


class JobsConfig(Protocol):
    """The sections the scheduled jobs read (bot.config.Settings is one)."""

    @property
    def retention(self) -> RetentionConfig: ...
    @property
    def backup(self) -> BackupConfig: ...


class JobScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """An AsyncIOScheduler that knows its running jobs, so stopping can wait for them."""

    def __init__(self, lease: JobLease | None = None) -> None:
        self._lease = lease
        super().__init__(
            timezone=UTC,
            job_defaults={
                "coalesce": True,  # many missed slots make one run
                "max_instances": 1,  # never two runs of a job at once
                "misfire_grace_time": None,  # late is fine: run it anyway
            },
        )
        self.tasks: set[asyncio.Task[object]] = set()

    def add_interval_job(self, name: str, job: Job, every: timedelta, first_run: datetime) -> None:
        self.add_job(
            self._guarded(name, job, every),
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            id=name,
            name=name,
            next_run_time=first_run,
        )

    def _guarded(self, name: str, job: Job, every: timedelta) -> Job:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self.tasks.add(task)
            try:
                if self._lease is not None and not await self._lease(name, every / 2):
                    log.debug("job.skipped", extra={"job": name, "reason": "another worker"})
                    return
                await job()
            except Exception as exc:  # the next run retries; the log gets the type only
                log.error("job.failed", extra={"job": name, "error": type(exc).__name__})
            except asyncio.CancelledError:  # stop(): its batch rolled back, the next start reruns
                log.info("job.cancelled", extra={"job": name})
            finally:
                if task is not None:
                    self.tasks.discard(task)

        return run

    async def stop(self) -> None:
        """Stop scheduling and cancel a job mid-run (its open batch rolls back; job_runs shows it
        unfinished, so the next start runs it again), then wait until it has let go of storage."""
        if self.running:
            self.shutdown(wait=False)
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown itself runs on the loop's next turn


async def first_run_time(
    repo: SqlRepository, job: str, every: timedelta, clock: Clock, *, if_never: bool
) -> datetime:
    """When (wall clock, for APScheduler) the job should first run after this start.

    Due-ness is judged by the injected clock against the last finished run in job_runs; `if_never`
    says whether a job that never finished a run is due.
    """
    wall = datetime.now(UTC)
    last = await repo.last_finished_run(job)
    if last is None or last.finished_at is None:
        return wall if if_never else wall + every
    wait = last.finished_at + every - clock.now()
    return wall + max(wait, timedelta(0))


async def build_scheduler(
    repo: SqlRepository, settings: JobsConfig, clock: Clock, *, lease: JobLease | None = None
) -> JobScheduler:
    """The retention and backup jobs on their configured intervals; call start() on the running
    event loop and `await stop()` before the repository closes. `lease`: several workers."""
    scheduler = JobScheduler(lease)

    async def retention() -> None:
        await run_retention(repo, settings.retention, clock.now())

    async def backup() -> None:
        assert isinstance(repo, SqliteRepository)
        now = clock.now()
        started = time.monotonic()
        run_id = await repo.start_job_run(BACKUP, now)
        await run_backup(repo, settings.backup, now)
        await repo.finish_job_run(run_id, now + timedelta(seconds=time.monotonic() - started), {})

    jobs: list[tuple[str, Job, timedelta, bool]] = [
        (RETENTION, retention, timedelta(minutes=settings.retention.interval_minutes), True),
    ]
    if isinstance(repo, SqliteRepository):  # PostgreSQL is backed up with its own tools (README)
        jobs.append((BACKUP, backup, timedelta(hours=settings.backup.interval_hours), False))
    for name, job, every, if_never in jobs:
        first = await first_run_time(repo, name, every, clock, if_never=if_never)
        scheduler.add_interval_job(name, job, every, first)
    return scheduler
