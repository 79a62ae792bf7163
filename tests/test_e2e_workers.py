"""Two bot processes on one PostgreSQL behind webhook delivery behave like one bot.

The fake Bot API stands for Telegram and a load balancer in front of the two workers: it posts
each chat's updates in order (the next once the last was answered 200), chats concurrently, and
a delivery refused by one worker is retried at the other. One worker is SIGKILLed while 30
people have 5 messages each on the way: every message is answered once (a reply the kill caught
between Telegram and the database is sent again, as stored, never lost), each person's
replies in order, none to the wrong person. The scheduled retention job fires in both workers'
schedulers and runs once. A person flooding both workers at once is limited as if there were
one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import postgres
from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.workers_helpers import Workers

pytestmark = pytest.mark.postgres_always  # PostgreSQL in every run

PEOPLE = 30
EACH = 5
FIRST = 7100


@pytest.fixture
async def workers(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, pg_database: str
) -> AsyncIterator[Workers]:
    tg.webhook_retry_seconds = 0.1
    group = Workers(tmp_path, tg, llm, pg_database)
    try:
        yield group
    finally:
        await group.stop()


def replies(tg: FakeTelegram, chat_id: int, mark: int) -> list[str]:
    return [
        c.message.text
        for c in tg.calls[mark:]
        if c.method == "sendMessage" and c.ok and c.message and c.message.chat_id == chat_id
    ]


async def test_two_workers_answer_every_message_once_in_order_though_one_is_killed(
    workers: Workers, tg: FakeTelegram, llm: FakeOpenAI, pg_database: str
) -> None:
    await workers.start()
    victim = await workers.start()
    people = range(FIRST, FIRST + PEOPLE)
    await asyncio.gather(*(onboard(tg, who) for who in people))
    llm.default_delay = 0.2  # replies take a while: many are in flight when the kill comes
    mark = tg.mark()
    for n in range(EACH):
        for who in people:
            tg.send_text(who, f"{who} says {n}")

    def answered() -> int:
        return sum(len(replies(tg, who, mark)) for who in people)

    for _ in range(400):
        if answered() >= PEOPLE * EACH // 3:
            break
        await asyncio.sleep(0.05)
    victim.kill()  # SIGKILL: its leases and claims stay in the database until they run out
    await victim.wait()
    for _ in range(1200):
        if answered() >= PEOPLE * EACH:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # time for a duplicate to show, if there were one
    resent = 0
    for who in people:
        got = replies(tg, who, mark)
        once = [text for i, text in enumerate(got) if i == 0 or text != got[i - 1]]
        assert once == [f"echo: {who} says {n}" for n in range(EACH)], who  # all, in order
        resent += len(got) - len(once)
    # Exactly once, but for one unavoidable case: a kill in the milliseconds after Telegram took
    # a reply and before the database recorded it sent. Recovery then sends the stored reply
    # again, as stored (never a second model answer); a reply is never lost. A busy machine
    # widens those milliseconds; the victim has at most a few replies in that window at once.
    assert resent <= 2, resent
    left = postgres.rows(pg_database, "SELECT count(*) FROM messages WHERE status = 'accepted'")
    assert left[0][0] == 0
    runs = postgres.rows(pg_database, "SELECT count(*) FROM job_runs WHERE job = 'retention'")
    assert runs[0][0] == 1  # fired by both schedulers at start, run by one


async def test_a_person_flooding_both_workers_is_limited_as_by_one(
    workers: Workers, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """Burst 4, one a minute: /start took one token, so 3 of 10 quick messages get through,
    and "slow down" is said once, though the messages alternate between the two workers."""
    limits = {"AMIGO_LIMITS__BURST": "4", "AMIGO_LIMITS__PER_MINUTE": "1"}
    await workers.start(**limits)
    await workers.start(**limits)
    who = FIRST + 500
    await onboard(tg, who)
    mark = tg.mark()
    for n in range(10):
        tg.send_text(who, f"flood {n}")
    for _ in range(200):
        if len(replies(tg, who, mark)) >= 4:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # the rest are refused in silence
    got = replies(tg, who, mark)
    assert sorted(t for t in got if t.startswith("echo:")) == [f"echo: flood {n}" for n in range(3)]
    assert sum("faster than I can read" in t for t in got) == 1
    assert {d.url for d in tg.webhook_deliveries if d.status == 200} == set(workers.targets)
