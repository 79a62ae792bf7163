"""Age gate, Terms, optional consents, then naming the companion.

Before the Terms are accepted nothing about the person is stored: the passed age gate travels inside
the "I accept" button as a signed timestamp. Only an under-18 answer leaves a trace, a keyed hash of the
Telegram id, so the same account cannot simply tap again (P3.1).

The language travels the same way: every onboarding button carries it right after its kind
(`age:hi:yes`, `terms:hi:<token>`), the age gate and the Terms offer a one-tap switch, and the
account is opened in the language the Terms were read in (the consent ledger records it).
"""

from __future__ import annotations

import base64
import hmac
import logging
import unicodedata
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime

from handlers.deps import Deps
from handlers.events import Button, ButtonPress, Reply, Sender, Text
from handlers.ports import Channel
from handlers.texts import LANGUAGES, current_language, language_of, t
from storage.models import Account, Companion, Purpose, Status

log = logging.getLogger("amigo.onboarding")

TRAINING, MARKETING, NAME, GENDER, TONE = (
    "consent_training",
    "consent_marketing",
    "companion_name",
    "companion_gender",
    "companion_tone",
)
GENDERS = ("female", "male", "nonbinary")
TONES = ("warm", "playful", "calm", "witty")
NAME_MAX = 32
GATE_TTL_SECONDS = 24 * 3600
_PENDING_MAX = 10_000
_ZWJ = "\u200d"  # joins emoji such as 👩‍🚀; other format characters are refused
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


LANGUAGE_BUTTONS = frozenset({"age", "agelang", "terms", "tlang"})
"""Onboarding buttons whose data carries a language (`kind:lang:...`)."""


def language_in(data: str) -> str | None:
    """The language an onboarding button carries, if any; the dispatcher speaks it."""
    kind, _, rest = data.partition(":")
    code = rest.partition(":")[0]
    return code if kind in LANGUAGE_BUTTONS and code in LANGUAGES else None


def _other_language() -> str:
    return next(code for code in LANGUAGES if code != current_language())


def _yes_no(prefix: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t("consent.yes"), f"{prefix}:y"), Button(t("consent.no"), f"{prefix}:n")),)


