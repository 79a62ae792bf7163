"""Request decoding and the Bot API's fixed vocabulary, shared by the server's method groups.

Clients send form fields as strings (JSON-encoding complex values); normalising them here lets
every method see the types Telegram would. The constants are Telegram's limits and enums.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "action",
        "emoji",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "url",
        "file_id",
        "secret_token",
        "business_connection_id",
        "message_effect_id",
        "payload",
        "currency",
        "provider_token",
        "provider_data",
        "photo_url",
        "pre_checkout_query_id",
        "error_message",
        "telegram_payment_charge_id",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "draft_id",
        "offset",
        "limit",
        "user_id",
        "cache_time",
        "message_thread_id",
        "from_chat_id",
        "reply_to_message_id",
        "duration",
        "width",
        "height",
        "max_connections",
        "subscription_period",
        "max_tip_amount",
    }
)
_FLOAT_FIELDS = frozenset({"timeout"})
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "allowed_updates",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "message_ids",
        "menu_button",
        "reaction",
        "prices",
        "suggested_tip_amounts",
    }
)
_INT_RE = re.compile(r"-?[0-9]+")


def _normalize_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn form strings into the types Telegram would see (clients JSON-encode complex values)."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _STRING_FIELDS:
                pass
            elif key in _INT_FIELDS:
                if _INT_RE.fullmatch(value):
                    value = int(value)
            elif key in _FLOAT_FIELDS:
                with contextlib.suppress(ValueError):
                    number = float(value)
                    value = int(number) if number.is_integer() else number
            elif key in _JSON_FIELDS or value[:1] in ("{", "[") or value in ("true", "false"):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        params[key] = value
    return params


_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_MEDIA_KINDS = (
    "photo",
    "voice",
    "video",
    "sticker",
    "document",
    "location",
    "contact",
    "video_note",
    "audio",
    "animation",
)

Handler = Callable[[dict[str, Any]], Any]
