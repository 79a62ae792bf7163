"""End to end: what is remembered, the name and the local time reach the model's request after /new
(the real bot, the real openai client, over loopback HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import open_repository
from tests.conftest import Bot, settings_for
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE = 601


def chat_request(llm: FakeOpenAI, text: str) -> list[dict[str, Any]]:
    """The messages of the chat request that ended with `text` (not an extraction call)."""
    found = [r["messages"] for r in llm.requests if r["messages"][-1]["content"] == text]
    assert found, text
    messages: list[dict[str, Any]] = found[-1]
    return messages


@pytest.mark.promise("P6.1")
async def test_a_remembered_fact_reaches_the_request_after_new(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """P6.1: after /new the conversation is empty, yet the model is told what is remembered,
    with the person's name and their local time."""
    settings = settings_for(
        tmp_path,
        tg,
        llm,
        AMIGO_MEMORY__ENABLED="true",
        AMIGO_COMPANION__DEFAULT_TIME_ZONE="Asia/Tokyo",
    )
    harness = Bot(settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        await say(tg, ALICE, "/profile name Asha")
        async with open_repository(settings, harness.secrets) as repo:
            account = await repo.find_account(ALICE)
            assert account is not None
            await repo.add_memory(
                account.id,
                "Sister Priya is getting married in June",
                conversation_id=None,
                manual=True,
            )
        await say(tg, ALICE, "/new")
        await say(tg, ALICE, "Guess what, the wedding date is set!")
    messages = chat_request(llm, "Guess what, the wedding date is set!")
    system = messages[0]["content"]
    assert messages[0]["role"] == "system" and len(messages) == 2  # a new conversation
    assert "What you remember about Asha" in system
    assert "Sister Priya is getting married in June" in system
    assert "The user's name is Asha" in system and "(Asia/Tokyo)" in system
    async with open_repository(settings, harness.secrets) as repo:
        [memory] = await repo.memories(account.id)
    assert memory.uses == 1 and memory.last_used_at is not None


async def test_memory_off_sends_nothing_remembered(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_MEMORY__ENABLED="true")
    harness = Bot(settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        async with open_repository(settings, harness.secrets) as repo:
            account = await repo.find_account(ALICE)
            assert account is not None
            await repo.add_memory(
                account.id, "Allergic to peanuts", conversation_id=None, manual=True
            )
            await repo.set_memory_enabled(account.id, False)
        await say(tg, ALICE, "What should I cook tonight?")
    system = chat_request(llm, "What should I cook tonight?")[0]["content"]
    assert "peanuts" not in system and "What you remember" not in system
