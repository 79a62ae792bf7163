"""/mydata, /export, /consent and /autodelete: seeing and steering what is held, on the spot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from handlers.deps import Deps
from handlers.events import Button, Document, Reply
from handlers.export import VERSION, compress_if_large, recipient_lines, write_export
from handlers.ports import Channel
from handlers.texts import LANGUAGE_NAMES, current_language, day, moment, t
from storage.models import AUTODELETE_CHOICES, Account, ConsentRecord, Purpose

log = logging.getLogger("amigo.rights")

OPTIONAL = {"train": Purpose.MODEL_IMPROVEMENT, "mkt": Purpose.MARKETING}


def fmt_day(value: datetime) -> str:
    return day(value)


def fmt_time(value: datetime) -> str:
    return moment(value)


def latest(consents: Sequence[ConsentRecord]) -> dict[Purpose, ConsentRecord]:
    """The current state of each purpose: its newest ledger row."""
    return {c.purpose: c for c in consents}


async def send_export(deps: Deps, account: Account, channel: Channel, caption: str) -> bool:
    """Write the account's export, send it to `channel` as one document and remove the files;
    True when it arrived. /export and an export on the person's behalf (admin_requests.py)."""
    now = deps.clock.now()
    policy = await deps.policy.current()
    moderated = deps.moderator is not None
    path = await write_export(
        deps.repo, account, deps.config, now, policy_version=policy.version, moderated=moderated
    )
    sent, delivered = path, False
    try:
        sent = await asyncio.to_thread(compress_if_large, path)
        name = f"amigo-export-{now:%Y%m%d}.json" + (".gz" if sent != path else "")
        delivered = await channel.send(Reply(caption, document=Document(name, path=sent)))
    finally:
        for file in {path, sent}:
            file.unlink(missing_ok=True)
    return delivered


