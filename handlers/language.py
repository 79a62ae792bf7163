"""/language: the language of menus and messages, English or Hindi, switched at any time.

With an account the choice is stored with it (`users.language`). Before the Terms are accepted
nothing is stored: the choice travels in the onboarding buttons instead (handlers/onboarding.py),
and picking one here shows the age gate in it.
"""

from __future__ import annotations

import logging

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.ports import Channel
from handlers.texts import LANGUAGE_NAMES, LANGUAGES, current_language, speaking, t
from storage.models import Account

log = logging.getLogger("amigo.language")


def language_buttons(prefix: str) -> tuple[tuple[Button, ...], ...]:
    """One button per language, each named in its own script."""
    return (tuple(Button(LANGUAGE_NAMES[code], f"{prefix}:{code}") for code in LANGUAGES),)


class Language:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def command(self, account: Account | None, channel: Channel) -> None:
        """The choice, in the current language. Without an account the buttons lead to the
        age gate (`agelang:`), with one they store the choice (`lang:`)."""
        prefix = "lang" if account is not None else "agelang"
        text = t("language.ask", name=LANGUAGE_NAMES[current_language()])
        await channel.send(Reply(text, buttons=language_buttons(prefix)))

    async def choose(self, account: Account, value: str, channel: Channel) -> None:
        if value not in LANGUAGES:
            return
        await self.deps.repo.set_language(account.id, value)
        log.info("language.changed", extra={"uid": account.id, "language": value})
        if self.deps.menus is not None and (chat := await self.deps.repo.chat_of(account.id)):
            await self.deps.menus(chat, value)  # the command menu of this chat follows
        with speaking(value):  # the confirmation already in the new language
            await channel.send(Reply(t("language.set"), edit=True))
