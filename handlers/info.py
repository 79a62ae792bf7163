"""/help and /privacy: what the bot does and how it treats data. Work before onboarding too."""

from __future__ import annotations

from handlers.commands import COMMANDS
from handlers.deps import Deps
from handlers.events import Button, Document, Reply
from handlers.export import recipient_lines
from handlers.ports import Channel
from handlers.texts import policy_text, t

_CONTACT_PLACEHOLDER = "{{PRIVACY_CONTACT}}"


RIGHTS_BUTTONS = (
    "mydata",
    "export",
    "delete",
    "consent",
    "profile",
    "companion",
    "nominate",
    "grievance",
    "autodelete",
)


def help_reply(contact: str) -> Reply:
    lines = "\n".join(f"/{c.name} — {t(c.help_key)}" for c in COMMANDS)
    return Reply(t("help", commands=lines, contact=contact))


class Info:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def help(self, channel: Channel, *, unknown: bool = False) -> None:
        if unknown:
            await channel.send(Reply(t("help.unknown")))
        await channel.send(help_reply(self.deps.config.privacy_contact))

    async def privacy(self, channel: Channel) -> None:
        cfg, policy = self.deps.config, await self.deps.policy.current()
        text = t(
            "privacy",
            summary=t("policy.summary"),
            recipients=recipient_lines(cfg, moderated=self.deps.moderator is not None),
            contact=cfg.privacy_contact,
            policy=cfg.policy_url or "↓",
            version=policy.version,
        )
        await channel.send(Reply(text))
        rights = RIGHTS_BUTTONS
        buttons = tuple(
            tuple(Button(t(f"btn.{name}"), f"priv:{name}") for name in rights[i : i + 2])
            for i in range(0, len(rights), 2)
        )
        if not cfg.policy_url:
            buttons += ((Button(t("privacy.full_policy"), "privacy:policy"),),)
        await channel.send(
            Reply(
                t("privacy.purposes", purposes=t("privacy.purpose_list"))
                + "\n\n"
                + t("privacy.actions"),
                buttons=buttons,
            )
        )

    async def plus_terms(self, channel: Channel) -> None:
        """/terms: the terms of the paid service (Amigo Plus), with today's price."""
        cfg = self.deps.config
        text = t(
            "plus.terms",
            price=cfg.plus.price_stars,
            contact=cfg.privacy_contact,
            years=cfg.payment_records_years,
        )
        await channel.send(Reply(text))

    async def send_policy(self, channel: Channel) -> None:
        """The full policy as a file, in the person's language, with the configured contact
        address filled in."""
        cfg, policy = self.deps.config, await self.deps.policy.current()
        text = policy_text().replace(_CONTACT_PLACEHOLDER, cfg.privacy_contact)
        document = Document(f"privacy-policy-{policy.version}.txt", text.encode("utf-8"))
        caption = t("privacy.policy_file_caption", version=policy.version)
        await channel.send(Reply(caption, document=document))
