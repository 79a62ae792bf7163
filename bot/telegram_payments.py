"""Telegram Stars through python-telegram-bot: handlers.ports.Payments for handlers/payments.py.

Digital goods sold in a bot are paid in Telegram Stars (currency XTR, no provider token); a
monthly subscription is an invoice with `subscription_period` = 30 days, which Telegram renews by
itself until it is cancelled. A refused or failed call becomes PaymentFailed carrying only the
error's type and Telegram's short reason, never anything of the person.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, LabeledPrice
from telegram.error import TelegramError

from handlers.ports import PaymentFailed

log = logging.getLogger("amigo.payments")

STARS = "XTR"
SUBSCRIPTION_PERIOD = timedelta(days=30)
"""The only period Telegram allows for Star subscriptions (2592000 seconds)."""


class TelegramPayments:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def invoice_link(
        self, *, title: str, description: str, label: str, payload: str, stars: int
    ) -> str:
        try:
            return await self.bot.create_invoice_link(
                title=title,
                description=description,
                payload=payload,
                currency=STARS,
                prices=[LabeledPrice(label, stars)],
                subscription_period=SUBSCRIPTION_PERIOD,
            )
        except TelegramError as exc:
            raise _failed("create_invoice_link", exc) from None

    async def set_renewal(self, tg_user_id: int, subscription_id: str, *, canceled: bool) -> None:
        try:
            await self.bot.edit_user_star_subscription(tg_user_id, subscription_id, canceled)
        except TelegramError as exc:
            raise _failed("edit_user_star_subscription", exc) from None

    async def refund(self, tg_user_id: int, telegram_charge_id: str) -> None:
        try:
            await self.bot.refund_star_payment(tg_user_id, telegram_charge_id)
        except TelegramError as exc:
            raise _failed("refund_star_payment", exc) from None


def _failed(call: str, exc: TelegramError) -> PaymentFailed:
    log.warning("payments.failed", extra={"call": call, "error": type(exc).__name__})
    return PaymentFailed(exc.message)
