"""The Bot API methods the fake implements, validated the way Telegram validates them."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable
from typing import Any

from .html_mode import _WHITESPACE, HtmlParseError, parse_telegram_html, utf16_len
from .params import (
    _BUTTON_ACTIONS,
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _NOT_MODIFIED,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
)
from .records import ApiError, Call, SentDraft, SentMessage, UploadedFile
from .state import FakeTelegramState


class BotMethodsMixin(FakeTelegramState):
    """One ``_method(call)`` per Bot API method; :data:`_BUILTINS` maps names to them."""

    def _get_me(self, call: Call) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

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

    def _send_message_draft(self, call: Call) -> Any:
        """Bot API 10.0 (what python-telegram-bot 22.8 speaks): a private chat, a non-zero
        draft_id, text of 0-4096 characters after entities parsing (empty shows "Thinking…"),
        formatted like sendMessage. The wording of the chat and draft_id errors is ours."""
        if not self.drafts_supported:
            raise ApiError(404, "Not Found: method not found")
        params = call.params
        chat_id = self._chat_id(params)
        if chat_id <= 0:
            raise ApiError(400, "Bad Request: message drafts can be sent only to private chats")
        draft_id = params.get("draft_id")
        if draft_id is None:
            raise ApiError(400, "Bad Request: parameter draft_id is required")
        if not isinstance(draft_id, int) or isinstance(draft_id, bool) or draft_id == 0:
            raise ApiError(400, "Bad Request: draft_id must be a non-zero integer")
        raw = params.get("text")
        text, entities = "", list[dict[str, Any]]()
        if raw not in (None, ""):
            text, entities = self._checked_text(raw, params, caption=False, allow_empty=True)
        self.drafts.append(
            SentDraft(
                chat_id=chat_id,
                draft_id=draft_id,
                text=text,
                raw_text=str(raw or ""),
                parse_mode=self._parse_mode(params),
                entities=entities,
                at=call.at,
            )
        )
        return True

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
        self, raw: Any, params: dict[str, Any], *, caption: bool, allow_empty: bool = False
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
        if not caption and not allow_empty and not visible:
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


_BUILTINS: dict[str, Callable[[BotMethodsMixin, Call], Any]] = {
    "getMe": BotMethodsMixin._get_me,
    "getUpdates": BotMethodsMixin._true,  # handled asynchronously in _handle
    "setMyCommands": BotMethodsMixin._set_my_commands,
    "getMyCommands": BotMethodsMixin._get_my_commands,
    "deleteMyCommands": BotMethodsMixin._delete_my_commands,
    "setMyDescription": BotMethodsMixin._true,
    "setMyShortDescription": BotMethodsMixin._true,
    "sendMessage": BotMethodsMixin._send_message,
    "sendMessageDraft": BotMethodsMixin._send_message_draft,
    "editMessageText": BotMethodsMixin._edit_message_text,
    "editMessageReplyMarkup": BotMethodsMixin._edit_message_reply_markup,
    "deleteMessage": BotMethodsMixin._delete_message,
    "sendChatAction": BotMethodsMixin._send_chat_action,
    "answerCallbackQuery": BotMethodsMixin._answer_callback_query,
    "sendDocument": BotMethodsMixin._send_document,
    "getFile": BotMethodsMixin._get_file,
    "close": BotMethodsMixin._true,
    "logOut": BotMethodsMixin._true,
}
