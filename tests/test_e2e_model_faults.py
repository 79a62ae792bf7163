"""Faults of the model server found by outside fault runs: an answer dripped for minutes, a body
that is not a chat completion, an answer far longer than asked for. Each ends in a bounded wait,
the model-failure apology or a capped reply, never the generic error or dozens of messages."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.app import open_repository
from bot.config import LLMSettings, Settings
from bot.llm import OpenAIChatModel
from handlers.chat import cap_reply
from handlers.ports import ModelUnavailable, Turn
from tests.conftest import Bot, make_settings
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram

ALICE = 521
APOLOGY = "couldn't think of a reply"
HI: list[Turn] = [{"role": "user", "content": "hi"}]


# -- a fake that can also answer with raw bytes -------------------------------------------------


@dataclass
class RawBody:
    """Bytes sent as they are with status 200, optionally in pieces with a pause between them."""

    body: bytes
    content_type: str
    pieces: int = 1
    pause: float = 0.0


class RawFakeOpenAI(FakeOpenAI):
    """FakeOpenAI that answers with `enqueue_raw` bodies first, as a broken proxy or server would
    (an HTML error page, cut-off JSON, JSON of another shape, a body written very slowly)."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: deque[RawBody] = deque()

    def enqueue_raw(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        pieces: int = 1,
        pause: float = 0.0,
    ) -> None:
        self.raw.append(RawBody(body, content_type, pieces, pause))

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if not self.raw:
            return await super()._answer(request, body)
        raw = self.raw.popleft()
        response = web.StreamResponse(status=200, headers={"Content-Type": raw.content_type})
        response.content_length = len(raw.body)
        await response.prepare(request)
        size = math.ceil(len(raw.body) / raw.pieces)
        for index in range(0, len(raw.body), size):
            if index and raw.pause:
                await asyncio.sleep(raw.pause)
            await response.write(raw.body[index : index + size])
        await response.write_eof()
        return response


@pytest.fixture
async def fake() -> AsyncIterator[RawFakeOpenAI]:
    async with RawFakeOpenAI() as server:
        yield server


