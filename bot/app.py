"""The composition root: which Telegram library runs the bot, and everything built for it.

`build_bot` picks bot/ptb_adapter.py (python-telegram-bot, the default) or bot/aiogram_adapter.py
by `telegram.library`; each starts the same Runtime (bot/runtime.py), which opens the services of
bot/services.py once the library is ready and closes them after it stops. The console and the CLI
build the very same services; they only swap the transport.
"""

from __future__ import annotations

from bot.config import Secrets, Settings
from bot.runtime import TelegramBot
from bot.services import (
    Services,
    handler_config,
    master_key,
    open_repository,
    recovery_config,
    refuse_example_contact,
    repository,
    workers_config,
)
from core.clock import Clock


def build_bot(settings: Settings, secrets: Secrets, *, clock: Clock | None = None) -> TelegramBot:
    """The bot on the library `telegram.library` names; users and the operator see no
    difference."""
    if settings.telegram.library == "aiogram":
        from bot.aiogram_adapter import AiogramBot

        return AiogramBot(settings, secrets, clock)
    from bot.ptb_adapter import PtbBot

    return PtbBot(settings, secrets, clock)


__all__ = [
    "Services",
    "build_bot",
    "handler_config",
    "master_key",
    "open_repository",
    "recovery_config",
    "refuse_example_contact",
    "repository",
    "workers_config",
]