class Rights:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def mydata(self, account: Account, channel: Channel) -> None:
        repo, cfg = self.deps.repo, self.deps.config
        held = await repo.inventory(account.id)
        memories, summaries = await repo.memory_counts(account.id)
        memory_on = await repo.memory_enabled(account.id)
        retention = (
            t("mydata.retention.auto", days=account.autodelete_days)
            if account.autodelete_days
            else t("mydata.retention.open")
        )
        categories = "\n".join(
            [
                t("mydata.profile", n=held.profile_fields),
                t(
                    "mydata.companion",
                    state=t("mydata.set" if held.companion else "mydata.not_set"),
                ),
                t(
                    "mydata.conversations",
                    conversations=held.conversations,
                    messages=held.messages,
                    retention=retention,
                ),
                t(
                    "mydata.memory",
                    memories=memories,
                    summaries=summaries,
                    state=t("mydata.memory.on" if memory_on else "mydata.memory.off"),
                ),
                t("mydata.language", name=LANGUAGE_NAMES[account.language]),
                t("mydata.consents", n=held.consents),
                t("mydata.grievances", n=held.grievances),
                t("mydata.nominee", state=t("mydata.set" if held.nominee else "mydata.not_set")),
                t("mydata.safety", n=held.safety_records, days=cfg.safety_records_days),
                t("mydata.payments", n=held.payment_records, years=cfg.payment_records_years),
                t("mydata.after_deletion", days=cfg.closed_account_grace_days),
                t("mydata.consent_proof", days=cfg.consent_proof_days),
            ]
        )
        consents = "\n".join(
            t(
                "mydata.consent_line",
                purpose=t(f"purpose.{c.purpose}"),
                state=t("state.on" if c.granted else "state.off"),
                since=fmt_day(c.created_at),
                version=c.policy_version,
            )
            for c in latest(await repo.consents(account.id)).values()
        )
        accesses = await repo.staff_accesses(account.id)
        access_lines = "\n".join(
            t("mydata.access_line", at=fmt_time(a.at), role=a.role, reason=a.reason_category)
            for a in accesses
        ) or t("mydata.no_access")
        text = t(
            "mydata",
            categories=categories,
            consents=consents,
            recipients=recipient_lines(cfg, moderated=self.deps.moderator is not None),
            accesses=access_lines,
        )
        await channel.send(Reply(text))

    async def export(self, account: Account, channel: Channel) -> None:
        cfg, now = self.deps.config, self.deps.clock.now()
        interval = timedelta(hours=cfg.export_interval_hours)
        if account.last_export_at and now < account.last_export_at + interval:
            when = fmt_time(account.last_export_at + interval)
            await channel.send(
                Reply(t("export.too_soon", hours=cfg.export_interval_hours, when=when))
            )
            return
        delivered = await send_export(
            self.deps, account, channel, t("export.caption", version=VERSION)
        )
        if not delivered:  # only an export that arrived counts against the interval
            log.warning("export.undelivered", extra={"uid": account.id})
            await channel.send(Reply(t("export.failed")))
            return
        await self.deps.repo.mark_exported(account.id)
        log.info("export.sent", extra={"uid": account.id})

    # -- consent ---------------------------------------------------------------------------------

    async def consent(self, account: Account, channel: Channel) -> None:
        state = latest(await self.deps.repo.consents(account.id))
        lines = "\n".join(
            t(
                "mydata.consent_line",
                purpose=t(f"purpose.{p}"),
                state=t("state.on" if c.granted else "state.off"),
                since=fmt_day(c.created_at),
                version=c.policy_version,
            )
            for p, c in state.items()
            if p is not Purpose.AGE_18_PLUS
        )
        buttons = []
        for key, purpose in OPTIONAL.items():
            granted = purpose in state and state[purpose].granted
            label = t(
                "consent.toggle_off" if granted else "consent.toggle_on",
                purpose=t(f"purpose.{purpose}"),
            )
            buttons.append((Button(label, f"cons:{key}"),))
        buttons.append((Button(t("consent.withdraw_terms"), "cons:terms"),))
        days = self.deps.config.closed_account_grace_days
        await channel.send(Reply(t("consent.show", lines=lines, days=days), buttons=tuple(buttons)))

    async def toggle(self, account: Account, key: str, channel: Channel) -> None:
        repo, version = self.deps.repo, (await self.deps.policy.current()).version
        if key == "terms":
            await repo.record_consent(
                account.id, Purpose.TERMS, False, version, language=current_language()
            )
            await repo.set_policy_version(account.id, "")
            log.info("consent.terms_withdrawn", extra={"uid": account.id})
            await channel.send(await self.terms_withdrawn_notice(account))
            return
        purpose = OPTIONAL.get(key)
        if purpose is None:
            return
        state = latest(await repo.consents(account.id))
        granted = not (purpose in state and state[purpose].granted)
        await repo.record_consent(
            account.id, purpose, granted, version, language=current_language()
        )
        text = t(
            "consent.changed",
            purpose=t(f"purpose.{purpose}"),
            state=t("state.on" if granted else "state.off"),
        )
        await channel.send(Reply(text))

    async def terms_withdrawn_notice(
        self, account: Account, key: str = "consent.terms_withdrawn"
    ) -> Reply:
        """Chat has stopped; the account is erased on the date shown (the grace after the
        withdrawal, as for a deleted account) unless the Terms are accepted again before."""
        withdrawn = await self.deps.repo.terms_withdrawn_at(account.id) or self.deps.clock.now()
        erase_on = withdrawn + timedelta(days=self.deps.config.closed_account_grace_days)
        return self.terms_withdrawn_reply(key, date=fmt_day(erase_on))

    @staticmethod
    def terms_withdrawn_reply(key: str, *, date: str) -> Reply:
        buttons = (
            (Button(t("consent.accept_again"), "pol:accept"),),
            (Button(t("consent.delete_account"), "del:acct"),),
        )
        return Reply(t(key, date=date), buttons=buttons)

    # -- disappearing chats ----------------------------------------------------------------------

    async def autodelete(self, account: Account, channel: Channel) -> None:
        state = self._auto_state(account.autodelete_days)
        row1 = (Button(t("autodelete.button_off"), "auto:0"),)
        row2 = tuple(
            Button(t("autodelete.button_days", days=d), f"auto:{d}") for d in AUTODELETE_CHOICES
        )
        await channel.send(Reply(t("autodelete.show", state=state), buttons=(row1, row2)))

    async def set_autodelete(self, account: Account, value: str, channel: Channel) -> None:
        days = int(value) if value.isdigit() else -1
        if days != 0 and days not in AUTODELETE_CHOICES:
            return
        await self.deps.repo.set_autodelete(account.id, days or None)
        await channel.send(
            Reply(t("autodelete.set", state=self._auto_state(days or None)), edit=True)
        )

    @staticmethod
    def _auto_state(days: int | None) -> str:
        return t("autodelete.days", days=days) if days else t("autodelete.off")
