"""Amigo Plus: a monthly subscription paid in Telegram Stars (/plus, /paysupport, /terms).

The free tier is the service with the daily allowance of `[limits]`; Plus lifts or raises it and
keeps more memories (`[plus]`). Paying follows Telegram's flow: /plus sends an invoice link whose
payload the bot signed (an internal account id, a time and the price: no personal data); the
pre-checkout query is answered at once (refused for a payload not signed for this account, a
stale offer or changed price, a banned or missing account, or Plus already renewing); each
successful payment, the first and every renewal, is recorded and extends Plus. Whether a person
has Plus is computed from those records and the clock (storage/sqlite_payments.py), so it
survives restarts and is the same for every worker. Nothing about payments reaches the model.
"""

from __future__ import annotations

import base64
import hmac
import logging
from datetime import datetime, timedelta

from handlers.deps import Deps
from handlers.events import Button, Paid, PreCheckout, Reply
from handlers.ports import Channel, PaymentFailed
from handlers.texts import day, t
from storage.models import Account, NewPayment, PlusStatus, Status

log = logging.getLogger("amigo.payments")

CURRENCY = "XTR"
PERIOD = timedelta(days=30)
OFFER_TTL = timedelta(hours=24)
"""An invoice link is paid within this long of /plus, or a fresh one is asked for."""


async def memory_limit(deps: Deps, user_id: int) -> int:
    """How many memories the person's companion keeps: more with Plus (plus.memory_items)."""
    free, plus = deps.config.memory.max_items, deps.config.plus
    if not plus.enabled or plus.memory_items <= free:
        return free
    return plus.memory_items if await deps.repo.plus(user_id, deps.clock.now()) else free


async def stop_renewal(deps: Deps, user_id: int) -> None:
    """Before an account is erased (while its chat is still known): its subscription must not
    renew. Best effort: a failure is logged, and a renewal that still comes is recorded
    detached, for the owner to refund (/refund)."""
    current = await deps.repo.plus(user_id, deps.clock.now())
    if current is None or not current.renews or deps.payments is None:
        return
    tg_id = await deps.repo.chat_of(user_id)
    if tg_id is None:
        return
    try:
        await deps.payments.set_renewal(tg_id, current.subscription_id, canceled=True)
        await deps.repo.set_plus_canceled(user_id, True)
    except PaymentFailed:
        log.warning("plus.cancel_on_erasure_failed", extra={"uid": user_id})


