"""The fake Telegram speaks the real wire protocol to real PTB: tokens, injected failures,
updates and long polling, a whole polling Application, raw JSON bodies, and waiting.

If these fail, every end-to-end test built on the fake is suspect, so they run first and fast.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tests.fake_telegram_helpers import USER
from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes.telegram import FakeTelegram


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta (PTB_TIMEDELTA); reading it warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_and_a_wrong_token(telegram_api: FakeTelegram, ptb_bot: telegram.Bot) -> None:
    me = await ptb_bot.get_me()
    assert me.id == telegram_api.bot_id and me.is_bot and me.username == "amigo_test_bot"
    request = HTTPXRequest()
    impostor = telegram.Bot("999:WRONG", base_url=telegram_api.base_url, request=request)
    try:
        with pytest.raises(InvalidToken, match="Unauthorized"):
            await impostor.get_me()
    finally:
        await request.shutdown()
    assert telegram_api.calls[-1].status == 401


async def test_injected_flood_control_and_dropped_connections(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await ptb_bot.send_message(USER, "hi")
    assert retry_seconds(info.value) == 3
    assert (await ptb_bot.send_message(USER, "hi")).text == "hi"

    telegram_api.fail_always("sendChatAction", status=500, description="Internal Server Error")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await ptb_bot.send_chat_action(USER, "typing")
    telegram_api.clear_failures()
    assert await ptb_bot.send_chat_action(USER, "typing")

    telegram_api.fail_next("sendMessage", status=403, when=lambda p: p["chat_id"] == 7)
    assert await ptb_bot.send_message(USER, "not chat 7")
    with pytest.raises(telegram.error.Forbidden, match="blocked"):
        await ptb_bot.send_message(7, "to chat 7")

    telegram_api.fail_next("getMe", drop_connection=True)
    with pytest.raises(NetworkError):
        await ptb_bot.get_me()
    assert (await ptb_bot.get_me()).id == telegram_api.bot_id


async def test_get_updates_returns_pushed_updates_and_honours_offset(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    first = telegram_api.send_command(USER, "start", "ref42")
    second = telegram_api.send_text(USER, "hello 😀")
    updates = await ptb_bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    start = updates[0].message
    assert start is not None and start.text == "/start ref42" and start.chat.type == "private"
    assert start.entities[0].type == "bot_command" and start.entities[0].length == 6
    assert start.from_user is not None and start.from_user.language_code == "en"
    assert updates[1].message is not None and updates[1].message.message_id == 2

    assert len(await ptb_bot.get_updates(limit=1)) == 1
    assert await ptb_bot.get_updates(offset=second + 1) == ()  # confirms both
    assert await ptb_bot.get_updates() == ()

    third = telegram_api.send_text(USER, "in a group", chat_id=-100555, chat_type="supergroup")
    (update,) = await ptb_bot.get_updates(offset=second + 1)
    assert update.update_id == third and update.effective_chat is not None
    assert update.effective_chat.type == "supergroup"

    # A redelivered update (same id) reaches the bot again, as after a crash.
    duplicate = telegram_api.updates[-1]
    telegram_api.push_update(duplicate)
    (again,) = await ptb_bot.get_updates(offset=third + 1)
    assert again.update_id == third


@pytest.mark.parametrize(
    ("kind", "attribute"),
    [
        ("photo", "photo"),
        ("voice", "voice"),
        ("video", "video"),
        ("sticker", "sticker"),
        ("document", "document"),
        ("location", "location"),
        ("contact", "contact"),
        ("video_note", "video_note"),
        ("audio", "audio"),
        ("animation", "animation"),
    ],
)
async def test_media_updates_parse_in_ptb(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot, kind: str, attribute: str
) -> None:
    telegram_api.send_media(USER, kind, caption="look" if kind == "photo" else None)
    (update,) = await ptb_bot.get_updates()
    assert update.message is not None and getattr(update.message, attribute)
    assert update.message.text is None
    if kind in ("voice", "document", "photo"):
        media: Any = getattr(update.message, attribute)
        file_id = media[-1].file_id if kind == "photo" else media.file_id
        file = await ptb_bot.get_file(file_id)
        assert bytes(await file.download_as_bytearray()).startswith(b"fake")


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    started = time.monotonic()
    assert await ptb_bot.get_updates(timeout=dtm.timedelta(seconds=0.2)) == ()
    assert time.monotonic() - started >= 0.19

    mark = telegram_api.mark()
    poll = asyncio.create_task(ptb_bot.get_updates(timeout=5))
    await telegram_api.wait_for_call("getUpdates", after=mark)
    started = time.monotonic()
    telegram_api.send_text(USER, "wake up")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.message is not None and update.message.text == "wake up"
    assert time.monotonic() - started < 1.0


async def test_a_second_poller_gets_conflict_and_stop_releases_long_polls(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    # PTB's getUpdates pool holds one connection, so a second poller is a second Bot.
    other = telegram.Bot(telegram_api.token, base_url=telegram_api.base_url)
    async with other:
        first = asyncio.create_task(ptb_bot.get_updates(timeout=5))
        await telegram_api.wait_for_call("getUpdates")
        second = asyncio.create_task(other.get_updates(timeout=5))
        with pytest.raises(telegram.error.Conflict, match="other getUpdates"):
            await asyncio.wait_for(first, 2)
        assert telegram_api.calls_of("getUpdates")[0].status == 409
        started = time.monotonic()
        await telegram_api.stop()
        assert await asyncio.wait_for(second, 2) == ()
        assert time.monotonic() - started < 1.0
        await telegram_api.start()  # so the fixtures can shut the bots down cleanly


async def test_a_real_application_polls_and_answers(telegram_api: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Press", callback_data="p")]])
        await update.effective_message.reply_html("<b>Hello</b>", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Pressed")

    app = (
        Application.builder()
        .token(telegram_api.token)
        .base_url(telegram_api.base_url)
        .base_file_url(telegram_api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        try:
            telegram_api.send_command(USER, "start")
            hello = await telegram_api.wait_for_message(USER, timeout=5)
            assert hello.text == "Hello" and hello.parse_mode == "HTML"
            mark = telegram_api.mark()
            telegram_api.press_button(USER, hello.button_data("Press"), message_id=hello.message_id)
            await telegram_api.wait_for_call("editMessageText", after=mark, timeout=5)
            assert hello.text == "Pressed" and hello.reply_markup is None
            await telegram_api.wait_for_call("answerCallbackQuery", after=mark, timeout=5)
        finally:
            await app.updater.stop()
            await app.stop()
    assert telegram_api.calls_of("deleteWebhook")


async def test_json_bodies_and_unknown_methods(telegram_api: FakeTelegram) -> None:
    url = f"{telegram_api.base_url}{telegram_api.token}"
    async with aiohttp.ClientSession() as session:
        payload = {
            "chat_id": USER,
            "text": "json <i>body</i>",
            "parse_mode": "HTML",
            "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
        }
        async with session.post(f"{url}/sendMessage", json=payload) as response:
            body = await response.json()
        assert body["ok"] is True and body["result"]["text"] == "json body"
        assert telegram_api.last_message(USER).buttons() == [("A", "a")]
        async with session.post(f"{url}/sendmessage", data={"chat_id": "1", "text": "x"}) as r:
            assert (await r.json())["ok"] is True  # method names are case-insensitive
        async with session.post(f"{url}/frobnicate") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }


async def test_waiting_times_out_with_a_useful_message(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    await ptb_bot.send_message(USER, "secret words")
    with pytest.raises(AssertionError, match=r"sendMessage\(chat=4242\)") as info:
        await telegram_api.wait_for_message(USER, lambda m: m.text == "never", timeout=0.05)
    assert "secret" not in str(info.value)
