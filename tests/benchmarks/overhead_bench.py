"""What the bot itself adds to a reply: the bot as its own process (`python -m bot run`, as in
production) against the fake Telegram and an instant, unstreamed fake model in this process.

Run: `.venv/bin/python -m tests.benchmarks.overhead_bench [people] [--library aiogram]
[--profile FILE]` (the library: telegram.library, python-telegram-bot by default).

The time measured is from the moment a message is handed to the fake Bot API (a waiting
getUpdates returns it) until the reply's sendMessage reaches it, both read off one clock. The
model answers at once, so everything in between is the bot: polling, routing, storage with
sealing, the window, the HTTP call to the model, rendering and sending. Bursts are off (a window
of 1.5 s would add 1.5 s by design), requests to Telegram unpaced (the fake has no limit).

Three loads: one person alone (the floor), then the given number of people:
- steady: they chat at once, each writing every few seconds (the messages spread evenly over
  ROUND_SECONDS), as people in conversation do;
- at once: every one of them sends a message at the same instant, so the replies queue.
Also the bot's CPU time per reply, from /proc, and with --profile a cProfile of the bot process.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import ROOT, run_env

ROUND_SECONDS = 10.0  # steady load: every person writes once in this time
ROUNDS = 3


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_bot(
    folder: Path, tg: FakeTelegram, llm: FakeOpenAI, profile: str | None, library: str
) -> asyncio.subprocess.Process:
    env = run_env(
        tg,
        llm,
        AMIGO_TELEGRAM__LIBRARY=library,
        AMIGO_LLM__STREAM="false",
        AMIGO_COMPANION__BURST_WINDOW_SECONDS="0",
        AMIGO_LIMITS__MAX_CONCURRENT_LLM_CALLS="256",
        AMIGO_LIMITS__BURST="100",  # one person's 50 quick messages are not slowed down
        AMIGO_LIMITS__PER_MINUTE="1000",
        AMIGO_TELEGRAM__REQUESTS_PER_SECOND="0",
    )
    prefix = ["-m", "cProfile", "-o", profile] if profile else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *prefix,
        "-m",
        "bot",
        "run",
        cwd=folder,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await tg.wait_for_call("setMyCommands", timeout=60)
    return proc


async def replies(tg: FakeTelegram, sent: dict[int, float], mark: int) -> list[float]:
    """Seconds from each person's message to the reply to it, once all have arrived."""
    for _ in range(60_000):
        got = {
            c.chat_id: c.at
            for c in tg.calls[mark:]
            if c.method == "sendMessage"
            and c.ok
            and c.message
            and c.message.text.startswith("echo")
        }
        if len(got) >= len(sent):
            return [got[user] - at for user, at in sent.items()]
        await asyncio.sleep(0.001)
    raise AssertionError(f"only {len(got)} of {len(sent)} replies arrived")


async def steady(tg: FakeTelegram, people: list[int]) -> list[float]:
    gap = ROUND_SECONDS / len(people)
    latencies: list[float] = []
    for round_ in range(ROUNDS):
        mark, sent = tg.mark(), {}
        begin = time.monotonic()
        for index, user in enumerate(people):
            await asyncio.sleep(max(0.0, begin + index * gap - time.monotonic()))
            sent[user] = time.monotonic()
            tg.send_text(user, f"round {round_}")
        latencies += await replies(tg, sent, mark)
    return latencies


async def alone(tg: FakeTelegram, user: int, messages: int = 50) -> list[float]:
    """One person, each message sent once the previous one is answered: the floor."""
    latencies: list[float] = []
    for index in range(messages):
        mark = tg.mark()
        sent = {user: time.monotonic()}
        tg.send_text(user, f"alone {index}")
        latencies += await replies(tg, sent, mark)
    return latencies


async def at_once(tg: FakeTelegram, people: list[int]) -> list[float]:
    mark = tg.mark()
    sent = {}
    for user in people:
        sent[user] = time.monotonic()
        tg.send_text(user, "all at once")
    latencies = await replies(tg, sent, mark)
    print(f"(all at once: {len(people) / max(latencies):.0f} replies per second)")
    return latencies


def show(name: str, latencies: list[float]) -> None:
    ms = [x * 1000 for x in latencies]
    print(
        f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {percentile(ms, 99):.1f} "
        f"| {max(ms):.1f} |"
    )


async def main(people_count: int, profile: str | None, library: str) -> None:
    print(
        f"overhead benchmark: {library}, {os.cpu_count()} CPUs, {people_count} people, "
        "instant model"
    )
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as tg, FakeOpenAI() as llm:
            proc = await start_bot(Path(folder), tg, llm, profile, library)
            try:
                people = list(range(80_000, 80_000 + people_count))
                for start in range(0, people_count, 50):
                    await asyncio.gather(*(onboard(tg, u) for u in people[start : start + 50]))
                print("| load | replies | median (ms) | p99 (ms) | slowest (ms) |", flush=True)
                print("|---|---:|---:|---:|---:|")
                show("one person alone, one message at a time", await alone(tg, people[0]))
                cpu = cpu_seconds(proc.pid)
                show(
                    f"steady: each writes every {ROUND_SECONDS:.0f} s "
                    f"({people_count / ROUND_SECONDS:.0f} messages/s)",
                    await steady(tg, people),
                )
                per_reply = (cpu_seconds(proc.pid) - cpu) / (people_count * ROUNDS)
                show("at once: all in the same instant", await at_once(tg, people))
                print(f"\nbot CPU per reply (steady load): {per_reply * 1000:.1f} ms")
            finally:
                proc.send_signal(2)  # SIGINT: a clean stop, so a profile is written
                await asyncio.wait_for(proc.wait(), timeout=60)


if __name__ == "__main__":
    args = sys.argv[1:]
    profile_file = None
    if "--profile" in args:
        at = args.index("--profile")
        profile_file = str(Path(args[at + 1]).resolve())
        del args[at : at + 2]
    chosen = "python-telegram-bot"
    if "--library" in args:
        at = args.index("--library")
        chosen = args[at + 1]
        del args[at : at + 2]
    asyncio.run(main(int(args[0]) if args else 200, profile_file, chosen))
