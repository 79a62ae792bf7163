"""The policy in force (P17.1): which version users must have seen, and whether a change is material.

The handler that tells users and takes their acceptance is handlers/policy_gate.py.
"""

from __future__ import annotations

from storage.base import Repository
from storage.models import PolicyVersion


class CurrentPolicy:
    """The one source of truth for the policy in force (P17.1): the newest version the operator
    published with /policy, else the configured one. Published versions are few and change
    rarely, so they are cached until `refresh()` (called on publish)."""

    def __init__(self, repo: Repository, configured: PolicyVersion) -> None:
        self._repo = repo
        self._configured = configured
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
