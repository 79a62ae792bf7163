"""End to end in Hindi: onboarding, /privacy and the full policy, /mydata, /delete, switching
language at the age gate and mid-way, the command menu per language, and long Devanagari replies
(D5.3: the notice, and every screen, in a language of the Eighth Schedule)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import handlers.broadcasts
from bot.split import TELEGRAM_LIMIT, utf16_len
from handlers.commands import COMMANDS
from handlers.texts import HINDI, speaking, t
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.e2e import onboard, press_for_edit
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

ASHA, RAVI, BOB, OWNER = 7101, 7102, 7103, 7109
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def hi(key: str, **values: object) -> str:
    with speaking(HINDI):
        return t(key, **values)


async def say(tg: FakeTelegram, user: int, text: str, language: str = "hi") -> SentMessage:
    mark = tg.mark()
    tg.send_text(user, text, language_code=language)
    return await tg.wait_for_message(user, after=mark)


async def tap(
    tg: FakeTelegram, user: int, message: SentMessage, label: str, language: str = "hi"
) -> SentMessage:
    """Tap the button labelled `label` exactly; the bot's next message, or the tapped one edited."""
    data = next(d for text, d in message.buttons() if text == label)
    mark = tg.mark()
    tg.press_button(user, data, message_id=message.message_id, language_code=language)
    return await tg.wait_for_message(user, after=mark)


def ledger_languages(db: stored.Target, user_id: int) -> list[str]:
    rows = stored.query(db, "SELECT language FROM consents WHERE user_id = ? ORDER BY id", user_id)
    return [str(r[0]) for r in rows]


def newest_user(db: stored.Target) -> int:
    return int(stored.scalar(db, "SELECT MAX(id) FROM users"))


async def onboard_in_hindi(tg: FakeTelegram, user: int) -> SentMessage:
    msg = await say(tg, user, "/start")
    assert msg.text == hi("age.ask"), msg.text
    msg = await tap(tg, user, msg, hi("age.yes"))
    assert msg.text.startswith(hi("terms.ask", summary="", contact="", policy="")[:20])
    assert hi("policy.summary") in msg.text and hi("policy.complain") in msg.text
    msg = await tap(tg, user, msg, hi("terms.accept"))
    assert msg.text == hi("consent.training.ask")
    msg = await tap(tg, user, msg, hi("consent.yes"))
    assert msg.text == hi("consent.marketing.ask")
    msg = await tap(tg, user, msg, hi("consent.no"))
    assert DEVANAGARI.search(msg.text)
    msg = await tap(tg, user, msg, next(label for label, _ in msg.buttons()))  # keep the name
    msg = await tap(tg, user, msg, hi("companion.gender.female"))
    await tap(tg, user, msg, hi("companion.tone.warm"))
    return await tg.wait_for_message(
        user, lambda m: m.text.startswith(hi("onboarding.done", name="")[:12])
    )


