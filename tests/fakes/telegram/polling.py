"""Long polling with offset confirmation and 409 conflicts, plus injected failures.

Both decide what the bot sees when it asks the server for something, before any Bot API
method runs, so they sit together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .params import _DEFAULT_ALLOWED
from .records import ApiError, _FailureRule, _wait_event
from .state import FakeTelegramState


class PollingMixin(FakeTelegramState):
    """getUpdates and failure injection (``fail_next`` / ``fail_always``)."""

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail.

        A 429 carries ``parameters.retry_after`` (default 1) so PTB raises RetryAfter.
        ``drop_connection`` closes the socket without an answer (PTB: NetworkError).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(
            _FailureRule(method, status, description, retry_after, times, when, drop_connection)
        )

    def fail_always(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Like :meth:`fail_next` but until :meth:`clear_failures`."""
        self._failures.append(
            _FailureRule(method, status, description, retry_after, None, when, drop_connection)
        )

    def clear_failures(self) -> None:
        """Forget every injected failure."""
        self._failures.clear()

    def _take_failure(self, method: str, params: dict[str, Any]) -> _FailureRule | None:
        for rule in self._failures:
            if rule.method.lower() != method.lower():
                continue
            if rule.when is not None and not rule.when(params):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._failures.remove(rule)
            return rule
        return None

    def _rule_error(self, rule: _FailureRule) -> web.Response:
        parameters: dict[str, Any] | None = None
        description = rule.description
        if rule.status == 429:
            retry_after = 1 if rule.retry_after is None else rule.retry_after
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif rule.retry_after is not None:
            parameters = {"retry_after": rule.retry_after}
        default = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        description = description or default.get(rule.status, f"Error {rule.status}")
        return self._error(rule.status, description, parameters)

    # ---------------------------------------------------------------- getUpdates

    def _check_no_webhook(self) -> None:
        """getUpdates while a webhook is set: 409, as Telegram answers (see .webhook)."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._check_no_webhook()
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_signal.notify()  # an older long poll now gets 409, like Telegram

        offset = params.get("offset") or 0
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        if not isinstance(offset, int) or not isinstance(limit, int):
            raise ApiError(400, "Bad Request: wrong parameter offset or limit")
        if not isinstance(timeout, int | float):
            raise ApiError(400, "Bad Request: wrong parameter timeout")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed]
        self._confirm(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(timeout)
        while True:
            event = self._update_signal.current()
            self._check_no_webhook()
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            batch = self._take_batch(max(1, min(limit, 100)))
            if batch or self._closing.is_set():
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await _wait_event(event, remaining)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [
                p for p in self._pending if p.update["update_id"] >= offset or not p.delivered
            ]

    def _take_batch(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates) if self.allowed_updates else _DEFAULT_ALLOWED
        batch: list[dict[str, Any]] = []
        for pending in list(self._pending):
            kind = next((k for k in pending.update if k != "update_id"), "")
            if kind not in allowed:
                self._pending.remove(pending)
                self.dropped_updates.append(pending.update)
                continue
            if len(batch) < limit:
                pending.delivered = True
                batch.append(pending.update)
        return batch
