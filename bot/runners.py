"""The blocking entry points of `python -m bot run`, the same for each library's bot."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from bot.config import Secrets, Settings
from bot.ops import run_until_signal
from bot.webhook import webhook_secret


class Runners:
    """Mixed into PtbBot and AiogramBot: poll, or serve the webhook, until SIGTERM or SIGINT."""

    settings: Settings
    secrets: Secrets

    def running(self) -> AbstractAsyncContextManager[object]:
        raise NotImplementedError

    def running_webhook(self) -> AbstractAsyncContextManager[object]:
        raise NotImplementedError

    def run_polling(self) -> None:
        run_until_signal(self.running())

    def run_webhook(self) -> None:
        webhook_secret(self.settings.telegram, self.secrets.webhook_secret)  # refused up front
        run_until_signal(self.running_webhook())
