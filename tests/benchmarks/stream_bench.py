"""Streamed replies: how soon a person sees text, how many Bot API calls a reply costs, and what
the bot itself adds to a reply.

The real bot (python-telegram-bot, the openai client, SQLite) against the fake Telegram and OpenAI
servers on loopback. Run: `.venv/bin/python -m tests.benchmarks.stream_bench`.

1. A streaming model whose first token comes after 0.5 s and whose answer takes about 8 s: the
   time from the person's message to the first visible text (a draft, or the first message where
   drafts are refused), at 1, 10 and 50 people at once, and the Bot API calls per reply.
What the bot adds to a reply, with an instant model, is tests/benchmarks/overhead_bench.py.
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

FIRST_TOKEN = 0.5
CHUNKS = 40
CHUNK_GAP = 7.5 / CHUNKS  # about 8 s in all
REPLY = "word " * 300  # 1,500 characters
REPLY_METHODS = ("sendChatAction", "sendMessageDraft", "sendMessage", "editMessageText")


async def streamed(people: int, drafts: bool) -> tuple[float, float, float]:
    """(median and slowest seconds to first visible text, Bot API calls per reply)."""
    with tempfile.TemporaryDirectory() as folder:
        async with (
            FakeTelegram(drafts_supported=drafts) as tg,
            FakeOpenAI(
                stream_chunks=CHUNKS,
                stream_chunk_delay=CHUNK_GAP,
                stream_first_token_delay=FIRST_TOKEN,
            ) as llm,
        ):
            settings = settings_for(
                Path(folder), tg, llm, AMIGO_LIMITS__MAX_CONCURRENT_LLM_CALLS="64"
            )
            async with Bot(settings, tg).running():
                ids = list(range(60_000, 60_000 + people))
                await asyncio.gather(*(onboard(tg, u) for u in ids))
                llm.default_reply = lambda body: REPLY
                mark, firsts = tg.mark(), []

                async def one(user: int) -> None:
                    started = time.monotonic()
                    tg.send_text(user, "tell me something long")
                    await tg.wait_for_message(  # the whole answer: sent, or the last edit
                        user, lambda m: len(m.text) >= len(REPLY.strip()), after=mark, timeout=120
                    )
                    seen = [d.at for d in tg.drafts_to(user) if d.at >= started]
                    seen += [
                        c.at
                        for c in tg.calls[mark:]
                        if c.chat_id == user and c.method == "sendMessage" and c.ok
                    ]
                    firsts.append(min(seen) - started)

                await asyncio.gather(*(one(u) for u in ids))
                calls = [c for c in tg.calls[mark:] if c.method in REPLY_METHODS]
    return statistics.median(firsts), max(firsts), len(calls) / people


async def main(sizes: list[int]) -> None:
    print(f"stream benchmark: {os.cpu_count()} CPUs; first token {FIRST_TOKEN} s, ~8 s answers")
    print("| people | drafts | first text, median (s) | first text, slowest (s) | calls/reply |")
    print("|---:|---|---:|---:|---:|")
    for people in sizes:
        for drafts in (True, False):
            median, slowest, calls = await streamed(people, drafts)
            shown = "yes" if drafts else "refused: edits"
            print(f"| {people} | {shown} | {median:.2f} | {slowest:.2f} | {calls:.1f} |")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [1, 10, 50]))
