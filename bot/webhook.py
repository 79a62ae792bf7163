"""The webhook server: Telegram POSTs each update here, and hears 200 only once it is safe.

Telegram deletes an update once it is answered 2xx, and sends a chat's next update only then. So
the answer waits until the update has left the person's intake lane (`Dispatcher.handle`'s
`routed`): a chat text is stored as accepted, a command or button fully handled. A crash before
that gets no 200, and Telegram delivers the update again (to this worker or another; a duplicate
is skipped by `repo.first_delivery`). The wait is registered in `AmigoData.routed` under the
update id and handed to the dispatcher by `on_update`; an update no handler takes (an edit, a
join) is released when python-telegram-bot is done with it. A wait past `ROUTED_TIMEOUT` answers
500, so Telegram redelivers rather than lose it.

The same aiohttp app serves /healthz and /metrics (bot/ops.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.config import ConfigError, Secrets, Settings, TelegramSettings
from bot.ops import Ops, Server, add_ops_routes, ops_for, parse_listen, shut_down
from bot.telegram_adapter import ALLOWED_UPDATES, AmigoData

log = logging.getLogger("amigo.webhook")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

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


class WebhookReceiver:
    """POST handler: secret check, parse, process, answer once the update is routed."""

    def __init__(
        self, app: AnyApplication, secret: str, *, routed_timeout: float = ROUTED_TIMEOUT
    ) -> None:
        self.app = app
        self.secret = secret.encode()
        self.routed_timeout = routed_timeout
        self.forbidden = 0

    @property
    def data(self) -> AmigoData:
        data: AmigoData = self.app.bot_data
        return data

    async def post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.forbidden += 1
            self.data.metrics.webhook_forbidden.inc()
            log.warning("webhook.forbidden", extra={"count": self.forbidden})
            return web.Response(status=403)
        if not self.app.running:  # stopping: Telegram keeps it and tries again
            return web.Response(status=503)
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("not an object")
            update = Update.de_json(body, self.app.bot)
        except Exception as exc:  # not JSON, or not an update
            log.warning("webhook.bad_request", extra={"error": type(exc).__name__})
            return web.Response(status=400)
        if isinstance(self.app.bot, ExtBot):  # arbitrary callback data, as PTB's handler does
            self.app.bot.insert_callback_data(update)
        return await self._process(update)

    async def _process(self, update: Update) -> web.Response:
        routed = self.data.routed.setdefault(update.update_id, asyncio.Event())
        processor = self.app.update_processor
        processing = self.app.create_task(
            processor.process_update(update, self.app.process_update(update)), update=update
        )
        waiter = asyncio.ensure_future(routed.wait())
        try:
            await asyncio.wait(
                {waiter, processing},
                timeout=self.routed_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
            if self.data.routed.get(update.update_id) is routed:
                del self.data.routed[update.update_id]
        if routed.is_set() or processing.done():
            return web.Response(status=200)
        log.warning(
            "webhook.timeout", extra={"update": update.update_id, "seconds": self.routed_timeout}
        )
        return web.Response(status=500)


def webhook_app(
    app: AnyApplication,
    settings: TelegramSettings,
    secret: str,
    ops: Ops,
    *,
    routed_timeout: float = ROUTED_TIMEOUT,
) -> web.Application:
    """The webhook route at webhook_url's path, plus /healthz and /metrics."""
    server = web.Application(client_max_size=MAX_UPDATE_BYTES)
    receiver = WebhookReceiver(app, secret, routed_timeout=routed_timeout)
    server.router.add_post(webhook_path(settings.webhook_url), receiver.post)
    add_ops_routes(server, ops)
    return server


@asynccontextmanager
async def serving_webhook(
    app: AnyApplication,
    settings: TelegramSettings,
    secret: str,
    *,
    routed_timeout: float = ROUTED_TIMEOUT,
) -> AsyncIterator[Server]:
    """Listen on webhook_listen, then tell Telegram where to post (the app is started, so the
    first update is processed at once). The webhook stays set at exit: other workers serve it."""
    server = Server(
        webhook_app(app, settings, secret, ops_for(app), routed_timeout=routed_timeout),
        settings.webhook_listen,
        "telegram.webhook_listen",
    )
    await server.start()
    try:
        data: AmigoData = app.bot_data
        data.ops_url = server.url
        await app.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=settings.webhook_max_connections,
            drop_pending_updates=False,
        )
        log.info("webhook.set", extra={"max_connections": settings.webhook_max_connections})
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def running_webhook(
    app: AnyApplication,
    settings: Settings,
    secrets: Secrets,
    *,
    routed_timeout: float = ROUTED_TIMEOUT,
) -> AsyncIterator[AnyApplication]:
    """The bot in webhook mode, in run_polling's order: initialize, post_init, start, serve (and
    setWebhook); at exit stop serving, stop, post_stop, shutdown, post_shutdown."""
    secret = webhook_secret(settings.telegram, secrets.webhook_secret)
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        async with serving_webhook(app, settings.telegram, secret, routed_timeout=routed_timeout):
            yield app
    finally:
        await shut_down(app)
