"""End to end: Amigo Plus paid in Telegram Stars, through the real bot and the fake Bot API.

The free allowance runs out and Plus is offered; paying goes through Telegram's pre-checkout and
successful payment; a forged or stale payload is refused; a renewal extends; a cancelled
subscription keeps Plus to the end of its period; an owner's refund ends it; the records are in
/mydata and /export, detached on deletion and purged after their years (P4.3, P11.2).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FrozenClock
from handlers.texts import t
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.e2e import onboard, press, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage
from tests.test_promises_real import export_json

ASHA, BOB, OWNER = 7301, 7302, 7309
FREE = 3  # messages a day without Plus, so a test reaches the allowance quickly
PRICE = 250


def plus_settings(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str) -> Bot:
    settings = settings_for(
        tmp_path,
        tg,
        llm,
        staff={OWNER: "owner"},
        AMIGO_LIMITS__DAILY_MESSAGES=str(FREE),
        AMIGO_PLUS__PRICE_STARS=str(PRICE),
        **env,
    )
    return Bot(settings, tg, FrozenClock(datetime.now(UTC)))


def link_of(message: SentMessage) -> str:
    """The invoice link under the offer (a url button, not a callback)."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    (url,) = [b["url"] for row in rows for b in row if "url" in b]
    return str(url)


async def chat_until_refused(tg: FakeTelegram, user: int) -> SentMessage:
    for n in range(FREE + 1):
        reply = await say(tg, user, f"message {n}")
        if reply.text.endswith(f"echo: message {n}"):
            continue
        return reply
    raise AssertionError("the allowance never ran out")


async def subscribe(tg: FakeTelegram, user: int) -> tuple[str, SentMessage]:
    """/plus, then pay: the charge id and the bot's thank-you."""
    offer = await say(tg, user, "/plus")
    mark = tg.mark()
    paid = await tg.pay(user, link_of(offer))
    assert paid.ok and paid.charge_id is not None, paid
    thanks = await tg.wait_for_message(user, lambda m: "Receipt" in m.text, after=mark)
    return paid.charge_id, thanks


def payments(bot: Bot) -> list[tuple[object, ...]]:
    return stored.query(
        bot.settings.storage.database_path,
        "SELECT user_id, amount_minor, currency, status, telegram_charge_id, period_end"
        " FROM payments ORDER BY id",
    )


