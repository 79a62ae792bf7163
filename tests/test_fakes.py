"""The fakes speak the real wire protocols: real PTB and the real openai client over loopback.

If these fail, every end-to-end test built on the fakes is suspect, so they run first and fast.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
import telegram
from openai.types.chat import ChatCompletionMessageParam
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import parse_telegram_html, utf16_len

USER = 4242


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def ptb_bot(telegram_api: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    bot = telegram.Bot(
        telegram_api.token,
        base_url=telegram_api.base_url,
        base_file_url=telegram_api.base_file_url,
    )
    async with bot:
        yield bot


@pytest.fixture
async def openai_api() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def client_for(fake: FakeOpenAI, *, max_retries: int = 0, key: str = "test") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=key, max_retries=max_retries)


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta (PTB_TIMEDELTA); reading it warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi there"}]

# -------------------------------------------------------------------------------- Telegram


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


async def test_send_message_with_valid_html_and_a_keyboard(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes 👍", callback_data="answer:yes")],
            [InlineKeyboardButton("Docs", url="https://example.org/?a=1&b=2")],
        ]
    )
    html = (
        '<b>Hi</b> &amp; <i>wel<u>come</u></i> <a href="https://example.org/?a=1&amp;b=2">here'
        '</a> <span class="tg-spoiler">s</span> <pre><code class="language-py">x = 1</code></pre>'
        " <blockquote expandable>q</blockquote> &#128512;&#x1F600; &lt;3 &quot;ok&quot;"
    )
    message = await ptb_bot.send_message(USER, html, parse_mode=ParseMode.HTML, reply_markup=markup)
    assert message.text == 'Hi & welcome here s x = 1 q 😀😀 <3 "ok"'
    types = [(e.type, e.offset, e.length) for e in message.entities]
    assert ("bold", 0, 2) in types and ("text_link", 13, 4) in types
    assert any(e.type == "pre" and e.language == "py" for e in message.entities)
    assert message.reply_markup == markup

    sent = telegram_api.messages_to(USER)[0]
    assert sent.message_id == message.message_id and sent.raw_text == html
    assert sent.parse_mode == "HTML" and sent.text == message.text
    assert sent.buttons() == [("Yes 👍", "answer:yes"), ("Docs", "")]
    assert sent.button_data("Yes") == "answer:yes"
    call = await telegram_api.wait_for_call("sendMessage")
    assert call.params["chat_id"] == USER and isinstance(call.params["reply_markup"], dict)

    second = await ptb_bot.send_message(USER, "plain")
    assert second.message_id == message.message_id + 1


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>unclosed", "can't find end tag"),
        ("line<br>break", 'unsupported start tag "br"'),
        ("1 < 2", 'unsupported start tag ""'),
        ("Tom & Jerry", "unescaped"),
        ("&nbsp;", "unescaped"),
        ("<b><i>x</b></i>", "unmatched end tag"),
        ("</b>", "unexpected end tag"),
        ("<span>x</span>", "tg-spoiler"),
        ('<a href="x>y</a>', "unclosed start tag"),
    ],
)
async def test_html_telegram_refuses_is_refused(
    ptb_bot: telegram.Bot, telegram_api: FakeTelegram, html: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as info:
        await ptb_bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert reason in info.value.message.lower()
    assert telegram_api.calls[-1].status == 400
    assert telegram_api.messages_to(USER) == []


def test_html_parser_reports_entities_in_utf16_units() -> None:
    text, entities = parse_telegram_html("  😀 <b>bold</b>\n")
    assert text == "😀 bold"
    assert entities == [{"type": "bold", "offset": 3, "length": 4}]


async def test_length_is_counted_in_utf16_and_empty_text_is_refused(
    ptb_bot: telegram.Bot,
) -> None:
    fits = "😀" * 2048
    assert utf16_len(fits) == 4096
    assert (await ptb_bot.send_message(USER, fits)).text == fits
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await ptb_bot.send_message(USER, "😀" * 2049)  # 2049 characters, 4098 units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await ptb_bot.send_message(USER, "<b>" + "x" * 4097 + "</b>", parse_mode=ParseMode.HTML)
    assert (await ptb_bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")).text
    for empty in ("   ", "<b> </b>"):
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await ptb_bot.send_message(USER, empty, parse_mode=ParseMode.HTML)


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


async def test_send_document_upload_and_file_download(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    message = await ptb_bot.send_document(
        USER,
        document=b"Privacy Policy\n",
        filename="privacy.txt",
        caption="<i>The policy</i>",
        parse_mode=ParseMode.HTML,
    )
    assert message.document is not None and message.document.file_name == "privacy.txt"
    assert message.caption == "The policy"
    sent = await telegram_api.wait_for_message(USER)
    assert sent.document_name == "privacy.txt" and sent.document_bytes == b"Privacy Policy\n"
    assert sent.document_mime == "text/plain" and sent.text == "The policy"
    file = await ptb_bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"Privacy Policy\n"


async def test_edits_deletes_and_callback_answers(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    message = await ptb_bot.send_message(USER, "first", reply_markup=keyboard)
    edited = await ptb_bot.edit_message_text("second", USER, message.message_id)
    assert isinstance(edited, telegram.Message) and edited.text == "second"
    sent = telegram_api.messages_to(USER)[0]
    assert sent.text == "second" and sent.reply_markup is None  # edits drop the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await ptb_bot.edit_message_text("second", USER, message.message_id)
    await ptb_bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard)
    assert sent.buttons() == [("Go", "go")] and sent.edit_count == 2
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await ptb_bot.edit_message_text("x", USER, 999)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await ptb_bot.send_message(
            USER,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("a", callback_data="d" * 65)]]
            ),
        )

    telegram_api.press_button(USER, "go", message_id=message.message_id)
    (update,) = await ptb_bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "go" and query.from_user.id == USER
    assert isinstance(query.message, telegram.Message) and query.message.text == "second"
    assert await query.answer("ok")
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await ptb_bot.answer_callback_query("12345")

    assert await ptb_bot.delete_message(USER, message.message_id)
    assert sent.deleted and telegram_api.messages_to(USER, include_deleted=False) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await ptb_bot.delete_message(USER, message.message_id)


async def test_commands_are_recorded_and_validated(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    assert await ptb_bot.set_my_commands([("start", "Begin"), ("help", "What I can do")])
    assert [c.command for c in await ptb_bot.get_my_commands()] == ["start", "help"]
    assert telegram_api.commands[1] == {"command": "help", "description": "What I can do"}
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await ptb_bot.set_my_commands([("Start", "Uppercase is refused")])


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


# -------------------------------------------------------------------------------- OpenAI


async def test_openai_non_streaming_completion(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    completion = await client.chat.completions.create(model="gpt-test", messages=HI)
    assert completion.choices[0].message.content == "echo: hi there"
    assert completion.choices[0].finish_reason == "stop" and completion.model == "gpt-test"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert openai_api.requests == [{"model": "gpt-test", "messages": HI}]
    models = await client.models.list()
    assert [m.id for m in models.data] == ["gpt-fake"]
    await client.close()


async def test_openai_streaming_completion(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("A streamed reply, in several pieces.")
    stream = await client.chat.completions.create(
        model="gpt-test",
        messages=HI,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish: list[str] = []
    usage = None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert "".join(pieces) == "A streamed reply, in several pieces."
    assert len([p for p in pieces if p]) == 4 and finish == ["stop"]
    assert usage is not None and usage.completion_tokens > 0
    assert openai_api.last_request["stream"] is True
    await client.close()


async def test_openai_errors_map_to_the_clients_exceptions(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue(status=500)
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="m", messages=HI)
    openai_api.enqueue(status=429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        await client.chat.completions.create(model="m", messages=HI)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.code == "rate_limit_exceeded"
    openai_api.enqueue(drop_connection=True)
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="m", messages=HI)
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(model="m", messages=[])
    await client.close()


async def test_openai_429_is_retried_after_retry_after(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api, max_retries=1)
    openai_api.enqueue(status=429, retry_after=0.05)
    openai_api.enqueue("after the wait")
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == "after the wait"
    assert len(openai_api.requests) == 2 and openai_api.pending_replies == 0
    await client.close()


async def test_openai_empty_answer_and_wrong_key(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue(empty=True)
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == ""
    openai_api.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="m", messages=HI)
    await client.close()


async def test_openai_delay_does_not_block_a_concurrent_request(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("slow", delay=0.5)
    openai_api.enqueue("fast")
    slow = asyncio.create_task(client.chat.completions.create(model="m", messages=HI))
    await openai_api.wait_for_requests(1)
    started = time.monotonic()
    fast = await client.chat.completions.create(model="m", messages=HI)
    assert fast.choices[0].message.content == "fast"
    assert time.monotonic() - started < 0.4 and not slow.done()
    assert (await slow).choices[0].message.content == "slow"
    assert openai_api.concurrency_peak == 2 and openai_api.in_flight == 0
    await client.close()


async def test_openai_refused_connection_is_a_stopped_server(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    await openai_api.stop()
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="m", messages=HI)
    await openai_api.start()  # same port: the client recovers
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == "echo: hi there"
    await client.close()


async def test_stopping_releases_pending_requests_quickly(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("never", delay=30)
    pending = asyncio.create_task(client.chat.completions.create(model="m", messages=HI))
    await openai_api.wait_for_requests(1)
    started = time.monotonic()
    await openai_api.stop()
    with pytest.raises(openai.APIConnectionError):
        await pending
    assert time.monotonic() - started < 1.0
    await client.close()
