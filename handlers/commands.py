"""The command list: one place that /help, the Telegram command menu and the router all read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help_key: str
    needs_account: bool
    """Only for people who finished onboarding; others are pointed back to their step."""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "cmd.start", needs_account=False),
    CommandSpec("help", "cmd.help", needs_account=False),
    CommandSpec("privacy", "cmd.privacy", needs_account=False),
    CommandSpec("new", "cmd.new", needs_account=True),
)
