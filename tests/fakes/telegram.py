"""An in-process fake of the Telegram Bot API, so the real bot library runs against loopback.

The point is realism where bots usually break: HTML that Telegram refuses, messages over
4096 UTF-16 units, "message is not modified", keyboards vanishing on edit, 429 flood
control, long polling with ``offset`` confirmation, and concurrent ``getUpdates`` conflicts.

Deliberate differences from the real server (documented so tests are not misread):

* A bare ``&`` or an unknown named entity in HTML is rejected (``strict_html_entities``);
  Telegram itself keeps it literally, but its docs require escaping, and this catches bots
  that forget ``html.escape``.
* Markdown / MarkdownV2 text is not validated; it is stored as sent (trimmed).
* Any chat id is accepted; use :meth:`FakeTelegram.fail_always` with ``when=`` to simulate
  "bot was blocked by the user" for a particular chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

__all__ = [
    "ApiError",
    "Call",
    "FakeTelegram",
    "HtmlParseError",
    "SentMessage",
    "UploadedFile",
    "parse_telegram_html",
    "utf16_len",
]

_T = TypeVar("_T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
_WHITESPACE = " \t\r\n\v\f\x00"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode (a port of the rules in tdlib's parse_html)
# --------------------------------------------------------------------------------------------


class HtmlParseError(ValueError):
    """Raised for HTML Telegram would refuse; the message mirrors Telegram's wording."""


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,8}));")


