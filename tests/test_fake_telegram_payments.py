"""The fake Telegram's Stars payments, driven by real PTB: invoice links refused like Telegram
refuses them, the pre-checkout handshake, subscription payments and renewals, cancellation and
refunds.

The bot's payment code will be tested on this fake, so it has to fail where Telegram fails.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator, Callable

import pytest
import telegram
from telegram import LabeledPrice, SuccessfulPayment, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from tests.fake_telegram_helpers import USER
from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes.telegram import FakeTelegram, PaymentResult

PERIOD = 2_592_000
PRICE = 250
REFUSAL = "This offer is no longer valid."


async def plus_link(bot: telegram.Bot, payload: str = "plus:4242:signed") -> str:
    """The "Amigo Plus" monthly subscription invoice, as the bot would create it."""
    return await bot.create_invoice_link(
        title="Amigo Plus",
        description="Unlimited chats with Amigo, renewed monthly.",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice("Amigo Plus", PRICE)],
        subscription_period=PERIOD,
    )


class PayingBot:
    """A real PTB Application that accepts only payloads it signed and records payments."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.signed: set[str] = set()
        self.payments: list[SuccessfulPayment] = []
        self.app = (
            Application.builder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        self.app.add_handler(PreCheckoutQueryHandler(self._pre_checkout))
        self.app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, self._paid))

    async def _pre_checkout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.pre_checkout_query
        assert query is not None
        if query.invoice_payload in self.signed and query.currency == "XTR":
            await query.answer(ok=True)
        else:
            await query.answer(ok=False, error_message=REFUSAL)

    async def _paid(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.successful_payment is not None
        self.payments.append(update.message.successful_payment)

    async def link(self, payload: str = "plus:4242:signed") -> str:
        self.signed.add(payload)
        return await plus_link(self.app.bot, payload)

    async def wait_for_payments(self, count: int, timeout: float = 5.0) -> None:
        await wait_until(lambda: len(self.payments) >= count, timeout)


def refused(error: str) -> pytest.RaisesExc[BadRequest]:
    """PTB capitalises Telegram's description ("Bad Request: CHARGE_NOT_FOUND" becomes
    "Charge_not_found"), so match without case; the raw text is in ``fake.calls``."""
    return pytest.raises(BadRequest, match=f"(?i){error}")


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


@pytest.fixture
async def paying_bot(telegram_api: FakeTelegram) -> AsyncIterator[PayingBot]:
    bot = PayingBot(telegram_api)
    async with bot.app:
        await bot.app.start()
        assert bot.app.updater is not None
        await bot.app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        try:
            yield bot
        finally:
            await bot.app.updater.stop()
            await bot.app.stop()


async def test_invoice_links_for_a_star_subscription(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    link = await plus_link(ptb_bot, payload='{"plan": "plus"}')
    assert link.startswith("https://t.me/$") and len(link) > len("https://t.me/$")
    invoice = telegram_api.invoice(link)
    assert invoice.payload == '{"plan": "plus"}'  # a JSON-looking payload stays a string
    assert (invoice.currency, invoice.amount, invoice.label) == ("XTR", PRICE, "Amigo Plus")
    assert invoice.subscription_period == PERIOD and invoice.title == "Amigo Plus"
    assert list(telegram_api.invoices) == [invoice.slug]

    one_off = await ptb_bot.create_invoice_link(
        "One-off", "A single purchase", "once", "XTR", [LabeledPrice("Once", 5)]
    )
    assert telegram_api.invoice(one_off).subscription_period is None
    assert one_off != link  # every link is new
    monthly = await ptb_bot.create_invoice_link(
        "Amigo Plus",
        "Monthly",
        "plus",
        "XTR",
        [LabeledPrice("Plus", PRICE)],
        subscription_period=dtm.timedelta(days=30),
    )
    assert telegram_api.invoice(monthly).subscription_period == PERIOD


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"subscription_period": 86_400}, "SUBSCRIPTION_PERIOD_INVALID"),
        ({"currency": "USD"}, "CURRENCY_INVALID"),
        ({"currency": "USD", "provider_token": "123:TEST"}, "PAYMENT_PROVIDER_INVALID"),
        ({"provider_token": "123:TEST"}, "STARS_INVOICE_INVALID"),
        (
            {"prices": [LabeledPrice("Plus", 100), LabeledPrice("Tax", 10)]},
            "STARS_INVOICE_INVALID",
        ),
        ({"max_tip_amount": 10}, "STARS_INVOICE_INVALID"),
        ({"prices": [LabeledPrice("Plus", 0)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"prices": [LabeledPrice("Plus", 10_001)]}, "SUBSCRIPTION_PRICE_INVALID"),
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"payload": "é" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes
        ({"title": "T" * 33}, "title must be 1-32"),
        ({"description": "D" * 256}, "description must be 1-255"),
    ],
)
async def test_bad_invoice_links_are_refused_like_telegram(
    telegram_api: FakeTelegram,
    ptb_bot: telegram.Bot,
    changes: dict[str, object],
    error: str,
) -> None:
    params: dict[str, object] = {
        "title": "Amigo Plus",
        "description": "Monthly",
        "payload": "plus",
        "currency": "XTR",
        "prices": [LabeledPrice("Plus", PRICE)],
        "subscription_period": PERIOD,
        **changes,
    }
    with refused(error):
        await ptb_bot.create_invoice_link(**params)  # type: ignore[arg-type]
    assert telegram_api.invoices == {}
    failed = telegram_api.calls[-1]
    assert failed.status == 400 and failed.error is not None
    assert failed.error.startswith("Bad Request: ") and error in failed.error


