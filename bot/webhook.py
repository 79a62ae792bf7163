"""The webhook server: Telegram POSTs each update here, and hears 200 only once it is safe.

Telegram deletes an update once it is answered 2xx, and sends a chat's next update only then. So
the answer waits until the update has left the person's intake lane (`Dispatcher.handle`'s
`routed`): a chat text is stored as accepted, a command or button fully handled. A crash before
that gets no 200, and Telegram delivers the update again (to this worker or another; a duplicate
is skipped by `repo.first_delivery`). The wait is registered in `Runtime.routed` under the
update id and handed to the dispatcher by the adapter; an update no handler takes (an edit, a
join) is released when the library is done with it. A wait past `ROUTED_TIMEOUT` answers
500, so Telegram redelivers rather than lose it.

The same aiohttp app serves /healthz and /metrics (bot/ops.py). Library-neutral: each adapter
passes how its library parses and processes an update.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.config import ConfigError, TelegramSettings
from bot.ops import Server, add_ops_routes, ops_for, parse_listen
from bot.runtime import Runtime

log = logging.getLogger("amigo.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_RULE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's rule for secret_token
ROUTED_TIMEOUT = 30.0
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kB; a larger body is not Telegram's


def webhook_secret(settings: TelegramSettings, secret: str | None) -> str:
    """The secret for webhook mode, or a one-line ConfigError saying what is missing or wrong
    (the listen address too), before anything starts."""
    parse_listen(settings.webhook_listen, "telegram.webhook_listen")
    if not settings.webhook_url:
        raise ConfigError(
            "config error: telegram.webhook_url: webhook mode needs the public HTTPS address "
            "Telegram posts to (AMIGO_TELEGRAM__WEBHOOK_URL)"
        )
    if not urlsplit(settings.webhook_url).scheme or not urlsplit(settings.webhook_url).netloc:
        raise ConfigError("config error: telegram.webhook_url: not an absolute URL")
    if not secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs a secret token "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)"
        )
    if SECRET_RULE.fullmatch(secret) is None:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: Telegram accepts only 1-256 characters of "
            "A-Z, a-z, 0-9, _ and -"
        )
    return secret


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


Prepare = Callable[[dict[str, Any]], Callable[[], Awaitable[object]]]
"""Parse one update's JSON with the library (raising if it is not an update) and return what
processes it: a call whose awaitable is done when the library has handled the update."""


class WebhookReceiver:
    """POST handler: secret check, parse, process, answer once the update is routed. The same
    for both libraries: each gives its `prepare` (bot/ptb_adapter.py, bot/aiogram_adapter.py)."""

    def __init__(
        self,
        runtime: Runtime,
        secret: str,
        prepare: Prepare,
        *,
        accepting: Callable[[], bool] = lambda: True,
        routed_timeout: float = ROUTED_TIMEOUT,
    ) -> None:
        self.runtime = runtime
        self.secret = secret.encode()
        self.prepare = prepare
        self.accepting = accepting
        self.routed_timeout = routed_timeout
        self.forbidden = 0
        self._tasks: set[asyncio.Future[object]] = set()

    async def post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.forbidden += 1
            self.runtime.metrics.webhook_forbidden.inc()
            log.warning("webhook.forbidden", extra={"count": self.forbidden})
            return web.Response(status=403)
        if not self.accepting():  # stopping: Telegram keeps it and tries again
            return web.Response(status=503)
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                raise ValueError("not an update")
            process = self.prepare(body)
        except Exception as exc:  # not JSON, or not an update
            log.warning("webhook.bad_request", extra={"error": type(exc).__name__})
            return web.Response(status=400)
        return await self._process(int(body["update_id"]), process)

    async def _process(
        self, update_id: int, process: Callable[[], Awaitable[object]]
    ) -> web.Response:
        routed = self.runtime.routed.setdefault(update_id, asyncio.Event())
        processing = asyncio.ensure_future(process())
        self._tasks.add(processing)  # held until done: nothing is dropped half-way
        processing.add_done_callback(self._tasks.discard)
        waiter = asyncio.ensure_future(routed.wait())
        try:
            await asyncio.wait(
                {waiter, processing},
                timeout=self.routed_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
            if self.runtime.routed.get(update_id) is routed:
                del self.runtime.routed[update_id]
        if routed.is_set() or processing.done():
            return web.Response(status=200)
        log.warning("webhook.timeout", extra={"update": update_id, "seconds": self.routed_timeout})
        return web.Response(status=500)


@asynccontextmanager
async def serving_webhook(
    receiver: WebhookReceiver, settings: TelegramSettings
) -> AsyncIterator[Server]:
    """Listen on webhook_listen (the webhook route at webhook_url's path, plus /healthz and
    /metrics), then tell Telegram where to post (the runtime is started, so the first update is
    processed at once). The webhook stays set at exit: other workers serve it."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(webhook_path(settings.webhook_url), receiver.post)
    add_ops_routes(app, ops_for(receiver.runtime))
    server = Server(app, settings.webhook_listen, "telegram.webhook_listen")
    await server.start()
    try:
        runtime = receiver.runtime
        runtime.ops_url = server.url
        assert runtime.api is not None, "start the runtime before serving the webhook"
        await runtime.api.set_webhook(
            settings.webhook_url,
            secret_token=receiver.secret.decode(),
            max_connections=settings.webhook_max_connections,
        )
        log.info("webhook.set", extra={"max_connections": settings.webhook_max_connections})
        yield server
    finally:
        await server.stop()