@dataclass
class _OpenTag:
    name: str
    argument: str
    start: int  # UTF-16 offset in the visible text
    expandable: bool = False


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``pos``; return (character, consumed length) or None."""
    match = _ENTITY_RE.match(text, pos)
    if match is None:
        return None
    dec, hexa, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        return None if char is None else (char, match.end() - pos)
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end() - pos


def parse_telegram_html(
    text: str, *, strict_entities: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (visible text, entities), or raise HtmlParseError.

    The visible text is trimmed of surrounding whitespace as Telegram does; entity offsets and
    lengths are in UTF-16 code units.
    """
    out: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0

    def at(pos: int) -> str:
        return f"at byte offset {len(text[:pos].encode('utf-8'))}"

    def is_space(pos: int) -> bool:
        return pos < n and text[pos] in _WHITESPACE

    def read_entity_or_amp(pos: int) -> tuple[str, int]:
        decoded = _decode_entity(text, pos)
        if decoded is not None:
            return decoded
        if strict_entities:
            raise HtmlParseError(
                f'Unescaped "&" or unsupported HTML entity {at(pos)}; escape "&" as "&amp;"'
            )
        return "&", 1

    while i < n:
        char = text[i]
        if char == "&":
            decoded, consumed = read_entity_or_amp(i)
            out.append(decoded)
            utf16 += utf16_len(decoded)
            i += consumed
            continue
        if char != "<":
            out.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and text[i] == "/":
            # An end tag.
            if not stack:
                raise HtmlParseError(f"Unexpected end tag {at(begin)}")
            i += 1
            name_start = i
            while i < n and not is_space(i) and text[i] != ">":
                i += 1
            end_name = text[name_start:i].lower()
            while is_space(i):
                i += 1
            if i >= n or text[i] != ">":
                raise HtmlParseError(f"Unclosed end tag {at(begin)}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag {at(begin)}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(tag, utf16, stack, entities)
            continue

        # A start tag.
        name_start = i
        while i < n and not is_space(i) and text[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag {at(begin)}")
        name = text[name_start:i].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" {at(begin)}')
        argument = ""
        expandable = False
        while True:
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            if text[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and not is_space(i) and text[i] not in "=>":
                i += 1
            attr = text[attr_start:i].lower()
            if not attr:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" {at(begin)}')
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            if text[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    expandable = True
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"{at(begin)}"
                )
            i += 1
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            value_chars: list[str] = []
            if text[i] in "'\"":
                quote = text[i]
                i += 1
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded, consumed = read_entity_or_amp(i)
                        value_chars.append(decoded)
                        i += consumed
                    else:
                        value_chars.append(text[i])
                        i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag {at(begin)}")
                i += 1
            else:
                token_start = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                if i < n and not is_space(i) and text[i] != ">":
                    raise HtmlParseError(f"Unexpected end of name token {at(token_start)}")
                value_chars.append(text[token_start:i].lower())
            value = "".join(value_chars)
            if name == "a" and attr == "href":
                argument = value
            elif name == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif name == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif name == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif name == "blockquote" and attr == "expandable":
                expandable = True
        if name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {at(begin)}')
        if name == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Invalid custom emoji identifier specified")
        stack.append(_OpenTag(name, argument, utf16, expandable))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return _trim("".join(out), entities)


def _close_tag(
    tag: _OpenTag, utf16_end: int, stack: list[_OpenTag], entities: list[dict[str, Any]]
) -> None:
    """Turn a closed tag into a MessageEntity dict, as Telegram reports them back."""
    length = utf16_end - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> becomes one pre entity with a language.
        if tag.argument:
            stack[-1].argument = tag.argument
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": _ENTITY_TYPES[tag.name], "offset": tag.start}
    entity["length"] = length
    if tag.name == "a":
        if not tag.argument:
            return
        entity["url"] = tag.argument
    elif tag.name == "pre" and tag.argument:
        entity["language"] = tag.argument
    elif tag.name == "blockquote" and tag.expandable:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.argument
    entities.append(entity)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities to match."""
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip(_WHITESPACE))])
    total = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Parameter decoding
# --------------------------------------------------------------------------------------------

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
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
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


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Bot API server on 127.0.0.1 that real PTB / aiogram clients can talk to.

    Use ``fake.base_url`` / ``fake.base_file_url`` with the client, simulate users with
    :meth:`send_text` & co., and assert on ``fake.calls`` or with the ``wait_for_*`` helpers.
    Stopping the server (``await fake.stop()``) makes the port refuse connections; ``start()``
    again re-binds the same port, to test outages and recovery.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "amigo_test_bot",
        bot_first_name: str = "Amigo",
        strict_html_entities: bool = True,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_html_entities = strict_html_entities

        self.calls: list[Call] = []
        self.messages: list[SentMessage] = []
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

        self._call_signal = _Signal()
        self._update_signal = _Signal()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ---------------------------------------------------------------- lifecycle

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

    async def start(self) -> None:
        """Bind 127.0.0.1 (a free port the first time, the same port on restart)."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Release pending long polls and close the port (connections are then refused)."""
        if self._runner is None:
            return
        self._closing.set()
        self._update_signal.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail.

        A 429 carries ``parameters.retry_after`` (default 1) so PTB raises RetryAfter.
        ``drop_connection`` closes the socket without an answer (PTB: NetworkError).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(
            _FailureRule(method, status, description, retry_after, times, when, drop_connection)
        )

    def fail_always(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Like :meth:`fail_next` but until :meth:`clear_failures`."""
        self._failures.append(
            _FailureRule(method, status, description, retry_after, None, when, drop_connection)
        )

    def clear_failures(self) -> None:
        """Forget every injected failure."""
        self._failures.clear()

    def set_handler(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(params)`` (raise ApiError for errors).

        Lets a test support a method this fake does not implement, or override one.
        """
        self._handlers[method.lower()] = handler

    # ---------------------------------------------------------------- simulated users

    def push_update(self, raw: dict[str, Any]) -> int:
        """Queue any update JSON for getUpdates; returns its update_id.

        An explicit ``update_id`` may repeat an earlier one: it is delivered once more even if
        the bot already confirmed that id (simulates Telegram redelivering after a crash).
        """
        update = dict(raw)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self.updates.append(update)
        self._pending.append(_Pending(update))
        self._update_signal.notify()
        return update_id

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        language_code: str = "en",
        username: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """A user writes ``text``; "/cmd" gets a bot_command entity. Returns the update_id."""
        content: dict[str, Any] = {"text": text}
        match = _BOT_COMMAND_RE.match(text)
        if match is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
            ]
        message = self._user_message(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            language_code=language_code,
            username=username,
            reply_to=reply_to,
        )
        return self.push_update({"message": message})

    def send_command(self, user_id: int, command: str, args: str = "", **kw: Any) -> int:
        """Shortcut for ``send_text(user_id, "/command args")``."""
        text = "/" + command.lstrip("/")
        if args:
            text += " " + args
        return self.send_text(user_id, text, **kw)

    def press_button(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "Test",
        language_code: str = "en",
    ) -> int:
        """A user taps an inline button carrying ``data`` under bot message ``message_id``."""
        chat = user_id if chat_id is None else chat_id
        sent = self._messages_by_key.get((chat, message_id))
        if sent is not None and not sent.deleted:
            message = self._message_json(sent)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat_json(chat),
                "from": self.bot_user,
                "text": "",
            }
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callback_ids.add(query_id)
        query = {
            "id": query_id,
            "from": self._user_json(user_id, first_name, language_code, None),
            "message": message,
            "chat_instance": str(7_000_000_000 + abs(chat)),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def send_media(
        self,
        user_id: int,
        kind: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        caption: str | None = None,
        content: bytes | None = None,
        **overrides: Any,
    ) -> int:
        """A user sends a photo/voice/video/sticker/document/location/contact/video_note/
        audio/animation; ``overrides`` are merged into the media object, ``content`` is what
        getFile + download will return.
        """
        if kind not in _MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {_MEDIA_KINDS}")
        body = self._media_content(kind, user_id, overrides, content)
        if caption is not None:
            body["caption"] = caption
        message = self._user_message(
            user_id, body, chat_id=chat_id, chat_type=chat_type, first_name=first_name
        )
        return self.push_update({"message": message})

    def send_channel_post(self, chat_id: int, text: str, *, title: str = "Test Channel") -> int:
        """A post in a channel where the bot is admin."""
        chat = {"id": chat_id, "type": "channel", "title": title}
        self._chats[chat_id] = chat
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "sender_chat": chat,
            "text": text,
        }
        return self.push_update({"channel_post": message})

    # ---------------------------------------------------------------- inspection

    def mark(self) -> int:
        """Current number of calls; pass as ``after=`` to wait only for newer calls."""
        return len(self.calls)

    def messages_to(self, chat_id: int, *, include_deleted: bool = True) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [
            m for m in self.messages if m.chat_id == chat_id and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> SentMessage:
        """The latest message the bot sent to ``chat_id``."""
        sent = self.messages_to(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def calls_of(self, method: str) -> list[Call]:
        """All calls of ``method`` so far."""
        return [c for c in self.calls if c.method == method]

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Commands set with setMyCommands for the default scope and no language."""
        return self.commands_by_scope.get(("default", ""), [])

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Call:
        """The first call of ``method`` at index >= ``after`` matching ``predicate``."""

        def find() -> Call | None:
            for call in self.calls[after:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._wait(find, f"a {method} call", timeout)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> SentMessage:
        """The first message (sendMessage/sendDocument) to ``chat_id`` sent by a call at
        index >= ``after`` that matches ``predicate`` (re-checked after edits).
        """

        def find() -> SentMessage | None:
            for call in self.calls[after:]:
                sent = call.message
                if (
                    call.method in ("sendMessage", "sendDocument")
                    and sent is not None
                    and sent.chat_id == chat_id
                    and (predicate is None or predicate(sent))
                ):
                    return sent
            return None

        return await self._wait(find, f"a message to chat {chat_id}", timeout)

    async def _wait(self, find: Callable[[], _T | None], what: str, seconds: float) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            event = self._call_signal.current()
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(c.summary() for c in self.calls[-8:]) or "none"
                raise AssertionError(
                    f"timed out after {seconds}s waiting for {what}; last calls: {recent}"
                )
            await _wait_event(event, remaining)

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method_raw = request.match_info["method"]
        try:
            raw, files = await self._read_params(request)
        except ValueError:
            return self._error(400, "Bad Request: can't parse request body")
        params = _normalize_params(raw)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value[len("attach://") :])
                if attached is not None:
                    params[key] = attached
        for name, upload in files.items():
            params.setdefault(name, upload)
        method = self._canonical_name(method_raw)
        call = Call(method=method, params=params, at=time.monotonic(), files=files)

        if request.match_info["token"] != self.token:
            return self._finish(call, self._error(401, "Unauthorized"))
        rule = self._take_failure(method, params)
        if rule is not None:
            if rule.drop_connection:
                call.status, call.error = 0, "connection dropped"
                self._record(call)
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            return self._finish(call, self._rule_error(rule))

        custom = self._handlers.get(method.lower())
        try:
            if custom is not None:
                result = custom(params)
            elif method == "getUpdates":
                self._record(call)  # at arrival, so tests can see the bot is polling
                try:
                    result = await self._get_updates(params)
                except ApiError as err:
                    call.status, call.error = err.status, err.description
                    return self._error(err.status, err.description, err.parameters)
                except asyncio.CancelledError:
                    call.status, call.error = 499, "client went away"
                    raise
                call.result = result
                return web.json_response({"ok": True, "result": result})
            else:
                builtin = _BUILTINS.get(method)
                if builtin is None:
                    return self._finish(call, self._error(404, "Not Found"))
                result = builtin(self, call)
        except ApiError as err:
            return self._finish(call, self._error(err.status, err.description, err.parameters))
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for file_id, file_path in self._file_paths.items():
            if file_path == path:
                return web.Response(body=self.files[file_id])
        return web.Response(status=404, text="Not Found")

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.can_read_body:
            return raw, files
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            raw.update(body)
            return raw, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    field_name=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            elif isinstance(value, bytes):
                raw[key] = value.decode("utf-8", "replace")
            else:
                raw[key] = value
        return raw, files

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._call_signal.notify()

    def _finish(self, call: Call, response: web.Response) -> web.Response:
        call.status = response.status
        if response.text:
            call.error = json.loads(response.text).get("description")
        self._record(call)
        return response

    @staticmethod
    def _error(
        status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return web.json_response(payload, status=status)

    def _take_failure(self, method: str, params: dict[str, Any]) -> _FailureRule | None:
        for rule in self._failures:
            if rule.method.lower() != method.lower():
                continue
            if rule.when is not None and not rule.when(params):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._failures.remove(rule)
            return rule
        return None

    def _rule_error(self, rule: _FailureRule) -> web.Response:
        parameters: dict[str, Any] | None = None
        description = rule.description
        if rule.status == 429:
            retry_after = 1 if rule.retry_after is None else rule.retry_after
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif rule.retry_after is not None:
            parameters = {"retry_after": rule.retry_after}
        default = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        description = description or default.get(rule.status, f"Error {rule.status}")
        return self._error(rule.status, description, parameters)

    @staticmethod
    def _canonical_name(method: str) -> str:
        lowered = method.lower()
        for name in _BUILTINS:
            if name.lower() == lowered:
                return name
        return method

    # ---------------------------------------------------------------- getUpdates

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_signal.notify()  # an older long poll now gets 409, like Telegram

        offset = params.get("offset") or 0
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        if not isinstance(offset, int) or not isinstance(limit, int):
            raise ApiError(400, "Bad Request: wrong parameter offset or limit")
        if not isinstance(timeout, int | float):
            raise ApiError(400, "Bad Request: wrong parameter timeout")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed]
        self._confirm(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(timeout)
        while True:
            event = self._update_signal.current()
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            batch = self._take_batch(max(1, min(limit, 100)))
            if batch or self._closing.is_set():
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await _wait_event(event, remaining)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [
                p for p in self._pending if p.update["update_id"] >= offset or not p.delivered
            ]

    def _take_batch(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates) if self.allowed_updates else _DEFAULT_ALLOWED
        batch: list[dict[str, Any]] = []
        for pending in list(self._pending):
            kind = next((k for k in pending.update if k != "update_id"), "")
            if kind not in allowed:
                self._pending.remove(pending)
                self.dropped_updates.append(pending.update)
                continue
            if len(batch) < limit:
                pending.delivered = True
                batch.append(pending.update)
        return batch

    # ---------------------------------------------------------------- Bot API methods

    def _get_me(self, call: Call) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, call: Call) -> Any:
        if call.params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    def _get_webhook_info(self, call: Call) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _true(self, call: Call) -> Any:
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_key = "default"
        if isinstance(scope, dict) and scope.get("type", "default") != "default":
            scope_key = json.dumps(scope, sort_keys=True)
        return scope_key, str(params.get("language_code") or "")

    def _set_my_commands(self, call: Call) -> Any:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: parameter commands is invalid")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands_by_scope[self._commands_key(call.params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, call: Call) -> Any:
        return self.commands_by_scope.get(self._commands_key(call.params), [])

    def _delete_my_commands(self, call: Call) -> Any:
        self.commands_by_scope.pop(self._commands_key(call.params), None)
        return True

    def _send_message(self, call: Call) -> Any:
        params = call.params
        chat_id = self._chat_id(params)
        text, entities = self._checked_text(params.get("text"), params, caption=False)
        markup = self._checked_markup(params.get("reply_markup"))
        sent = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text=text,
            raw_text=str(params.get("text", "")),
            parse_mode=self._parse_mode(params),
            reply_markup=markup,
            entities=entities,
            reply_to_message_id=self._reply_to(params),
            date=int(time.time()),
        )
        return self._store(call, sent)

    def _send_document(self, call: Call) -> Any:
        params = call.params
        chat_id = self._chat_id(params)
        caption_raw = params.get("caption")
        text, entities = "", list[dict[str, Any]]()
        if caption_raw not in (None, ""):
            text, entities = self._checked_text(caption_raw, params, caption=True)
        document = params.get("document")
        file_id: str | None = None
        if isinstance(document, UploadedFile):
            name: str | None = document.filename
            data: bytes | None = document.data
            mime: str | None = document.content_type
            if not mime or mime == "application/octet-stream":
                guessed = mimetypes.guess_type(document.filename)[0]
                mime = guessed or "application/octet-stream"
        elif isinstance(document, str) and document:
            name, data, mime = None, self.files.get(document), None
            file_id = document
        else:
            raise ApiError(400, "Bad Request: there is no document in the request")
        sent = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text=text,
            raw_text=str(caption_raw or ""),
            parse_mode=self._parse_mode(params),
            reply_markup=self._checked_markup(params.get("reply_markup")),
            document_name=name,
            document_bytes=data,
            document_mime=mime,
            document_file_id=file_id,
            entities=entities,
            reply_to_message_id=self._reply_to(params),
            date=int(time.time()),
        )
        return self._store(call, sent)

    def _edit_message_text(self, call: Call) -> Any:
        params = call.params
        if params.get("inline_message_id"):
            return True
        sent = self._editable(params)
        if sent.document_file_id is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._checked_text(params.get("text"), params, caption=False)
        markup = self._checked_markup(params.get("reply_markup"))
        if sent.text == text and sent.entities == entities and sent.reply_markup == markup:
            raise ApiError(400, _NOT_MODIFIED)
        sent.text, sent.entities, sent.reply_markup = text, entities, markup
        sent.raw_text = str(params.get("text", ""))
        sent.parse_mode = self._parse_mode(params)
        sent.edit_count += 1
        call.message = sent
        return self._message_json(sent)

    def _edit_message_reply_markup(self, call: Call) -> Any:
        params = call.params
        if params.get("inline_message_id"):
            return True
        sent = self._editable(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if sent.reply_markup == markup:
            raise ApiError(400, _NOT_MODIFIED)
        sent.reply_markup = markup
        sent.edit_count += 1
        call.message = sent
        return self._message_json(sent)

    def _delete_message(self, call: Call) -> Any:
        chat_id = self._chat_id(call.params)
        key = (chat_id, self._message_id(call.params))
        sent = self._messages_by_key.get(key)
        if sent is not None and not sent.deleted:
            sent.deleted = True
            return True
        if self._user_messages.pop(key, None) is not None:
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    def _send_chat_action(self, call: Call) -> Any:
        self._chat_id(call.params)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _answer_callback_query(self, call: Call) -> Any:
        query_id = call.params.get("callback_query_id")
        if query_id not in self._callback_ids:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(call.params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _get_file(self, call: Call) -> Any:
        file_id = call.params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": "U" + file_id,
            "file_size": len(self.files[file_id]),
            "file_path": self._file_paths[file_id],
        }

    # ---------------------------------------------------------------- method helpers

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _message_id(params: dict[str, Any]) -> int:
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        return message_id

    @staticmethod
    def _parse_mode(params: dict[str, Any]) -> str | None:
        mode = params.get("parse_mode")
        return str(mode) if mode else None

    @staticmethod
    def _reply_to(params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
            return int(reply["message_id"])
        legacy = params.get("reply_to_message_id")
        return legacy if isinstance(legacy, int) else None

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        key = (self._chat_id(params), self._message_id(params))
        sent = self._messages_by_key.get(key)
        if sent is None or sent.deleted:
            if key in self._user_messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return sent

    def _checked_text(
        self, raw: Any, params: dict[str, Any], *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """Validate text/caption the way Telegram does; return (visible text, entities)."""
        text = "" if raw is None else str(raw)
        mode = self._parse_mode(params)
        given = params.get("caption_entities" if caption else "entities")
        entities: list[dict[str, Any]] = given if isinstance(given, list) else []
        if mode is not None and mode.lower() not in ("html", "markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if mode is not None and mode.lower() == "html":
            try:
                visible, entities = parse_telegram_html(
                    text, strict_entities=self.strict_html_entities
                )
            except HtmlParseError as err:
                raise ApiError(400, f"Bad Request: can't parse entities: {err}") from None
        else:
            visible = text.strip(_WHITESPACE)
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if not caption and not visible:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > limit:
            what = "message caption is too long" if caption else "message is too long"
            raise ApiError(400, f"Bad Request: {what}")
        return visible, entities

    @staticmethod
    def _checked_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
                if not any(key in button for key in _BUTTON_ACTIONS):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _store(self, call: Call, sent: SentMessage) -> dict[str, Any]:
        self.messages.append(sent)
        self._messages_by_key[(sent.chat_id, sent.message_id)] = sent
        if sent.document_bytes is not None and sent.document_file_id is None:
            sent.document_file_id = self._new_file_id("document")
            self._register_file(
                sent.document_file_id, "documents", sent.document_bytes, sent.document_name
            )
        call.message = sent
        return self._message_json(sent)

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

    # ---------------------------------------------------------------- JSON builders

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

    def _user_message(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_id: int | None,
        chat_type: str,
        first_name: str,
        language_code: str = "en",
        username: str | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        if chat_type == "private":
            chat_id = user_id if chat_id is None else chat_id
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        elif chat_type in ("group", "supergroup"):
            if chat_id is None or chat_id >= 0:
                raise ValueError(f"a {chat_type} needs a negative chat_id")
            chat = {"id": chat_id, "type": chat_type, "title": f"Test {chat_type}"}
        else:
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        self._chats[chat_id] = chat
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self._user_json(user_id, first_name, language_code, username),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            replied = self._messages_by_key.get((chat_id, reply_to))
            if replied is not None:
                message["reply_to_message"] = self._message_json(replied)
            elif (chat_id, reply_to) in self._user_messages:
                message["reply_to_message"] = self._user_messages[(chat_id, reply_to)]
        self._user_messages[(chat_id, message["message_id"])] = message
        return message

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

    def _media_content(
        self, kind: str, user_id: int, overrides: dict[str, Any], content: bytes | None
    ) -> dict[str, Any]:
        if kind == "location":
            return {"location": {"latitude": 52.52, "longitude": 13.405, **overrides}}
        if kind == "contact":
            contact = {"phone_number": "+15555550123", "first_name": "Friend", **overrides}
            return {"contact": contact}

        file_id = self._new_file_id(kind)
        data = content if content is not None else f"fake {kind} bytes {file_id}".encode()
        base: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": "U" + file_id,
            "file_size": len(data),
        }
        extra: dict[str, Any]
        if kind == "photo":
            sizes = []
            for index, (width, height) in enumerate(((90, 67), (320, 240), (1280, 960))):
                size_id = f"{file_id}-{index}"
                self._register_file(size_id, "photos", data, "photo.jpg")
                sizes.append(
                    {
                        "file_id": size_id,
                        "file_unique_id": "U" + size_id,
                        "file_size": len(data),
                        "width": width,
                        "height": height,
                        **overrides,
                    }
                )
            return {"photo": sizes}
        if kind == "voice":
            extra = {"duration": 3, "mime_type": "audio/ogg"}
            folder, name = "voice", "voice.oga"
        elif kind == "video":
            extra = {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"}
            folder, name = "videos", "video.mp4"
        elif kind == "sticker":
            extra = {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "😀",
                "set_name": "FakeStickers",
            }
            folder, name = "stickers", "sticker.webp"
        elif kind == "document":
            extra = {"file_name": "notes.txt", "mime_type": "text/plain"}
            folder, name = "documents", "notes.txt"
        elif kind == "video_note":
            extra = {"length": 240, "duration": 4}
            folder, name = "video_notes", "video_note.mp4"
        elif kind == "audio":
            extra = {
                "duration": 180,
                "performer": "Test Artist",
                "title": "Test Song",
                "file_name": "song.mp3",
                "mime_type": "audio/mpeg",
            }
            folder, name = "music", "song.mp3"
        else:  # animation
            extra = {
                "width": 320,
                "height": 240,
                "duration": 2,
                "file_name": "funny.gif.mp4",
                "mime_type": "video/mp4",
            }
            folder, name = "animations", "funny.mp4"
        media = {**base, **extra, **overrides}
        self._register_file(file_id, folder, data, str(media.get("file_name") or name))
        if kind == "animation":
            # Telegram also fills "document" for animations, for old clients.
            return {"animation": media, "document": dict(media)}
        return {kind: media}


_BUILTINS: dict[str, Callable[[FakeTelegram, Call], Any]] = {
    "getMe": FakeTelegram._get_me,
    "getUpdates": FakeTelegram._true,  # handled asynchronously in _handle
    "deleteWebhook": FakeTelegram._delete_webhook,
    "getWebhookInfo": FakeTelegram._get_webhook_info,
    "setMyCommands": FakeTelegram._set_my_commands,
    "getMyCommands": FakeTelegram._get_my_commands,
    "deleteMyCommands": FakeTelegram._delete_my_commands,
    "setMyDescription": FakeTelegram._true,
    "setMyShortDescription": FakeTelegram._true,
    "sendMessage": FakeTelegram._send_message,
    "editMessageText": FakeTelegram._edit_message_text,
    "editMessageReplyMarkup": FakeTelegram._edit_message_reply_markup,
    "deleteMessage": FakeTelegram._delete_message,
    "sendChatAction": FakeTelegram._send_chat_action,
    "answerCallbackQuery": FakeTelegram._answer_callback_query,
    "sendDocument": FakeTelegram._send_document,
    "getFile": FakeTelegram._get_file,
    "close": FakeTelegram._true,
    "logOut": FakeTelegram._true,
}