class Plus:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.config = deps.config.plus

    @property
    def available(self) -> bool:
        return self.config.enabled and self.deps.payments is not None

    # -- what Plus gives ---------------------------------------------------------------------------

    async def status(self, account: Account) -> PlusStatus | None:
        return await self.deps.repo.plus(account.id, self.deps.clock.now())

    async def daily_allowance(self, user_id: int) -> int | None:
        """Messages a day with Plus (0: no allowance); None: no Plus now (the free allowance)."""
        if await self.deps.repo.plus(user_id, self.deps.clock.now()) is None:
            return None
        return self.config.daily_messages

    def benefits(self) -> str:
        free = self.deps.config.limits.daily_messages
        lines = [
            t("plus.benefit.unlimited", free=free)
            if not self.config.daily_messages
            else t("plus.benefit.daily", limit=self.config.daily_messages, free=free)
        ]
        if self.config.memory_items > self.deps.config.memory.max_items:
            memory = self.deps.config.memory.max_items
            lines.append(t("plus.benefit.memory", limit=self.config.memory_items, free=memory))
        return "\n".join(lines)

    # -- /plus ------------------------------------------------------------------------------------

    async def command(self, account: Account, channel: Channel) -> None:
        if not self.available:
            await channel.send(Reply(t("plus.unavailable")))
            return
        current = await self.status(account)
        if current is not None:
            await channel.send(self._status_reply(current))
            return
        await channel.send(await self.offer(account))

    async def offer(self, account: Account) -> Reply:
        """The offer with its Pay button (a fresh invoice link each time)."""
        assert self.deps.payments is not None
        price = self.config.price_stars
        try:
            link = await self.deps.payments.invoice_link(
                title=t("plus.invoice.title"),
                description=t("plus.invoice.description"),
                label=t("plus.invoice.label"),
                payload=self._payload(account.id, price),
                stars=price,
            )
        except PaymentFailed:
            return Reply(t("plus.link_failed"))
        text = t("plus.offer", benefits=self.benefits(), price=price)
        return Reply(text, buttons=((Button(t("plus.pay", price=price), url=link),),))

    def _status_reply(self, current: PlusStatus, *, edit: bool = False) -> Reply:
        renewal = (
            t("plus.renews", price=self.config.price_stars) if current.renews else t("plus.ends")
        )
        text = t("plus.active", until=day(current.until), renewal=renewal, benefits=self.benefits())
        action = ("plus.cancel", "plusc:cancel") if current.renews else ("plus.resume", "plusc:on")
        return Reply(text, buttons=((Button(t(action[0]), action[1]),),), edit=edit)

    async def on_button(self, account: Account, value: str, channel: Channel) -> None:
        """Cancel the renewal (Plus stays to the period's end), allow it again, or see the offer
        (the button under the daily-allowance message)."""
        if not self.available:
            await channel.send(Reply(t("plus.unavailable")))
            return
        current = await self.status(account)
        if value == "offer" or current is None:
            await self.command(account, channel)
            return
        canceled = value == "cancel"
        if canceled != current.renews:  # already so: show where things stand
            await channel.send(self._status_reply(current, edit=True))
            return
        tg_id = await self.deps.repo.chat_of(account.id)  # a private chat's id is its user's id
        assert self.deps.payments is not None and tg_id is not None
        try:
            await self.deps.payments.set_renewal(tg_id, current.subscription_id, canceled=canceled)
        except PaymentFailed:
            await channel.send(Reply(t("plus.cancel_failed")))
            return
        await self.deps.repo.set_plus_canceled(account.id, canceled)
        log.info("plus.renewal_changed", extra={"uid": account.id, "canceled": canceled})
        key = "plus.canceled" if canceled else "plus.resumed"
        await channel.send(Reply(t(key, until=day(current.until)), edit=True))

    # -- Telegram's payment flow ----------------------------------------------------------------

    async def pre_checkout(self, event: PreCheckout) -> str | None:
        """None: the payment may go ahead; else why not, in the person's language."""
        signed = self._check(event.payload)
        account = await self.deps.repo.find_account(event.sender.tg_id)
        if signed is None or (account is not None and signed[0] != account.id):
            return t("plus.refused.forged")
        if account is None or account.status is Status.CLOSED:
            return t("plus.refused.no_account")
        if account.status is Status.BANNED:
            return t("plus.refused.banned")
        _, made, price = signed
        stale = self.deps.clock.now() - made > OFFER_TTL or not self.config.enabled
        if stale or price != self.config.price_stars or event.amount != price:
            return t("plus.refused.expired")
        if event.currency != CURRENCY:
            return t("plus.refused.expired")
        current = await self.status(account)
        if current is not None and current.renews:
            return t("plus.refused.active")
        return None

    async def paid(self, event: Paid, account: Account | None, channel: Channel) -> None:
        """Record the payment once and say thank you with the receipt. A renewal carries the
        first payment's payload, so only the signature is checked, not its age or price."""
        signed = self._check(event.payload)
        owner = account.id if account is not None and account.status is not Status.CLOSED else None
        if signed is None or (owner is not None and signed[0] != owner):
            log.warning("plus.payment_unsigned", extra={"uid": owner})
            owner = None  # recorded (the money moved), detached: the owner can refund it
        now = self.deps.clock.now()
        payment = NewPayment(
            telegram_charge_id=event.telegram_charge_id,
            provider_charge_id=event.provider_charge_id,
            amount=event.amount,
            currency=event.currency,
            period_end=event.expires_at or now + PERIOD,
            first=event.first,
        )
        if not await self.deps.repo.record_payment(owner, payment):
            log.info("plus.payment_duplicate", extra={"uid": owner})
            return
        log.info("plus.paid", extra={"uid": owner, "first": event.first})
        if owner is None:
            await channel.send(Reply(t("plus.orphan", contact=self.deps.config.privacy_contact)))
            return
        key = "plus.thanks" if event.first else "plus.renewed"
        receipt = t(
            key,
            amount=event.amount,
            date=day(now),
            charge=event.telegram_charge_id,
            until=day(payment.period_end),
        )
        await channel.send(Reply(receipt))

    # -- signed payloads --------------------------------------------------------------------------

    def _payload(self, user_id: int, price: int) -> str:
        body = f"plus:{user_id}:{int(self.deps.clock.now().timestamp())}:{price}"
        return f"{body}.{self._mac(body)}"

    def _check(self, payload: str) -> tuple[int, datetime, int] | None:
        """(account id, when the offer was made, price) of a payload this bot signed."""
        body, _, mac = payload.rpartition(".")
        if not hmac.compare_digest(self._mac(body), mac):
            return None
        try:
            kind, user_id, made, price = body.split(":")
            made_at = datetime.fromtimestamp(int(made), self.deps.clock.now().tzinfo)
            return (int(user_id), made_at, int(price)) if kind == "plus" else None
        except ValueError:
            return None

    def _mac(self, body: str) -> str:
        return base64.urlsafe_b64encode(self.deps.sign(f"invoice:{body}")[:12]).decode()
