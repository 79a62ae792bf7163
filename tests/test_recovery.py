"""A message accepted is a message answered, even across a crash: the three moments a kill can
leave a chat message at, recovered at the next start, through the handlers with a real SQLite
file (a kill is simulated by leaving the database in the state it leaves)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence

import pytest

from core.clock import FrozenClock
from handlers.chat import CLAIM_FOR
from handlers.events import ButtonPress, Sender, Text
from handlers.ports import Turn
from handlers.recovery import Recovery, RecoveryConfig
from handlers.router import Dispatcher
from handlers.texts import t
from storage.sqlite import SqliteRepository
from tests import db as stored
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import onboard

USER = Sender(1001, 1001)


def rows(repo: SqliteRepository, sql: str) -> list[tuple[object, ...]]:
    return stored.query(repo, sql)


def statuses(repo: SqliteRepository) -> list[tuple[object, ...]]:
    """(role, status, reply_to) of every message, in id order: ids and states, never text."""
    return rows(repo, "SELECT role, status, reply_to FROM messages ORDER BY id")


class Channels:
    """One RecordingChannel per chat, as Deps.channels hands out for Telegram."""

    def __init__(self) -> None:
        self.by_chat: dict[int, RecordingChannel] = defaultdict(RecordingChannel)

    def __call__(self, chat_id: int) -> RecordingChannel:
        return self.by_chat[chat_id]


def recovery(dispatcher: Dispatcher, channels: Channels) -> Recovery:
    return Recovery(dispatcher, RecoveryConfig(), channels=channels)


async def restart(dispatcher: Dispatcher, clock: FrozenClock, channels: Channels) -> Recovery:
    """What the next start does, a minute later."""
    clock.advance(minutes=1)
    found = recovery(dispatcher, channels)
    await found.run(sole_worker=True)
    return found


async def test_a_message_answered_live_is_marked_answered_and_never_recovered(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    await dispatcher.handle(Text(USER, "hello"), ch)
    assert ch.texts[-1].endswith("echo: hello")
    assert statuses(repo) == [("user", "answered", None), ("assistant", None, 1)]
    channels = Channels()
    found = await restart(dispatcher, clock, channels)
    assert not found.outcomes and not channels.by_chat


async def test_a_message_left_when_the_terms_were_withdrawn_is_not_answered_at_the_next_start(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """Withdrawing the Terms ends processing: recovery does not send it to the model either."""
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    await repo.accept_message(
        account.id, account.conversation_id, "are you there?", claimed_until=clock.now() + CLAIM_FOR
    )
    await dispatcher.handle(ButtonPress(USER, "cons:terms"), ch)
    assert await repo.terms_withdrawn_at(account.id) is not None
    found = await restart(dispatcher, clock, Channels())
    assert not found.outcomes and model.history == []


async def test_a_kill_after_storing_before_the_model_call_is_answered_at_the_next_start(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """Moment (a): the message is stored (and claimed by the process that died), nothing else."""
    await onboard(dispatcher, RecordingChannel())
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    await repo.accept_message(
        account.id, account.conversation_id, "are you there?", claimed_until=clock.now() + CLAIM_FOR
    )
    channels = Channels()
    found = await restart(dispatcher, clock, channels)
    assert found.outcomes == {"answered": 1}
    assert len(model.history) == 1
    assert model.history[0][-1] == {"role": "user", "content": "are you there?"}
    assert channels(USER.chat_id).texts == ["echo: are you there?"]
    assert statuses(repo) == [("user", "answered", None), ("assistant", None, 1)]
    again = await restart(dispatcher, clock, Channels())  # and once answered, never again
    assert not again.outcomes


async def test_a_kill_during_the_model_call_asks_the_model_again_at_the_next_start(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """Moment (b): the task dies inside the model call (a SIGKILL looks the same to storage)."""
    ch = RecordingChannel()
    await onboard(dispatcher, ch)

    async def killed(messages: Sequence[Turn], *, max_tokens: int) -> AsyncGenerator[str, None]:
        model.history.append(list(messages))
        raise asyncio.CancelledError  # the task dies mid-call, as in a stop or a kill
        yield ""  # unreachable: it makes this the async generator `stream` is

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "stream", killed)
        with pytest.raises(asyncio.CancelledError):
            await dispatcher.handle(Text(USER, "first"), ch)
    assert statuses(repo) == [("user", "accepted", None)]
    sent_before = len(ch.replies)
    channels = Channels()
    found = await restart(dispatcher, clock, channels)
    assert found.outcomes == {"answered": 1}
    assert len(model.history) == 2  # asked again, with the window ending at that message
    assert model.history[1][-1] == {"role": "user", "content": "first"}
    assert channels(USER.chat_id).texts == ["echo: first"]
    assert len(ch.replies) == sent_before
    assert statuses(repo) == [("user", "answered", None), ("assistant", None, 1)]


async def test_a_kill_after_storing_the_reply_sends_it_without_a_new_model_call(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """Moment (c): the reply is stored but never reached the person (the send failed here; a
    kill right before it leaves the same rows)."""
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    model.enqueue("the stored answer")
    ch.undeliverable = 1
    await dispatcher.handle(Text(USER, "question"), ch)
    assert [r.text for r in ch.undelivered] == ["the stored answer"]
    assert statuses(repo) == [("user", "accepted", None), ("assistant", None, 1)]
    channels = Channels()
    found = await restart(dispatcher, clock, channels)
    assert found.outcomes == {"resent": 1}
    assert len(model.history) == 1  # no new model call
    assert channels(USER.chat_id).texts == ["the stored answer"]
    assert statuses(repo) == [("user", "answered", None), ("assistant", None, 1)]  # stored once


async def test_later_messages_wait_and_windows_keep_each_reply_after_its_message(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """Three messages left unanswered, then the person writes again while recovery runs: the
    three are answered first, in order, and each window ends with its own message."""
    await onboard(dispatcher, RecordingChannel())
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    for text in ("one", "two", "three"):
        await repo.accept_message(
            account.id, account.conversation_id, text, claimed_until=clock.now() + CLAIM_FOR
        )
    clock.advance(minutes=1)
    channels = Channels()
    running = await recovery(dispatcher, channels).start(sole_worker=True)
    await dispatcher.handle(Text(USER, "four"), channels(USER.chat_id))  # waits its turn
    await running
    assert channels(USER.chat_id).texts == [f"echo: {w}" for w in ("one", "two", "three", "four")]
    assert [turn["content"] for turn in model.history[-1][1:]] == [
        "one",
        "echo: one",
        "two",
        "echo: two",
        "three",
        "echo: three",
        "four",
    ]
    assert [turn["content"] for turn in model.history[1][1:]] == ["one", "echo: one", "two"]


async def test_an_old_message_gets_a_note_and_a_very_old_one_a_request_to_write_again(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    await onboard(dispatcher, RecordingChannel())
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    await repo.accept_message(
        account.id, account.conversation_id, "late", claimed_until=clock.now() + CLAIM_FOR
    )
    clock.advance(minutes=30)
    channels = Channels()
    found = recovery(dispatcher, channels)
    await found.run(sole_worker=True)
    assert found.outcomes == {"answered_late": 1}
    assert channels(USER.chat_id).texts[-1].startswith(t("recovery.away"))
    assert channels(USER.chat_id).texts[-1].endswith("echo: late")

    for text in ("ancient", "also ancient"):
        await repo.accept_message(
            account.id, account.conversation_id, text, claimed_until=clock.now() + CLAIM_FOR
        )
    clock.advance(hours=25)
    channels = Channels()
    found = recovery(dispatcher, channels)
    await found.run(sole_worker=True)
    assert found.outcomes == {"too_old": 2}
    assert channels(USER.chat_id).texts == [t("recovery.too_old")]  # told once, not per message
    assert len(model.history) == 1  # no model call for them
    assert [s for _, s, _ in statuses(repo)].count("accepted") == 0


async def test_a_claim_taken_after_the_start_is_left_to_its_holder(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock
) -> None:
    """Only claims of a process that is gone are taken over; with several workers (sole_worker
    False) a claim is taken only once its lease ran out."""
    await onboard(dispatcher, RecordingChannel())
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.conversation_id is not None
    await repo.accept_message(
        account.id, account.conversation_id, "held", claimed_until=clock.now() + CLAIM_FOR * 2
    )
    channels = Channels()
    assert not (await recovery(dispatcher, channels).run(sole_worker=True))
    assert not (await recovery(dispatcher, channels).run(sole_worker=False))
    clock.advance(minutes=21)
    assert await recovery(dispatcher, channels).run(sole_worker=False) == {"answered_late": 1}
    assert channels(USER.chat_id).texts[-1].endswith("echo: held")


async def test_a_hundred_unanswered_messages_of_twenty_people_are_each_answered_once_in_order(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    people = [Sender(2000 + i, 2000 + i) for i in range(20)]
    for who in people:
        await onboard(dispatcher, RecordingChannel(), who)
    accounts = {who.tg_id: await repo.find_account(who.tg_id) for who in people}
    for i in range(5):  # interleaved, as a busy minute before a crash would leave them
        for who in people:
            account = accounts[who.tg_id]
            assert account is not None and account.conversation_id is not None
            await repo.accept_message(
                account.id,
                account.conversation_id,
                f"m{i} of {who.tg_id}",
                claimed_until=clock.now() + CLAIM_FOR,
            )
    channels = Channels()
    found = await restart(dispatcher, clock, channels)
    assert found.outcomes == {"answered": 100}
    assert len(model.history) == 100
    for who in people:
        assert channels(who.chat_id).texts == [f"echo: m{i} of {who.tg_id}" for i in range(5)]
    assert rows(
        repo, "SELECT count(*), count(DISTINCT reply_to) FROM messages WHERE role = 'assistant'"
    ) == [(100, 100)]
    assert rows(repo, "SELECT count(*) FROM messages WHERE status = 'accepted'") == [(0,)]


async def test_an_unsent_reply_past_the_maximum_age_is_not_sent_late(
    dispatcher: Dispatcher, repo: SqliteRepository, clock: FrozenClock, model: FakeModel
) -> None:
    """A day-old answer would arrive out of place: the person is asked to write again instead,
    and the message is marked answered even if that notice fails too (no retry every start)."""
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    model.enqueue("yesterday's answer")
    ch.undeliverable = 1
    await dispatcher.handle(Text(USER, "question"), ch)
    clock.advance(hours=25)
    channels = Channels()
    channels(USER.chat_id).undeliverable = 1
    found = recovery(dispatcher, channels)
    await found.run(sole_worker=True)
    assert found.outcomes == {"too_old": 1}
    assert [r.text for r in channels(USER.chat_id).undelivered] == [t("recovery.too_old")]
    assert statuses(repo) == [("user", "answered", None), ("assistant", None, 1)]
    assert len(model.history) == 1
