"""Bursts are answered together: texts sent close together, or while a reply is being written,
get one reply whose request carries them all, in order; each is still stored on its own.
Commands keep their place, people never wait for each other, and a window of 0 answers each
message on its own. End to end against the fakes, plus recovery through the handlers."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from core.clock import FrozenClock
from handlers.chat import CLAIM_FOR
from handlers.events import Text
from handlers.recovery import Recovery, RecoveryConfig
from handlers.router import Dispatcher
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.doubles import FakeModel, RecordingChannel
from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.test_onboarding import USER
from tests.test_onboarding import onboard as onboard_here

ALICE, BOB = 1301, 1302
WINDOW = "1.0"


def rows(db: stored.Target, sql: str) -> list[tuple[Any, ...]]:
    return stored.query(db, sql)


def turns(request: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, content) of a request's messages after the system prompt."""
    return [(m["role"], m["content"]) for m in request["messages"][1:]]


def texts_after(tg: FakeTelegram, user: int, count: int) -> list[str]:
    return [m.text for m in tg.messages_to(user)[count:]]


async def test_three_quick_messages_get_one_reply_that_reads_them_all(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS=WINDOW)
    burst = ["hey", "so", "i need to tell you something"]
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        before, asked = len(tg.messages_to(ALICE)), len(llm.requests)
        for text in burst:
            tg.send_text(ALICE, text)
        await tg.wait_for_message(ALICE, lambda m: m.text.startswith("echo:"))
        await asyncio.sleep(1.5)  # more than a window: nothing else is coming
        assert texts_after(tg, ALICE, before) == ["echo: i need to tell you something"]
        requests = llm.requests[asked:]
    assert len(requests) == 1
    assert turns(requests[0])[-3:] == [("user", text) for text in burst]
    db = settings.storage.database_path
    assert (
        rows(db, "SELECT status FROM messages WHERE role = 'user' ORDER BY id")
        == [("answered",)] * 3
    )  # each stored on its own, all answered by the one reply
    newest = rows(db, "SELECT max(id) FROM messages WHERE role = 'user'")[0][0]
    assert rows(db, "SELECT reply_to FROM messages WHERE role = 'assistant'") == [(newest,)]


async def test_messages_sent_while_the_model_answers_are_answered_together_next(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """The policy: the running reply finishes as it was asked; everything that arrived
    meanwhile is answered in the next reply, in one request."""
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS=WINDOW)
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        before, asked = len(tg.messages_to(ALICE)), len(llm.requests)
        llm.enqueue(delay=1.0)  # the first reply takes a second to write
        tg.send_text(ALICE, "first")
        await llm.wait_for_requests(asked + 1)
        tg.send_text(ALICE, "second")
        tg.send_text(ALICE, "third")
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: third")
        await asyncio.sleep(1.5)
        assert texts_after(tg, ALICE, before) == ["echo: first", "echo: third"]
        requests = llm.requests[asked:]
    assert len(requests) == 2
    assert turns(requests[0])[-1] == ("user", "first")  # the running reply saw only its own
    assert turns(requests[1])[-4:] == [
        ("user", "first"),
        ("assistant", "echo: first"),
        ("user", "second"),
        ("user", "third"),
    ]


async def test_a_command_in_a_burst_is_not_merged_and_keeps_its_place(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS=WINDOW)
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        before, asked = len(tg.messages_to(ALICE)), len(llm.requests)
        for text in ("one", "two", "/help", "three"):
            tg.send_text(ALICE, text)
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: three")
        await asyncio.sleep(1.5)
        sent = texts_after(tg, ALICE, before)
        requests = llm.requests[asked:]
    assert len(sent) == 3, sent
    # The command closes the burst before it (answered on its own) and runs at once: it never
    # waits for the model, so its answer may come first. The chat replies keep their order.
    assert "Here's what you can do" in sent[0]
    assert sent[1:] == ["echo: two", "echo: three"]
    assert len(requests) == 2
    assert turns(requests[0])[-2:] == [("user", "one"), ("user", "two")]
    assert turns(requests[1])[-2:] == [("assistant", "echo: two"), ("user", "three")]
    assert all("/help" not in content for _, content in turns(requests[1]))


