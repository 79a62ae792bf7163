"""Loopback fakes of Telegram and an OpenAI-compatible API, so tests drive the real clients."""

from .openai import FakeOpenAI, ScriptedReply
from .telegram import ApiError, Call, FakeTelegram, SentMessage, UploadedFile

__all__ = [
    "ApiError",
    "Call",
    "FakeOpenAI",
    "FakeTelegram",
    "ScriptedReply",
    "SentMessage",
    "UploadedFile",
]