async def test_paying_a_subscription_then_renewal_cancel_and_refund(
    telegram_api: FakeTelegram, paying_bot: PayingBot
) -> None:
    link = await paying_bot.link()
    before = int(time.time())
    paid = await telegram_api.pay(USER, link, timeout=5)
    assert paid.ok and paid.error_message is None and paid.charge_id and paid.update_id
    assert (
        paid.expires_at is not None and before + PERIOD <= paid.expires_at <= time.time() + PERIOD
    )
    (answer,) = telegram_api.pre_checkout_answers
    assert answer.ok is True and answer.user_id == USER and answer.total_amount == PRICE

    await paying_bot.wait_for_payments(1)
    (first,) = paying_bot.payments
    assert (first.currency, first.total_amount) == ("XTR", PRICE)
    assert first.invoice_payload == "plus:4242:signed"
    assert first.telegram_payment_charge_id == paid.charge_id
    assert len(paid.charge_id) > 128  # real Stars charge ids are that long
    assert first.provider_payment_charge_id == ""
    assert first.is_recurring is True and first.is_first_recurring is True
    assert first.subscription_expiration_date == dtm.datetime.fromtimestamp(
        paid.expires_at, dtm.UTC
    )
    assert telegram_api.subscriptions[paid.charge_id].expires_at == paid.expires_at

    # Telegram renews by itself: no pre-checkout, a new charge, the next period.
    renewed = telegram_api.renew(USER, paid.charge_id)
    assert renewed.ok and renewed.charge_id not in (None, paid.charge_id)
    assert renewed.expires_at == paid.expires_at + PERIOD
    await paying_bot.wait_for_payments(2)
    second = paying_bot.payments[1]
    assert second.is_recurring is True and not second.is_first_recurring
    assert second.invoice_payload == first.invoice_payload and second.total_amount == PRICE
    assert second.telegram_payment_charge_id == renewed.charge_id
    assert len(telegram_api.pre_checkout_answers) == 1

    later = paid.expires_at + 3 * PERIOD  # lapsed, then renewed: the period starts now
    assert telegram_api.renew(USER, paid.charge_id, now=later).expires_at == later + PERIOD

    bot = paying_bot.app.bot
    assert renewed.charge_id is not None
    with refused("CHARGE_ID_INVALID"):  # only the first charge names it
        await bot.edit_user_star_subscription(USER, renewed.charge_id, is_canceled=True)
    with refused("CHARGE_ID_INVALID"):  # someone else's
        await bot.edit_user_star_subscription(USER + 1, paid.charge_id, is_canceled=True)
    assert await bot.edit_user_star_subscription(USER, paid.charge_id, is_canceled=True)
    assert telegram_api.subscriptions[paid.charge_id].is_canceled
    with pytest.raises(AssertionError, match="canceled"):
        telegram_api.renew(USER, paid.charge_id)
    assert await bot.edit_user_star_subscription(USER, paid.charge_id, is_canceled=False)
    assert telegram_api.renew(USER, paid.charge_id).ok

    with refused("CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(USER + 1, paid.charge_id)
    with refused("CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(USER, "stxNOPE")
    assert await bot.refund_star_payment(USER, paid.charge_id)
    with refused("CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(USER, paid.charge_id)
    assert telegram_api.refunds == [paid.charge_id]
    assert telegram_api.charges[paid.charge_id].refunded


async def test_a_refused_pre_checkout_charges_nothing(
    telegram_api: FakeTelegram, paying_bot: PayingBot
) -> None:
    forged = await telegram_api.pre_checkout(
        USER, payload="plus:4242:forged", amount=1, subscription_period=PERIOD, timeout=5
    )
    assert forged == PaymentResult(False, REFUSAL, None, None, None)
    (answer,) = telegram_api.pre_checkout_answers
    assert answer.ok is False and answer.error_message == REFUSAL
    assert answer.invoice_payload == "plus:4242:forged"

    # The link itself is real, but the bot no longer honours its payload.
    link = await plus_link(paying_bot.app.bot, "plus:old")
    assert not (await telegram_api.pay(USER, link, timeout=5)).ok
    await asyncio.sleep(0.2)  # give a wrong successful_payment time to arrive
    assert paying_bot.payments == [] and telegram_api.charges == {}
    assert telegram_api.subscriptions == {}
    assert not any("message" in u for u in telegram_api.updates)


async def test_pre_checkout_answers_are_checked_and_time_out(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    link = await plus_link(ptb_bot)
    paying = asyncio.create_task(telegram_api.pay(USER, link, timeout=5))
    (update,) = await ptb_bot.get_updates(timeout=dtm.timedelta(seconds=2))
    query = update.pre_checkout_query
    assert query is not None and query.from_user.id == USER
    assert (query.currency, query.total_amount) == ("XTR", PRICE)
    assert query.invoice_payload == "plus:4242:signed"

    with refused("QUERY_ID_INVALID"):
        await ptb_bot.answer_pre_checkout_query("12345", ok=True)
    with refused("ERROR_TEXT_EMPTY"):
        await ptb_bot.answer_pre_checkout_query(query.id, ok=False)
    assert await ptb_bot.answer_pre_checkout_query(query.id, ok=True)
    with refused("QUERY_ID_INVALID"):  # answered once only
        await ptb_bot.answer_pre_checkout_query(query.id, ok=True)
    paid = await paying
    assert paid.ok and paid.charge_id in telegram_api.charges

    late = await telegram_api.pay(USER, link, timeout=0.2)  # nobody answers
    assert late == PaymentResult(False, "timeout", None, None, None)
    stale = telegram_api.updates[-1]["pre_checkout_query"]["id"]
    with refused("QUERY_ID_INVALID"):
        await ptb_bot.answer_pre_checkout_query(stale, ok=True)
    assert len(telegram_api.charges) == 1
