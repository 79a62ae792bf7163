"""Steps a simulated Telegram user takes, through the fake Bot API, against the real bot."""

from __future__ import annotations

from tests.db import Target, awrite
from tests.fakes import FakeTelegram
from tests.fakes.telegram import SentMessage


async def say(
    tg: FakeTelegram,
    user_id: int,
    text: str,
    *,
    timeout: float = 10.0,
    containing: str | None = None,
) -> SentMessage:
    """Send text and return the bot's next message to that chat (the next `containing` those
    words, where a background task such as a broadcast may send to the chat at the same time)."""
    mark = tg.mark()
    tg.send_text(user_id, text)
    if containing is None:
        return await tg.wait_for_message(user_id, after=mark, timeout=timeout)
    return await tg.wait_for_message(
        user_id, lambda m: containing in m.text, after=mark, timeout=timeout
    )


async def press(tg: FakeTelegram, user_id: int, message: SentMessage, label: str) -> SentMessage:
    """Tap the button whose label contains `label`; return the next message the bot sends."""
    mark = tg.mark()
    tg.press_button(user_id, message.button_data(label), message_id=message.message_id)
    return await tg.wait_for_message(user_id, after=mark)


async def onboard(
    tg: FakeTelegram,
    user_id: int,
    *,
    name: str | None = None,
    training: bool = False,
    marketing: bool = False,
) -> SentMessage:
    """The whole onboarding, as a person taps through it. Returns the 'All set' message."""
    msg = await say(tg, user_id, "/start")
    assert "18 or older?" in msg.text, msg.text
    msg = await press(tg, user_id, msg, "I'm 18 or older")
    assert "accept the Terms" in msg.text, msg.text
    msg = await press(tg, user_id, msg, "I accept")
    msg = await press(tg, user_id, msg, "Yes" if training else "No")
    msg = await press(tg, user_id, msg, "Yes" if marketing else "No")
    assert "Type a name" in msg.text, msg.text
    if name is None:
        msg = await press(tg, user_id, msg, "Keep")
    else:
        await say(tg, user_id, name)
        msg = await tg.wait_for_message(user_id, lambda m: "present" in m.text)
    msg = await press(tg, user_id, msg, "Female")
    msg = await press(tg, user_id, msg, "Warm")
    done = await tg.wait_for_message(user_id, lambda m: "All set" in m.text)
    return done


async def press_for_edit(
    tg: FakeTelegram, user_id: int, message: SentMessage, label: str
) -> SentMessage:
    """Tap a button the bot answers by editing that same message; return the edited message."""
    mark = tg.mark()
    tg.press_button(user_id, message.button_data(label), message_id=message.message_id)
    call = await tg.wait_for_call("editMessageText", after=mark)
    assert call.message is not None
    return call.message


async def write_db(db: Target, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the running bot's database behind its back, as an operator with sqlite3 or psql
    would (tests/db.py: either backend).

    Never blocking the event loop: a blocking write there could wait for the bot's writer while
    the bot, needing that same loop to finish its transaction, waits for the write (a deadlock
    until the sqlite3 timeout: 'database is locked')."""
    await awrite(db, sql, *params)
