"""The fake Telegram's sendMessageDraft, seen through real PTB: what it accepts and refuses as
Bot API 10.0 does, drafts recorded in order so tests can watch a reply grow, and a switch that
answers like an older server that does not know the method."""

from __future__ import annotations

import pytest
import telegram
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter

from tests.fake_telegram_helpers import USER
from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes.telegram import MAX_TEXT_LENGTH, FakeTelegram


async def test_growing_drafts_are_recorded_in_order(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    for text in ("Hel", "Hello <b>wor</b>", "Hello <b>world</b> &amp; more"):
        assert await ptb_bot.send_message_draft(USER, 7, text, parse_mode=ParseMode.HTML)
    drafts = telegram_api.drafts_to(USER)
    assert [d.text for d in drafts] == ["Hel", "Hello wor", "Hello world & more"]
    assert {d.draft_id for d in drafts} == {7} and drafts[0].at <= drafts[-1].at
    assert drafts[-1].entities == [{"type": "bold", "offset": 6, "length": 5}]
    assert len(telegram_api.calls_of("sendMessageDraft")) == 3
    assert telegram_api.messages == []  # a draft is no message


async def test_an_empty_draft_is_the_thinking_placeholder(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    assert await ptb_bot.send_message_draft(USER, 1)
    assert await ptb_bot.send_message_draft(USER, 1, "")
    assert [d.text for d in telegram_api.drafts] == ["", ""]


@pytest.mark.parametrize(
    ("chat_id", "draft_id", "text", "mode", "error"),
    [
        (USER, 0, "hi", None, "non-zero"),
        (-100123, 5, "hi", None, "private chats"),
        (USER, 5, "x" * (MAX_TEXT_LENGTH + 1), None, "message is too long"),
        (USER, 5, "<b>unclosed", ParseMode.HTML, "can't parse entities"),
        (USER, 5, "hi", "bogus", "unsupported parse_mode"),
    ],
)
async def test_drafts_are_validated_like_messages(
    telegram_api: FakeTelegram,
    ptb_bot: telegram.Bot,
    chat_id: int,
    draft_id: int,
    text: str,
    mode: str | None,
    error: str,
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await ptb_bot.send_message_draft(chat_id, draft_id, text, parse_mode=mode)
    assert telegram_api.drafts == [] and not telegram_api.calls[-1].ok


async def test_a_draft_at_the_limit_counts_utf16_units(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    assert await ptb_bot.send_message_draft(USER, 3, "😀" * (MAX_TEXT_LENGTH // 2))
    with pytest.raises(BadRequest, match="too long"):
        await ptb_bot.send_message_draft(USER, 3, "😀" * (MAX_TEXT_LENGTH // 2) + "!")


async def test_an_older_server_does_not_know_the_method(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.drafts_supported = False
    with pytest.raises(InvalidToken, match="method not found"):
        await ptb_bot.send_message_draft(USER, 1, "hi")
    call = telegram_api.calls_of("sendMessageDraft")[0]
    assert (call.status, call.error) == (404, "Not Found: method not found")
    assert telegram_api.drafts == []
    await ptb_bot.send_message(USER, "messages still work")


async def test_drafts_take_injected_failures(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    telegram_api.fail_next("sendMessageDraft", retry_after=3)
    with pytest.raises(RetryAfter):
        await ptb_bot.send_message_draft(USER, 1, "hi")
    assert await ptb_bot.send_message_draft(USER, 1, "hi")
    assert [d.text for d in telegram_api.drafts] == ["hi"]
