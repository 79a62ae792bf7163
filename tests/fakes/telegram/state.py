"""The state every part of the fake server shares, and the JSON it builds from that state.

The server is split into mixins by concern (simulated users, Bot API methods, polling and
failure injection); each inherits this base so the shared attributes are declared once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from .params import Handler
from .records import Call, SentDraft, SentMessage, WebhookDelivery, _FailureRule, _Pending, _Signal


class FakeTelegramState:
    """Attributes, addresses and JSON builders that the FakeTelegram mixins all rely on."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "amigo_test_bot",
        bot_first_name: str = "Amigo",
        strict_html_entities: bool = True,
        drafts_supported: bool = True,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_html_entities = strict_html_entities
        # False: answer sendMessageDraft like a Bot API server that predates it (404).
        self.drafts_supported = drafts_supported

        self.calls: list[Call] = []
        self.messages: list[SentMessage] = []
        self.drafts: list[SentDraft] = []
        self.updates: list[dict[str, Any]] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.commands_by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.allowed_updates: list[str] | None = None

        self._handlers: dict[str, Handler] = {}
        self._failures: list[_FailureRule] = []
        self._pending: list[_Pending] = []
        self._messages_by_key: dict[tuple[int, int], SentMessage] = {}
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._message_counters: dict[int, int] = {}
        self._callback_ids: set[str] = set()
        self._file_paths: dict[str, str] = {}
        self._next_update_id = 100_000
        self._next_callback_id = 4_000_000_000_000_000_000
        self._next_file = 1
        self._poll_generation = 0

        # Webhook (see .webhook): set by setWebhook; targets and timings are the test's to change.
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.webhook_targets: list[str] = []  # a load balancer: round-robin instead of the URL
        self.webhook_retry_seconds = 0.2
        self.webhook_timeout_seconds = 60.0
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_last_error: tuple[int, str] | None = None
        self._webhook_turn = 0
        self._webhook_task: asyncio.Task[None] | None = None

        self._call_signal = _Signal()
        self._update_signal = _Signal()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ---------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        """The bound port (0 before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)`` (file downloads)."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's User JSON, as in ``message.from``."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- response and JSON builders

    @staticmethod
    def _error(
        status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return web.json_response(payload, status=status)

    def _message_json(self, sent: SentMessage) -> dict[str, Any]:
        """The Message object Telegram returns for a bot message."""
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": self._chat_json(sent.chat_id),
            "from": self.bot_user,
        }
        if sent.edit_count:
            message["edit_date"] = int(time.time())
        if sent.document_file_id is not None:
            document: dict[str, Any] = {
                "file_id": sent.document_file_id,
                "file_unique_id": "U" + sent.document_file_id,
                "file_size": len(sent.document_bytes or b""),
            }
            if sent.document_name:
                document["file_name"] = sent.document_name
            if sent.document_mime:
                document["mime_type"] = sent.document_mime
            message["document"] = document
            if sent.text:
                message["caption"] = sent.text
                if sent.entities:
                    message["caption_entities"] = sent.entities
        else:
            message["text"] = sent.text
            if sent.entities:
                message["entities"] = sent.entities
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = {"inline_keyboard": sent.reply_markup["inline_keyboard"]}
        return message

    def _next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by user and bot messages, as in Telegram."""
        value = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = value
        return value

    @staticmethod
    def _user_json(
        user_id: int, first_name: str, language_code: str, username: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            user["username"] = username
        return user

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _new_file_id(self, kind: str) -> str:
        number = self._next_file
        self._next_file += 1
        return f"FAKE-{kind}-{number:06d}"

    def _register_file(self, file_id: str, folder: str, data: bytes, name: str | None) -> None:
        suffix = ""
        if name and "." in name:
            suffix = "." + name.rsplit(".", 1)[1]
        self.files[file_id] = data
        self._file_paths[file_id] = f"{folder}/file_{len(self._file_paths)}{suffix}"
