"""Replies that stream: the Telegram channel (real python-telegram-bot against the fake Bot API),
the OpenAI client's stream (against the fake OpenAI server), and the test doubles.

Pacing is checked as a lower bound on the gap between updates and a ceiling on their count, never
as a tight duration.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
import telegram

from bot.channel import TelegramChannel
from bot.config import LLMSettings, TelegramSettings
from bot.console import ConsoleChannel
from bot.llm import OpenAIChatModel
from bot.ptb_api import PtbApi
from bot.telegram_api import FloodGate
from bot.telegram_stream import DraftSupport
from handlers.ports import ModelUnavailable, Turn
from tests.doubles import BrokenOff, FakeModel, RecordingChannel, pieces
from tests.fake_telegram_helpers import USER
from tests.fake_telegram_helpers import ptb_bot as ptb_bot  # a fixture, requested by name
from tests.fake_telegram_helpers import telegram_api as telegram_api  # a fixture, too
from tests.fakes import FakeOpenAI
from tests.fakes.telegram import FakeTelegram, utf16_len

INTERVAL = 0.2
SLACK = 0.08  # the fake stamps arrival, the channel departure: one late arrival on a busy
# machine shortens the next gap by its lateness. An unthrottled one (gaps of 0.04 s) still fails.
SETTINGS = TelegramSettings(stream_edit_interval_seconds=INTERVAL, typing_interval_seconds=0.05)
REPLY = "Here is **the answer** you wanted, written a few words at a time by the model."
HI: list[Turn] = [{"role": "user", "content": "hi"}]


class BrokeOff(Exception):
    """What the model's stream raises in these tests."""


async def chunks(
    parts: Iterable[str], gap: float = 0.04, first: float = 0.0, fail: bool = False
) -> AsyncIterator[str]:
    await asyncio.sleep(first)
    for part in parts:
        yield part
        await asyncio.sleep(gap)
    if fail:
        raise BrokeOff


def gate() -> FloodGate:
    return FloodGate(
        requests_per_second=SETTINGS.requests_per_second, attempts=SETTINGS.send_attempts
    )


def channel(bot: telegram.Bot, support: DraftSupport | None = None) -> TelegramChannel:
    return TelegramChannel(PtbApi(bot, gate()), USER, SETTINGS, None, support)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


# ---------------------------------------------------------------- drafts


