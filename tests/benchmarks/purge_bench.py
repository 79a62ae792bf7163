"""How the retention purge behaves on a big backlog, and what chatting feels like while it runs.

    .venv/bin/python -m tests.benchmarks.purge_bench            # 1,000,000 messages of closed accounts
    .venv/bin/python -m tests.benchmarks.purge_bench 200000     # another size
    .venv/bin/python -m tests.benchmarks.purge_bench 1000000 100  # another retention.batch_size

A child process builds the database: 100 accounts are opened through the repository API, their
messages inserted with executemany, 50,000 rows per transaction through the repository's own writer
transaction() (the sealed body is one random 180-byte blob: the purge never opens it), then the
accounts are closed as /delete leaves them (status closed, data key gone) 60 days ago, but with every
message still there. The measuring process then runs jobs.retention.run_retention with the default
settings while an onboarded user chats through handlers.router.Dispatcher (fake model,
tests/doubles.py) back to back, and times each handle() call. Resident memory is that of the measuring
process only (the build's memory stays in the child). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from bot.app import handler_config
from bot.config import RetentionSettings, Settings, load_settings
from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers.deps import Deps
from handlers.events import Sender, Text
from handlers.router import Dispatcher
from jobs.retention import run_retention
from storage.crypto import Vault
from storage.sqlite import SqliteRepository
from storage.sqlite_base import ts
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import onboard

SIZE = 1_000_000
ACCOUNTS = 100
INSERT_BATCH = 50_000
START = datetime(2026, 1, 1, 12, tzinfo=UTC)
MIB = 1024 * 1024
CHATTER = Sender(7, 7)


@dataclass(frozen=True)
class Result:
    messages: int
    build_seconds: float
    purge_seconds: float
    batch_size: int
    rss_before_mib: float
    rss_peak_mib: float
    chat_calls: int
    chat_p50_ms: float
    chat_p99_ms: float
    chat_max_ms: float
    wal_peak_mib: float
    idle_p50_ms: float
    idle_p99_ms: float


def build(path: str, key: bytes, messages: int) -> float:
    """Runs in a child process: the database with `messages` messages of closed accounts."""
    return asyncio.run(_build(path, key, messages))


async def _build(path: str, key: bytes, messages: int) -> float:
    started = time.perf_counter()
    clock = FrozenClock(START)
    repo = SqliteRepository(path, Vault(key), clock=clock)
    await repo.open()
    try:
        blob = os.urandom(180)
        per_account = -(-messages // ACCOUNTS)
        written = 0
        ids = []
        for n in range(ACCOUNTS):
            account = await repo.create_account(
                1000 + n, 1000 + n, policy_version="bench", age_confirmed_at=clock.now()
            )
            ids.append(account.id)
            conversation = await repo.start_conversation(account.id)
            mine = min(per_account, messages - written)
            for first in range(0, mine, INSERT_BATCH):
                rows = (
                    (
                        conversation,
                        account.id,
                        "user" if i % 2 else "assistant",
                        blob,
                        ts(START - timedelta(days=400, seconds=-i)),
                    )
                    for i in range(first, min(first + INSERT_BATCH, mine))
                )
                async with repo.transaction() as db:
                    await db.executemany(
                        "INSERT INTO messages (conversation_id, user_id, role, body_enc,"
                        " created_at) VALUES (?, ?, ?, ?, ?)",
                        rows,
                    )
            written += mine
        marks = ",".join("?" * len(ids))
        async with repo.transaction() as db:
            await db.execute(
                f"UPDATE users SET status = 'closed', closed_at = ? WHERE id IN ({marks})",
                (ts(START - timedelta(days=60)), *ids),
            )
            await db.execute(f"DELETE FROM keys.user_keys WHERE user_id IN ({marks})", ids)
        await repo.checkpoint()
    finally:
        await repo.close()
    return time.perf_counter() - started


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def chat(dispatcher: Dispatcher, until: asyncio.Event | None, count: int = 0) -> list[float]:
    """Back-to-back chat messages (until `until` is set, or `count` of them); each handle()'s ms."""
    channel = RecordingChannel()
    latencies: list[float] = []
    i = 0
    while (until is not None and not until.is_set()) or (until is None and i < count):
        started = time.perf_counter()
        await dispatcher.handle(Text(CHATTER, f"how was your day? #{i}"), channel)
        latencies.append((time.perf_counter() - started) * 1000)
        assert channel.texts[-1].startswith("echo:"), "not a chat reply: a refusal or an error"
        channel.replies.clear()
        model = dispatcher.deps.model
        assert isinstance(model, FakeModel)
        model.history.clear()  # it keeps every request: the harness's memory, not the purge's
        i += 1
        await asyncio.sleep(0.005)  # a few ms between messages: a busy user, not a flood
    return latencies


