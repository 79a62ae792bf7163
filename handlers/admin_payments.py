"""/refund: the owner gives a payment's Stars back, ends Amigo Plus, and the person is told.

Through `refundStarPayment` first: only what Telegram refunded is recorded as refunded. The audit
log gets the account, the charge and the reason; /stats shows payments in aggregate only.
"""

from __future__ import annotations

import logging

from handlers.admin_requests import need_reason, open_account
from handlers.events import Reply
from handlers.ports import Channel, PaymentFailed
from handlers.staff import BadArguments, Desk
from handlers.texts import t

log = logging.getLogger("amigo.admin")


async def refund(desk: Desk, role: str, args: str, channel: Channel) -> str:
    deps = desk.deps
    ref, charge, reason = [*args.split(maxsplit=2), "", "", ""][:3]
    account = await open_account(deps, ref)
    if not charge:
        raise BadArguments(t("admin.bad_args"))
    reason = need_reason(reason)
    if deps.payments is None:
        raise BadArguments(t("admin.no_transport"))
    paid = {r.telegram_charge_id: r for r in await deps.repo.payment_records(account.id)}
    record = paid.get(charge)
    if record is None or record.status != "paid":
        raise BadArguments(t("admin.refund_unknown", user=account.id, charge=charge))
    tg_id = await deps.repo.chat_of(account.id)  # a private chat's id is its user's id
    if tg_id is None:
        raise BadArguments(t("requests.unreachable", user=account.id))
    try:
        await deps.payments.refund(tg_id, charge)
    except PaymentFailed as exc:
        await channel.send(Reply(t("admin.refund_failed", error=str(exc) or "no answer")))
        return f"user={account.id} charge={charge} refunded=False reason={reason}"
    current = await deps.repo.plus(account.id, deps.clock.now())
    if current is not None and current.renews:  # no renewal after a refund
        try:
            await deps.payments.set_renewal(tg_id, current.subscription_id, canceled=True)
        except PaymentFailed:
            log.warning("plus.cancel_on_refund_failed", extra={"uid": account.id})
    await deps.repo.refund_payment(account.id, charge)
    amount = record.amount_minor
    told = await desk.tell(
        account.id,
        lambda: t("plus.refunded_notice", charge=charge, amount=amount, reason=reason),
    )
    await channel.send(
        Reply(t("admin.refunded", user=account.id, charge=charge, amount=amount, told=told))
    )
    log.info("plus.refunded", extra={"uid": account.id})
    return f"user={account.id} charge={charge} stars={amount} told={told} reason={reason}"
