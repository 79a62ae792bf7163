"""Flood control for python-telegram-bot: its AIORateLimiter, with a pause that holds.

AIORateLimiter paces every request under Telegram's limits and retries a request refused with 429
after its retry_after. It also means to hold back every other request meanwhile, as Telegram asks
of a flooding bot, but its gate is re-opened by whichever concurrent request finishes next, so
under load the pause held almost nothing (tests/test_e2e_delivery.py shows the difference). Here a
429 sets a deadline that every request waits out before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger("amigo.telegram")

Result = bool | dict[str, Any] | list[dict[str, Any]]
Request = Callable[..., Coroutine[Any, Any, Result]]

MARGIN_SECONDS = 0.1  # as AIORateLimiter adds to its own wait


class FloodControl(AIORateLimiter):
    def __init__(self, *, requests_per_second: float, attempts: int) -> None:
        super().__init__(overall_max_rate=requests_per_second, max_retries=attempts - 1)
        self._resume_at = 0.0  # event-loop time before which nothing is sent

    async def process_request(
        self,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        async def after_any_flood_wait(*call_args: Any, **call_kwargs: Any) -> Result:
            loop = asyncio.get_running_loop()
            # A deadline, not polling: another 429 may move it while this request sleeps.
            while (wait := self._resume_at - loop.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                seconds = _seconds(exc.retry_after) + MARGIN_SECONDS
                self._resume_at = max(self._resume_at, loop.time() + seconds)
                log.info("telegram.flood_wait", extra={"seconds": seconds, "endpoint": endpoint})
                raise  # AIORateLimiter waits it out and retries this request

        return await super().process_request(
            after_any_flood_wait, args, kwargs, endpoint, data, rate_limit_args
        )


def _seconds(retry_after: int | timedelta) -> float:
    """retry_after is a timedelta with PTB_TIMEDELTA=1 (set by bot.app), else a number."""
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
