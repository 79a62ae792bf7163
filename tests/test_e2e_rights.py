"""End to end: each privacy command through the real bot and the fake servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from tests import db as stored
from tests.conftest import CANARY, Bot, make_settings
from tests.e2e import onboard, press, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE = 901


def ledger(db: str) -> list[tuple[str, int, str]]:
    return stored.query(db, "SELECT purpose, granted, policy_version FROM consents ORDER BY id")


@pytest.mark.promise("P5.1")
async def test_privacy_buttons_lead_to_each_right(bot: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE)
    await say(tg, ALICE, "/privacy")
    actions = await tg.wait_for_message(ALICE, lambda m: "Your rights" in m.text)
    labels = [label for label, _ in actions.buttons()]
    for command in (
        "mydata",
        "export",
        "delete",
        "consent",
        "profile",
        "companion",
        "nominate",
        "grievance",
        "autodelete",
    ):
        assert any(f"/{command}" in label for label in labels), command
    assert all(len(data.encode()) <= 64 and str(ALICE) not in data for _, data in actions.buttons())
    reply = await press(tg, ALICE, actions, "/mydata")
    assert "What we hold about you" in reply.text


@pytest.mark.promise("P9.1")
async def test_mydata(bot: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE, marketing=True)
    await say(tg, ALICE, "hello")
    reply = await say(tg, ALICE, "/mydata")
    assert "Conversations: 1, with 2 messages" in reply.text
    assert "Marketing messages: yes" in reply.text
    # The fake model server is not OpenAI: provider_name left at its default names its host.
    assert "Our AI model provider (the server at 127.0.0.1:" in reply.text
    assert "OpenAI" not in reply.text and "• Telegram: it carries every message" in reply.text


@pytest.mark.promise("P9.3")
@pytest.mark.promise("P9.6")
async def test_consent_toggle_both_ways(bot: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE)
    menu = await say(tg, ALICE, "/consent")
    reply = await press(tg, ALICE, menu, "Turn on: Marketing")
    assert "now yes" in reply.text
    menu = await say(tg, ALICE, "/consent")
    reply = await press(tg, ALICE, menu, "Turn off: Marketing")
    assert "now no" in reply.text
    rows = [r for r in ledger(bot.settings.storage.database_path) if r[0] == "marketing"]
    assert [granted for _, granted, _ in rows] == [0, 1, 0]


@pytest.mark.promise("P9.2")
async def test_profile_and_companion(bot: Bot, tg: FakeTelegram, llm: FakeOpenAI) -> None:
    await onboard(tg, ALICE)
    menu = await say(tg, ALICE, "/profile")
    ask = await press(tg, ALICE, menu, "Set country")
    assert "Which country" in ask.text
    await say(tg, ALICE, "India")
    reply = await say(tg, ALICE, "/profile")
    assert "Country: India" in reply.text
    menu = await say(tg, ALICE, "/companion")
    await press(tg, ALICE, menu, "Rename")
    await say(tg, ALICE, "Tara")
    menu = await say(tg, ALICE, "/companion")
    await press(tg, ALICE, menu, "Playful")
    await say(tg, ALICE, "hi Tara")
    system = llm.requests[-1]["messages"][0]["content"]
    assert "You are Tara" in system and "playful" in system
    assert all(m["content"] not in ("India", "Tara") for m in llm.requests[-1]["messages"][1:])


@pytest.mark.promise("P9.5")
@pytest.mark.promise("P9.4")
async def test_nominee_and_grievance(bot: Bot, tg: FakeTelegram, llm: FakeOpenAI) -> None:
    await onboard(tg, ALICE)
    reply = await say(tg, ALICE, "/nominate Asha Rao, asha@example.com")
    assert "Asha Rao is your nominee" in reply.text
    menu = await say(tg, ALICE, "/nominate")
    removed = await press_for_edit(tg, ALICE, menu, "Remove")
    assert "no nominee" in removed.text
    ask = await say(tg, ALICE, "/grievance")
    assert "Tell me what's wrong" in ask.text
    reply = await say(tg, ALICE, f"I was charged twice {CANARY}")
    assert "ticket G-" in reply.text and "acknowledge it by" in reply.text
    assert llm.requests == []
    db = Path(bot.settings.storage.database_path)
    assert CANARY.encode() not in b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


@pytest.mark.promise("B5")
async def test_autodelete(bot: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE)
    menu = await say(tg, ALICE, "/autodelete")
    assert "Now: off" in menu.text
    done = await press_for_edit(tg, ALICE, menu, "30 days")
    assert "after 30 days" in done.text
    assert stored.query(bot.settings, "SELECT autodelete_days FROM users") == [(30,)]


@pytest.mark.promise("P17.1")
async def test_material_policy_change_asks_again_before_chat(
    e2e_settings: Settings, tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    async with Bot(e2e_settings, tg).running():
        await onboard(tg, ALICE)
    changed = make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        AMIGO_PRIVACY__POLICY_VERSION="2026-12-01",
        AMIGO_PRIVACY__POLICY_MATERIAL="true",
        AMIGO_PRIVACY__POLICY_CHANGE_SUMMARY="Backups are now kept for 14 days.",
    )
    async with Bot(changed, tg).running():
        notice = await say(tg, ALICE, "hello")
        assert "changed in ways that matter" in notice.text and "14 days" in notice.text
        assert llm.requests == []
        await press_for_edit(tg, ALICE, notice, "I accept the new policy")
        reply = await say(tg, ALICE, "hello again")
        assert reply.text == "echo: hello again"
    assert ledger(changed.storage.database_path)[-1] == ("terms_and_privacy", 1, "2026-12-01")