async def measure(path: str, key: bytes, messages: int, build_seconds: float, batch: int) -> Result:
    tmp = Path(path).parent
    (tmp / "config.toml").touch()
    env: dict[str, str] = {}
    if "limits" in Settings.model_fields:  # one user sends thousands: lift the per-user limits
        env = {f"AMIGO_LIMITS__{k}": "1000000" for k in ("BURST", "PER_MINUTE", "DAILY_MESSAGES")}
    settings = load_settings(env, path=str(tmp / "config.toml"))
    retention = RetentionSettings(batch_size=batch)
    clock = FrozenClock(START)
    repo = SqliteRepository(path, Vault(key), clock=clock)
    await repo.open()
    try:
        deps = Deps(
            repo=repo,
            model=FakeModel(),
            tokens=EstimateCounter(),
            clock=clock,
            config=handler_config(settings),
            sign=lambda text: repo._vault.pseudonym("sign", text),
        )
        dispatcher = Dispatcher(deps)
        await onboard(dispatcher, RecordingChannel(), CHATTER)
        idle = await chat(dispatcher, None, count=300)

        rss_before = rss_mib()
        done = asyncio.Event()

        async def purge() -> float:
            started = time.perf_counter()
            try:
                counts = await run_retention(repo, retention, clock.now())
            finally:
                done.set()
            assert counts["closed_accounts"] == ACCOUNTS, counts
            return time.perf_counter() - started

        wal = Path(f"{path}-wal")
        wal_sizes = [0]

        async def sample_wal() -> None:
            while not done.is_set():
                wal_sizes.append(wal.stat().st_size if wal.exists() else 0)
                await asyncio.sleep(0.05)

        purge_seconds, busy, _ = await asyncio.gather(purge(), chat(dispatcher, done), sample_wal())
        left = await repo._read(
            "SELECT COUNT(*) FROM messages WHERE user_id NOT IN (SELECT id FROM users)"
        )
        assert left[0][0] == 0, left[0][0]
        return Result(
            messages=messages,
            build_seconds=build_seconds,
            purge_seconds=purge_seconds,
            batch_size=retention.batch_size,
            rss_before_mib=rss_before,
            rss_peak_mib=maxrss_mib(),
            chat_calls=len(busy),
            chat_p50_ms=statistics.median(busy),
            chat_p99_ms=percentile(busy, 99),
            chat_max_ms=max(busy),
            wal_peak_mib=max(wal_sizes) / MIB,
            idle_p50_ms=statistics.median(idle),
            idle_p99_ms=percentile(idle, 99),
        )
    finally:
        await repo.close()


def main(argv: list[str]) -> None:
    messages = int(argv[0].replace(",", "").replace("_", "")) if argv else SIZE
    batch = int(argv[1]) if len(argv) > 1 else RetentionSettings().batch_size
    print(f"purge benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    key = os.urandom(32)
    with tempfile.TemporaryDirectory(prefix="amigo-purge-bench-") as tmp:
        path = str(Path(tmp) / "bench.db")
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            build_seconds = pool.submit(build, path, key, messages).result()
        size_mib = Path(path).stat().st_size / MIB
        print(f"built {messages:,} messages of {ACCOUNTS} closed accounts in {build_seconds:.1f} s")
        print(f"database {size_mib:.0f} MiB")
        r = asyncio.run(measure(path, key, messages, build_seconds, batch))
    print(f"purged {r.messages:,} messages and {ACCOUNTS} accounts in {r.purge_seconds:.1f} s")
    print(
        f"  {r.messages / r.purge_seconds:,.0f} messages/s, batches of {r.batch_size}"
        f" ({-(-r.messages // r.batch_size):,} batches)"
    )
    print(
        f"  resident memory: {r.rss_before_mib:.0f} MiB before, peak {r.rss_peak_mib:.0f} MiB"
        f" (growth {r.rss_peak_mib - r.rss_before_mib:.0f} MiB)"
    )
    print(
        f"chat while purging: {r.chat_calls:,} messages, p50 {r.chat_p50_ms:.1f} ms,"
        f" p99 {r.chat_p99_ms:.1f} ms, max {r.chat_max_ms:.1f} ms"
    )
    print(f"  write-ahead log peak {r.wal_peak_mib:.1f} MiB (truncated to 0 at the end)")
    print(f"chat idle (before): p50 {r.idle_p50_ms:.1f} ms, p99 {r.idle_p99_ms:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
