"""Telegram Stars through either library: handlers.ports.Payments for handlers/payments.py.

Digital goods sold in a bot are paid in Telegram Stars (currency XTR, no provider token); a
monthly subscription is an invoice with `subscription_period` = 30 days, which Telegram renews by
itself until it is cancelled. A refused or failed call becomes PaymentFailed carrying only the
error's type and Telegram's short reason, never anything of the person.
"""

from __future__ import annotations

import logging

from bot.telegram_api import BotApi, TelegramError
from handlers.ports import PaymentFailed

log = logging.getLogger("amigo.payments")

SUBSCRIPTION_PERIOD_SECONDS = 30 * 24 * 3600
"""The only period Telegram allows for Star subscriptions (2592000 seconds)."""


class TelegramPayments:
    def __init__(self, api: BotApi) -> None:
        self.api = api

    async def invoice_link(
        self, *, title: str, description: str, label: str, payload: str, stars: int
    ) -> str:
        try:
            return await self.api.create_invoice_link(
                title=title,
                description=description,
                payload=payload,
                label=label,
                stars=stars,
                subscription_period=SUBSCRIPTION_PERIOD_SECONDS,
            )
        except TelegramError as exc:
            raise _failed("createInvoiceLink", exc) from None

    async def set_renewal(self, tg_user_id: int, subscription_id: str, *, canceled: bool) -> None:
        try:
            await self.api.edit_user_star_subscription(
                tg_user_id, subscription_id, canceled=canceled
            )
        except TelegramError as exc:
            raise _failed("editUserStarSubscription", exc) from None

    async def refund(self, tg_user_id: int, telegram_charge_id: str) -> None:
        try:
            await self.api.refund_star_payment(tg_user_id, telegram_charge_id)
        except TelegramError as exc:
            raise _failed("refundStarPayment", exc) from None


def _failed(call: str, exc: TelegramError) -> PaymentFailed:
    log.warning("payments.failed", extra={"call": call, "error": type(exc).__name__})
    return PaymentFailed(exc.message)