def completion(text: str) -> bytes:
    """A well-formed non-streamed chat completion carrying `text`."""
    return json.dumps(
        {
            "id": "chatcmpl-raw",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


MALFORMED: dict[str, tuple[bytes, str]] = {
    "html_page": (b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", "text/html"),
    "broken_json": (
        b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "Hel',
        "application/json",
    ),
    "wrong_shape": (b'{"choices": [{"message": "not an object"}]}', "application/json"),
    "wrong_shape_list": (b"[1, 2, 3]", "application/json"),
    "wrong_shape_content": (b'{"choices": [{"message": {"content": 42}}]}', "application/json"),
}
MALFORMED_STREAMS: dict[str, bytes] = {
    "stream_broken_json": b'data: {"choices": [{"delta": {"content": "Hel\n\n',
    "stream_wrong_shape": b'data: {"choices": [{"delta": "not an object"}]}\n\ndata: [DONE]\n\n',
    "stream_wrong_shape_list": b"data: [1, 2]\n\ndata: [DONE]\n\n",
}


def model_for(fake: FakeOpenAI, **settings: Any) -> OpenAIChatModel:
    base: dict[str, Any] = {"base_url": fake.base_url, "backoff_seconds": 0.01}
    return OpenAIChatModel(LLMSettings(**{**base, **settings}), api_key="test-key")


def bot_settings(tmp_path: Path, tg: FakeTelegram, fake: FakeOpenAI, **env: str) -> Settings:
    return make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=fake.base_url,
        **env,
    )


# -- 1. an overall deadline on one answer -------------------------------------------------------


async def test_a_dripping_streamed_answer_ends_in_the_apology_at_the_deadline(
    tmp_path: Path, tg: FakeTelegram, fake: RawFakeOpenAI
) -> None:
    """Every chunk comes within the timeout, so only an overall deadline stops the wait."""
    settings = bot_settings(
        tmp_path, tg, fake, AMIGO_LLM__STREAM="true", AMIGO_LLM__DEADLINE_SECONDS="1.5"
    )
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        fake.stream_chunks, fake.stream_chunk_delay = 200, 0.1  # 20 s for the whole answer
        fake.enqueue("word " * 400)
        started = time.monotonic()
        reply = await say(tg, ALICE, "are you there?", timeout=15)
        waited = time.monotonic() - started
        assert APOLOGY in reply.text
        assert waited < 1.5 + 2.5, waited  # not the 20 s the answer takes
        fake.stream_chunk_delay = 0.0
        fake.enqueue("I'm back!")
        reply = await say(tg, ALICE, "hello again")
        assert reply.text == "I'm back!"
    contents = [m["content"] for m in fake.last_request["messages"]]
    assert contents[-2:] == ["are you there?", "hello again"]  # the first message was kept


async def test_a_slowly_written_body_is_cut_off_at_the_deadline(fake: RawFakeOpenAI) -> None:
    model = model_for(fake, deadline_seconds=1.0, timeout_seconds=5.0)
    fake.enqueue_raw(completion("slow " * 200), pieces=100, pause=0.1)  # 10 s, 0.1 s apart
    started = time.monotonic()
    with pytest.raises(ModelUnavailable):
        await model.complete(HI, max_tokens=50)
    assert time.monotonic() - started < 1.0 + 1.0
    await model.close()


async def test_the_deadline_covers_the_retries(fake: RawFakeOpenAI) -> None:
    """Ten attempts with doubling backoff would take a minute; the deadline ends them sooner."""
    model = model_for(fake, deadline_seconds=1.0, max_attempts=10, backoff_seconds=0.3)
    for _ in range(10):
        fake.enqueue(status=503)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable):
        await model.complete(HI, max_tokens=50)
    assert time.monotonic() - started < 1.0 + 0.5
    assert 1 < len(fake.requests) < 10
    await model.close()


def test_the_deadline_is_a_bounded_setting() -> None:
    assert LLMSettings().deadline_seconds == 60.0
    for bad in (0, 0.5, 601):
        with pytest.raises(ValueError, match="deadline_seconds"):
            LLMSettings(deadline_seconds=bad)


# -- 2. malformed answers are retried like a 5xx ------------------------------------------------


@pytest.mark.parametrize("shape", ["html_page", "broken_json", "wrong_shape"])
async def test_a_malformed_answer_is_retried_then_apologised_and_the_message_kept(
    tmp_path: Path, tg: FakeTelegram, fake: RawFakeOpenAI, shape: str
) -> None:
    body, content_type = MALFORMED[shape]
    settings = bot_settings(tmp_path, tg, fake, AMIGO_LLM__MAX_ATTEMPTS="2")
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        for _ in range(2):
            fake.enqueue_raw(body, content_type=content_type)
        reply = await say(tg, ALICE, "are you there?")
        assert APOLOGY in reply.text
        assert len(fake.requests) == 2  # the first attempt was retried
        fake.enqueue_raw(body, content_type=content_type)
        fake.enqueue("I'm back!")
        reply = await say(tg, ALICE, "hello again")
        assert reply.text == "I'm back!"  # one malformed answer, then a good one: retried
    contents = [m["content"] for m in fake.last_request["messages"]]
    assert contents[-2:] == ["are you there?", "hello again"]


@pytest.mark.parametrize("shape", [*MALFORMED, *MALFORMED_STREAMS])
async def test_every_malformed_shape_is_retried_then_unavailable(
    fake: RawFakeOpenAI, shape: str
) -> None:
    stream = shape in MALFORMED_STREAMS
    body, content_type = (
        (MALFORMED_STREAMS[shape], "text/event-stream") if stream else MALFORMED[shape]
    )
    model = model_for(fake, max_attempts=2, stream=stream)
    fake.enqueue_raw(body, content_type=content_type)
    fake.enqueue("fine now")
    assert await model.complete(HI, max_tokens=50) == "fine now"
    for _ in range(2):
        fake.enqueue_raw(body, content_type=content_type)
    with pytest.raises(ModelUnavailable):
        await model.complete(HI, max_tokens=50)
    assert len(fake.requests) == 4
    await model.close()


# -- 3. an answer of any length is capped where the reply is stored and sent ---------------------


def long_answer(chars: int) -> str:
    """Plain prose in paragraphs, `chars` long: nothing Markdown would change."""
    sentence = "This is a perfectly ordinary sentence about nothing in particular. "
    paragraph = (sentence * 8).strip()
    text = ""
    while len(text) < chars:
        text += paragraph + "\n\n"
    return text[:chars]


async def test_a_huge_answer_is_capped_and_stored_exactly_as_sent(
    tmp_path: Path, tg: FakeTelegram, fake: RawFakeOpenAI
) -> None:
    settings = bot_settings(tmp_path, tg, fake, AMIGO_LLM__MAX_REPLY_CHARS="12000")
    harness = Bot(settings, tg)
    async with harness.running():
        await onboard(tg, ALICE)
        fake.enqueue(long_answer(200_000))
        mark = tg.mark()
        await say(tg, ALICE, "tell me everything")
        fake.enqueue("You're welcome.")
        await say(tg, ALICE, "thanks", containing="welcome")  # replies go out in order
        sent = [
            c.message.text
            for c in tg.calls[mark:]
            if c.method == "sendMessage" and c.message is not None and c.message.chat_id == ALICE
        ][:-1]  # all but "You're welcome."
    limit = settings.llm.max_reply_chars
    assert limit == 12_000 and LLMSettings().max_reply_chars == 16_000
    assert 1 <= len(sent) <= math.ceil(limit / 4096) + 1, len(sent)
    async with open_repository(settings, harness.secrets) as repo:
        account = await repo.find_account(ALICE)
        assert account is not None and account.conversation_id is not None
        stored = await repo.recent_messages(account.id, account.conversation_id, 10)
    answer = [m.text for m in stored if m.role == "assistant"][1]  # newest first: after "welcome"
    assert len(answer) <= limit and answer.endswith("…")
    assert answer.removesuffix("…").endswith(".")  # cut at a sentence end, not mid-word
    assert answer.split() == " ".join(sent).split()  # stored exactly what the person received
    assert fake.last_request["messages"][-2] == {"role": "assistant", "content": answer}


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short enough", 100, "short enough"),
        ("A" * 30 + ".\n\n" + "B b " * 10, 40, "A" * 30 + ".…"),  # a paragraph end first
        (
            "One sentence here now. Two sentences here now! Three goes on",
            50,
            "One sentence here now. Two sentences here now!…",
        ),
        ("words and more words and more", 14, "words and…"),  # else a word end
        ("x" * 50, 10, "x" * 9 + "…"),  # else a hard cut
        ("e\u0301" * 30, 10, "e\u0301" * 4 + "…"),  # never between a letter and its accent
    ],
)
def test_cap_reply_cuts_at_a_clean_boundary(text: str, limit: int, expected: str) -> None:
    assert cap_reply(text, limit) == expected
    assert len(cap_reply(text, limit)) <= limit
