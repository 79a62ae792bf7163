"""The command list: one place that /help, the Telegram command menu and the router all read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Needs = Literal["nothing", "account", "active"]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help_key: str
    needs: Needs
    """nothing: works for anyone; account: once the Terms are accepted; active: after onboarding."""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "cmd.start", "nothing"),
    CommandSpec("help", "cmd.help", "nothing"),
    CommandSpec("privacy", "cmd.privacy", "nothing"),
    CommandSpec("new", "cmd.new", "active"),
    CommandSpec("mydata", "cmd.mydata", "account"),
    CommandSpec("export", "cmd.export", "account"),
    CommandSpec("delete", "cmd.delete", "account"),
    CommandSpec("consent", "cmd.consent", "account"),
    CommandSpec("profile", "cmd.profile", "account"),
    CommandSpec("companion", "cmd.companion", "active"),
    CommandSpec("nominate", "cmd.nominate", "account"),
    CommandSpec("grievance", "cmd.grievance", "account"),
    CommandSpec("autodelete", "cmd.autodelete", "account"),
    CommandSpec("memory", "cmd.memory", "account"),
    CommandSpec("plus", "cmd.plus", "account"),
    CommandSpec("paysupport", "cmd.paysupport", "nothing"),
    CommandSpec("terms", "cmd.terms", "nothing"),
    CommandSpec("language", "cmd.language", "nothing"),
    CommandSpec("cancel", "cmd.cancel", "account"),
)
