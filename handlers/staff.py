"""The small pieces every operator-command module shares: roles, the one-line argument error, the
ref parser, and telling a user something in their own chat. Kept apart so handlers/admin.py,
handlers/admin_grievances.py and handlers/broadcasts.py need not import one another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from handlers.deps import Deps
from handlers.events import Reply
from handlers.texts import speaking, t

OWNER, REVIEWER, SUPPORT = "owner", "reviewer", "support"
ALL = (OWNER, REVIEWER, SUPPORT)

Say = Callable[[], str]
"""Words not yet rendered (`lambda: t(key, ...)`): `tell` renders them in the recipient's
language, which is not the staff member's who sent them."""
Tell = Callable[[int, Say], Awaitable[bool]]
"""Tell a user (by user id) something in their own chat; False when they can't be reached."""


class BadArguments(Exception):
    """A one-line explanation of what the command expects."""


class Desk(Protocol):
    """What a command handler kept outside handlers/admin.py may use of the Admin it runs under;
    a protocol, so such a module never imports admin."""

    @property
    def deps(self) -> Deps: ...

    @property
    def tell(self) -> Tell: ...


def parse_ref(text: str, kind: str) -> int:
    """'u34' / 'f12' (or a bare number) to the id; anything else is a clear error."""
    value = text.strip().lower().lstrip("#")
    if value.startswith(kind):
        value = value[len(kind) :]
    if not value.isdigit():
        raise BadArguments(t("admin.bad_ref", value=text or "nothing", kind=kind))
    return int(value)


async def tell(deps: Deps, user_id: int, say: Say) -> bool:
    """Tell a user something in their own chat (their chat id is sealed at rest), in their
    language; False when they can't be reached (no chat, or no transport)."""
    chat = await deps.repo.chat_of(user_id)
    if chat is None or deps.channels is None:
        return False
    with speaking(await deps.repo.language_of(user_id)):
        text = say()
    await deps.channels(chat).send(Reply(text))
    return True
