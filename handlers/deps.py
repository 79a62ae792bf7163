"""Everything a handler may use, injected by the composition root (no module-level singletons)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

from handlers.guard import Limits
from handlers.ports import ChatModel, Moderator, TokenCounter
from storage.base import Repository
from storage.clock import Clock
from storage.models import PolicyVersion


@dataclass(frozen=True)
class HelplineInfo:
    country: str
    country_name: str
    name: str
    number: str
    hours: str
    last_verified: str


@dataclass(frozen=True)
class HandlerConfig:
    """The settings handlers read, copied from bot.config.Settings by the composition root."""

    privacy_contact: str
    policy_version: str
    policy_url: str
    policy_date: str
    policy_material: bool
    policy_change_summary: str
    export_interval_hours: int
    grievance_ack_hours: int
    grievance_resolve_days: int
    closed_account_grace_days: int
    payment_records_years: int
    safety_records_days: int
    provider_name: str
    default_name: str
    default_gender: str
    default_tone: str
    context_tokens: int
    reply_tokens: int
    window_max_messages: int
    limits: Limits
    helplines: tuple[HelplineInfo, ...]
    default_country: str
    staff: tuple[tuple[int, str], ...] = ()
    """(Telegram user id, role) of everyone who may use the admin commands."""
    ban_needs_review_days: int = 30


class CurrentPolicy:
    """The one source of truth for the policy in force (P17.1): the newest version the operator
    published with /policy, else the configured one. Published versions are few and change
    rarely, so they are cached until `refresh()` (called on publish)."""

    def __init__(self, repo: Repository, config: HandlerConfig) -> None:
        self._repo = repo
        self._configured = PolicyVersion(
            config.policy_version,
            config.policy_date,
            config.policy_material,
            config.policy_change_summary,
        )
        self._published: list[PolicyVersion] | None = None

    async def current(self) -> PolicyVersion:
        published = await self._load()
        return published[0] if published else self._configured

    async def needs_acceptance(self, accepted: str) -> bool:
        """Whether any version newer than the one this user accepted changed things materially,
        so a minor version published after a material one still asks for acceptance."""
        newer: list[PolicyVersion] = []
        for version in await self._load():
            if version.version == accepted:
                return any(v.material for v in newer)
            newer.append(version)
        configured = self._configured
        return any(v.material for v in newer) or (
            accepted != configured.version and configured.material
        )

    def refresh(self) -> None:
        self._published = None

    async def _load(self) -> list[PolicyVersion]:
        if self._published is None:
            self._published = await self._repo.policy_versions()
        return self._published


@dataclass(frozen=True)
class Deps:
    repo: Repository
    model: ChatModel
    tokens: TokenCounter
    clock: Clock
    config: HandlerConfig
    sign: Callable[[str], bytes]
    """Keyed MAC, used to carry the passed age gate in a button without storing anything."""
    moderator: Moderator | None = None
    run_retention: Callable[[], Awaitable[Mapping[str, int]]] | None = None

    @cached_property
    def policy(self) -> CurrentPolicy:
        """The policy in force; read it here, never from `config.policy_*` directly."""
        return CurrentPolicy(self.repo, self.config)
