"""Plain events in, plain replies out: what the handlers see of a chat, whatever the transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

ChatKind = Literal["private", "group", "channel"]
ReplyFormat = Literal["plain", "markdown"]


@dataclass(frozen=True)
class Sender:
    """Who wrote: the Telegram user and the chat to answer in. No names, no contacts.

    `tg_id` is Telegram's user id. It is never an account id (`user_id` everywhere else): storage
    keeps Telegram ids only as keyed hashes. `language_code` is the language of their Telegram app
    (IETF tag, may be missing): what the bot speaks until they have chosen."""

    tg_id: int
    chat_id: int
    chat_kind: ChatKind = "private"
    language_code: str | None = None


@dataclass(frozen=True)
class Text:
    sender: Sender
    text: str
    update_id: int | None = None

    @property
    def command(self) -> tuple[str, str] | None:
        """('help', 'args') for '/help args' or '/help@AmigoBot args'; None for plain text."""
        if not self.text.startswith("/") or len(self.text) < 2:
            return None
        head, _, args = self.text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        return (name, args.strip()) if name else None


@dataclass(frozen=True)
class ButtonPress:
    sender: Sender
    data: str
    message_id: int | None = None
    update_id: int | None = None


@dataclass(frozen=True)
class Media:
    """Anything that is not text: a photo, a voice note, a location... Only its kind is kept."""

    sender: Sender
    kind: str
    update_id: int | None = None


@dataclass(frozen=True)
class Paid:
    """A successful payment, as Telegram reports it: the first of a subscription, or a renewal.
    Only what a payment record may hold, and the payload the bot signed."""

    sender: Sender
    payload: str
    currency: str
    amount: int
    telegram_charge_id: str
    provider_charge_id: str
    expires_at: datetime | None
    """The end of the period paid for (a subscription's expiration date)."""
    first: bool
    update_id: int | None = None


@dataclass(frozen=True)
class PreCheckout:
    """Telegram asks whether a payment may go ahead; answered at once, not queued behind the
    person's other events (Telegram waits 10 seconds at most)."""

    sender: Sender
    query_id: str
    payload: str
    currency: str
    amount: int


Event = Text | ButtonPress | Media | Paid


@dataclass(frozen=True)
class Button:
    """A button under a message: `data` comes back as a ButtonPress; a `url` button (an invoice
    link) opens the link instead."""

    label: str
    data: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Document:
    """A file to send: small ones in memory, large ones (an export) from a temporary file."""

    filename: str
    content: bytes | None = None
    path: Path | None = None

    def read(self) -> bytes:
        return self.content if self.content is not None else (self.path or Path()).read_bytes()


@dataclass(frozen=True)
class Reply:
    """One message to the user. `edit` replaces the message whose button was pressed."""

    text: str
    format: ReplyFormat = "plain"
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    edit: bool = False
    document: Document | None = None
