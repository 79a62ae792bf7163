"""Simulated users: updates the tests push for the bot to receive through getUpdates."""

from __future__ import annotations

import time
from typing import Any

from .html_mode import utf16_len
from .params import _BOT_COMMAND_RE, _MEDIA_KINDS
from .records import _Pending
from .state import FakeTelegramState


class SimulatedUsersMixin(FakeTelegramState):
    """Users, buttons and channels writing to the bot; each call queues one update."""

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
