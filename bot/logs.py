"""Structured logs that carry ids and counts, never message text, names or contacts (B6).

Our own log calls pass only ids and counts as `extra` fields. Two guards catch the rest: libraries that
log request bodies or URLs with the bot token at DEBUG/INFO (httpx, telegram, openai) are held at
WARNING, and exceptions are rendered as their type and stack frames only, never their message,
because an exception message can quote user input.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

QUIET_LIBRARIES = (
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "telegram",
    "openai",
    "aiosqlite",
    "aiogram",
)
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# What a line is: an `extra` field of the same name is written as "extra_<name>" instead, so it can
# never pass one event off as another (extra={"event": ...} once hid every "handler.failed").
_RESERVED = frozenset({"ts", "level", "logger", "event"})


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The event name, level, logger and the `extra` fields of a record (none overwrites those)."""
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "event": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
    }
    for key, value in record.__dict__.items():
        if key not in _STANDARD:
            fields[f"extra_{key}" if key in _RESERVED else key] = value
    if record.exc_info and record.exc_info[1] is not None:
        fields["error"] = safe_exception(record.exc_info[1])
    return fields


def safe_exception(exc: BaseException) -> str:
    """Exception type and stack frames, without the message (which may quote user input)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-6:]))
    return f"{type(exc).__module__}.{type(exc).__qualname__} at {where}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        head = f"{fields.pop('ts')} {fields.pop('level'):7} {fields.pop('event')}"
        fields.pop("logger")
        return head + "".join(f" {k}={v}" for k, v in fields.items())


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Install our formatter on the root logger; libraries stay at WARNING whatever the level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
