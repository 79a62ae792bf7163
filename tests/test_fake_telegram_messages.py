"""The fake Telegram judges what the bot sends as Telegram does, seen through real PTB.

HTML and its entities, UTF-16 length limits, keyboards, documents, edits, deletes, callback
answers and commands: if these fail, the end-to-end tests' view of the bot's output is wrong.
"""

from __future__ import annotations

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.fake_telegram_helpers import USER
from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes.telegram import FakeTelegram, parse_telegram_html, utf16_len


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
