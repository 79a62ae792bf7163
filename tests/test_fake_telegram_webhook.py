"""The fake Bot API's webhooks: set, info, 409 for getUpdates, and delivery like Telegram's."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import telegram
from telegram.error import BadRequest, Conflict

from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes.telegram import FakeTelegram
from tests.webhook_helpers import SECRET, Receiver

A, B = 701, 702


def closed_port_url() -> str:
    """A loopback address nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/telegram"


async def test_set_info_delete_and_getupdates_conflict(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    async with Receiver() as receiver:
        assert await ptb_bot.set_webhook(
            receiver.url, secret_token=SECRET, allowed_updates=["message"], max_connections=3
        )
        info = await ptb_bot.get_webhook_info()
        assert info.url == receiver.url and info.max_connections == 3
        assert info.allowed_updates == ("message",)
        with pytest.raises(Conflict, match="webhook is active"):
            await ptb_bot.get_updates(timeout=0)
        assert await ptb_bot.delete_webhook()
        assert (await ptb_bot.get_webhook_info()).url == ""
        assert await ptb_bot.get_updates(timeout=0) == ()


async def test_secret_token_follows_telegrams_rule(ptb_bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="unallowed characters"):
        await ptb_bot.set_webhook("http://127.0.0.1:1/x", secret_token="not allowed!")


async def test_updates_are_posted_with_the_secret_and_forgotten_after_200(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    async with Receiver() as receiver:
        await ptb_bot.set_webhook(receiver.url, secret_token=SECRET)
        first = telegram_api.send_text(A, "one")
        second = telegram_api.send_text(B, "two")
        await telegram_api.wait_for_delivery(first)
        await telegram_api.wait_for_delivery(second)
        assert sorted(receiver.ids()) == [first, second]
        assert {r.secret for r in receiver.received} == {SECRET}
        assert (await ptb_bot.get_webhook_info()).pending_update_count == 0


async def test_a_chat_waits_for_its_previous_update_other_chats_do_not(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    release = asyncio.Event()

    async def answer(update: dict[str, Any]) -> int:
        if update["message"]["chat"]["id"] == A and update["message"]["text"] == "a1":
            await release.wait()
        return 200

    async with Receiver(answer) as receiver:
        await ptb_bot.set_webhook(receiver.url, secret_token=SECRET)
        a1 = telegram_api.send_text(A, "a1")
        a2 = telegram_api.send_text(A, "a2")
        b1 = telegram_api.send_text(B, "b1")
        await telegram_api.wait_for_delivery(b1)  # B is not held up behind A's first
        assert receiver.ids() == [a1, b1] or receiver.ids() == [b1, a1]
        await asyncio.sleep(0.2)
        assert a2 not in receiver.ids()  # A's second waits for A's first to be answered
        release.set()
        await telegram_api.wait_for_delivery(a2)
        assert receiver.ids()[-1] == a2


async def test_max_connections_caps_concurrent_posts(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    in_flight, most = 0, 0

    async def answer(update: dict[str, Any]) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return 200

    async with Receiver(answer) as receiver:
        await ptb_bot.set_webhook(receiver.url, secret_token=SECRET, max_connections=2)
        ids = [telegram_api.send_text(800 + n, "hi") for n in range(6)]
        for update_id in ids:
            await telegram_api.wait_for_delivery(update_id)
        assert sorted(receiver.ids()) == ids and most == 2


async def test_an_error_answer_is_retried_after_a_short_backoff(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    answers = iter([500, 403, 200])

    async def answer(update: dict[str, Any]) -> int:
        return next(answers)

    telegram_api.webhook_retry_seconds = 0.05
    async with Receiver(answer) as receiver:
        await ptb_bot.set_webhook(receiver.url, secret_token=SECRET)
        update_id = telegram_api.send_text(A, "again")
        await telegram_api.wait_for_delivery(update_id)
        assert telegram_api.webhook_answers(update_id) == [500, 403, 200]
        assert receiver.ids() == [update_id] * 3
        info = await ptb_bot.get_webhook_info()
        assert info.pending_update_count == 0 and "403" in (info.last_error_message or "")


async def test_targets_round_robin_and_a_refusing_worker_is_skipped(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.webhook_retry_seconds = 0.05
    async with Receiver() as one, Receiver() as two:
        await ptb_bot.set_webhook("https://amigo.test/telegram", secret_token=SECRET)
        telegram_api.webhook_targets = [one.url, two.url]
        ids = [telegram_api.send_text(900 + n, "hi") for n in range(4)]
        for update_id in ids:
            await telegram_api.wait_for_delivery(update_id)
        assert len(one.received) == 2 and len(two.received) == 2
        dead = closed_port_url()
        telegram_api.webhook_targets = [dead, one.url]
        update_id = telegram_api.send_text(A, "to whoever is up")
        await telegram_api.wait_for_delivery(update_id)
        assert update_id in one.ids()
        refused = [d for d in telegram_api.webhook_deliveries if d.update_id == update_id]
        assert all(d.url == dead for d in refused if d.status == 0)


async def test_nothing_is_posted_beyond_loopback(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.webhook_retry_seconds = 0.05
    await ptb_bot.set_webhook("https://amigo.test/telegram", secret_token=SECRET)
    update_id = telegram_api.send_text(A, "hello")
    await telegram_api.wait_for_delivery(update_id, status=0)
    assert (await ptb_bot.get_webhook_info()).pending_update_count == 1


async def test_deleting_the_webhook_hands_pending_updates_back_to_getupdates(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.webhook_retry_seconds = 0.05
    await ptb_bot.set_webhook(closed_port_url(), secret_token=SECRET)
    update_id = telegram_api.send_text(A, "kept")
    await telegram_api.wait_for_delivery(update_id, status=0)
    await ptb_bot.delete_webhook()
    updates = await ptb_bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update_id]
