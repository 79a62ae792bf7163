"""/profile, /companion, /nominate, /grievance and /cancel: correcting and adding what we hold.

Typed answers (a display name, a nominee, a grievance) are awaited through `Account.awaiting`, kept
in the database so a restart or another worker still knows what the next message is for. Such a
message is stored only where it belongs, encrypted, and never sent to the LLM.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.onboarding import GENDERS, NAME_MAX, TONES, clean_name
from handlers.ports import Channel
from handlers.rights import fmt_time
from handlers.texts import t
from handlers.timezones import parse_zone, zone_for
from storage.models import Account, Companion

FIELD_MAX = 64
GRIEVANCE_MAX = 3000
PROFILE_GENDERS = ("woman", "man", "nonbinary")
_TYPED_FIELDS = ("display_name", "country", "time_zone")
_PROFILE_ALIASES = {
    "name": "display_name",
    "timezone": "time_zone",
    "tz": "time_zone",
    "zone": "time_zone",
}
_CONTACT = re.compile(r"^(\+?[\d\s\-()]{6,20}|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def clean_line(raw: str, limit: int = FIELD_MAX) -> str | None:
    """One printable line of 1..limit characters."""
    text = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not 1 <= len(text) <= limit or text.startswith("/"):
        return None
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} for ch in text):
        return None
    return text


class Personal:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- typed answers ---------------------------------------------------------------------------

    async def await_text(
        self, account: Account, what: str, channel: Channel, **values: object
    ) -> None:
        await self.deps.repo.set_awaiting(account.id, what)
        prompts = {
            "profile.display_name": "profile.ask.display_name",
            "profile.country": "profile.ask.country",
            "profile.time_zone": "profile.ask.time_zone",
            "companion.name": "companion.ask.name",
            "nominee": "nominee.ask",
            "grievance": "grievance.ask",
            "grievance.payment": "paysupport",
        }
        prompt = t(prompts[what], **values)
        await channel.send(Reply(prompt, buttons=((Button(t("btn.cancel"), "cancel"),),)))

    async def on_awaited_text(self, account: Account, text: str, channel: Channel) -> None:
        """The answer to whatever `account.awaiting` asked for."""
        what = account.awaiting or ""
        if what.startswith("profile."):
            await self._save_profile(account, what.removeprefix("profile."), text, channel)
        elif what == "companion.name":
            await self._rename(account, text, channel)
        elif what == "nominee":
            await self._save_nominee(account, text, channel)
        elif what in ("grievance", "grievance.payment"):
            category = "payment" if what == "grievance.payment" else "general"
            await self._open_grievance(account, text, channel, category)
        else:
            await self.deps.repo.set_awaiting(account.id, None)

    async def cancel(self, account: Account, channel: Channel) -> None:
        if account.awaiting:
            await self.deps.repo.set_awaiting(account.id, None)
            await channel.send(Reply(t("cancel.done")))
        else:
            await channel.send(Reply(t("cancel.nothing")))

    # -- profile ---------------------------------------------------------------------------------

    async def profile(self, account: Account, args: str, channel: Channel) -> None:
        field, _, value = args.partition(" ")
        field = _PROFILE_ALIASES.get(field.lower(), field.lower())
        if field == "clear":
            await self.clear_profile(account, channel)
        elif field in _TYPED_FIELDS and value.strip():
            await self._save_profile(account, field, value, channel)
        elif args:
            await channel.send(Reply(t("profile.usage")))
        else:
            await self._show_profile(account, channel)

    async def _show_profile(self, account: Account, channel: Channel) -> None:
        profile = await self.deps.repo.profile(account.id)
        empty = t("profile.empty")
        text = t(
            "profile.show",
            display_name=profile.display_name or empty,
            gender=t(f"profile.gender.{profile.gender}") if profile.gender else empty,
            country=profile.country or empty,
            time_zone=profile.time_zone
            or t("profile.time_zone.auto", zone=self._zone(profile.time_zone, profile.country)),
        )
        buttons = (
            (Button(t("profile.set_name"), "prof:display_name"),),
            (Button(t("profile.set_gender"), "prof:gender"),),
            (Button(t("profile.set_country"), "prof:country"),),
            (Button(t("profile.set_time_zone"), "prof:time_zone"),),
            (Button(t("profile.clear_all"), "prof:clear"),),
        )
        await channel.send(Reply(text, buttons=buttons))

    async def on_profile_button(self, account: Account, value: str, channel: Channel) -> None:
        if value in _TYPED_FIELDS:
            await self.await_text(account, f"profile.{value}", channel)
        elif value == "gender":
            row = tuple(Button(t(f"profile.gender.{g}"), f"profg:{g}") for g in PROFILE_GENDERS)
            clear = (Button(t("profile.gender.clear"), "profg:clear"),)
            await channel.send(Reply(t("profile.ask.gender"), buttons=(row, clear)))
        elif value == "clear":
            await self.clear_profile(account, channel)

    async def set_gender(self, account: Account, value: str, channel: Channel) -> None:
        if value not in (*PROFILE_GENDERS, "clear"):
            return
        gender = None if value == "clear" else value
        await self.deps.repo.set_profile_field(account.id, "gender", gender)
        await channel.send(Reply(t("profile.saved"), edit=True))

    async def clear_profile(self, account: Account, channel: Channel) -> None:
        for field in ("display_name", "gender", "country", "time_zone"):
            await self.deps.repo.set_profile_field(account.id, field, None)
        await channel.send(Reply(t("profile.cleared")))

    async def _save_profile(self, account: Account, field: str, raw: str, channel: Channel) -> None:
        value = clean_line(raw)
        if value is None:
            await channel.send(Reply(t("profile.invalid", max=FIELD_MAX)))
            return
        saved = t("profile.saved")
        if field == "time_zone":
            zone = parse_zone(value)
            if zone is None:  # still awaited: they can try again or /cancel
                await channel.send(Reply(t("profile.time_zone.unknown")))
                return
            value = zone
            now = self.deps.clock.now().astimezone(ZoneInfo(zone))
            saved = t("profile.time_zone.saved", zone=zone, time=f"{now:%H:%M}")
        await self.deps.repo.set_profile_field(account.id, field, value)
        await self.deps.repo.set_awaiting(account.id, None)
        await channel.send(Reply(saved))

    def _zone(self, time_zone: str | None, country: str | None) -> str:
        """The name of the zone a person's local time is told in (handlers/timezones.py)."""
        zone = zone_for(time_zone, country, self.deps.config.default_time_zone)
        return str(getattr(zone, "key", zone))

    # -- companion -------------------------------------------------------------------------------

    async def companion(self, account: Account, channel: Channel) -> None:
        current = await self._companion(account)
        text = t(
            "companion.show",
            name=current.name,
            gender=t(f"companion.gender.{current.gender}"),
            tone=t(f"companion.tone.{current.tone}"),
        )
        genders = tuple(Button(t(f"companion.gender.{g}"), f"compg:{g}") for g in GENDERS)
        tones = tuple(Button(t(f"companion.tone.{tone}"), f"compt:{tone}") for tone in TONES)
        buttons = ((Button(t("companion.rename"), "comp:name"),), genders, tones[:2], tones[2:])
        await channel.send(Reply(text, buttons=buttons))

    async def set_companion_choice(
        self, account: Account, kind: str, value: str, channel: Channel
    ) -> None:
        current = await self._companion(account)
        if kind == "compg" and value in GENDERS:
            updated = Companion(current.name, value, current.tone)
        elif kind == "compt" and value in TONES:
            updated = Companion(current.name, current.gender, value)
        else:
            return
        await self.deps.repo.set_companion(account.id, updated)
        await channel.send(Reply(t("companion.saved", name=updated.name)))

    async def _rename(self, account: Account, raw: str, channel: Channel) -> None:
        name = clean_name(raw)
        if name is None:
            await channel.send(Reply(t("companion.name.invalid", max=NAME_MAX)))
            return
        current = await self._companion(account)
        await self.deps.repo.set_companion(
            account.id, Companion(name, current.gender, current.tone)
        )
        await self.deps.repo.set_awaiting(account.id, None)
        await channel.send(Reply(t("companion.saved", name=name)))

    async def _companion(self, account: Account) -> Companion:
        cfg = self.deps.config
        found = await self.deps.repo.companion(account.id)
        return found or Companion(cfg.default_name, cfg.default_gender, cfg.default_tone)

    # -- nominee ---------------------------------------------------------------------------------

    async def nominate(self, account: Account, args: str, channel: Channel) -> None:
        if args:
            await self._save_nominee(account, args, channel)
            return
        nominee = await self.deps.repo.nominee(account.id)
        state = (
            t("nominee.current", name=nominee.name, contact=nominee.contact)
            if nominee
            else t("nominee.none")
        )
        buttons: tuple[tuple[Button, ...], ...] = ((Button(t("nominee.set"), "nom:set"),),)
        if nominee:
            buttons += ((Button(t("nominee.remove"), "nom:remove"),),)
        await channel.send(Reply(t("nominee.show", state=state), buttons=buttons))

    async def on_nominee_button(self, account: Account, value: str, channel: Channel) -> None:
        if value == "set":
            await self.await_text(account, "nominee", channel)
        elif value == "remove":
            await self.deps.repo.remove_nominee(account.id)
            await channel.send(Reply(t("nominee.removed"), edit=True))

    async def _save_nominee(self, account: Account, raw: str, channel: Channel) -> None:
        name_part, _, contact_part = raw.rpartition(",")
        name, contact = clean_line(name_part), clean_line(contact_part)
        if name is None or contact is None or not _CONTACT.match(contact):
            await channel.send(Reply(t("nominee.invalid")))
            return
        await self.deps.repo.set_nominee(account.id, name, contact)
        await self.deps.repo.set_awaiting(account.id, None)
        await channel.send(Reply(t("nominee.saved", name=name)))

    # -- grievance -------------------------------------------------------------------------------

    async def grievance(self, account: Account, args: str, channel: Channel) -> None:
        if args:
            await self._open_grievance(account, args, channel)
        else:
            cfg = self.deps.config
            await self.await_text(
                account,
                "grievance",
                channel,
                ack=cfg.grievance_ack_hours,
                days=cfg.grievance_resolve_days,
            )

    async def paysupport(self, account: Account, args: str, channel: Channel) -> None:
        """/paysupport (Telegram expects it of every bot that takes payments): how to get help
        and refunds, and the next text (or the arguments) opens a payment grievance."""
        if args:
            await self._open_grievance(account, args, channel, "payment")
            return
        cfg = self.deps.config
        await self.await_text(
            account,
            "grievance.payment",
            channel,
            ack=cfg.grievance_ack_hours,
            contact=cfg.privacy_contact,
        )

    async def _open_grievance(
        self, account: Account, text: str, channel: Channel, category: str = "general"
    ) -> None:
        cfg = self.deps.config
        text = text.strip()
        if not text or len(text) > GRIEVANCE_MAX:
            await channel.send(
                Reply(t("grievance.too_long", max=GRIEVANCE_MAX, contact=cfg.privacy_contact))
            )
            return
        ticket = await self.deps.repo.open_grievance(
            account.id,
            text,
            ack_within=timedelta(hours=cfg.grievance_ack_hours),
            resolve_within=timedelta(days=cfg.grievance_resolve_days),
            category=category,
        )
        await self.deps.repo.set_awaiting(account.id, None)
        reply = t(
            "grievance.opened",
            ticket=ticket.ticket,
            ack=fmt_time(ticket.ack_due),
            resolve=fmt_time(ticket.resolve_due),
            days=cfg.grievance_resolve_days,
            contact=cfg.privacy_contact,
        )
        await channel.send(Reply(reply))
