"""The fake OpenAI-compatible API speaks the real wire protocol to the real openai client.

If these fail, every end-to-end test built on the fake is suspect, so they run first and fast.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes import FakeOpenAI


@pytest.fixture
async def openai_api() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def client_for(fake: FakeOpenAI, *, max_retries: int = 0, key: str = "test") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=key, max_retries=max_retries)


HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi there"}]


async def test_openai_non_streaming_completion(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    completion = await client.chat.completions.create(model="gpt-test", messages=HI)
    assert completion.choices[0].message.content == "echo: hi there"
    assert completion.choices[0].finish_reason == "stop" and completion.model == "gpt-test"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert openai_api.requests == [{"model": "gpt-test", "messages": HI}]
    models = await client.models.list()
    assert [m.id for m in models.data] == ["gpt-fake"]
    await client.close()


async def test_openai_streaming_completion(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("A streamed reply, in several pieces.")
    stream = await client.chat.completions.create(
        model="gpt-test",
        messages=HI,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    finish: list[str] = []
    usage = None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert "".join(pieces) == "A streamed reply, in several pieces."
    assert len([p for p in pieces if p]) == 4 and finish == ["stop"]
    assert usage is not None and usage.completion_tokens > 0
    assert openai_api.last_request["stream"] is True
    await client.close()


async def test_openai_errors_map_to_the_clients_exceptions(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue(status=500)
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="m", messages=HI)
    openai_api.enqueue(status=429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        await client.chat.completions.create(model="m", messages=HI)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.code == "rate_limit_exceeded"
    openai_api.enqueue(drop_connection=True)
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="m", messages=HI)
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(model="m", messages=[])
    await client.close()


async def test_openai_429_is_retried_after_retry_after(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api, max_retries=1)
    openai_api.enqueue(status=429, retry_after=0.05)
    openai_api.enqueue("after the wait")
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == "after the wait"
    assert len(openai_api.requests) == 2 and openai_api.pending_replies == 0
    await client.close()


async def test_openai_empty_answer_and_wrong_key(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue(empty=True)
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == ""
    openai_api.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="m", messages=HI)
    await client.close()


async def test_openai_delay_does_not_block_a_concurrent_request(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("slow", delay=0.5)
    openai_api.enqueue("fast")
    slow = asyncio.create_task(client.chat.completions.create(model="m", messages=HI))
    await openai_api.wait_for_requests(1)
    started = time.monotonic()
    fast = await client.chat.completions.create(model="m", messages=HI)
    assert fast.choices[0].message.content == "fast"
    assert time.monotonic() - started < 0.4 and not slow.done()
    assert (await slow).choices[0].message.content == "slow"
    assert openai_api.concurrency_peak == 2 and openai_api.in_flight == 0
    await client.close()


async def test_openai_refused_connection_is_a_stopped_server(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    await openai_api.stop()
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="m", messages=HI)
    await openai_api.start()  # same port: the client recovers
    completion = await client.chat.completions.create(model="m", messages=HI)
    assert completion.choices[0].message.content == "echo: hi there"
    await client.close()


async def test_stopping_releases_pending_requests_quickly(openai_api: FakeOpenAI) -> None:
    client = client_for(openai_api)
    openai_api.enqueue("never", delay=30)
    pending = asyncio.create_task(client.chat.completions.create(model="m", messages=HI))
    await openai_api.wait_for_requests(1)
    started = time.monotonic()
    await openai_api.stop()
    with pytest.raises(openai.APIConnectionError):
        await pending
    assert time.monotonic() - started < 1.0
    await client.close()


async def _arrivals(fake: FakeOpenAI) -> tuple[float, list[tuple[float, str]]]:
    """(seconds until the headers, [(seconds, text) per piece of text]) of one streamed answer."""
    client = client_for(fake)
    start = time.monotonic()
    stream = await client.chat.completions.create(model="gpt-test", messages=HI, stream=True)
    headers = time.monotonic() - start
    arrivals: list[tuple[float, str]] = []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                arrivals.append((time.monotonic() - start, choice.delta.content))
    await client.close()
    return headers, arrivals


async def test_openai_stream_waits_for_the_first_token_after_the_headers() -> None:
    async with FakeOpenAI(stream_chunks=4, stream_first_token_delay=0.3) as fake:
        fake.enqueue("one two three four")
        headers, arrivals = await _arrivals(fake)
    assert headers < 0.3 <= arrivals[0][0]  # the response starts, then the model "thinks"
    assert len(arrivals) == 4 and arrivals[-1][0] < 0.3 + 0.5  # no wait between the rest
    assert "".join(text for _, text in arrivals) == "one two three four"


async def test_openai_stream_timing_can_be_scripted_per_reply() -> None:
    """A benchmark's "first token after 0.5 s, then steady": here 0.2 s, then 5 x 0.1 s."""
    async with FakeOpenAI(stream_first_token_delay=5.0) as fake:
        fake.enqueue("abcdefghij" * 6, first_token_delay=0.2, chunk_delay=0.1, chunks=6)
        _, arrivals = await _arrivals(fake)
    times = [at for at, _ in arrivals]
    assert len(times) == 6 and 0.2 <= times[0] < 1.0
    assert all(later - earlier >= 0.09 for earlier, later in itertools.pairwise(times))


async def test_openai_stream_can_break_off_after_some_text(openai_api: FakeOpenAI) -> None:
    openai_api.enqueue("a reply that never ends", chunks=5, break_after=2)
    client = client_for(openai_api)
    stream = await client.chat.completions.create(model="gpt-test", messages=HI, stream=True)
    received: list[str] = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            received += [c.delta.content for c in chunk.choices if c.delta.content]
    assert len(received) == 2 and "a reply that never ends".startswith("".join(received))
    await client.close()
