"""Operator broadcasts (/broadcast, /breach): paced under Telegram's limits, in the background,
and at most once per user: a delivery row is written BEFORE each send, so a restart resumes with
the users not yet claimed. A crash between writing the row and the send loses that one delivery;
nobody ever gets the same broadcast twice (P9.6, P12.4).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Coroutine, Mapping, Sequence
from functools import partial
from typing import Any

from handlers.deps import Deps
from handlers.events import Reply
from handlers.ports import Channel
from handlers.staff import OWNER, BadArguments, Say, Tell
from handlers.texts import t
from storage.models import Broadcast, BroadcastKind

log = logging.getLogger("amigo.broadcasts")

# Telegram allows about 30 messages a second to different chats; broadcasts keep under 25, leaving
# room for the bot's ordinary replies. Every broadcast shares this one pace. Tests shrink it.
BROADCAST_PAUSE_SECONDS = 1 / 25
BROADCAST_REPORT_EVERY = 500  # a progress message to the operator every this many sends
BROADCAST_BATCH = 100  # recipients asked for at a time, so consent is re-read as it goes
BROADCAST_TEXTS: dict[BroadcastKind, str] = {
    "service": "admin.broadcast.service",
    "marketing": "admin.broadcast.marketing",
    "breach": "breach.broadcast",  # the body is the whole notice (handlers/breach.py)
    "policy": "admin.broadcast.service",
}


class Broadcasts:
    def __init__(self, deps: Deps, staff: Mapping[int, str], tell: Tell) -> None:
        """`staff` says who the owners are (resumed broadcasts report to them); `tell` is how one
        notice reaches one user."""
        self.deps = deps
        self.staff = staff
        self.tell = tell
        self._tasks: set[asyncio.Task[None]] = set()  # broadcasts started by a command
        self._running: set[int] = set()  # ids of broadcasts being sent right now
        self._pace = asyncio.Lock()  # one send at a time across every broadcast

    async def start(
        self,
        kind: BroadcastKind,
        text: str,
        channel: Channel,
        targets: Sequence[int] = (),
        *,
        breach: int | None = None,
    ) -> str:
        """Record the broadcast, answer at once, and send it from a background task, so the
        operator's per-user lock is not held for the minutes a large broadcast takes. A breach
        notice names its breach record, so the record lists every sending and its counts."""
        text = text.strip()
        if not text:
            raise BadArguments(t("admin.need_text"))
        if self.deps.channels is None:
            raise BadArguments(t("admin.no_transport"))
        repo = self.deps.repo
        if breach is None:
            broadcast_id = await repo.create_broadcast(kind, text, targets)
        else:
            broadcast_id = await repo.create_breach_notice(breach, text, targets)
        n = await repo.count_broadcast_recipients(broadcast_id, kind)
        seconds = math.ceil(n * BROADCAST_PAUSE_SECONDS)
        await channel.send(
            Reply(t("admin.broadcast_started", id=broadcast_id, kind=kind, n=n, seconds=seconds))
        )
        broadcast = Broadcast(broadcast_id, kind, text, self.deps.clock.now())
        self._spawn(self._deliver(broadcast, (channel,)))
        return f"broadcast={broadcast_id} kind={kind} recipients={n} chars={len(text)}"

    async def resume(self) -> None:
        """Finish every broadcast a stop or crash interrupted (no finished_at), oldest first.
        Run as a background task at start-up, once `channels` is set; reports go to the owners."""
        repo = self.deps.repo
        try:
            unfinished = await repo.unfinished_broadcasts()
        except Exception as exc:
            log.error("broadcast.resume_failed", extra={"error": type(exc).__name__})
            return
        for b in unfinished:
            if b.id in self._running:
                continue
            owners = self._owner_channels()
            n = await repo.count_broadcast_recipients(b.id, b.kind)
            await repo.audit("system", "broadcast resumed", f"broadcast={b.id} remaining={n}")
            await self._report(owners, t("admin.broadcast_resumed", id=b.id, kind=b.kind, n=n))
            await self._deliver(b, owners)

    async def stop(self) -> None:
        """Cancel command-started sends before storage closes; they resume at the next start."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(self, b: Broadcast, report: Sequence[Channel]) -> None:
        """Send `b` to everyone due it and not yet claimed, one paced send at a time. Each
        delivery is claimed (written) before its send: at-most-once across restarts."""
        if b.id in self._running:
            return
        self._running.add(b.id)
        repo, text = self.deps.repo, partial(self._notice, b)
        sent = failed = 0
        try:
            while batch := await repo.broadcast_recipients(b.id, b.kind, BROADCAST_BATCH):
                for user_id in batch:
                    async with self._pace:
                        if not await repo.claim_delivery(b.id, user_id):
                            continue  # another runner took this one
                        if await self._send_one(user_id, text):
                            sent += 1
                        else:
                            failed += 1
                        await asyncio.sleep(BROADCAST_PAUSE_SECONDS)
                    if (sent + failed) % BROADCAST_REPORT_EVERY == 0:
                        progress = t("admin.broadcast_progress", id=b.id, kind=b.kind, sent=sent)
                        await self._report(report, progress)
            await repo.finish_broadcast(b.id)
            total = await repo.broadcast_deliveries(b.id)
            detail = f"broadcast={b.id} kind={b.kind} total={total} sent={sent} failed={failed}"
            await repo.audit("system", "broadcast finished", detail)
            log.info("broadcast.finished", extra={"broadcast": b.id, "sent": sent})
            done = t(
                "admin.broadcast_done", id=b.id, kind=b.kind, total=total, sent=sent, failed=failed
            )
            await self._report(report, done)
        except Exception as exc:  # left unfinished: it resumes at the next start
            log.error("broadcast.stopped", extra={"broadcast": b.id, "error": type(exc).__name__})
            error = type(exc).__name__
            await self._report(
                report, t("admin.broadcast_stopped", id=b.id, kind=b.kind, error=error)
            )
        finally:
            self._running.discard(b.id)

    async def _send_one(self, user_id: int, text: Say) -> bool:
        try:
            return await self.tell(user_id, text)
        except Exception as exc:  # one unreachable user never stops a broadcast
            log.warning(
                "broadcast.undelivered", extra={"uid": user_id, "error": type(exc).__name__}
            )
            return False

    def _notice(self, b: Broadcast) -> str:
        """The words one recipient gets, in their language (`tell` sets it)."""
        if b.kind == "breach" and b.body.startswith(
            "{"
        ):  # the notice's fields (handlers/breach.py)
            return t("breach.notice", **json.loads(b.body))
        return t(BROADCAST_TEXTS[b.kind], text=b.body, contact=self.deps.config.privacy_contact)

    def _owner_channels(self) -> list[Channel]:
        """Where reports of a resumed broadcast go: each owner's private chat (id = user id)."""
        channels = self.deps.channels
        if channels is None:
            return []
        return [channels(tg_id) for tg_id, role in self.staff.items() if role == OWNER]

    @staticmethod
    async def _report(report: Sequence[Channel], text: str) -> None:
        for channel in report:
            try:
                await channel.send(Reply(text))
            except Exception as exc:  # a report is a courtesy; the broadcast goes on
                log.warning("broadcast.report_failed", extra={"error": type(exc).__name__})

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
