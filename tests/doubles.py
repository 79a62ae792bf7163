"""Fast stand-ins for handler tests: a fake model (enqueue/history) and a recording channel."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from handlers.events import Reply, ReplyFormat
from handlers.ports import ModelUnavailable, StreamResult, Turn


class BrokenOff:
    """A queued reply that streams `text`, then fails with `error` (the model broke off)."""

    def __init__(self, text: str, error: Exception | None = None) -> None:
        self.text = text
        self.error = error or ModelUnavailable("broken off")


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of `size` characters, as a model streams it."""
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeModel:
    """Answers with queued replies (or an echo); remembers every request it was sent."""

    def __init__(self, chunk_chars: int = 8) -> None:
        self.queue: list[str | Exception | BrokenOff] = []
        self.history: list[list[Turn]] = []
        self.chunk_chars = chunk_chars  # how `stream` cuts a reply

    def enqueue(self, *replies: str | Exception | BrokenOff) -> None:
        self.queue.extend(replies)

    def _next(self, messages: Sequence[Turn]) -> str | Exception | BrokenOff:
        self.history.append(list(messages))
        return self.queue.pop(0) if self.queue else f"echo: {messages[-1]['content']}"

    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        reply = self._next(messages)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, BrokenOff):
            raise reply.error
        return reply

    async def stream(
        self, messages: Sequence[Turn], *, max_tokens: int
    ) -> AsyncGenerator[str, None]:
        """The same replies as `complete`, in pieces of `chunk_chars`; a BrokenOff fails after
        its text."""
        reply = self._next(messages)
        if isinstance(reply, Exception):
            raise reply
        text = reply.text if isinstance(reply, BrokenOff) else reply
        for piece in pieces(text, self.chunk_chars):
            yield piece
        if isinstance(reply, BrokenOff):
            raise reply.error


class FailingModel(FakeModel):
    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        self.history.append(list(messages))
        raise ModelUnavailable("down")

    async def stream(
        self, messages: Sequence[Turn], *, max_tokens: int
    ) -> AsyncGenerator[str, None]:
        self.history.append(list(messages))
        raise ModelUnavailable("down")
        yield ""  # an async generator, like the real one  # pragma: no cover


class RecordingChannel:
    """Records every reply. `undeliverable` makes that many next sends fail (kept apart, in
    `undelivered`), as a Telegram that refuses them would. A streamed reply's chunks are kept
    in `streams` (one list per stream, also for one that broke off); its final text is recorded
    like a sent reply."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.undelivered: list[Reply] = []
        self.undeliverable = 0
        self.typing_count = 0
        self.streams: list[list[str]] = []

    async def send(self, reply: Reply) -> bool:
        if self.undeliverable > 0:
            self.undeliverable -= 1
            self.undelivered.append(reply)
            return False
        self.replies.append(reply)
        return True

    @asynccontextmanager
    async def typing(self) -> AsyncIterator[None]:
        self.typing_count += 1
        yield

    async def stream(
        self,
        chunks: AsyncIterator[str],
        *,
        format: ReplyFormat = "markdown",
        finish: Callable[[str], Awaitable[str]] | None = None,
    ) -> StreamResult:
        received: list[str] = []
        self.streams.append(received)
        async with self.typing():
            async for chunk in chunks:  # an error propagates and nothing is sent, as promised
                received.append(chunk)
        text = "".join(received)
        final = await finish(text) if finish is not None else text.strip()
        if not final.strip():
            return StreamResult("", False)
        return StreamResult(final, await self.send(Reply(final, format=format)))

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]

    def button(self, prefix: str) -> str:
        """The callback data of the newest button whose data starts with `prefix`."""
        for reply in reversed(self.replies):
            for row in reply.buttons:
                for b in row:
                    if b.data.startswith(prefix):
                        return b.data
        raise AssertionError(f"no button {prefix!r} in {self.texts[-3:]}")
