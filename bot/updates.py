"""A Telegram update as a plain event: one conversion for both libraries.

python-telegram-bot and aiogram parse the same Bot API JSON into objects with the same field names
(`callback_query`, `message`, `channel_post`, `from_user`, `successful_payment`...), so the mapping
is written once, reading those fields by name. The one difference, a subscription's expiration
date (a datetime in python-telegram-bot, Unix seconds in aiogram), is normalised here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handlers.events import ButtonPress, ChatKind, Event, Media, Paid, Sender, Text

MEDIA_KINDS = (
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "sticker",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
"""What a message that is not text may hold; its kind is all the bot keeps of it (Media)."""


def to_event(update: Any) -> Event | None:
    """The plain event for an update of either library, or None for updates Amigo ignores
    (edits, joins...). Only ids, the chat kind, the app's language and the text are kept."""
    if (query := update.callback_query) is not None:
        chat = query.message.chat if query.message else None
        sender = Sender(
            query.from_user.id,
            chat.id if chat else query.from_user.id,
            language_code=query.from_user.language_code,
        )
        message_id = query.message.message_id if query.message else None
        return ButtonPress(sender, query.data or "", message_id, update.update_id)
    message = update.message or update.channel_post
    if message is None:
        return None
    kind: ChatKind = (
        "private"
        if message.chat.type == "private"
        else "channel"
        if message.chat.type == "channel"
        else "group"
    )
    tg_id = message.from_user.id if message.from_user else message.chat.id
    code = message.from_user.language_code if message.from_user else None
    sender = Sender(tg_id, message.chat.id, kind, code)
    if (paid := message.successful_payment) is not None:
        return Paid(
            sender,
            paid.invoice_payload,
            paid.currency,
            paid.total_amount,
            paid.telegram_payment_charge_id,
            paid.provider_payment_charge_id or "",
            _moment(paid.subscription_expiration_date),
            first=bool(paid.is_first_recurring) or not paid.is_recurring,
            update_id=update.update_id,
        )
    if message.text is not None:
        return Text(sender, message.text, update.update_id)
    media = next((k for k in MEDIA_KINDS if getattr(message, k, None)), "other")
    return Media(sender, media, update.update_id)


def _moment(value: datetime | int | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(value, UTC)
