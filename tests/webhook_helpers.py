"""Webhook mode in tests: settings, the real bot behind the fake Bot API's webhook, and a small
receiver standing in for a worker when the fake is tested alone. All on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_bot
from bot.config import Secrets, Settings
from bot.runtime import Runtime, TelegramBot
from tests.conftest import MASTER_KEY, make_settings
from tests.fakes import FakeOpenAI, FakeTelegram

SECRET = "s3cret_TOKEN-for-tests"
PATH = "/telegram"
# What setWebhook is told; the fake never posts beyond loopback and delivers to
# `webhook_targets` instead (the bot's real address is known only once it listens).
PUBLIC_URL = f"https://amigo.test{PATH}"


def webhook_settings(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str) -> Settings:
    mode = {
        "AMIGO_TELEGRAM__MODE": "webhook",
        "AMIGO_TELEGRAM__WEBHOOK_URL": PUBLIC_URL,
        "AMIGO_TELEGRAM__WEBHOOK_LISTEN": "127.0.0.1:0",
    }
    fakes = {
        "AMIGO_TELEGRAM__API_BASE_URL": tg.base_url.removesuffix("/bot"),
        "AMIGO_LLM__BASE_URL": llm.base_url,
    }
    return make_settings(tmp_path, **{**fakes, **mode, **env})


def webhook_secrets(tg: FakeTelegram, secret: str | None = SECRET) -> Secrets:
    return Secrets(tg.token, "test-key", MASTER_KEY, webhook_secret=secret)


def data_of(bot: TelegramBot) -> Runtime:
    """What runs beside the library: its ops_url, routed waits and metrics."""
    return bot.runtime


@asynccontextmanager
async def webhook_bot(
    settings: Settings, tg: FakeTelegram, *, routed_timeout: float = 30.0
) -> AsyncIterator[TelegramBot]:
    """The real bot in webhook mode; the fake Bot API posts updates to it."""
    tg.webhook_retry_seconds = 0.1
    bot = build_bot(settings, webhook_secrets(tg))
    async with bot.running_webhook(routed_timeout=routed_timeout):
        tg.webhook_targets = [bot.runtime.ops_url + PATH]
        yield bot


Answer = Callable[[dict[str, Any]], Awaitable[int]]


async def ok(update: dict[str, Any]) -> int:
    return 200


@dataclass
class Received:
    update_id: int
    secret: str | None
    started: float
    answered: float = 0.0


@dataclass
class Receiver:
    """A webhook endpoint that records each POST and answers what `answer` returns."""

    answer: Answer = ok
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        loop = asyncio.get_running_loop()
        record = Received(
            update["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token"), loop.time()
        )
        self.received.append(record)
        status = await self.answer(update)
        record.answered = loop.time()
        return web.Response(status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post(PATH, self._post)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{PATH}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def ids(self) -> list[int]:
        return [r.update_id for r in self.received]
