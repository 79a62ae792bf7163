"""Telling users of a new policy version (P17.1): told once; a material one must be accepted to chat on.

The version an account last accepted (or was told of) is `Account.policy_version`; an empty one
means the user withdrew their consent to the Terms, which stops chatting until they accept again.
The version in force comes from `Deps.policy` (published with /policy, else configured).
"""

from __future__ import annotations

import logging

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.ports import Channel
from handlers.rights import Rights
from handlers.texts import current_language, t
from storage.models import Account, Purpose

log = logging.getLogger("amigo.policy")


class PolicyGate:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def allows_chat(self, account: Account, channel: Channel) -> bool:
        policy = self.deps.policy
        current = await policy.current()
        if account.policy_version == current.version:
            return True
        if not account.policy_version:
            notice = await Rights(self.deps).terms_withdrawn_notice(account, "consent.chat_blocked")
            await channel.send(notice)
            return False
        values = {"version": current.version, "date": current.date, "summary": current.summary}
        if await policy.needs_acceptance(account.policy_version):
            buttons = (
                (Button(t("policy.accept"), "pol:accept"),),
                (Button(t("consent.delete_account"), "del:acct"),),
            )
            await channel.send(Reply(t("policy.changed_material", **values), buttons=buttons))
            return False
        await self.deps.repo.set_policy_version(account.id, current.version)
        await channel.send(Reply(t("policy.changed_minor", **values)))
        return True

    async def accept(self, account: Account, channel: Channel) -> None:
        version = (await self.deps.policy.current()).version
        withdrawn = await self.deps.repo.terms_withdrawn_at(account.id)
        if account.policy_version != version or withdrawn is not None:
            await self.deps.repo.record_consent(
                account.id, Purpose.TERMS, True, version, language=current_language()
            )
            await self.deps.repo.set_policy_version(account.id, version)
            log.info("policy.accepted", extra={"uid": account.id})
        # Accepting after a withdrawal cancels the erasure it scheduled: say so.
        key = "policy.accepted" if withdrawn is None else "policy.accepted_erasure_cancelled"
        await channel.send(Reply(t(key), edit=True))
