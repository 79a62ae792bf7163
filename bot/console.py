"""Chat with Amigo in the terminal, through the same dispatcher, onboarding and storage.

Buttons are shown numbered: type the number to press one. Ctrl-D (or /quit) leaves.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot.app import Services
from bot.config import Secrets, Settings
from handlers.events import ButtonPress, Document, Reply, Sender, Text


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
            await services.dispatcher.handle(event, channel)
    finally:
        await services.close()
        stdout.write("\nBye!\n")
