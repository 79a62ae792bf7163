"""How /export scales: time and peak memory of handlers.export.write_export against history length.

    .venv/bin/python -m tests.benchmarks.export_bench                    # the standard workloads
    .venv/bin/python -m tests.benchmarks.export_bench 5000x1000 20000x10  # messages x per conv.

The standard workloads are users with 1,000, 10,000 and 100,000 messages (a /new every 1,000), and
one with 20,000 messages in conversations of 10, the shape that exposes per-conversation costs.
Users are created through the repository API (create_account, start_conversation); their messages
are inserted in batches with the repository's own transaction() and the vault's seal(), exactly as
SqliteRepository.add_message stores them (same table, AAD place and per-user data key), only
thousands per transaction. Each export is run twice: once plain, for the time, the sampled resident
memory and the ru_maxrss high-water mark, and once under tracemalloc, for the peak of Python
allocations during the export. Everything, the export files included, lives in a temporary
directory removed at the end. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import handler_config
from bot.config import load_settings
from core.clock import FrozenClock
from handlers.deps import HandlerConfig
from handlers.export import write_export
from storage.crypto import Vault
from storage.models import Companion, Role
from storage.sqlite import SqliteRepository
from storage.sqlite_base import ts

WORKLOADS = ((1_000, 1_000), (10_000, 1_000), (100_000, 1_000), (20_000, 10))
BATCH = 5_000  # messages per insert transaction
MIB = 1024 * 1024
CHATTER = (
    "okay so today I went to the market and bought mangoes, then we talked about work, "
    "my sister called, the weather is hot, I feel a bit tired but happy, what do you think "
    "about learning the guitar, tell me a story, that's funny, thanks for listening"
)
WORDS = CHATTER.split()


@dataclass(frozen=True)
class Result:
    messages: int
    conversations: int
    seconds: float
    peak_mib: float
    rss_growth_mib: float
    maxrss_growth_mib: float
    file_mib: float


def message_text(rng: random.Random, i: int, role: Role) -> str:
    """Chat-like text: short from the user, longer from the companion, some non-ASCII."""
    count = rng.randint(3, 25) if role == "user" else rng.randint(15, 70)
    words = " ".join(rng.choice(WORDS) for _ in range(count))
    return f"{words} ✓ #{i}" if i % 7 == 0 else words


async def add_messages(
    repo: SqliteRepository, user_id: int, count: int, per_conversation: int, start: datetime
) -> int:
    """`count` messages, alternating user/assistant, `per_conversation` in each conversation.

    Returns how many conversations that made.
    """
    rng = random.Random(count)
    key = await repo._data_key(user_id)  # the user's data key, as SqliteRepository._seal uses it
    vault = repo._vault
    conversation, conversations, written = 0, 0, 0
    while written < count:
        rows: list[tuple[int, int, str, bytes, str]] = []
        for i in range(written, min(written + BATCH, count)):
            if i % per_conversation == 0:
                if rows:  # the conversation must exist before its messages
                    break
                conversation = await repo.start_conversation(user_id)
                conversations += 1
            role: Role = "user" if i % 2 == 0 else "assistant"
            body = vault.seal(key, message_text(rng, i, role), "messages.body", user_id)
            rows.append((conversation, user_id, role, body, ts(start + timedelta(seconds=i))))
        async with repo.transaction() as db:
            await db.executemany(
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        written += len(rows)
    return conversations


def maxrss_mib() -> float:
    """The process's resident-memory high-water mark (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        return 0.0


class RssSampler(threading.Thread):
    """Samples resident memory every few milliseconds; `peak` is the highest seen.

    Unlike ru_maxrss (a high-water mark for the whole process, already raised by loading the
    data), this shows what the export itself adds, including SQLite's own allocations.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mib()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.005):
            self.peak = max(self.peak, rss_mib())

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, rss_mib())


async def measure(
    repo: SqliteRepository,
    tg_id: int,
    config: HandlerConfig,
    now: datetime,
    workload: tuple[int, int],
) -> Result:
    account = await repo.find_account(tg_id)
    assert account is not None
    conversations = len(await repo.conversations(account.id))
    rss_before, maxrss_before = rss_mib(), maxrss_mib()
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    path = await write_export(repo, account, config, now, policy_version=config.policy_version)
    seconds = time.perf_counter() - started
    rss_growth = sampler.stop() - rss_before
    maxrss_growth = maxrss_mib() - maxrss_before
    file_mib = path.stat().st_size / MIB
    path.unlink()

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        path = await write_export(repo, account, config, now, policy_version=config.policy_version)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    path.unlink()
    return Result(
        workload[0], conversations, seconds, peak / MIB, rss_growth, maxrss_growth, file_mib
    )


async def run(workloads: tuple[tuple[int, int], ...]) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="amigo-bench-") as tmp:
        saved_tempdir, tempfile.tempdir = tempfile.tempdir, tmp  # exports land in here too
        config_file = Path(tmp) / "config.toml"
        config_file.touch()
        config = handler_config(load_settings({}, path=str(config_file)))
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        repo = SqliteRepository(Path(tmp) / "bench.db", Vault(os.urandom(32)), clock=clock)
        await repo.open()
        try:
            for tg_id, (count, per_conversation) in enumerate(workloads, start=1):
                started = time.perf_counter()
                account = await repo.create_account(
                    tg_id, tg_id, policy_version="bench", age_confirmed_at=clock.now()
                )
                await repo.set_companion(account.id, Companion("Amigo", "nonbinary", "warm"))
                await repo.set_step(account.id, None, activate=True)
                await add_messages(repo, account.id, count, per_conversation, clock.now())
                took = time.perf_counter() - started
                print(f"  inserted {count:>7,} messages in {took:5.1f} s", flush=True)
            results = [
                await measure(repo, tg_id, config, clock.now(), workload)
                for tg_id, workload in enumerate(workloads, start=1)
            ]
        finally:
            await repo.close()
            tempfile.tempdir = saved_tempdir
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| messages | conversations | seconds | peak MiB (tracemalloc) | RSS growth MiB"
        " | ru_maxrss growth MiB | file MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.messages:,} | {r.conversations:,} | {r.seconds:.2f} | {r.peak_mib:.2f}"
        f" | {r.rss_growth_mib:.1f} | {r.maxrss_growth_mib:.1f} | {r.file_mib:.1f} |"
        for r in results
    ]
    return "\n".join(lines)


def parse(arg: str) -> tuple[int, int]:
    """`100000` or `100_000` (a /new every 1,000), or `20000x10` (messages x per conversation)."""
    messages, _, per = arg.replace(",", "").replace("_", "").partition("x")
    return int(messages), int(per or 1_000)


def main(argv: list[str]) -> None:
    workloads = tuple(parse(a) for a in argv) or WORKLOADS
    print(f"export benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", flush=True)
    started = time.perf_counter()
    results = asyncio.run(run(workloads))
    print(table(results))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
