"""Fast stand-ins for handler tests: a fake model (enqueue/history) and a recording channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from handlers.events import Reply
from handlers.ports import ModelUnavailable, Turn


class FakeModel:
    """Answers with queued replies (or an echo); remembers every request it was sent."""

    def __init__(self) -> None:
        self.queue: list[str | Exception] = []
        self.history: list[list[Turn]] = []

    def enqueue(self, *replies: str | Exception) -> None:
        self.queue.extend(replies)

    async def complete(self, messages: Sequence[Turn], *, max_tokens: int) -> str:
        self.history.append(list(messages))
        if self.queue:
            reply = self.queue.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        return f"echo: {messages[-1]['content']}"


class FailingModel(FakeModel):
    async def complete(self, messages: Sequence[Turn], *, max_tokens: int) -> str:
        self.history.append(list(messages))
        raise ModelUnavailable("down")


class RecordingChannel:
    """Records every reply. `undeliverable` makes that many next sends fail (kept apart, in
    `undelivered`), as a Telegram that refuses them would."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.undelivered: list[Reply] = []
        self.undeliverable = 0
        self.typing_count = 0

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
