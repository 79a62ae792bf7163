"""Replies per second with an instant model: SQLite (one process, polling) against PostgreSQL with
one and with two webhook workers, and the bot's added latency per reply on each.

Run: `.venv/bin/python -m tests.benchmarks.workers_bench [people] [messages each]`.

Every bot is a real `python -m bot run` process; the fake Bot API (webhook delivery, one chat's
updates in order, chats concurrently) and the instant fake model run in this process, on the same
machine, so they share its cores with the bots and the database: the numbers are an upper bound
on nothing and a comparison between the three set-ups. CPU is read from /proc for the bots, for
the PostgreSQL server's processes and for this process (the fakes), to say what saturates first.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests import postgres
from tests.benchmarks.overhead_bench import cpu_seconds, percentile
from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot, run_env
from tests.workers_helpers import Workers

FAST = {
    "AMIGO_LLM__STREAM": "false",
    "AMIGO_COMPANION__BURST_WINDOW_SECONDS": "0",
    "AMIGO_LIMITS__MAX_CONCURRENT_LLM_CALLS": "256",
    "AMIGO_LIMITS__BURST": "1000",
    "AMIGO_LIMITS__PER_MINUTE": "100000",
    "AMIGO_LIMITS__REPEAT_THRESHOLD": "1000",
    "AMIGO_LIMITS__DAILY_MESSAGES": "100000",
    "AMIGO_TELEGRAM__REQUESTS_PER_SECOND": "0",
    "AMIGO_MEMORY__ENABLED": "false",
    "AMIGO_WORKERS__LEASE_SECONDS": "60",
    "AMIGO_WORKERS__SWEEP_SECONDS": "5",
}


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process so far (Linux, same machine)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in {"postgres", "postgresql"}:
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def echoes(tg: FakeTelegram, mark: int) -> dict[int, list[float]]:
    got: dict[int, list[float]] = {}
    for c in tg.calls[mark:]:
        if c.method == "sendMessage" and c.ok and c.message and c.message.text.startswith("echo"):
            got.setdefault(int(c.chat_id or 0), []).append(c.at)
    return got


async def wait_replies(tg: FakeTelegram, mark: int, n: int, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while sum(map(len, echoes(tg, mark).values())) < n:
        if time.monotonic() > deadline:
            raise AssertionError("replies did not all arrive")
        await asyncio.sleep(0.005)


async def alone(tg: FakeTelegram, user: int, messages: int = 40) -> list[float]:
    """One person, each message once the last is answered: the bot's added latency."""
    latencies = []
    for index in range(messages):
        mark = tg.mark()
        sent = time.monotonic()
        tg.send_text(user, f"alone {index}")
        await wait_replies(tg, mark, 1)
        latencies.append(echoes(tg, mark)[user][0] - sent)
    return latencies


async def measure(
    name: str, tg: FakeTelegram, pids: list[int], people: list[int], each: int
) -> str:
    for start in range(0, len(people), 50):
        await asyncio.gather(*(onboard(tg, u) for u in people[start : start + 50]))
    latency = [x * 1000 for x in await alone(tg, people[0])]
    bots, pg, fakes = sum(cpu_seconds(p) for p in pids), postgres_cpu(), cpu_seconds(os.getpid())
    mark, begin = tg.mark(), time.monotonic()
    for n in range(each):
        for user in people:
            tg.send_text(user, f"load {n}")
    await wait_replies(tg, mark, len(people) * each)
    wall = time.monotonic() - begin
    bots, pg = sum(cpu_seconds(p) for p in pids) - bots, postgres_cpu() - pg
    fakes = cpu_seconds(os.getpid()) - fakes
    replies = len(people) * each
    return (
        f"| {name} | {replies / wall:.0f} | {statistics.median(latency):.1f} "
        f"| {percentile(latency, 99):.1f} | {bots / wall:.2f} | {pg / wall:.2f} "
        f"| {fakes / wall:.2f} | {bots / replies * 1000:.1f} |"
    )


async def sqlite_run(folder: Path, people: list[int], each: int) -> str:
    async with FakeTelegram() as tg, FakeOpenAI() as llm:
        proc = await bot("run", folder, run_env(tg, llm, **FAST))
        try:
            await tg.wait_for_call("setMyCommands", timeout=60)
            return await measure("SQLite, 1 process (polling)", tg, [proc.pid], people, each)
        finally:
            proc.terminate()
            await proc.communicate()


async def postgres_run(folder: Path, workers: int, people: list[int], each: int) -> str:
    name = postgres.create_database()
    try:
        async with FakeTelegram() as tg, FakeOpenAI() as llm:
            tg.webhook_retry_seconds = 0.1
            group = Workers(folder, tg, llm, postgres.url_of(name))
            try:
                for _ in range(workers):
                    await group.start(**FAST)
                label = f"PostgreSQL, {workers} webhook worker{'s' if workers > 1 else ''}"
                pids = [p.pid for p in group.procs]
                return await measure(label, tg, pids, people, each)
            finally:
                await group.stop()
    finally:
        postgres.drop(name)


async def main(count: int, each: int) -> None:
    print(f"workers benchmark: {os.cpu_count()} CPUs, {count} people x {each} messages at once")
    print(
        "| set-up | replies/s | added latency median (ms) | p99 (ms) | bot CPU (cores) |"
        " PostgreSQL CPU (cores) | fakes' CPU (cores) | bot CPU per reply (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        people = list(range(60_000, 60_000 + count))
        (Path(folder) / "sqlite").mkdir()
        print(await sqlite_run(Path(folder) / "sqlite", people, each), flush=True)
        for n in (1, 2):
            (Path(folder) / f"pg{n}").mkdir()
            print(await postgres_run(Path(folder) / f"pg{n}", n, people, each), flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(args[0] if args else 100, args[1] if len(args) > 1 else 5))
