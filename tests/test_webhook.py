"""The real bot in webhook mode, behind the fake Bot API's webhook delivery, on loopback."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from bot.app import build_bot
from bot.config import ConfigError
from bot.runtime import TelegramBot
from bot.telegram_api import ALLOWED_UPDATES
from handlers.events import Event
from handlers.ports import Channel
from tests import db as stored
from tests.conftest import CANARY
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.webhook_helpers import (
    PATH,
    PUBLIC_URL,
    SECRET,
    data_of,
    webhook_bot,
    webhook_secrets,
    webhook_settings,
)

ALICE = 601


def count(db: str, sql: str) -> int:
    return int(stored.scalar(db, sql))


async def post(app: TelegramBot, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(data_of(app).ops_url + PATH, data=body, headers=headers) as resp,
    ):
        return resp.status


async def test_set_webhook_then_a_chat_message_by_webhook_is_answered(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(tmp_path, tg, llm)
    async with webhook_bot(settings, tg):
        call = tg.calls_of("setWebhook")[-1]
        assert call.params["url"] == PUBLIC_URL and call.params["secret_token"] == SECRET
        assert call.params["allowed_updates"] == ALLOWED_UPDATES
        assert call.params["max_connections"] == settings.telegram.webhook_max_connections
        assert call.params.get("drop_pending_updates") in (None, False)
        await onboard(tg, ALICE)
        llm.enqueue("Hello from the webhook")
        reply = await say(tg, ALICE, "hi there")
        assert reply.text == "Hello from the webhook"
    assert not tg.calls_of("getUpdates")  # it never polled
    assert not tg.calls_of("deleteWebhook")  # other workers keep serving


async def test_wrong_or_missing_secret_is_refused_and_nothing_is_kept(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = webhook_settings(tmp_path, tg, llm)
    update = (
        b'{"update_id": 77, "message": {"message_id": 1, "date": 1, "text": "' + CANARY.encode()
    )
    update += b'", "chat": {"id": 601, "type": "private"}, "from": {"id": 601, "is_bot": false,'
    update += b' "first_name": "Zed"}}}'
    async with webhook_bot(settings, tg) as app:
        mark = tg.mark()
        assert await post(app, update, secret="wrong-secret") == 403
        assert await post(app, update, secret=None) == 403
        assert await post(app, update, secret=SECRET + "x") == 403
        await asyncio.sleep(0.2)
        assert not [c for c in tg.calls[mark:] if c.method == "sendMessage"]
    db = settings.storage.database_path
    assert count(db, "SELECT COUNT(*) FROM users") == 0
    assert count(db, "SELECT COUNT(*) FROM messages") == 0
    forbidden = [r for r in caplog.records if r.getMessage() == "webhook.forbidden"]
    assert [getattr(r, "count", None) for r in forbidden] == [1, 2, 3]
    assert "wrong-secret" not in caplog.text and SECRET not in caplog.text
    assert CANARY not in caplog.text


async def test_bad_json_is_400_and_an_update_no_handler_takes_does_not_hang(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(tmp_path, tg, llm)
    async with webhook_bot(settings, tg) as app:
        assert await post(app, b"{not json") == 400
        assert await post(app, b"[1, 2]") == 400
        edited = (
            b'{"update_id": 5, "edited_message": {"message_id": 1, "date": 1, "edit_date": 2,'
            b' "text": "x", "chat": {"id": 601, "type": "private"}}}'
        )
        async with asyncio.timeout(5):
            assert await post(app, edited) == 200
        assert data_of(app).routed == {}


async def test_200_comes_once_the_message_is_stored_before_the_reply(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(tmp_path, tg, llm)
    db = settings.storage.database_path
    async with webhook_bot(settings, tg):
        await onboard(tg, ALICE)
        llm.enqueue("Slow but sure", delay=1.5)
        before = count(db, "SELECT COUNT(*) FROM messages WHERE role = 'user'")
        mark = tg.mark()
        update_id = tg.send_text(ALICE, "are you there?")
        await tg.wait_for_delivery(update_id)
        assert count(db, "SELECT COUNT(*) FROM messages WHERE role = 'user'") == before + 1
        assert not [c for c in tg.calls[mark:] if c.method == "sendMessage"]  # no reply yet
        reply = await tg.wait_for_message(ALICE, after=mark)
        assert reply.text == "Slow but sure"
        assert tg.webhook_answers(update_id) == [200]


async def test_a_slow_route_answers_500_and_the_redelivery_is_not_handled_twice(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(tmp_path, tg, llm)
    async with webhook_bot(settings, tg, routed_timeout=0.3) as app:
        await onboard(tg, ALICE)
        dispatcher = data_of(app).dispatcher
        assert dispatcher is not None
        handle = dispatcher.handle
        stalled = asyncio.Event()

        async def slow_once(
            event: Event, channel: Channel, *, routed: asyncio.Event | None = None
        ) -> None:
            if not stalled.is_set():
                stalled.set()
                await asyncio.sleep(0.8)  # a database stuck behind a lock, say
            await handle(event, channel, routed=routed)

        dispatcher.handle = slow_once  # type: ignore[method-assign]
        llm.enqueue("Only once")
        mark = tg.mark()
        update_id = tg.send_text(ALICE, "hello?")
        await tg.wait_for_delivery(update_id)
        assert tg.webhook_answers(update_id)[0] == 500
        await tg.wait_for_message(ALICE, after=mark)
        await asyncio.sleep(0.3)
        replies = [c for c in tg.calls[mark:] if c.method == "sendMessage"]
        assert len(replies) == 1 and len(llm.requests) == 1


async def test_webhook_mode_refuses_to_start_without_url_or_good_secret(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    no_url = webhook_settings(tmp_path, tg, llm, AMIGO_TELEGRAM__WEBHOOK_URL="")
    cases = [
        (no_url, SECRET, "telegram.webhook_url"),
        (webhook_settings(tmp_path, tg, llm), None, "TELEGRAM_WEBHOOK_SECRET is not set"),
        (webhook_settings(tmp_path, tg, llm), "has spaces", "A-Z, a-z, 0-9, _ and -"),
        (webhook_settings(tmp_path, tg, llm), "x" * 257, "1-256 characters"),
    ]
    for settings, secret, message in cases:
        secrets = webhook_secrets(tg, secret)
        bot = build_bot(settings, secrets)
        with pytest.raises(ConfigError, match=message) as raised:
            async with bot.running_webhook():
                pass
        assert "\n" not in str(raised.value)
        assert secret is None or secret not in str(raised.value)
    assert not tg.calls_of("setWebhook")
