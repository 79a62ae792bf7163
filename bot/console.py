"""Chat with Amigo in the terminal, through the same dispatcher, onboarding and storage.

Buttons are shown numbered: type the number to press one. Ctrl-D (or /quit) leaves.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot.config import Secrets, Settings
from bot.services import Services, recovery_config
from handlers.events import ButtonPress, Document, Reply, ReplyFormat, Sender, Text
from handlers.ports import StreamResult
from handlers.recovery import Recovery


class ConsoleChannel:
    """handlers.ports.Channel that prints to a terminal and remembers the last buttons."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buttons: list[str] = []

    async def send(self, reply: Reply) -> bool:
        if reply.document is not None:  # "sending" a file in a terminal: save it here
            target = await asyncio.to_thread(_save, reply.document)
            self.out.write(f"\n[file saved: {target}]")
        self.out.write(f"\n{reply.text}\n")
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self.buttons = [b.data for b in flat]
            for number, button in enumerate(flat, 1):
                self.out.write(f"  [{number}] {button.label}\n")
        self.out.flush()
        return True

    @asynccontextmanager
    async def typing(self) -> AsyncIterator[None]:
        self.out.write("  …typing\n")
        self.out.flush()
        yield

    async def stream(
        self,
        chunks: AsyncIterator[str],
        *,
        format: ReplyFormat = "markdown",
        finish: Callable[[str], Awaitable[str]] | None = None,
    ) -> StreamResult:
        """Print each chunk as it comes; a terminal shows the text as written, so the final
        text is only printed again when `finish` changed it (a cap)."""
        parts: list[str] = []
        self.out.write("  …typing\n")
        self.out.flush()
        try:
            async for chunk in chunks:
                self.out.write(chunk.lstrip() if not parts else chunk)
                self.out.flush()
                parts.append(chunk)
        except Exception:
            self.out.write("\n[broken off]\n")
            raise
        text = "".join(parts)
        final = await finish(text) if finish is not None else text.strip()
        self.out.write("\n")
        if final != text.strip():
            self.out.write(f"\n{final}\n")
        self.out.flush()
        return StreamResult(final, bool(final.strip()))


def _save(document: Document) -> Path:
    target = Path(document.filename).resolve()
    target.write_bytes(document.read())
    target.chmod(0o600)
    return target


async def chat_in_terminal(
    settings: Settings, secrets: Secrets, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    services = await Services.open(settings, secrets)
    channel = ConsoleChannel(stdout)
    sender = Sender(settings.console.user_id, settings.console.user_id)
    stdout.write(
        "Amigo console. Type /start to begin, a number to press a button, Ctrl-D to leave.\n"
    )
    try:
        # What a crash left unanswered is answered first (this process holds the database lock).
        recovery = Recovery(
            services.dispatcher, recovery_config(settings), channels=lambda _: channel
        )
        await recovery.run(sole_worker=True)
        replies: set[asyncio.Task[None]] = set()  # chat texts whose reply is still coming
        while True:
            stdout.write("> ")
            stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line or line.strip() == "/quit":
                break
            text = line.rstrip("\n")
            if text.strip().isdigit() and 0 < int(text) <= len(channel.buttons):
                event: Text | ButtonPress = ButtonPress(sender, channel.buttons[int(text) - 1])
            elif text.strip():
                event = Text(sender, text)
            else:
                continue
            # On to the next line once this one is routed, not answered: texts typed while a
            # reply is written form a burst, as in Telegram. Commands and buttons are finished
            # by then, so a number typed next presses the buttons they showed.
            routed = asyncio.Event()
            task = asyncio.create_task(services.dispatcher.handle(event, channel, routed=routed))
            replies.add(task)
            task.add_done_callback(replies.discard)
            await routed.wait()
        await asyncio.gather(*replies)  # Ctrl-D leaves once every reply is printed
    finally:
        await services.close()
        stdout.write("\nBye!\n")