async def test_two_people_bursting_at_once_do_not_wait_for_each_other(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS=WINDOW)
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        await onboard(tg, BOB)
        asked = len(llm.requests)
        llm.enqueue(delay=3.0)  # Alice's reply is slow to write
        tg.send_text(ALICE, "alice 1")
        tg.send_text(ALICE, "alice 2")
        await llm.wait_for_requests(asked + 1)
        tg.send_text(BOB, "bob 1")
        tg.send_text(BOB, "bob 2")
        await tg.wait_for_message(BOB, lambda m: m.text == "echo: bob 2", timeout=2.9)
        assert not any(m.text.startswith("echo:") for m in tg.messages_to(ALICE))
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: alice 2")
        requests = llm.requests[asked:]
    assert len(requests) == 2
    assert turns(requests[0])[-2:] == [("user", "alice 1"), ("user", "alice 2")]
    assert turns(requests[1])[-2:] == [("user", "bob 1"), ("user", "bob 2")]


async def test_a_window_of_zero_answers_each_message_on_its_own(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS="0")
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        before, asked = len(tg.messages_to(ALICE)), len(llm.requests)
        for text in ("a", "b", "c"):
            tg.send_text(ALICE, text)
        await tg.wait_for_message(ALICE, lambda m: m.text == "echo: c")
        assert texts_after(tg, ALICE, before) == ["echo: a", "echo: b", "echo: c"]
        requests = llm.requests[asked:]
    assert [turns(r)[-1] for r in requests] == [("user", "a"), ("user", "b"), ("user", "c")]


def merging(dispatcher: Dispatcher) -> Dispatcher:
    """The same handlers with bursts on (the fixture's settings turn them off)."""
    deps = dispatcher.deps
    config = dataclasses.replace(deps.config, burst_window_seconds=1.0)
    return Dispatcher(dataclasses.replace(deps, config=config))


async def test_a_burst_that_asks_if_it_is_an_ai_is_told_even_when_the_last_text_does_not(
    dispatcher: Dispatcher, model: FakeModel
) -> None:
    merged = merging(dispatcher)
    ch = RecordingChannel()
    await onboard_here(merged, ch)
    sent = len(ch.texts)
    await asyncio.gather(
        merged.handle(Text(USER, "are you an ai?"), ch),
        merged.handle(Text(USER, "just curious"), ch),
    )
    assert len(ch.texts) == sent + 1
    assert ch.texts[-1].startswith("_I'm an AI, not a human._")
    assert [t["content"] for t in model.history[-1][-2:]] == ["are you an ai?", "just curious"]


async def unanswered_three(repo: SqliteRepository, clock: FrozenClock) -> list[int]:
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    return [
        await repo.accept_message(
            account.id, account.conversation_id, text, claimed_until=clock.now() + CLAIM_FOR
        )
        for text in ("one", "two", "three")
    ]


async def test_recovery_answers_a_left_burst_in_one_reply(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    merged = merging(dispatcher)
    await onboard_here(merged, RecordingChannel())
    await unanswered_three(repo, clock)
    clock.advance(minutes=1)
    ch = RecordingChannel()
    found = Recovery(merged, RecoveryConfig(), channels=lambda _: ch)
    assert await found.run(sole_worker=True) == {"answered": 3}
    assert ch.texts == ["echo: three"]
    assert len(model.history) == 1
    assert [t["content"] for t in model.history[0][-3:]] == ["one", "two", "three"]
    assert rows(repo, "SELECT count(*) FROM messages WHERE status = 'accepted'") == [(0,)]


async def test_recovery_sends_a_stored_burst_reply_once_covering_the_burst(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """A kill after the burst's reply was stored, before it was sent: the reply is sent as
    stored, and the earlier messages of the burst get no reply of their own."""
    merged = merging(dispatcher)
    await onboard_here(merged, RecordingChannel())
    ids = await unanswered_three(repo, clock)
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    await repo.add_reply(account.id, account.conversation_id, ids[-1], "stored for all three")
    clock.advance(minutes=1)
    ch = RecordingChannel()
    found = Recovery(merged, RecoveryConfig(), channels=lambda _: ch)
    assert await found.run(sole_worker=True) == {"resent": 3}
    assert ch.texts == ["stored for all three"]
    assert model.history == []
    assert rows(repo, "SELECT count(*) FROM messages WHERE status = 'accepted'") == [(0,)]
