"""End to end: requests that do not come from the chat (by e-mail, from a parent about a minor, from
a nominee on death or incapacity), acted on by staff with a reason, audited, and shown to the person
in their own chat; and the grievance period, capped at 90 days and stated in /grievance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from handlers.admin import ADMIN_COMMANDS
from handlers.texts import t
from tests import db as stored
from tests.conftest import CANARY, Bot, settings_for
from tests.delete_helpers import holdings
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

OWNER, REVIEWER, SUPPORT = 9101, 9102, 9103
ROLES = {OWNER: "owner", REVIEWER: "reviewer", SUPPORT: "support"}
ALICE, BOB = 1401, 1402


@pytest.fixture
async def staffed(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI) -> AsyncIterator[Bot]:
    harness = Bot(settings_for(tmp_path, tg, llm, staff=ROLES), tg)
    async with harness.running():
        yield harness


def rows(db: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return stored.query(db, sql, *args)


def account_of(db: str) -> int:
    return int(str(rows(db, "SELECT MAX(id) FROM users")[0][0]))


async def audited(db: str, action: str, reason: str) -> str:
    """The detail of the newest audit entry for `action`, once it is the one with this reason
    (the entry is written just after the reply)."""
    for _ in range(500):
        found = rows(
            db, "SELECT detail FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1", (action,)
        )
        if found and f"reason={reason}" in str(found[0][0]):
            return str(found[0][0])
        await asyncio.sleep(0.01)
    raise AssertionError(f"no audit entry for {action} with reason={reason}")


async def told(tg: FakeTelegram, user: int, words: str) -> str:
    return (await tg.wait_for_message(user, lambda m: words in m.text)).text


@pytest.mark.promise("P12.3")
async def test_find_by_telegram_id_gives_only_the_ref_and_status_and_tells_the_person(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE, name="Zephyrine")
    user = account_of(db)
    refused = await say(tg, SUPPORT, f"/find {ALICE}")
    assert "Please give a reason" in refused.text and "Usage: /find" in refused.text
    reply = (await say(tg, SUPPORT, f"/find {ALICE} parent wrote by e-mail")).text
    assert reply == t("requests.found", user=user, status="active")
    assert "Zephyrine" not in reply and str(ALICE) not in reply
    notice = await told(tg, ALICE, "looked up your account")
    assert "parent wrote by e-mail" in notice and "privacy@amigo.test" in notice
    detail = await audited(db, "/find", "parent wrote by e-mail")
    assert f"user={user}" in detail and "status=active" in detail and "told=True" in detail
    assert str(ALICE) not in detail  # a Telegram id is never written down
    nobody = (await say(tg, OWNER, "/find 55555 e-mail from someone")).text
    assert nobody == t("requests.not_found")
    assert "can't use /find" in (await say(tg, REVIEWER, f"/find {ALICE} curious")).text
    assert "not a Telegram user id" in (await say(tg, OWNER, "/find u3 reason")).text


@pytest.mark.promise("P9.7")
async def test_export_for_goes_to_the_own_chat_or_to_the_owner_for_a_verified_email(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    await say(tg, ALICE, f"remember {CANARY}")
    user = account_of(db)
    mark = tg.mark()
    done = (await say(tg, SUPPORT, f"/exportfor u{user} chat asked by e-mail, lost phone")).text
    assert done == t("requests.exported", user=user, where="the chat")
    sent = await tg.wait_for_message(ALICE, lambda m: m.document_bytes is not None, after=mark)
    assert sent.document_bytes is not None and CANARY.encode() in sent.document_bytes
    assert "asked by e-mail, lost phone" in sent.text
    assert not any(m.document_bytes for m in tg.messages_to(SUPPORT))
    detail = await audited(db, "/exportfor", "asked by e-mail, lost phone")
    assert f"user={user} to=chat" in detail and "delivered=True" in detail

    refused = (await say(tg, SUPPORT, f"/exportfor u{user} email verified request")).text
    assert "Only the owner" in refused
    assert not any(m.document_bytes for m in tg.messages_to(SUPPORT))

    mark = tg.mark()
    await say(tg, OWNER, f"/exportfor u{user} email verified from the sign-up address")
    file = await tg.wait_for_message(OWNER, lambda m: m.document_bytes is not None, after=mark)
    assert file.document_bytes is not None
    export = json.loads(file.document_bytes.decode("utf-8"))
    assert export["format"] == "amigo-export" and CANARY in file.document_bytes.decode()
    assert "verified e-mail" in file.text
    notice = await told(tg, ALICE, "request received by verified e-mail")
    assert "verified from the sign-up address" in notice
    detail = await audited(db, "/exportfor", "verified from the sign-up address")
    assert "to=owner basis=verified-email delivered=True" in detail
    assert "owner, for support" in (await say(tg, ALICE, "/mydata")).text  # B3: who looked
    assert "Usage: /exportfor" in (await say(tg, OWNER, f"/exportfor u{user} fax x")).text
    logged = stored.scalar(  # both deliveries are in the processing log (Rule 6)
        db,
        "SELECT count(*) FROM processing_log WHERE event = 'export.sent' AND account_id = ?",
        user,
    )
    assert logged == 2


@pytest.mark.promise("P6.6")
async def test_erase_for_deletes_the_account_as_delete_does_and_tells_the_person_first(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    await say(tg, ALICE, f"hello {CANARY}")
    user = account_of(db)
    assert "can't use /erasefor" in (await say(tg, SUPPORT, f"/erasefor u{user} asked")).text
    assert "Please give a reason" in (await say(tg, OWNER, f"/erasefor u{user}")).text
    assert holdings(db, user)["messages"] > 0
    done = (await say(tg, OWNER, f"/erasefor u{user} erasure asked by verified e-mail")).text
    assert done.startswith(f"u{user} erased")
    notice = await told(tg, ALICE, "is being erased now")
    assert "erasure asked by verified e-mail" in notice
    assert all(n == 0 for n in holdings(db, user).values())
    assert rows(db, "SELECT status FROM users WHERE id = ?", (user,)) == [("closed",)]
    detail = await audited(db, "/erasefor", "erasure asked by verified e-mail")
    assert f"user={user} conversations=1" in detail and "told=True" in detail
    again = (await say(tg, OWNER, f"/erasefor u{user} again")).text
    assert "already erased" in again


@pytest.mark.promise("P9.5")
async def test_nominee_acts_only_for_a_registered_nominee_with_a_recorded_basis(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    await onboard(tg, ALICE)
    await say(tg, ALICE, f"diary {CANARY}")
    user = account_of(db)
    none = (await say(tg, OWNER, f"/nominee u{user} erase death certificate received")).text
    assert "no registered nominee" in none
    assert holdings(db, user)["messages"] > 0  # nothing was done
    assert "nominee" in (await say(tg, ALICE, "/nominate Asha Rao, asha@example.com")).text
    assert "can't use /nominee" in (await say(tg, SUPPORT, f"/nominee u{user} show x")).text
    bad = (await say(tg, OWNER, f"/nominee u{user} erase curiosity because")).text
    assert "death or incapacity" in bad

    shown = (await say(tg, OWNER, f"/nominee u{user} show nominee wrote about a death")).text
    assert "Asha Rao" in shown and "asha@example.com" in shown
    await told(tg, ALICE, "registered nominee")
    detail = await audited(db, "/nominee", "nominee wrote about a death")
    assert "Asha" not in detail and "example.com" not in detail  # no name or contact in the log

    mark = tg.mark()
    await say(tg, OWNER, f"/nominee u{user} export incapacity court order seen")
    file = await tg.wait_for_message(OWNER, lambda m: m.document_bytes is not None, after=mark)
    assert file.document_bytes is not None and CANARY.encode() in file.document_bytes
    detail = await audited(db, "/nominee", "court order seen")
    assert "action=export basis=incapacity to=owner delivered=True" in detail
    assert "court order seen" in detail

    done = (await say(tg, OWNER, f"/nominee u{user} erase death certificate verified")).text
    assert done.startswith(f"u{user} erased")
    assert all(n == 0 for n in holdings(db, user).values())
    detail = await audited(db, "/nominee", "certificate verified")
    assert "action=erase basis=death" in detail and "certificate verified" in detail


@pytest.mark.promise("P3.1")
async def test_unminor_lifts_the_under_18_marker_after_review(
    staffed: Bot, tg: FakeTelegram
) -> None:
    db = staffed.settings.storage.database_path
    msg = await say(tg, BOB, "/start")
    await press_for_edit(tg, BOB, msg, "under 18")
    msg = await say(tg, BOB, "/start")
    blocked = await press(tg, BOB, msg, "18 or older")
    assert "without a review" in blocked.text
    found = (await say(tg, OWNER, f"/find {BOB} adult wrote he misclicked")).text
    assert found == t("requests.not_found_minor")
    assert "can't use /unminor" in (await say(tg, SUPPORT, f"/unminor {BOB} ok")).text
    assert "Please give a reason" in (await say(tg, OWNER, f"/unminor {BOB}")).text
    lifted = (await say(tg, OWNER, f"/unminor {BOB} ID seen, 34 years old")).text
    assert lifted == t("requests.unminored")
    await told(tg, BOB, "may use Amigo again")
    detail = await audited(db, "/unminor", "ID seen, 34 years old")
    assert "lifted=True" in detail and "ID seen" in detail and str(BOB) not in detail
    assert rows(db, "SELECT COUNT(*) FROM minor_markers") == [(0,)]
    await onboard(tg, BOB)  # the age gate can be passed again
    again = (await say(tg, OWNER, f"/unminor {BOB} twice")).text
    assert again == t("requests.no_marker")


@pytest.mark.promise("P9.4")
async def test_grievance_states_its_period(staffed: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE)
    ask = (await say(tg, ALICE, "/grievance")).text
    assert "within 72 hours" in ask and "within 30 days" in ask
    opened = (await say(tg, ALICE, "the bot was rude")).text
    assert "G-" in opened and "within 30 days" in opened


@pytest.mark.promise("P9.4")
def test_grievance_period_is_capped_at_90_days(tmp_path: Path) -> None:
    (tmp_path / "c.toml").touch()
    path = str(tmp_path / "c.toml")
    key = "AMIGO_PRIVACY__GRIEVANCE_RESOLVE_DAYS"
    assert load_settings({key: "90"}, path=path).privacy.grievance_resolve_days == 90
    with pytest.raises(ConfigError) as err:
        load_settings({key: "91"}, path=path)
    assert "privacy.grievance_resolve_days" in str(err.value)


def test_the_request_commands_and_the_grievance_cap_are_documented() -> None:
    """An operator reads README.md: each command for requests by proxy is in its table."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for name in ("find", "exportfor", "erasefor", "nominee", "unminor"):
        assert f"| `/{name} " in readme, name
        assert name in ADMIN_COMMANDS, name
    assert "privacy.grievance_resolve_days" in readme and "more than 90" in readme
