"""Webhooks: setWebhook / deleteWebhook / getWebhookInfo, and delivery the way Telegram does it.

While a webhook is set, getUpdates answers 409 and each queued update is POSTed to the webhook
with the ``X-Telegram-Bot-Api-Secret-Token`` header. A chat's updates go one at a time, in order:
the next only after the previous was answered 2xx; different chats go concurrently, up to
``max_connections``. A non-2xx answer, or a refused or dropped connection, is retried after
``webhook_retry_seconds``. ``webhook_targets`` stands for a load balancer in front of several
workers: when set, deliveries go there instead of the registered URL, round-robin per attempt, so
the retry of an update a worker refused goes to the next one.

Deliberate differences from Telegram: any http(s) URL on loopback is accepted (Telegram wants
HTTPS on ports 443, 80, 88 or 8443), and nothing is ever posted beyond loopback (such a target
counts as a refused connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .params import _DEFAULT_ALLOWED
from .records import ApiError, Call, WebhookDelivery, _Pending
from .state import FakeTelegramState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _chat_key(update: dict[str, Any]) -> tuple[str, int]:
    """The chat an update belongs to (its updates are delivered in order), else its own id."""
    for body in update.values():
        if not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return ("chat", int(chat["id"]))
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return ("user", int(sender["id"]))
    return ("update", int(update["update_id"]))


class WebhookMixin(FakeTelegramState):
    """The webhook methods and the delivery loop."""

    # ---------------------------------------------------------------- Bot API methods

    def _set_webhook(self, call: Call) -> Any:
        url = str(call.params.get("url") or "")
        secret = call.params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = call.params.get("max_connections", 40)
        if not isinstance(connections, int) or not 1 <= connections <= 100:
            raise ApiError(400, "Bad Request: invalid max_connections")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        if call.params.get("drop_pending_updates") is True:
            self._pending.clear()
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed]
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self.webhook_max_connections = connections
        self._restart_delivery()
        return True

    def _delete_webhook(self, call: Call) -> Any:
        if call.params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self._restart_delivery()
        return True

    def _get_webhook_info(self, call: Call) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.allowed_updates is not None:
                info["allowed_updates"] = list(self.allowed_updates)
            if self.webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        return info

    # ---------------------------------------------------------------- delivery

    def _restart_delivery(self) -> None:
        """(Re)start the delivery loop for the current webhook, or stop it when there is none."""
        old, self._webhook_task = self._webhook_task, None
        if old is not None:
            old.cancel()
        if self.webhook_url and self._runner is not None:
            self._webhook_task = asyncio.create_task(self._deliver_forever(old))
        self._update_signal.notify()

    async def _stop_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_forever(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:  # one loop at a time: the old one's deliveries end first
            with contextlib.suppress(asyncio.CancelledError):
                await previous
        busy: set[tuple[str, int]] = set()  # chats with an update in flight
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as session:
            try:
                while True:
                    event = self._update_signal.current()
                    allowed = set(self.allowed_updates or _DEFAULT_ALLOWED)
                    blocked = set(busy)
                    for pending in list(self._pending):
                        update = pending.update
                        if next((k for k in update if k != "update_id"), "") not in allowed:
                            self._forget(pending)
                            self.dropped_updates.append(update)
                            continue
                        key = _chat_key(update)
                        if key in blocked:
                            continue  # in order: after the chat's update in flight
                        blocked.add(key)
                        if len(tasks) >= self.webhook_max_connections:
                            continue
                        busy.add(key)
                        task = asyncio.create_task(self._deliver(session, update))
                        tasks.add(task)
                        task.add_done_callback(partial(self._delivered, key, pending, busy, tasks))
                    await event.wait()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, pending: _Pending) -> None:
        for index, queued in enumerate(self._pending):
            if queued is pending:
                del self._pending[index]
                return

    def _delivered(
        self,
        key: tuple[str, int],
        pending: _Pending,
        busy: set[tuple[str, int]],
        tasks: set[asyncio.Task[None]],
        task: asyncio.Task[None],
    ) -> None:
        tasks.discard(task)
        busy.discard(key)
        if not task.cancelled() and task.exception() is None:
            self._forget(pending)  # answered 2xx: Telegram forgets it
        self._update_signal.notify()

    def _next_target(self) -> str:
        targets = self.webhook_targets or [self.webhook_url]
        target = targets[self._webhook_turn % len(targets)]
        self._webhook_turn += 1
        return target

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        """POST until a 2xx answer; each retry after webhook_retry_seconds, to the next target."""
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret is not None:
            headers[SECRET_HEADER] = self.webhook_secret
        body = json.dumps(update)
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout_seconds)
        while True:
            url = self._next_target()
            status = 0
            try:
                if urlsplit(url).hostname not in _LOOPBACK:
                    raise aiohttp.ClientConnectionError("not loopback")
                async with session.post(url, data=body, headers=headers, timeout=timeout) as resp:
                    status = resp.status
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError, OSError):
                status = 0
            self.webhook_deliveries.append(
                WebhookDelivery(int(update["update_id"]), url, status, time.monotonic())
            )
            self._call_signal.notify()
            if 200 <= status < 300:
                return
            self.webhook_last_error = (
                int(time.time()),
                f"Wrong response from the webhook: {status}",
            )
            await asyncio.sleep(self.webhook_retry_seconds)

    # ---------------------------------------------------------------- inspection

    def webhook_answers(self, update_id: int) -> list[int]:
        """The statuses the webhook answered for one update, in order (0 = no answer)."""
        return [d.status for d in self.webhook_deliveries if d.update_id == update_id]


_WEBHOOK_METHODS: dict[str, Callable[[WebhookMixin, Call], Any]] = {
    "setWebhook": WebhookMixin._set_webhook,
    "deleteWebhook": WebhookMixin._delete_webhook,
    "getWebhookInfo": WebhookMixin._get_webhook_info,
}
