"""The LLM client: the official openai async client, with bounded retries and backoff of our own.

Any OpenAI-compatible server works (OpenAI, vLLM, Ollama, llama.cpp) by base URL. Failures never carry
message text outward: the caller gets ModelUnavailable, the log gets the error type and attempt count.
`llm.timeout_seconds` bounds each wait for the next bytes; `llm.deadline_seconds` bounds the whole
answer, retries included, because a server that drips an answer never trips the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, NoReturn

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion_chunk import ChoiceDelta

from bot.config import LLMSettings
from bot.metrics import Metrics
from handlers.ports import ModelUnavailable, Turn

log = logging.getLogger("amigo.llm")

_RETRYABLE = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
    # A 200 whose body is not a chat completion (a proxy's HTML page, cut-off or foreign JSON) is
    # a server fault like a 5xx. The client, which parses leniently, raises only JSONDecodeError
    # for broken JSON (plain or streamed); an HTML page comes back as a str and a wrong shape as an
    # unvalidated model, which _answer_text and _chunk_text turn into MalformedAnswer.
    # APIResponseValidationError is what the client raises instead when it validates responses.
    json.JSONDecodeError,
    openai.APIResponseValidationError,
)
_MAX_RETRY_AFTER = 30.0


class EmptyAnswer(Exception):
    """The model answered with no text."""


class MalformedAnswer(Exception):
    """The server answered 200 with something that is not a chat completion."""


class OpenAIChatModel:
    """handlers.ports.ChatModel over an OpenAI-compatible endpoint."""

    def __init__(
        self,
        settings: LLMSettings,
        api_key: str | None,
        max_concurrent: int = 16,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics  # latency of answers, failed attempts by kind
        # A cap on calls in flight for the whole bot: a flood cannot run up the LLM bill.
        self._slots = asyncio.Semaphore(max_concurrent)
        self.client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            # Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
            api_key=api_key or "not-needed",
            timeout=settings.timeout_seconds,
            max_retries=0,
        )

    async def close(self) -> None:
        await self.client.close()

    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        """The answer, or ModelUnavailable once the attempts or the deadline are used up.

        The deadline covers waiting for a slot, every attempt and every backoff: a person is never
        held longer than `deadline_seconds`, however slowly a server sends. `json_object` sends
        `response_format: {"type": "json_object"}`; a server that refuses it (400: many local
        servers do not know it) is asked once more without it, and the caller checks the text.
        """
        attempts, attempt = self.settings.max_attempts, 0
        deadline = asyncio.timeout(self.settings.deadline_seconds)
        try:
            async with deadline:
                while True:
                    attempt += 1
                    try:
                        async with self._slots:
                            began = asyncio.get_running_loop().time()
                            text = await self._once(messages, max_tokens, json_object)
                            self._answered("complete", began)
                            return text
                    except (*_RETRYABLE, EmptyAnswer, MalformedAnswer) as exc:
                        await self._back_off(
                            attempt,
                            exc,
                            last=attempt == attempts,
                            past_deadline=lambda delay: _would_pass(deadline, delay),
                        )
                    except openai.APIError as exc:  # 400, 401, 404...: retrying will not help
                        if json_object and isinstance(exc, openai.BadRequestError):
                            # JSON mode refused: once more without it (not counted as an attempt)
                            log.info("llm.json_mode_refused", extra={"attempt": attempt})
                            json_object, attempt = False, attempt - 1
                            continue
                        self._failed(exc)
                        _refused(exc)
        except TimeoutError:
            if not deadline.expired():
                raise
            self._failed("deadline")
            log.warning(
                "llm.deadline",
                extra={"attempts": attempt, "seconds": self.settings.deadline_seconds},
            )
            raise ModelUnavailable("deadline") from None

    async def stream(
        self, messages: Sequence[Turn], *, max_tokens: int
    ) -> AsyncGenerator[str, None]:
        """The answer in pieces as the server sends them, under the same attempts and deadline
        as `complete`. A failure is retried only while nothing was yielded (leading whitespace is
        held back until text follows, so a retry never repeats what the caller has); after that
        it ends the stream with ModelUnavailable. The deadline is checked around each wait for
        the server, never across a yield, so it never cancels what the caller does meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.deadline_seconds
        attempts, attempt, yielded = self.settings.max_attempts, 0, False
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
            "stream": True,
        }
        try:
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        except TimeoutError:
            self._failed("deadline")
            log.warning(
                "llm.deadline", extra={"attempts": 0, "seconds": self.settings.deadline_seconds}
            )
            raise ModelUnavailable("deadline") from None
        try:
            while True:
                attempt += 1
                held = ""  # leading whitespace, sent only once text follows it
                began = loop.time()
                try:
                    async with asyncio.timeout_at(deadline):
                        response = await self._stream_request(request)
                    async with response:  # closed at once on a deadline or a malformed chunk
                        pieces = aiter(response)
                        while True:
                            async with asyncio.timeout_at(deadline):
                                chunk = await anext(pieces, None)
                            if chunk is None:
                                break
                            text = _chunk_text(chunk)
                            if not yielded and not text.strip():
                                held += text
                                continue
                            yielded = True
                            yield held + text
                            held = ""
                    if not yielded:
                        raise EmptyAnswer
                    self._answered("stream", began)
                    return
                except (*_RETRYABLE, EmptyAnswer, MalformedAnswer) as exc:
                    await self._back_off(
                        attempt,
                        exc,
                        last=yielded or attempt == attempts,  # a stream that began is not retried
                        past_deadline=lambda delay: loop.time() + delay >= deadline,
                        streamed=yielded,
                    )
                except openai.APIError as exc:  # 400, 401, 404...: retrying will not help
                    self._failed(exc)
                    _refused(exc)
                except TimeoutError:
                    if loop.time() < deadline:
                        raise
                    self._failed("deadline")
                    log.warning(
                        "llm.deadline",
                        extra={"attempts": attempt, "seconds": self.settings.deadline_seconds},
                    )
                    raise ModelUnavailable("deadline") from None
        finally:
            self._slots.release()

    async def _back_off(
        self,
        attempt: int,
        exc: Exception,
        *,
        last: bool,
        past_deadline: Callable[[float], bool],
        streamed: bool = False,
    ) -> None:
        """Wait before the next attempt, or raise ModelUnavailable when this was the last one
        or the wait would pass the deadline."""
        error = type(exc).__name__
        self._failed(exc)
        delay = self._delay(attempt, exc)
        if last or past_deadline(delay):
            extra = {"attempts": attempt, "error": error, "streamed": streamed}
            log.warning("llm.gave_up", extra=extra)
            raise ModelUnavailable(error) from None
        log.info("llm.retry", extra={"attempt": attempt, "error": error, "delay": delay})
        await asyncio.sleep(delay)

    def _answered(self, call: str, began: float) -> None:
        if self.metrics is not None:
            self.metrics.model_answered(call, asyncio.get_running_loop().time() - began)

    def _failed(self, error: Exception | str) -> None:
        if self.metrics is not None:
            self.metrics.model_failed(error if isinstance(error, str) else error_kind(error))

    def _delay(self, attempt: int, exc: Exception) -> float:
        base = self.settings.backoff_seconds * 2 ** (attempt - 1)
        if isinstance(exc, openai.APIStatusError):
            retry_after = exc.response.headers.get("retry-after")
            with contextlib.suppress(ValueError):
                base = max(base, min(float(retry_after or 0), _MAX_RETRY_AFTER))
        return float(base * random.uniform(1.0, 1.25))

    async def _stream_request(
        self, request: dict[str, Any]
    ) -> openai.AsyncStream[ChatCompletionChunk]:
        """POST /chat/completions with "stream": true. Through `client.post`, the client's way to
        send a body as it is: `chat.completions.create` first walks every message through its
        TypedDict schema, about a millisecond of CPU per call on a window of a few dozen
        messages, for turns that are plain JSON already (docs/benchmarks.md)."""
        return await self.client.post(
            "/chat/completions",
            body=request,
            cast_to=ChatCompletion,
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )

    async def _once(self, messages: Sequence[Turn], max_tokens: int, json_object: bool) -> str:
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
        }
        if json_object:
            request["response_format"] = {"type": "json_object"}
        if self.settings.stream:
            parts: list[str] = []
            stream = await self._stream_request({**request, "stream": True})
            async with stream:  # closed at once on a deadline or a malformed chunk
                async for chunk in stream:
                    parts.append(_chunk_text(chunk))
            text = "".join(parts)
        else:
            response: object = await self.client.post(
                "/chat/completions", body=request, cast_to=ChatCompletion
            )
            text = _answer_text(response)
        if not text.strip():
            raise EmptyAnswer
        return text.strip()


