"""What the fake records and raises: uploads, sent messages, calls, API errors, failure rules.

Tests assert on these; the private ones are the server's own bookkeeping (injected failures,
queued updates, and a wake-up signal for waiters).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UploadedFile:
    """One multipart file part, kept so tests can inspect exactly what the bot uploaded."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage / sendDocument), updated in place by edits."""

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    document_name: str | None = None
    document_bytes: bytes | None = None
    document_mime: str | None = None
    document_file_id: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_to_message_id: int | None = None
    date: int = 0
    edit_count: int = 0
    deleted: bool = False

    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button, row by row; url buttons give ''."""
        if not self.reply_markup:
            return []
        result: list[tuple[str, str]] = []
        for row in self.reply_markup.get("inline_keyboard", []):
            for button in row:
                result.append((str(button.get("text", "")), str(button.get("callback_data", ""))))
        return result

    def button_data(self, label_substring: str) -> str:
        """callback_data of the first inline button whose label contains ``label_substring``."""
        for text, data in self.buttons():
            if label_substring in text and data:
                return data
        raise AssertionError(
            f"no inline button with callback_data whose label contains {label_substring!r}; "
            f"buttons: {[text for text, _ in self.buttons()]}"
        )


@dataclass
class SentDraft:
    """One accepted sendMessageDraft: the text a user saw growing (drafts are never stored by
    Telegram; they fade unless a message follows)."""

    chat_id: int
    draft_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    at: float = 0.0  # time.monotonic() when it arrived, to check pacing


@dataclass
class Call:
    """One Bot API request as the fake received it (params already JSON-decoded)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    error: str | None = None
    result: Any = None
    files: dict[str, UploadedFile] = field(default_factory=dict)
    message: SentMessage | None = None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None

    @property
    def ok(self) -> bool:
        """Whether the fake answered with ``"ok": true``."""
        return self.status == 200

    def summary(self) -> str:
        """Method, chat and status only: safe to print (no message text)."""
        chat = f"(chat={self.chat_id})" if self.chat_id is not None else ""
        status = "" if self.ok else f" [{self.status}]"
        return f"{self.method}{chat}{status}"


class ApiError(Exception):
    """Raise from a custom method handler to answer with a Telegram error."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class WebhookDelivery:
    """One POST of an update to a webhook target; status 0 = no HTTP answer (refused, dropped)."""

    update_id: int
    url: str
    status: int
    at: float


@dataclass
class _FailureRule:
    method: str
    status: int
    description: str | None
    retry_after: int | None
    remaining: int | None  # None: forever
    when: Callable[[dict[str, Any]], bool] | None
    drop_connection: bool


@dataclass
class _Pending:
    update: dict[str, Any]
    delivered: bool = False


class _Signal:
    """A broadcast wake-up that synchronous code can fire (asyncio.Condition needs a lock)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event


async def _wait_event(event: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
