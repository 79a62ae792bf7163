"""Telegram Stars payments: invoice links, pre-checkout, successful payments, subscriptions, refunds.

The flow is Telegram's: the bot makes an invoice link (createInvoiceLink); a simulated user opens
it and pays (:meth:`PaymentsMixin.pay`), so Telegram sends the bot a ``pre_checkout_query`` and
waits up to 10 seconds for answerPreCheckoutQuery; only after ``ok=True`` is the user charged and
the bot gets a ``successful_payment`` service message in the user's private chat. An invoice with
``subscription_period`` starts a subscription that Telegram itself renews every period (no
pre-checkout, just another successful_payment: :meth:`PaymentsMixin.renew`) until the bot cancels
it with editUserStarSubscription. refundStarPayment gives a charge back once.

Deliberate differences from Telegram (documented so tests are not misread):

* Only Stars: any currency but ``XTR`` is refused (CURRENCY_INVALID without a provider token,
  PAYMENT_PROVIDER_INVALID with one, since the fake knows no providers).
* ``provider_payment_charge_id`` is ``""``: the field is required, but the docs leave its value
  for Stars open, so bots must not rely on it (charges are identified by the Telegram id).
* The wording of the title, description, label and boolean-parameter errors is ours.
* ``is_canceled=False`` lets renewals resume at once (Telegram lets the user re-enable it).
* A refund sends no ``refunded_payment`` message; it is only recorded in :attr:`refunds`.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import ApiError, Call, _wait_event
from .users import SimulatedUsersMixin

STARS = "XTR"
SUBSCRIPTION_PERIOD = 2_592_000  # 30 days: the only period Telegram allows (Bot API 8.0+)
SUBSCRIPTION_MAX_PRICE = 10_000  # Stars; Bot API 9.0
PRE_CHECKOUT_TIMEOUT = 10.0  # seconds Telegram waits for answerPreCheckoutQuery
INVOICE_LINK_PREFIX = "https://t.me/$"


@dataclass
class PaymentResult:
    """What a simulated payment came to; ``update_id`` is the successful_payment update's."""

    ok: bool
    error_message: str | None
    charge_id: str | None
    update_id: int | None
    expires_at: int | None  # subscription_expiration_date, for subscriptions only


@dataclass
class StarInvoice:
    """One createInvoiceLink the fake accepted; ``params`` are the call's, as received."""

    slug: str
    link: str
    title: str
    description: str
    payload: str
    currency: str
    label: str
    amount: int
    subscription_period: int | None
    params: dict[str, Any]


@dataclass
class PreCheckout:
    """A pre_checkout_query sent to the bot and how (or whether) the bot answered it."""

    query_id: str
    user_id: int
    currency: str
    total_amount: int
    invoice_payload: str
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None
    expired: bool = False  # not answered in time: a late answer gets QUERY_ID_INVALID


@dataclass
class StarCharge:
    """One successful payment (a first payment or a renewal)."""

    charge_id: str
    user_id: int
    currency: str
    total_amount: int
    invoice_payload: str
    date: int
    subscription_id: str | None = None  # the first charge id of its subscription
    expires_at: int | None = None
    refunded: bool = False


@dataclass
class StarSubscription:
    """A subscription, keyed like Telegram by the charge id of its first payment."""

    first_charge_id: str
    user_id: int
    currency: str
    amount: int
    invoice_payload: str
    period: int
    expires_at: int
    is_canceled: bool = False
    charge_ids: list[str] = field(default_factory=list)


@dataclass
class _Ledger:
    invoices: dict[str, StarInvoice] = field(default_factory=dict)
    queries: dict[str, PreCheckout] = field(default_factory=dict)
    charges: dict[str, StarCharge] = field(default_factory=dict)
    subscriptions: dict[str, StarSubscription] = field(default_factory=dict)
    refunds: list[str] = field(default_factory=list)
    next_query_id: int = 2_000_000_000_000_000_000