def error_kind(exc: BaseException) -> str:
    """The metrics label of one failed attempt: a small fixed set."""
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.InternalServerError):
        return "server"
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError | MalformedAnswer):
        return "bad_answer"
    if isinstance(exc, EmptyAnswer):
        return "empty"
    return "refused" if isinstance(exc, openai.APIError) else "other"


def _would_pass(deadline: asyncio.Timeout, delay: float) -> bool:
    """Whether sleeping `delay` first would reach the deadline: then give up now, not later."""
    when = deadline.when()
    return when is not None and asyncio.get_running_loop().time() + delay >= when


def _content(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedAnswer
    return value


def _answer_text(response: object) -> str:
    """The text of a non-streamed answer. The client does not validate what it parses, so an
    HTML page arrives as a str and JSON of another shape as a model with the wrong fields."""
    choices = getattr(response, "choices", None) if isinstance(response, ChatCompletion) else None
    if not isinstance(choices, list):
        raise MalformedAnswer
    if not choices:
        return ""
    message = getattr(choices[0], "message", None)
    if not isinstance(message, ChatCompletionMessage):
        raise MalformedAnswer
    return _content(message.content)


def _chunk_text(chunk: object) -> str:
    """The text of one streamed chunk; chunks without choices (usage, keep-alive) carry none."""
    if not isinstance(chunk, ChatCompletionChunk):
        raise MalformedAnswer
    choices: object = getattr(chunk, "choices", None)
    if choices is None or choices == []:
        return ""
    if not isinstance(choices, list):
        raise MalformedAnswer
    delta = getattr(choices[0], "delta", None)
    if delta is None:
        return ""
    if not isinstance(delta, ChoiceDelta):
        raise MalformedAnswer
    return _content(delta.content)


class OpenAIModerator:
    """handlers.ports.Moderator over an OpenAI-compatible `moderations` endpoint.

    A failure never blocks a reply: the built-in detector has already run.
    """

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self.client = client
        self.model = model

    async def distress(self, text: str) -> tuple[str, str] | None:
        try:
            response = await self.client.moderations.create(model=self.model, input=text)
        except openai.OpenAIError as exc:
            log.warning("moderation.failed", extra={"error": type(exc).__name__})
            return None
        if not response.results:
            return None
        categories = response.results[0].categories
        if categories.self_harm_intent or categories.self_harm_instructions:
            return ("self_harm", "high")
        if categories.self_harm:
            return ("self_harm", "medium")
        if categories.violence and categories.harassment_threatening:
            return ("harm_to_others", "medium")
        return None


def _refused(exc: openai.APIError) -> NoReturn:
    """400, 401, 404...: the server refused the request itself, and retrying will not help."""
    log.error("llm.failed", extra={"error": type(exc).__name__})
    raise ModelUnavailable(type(exc).__name__) from None
