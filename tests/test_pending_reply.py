"""While the model writes a reply, the person's privacy commands and buttons are handled at once:
they never wait for the model. A reply whose message was deleted meanwhile is neither stored nor
sent. End to end: the real bot against the fake Telegram and OpenAI servers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from handlers.texts import t
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.delete_helpers import ask
from tests.e2e import onboard, press_for_edit, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE = 1401
SLOW = 4.0  # seconds the model takes to write the pending reply


@pytest.mark.parametrize("window", ["0", "1.0"])
async def test_privacy_commands_are_answered_while_a_reply_is_being_written(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, window: str
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS=window)
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        asked = len(llm.requests)
        llm.enqueue("the slow answer", delay=SLOW)
        tg.send_text(ALICE, "tell me something")
        await llm.wait_for_requests(asked + 1)  # the model is writing now
        started = time.monotonic()
        privacy = await say(tg, ALICE, "/privacy")
        mydata = await say(tg, ALICE, "/mydata", containing="What we hold about you")
        menu = await say(tg, ALICE, "/delete", containing=t("delete.choose"))
        cancelled = await press_for_edit(tg, ALICE, menu, t("btn.cancel"))
        handled_in = time.monotonic() - started
        assert not any(m.text == "the slow answer" for m in tg.messages_to(ALICE))
        await tg.wait_for_message(ALICE, lambda m: m.text == "the slow answer", timeout=SLOW + 5)
    assert handled_in < SLOW - 1  # generous: each took milliseconds, none waited for the model
    assert "privacy" in privacy.text.lower()
    assert mydata.text and menu.text
    assert cancelled.text == t("delete.cancelled")
    assert len(llm.requests) == asked + 1


async def test_history_deleted_while_a_reply_is_written_drops_the_reply(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """The reply to a message deleted meanwhile is not stored (deleted means gone) and not sent
    (it would answer something the person removed)."""
    settings = settings_for(tmp_path, tg, llm)
    db = settings.storage.database_path
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        asked = len(llm.requests)
        llm.enqueue("an answer to a deleted message", delay=SLOW)
        tg.send_text(ALICE, "forget I said this")
        await llm.wait_for_requests(asked + 1)
        confirm = await ask(tg, ALICE, t("delete.history"))
        done = await press_for_edit(tg, ALICE, confirm, t("delete.yes"))
        assert done.text.startswith("Deleted:"), done.text
        await asyncio.sleep(SLOW + 0.5)  # the model has answered by now
        sent = [m.text for m in tg.messages_to(ALICE)]
    assert "an answer to a deleted message" not in sent
    assert stored.query(db, "SELECT count(*) FROM messages") == [(0,)]