@pytest.mark.promise("P4.3")
async def test_the_allowance_offers_plus_and_paying_lifts_it(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    bot = plus_settings(tmp_path, tg, llm)
    async with bot.running():
        await onboard(tg, ASHA)
        refused = await chat_until_refused(tg, ASHA)
        assert (
            refused.text.startswith(t("limits.daily", limit=FREE)) and "Amigo Plus" in refused.text
        )
        offer = await press(tg, ASHA, refused, t("plus.nudge_button"))
        assert f"{PRICE} Telegram Stars per 30 days" in offer.text
        invoice = tg.invoice(link_of(offer))
        assert (
            invoice.params["currency"] == "XTR" and invoice.params["subscription_period"] == 2592000
        )
        assert str(ASHA) not in invoice.params["payload"]  # an internal id and a time, signed

        mark = tg.mark()
        paid = await tg.pay(ASHA, link_of(offer))
        assert paid.ok and tg.pre_checkout_answers[-1].ok
        thanks = await tg.wait_for_message(ASHA, lambda m: "Receipt" in m.text, after=mark)
        assert f"{PRICE} Stars" in thanks.text and str(paid.charge_id) in thanks.text
        assert (await say(tg, ASHA, "one more")).text == "echo: one more"  # past the allowance
        status = await say(tg, ASHA, "/plus")
        assert "You have Amigo Plus until" in status.text and "renews by itself" in status.text

        (row,) = payments(bot)
        assert row[1:5] == (PRICE, "XTR", "paid", paid.charge_id)
        mydata = await say(tg, ASHA, "/mydata")
        assert "Payment records: 1" in mydata.text
        (record,) = (await export_json(tg, ASHA))["payment_records"]
        assert record["telegram_charge_id"] == paid.charge_id and record["amount_minor"] == PRICE
        assert record["currency"] == "XTR" and record["status"] == "paid"
        assert set(record) == {
            "provider_charge_id",
            "amount_minor",
            "currency",
            "status",
            "created_at",
            "telegram_charge_id",
            "period_end",
            "refunded_at",
        }
        llm_saw = " ".join(str(r) for r in llm.requests)
        assert str(paid.charge_id) not in llm_saw and "Stars" not in llm_saw  # never to the model


async def test_a_forged_or_stale_payload_is_refused_at_pre_checkout(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    bot = plus_settings(tmp_path, tg, llm)
    assert bot.clock is not None
    async with bot.running():
        await onboard(tg, ASHA)
        await onboard(tg, BOB)
        forged = await tg.pre_checkout(ASHA, payload="plus:1:1700000000:250.AAAA", amount=PRICE)
        assert not forged.ok and forged.error_message == t("plus.refused.forged")

        offer = await say(tg, ASHA, "/plus")
        invoice = tg.invoice(link_of(offer))
        payload = str(invoice.params["payload"])
        someone_else = await tg.pre_checkout(BOB, payload=payload, amount=PRICE)
        assert not someone_else.ok and someone_else.error_message == t("plus.refused.forged")
        cheaper = await tg.pre_checkout(ASHA, payload=payload, amount=PRICE - 1)
        assert not cheaper.ok and cheaper.error_message == t("plus.refused.expired")

        bot.clock.advance(hours=25)
        stale = await tg.pay(ASHA, link_of(offer))
        assert not stale.ok and stale.error_message == t("plus.refused.expired")
        assert payments(bot) == [] and (await say(tg, ASHA, "/plus")).text.startswith(
            "⭐ Amigo Plus"
        )


@pytest.mark.promise("P4.3")
async def test_a_renewal_extends_and_a_cancelled_plan_ends_with_its_period(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    bot = plus_settings(tmp_path, tg, llm)
    clock = bot.clock
    assert clock is not None
    async with bot.running():
        await onboard(tg, ASHA)
        first, _ = await subscribe(tg, ASHA)
        ends = tg.subscriptions[first].expires_at

        clock.advance(days=30)
        mark = tg.mark()
        renewed = tg.renew(ASHA, first)
        note = await tg.wait_for_message(ASHA, lambda m: "renewed" in m.text, after=mark)
        assert str(renewed.charge_id) in note.text
        assert renewed.expires_at == ends + 30 * 86400
        rows = payments(bot)
        assert [r[4] for r in rows] == [first, renewed.charge_id]

        status = await say(tg, ASHA, "/plus")
        mark = tg.mark()
        tg.press_button(ASHA, status.button_data(t("plus.cancel")), message_id=status.message_id)
        cancel = await tg.wait_for_call("editUserStarSubscription", after=mark)
        assert cancel.params["telegram_payment_charge_id"] == first
        edited = await tg.wait_for_call("editMessageText", after=mark)
        assert edited.message is not None and "won't renew" in edited.message.text
        assert tg.subscriptions[first].is_canceled
        assert "It won't renew" in (await say(tg, ASHA, "/plus")).text
        assert (await export_json(tg, ASHA))["account"]["plus_renewal_cancelled"] is True

        clock.advance(days=29)  # still inside the period paid for: Plus, no allowance
        for n in range(FREE + 2):
            reply = await say(tg, ASHA, f"still plus {n}")  # (a reminder it is an AI may lead)
            assert reply.text.endswith(f"echo: still plus {n}"), reply.text
        clock.advance(days=2)  # past its end: the free tier again
        refused = await chat_until_refused(tg, ASHA)
        assert refused.text.startswith(t("limits.daily", limit=FREE))
        assert (await say(tg, ASHA, "/plus")).text.startswith("⭐ Amigo Plus")


@pytest.mark.promise("P4.3")
@pytest.mark.promise("P11.2")
async def test_refund_ends_plus_is_audited_and_records_are_detached_then_purged(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    bot = plus_settings(tmp_path, tg, llm)
    clock, db = bot.clock, bot.settings.storage.database_path
    assert clock is not None
    async with bot.running():
        await onboard(tg, ASHA)
        charge, _ = await subscribe(tg, ASHA)
        uid = int(stored.scalar(db, "SELECT MAX(id) FROM users"))
        assert "1 subscriber(s) now" in (await say(tg, OWNER, "/stats")).text

        assert "Usage" in (await say(tg, OWNER, f"/refund u{uid} {charge}")).text  # no reason
        mark = tg.mark()
        done = await say(tg, OWNER, f"/refund u{uid} {charge} charged twice", containing="Refunded")
        assert f"Refunded {charge} of u{uid}" in done.text
        assert charge in tg.refunds and tg.subscriptions[charge].is_canceled
        told = await tg.wait_for_message(ASHA, lambda m: "refunded" in m.text, after=mark)
        assert "charged twice" in told.text
        assert stored.query(db, "SELECT status FROM payments") == [("refunded",)]
        assert (await say(tg, ASHA, "/plus")).text.startswith("⭐ Amigo Plus")  # free again
        # The audit row is written once the command's reply is out: wait for it a moment.
        audited = f"user={uid} charge={charge}"
        for _ in range(200):
            rows = stored.query(db, "SELECT detail FROM audit_log WHERE action = ?", "/refund")
            if any(audited in str(row[0]) for row in rows):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the refund was not audited")
        stats = (await say(tg, OWNER, "/stats")).text
        assert "0 subscriber(s) now" in stats and f"{PRICE} refunded" in stats
        assert charge not in stats  # aggregates only

        await onboard(tg, BOB)
        second, _ = await subscribe(tg, BOB)
        bob = int(stored.scalar(db, "SELECT MAX(id) FROM users"))
        menu = await say(tg, BOB, "/delete")
        confirm = await press(tg, BOB, menu, t("delete.account"))
        mark = tg.mark()
        tg.press_button(BOB, confirm.button_data(t("delete.yes")), message_id=confirm.message_id)
        await tg.wait_for_call("editMessageText", after=mark)
        assert tg.subscriptions[second].is_canceled  # no renewal for an erased account
        kept = stored.query(db, "SELECT user_id, status FROM payments ORDER BY id")
        assert kept == [(uid, "refunded"), (None, "paid")]  # Bob's detached, not deleted
        assert stored.scalar(db, "SELECT COUNT(*) FROM users WHERE id = ?", bob) in (0, 1)

        years = bot.settings.retention.payment_records_years
        clock.advance(days=365 * years - 1)
        await say(tg, OWNER, "/retention run", containing="Retention ran")
        assert len(payments(bot)) == 2  # within the years the tax law asks for
        clock.advance(days=4)  # the years are calendar years: two leap days in eight
        await say(tg, OWNER, "/retention run", containing="Retention ran")
        assert payments(bot) == []  # past them, detached or not


async def test_paysupport_opens_a_payment_grievance_and_terms_show_the_price(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    bot = plus_settings(tmp_path, tg, llm)
    async with bot.running():
        terms = await say(tg, ASHA, "/terms")  # before any account, too
        assert f"{PRICE} Telegram Stars per 30 days" in terms.text
        await onboard(tg, ASHA)
        ask = await say(tg, ASHA, "/paysupport")
        assert ask.text.startswith("Help with payments")
        opened = await say(tg, ASHA, "I was charged but nothing changed")
        assert "ticket G-" in opened.text
        db = bot.settings.storage.database_path
        assert stored.query(db, "SELECT category FROM grievances") == [("payment",)]
        queue = await say(tg, OWNER, "/grievances")
        assert "G-" in queue.text