@pytest.mark.promise("D5.3")
async def test_onboarding_privacy_policy_and_mydata_in_hindi_and_the_ledger_says_so(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    await onboard_in_hindi(tg, ASHA)
    asha = newest_user(db)
    assert stored.scalar(db, "SELECT language FROM users WHERE id = ?", asha) == "hi"
    # the 18+ confirmation, the Terms, and the two optional choices: each shown in Hindi
    assert ledger_languages(db, asha) == ["hi", "hi", "hi", "hi"]

    privacy = await say(tg, ASHA, "/privacy")
    assert hi("policy.summary") in privacy.text and DEVANAGARI.search(privacy.text)
    rights = await tg.wait_for_message(ASHA, lambda m: bool(m.buttons()), after=tg.mark() - 1)
    assert hi("privacy.purpose_list") in rights.text
    policy = await tap(tg, ASHA, rights, hi("privacy.full_policy"))
    assert policy.document_bytes is not None and policy.text.startswith(
        hi("privacy.policy_file_caption", version="")[:10]
    )
    text = policy.document_bytes.decode("utf-8")
    assert text.startswith("गोपनीयता नीति") and "{{PRIVACY_CONTACT}}" not in text
    assert bot.settings.privacy.contact_email in text

    mydata = await say(tg, ASHA, "/mydata")
    assert hi("mydata.language", name="हिन्दी") in mydata.text

    reply = await say(tg, ASHA, "नमस्ते, आप कैसे हैं?")
    assert reply.text == "echo: नमस्ते, आप कैसे हैं?"  # the chat itself is unchanged


@pytest.mark.promise("D5.3")
async def test_deleting_the_account_in_hindi(bot: Bot, tg: FakeTelegram) -> None:
    db = bot.settings.storage.database_path
    await onboard_in_hindi(tg, ASHA)
    asha = newest_user(db)
    await say(tg, ASHA, "मेरी डायरी")
    menu = await say(tg, ASHA, "/delete")
    assert menu.text.startswith(hi("delete.choose")[:20]), menu.text
    confirm = await tap(tg, ASHA, menu, hi("delete.account"))
    assert confirm.text.startswith(hi("delete.confirm.account", n=2, kept="")[:30])
    done = await press_for_edit(tg, ASHA, confirm, hi("delete.yes"))
    assert done.text.startswith(hi("delete.done_account", conversations=1, n=2)), done.text
    assert stored.scalar(db, "SELECT COUNT(*) FROM messages WHERE user_id = ?", asha) == 0


@pytest.mark.promise("D5.3")
async def test_switching_language_at_the_gate_and_mid_way_changes_the_next_screen(
    bot: Bot, tg: FakeTelegram
) -> None:
    db = bot.settings.storage.database_path
    gate = await say(tg, RAVI, "/start", language="en")
    assert gate.text == t("age.ask")
    mark = tg.mark()  # the switch replaces the gate in place: nothing is stored
    tg.press_button(RAVI, gate.button_data(t("language.switch")), message_id=gate.message_id)
    edit = await tg.wait_for_call("editMessageText", after=mark)
    assert edit.message is not None and edit.message.text == hi("age.ask")
    assert stored.scalar(db, "SELECT COUNT(*) FROM users") == 0

    terms = await tap(tg, RAVI, edit.message, hi("age.yes"), language="en")
    assert hi("policy.summary") in terms.text
    mark = tg.mark()  # and back to English on the Terms screen, the passed gate kept
    tg.press_button(RAVI, terms.button_data(hi("language.switch")), message_id=terms.message_id)
    edit = await tg.wait_for_call("editMessageText", after=mark)
    assert edit.message is not None and t("policy.summary") in edit.message.text
    await tap(tg, RAVI, edit.message, t("terms.accept"), language="en")
    ravi = newest_user(db)
    assert ledger_languages(db, ravi) == ["en", "en"]
    chat_menu = (json.dumps({"chat_id": RAVI, "type": "chat"}, sort_keys=True), "")
    assert chat_menu not in tg.commands_by_scope  # English, as the app: no menu of its own

    choice = await say(tg, RAVI, "/language", language="en")
    assert choice.text == t("language.ask", name="English")
    mark = tg.mark()
    tg.press_button(RAVI, choice.button_data("हिन्दी"), message_id=choice.message_id)
    edit = await tg.wait_for_call("editMessageText", after=mark)
    assert edit.message is not None and edit.message.text == hi("language.set")
    assert stored.scalar(db, "SELECT language FROM users WHERE id = ?", ravi) == "hi"
    menu = await tg.wait_for_call("setMyCommands", lambda c: c.params.get("scope") is not None)
    assert menu.params["scope"] == {"type": "chat", "chat_id": RAVI}  # this chat's menu follows
    assert [c["description"] for c in tg.commands_by_scope[chat_menu]] == [
        hi(c.help_key) for c in COMMANDS
    ]

    nudge = await say(tg, RAVI, "hello", language="en")  # still onboarding: the next screen
    assert nudge.text == hi("onboarding.finish_first")
    prompt = await tg.wait_for_message(RAVI, lambda m: m.text == hi("consent.training.ask"))
    await tap(tg, RAVI, prompt, hi("consent.no"), language="en")
    assert ledger_languages(db, ravi) == ["en", "en", "hi"]
    help_text = (await say(tg, RAVI, "/help", language="en")).text
    assert hi("cmd.language") in help_text


async def test_the_command_menu_is_registered_in_each_language(bot: Bot, tg: FakeTelegram) -> None:
    menus = {code: tg.commands_by_scope[("default", code)] for code in ("", "hi")}
    names = [c.name for c in COMMANDS]
    assert [c["command"] for c in menus[""]] == names == [c["command"] for c in menus["hi"]]
    assert [c["description"] for c in menus[""]] == [t(c.help_key) for c in COMMANDS]
    assert [c["description"] for c in menus["hi"]] == [hi(c.help_key) for c in COMMANDS]
    assert all(DEVANAGARI.search(c["description"]) for c in menus["hi"])
    help_text = (await say(tg, ASHA, "/help")).text  # /help lists the same, in Hindi
    assert all(f"/{c.name} — {hi(c.help_key)}" in help_text for c in COMMANDS)


async def test_a_long_devanagari_reply_arrives_whole_in_telegram_sized_parts(
    bot: Bot, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    await onboard_in_hindi(tg, ASHA)
    sentence = "मैं आपकी बात ध्यान से सुन रहा हूँ, और हम साथ मिलकर इसे समझेंगे 🙏। "
    answer = "\n\n".join(sentence * 12 for _ in range(13)).strip()  # under max_reply_chars
    assert utf16_len(answer) > 2 * TELEGRAM_LIMIT
    llm.enqueue(answer)
    mark = tg.mark()
    tg.send_text(ASHA, "कुछ लंबा बताइए", language_code="hi")
    parts: list[SentMessage] = []
    while "".join(p.text for p in parts).count("🙏") < answer.count("🙏"):
        parts.append(await tg.wait_for_message(ASHA, after=mark))
        mark = tg.mark()
    assert len(parts) >= 3 and all(utf16_len(p.text) <= TELEGRAM_LIMIT for p in parts)
    assert "".join("".join(p.text.split()) for p in parts) == "".join(answer.split())


@pytest.mark.promise("D5.3")
async def test_an_operator_broadcast_reaches_each_person_in_their_language(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's words are theirs; the framing around them is each reader's language, and
    the operator's own screens stay English whatever their Telegram app speaks."""
    monkeypatch.setattr(handlers.broadcasts, "BROADCAST_PAUSE_SECONDS", 0.005)
    settings = settings_for(tmp_path, tg, llm, staff={OWNER: "owner"})
    async with Bot(settings, tg).running():
        await onboard_in_hindi(tg, ASHA)
        await onboard(tg, BOB)
        mark = tg.mark()
        tg.send_text(OWNER, "/broadcast service Maintenance at 02:00 UTC", language_code="hi")
        started = await tg.wait_for_message(OWNER, lambda m: "started" in m.text, after=mark)
        assert "b1 (service) started: 2 user(s)" in started.text
        body = "Maintenance at 02:00 UTC"
        got = {
            user: await tg.wait_for_message(user, lambda m: body in m.text, after=mark)
            for user in (ASHA, BOB)
        }
        assert got[ASHA].text == hi("admin.broadcast.service", text=body)
        assert got[BOB].text == t("admin.broadcast.service", text=body)
