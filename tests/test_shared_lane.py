"""Several workers on one database (handlers/shared_lane.py), simulated in one process: two
dispatchers, each with its own lane and lease holder, over one repository. The real thing, two
bot processes on PostgreSQL behind a webhook, is tests/test_e2e_workers.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from core.clock import FrozenClock
from handlers.deps import Deps, WorkersConfig
from handlers.events import Sender, Text
from handlers.ports import ModelUnavailable, Turn
from handlers.recovery import Recovery, RecoveryConfig
from handlers.router import Dispatcher
from handlers.shared_lane import SharedLane
from jobs.scheduler import JobScheduler
from storage.base import Repository
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import onboard
from tests.test_recovery import Channels

LEASE = 30.0


class SlowModel(FakeModel):
    """Echoes after `delay` seconds (`odd_delay` for a text ending in an odd digit), so replies
    overlap, and a later one would overtake an earlier one if nothing kept them in order."""

    def __init__(self, delay: float, odd_delay: float | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.odd_delay = delay if odd_delay is None else odd_delay

    async def stream(
        self, messages: Sequence[Turn], *, max_tokens: int
    ) -> AsyncGenerator[str, None]:
        text = str(messages[-1]["content"])
        odd = text[-1:].isdigit() and int(text[-1]) % 2 == 1
        await asyncio.sleep(self.odd_delay if odd else self.delay)
        async for piece in super().stream(messages, max_tokens=max_tokens):
            yield piece


def worker(dispatcher: Dispatcher, name: str, channels: Channels, model: FakeModel) -> Dispatcher:
    """A second dispatcher over the same repository, as another worker process would have."""
    deps: Deps = dispatcher.deps
    config = replace(deps.config, workers=WorkersConfig(name, LEASE))
    other = Dispatcher(replace(deps, config=config, channels=channels, model=model))
    lane = SharedLane(Recovery(other, RecoveryConfig()), WorkersConfig(name, LEASE))
    other.reply_lane = lane.answer
    return other


def echoes(ch: RecordingChannel) -> list[str]:
    return [text for text in ch.texts if text.startswith("echo:")]


async def test_two_workers_answer_one_persons_messages_once_and_in_order(
    dispatcher: Dispatcher, repo: Repository
) -> None:
    channels = Channels()
    model = SlowModel(0.1, odd_delay=0.01)
    a, b = (worker(dispatcher, name, channels, model) for name in ("a", "b"))
    people = [Sender(2000 + i, 2000 + i) for i in range(6)]
    for who in people:
        await onboard(dispatcher, channels(who.chat_id), who)
        channels(who.chat_id).replies.clear()

    async def person(who: Sender) -> None:
        # Each text goes to the other worker, the next once the last one was accepted: as
        # Telegram delivers one chat's updates in order, behind a load balancer.
        for n in range(6):
            routed = asyncio.Event()
            target = (a, b)[n % 2]
            task = asyncio.create_task(
                target.handle(
                    Text(who, f"{who.tg_id} says {n}"), channels(who.chat_id), routed=routed
                )
            )
            await routed.wait()
            tasks.append(task)

    tasks: list[asyncio.Task[None]] = []
    await asyncio.gather(*(person(who) for who in people))
    await asyncio.gather(*tasks)
    for who in people:
        expected = [f"echo: {who.tg_id} says {n}" for n in range(6)]
        assert echoes(channels(who.chat_id)) == expected  # each once, in order, to its person
    assert await repo.unanswered(repo_now(dispatcher) + timedelta(days=1)) == []


def repo_now(dispatcher: Dispatcher) -> datetime:
    clock = dispatcher.deps.clock
    assert isinstance(clock, FrozenClock)
    return clock.now()


async def test_a_dead_workers_message_is_answered_by_the_sweep_once_its_lease_is_over(
    dispatcher: Dispatcher, repo: Repository, clock: FrozenClock
) -> None:
    channels = Channels()
    who = Sender(3001, 3001)
    await onboard(dispatcher, channels(who.chat_id), who)
    channels(who.chat_id).replies.clear()
    hung = SlowModel(3600)  # worker a takes the message and the lease, then never answers
    a = worker(dispatcher, "a", channels, hung)
    b = worker(dispatcher, "b", channels, FakeModel())
    routed = asyncio.Event()
    dying = asyncio.create_task(a.handle(Text(who, "are you there"), channels(3001), routed=routed))
    await routed.wait()
    await asyncio.sleep(0.05)
    assert b.reply_lane is not None
    lane_b = SharedLane(Recovery(b, RecoveryConfig()), WorkersConfig("b", LEASE))
    assert await lane_b.sweep() == 0  # a's lease and claim still run
    dying.cancel()  # a dies (SIGKILL leaves the lease and the claim in the database)
    await asyncio.gather(dying, return_exceptions=True)
    clock.advance(seconds=LEASE + 1)
    assert await lane_b.sweep() == 1
    assert echoes(channels(3001)) == ["echo: are you there"]
    assert await lane_b.sweep() == 0  # answered once


async def test_a_job_fired_by_two_workers_schedulers_runs_once(
    repo: Repository, clock: FrozenClock
) -> None:
    runs: list[str] = []

    def scheduler(name: str) -> JobScheduler:
        async def lease(job: str, span: timedelta) -> bool:
            return await repo.take_lease(f"job:{job}", name, clock.now() + span)

        return JobScheduler(lease)

    async def job() -> None:
        runs.append("ran")

    for name in ("a", "b"):
        run = scheduler(name)._guarded("retention", job, timedelta(minutes=60))
        await run()
    assert runs == ["ran"]
    clock.advance(minutes=31)  # the next firing, half an interval on: one of them runs it
    await scheduler("b")._guarded("retention", job, timedelta(minutes=60))()
    assert runs == ["ran", "ran"]


async def test_a_failed_answer_is_covered_by_the_next_reply_not_retried_by_every_sweep(
    dispatcher: Dispatcher, repo: Repository, clock: FrozenClock
) -> None:
    """While the model is down the person is told once, not again at every sweep; their next
    message's reply covers the failed one (it is in that window), as with one process."""
    channels = Channels()
    who = Sender(3002, 3002)
    await onboard(dispatcher, channels(who.chat_id), who)
    channels(who.chat_id).replies.clear()
    model = FakeModel()
    a = worker(dispatcher, "a", channels, model)
    model.enqueue(ModelUnavailable("down"))
    await a.handle(Text(who, "are you there"), channels(3002))
    told = channels(3002).texts
    assert len(told) == 1 and "couldn't think of a reply" in told[0]
    lane = SharedLane(Recovery(a, RecoveryConfig()), WorkersConfig("b", LEASE))
    clock.advance(seconds=LEASE + 1)
    assert await lane.sweep() == 0 and len(channels(3002).texts) == 1  # not told again
    await a.handle(Text(who, "hello again"), channels(3002))
    assert channels(3002).texts[-1] == "echo: hello again"
    window = [turn["content"] for turn in model.history[-1]]
    assert window[-2:] == ["are you there", "hello again"]
    assert await repo.unanswered(clock.now() + timedelta(days=365 * 200)) == []
