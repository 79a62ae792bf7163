"""How long N users wait for replies when every LLM answer takes one second.

The real bot (python-telegram-bot, the openai client, SQLite) against the fake Telegram and
OpenAI servers on loopback. Run: `.venv/bin/python -m tests.benchmarks.chat_bench`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import Bot, settings_for
from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram

LLM_SECONDS = 1.0


async def measure(users: int, pace: str) -> tuple[float, float, float]:
    """(wall seconds until every user has a reply, median and slowest reply latency), with the bot's
    requests to Telegram paced at `pace` a second (production: 30; "0": unpaced)."""
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as tg, FakeOpenAI() as llm:
            settings = settings_for(
                Path(folder),
                tg,
                llm,
                AMIGO_LIMITS__MAX_CONCURRENT_LLM_CALLS="64",
                AMIGO_TELEGRAM__REQUESTS_PER_SECOND=pace,
            )
            async with Bot(settings, tg).running():
                ids = list(range(50_000, 50_000 + users))
                await asyncio.gather(*(onboard(tg, u) for u in ids))
                llm.default_delay = LLM_SECONDS
                mark, started = tg.mark(), time.monotonic()
                latencies: list[float] = []

                async def one(user: int) -> None:
                    tg.send_text(user, "hello")
                    await tg.wait_for_message(
                        user, lambda m: m.text.startswith("echo"), after=mark, timeout=120
                    )
                    latencies.append(time.monotonic() - started)

                await asyncio.gather(*(one(u) for u in ids))
                wall = time.monotonic() - started
    return wall, statistics.median(latencies), max(latencies)


async def main(sizes: list[int]) -> None:
    print(f"chat benchmark: {os.cpu_count()} CPUs, LLM answer takes {LLM_SECONDS:.1f} s")
    print("| users | requests/s to Telegram | all answered (s) | median reply (s) | slowest (s) |")
    print("|---:|---:|---:|---:|---:|")
    for users in sizes:
        for pace in ("30", "0"):
            wall, median, slowest = await measure(users, pace)
            shown = "unpaced" if pace == "0" else pace
            print(f"| {users} | {shown} | {wall:.2f} | {median:.2f} | {slowest:.2f} |")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [1, 10, 50]))
