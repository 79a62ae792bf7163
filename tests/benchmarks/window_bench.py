"""How long building the window takes for a person with 100 vs 1,000,000 stored messages and 10 vs
10,000 memories, and how many extraction calls a user message costs.

The real SqliteRepository and the real `Chat.answer`; the model is a stand-in that notes when it is
called, so the time measured is everything before the request: profile, companion, the newest
messages, memories (ranked from handlers/memory_index.py's cache, checked against storage),
summaries, and the window. Rows are inserted in bulk with executemany, their bodies sealed by the
repository's own sealing (a pool of sealed texts, reused).
Run: `.venv/bin/python -m tests.benchmarks.window_bench [runs]`.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.app import handler_config
from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers.chat import Chat
from handlers.deps import Deps, MemoryConfig
from handlers.events import Sender, Text
from handlers.memory import MemoryKeeper
from handlers.ports import Turn
from handlers.router import Dispatcher
from storage.base import Unanswered
from storage.crypto import Vault
from storage.sqlite import SqliteRepository
from storage.sqlite_base import ts
from tests.conftest import make_settings
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import onboard

BATCH = 50_000
POOL = 500


class TimingModel(FakeModel):
    """Notes when the chat request is made (extraction calls, with json_object, are not)."""

    called_at = 0.0
    extraction_calls = 0

    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        if json_object:
            self.extraction_calls += 1
            return '{"facts": []}'
        self.called_at = time.perf_counter()
        return "ok"


class NoExtraction(MemoryKeeper):
    def after_reply(self, user_id: int) -> None:
        """Timing only the window: no background work beside it."""


async def fill(repo: SqliteRepository, messages: int, memories: int) -> tuple[int, int]:
    clock = repo._clock  # the benchmark sets its rows at its clock
    account = await repo.create_account(1, 1, policy_version="bench", age_confirmed_at=clock.now())
    for i in range(3):  # earlier conversations, summarised
        older = await repo.start_conversation(account.id)
        await repo.set_summary(account.id, older, f"Talked about plans for weekend {i}.")
    conversation = await repo.start_conversation(account.id)
    texts = [f"message {i} about work, family, films and the weather" for i in range(POOL)]
    sealed = [await repo._seal(account.id, "messages.body", t) for t in texts]
    now = ts(clock.now())
    for first in range(0, messages, BATCH):
        rows = (
            (conversation, account.id, "user" if i % 2 else "assistant", sealed[i % POOL], now)
            for i in range(first, min(first + BATCH, messages))
        )
        async with repo.transaction() as db:
            await db.executemany(
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at,"
                " status) VALUES (?, ?, ?, ?, ?, 'answered')",
                rows,
            )
    facts = [f"Fact {i}: likes film {i}, has a friend called Name{i % 97}" for i in range(POOL)]
    sealed = [await repo._seal(account.id, "memories.body", f) for f in facts]
    async with repo.transaction() as db:
        await db.executemany(
            "INSERT INTO memories (user_id, conversation_id, manual, body_enc, created_at,"
            " updated_at, uses) VALUES (?, NULL, 0, ?, ?, ?, ?)",
            ((account.id, sealed[i % POOL], now, now, i % 7) for i in range(memories)),
        )
    await repo.checkpoint()
    return account.id, conversation


async def measure(messages: int, memories: int, runs: int) -> tuple[float, float, float]:
    """(seconds to fill, median and p90 milliseconds to build the window)."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FrozenClock()
        repo = SqliteRepository(Path(folder) / "amigo.db", Vault(os.urandom(32)), clock=clock)
        await repo.open()
        try:
            started = time.perf_counter()
            user, conversation = await fill(repo, messages, memories)
            filled = time.perf_counter() - started
            settings = make_settings(Path(folder), AMIGO_MEMORY__ENABLED="true")
            config = replace(handler_config(settings), stream=False)  # one request, timed
            model = TimingModel()
            deps = Deps(repo, model, EstimateCounter(), clock, config, sign=lambda s: b"")
            chat = Chat(deps, NoExtraction(deps))
            times = []
            for i in range(runs + 3):  # the first three warm the caches, as a running bot has them
                text = f"what was that film about the weather {i}?"
                message_id = await repo.accept_message(
                    user, conversation, text, claimed_until=clock.now() + timedelta(minutes=5)
                )
                message = Unanswered(message_id, user, conversation, text, clock.now())
                begun = time.perf_counter()
                await chat.answer(message, RecordingChannel(), None)
                if i >= 3:
                    times.append((model.called_at - begun) * 1000)
        finally:
            await repo.close()
    times.sort()
    return filled, statistics.median(times), times[int(len(times) * 0.9)]


async def extraction_calls(user_messages: int, every: int) -> int:
    """Extraction calls the model gets for `user_messages` chat messages, as configured."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FrozenClock()
        repo = SqliteRepository(Path(folder) / "amigo.db", Vault(os.urandom(32)), clock=clock)
        await repo.open()
        try:
            config = handler_config(make_settings(Path(folder), AMIGO_MEMORY__ENABLED="true"))
            config = replace(config, memory=replace(MemoryConfig(), extract_every_messages=every))
            model = TimingModel()
            deps = Deps(repo, model, EstimateCounter(), clock, config, sign=lambda s: b"k" * 32)
            dispatcher = Dispatcher(deps)
            channel = RecordingChannel()
            await onboard(dispatcher, channel)
            for i in range(user_messages):
                await dispatcher.handle(Text(Sender(1001, 1001), f"hello {i}"), channel)
                await dispatcher.memory.drain()
            await dispatcher.memory.close()
        finally:
            await repo.close()
    return model.extraction_calls


async def main(runs: int) -> None:
    print(
        f"window benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {runs} windows each (median, p90)"
    )
    print("| stored messages | memories | fill (s) | window median (ms) | window p90 (ms) |")
    print("|---:|---:|---:|---:|---:|")
    # 200 messages and 1,000 memories: the window full (storage.window_max_messages, the memory
    # budget), to tell what the stored amount costs from what a fuller window costs.
    cases = (
        (100, 10),
        (200, 10),
        (1_000_000, 10),
        (100, 1_000),
        (100, 10_000),
        (1_000_000, 10_000),
    )
    for messages, memories in cases:
        filled, median, p90 = await measure(messages, memories, runs)
        print(f"| {messages:,} | {memories:,} | {filled:.1f} | {median:.2f} | {p90:.2f} |")
    every = MemoryConfig().extract_every_messages
    calls = await extraction_calls(100, every)
    print(
        f"\nextraction: {calls} calls for 100 user messages "
        f"(memory.extract_every_messages = {every}): {calls / 100:.2f} per message"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
