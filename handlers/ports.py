"""What the handlers need from the outside world, as Protocols the composition root fills in."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol, TypedDict

from handlers.events import Reply


class Channel(Protocol):
    """The chat a handler answers in (Telegram, the console, a test)."""

    async def send(self, reply: Reply) -> bool:
        """Deliver the reply; True when it arrived. A failure is logged, never raised: callers
        whose reply is only a courtesy ignore the result, those that count a delivery (an export)
        check it."""
        ...

    def typing(self) -> AbstractAsyncContextManager[None]:
        """Show 'typing…' for as long as the block runs; never fails the block."""
        ...


class Turn(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class ModelUnavailable(Exception):
    """The model gave no usable answer after every retry. Carries no message text."""


class ChatModel(Protocol):
    async def complete(self, messages: Sequence[Turn], *, max_tokens: int) -> str: ...


class TokenCounter(Protocol):
    exact: bool

    def count(self, text: str) -> int:
        """Tokens of `text`; never less than the real count when the counter is not exact."""
        ...

    def per_message(self) -> int:
        """Overhead tokens every chat message costs besides its content."""
        ...


class Moderator(Protocol):
    """An optional second opinion on distress, such as an OpenAI-compatible moderation endpoint."""

    async def distress(self, text: str) -> tuple[str, str] | None:
        """(category, severity) when the text signals self-harm, suicide or harm to others."""
        ...
