"""Answering when several workers share one database (PostgreSQL behind a webhook).

Any worker may accept a person's message, but only the holder of the person's 'reply:<id>' lease
answers: it answers every accepted message of theirs, oldest first, whichever worker accepted it,
then gives the lease up and looks once more, so a message accepted while it was letting go is
never left behind (the worker that accepted it found the lease taken and went on). A worker that
dies holding the lease, or holding messages it accepted, is taken over by `sweep` once the lease
and the claims have run out (workers.lease_seconds). So each message is answered once, each
person's replies come in order, and one slow reply holds up nobody else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from handlers.chat import Accepted
from handlers.deps import WorkersConfig
from handlers.ports import Channel
from handlers.recovery import Recovery
from safety import Distress

log = logging.getLogger("amigo.lanes")

ANY_CLAIM = timedelta(days=36_500)
"""The lease holder answers a message whoever claimed it: claims older than this far future.
Also how far ahead a failed message's claim is parked (`_park_failed`)."""


class SharedLane:
    def __init__(self, recovery: Recovery, workers: WorkersConfig, people_at_once: int = 16):
        self.recovery = recovery
        self.deps = recovery.deps
        self.workers = workers
        self._slots = asyncio.Semaphore(people_at_once)

    async def answer(self, burst: Sequence[Accepted], channel: Channel, tg_id: int) -> None:
        """The router's replying lane: `burst` is accepted; answer it and whatever else of the
        person's is waiting, unless another worker is answering them (then it answers these)."""
        known = {item.message.id: item.distress for item in burst}
        await self.answer_person(
            burst[0].message.user_id, tg_id, channel, known=known, in_language=True
        )

    async def answer_person(
        self,
        user_id: int,
        tg_id: int,
        channel: Channel,
        *,
        retry: bool = False,
        known: Mapping[int, Distress | None] | None = None,
        in_language: bool = False,
    ) -> int:
        """Answer the person's accepted messages while holding their lease; the number handled.

        Live, only those past the person's reply cursor: one whose answer failed stays accepted
        and is covered by the next reply (its window holds it), as with one process. `retry`
        (the sweep) answers every accepted one, as a start's recovery does with one process."""
        repo, holder = self.deps.repo, self.workers.holder
        name, handled = f"reply:{user_id}", 0
        async with self.recovery.dispatcher.replying.hold(tg_id):  # this worker's own order
            while await self._take(name):
                after = 0 if retry else await repo.reply_cursor(user_id)
                try:
                    ids = await repo.unanswered_of(user_id, after=after)
                    while ids:
                        # Taken on before answering: a worker that dies now leaves them to the
                        # sweep, which reads from the start.
                        after = ids[-1]
                        await repo.set_reply_cursor(user_id, after)
                        # One reply each, or one to a burst's newest (burst_window_seconds).
                        await self.recovery.answer_messages(
                            channel, ids, self._any_claim(), known, in_language=in_language
                        )
                        handled += len(ids)
                        left = await repo.unanswered_of(user_id, after=ids[0] - 1)
                        await self._park_failed([m for m in left if m <= after])
                        ids = [m for m in left if m > after]  # accepted meanwhile
                        await self._take(name)  # renewed between replies
                finally:
                    await repo.release_lease(name, holder)
                if not await repo.unanswered_of(user_id, after=after):
                    break  # else one came while letting go, and its worker saw the lease taken
        return handled

    async def _park_failed(self, failed: list[int]) -> None:
        """Messages still unanswered after their answer: it failed (the person was told). Their
        claims are held far ahead, so no sweep retries them while the model is down (an apology
        each time); the person's next reply covers them, as with one process."""
        for message_id in failed:
            await self.deps.repo.claim_unanswered(
                message_id, expired_by=self._any_claim(), until=self._any_claim()
            )

    async def sweep(self) -> int:
        """Answer the messages whose worker died (their claims ran out), person by person, under
        the same leases; run at start and every workers.sweep_seconds. The number handled."""
        now = self.deps.clock.now()
        people: dict[int, None] = {}
        for _message_id, user_id in await self.deps.repo.unanswered(now, 10_000):
            people.setdefault(user_id)
        if not people or self.recovery.channels is None:
            return 0
        counts = await asyncio.gather(*(self._sweep_person(uid) for uid in people))
        if total := sum(counts):
            log.info("lanes.swept", extra={"people": len(people), "messages": total})
        return total

    async def _sweep_person(self, user_id: int) -> int:
        async with self._slots:
            chat = await self.deps.repo.chat_of(user_id)
            if chat is None or self.recovery.channels is None:
                return 0
            try:
                return await self.answer_person(
                    user_id, chat, self.recovery.channels(chat), retry=True
                )
            except Exception as exc:  # the next sweep tries again; ids and types only
                log.error("lanes.sweep_failed", extra={"uid": user_id, "error": type(exc).__name__})
                return 0

    async def _take(self, name: str) -> bool:
        until = self.deps.clock.now() + timedelta(seconds=self.workers.lease_seconds)
        return await self.deps.repo.take_lease(name, self.workers.holder, until)

    def _any_claim(self) -> datetime:
        return self.deps.clock.now() + ANY_CLAIM