class PaymentsMixin(SimulatedUsersMixin):
    """The Stars payment methods, the paying users, and what tests inspect about payments."""

    @functools.cached_property
    def _ledger(self) -> _Ledger:
        """Created on first use, so the shared state needs no payment attributes."""
        return _Ledger()

    # ---------------------------------------------------------------- inspection

    @property
    def invoices(self) -> dict[str, StarInvoice]:
        """Invoices created with createInvoiceLink, by link slug, oldest first."""
        return self._ledger.invoices

    @property
    def pre_checkout_answers(self) -> list[PreCheckout]:
        """Pre-checkout queries the bot answered, in the order they were sent."""
        return [q for q in self._ledger.queries.values() if q.answered]

    @property
    def charges(self) -> dict[str, StarCharge]:
        """Every successful payment, by telegram_payment_charge_id."""
        return self._ledger.charges

    @property
    def subscriptions(self) -> dict[str, StarSubscription]:
        """Subscriptions by the charge id of their first payment."""
        return self._ledger.subscriptions

    @property
    def refunds(self) -> list[str]:
        """Charge ids refunded with refundStarPayment, in order."""
        return self._ledger.refunds

    def invoice(self, link: str) -> StarInvoice:
        """The invoice behind ``link`` (or a bare slug)."""
        slug = link.removeprefix(INVOICE_LINK_PREFIX)
        found = self._ledger.invoices.get(slug)
        if found is None:
            raise AssertionError(f"the bot created no invoice link {link!r}")
        return found

    # ---------------------------------------------------------------- simulated users

    async def pay(
        self,
        user_id: int,
        link: str,
        *,
        first_name: str = "Test",
        language_code: str = "en",
        timeout: float = PRE_CHECKOUT_TIMEOUT,
    ) -> PaymentResult:
        """The user opens the invoice ``link`` and pays: pre-checkout, then (if the bot says ok)
        the successful_payment message; a subscription invoice starts a subscription."""
        found = self.invoice(link)
        return await self.pre_checkout(
            user_id,
            payload=found.payload,
            amount=found.amount,
            currency=found.currency,
            subscription_period=found.subscription_period,
            first_name=first_name,
            language_code=language_code,
            timeout=timeout,
        )

    async def pre_checkout(
        self,
        user_id: int,
        *,
        payload: str,
        amount: int,
        currency: str = STARS,
        subscription_period: int | None = None,
        first_name: str = "Test",
        language_code: str = "en",
        timeout: float = PRE_CHECKOUT_TIMEOUT,
    ) -> PaymentResult:
        """Pay for an invoice with any ``payload``, also one the bot never made (a forged or
        stale invoice): the bot must check it in its pre-checkout answer.

        Telegram gives the bot 10 seconds; unanswered, the payment fails with "timeout" and a
        late answer is refused like an unknown query.
        """
        ledger = self._ledger
        query = PreCheckout(
            query_id=str(ledger.next_query_id),
            user_id=user_id,
            currency=currency,
            total_amount=amount,
            invoice_payload=payload,
        )
        ledger.next_query_id += 1
        ledger.queries[query.query_id] = query
        self.push_update(
            {
                "pre_checkout_query": {
                    "id": query.query_id,
                    "from": self._user_json(user_id, first_name, language_code, None),
                    "currency": currency,
                    "total_amount": amount,
                    "invoice_payload": payload,
                }
            }
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._call_signal.current()
            if query.answered:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                query.expired = True
                return PaymentResult(False, "timeout", None, None, None)
            await _wait_event(event, remaining)
        if not query.ok:
            return PaymentResult(False, query.error_message, None, None, None)

        date = int(time.time())
        charge = StarCharge(
            charge_id=_new_charge_id(),
            user_id=user_id,
            currency=currency,
            total_amount=amount,
            invoice_payload=payload,
            date=date,
        )
        if subscription_period is not None:
            charge.subscription_id = charge.charge_id
            charge.expires_at = date + subscription_period
            ledger.subscriptions[charge.charge_id] = StarSubscription(
                first_charge_id=charge.charge_id,
                user_id=user_id,
                currency=currency,
                amount=amount,
                invoice_payload=payload,
                period=subscription_period,
                expires_at=charge.expires_at,
                charge_ids=[charge.charge_id],
            )
        update_id = self._push_payment(
            charge, first=True, first_name=first_name, language_code=language_code
        )
        return PaymentResult(True, None, charge.charge_id, update_id, charge.expires_at)

    def renew(
        self, user_id: int, first_charge_id: str, *, now: float | None = None
    ) -> PaymentResult:
        """Telegram charges the next period of a subscription by itself: no pre_checkout_query
        (the user agreed when subscribing), just a successful_payment with ``is_recurring`` and
        a new charge id. ``now`` is when it happens (default: when the period runs out); the
        new period starts at the later of the two. A canceled subscription is never renewed.
        """
        subscription = self._ledger.subscriptions.get(first_charge_id)
        if subscription is None or subscription.user_id != user_id:
            raise AssertionError(f"user {user_id} has no subscription {first_charge_id!r}")
        if subscription.is_canceled:
            raise AssertionError(
                f"subscription {first_charge_id!r} was canceled by the bot; Telegram would not "
                "renew it"
            )
        date = int(subscription.expires_at if now is None else now)
        subscription.expires_at = max(subscription.expires_at, date) + subscription.period
        charge = StarCharge(
            charge_id=_new_charge_id(),
            user_id=user_id,
            currency=subscription.currency,
            total_amount=subscription.amount,
            invoice_payload=subscription.invoice_payload,
            date=date,
            subscription_id=first_charge_id,
            expires_at=subscription.expires_at,
        )
        subscription.charge_ids.append(charge.charge_id)
        update_id = self._push_payment(charge, first=False)
        return PaymentResult(True, None, charge.charge_id, update_id, charge.expires_at)

    def _push_payment(
        self,
        charge: StarCharge,
        *,
        first: bool,
        first_name: str = "Test",
        language_code: str = "en",
    ) -> int:
        self._ledger.charges[charge.charge_id] = charge
        payment: dict[str, Any] = {
            "currency": charge.currency,
            "total_amount": charge.total_amount,
            "invoice_payload": charge.invoice_payload,
            "telegram_payment_charge_id": charge.charge_id,
            "provider_payment_charge_id": "",
        }
        if charge.subscription_id is not None:
            payment["subscription_expiration_date"] = charge.expires_at
            payment["is_recurring"] = True
            if first:
                payment["is_first_recurring"] = True
        message = self._user_message(
            charge.user_id,
            {"successful_payment": payment},
            chat_id=None,
            chat_type="private",
            first_name=first_name,
            language_code=language_code,
        )
        message["date"] = charge.date
        return self.push_update({"message": message})

    # ---------------------------------------------------------------- Bot API methods

    def _create_invoice_link(self, call: Call) -> Any:
        """Stars invoices as Telegram checks them: one price, no tips, an empty provider token,
        and for a subscription the 30-day period and at most 10000 Stars."""
        params = call.params
        title = _text(params, "title")
        description = _text(params, "description")
        payload = _text(params, "payload")
        currency = _text(params, "currency")
        if not 1 <= len(title) <= 32:
            raise ApiError(400, "Bad Request: invoice title must be 1-32 characters long")
        if not 1 <= len(description) <= 255:
            raise ApiError(400, "Bad Request: invoice description must be 1-255 characters long")
        if not 1 <= len(payload.encode("utf-8")) <= 128:
            raise ApiError(400, "Bad Request: INVOICE_PAYLOAD_INVALID")
        provider_token = _text(params, "provider_token")
        if currency != STARS:
            if provider_token:
                raise ApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
            raise ApiError(400, "Bad Request: CURRENCY_INVALID")
        prices = params.get("prices")
        if not isinstance(prices, list) or not all(isinstance(p, dict) for p in prices):
            raise ApiError(400, "Bad Request: can't parse prices JSON object")
        if provider_token or len(prices) != 1 or params.get("max_tip_amount"):
            raise ApiError(400, "Bad Request: STARS_INVOICE_INVALID")
        if params.get("suggested_tip_amounts"):
            raise ApiError(400, "Bad Request: STARS_INVOICE_INVALID")
        label, amount = prices[0].get("label"), prices[0].get("amount")
        if not isinstance(label, str) or not label:
            raise ApiError(400, "Bad Request: price label must be non-empty")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ApiError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        period = _subscription_period(params.get("subscription_period"))
        if period is not None and amount > SUBSCRIPTION_MAX_PRICE:
            raise ApiError(400, "Bad Request: SUBSCRIPTION_PRICE_INVALID")
        slug = secrets.token_urlsafe(21)
        link = INVOICE_LINK_PREFIX + slug
        self._ledger.invoices[slug] = StarInvoice(
            slug=slug,
            link=link,
            title=title,
            description=description,
            payload=payload,
            currency=currency,
            label=label,
            amount=amount,
            subscription_period=period,
            params=dict(params),
        )
        return link

    def _answer_pre_checkout_query(self, call: Call) -> Any:
        """Each query is answered once, within the 10 seconds (see :meth:`pre_checkout`)."""
        params = call.params
        query = self._ledger.queries.get(_text(params, "pre_checkout_query_id"))
        if query is None or query.answered or query.expired:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
        ok = _flag(params, "ok")
        error_message = _text(params, "error_message")
        if not ok and not error_message:
            raise ApiError(400, "Bad Request: ERROR_TEXT_EMPTY")
        query.answered, query.ok = True, ok
        query.error_message = None if ok else error_message
        return True

    def _edit_user_star_subscription(self, call: Call) -> Any:
        """Only the first payment's charge id names a subscription, as in Telegram."""
        params = call.params
        subscription = self._ledger.subscriptions.get(_text(params, "telegram_payment_charge_id"))
        if subscription is None or subscription.user_id != params.get("user_id"):
            raise ApiError(400, "Bad Request: CHARGE_ID_INVALID")
        subscription.is_canceled = _flag(params, "is_canceled")
        return True

    def _refund_star_payment(self, call: Call) -> Any:
        params = call.params
        charge_id = _text(params, "telegram_payment_charge_id")
        if not charge_id:
            raise ApiError(400, "Bad Request: CHARGE_ID_EMPTY")
        charge = self._ledger.charges.get(charge_id)
        if charge is None or charge.user_id != params.get("user_id"):
            raise ApiError(400, "Bad Request: CHARGE_NOT_FOUND")
        if charge.refunded:
            raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        self._ledger.refunds.append(charge_id)
        return True


def _text(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value)


def _flag(params: dict[str, Any], key: str) -> bool:
    """Booleans as Telegram reads them from JSON or form fields."""
    value = params.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if str(value).lower() in ("1", "true"):
        return True
    if str(value).lower() in ("0", "false", ""):
        return False
    raise ApiError(400, f"Bad Request: {key} must be a boolean")


def _subscription_period(value: Any) -> int | None:
    """None when absent; PTB may send an integral float (InvoiceLimit.SUBSCRIPTION_PERIOD)."""
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or seconds != SUBSCRIPTION_PERIOD:
        raise ApiError(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
    return SUBSCRIPTION_PERIOD


def _new_charge_id() -> str:
    """Unique and as long as real Stars charge ids (well over 128 characters)."""
    return "stx" + secrets.token_urlsafe(108)


_PAYMENT_METHODS: dict[str, Callable[[PaymentsMixin, Call], Any]] = {
    "createInvoiceLink": PaymentsMixin._create_invoice_link,
    "answerPreCheckoutQuery": PaymentsMixin._answer_pre_checkout_query,
    "editUserStarSubscription": PaymentsMixin._edit_user_star_subscription,
    "refundStarPayment": PaymentsMixin._refund_star_payment,
}