async def test_a_reply_grows_as_drafts_then_lands_as_one_message(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    started = time.monotonic()
    result = await channel(ptb_bot).stream(chunks(pieces(REPLY, 6), first=0.15))
    elapsed = time.monotonic() - started
    drafts = telegram_api.drafts_to(USER)
    texts = [d.text for d in drafts]
    assert len(drafts) >= 2 and len({d.draft_id for d in drafts}) == 1
    assert all(a != b and b.startswith(a.rstrip("*")) for a, b in itertools.pairwise(texts))
    assert len(drafts) <= math.ceil(elapsed / INTERVAL) + 1
    assert min(gaps([d.at for d in drafts])) >= INTERVAL - SLACK
    (final,) = telegram_api.messages_to(USER)  # exactly one message: the final text
    assert final.text == REPLY.replace("**", "") and final.parse_mode == "HTML"
    assert {"type": "bold", "offset": 8, "length": 10} in final.entities
    assert result.text == REPLY and result.delivered
    assert not telegram_api.calls_of("editMessageText")
    typing = telegram_api.calls_of("sendChatAction")  # "typing…" until the first text only
    assert typing and max(c.at for c in typing) < drafts[0].at


async def test_each_reply_is_a_fresh_draft(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    support = DraftSupport()
    await channel(ptb_bot, support).stream(chunks(["one ", "two"]))
    await channel(ptb_bot, support).stream(chunks(["three ", "four"]))
    assert len({d.draft_id for d in telegram_api.drafts}) == 2
    assert [m.text for m in telegram_api.messages] == ["one two", "three four"]


async def test_a_long_reply_is_split_and_drafts_stay_within_one_message(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    text = ("A sentence that goes on for a while. " * 30 + "\n\n") * 5  # about 5,600 characters
    result = await channel(ptb_bot).stream(chunks(pieces(text, 700), gap=0.05))
    assert all(utf16_len(d.text) <= 4096 for d in telegram_api.drafts)
    sent = telegram_api.messages_to(USER)
    assert len(sent) == 2
    assert "".join("".join(m.text for m in sent).split()) == "".join(text.split())
    assert result.delivered and result.text == text.strip()


async def test_finish_decides_the_final_text(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    stored: list[str] = []

    async def finish(text: str) -> str:  # as chat will: cap, store, then add a note
        stored.append(text[:6] + "…")
        assert telegram_api.messages == []  # stored before anything final is sent
        return "note\n\n" + stored[-1]

    result = await channel(ptb_bot).stream(
        chunks(["a long ", "answer"]), format="plain", finish=finish
    )
    assert stored == ["a long…"] and result.text == "note\n\na long…"
    assert telegram_api.last_message(USER).text == "note\n\na long…"
    assert telegram_api.last_message(USER).parse_mode is None


async def test_a_reply_that_breaks_off_sends_no_final_message(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    with pytest.raises(BrokeOff):
        await channel(ptb_bot).stream(chunks(pieces(REPLY, 10), fail=True))
    assert telegram_api.drafts  # the person saw it being written; a draft fades by itself
    assert telegram_api.messages == []


async def test_an_empty_stream_sends_nothing(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    result = await channel(ptb_bot).stream(chunks(["", "  ", "\n"]))
    assert (result.text, result.delivered) == ("", False)
    assert telegram_api.messages == [] and telegram_api.drafts == []


# ---------------------------------------------------------------- drafts refused: edits


async def test_refused_drafts_fall_back_to_one_message_edited_at_most_once_per_interval(
    ptb_bot: telegram.Bot,
) -> None:
    async with FakeTelegram(drafts_supported=False) as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        async with bot:
            support = DraftSupport()
            started = time.monotonic()
            result = await channel(bot, support).stream(chunks(pieces(REPLY, 4), gap=0.03))
            elapsed = time.monotonic() - started
            assert support.drafts is False  # learnt for the whole bot
            refused = fake.calls_of("sendMessageDraft")
            assert len(refused) == 1 and refused[0].status == 404
            sends, edits = fake.calls_of("sendMessage"), fake.calls_of("editMessageText")
            assert len(sends) == 1 and edits
            updates = [sends[0].at] + [c.at for c in edits]
            assert min(gaps(updates)) >= INTERVAL - SLACK
            assert len(updates) <= math.ceil(elapsed / INTERVAL) + 1
            (message,) = fake.messages_to(USER)
            assert message.text == REPLY.replace("**", "") and message.edit_count == len(edits)
            assert result.delivered and result.text == REPLY

            # the next reply of the bot does not ask for drafts again
            await channel(bot, support).stream(chunks(["again"]))
            assert len(fake.calls_of("sendMessageDraft")) == 1
            assert fake.last_message(USER).text == "again"


async def test_a_broken_off_reply_takes_its_partial_message_back(ptb_bot: telegram.Bot) -> None:
    async with FakeTelegram(drafts_supported=False) as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        async with bot:
            with pytest.raises(BrokeOff):
                await channel(bot).stream(chunks(pieces(REPLY, 20), gap=0.1, fail=True))
            (partial,) = fake.messages_to(USER)
            assert partial.deleted and fake.calls_of("deleteMessage")


async def test_a_flood_wait_on_an_edit_is_honoured_and_adds_no_edits() -> None:
    async with FakeTelegram(drafts_supported=False) as fake:
        fake.fail_next("editMessageText", retry_after=1)
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        async with bot:
            result = await channel(bot).stream(chunks(pieces(REPLY, 4), gap=0.03))
        edits = fake.calls_of("editMessageText")
        assert edits[0].status == 429 and all(c.ok for c in edits[1:])
        assert edits[1].at - edits[0].at >= 1.0  # retried only after retry_after
        assert result.delivered and fake.last_message(USER).text == REPLY.replace("**", "")
        assert len(fake.messages_to(USER)) == 1


# ---------------------------------------------------------------- the model's stream


def model_for(fake: FakeOpenAI, **settings: Any) -> OpenAIChatModel:
    base: dict[str, Any] = {"base_url": fake.base_url, "backoff_seconds": 0.01}
    return OpenAIChatModel(LLMSettings(**{**base, **settings}), api_key="test-key")


async def collect(stream: AsyncIterator[str]) -> list[str]:
    return [piece async for piece in stream]


async def test_the_model_streams_its_answer_in_pieces() -> None:
    async with FakeOpenAI(stream_chunks=5) as fake:
        fake.enqueue("  The answer, in five pieces.")
        model = model_for(fake)
        got = await collect(model.stream(HI, max_tokens=50))
        await model.close()
    assert len(got) >= 4 and "".join(got) == "  The answer, in five pieces."
    assert fake.last_request["stream"] is True and fake.last_request["max_tokens"] == 50


async def test_the_model_stream_retries_only_before_the_first_piece() -> None:
    async with FakeOpenAI(stream_chunks=4) as fake:
        fake.enqueue(status=500)
        fake.enqueue(empty=True)
        fake.enqueue("worked on the third try")
        model = model_for(fake, max_attempts=3)
        assert "".join(await collect(model.stream(HI, max_tokens=50))) == (
            "worked on the third try"
        )
        fake.enqueue("this one breaks off", chunks=4, break_after=2)
        fake.enqueue("never asked for")
        got: list[str] = []
        with pytest.raises(ModelUnavailable):
            async for piece in model.stream(HI, max_tokens=50):
                got.append(piece)
        await model.close()
    assert len(got) == 2 and fake.pending_replies == 1  # no retry after text was shown


async def test_the_model_stream_keeps_the_deadline() -> None:
    async with FakeOpenAI(stream_chunks=4, stream_chunk_delay=0.6) as fake:
        fake.enqueue("slow " * 8)
        model = model_for(fake, deadline_seconds=1)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match="deadline"):
            await collect(model.stream(HI, max_tokens=50))
        await model.close()
    assert time.monotonic() - started < 3


async def test_the_model_stream_feeds_the_channel_end_to_end(
    telegram_api: FakeTelegram, ptb_bot: telegram.Bot
) -> None:
    async with FakeOpenAI(stream_chunks=8, stream_first_token_delay=0.2) as fake:
        fake.enqueue(REPLY, chunk_delay=0.05)
        model = model_for(fake)
        result = await channel(ptb_bot).stream(model.stream(HI, max_tokens=50))
        await model.close()
    assert result.text == REPLY and telegram_api.drafts
    assert telegram_api.last_message(USER).text == REPLY.replace("**", "")


# ---------------------------------------------------------------- doubles


async def test_the_doubles_stream_like_the_real_ones() -> None:
    model, recording = FakeModel(chunk_chars=5), RecordingChannel()
    model.enqueue("twelve chars", BrokenOff("half a rep"))
    result = await recording.stream(model.stream(HI, max_tokens=10))
    assert recording.streams[0] == ["twelv", "e cha", "rs"] and recording.texts == ["twelve chars"]
    assert result.delivered and recording.replies[0].format == "markdown"
    with pytest.raises(ModelUnavailable):
        await recording.stream(model.stream(HI, max_tokens=10))
    assert recording.streams[1] == ["half ", "a rep"] and recording.texts == ["twelve chars"]
    assert await model.complete(HI, max_tokens=10) == "echo: hi"


async def test_the_console_prints_chunks_as_they_come() -> None:
    out = io.StringIO()
    console = ConsoleChannel(out)
    result = await console.stream(chunks([" Hello", " there"], gap=0))
    assert result.text == "Hello there" and result.delivered
    assert "Hello there" in out.getvalue()
    with pytest.raises(BrokeOff):
        await console.stream(chunks(["cut"], gap=0, fail=True))
    assert out.getvalue().rstrip().endswith("[broken off]")