class Onboarding:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        # Which pre-Terms step a person is on, and in which language, in memory only, so a stray
        # text can point back.
        self._pending: OrderedDict[int, tuple[str, str]] = OrderedDict()

    # -- entry points ----------------------------------------------------------------------------

    async def start(self, sender: Sender, account: Account | None, channel: Channel) -> None:
        if account is None:
            await self._ask_age(sender, channel)
        else:
            await self.resume(account, channel)

    async def on_text(self, event: Text, account: Account | None, channel: Channel) -> None:
        """Text before onboarding is done is never stored: it only points back to the step."""
        if account is not None and account.step == NAME:
            await self._take_name(event.text, account, channel)
            return
        await channel.send(Reply(t("onboarding.finish_first")))
        if account is None:
            if self._pending.get(event.sender.tg_id, ("", ""))[0] == "terms":
                await channel.send(self._terms_prompt(event.sender))
            else:
                await self._ask_age(event.sender, channel)
        else:
            await self.resume(account, channel)

    async def on_button(
        self, event: ButtonPress, account: Account | None, channel: Channel
    ) -> None:
        kind, _, value = event.data.partition(":")
        if language_in(event.data) is not None:  # the language is already the one spoken
            value = value.partition(":")[2]
        if kind == "age" and account is None:
            await self._on_age(event.sender, value == "yes", channel)
        elif kind == "agelang" and account is None:
            await self._ask_age(event.sender, channel, edit=True)
        elif kind == "terms" and account is None:
            await self._on_terms(event.sender, value, language_in(event.data), channel)
        elif kind == "tlang" and account is None:
            await self._switch_terms(event.sender, value, channel)
        elif account is None:
            await channel.send(Reply(t("onboarding.stale_button")))
            await self._ask_age(event.sender, channel)
        elif account.status is not Status.ONBOARDING or not self._matches(kind, account.step):
            await channel.send(Reply(t("onboarding.stale_button")))
            await self.resume(account, channel)
        elif kind == "train":
            await self._on_consent(account, Purpose.MODEL_IMPROVEMENT, value == "y", channel)
        elif kind == "mkt":
            await self._on_consent(account, Purpose.MARKETING, value == "y", channel)
        elif kind == "name":
            await self._take_name(self.deps.config.default_name, account, channel, edit=True)
        elif kind == "gender" and value in GENDERS:
            await self._on_gender(account, value, channel)
        elif kind == "tone" and value in TONES:
            await self._on_tone(account, value, channel)

    async def resume(self, account: Account, channel: Channel) -> None:
        """Ask again whatever the account's current step is."""
        if account.status is not Status.ONBOARDING:
            await channel.send(Reply(t("chat.welcome_back")))
            return
        companion = await self.deps.repo.companion(account.id)
        name = companion.name if companion else self.deps.config.default_name
        prompts = {
            TRAINING: Reply(t("consent.training.ask"), buttons=_yes_no("train")),
            MARKETING: Reply(t("consent.marketing.ask"), buttons=_yes_no("mkt")),
            NAME: self._name_prompt(),
            GENDER: self._gender_prompt(name),
            TONE: self._tone_prompt(),
        }
        await channel.send(prompts.get(account.step or TRAINING, prompts[TRAINING]))

    # -- age gate and terms ------------------------------------------------------------------------

    async def _ask_age(self, sender: Sender, channel: Channel, *, edit: bool = False) -> None:
        self._remember(sender.tg_id, "age")
        lang = current_language()
        buttons = (
            (Button(t("age.yes"), f"age:{lang}:yes"), Button(t("age.no"), f"age:{lang}:no")),
            (Button(t("language.switch"), f"agelang:{_other_language()}"),),
        )
        await channel.send(Reply(t("age.ask"), buttons=buttons, edit=edit))

    async def _on_age(self, sender: Sender, adult: bool, channel: Channel) -> None:
        if await self.deps.repo.is_minor_marked(sender.tg_id):
            await channel.send(Reply(t("age.blocked", contact=self.deps.config.privacy_contact)))
            return
        if not adult:
            await self.deps.repo.mark_minor(sender.tg_id)
            self._pending.pop(sender.tg_id, None)
            log.info("onboarding.minor_declined")
            await channel.send(Reply(t("age.minor"), edit=True))
            return
        self._remember(sender.tg_id, "terms")
        await channel.send(Reply(t("age.answered_yes"), edit=True))
        await channel.send(self._terms_prompt(sender))

    def _terms_prompt(self, sender: Sender, at: int | None = None) -> Reply:
        """The Terms in the current language. The "I accept" button carries the passed age gate
        (`at`, default now) and this language, signed together: the account is opened, and the
        consent ledger records, the language the Terms were really shown in."""
        cfg = self.deps.config
        lang = current_language()
        at = int(self.deps.clock.now().timestamp()) if at is None else at
        token = self._gate_token(sender.tg_id, at, lang)
        text = t(
            "terms.ask",
            summary=t("policy.summary"),
            contact=cfg.privacy_contact,
            policy=cfg.policy_url or t("policy.full_link_fallback"),
        )
        buttons = (
            (Button(t("terms.accept"), f"terms:{lang}:{token}"),),
            (Button(t("terms.decline"), f"terms:{lang}:no"),),
            (Button(t("language.switch"), f"tlang:{_other_language()}:{token}"),),
        )
        return Reply(text, buttons=buttons)

    async def _switch_terms(self, sender: Sender, token: str, channel: Channel) -> None:
        """The same Terms screen in the other language, still carrying the passed age gate."""
        shown = [self._check_gate_token(sender.tg_id, token, lang) for lang in LANGUAGES]
        passed_at = next((at for at in shown if at is not None), None)
        if passed_at is None:
            await channel.send(Reply(t("terms.expired")))
            await self._ask_age(sender, channel)
            return
        at = int(passed_at.timestamp())
        await channel.send(replace(self._terms_prompt(sender, at), edit=True))

    async def _on_terms(
        self, sender: Sender, value: str, language: str | None, channel: Channel
    ) -> None:
        """`language`: the one the button carries (signed with the gate), None on a button sent
        before buttons carried one."""
        if value == "no":
            self._pending.pop(sender.tg_id, None)
            await channel.send(Reply(t("terms.declined"), edit=True))
            return
        passed_at = self._check_gate_token(sender.tg_id, value, language)
        if passed_at is None or await self.deps.repo.is_minor_marked(sender.tg_id):
            await channel.send(Reply(t("terms.expired")))
            await self._ask_age(sender, channel)
            return
        self._pending.pop(sender.tg_id, None)
        account = await self.deps.repo.create_account(
            sender.tg_id,
            sender.chat_id,
            policy_version=(await self.deps.policy.current()).version,
            age_confirmed_at=passed_at,
            language=current_language(),
        )
        if self.deps.menus is not None and account.language != language_of(sender.language_code):
            await self.deps.menus(sender.chat_id, account.language)  # not the app's language
        await self.deps.repo.set_step(account.id, TRAINING)
        await channel.send(Reply(t("terms.accepted"), edit=True))
        await channel.send(Reply(t("consent.training.ask"), buttons=_yes_no("train")))

    def _gate_token(self, tg_id: int, at: int, language: str | None) -> str:
        stamp = _b36(at)
        signed = f"gate:{tg_id}:{stamp}" + (f":{language}" if language else "")
        mac = base64.urlsafe_b64encode(self.deps.sign(signed)[:9]).decode()
        return f"{stamp}.{mac}"

    def _check_gate_token(self, tg_id: int, token: str, language: str | None) -> datetime | None:
        stamp, _, _mac = token.partition(".")
        try:
            at = int(stamp, 36)
        except ValueError:
            return None
        if not hmac.compare_digest(self._gate_token(tg_id, at, language), token):
            return None
        if not 0 <= self.deps.clock.now().timestamp() - at <= GATE_TTL_SECONDS:
            return None
        return datetime.fromtimestamp(at, UTC)

    def pending_language(self, tg_id: int) -> str | None:
        """The language a person without an account was last shown onboarding in."""
        pending = self._pending.get(tg_id)
        return pending[1] if pending else None

    def _remember(self, tg_id: int, step: str) -> None:
        self._pending[tg_id] = (step, current_language())
        self._pending.move_to_end(tg_id)
        while len(self._pending) > _PENDING_MAX:
            self._pending.popitem(last=False)

    # -- optional consents and the companion -----------------------------------------------------

    @staticmethod
    def _matches(kind: str, step: str | None) -> bool:
        expected = {"train": TRAINING, "mkt": MARKETING, "name": NAME, "gender": GENDER}
        return expected.get(kind, TONE if kind == "tone" else None) == step

    async def _on_consent(
        self, account: Account, purpose: Purpose, granted: bool, channel: Channel
    ) -> None:
        repo, version = self.deps.repo, (await self.deps.policy.current()).version
        await repo.record_consent(
            account.id, purpose, granted, version, language=current_language()
        )
        answer = t("answer.yes" if granted else "answer.no")
        if purpose is Purpose.MODEL_IMPROVEMENT:
            await repo.set_step(account.id, MARKETING)
            await channel.send(Reply(t("consent.training.answered", answer=answer), edit=True))
            await channel.send(Reply(t("consent.marketing.ask"), buttons=_yes_no("mkt")))
        else:
            await repo.set_step(account.id, NAME)
            await channel.send(Reply(t("consent.marketing.answered", answer=answer), edit=True))
            await channel.send(self._name_prompt())

    def _name_prompt(self) -> Reply:
        name = self.deps.config.default_name
        return Reply(
            t("companion.name.ask", name=name),
            buttons=((Button(t("companion.name.keep", name=name), "name:default"),),),
        )

    def _gender_prompt(self, name: str) -> Reply:
        row = tuple(Button(t(f"companion.gender.{g}"), f"gender:{g}") for g in GENDERS)
        return Reply(t("companion.gender.ask", name=name), buttons=(row,))

    def _tone_prompt(self) -> Reply:
        buttons = tuple(
            tuple(Button(t(f"companion.tone.{tone}"), f"tone:{tone}") for tone in pair)
            for pair in (TONES[:2], TONES[2:])
        )
        return Reply(t("companion.tone.ask"), buttons=buttons)

    async def _take_name(
        self, raw: str, account: Account, channel: Channel, *, edit: bool = False
    ) -> None:
        name = clean_name(raw)
        if name is None:
            await channel.send(Reply(t("companion.name.invalid", max=NAME_MAX)))
            await channel.send(self._name_prompt())
            return
        cfg = self.deps.config
        await self.deps.repo.set_companion(
            account.id, Companion(name=name, gender=cfg.default_gender, tone=cfg.default_tone)
        )
        await self.deps.repo.set_step(account.id, GENDER)
        await channel.send(Reply(t("companion.name.set", name=name), edit=edit))
        await channel.send(self._gender_prompt(name))

    async def _on_gender(self, account: Account, gender: str, channel: Channel) -> None:
        current = await self._companion(account)
        await self.deps.repo.set_companion(
            account.id, Companion(current.name, gender=gender, tone=current.tone)
        )
        await self.deps.repo.set_step(account.id, TONE)
        label = t(f"companion.gender.{gender}")
        await channel.send(Reply(t("companion.gender.set", value=label), edit=True))
        await channel.send(self._tone_prompt())

    async def _on_tone(self, account: Account, tone: str, channel: Channel) -> None:
        current = await self._companion(account)
        await self.deps.repo.set_companion(
            account.id, Companion(current.name, gender=current.gender, tone=tone)
        )
        await self.deps.repo.start_conversation(account.id)
        await self.deps.repo.set_step(account.id, None, activate=True)
        await self.deps.repo.mark_disclosed(account.id)  # the welcome says it is an AI
        log.info("onboarding.completed", extra={"uid": account.id})
        label = t(f"companion.tone.{tone}")
        await channel.send(Reply(t("companion.tone.set", value=label), edit=True))
        await channel.send(Reply(t("onboarding.done", name=current.name)))

    async def _companion(self, account: Account) -> Companion:
        cfg = self.deps.config
        found = await self.deps.repo.companion(account.id)
        return found or Companion(cfg.default_name, cfg.default_gender, cfg.default_tone)


def clean_name(raw: str) -> str | None:
    """A companion name: one line, printable, 1..NAME_MAX characters, not a command or link."""
    name = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not 1 <= len(name) <= NAME_MAX or name.startswith("/") or "://" in name:
        return None
    if any(ch != _ZWJ and unicodedata.category(ch) in _BAD_CATEGORIES for ch in name):
        return None
    return name


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if not number:
            return out
