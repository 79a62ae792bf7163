"""Amigo Plus: payment records, the entitlement they give, and their aggregates (/stats).

Plus is never a flag: it is whatever paid, unrefunded record covers now, so it survives restarts
and is the same for every worker. A record holds only what the policy lists (section 4.1).
"""

from __future__ import annotations

import logging
from datetime import datetime

from storage.models import NewPayment, PaymentRecord, PlusStats, PlusStatus
from storage.sql_base import SqlBase, dt, inserted_id, ts
from storage.sqlite_records import log_event

log = logging.getLogger("amigo.storage")


class PaymentQueries(SqlBase):
    async def record_payment(self, user_id: int | None, payment: NewPayment) -> bool:
        """Record a successful payment once (False: this charge was recorded before). A renewal
        belongs to the person's newest subscription; a first payment starts one that renews."""
        now = self._clock.now()
        async with self.transaction() as db:
            seen = await db.execute_fetchall(
                "SELECT 1 FROM payments WHERE telegram_charge_id = ?",
                (payment.telegram_charge_id,),
            )
            if list(seen):
                return False
            subscription = payment.telegram_charge_id
            if not payment.first and user_id is not None:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT subscription_id FROM payments WHERE user_id = ?"
                        " AND subscription_id IS NOT NULL ORDER BY id DESC LIMIT 1",
                        (user_id,),
                    )
                )
                subscription = str(rows[0][0]) if rows else subscription
            payment_id = await inserted_id(
                db,
                "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency, status,"
                " created_at, telegram_charge_id, subscription_id, period_end)"
                " VALUES (?, ?, ?, ?, 'paid', ?, ?, ?, ?) RETURNING id",
                (
                    user_id,
                    payment.provider_charge_id,
                    payment.amount,
                    payment.currency,
                    ts(now),
                    payment.telegram_charge_id,
                    subscription,
                    ts(payment.period_end),
                ),
            )
            if payment.first and user_id is not None:
                await db.execute("UPDATE users SET plus_canceled = 0 WHERE id = ?", (user_id,))
            await log_event(db, now, "payment.received", user_id, {"first": int(payment.first)})
        log.info("payment.recorded", extra={"uid": user_id, "payment": payment_id})
        return True

    async def plus(self, user_id: int, now: datetime) -> PlusStatus | None:
        """Plus now: the newest end of a paid, unrefunded period still running; None when free."""
        rows = await self._read(
            "SELECT p.period_end, p.subscription_id, u.plus_canceled FROM payments p"
            " JOIN users u ON u.id = p.user_id WHERE p.user_id = ? AND p.status = 'paid'"
            " AND p.period_end > ? ORDER BY p.period_end DESC LIMIT 1",
            (user_id, ts(now)),
        )
        if not rows:
            return None
        until, subscription, canceled = rows[0]
        return PlusStatus(dt(until), renews=not canceled, subscription_id=str(subscription))

    async def set_plus_canceled(self, user_id: int, canceled: bool) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE users SET plus_canceled = ? WHERE id = ?", (int(canceled), user_id)
            )

    async def refund_payment(self, user_id: int, telegram_charge_id: str) -> PaymentRecord | None:
        """Mark the person's paid charge refunded (it no longer gives Plus); None when there is no
        such paid charge of theirs."""
        now = self._clock.now()
        async with self.transaction() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT id FROM payments WHERE user_id = ? AND telegram_charge_id = ?"
                    " AND status = 'paid'",
                    (user_id, telegram_charge_id),
                )
            )
            if not rows:
                return None
            await db.execute(
                "UPDATE payments SET status = 'refunded', refunded_at = ? WHERE id = ?",
                (ts(now), rows[0][0]),
            )
            await db.execute("UPDATE users SET plus_canceled = 1 WHERE id = ?", (user_id,))
            await log_event(db, now, "payment.refunded", user_id)
        records = await self.payment_records(user_id)
        return next(r for r in records if r.telegram_charge_id == telegram_charge_id)

    async def payment_records(self, user_id: int) -> list[PaymentRecord]:
        rows = await self._read(
            "SELECT provider_charge_id, amount_minor, currency, status, created_at,"
            " telegram_charge_id, period_end, refunded_at FROM payments"
            " WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [
            PaymentRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                dt(r[4]),
                r[5],
                dt(r[6]) if r[6] else None,
                dt(r[7]) if r[7] else None,
            )
            for r in rows
        ]

    async def plus_stats(self, now: datetime) -> PlusStats:
        rows = await self._read(
            "SELECT"
            " (SELECT COUNT(DISTINCT p.user_id) FROM payments p WHERE p.status = 'paid'"
            "  AND p.period_end > ?),"
            " (SELECT COUNT(DISTINCT p.user_id) FROM payments p JOIN users u ON u.id = p.user_id"
            "  WHERE p.status = 'paid' AND p.period_end > ? AND u.plus_canceled = 0),"
            " (SELECT COALESCE(SUM(amount_minor), 0) FROM payments WHERE currency = 'XTR'),"
            " (SELECT COALESCE(SUM(amount_minor), 0) FROM payments WHERE currency = 'XTR'"
            "  AND status = 'refunded'),"
            " (SELECT COUNT(*) FROM payments)",
            (ts(now), ts(now)),
        )
        subscribers, renewing, paid, refunded, count = rows[0]
        return PlusStats(int(subscribers), int(renewing), int(paid), int(refunded), int(count))
