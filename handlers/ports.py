"""What the handlers need from the outside world, as Protocols the composition root fills in."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

from handlers.events import Reply, ReplyFormat


@dataclass(frozen=True)
class StreamResult:
    """What a streamed reply ended as: the final text sent (what the caller stores) and whether
    it arrived, as `Channel.send` tells."""

    text: str
    delivered: bool


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

    async def stream(
        self,
        chunks: AsyncIterator[str],
        *,
        format: ReplyFormat = "markdown",
        finish: Callable[[str], Awaitable[str]] | None = None,
    ) -> StreamResult:
        """Show the reply while `chunks` arrive ("typing…" until the first one), then send
        `await finish(all text)` (default: the text, stripped) as a normal reply. `finish` runs
        after the last chunk and before that send: the caller caps and stores the reply there,
        so a reply is stored before it is sent, as with `send`. Showing the growing text is best
        effort and never fails the reply. If `chunks` (or `finish`) raises, nothing is sent as a
        final answer and the error propagates, so the caller can apologise instead."""
        ...


class Turn(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class ModelUnavailable(Exception):
    """The model gave no usable answer after every retry. Carries no message text."""


class ChatModel(Protocol):
    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        """The whole answer. `json_object` asks for a JSON object (OpenAI's JSON mode,
        `response_format`); a server that refuses the mode is asked again without it, so the
        caller still checks what comes back (handlers/memory.py)."""
        ...

    def stream(self, messages: Sequence[Turn], *, max_tokens: int) -> AsyncGenerator[str, None]:
        """The answer in pieces as the model writes it. Raises ModelUnavailable, before the first
        piece once retries and the deadline are used up, or part-way if the model breaks off.
        A generator, so a caller that has enough can `aclose()` it and stop the request."""
        ...


class TokenCounter(Protocol):
    exact: bool

    def count(self, text: str) -> int:
        """Tokens of `text`; never less than the real count when the counter is not exact."""
        ...

    def per_message(self) -> int:
        """Overhead tokens every chat message costs besides its content."""
        ...


class PaymentFailed(Exception):
    """Telegram refused or did not answer a payment call. Carries no personal data."""


class Payments(Protocol):
    """Telegram Stars, as handlers/payments.py needs them (bot/telegram_payments.py)."""

    async def invoice_link(
        self, *, title: str, description: str, label: str, payload: str, stars: int
    ) -> str:
        """A link to pay a monthly (30-day) subscription of `stars` Telegram Stars; `payload`
        comes back with the pre-checkout query and every payment."""
        ...

    async def set_renewal(self, tg_user_id: int, subscription_id: str, *, canceled: bool) -> None:
        """Cancel (or allow again) the renewal of the subscription whose first payment is
        `subscription_id`; the period paid for runs on."""
        ...

    async def refund(self, tg_user_id: int, telegram_charge_id: str) -> None:
        """Give the Stars of one payment back."""
        ...


class Moderator(Protocol):
    """An optional second opinion on distress, such as an OpenAI-compatible moderation endpoint."""

    async def distress(self, text: str) -> tuple[str, str] | None:
        """(category, severity) when the text signals self-harm, suicide or harm to others."""
        ...
