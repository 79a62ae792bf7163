"""An in-process fake of the Telegram Bot API, so the real bot library runs against loopback.

The point is realism where bots usually break: HTML that Telegram refuses, messages over
4096 UTF-16 units, "message is not modified", keyboards vanishing on edit, 429 flood
control, long polling with ``offset`` confirmation, and concurrent ``getUpdates`` conflicts.

Deliberate differences from the real server (documented so tests are not misread):

* A bare ``&`` or an unknown named entity in HTML is rejected (``strict_html_entities``);
  Telegram itself keeps it literally, but its docs require escaping, and this catches bots
  that forget ``html.escape``.
* Markdown / MarkdownV2 text is not validated; it is stored as sent (trimmed).
* ``sendMessageDraft`` follows Bot API 10.0 (empty text allowed); ``drafts_supported=False``
  answers it like an older server, 404 "Not Found: method not found".
* Webhooks (``setWebhook``) accept any http(s) URL on loopback and never post beyond it;
  ``webhook_targets`` delivers to several workers round-robin, like a load balancer.
* Payments are Telegram Stars only (``XTR``); see :mod:`.payments` for the flow and its
  deliberate differences.
* Any chat id is accepted; use :meth:`FakeTelegram.fail_always` with ``when=`` to simulate
  "bot was blocked by the user" for a particular chat.
"""

from .html_mode import HtmlParseError, parse_telegram_html, utf16_len
from .params import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from .payments import PaymentResult, PreCheckout, StarCharge, StarInvoice, StarSubscription
from .records import ApiError, Call, SentDraft, SentMessage, UploadedFile, WebhookDelivery
from .server import FakeTelegram

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "ApiError",
    "Call",
    "FakeTelegram",
    "HtmlParseError",
    "PaymentResult",
    "PreCheckout",
    "SentDraft",
    "SentMessage",
    "StarCharge",
    "StarInvoice",
    "StarSubscription",
    "UploadedFile",
    "WebhookDelivery",
    "parse_telegram_html",
    "utf16_len",
]
