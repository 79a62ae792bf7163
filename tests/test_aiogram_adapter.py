"""The aiogram adapter: AiogramApi speaks the Bot API as PtbApi does (against the fake Bot API
server), aiogram's updates become the same plain events, and AiogramBot runs the real bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    CallbackQuery,
    Chat,
    Location,
    Message,
    PhotoSize,
    SuccessfulPayment,
    Update,
    User,
)

from bot.aiogram_adapter import AiogramBot
from bot.aiogram_api import AiogramApi
from bot.config import Secrets
from bot.telegram_api import (
    BadRequest,
    FloodGate,
    Forbidden,
    NetworkError,
    NotFound,
    RetryAfter,
)
from bot.updates import to_event
from handlers.events import Button, ButtonPress, Media, Paid, Sender, Text
from handlers.texts import t
from tests.conftest import MASTER_KEY, make_settings
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.webhook_helpers import webhook_bot, webhook_settings

USER = 4242
GROUP = -100123
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def aiogram_bot(fake: FakeTelegram) -> Bot:
    server = TelegramAPIServer.from_base(fake.base_url.removesuffix("/bot"))
    return Bot(fake.token, session=AiohttpSession(api=server))


@pytest.fixture
async def api(tg: FakeTelegram) -> AsyncIterator[AiogramApi]:
    bot = aiogram_bot(tg)
    try:
        yield AiogramApi(bot, FloodGate(requests_per_second=1000, attempts=3))
    finally:
        await bot.session.close()


async def test_a_message_with_html_and_buttons_then_an_edit(
    tg: FakeTelegram, api: AiogramApi
) -> None:
    buttons = ((Button("Yes", "age:yes"), Button("Pay", url="https://t.me/$invoice")),)
    message_id = await api.send_message(
        USER, "<b>Hello</b> &amp; welcome", html=True, buttons=buttons
    )
    sent = tg.last_message(USER)
    assert sent.message_id == message_id and sent.text == "Hello & welcome"
    assert sent.parse_mode == "HTML"
    assert sent.buttons() == [("Yes", "age:yes"), ("Pay", "")]
    call = tg.calls_of("sendMessage")[-1]
    assert call.params["link_preview_options"] == {"is_disabled": True}

    await api.edit_message_text(USER, message_id, "plain <b> now")
    assert sent.text == "plain <b> now" and sent.parse_mode is None and sent.edit_count == 1
    with pytest.raises(BadRequest, match="not modified"):
        await api.edit_message_text(USER, message_id, "plain <b> now")
    with pytest.raises(BadRequest, match="parse entities"):
        await api.send_message(USER, "<b>unclosed", html=True)


async def test_drafts_are_sent_and_a_server_without_them_says_not_found(
    tg: FakeTelegram, api: AiogramApi
) -> None:
    await api.send_message_draft(USER, 7, "<i>thinking</i>", html=True)
    draft = tg.drafts_to(USER)[-1]
    assert (draft.draft_id, draft.text, draft.parse_mode) == (7, "thinking", "HTML")

    async with FakeTelegram(drafts_supported=False) as old:
        bot = aiogram_bot(old)
        refusing = AiogramApi(bot, FloodGate(requests_per_second=1000, attempts=1))
        try:
            with pytest.raises(NotFound):
                await refusing.send_message_draft(USER, 7, "partial")
        finally:
            await bot.session.close()


async def test_flood_control_is_waited_out_and_retried_by_the_gate(
    tg: FakeTelegram, api: AiogramApi
) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await api.send_message(USER, "after the flood")
    assert loop.time() - started >= 1.0
    assert [c.status for c in tg.calls_of("sendMessage")] == [429, 200]
    assert tg.last_message(USER).text == "after the flood"

    tg.fail_next("sendChatAction", status=429, retry_after=1)
    once = AiogramApi(api.bot, FloodGate(requests_per_second=1000, attempts=1))
    with pytest.raises(RetryAfter) as info:
        await once.send_typing(USER)
    assert info.value.seconds == 1


async def test_errors_are_translated_to_the_neutral_ones(tg: FakeTelegram, api: AiogramApi) -> None:
    tg.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="blocked"):
        await api.send_message(USER, "hi")
    tg.fail_next("sendChatAction", status=500, description="Internal Server Error")
    with pytest.raises(NetworkError):
        await api.send_typing(USER)
    tg.fail_next("sendChatAction", drop_connection=True)
    with pytest.raises(NetworkError):
        await api.send_typing(USER)
    await api.send_typing(USER)
    assert tg.calls_of("sendChatAction")[-1].params["action"] == "typing"
    message_id = await api.send_message(USER, "to delete")
    await api.delete_message(USER, message_id)
    assert tg.last_message(USER).deleted


async def test_a_document_with_a_caption(tg: FakeTelegram, api: AiogramApi) -> None:
    await api.send_document(USER, "export.json", b'{"a": 1}', caption="Your data")
    sent = tg.last_message(USER)
    assert (sent.document_name, sent.document_bytes, sent.text) == (
        "export.json",
        b'{"a": 1}',
        "Your data",
    )


async def test_the_command_menu_per_language(tg: FakeTelegram, api: AiogramApi) -> None:
    await api.set_my_commands([("start", "Begin")])
    await api.set_my_commands([("start", "शुरू")], language_code="hi")
    assert tg.commands == [{"command": "start", "description": "Begin"}]
    assert tg.commands_by_scope[("default", "hi")][0]["description"] == "शुरू"


async def test_a_stars_subscription_cancelled_and_refunded(
    tg: FakeTelegram, api: AiogramApi
) -> None:
    link = await api.create_invoice_link(
        title="Amigo Plus",
        description="A month",
        payload="plus:1",
        label="Plus",
        stars=100,
        subscription_period=2_592_000,
    )
    invoice = tg.invoice(link)
    assert (invoice.currency, invoice.amount, invoice.subscription_period) == (
        "XTR",
        100,
        2_592_000,
    )

    paying = asyncio.create_task(tg.pay(USER, link))
    await asyncio.sleep(0)  # the fake pushes the pre-checkout query, then waits for the answer
    queries = [u["pre_checkout_query"] for u in tg.updates if "pre_checkout_query" in u]
    await api.bot.answer_pre_checkout_query(queries[-1]["id"], ok=True)
    paid = await paying
    assert paid.ok and paid.charge_id is not None

    await api.edit_user_star_subscription(USER, paid.charge_id, canceled=True)
    assert tg.subscriptions[paid.charge_id].is_canceled
    await api.refund_star_payment(USER, paid.charge_id)
    assert tg.refunds == [paid.charge_id]
    with pytest.raises(BadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await api.refund_star_payment(USER, paid.charge_id)


# ------------------------------------------------------------------ updates become events


def person(user_id: int = USER, language: str | None = "hi") -> User:
    return User(id=user_id, is_bot=False, first_name="Asha", language_code=language)


def message(chat: Chat, **content: Any) -> Message:
    return Message(message_id=10, date=WHEN, chat=chat, from_user=person(), **content)


PRIVATE = Chat(id=USER, type="private")


def test_text_and_commands() -> None:
    event = to_event(Update(update_id=1, message=message(PRIVATE, text="hello there")))
    assert event == Text(Sender(USER, USER, "private", "hi"), "hello there", 1)
    command = to_event(Update(update_id=2, message=message(PRIVATE, text="/help@amigo_bot x")))
    assert isinstance(command, Text) and command.command == ("help", "x")


def test_a_button_press_names_the_message_it_was_under() -> None:
    query = CallbackQuery(
        id="77",
        from_user=person(language="en"),
        chat_instance="1",
        data="age:yes",
        message=Message(message_id=55, date=WHEN, chat=PRIVATE, text="18 or older?"),
    )
    event = to_event(Update(update_id=3, callback_query=query))
    assert event == ButtonPress(Sender(USER, USER, language_code="en"), "age:yes", 55, 3)


def test_media_keeps_only_its_kind() -> None:
    photo = [PhotoSize(file_id="f", file_unique_id="u", width=1, height=1)]
    assert to_event(Update(update_id=4, message=message(PRIVATE, photo=photo))) == Media(
        Sender(USER, USER, "private", "hi"), "photo", 4
    )
    where = Location(latitude=1.0, longitude=2.0)
    located = to_event(Update(update_id=5, message=message(PRIVATE, location=where)))
    assert isinstance(located, Media) and located.kind == "location"
    joined = to_event(Update(update_id=6, message=message(PRIVATE, new_chat_members=[person()])))
    assert isinstance(joined, Media) and joined.kind == "other"


def test_groups_and_channels() -> None:
    group = Chat(id=GROUP, type="supergroup", title="G")
    event = to_event(Update(update_id=7, message=message(group, text="hi all")))
    assert isinstance(event, Text) and event.sender == Sender(USER, GROUP, "group", "hi")
    channel = Chat(id=GROUP - 1, type="channel", title="C")
    post = Message(message_id=1, date=WHEN, chat=channel, sender_chat=channel, text="news")
    posted = to_event(Update(update_id=8, channel_post=post))
    assert isinstance(posted, Text) and posted.sender == Sender(GROUP - 1, GROUP - 1, "channel")
    assert to_event(Update(update_id=9, edited_message=message(PRIVATE, text="x"))) is None


def test_a_successful_payment() -> None:
    expires = int(WHEN.timestamp())
    first = SuccessfulPayment(
        currency="XTR",
        total_amount=100,
        invoice_payload="plus:1",
        telegram_payment_charge_id="ch1",
        provider_payment_charge_id="",
        subscription_expiration_date=expires,
        is_recurring=True,
        is_first_recurring=True,
    )
    event = to_event(Update(update_id=10, message=message(PRIVATE, successful_payment=first)))
    assert event == Paid(
        Sender(USER, USER, "private", "hi"), "plus:1", "XTR", 100, "ch1", "", WHEN, True, 10
    )
    renewal = first.model_copy(update={"is_first_recurring": None})
    paid = to_event(Update(update_id=11, message=message(PRIVATE, successful_payment=renewal)))
    assert isinstance(paid, Paid) and not paid.first
    once = first.model_copy(
        update={
            "is_recurring": None,
            "is_first_recurring": None,
            "subscription_expiration_date": None,
        }
    )
    single = to_event(Update(update_id=12, message=message(PRIVATE, successful_payment=once)))
    assert isinstance(single, Paid) and single.first and single.expires_at is None


# ------------------------------------------------------------------ the whole bot


async def test_the_bot_polls_and_answers_start_with_the_age_gate(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__LIBRARY="aiogram",
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
    )
    bot = AiogramBot(settings, Secrets(tg.token, "test-key", MASTER_KEY))
    async with bot.running():
        polled = await tg.wait_for_call("getUpdates")
        assert sorted(polled.params["allowed_updates"]) == sorted(
            ["message", "callback_query", "channel_post", "pre_checkout_query"]
        )
        mark = tg.mark()
        tg.send_text(USER, "/start")
        gate = await tg.wait_for_message(USER, after=mark)
        assert gate.text == t("age.ask")
        mark = tg.mark()
        tg.press_button(USER, gate.button_data("18 or older"), message_id=gate.message_id)
        await tg.wait_for_call("answerCallbackQuery", after=mark)
        terms = await tg.wait_for_message(USER, after=mark)
        assert "accept the Terms" in terms.text
    assert tg.commands  # the menu was registered at start
    assert bot.runtime.services is None  # closed


def test_a_bot_without_a_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        AiogramBot(make_settings(tmp_path), Secrets(None, "test-key", MASTER_KEY))


async def test_the_webhook_answers_once_the_update_is_handled(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(
        tmp_path,
        tg,
        llm,
        AMIGO_TELEGRAM__LIBRARY="aiogram",
    )
    async with webhook_bot(settings, tg) as bot:
        assert isinstance(bot, AiogramBot)
        update_id = tg.send_text(USER, "/start")
        await tg.wait_for_delivery(update_id, status=200)
        assert tg.last_message(USER).text == t("age.ask")
