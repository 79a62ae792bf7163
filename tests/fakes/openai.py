"""An in-process fake of an OpenAI-compatible chat completions server, for loopback tests.

Tests script replies (text, errors, delays, dropped connections) so the bot's handling of a
slow, failing or empty model can be exercised with the real ``openai.AsyncOpenAI`` client.

A refused connection is simulated by stopping the server: after ``await fake.stop()`` the
port is closed and ``fake.base_url`` refuses connections (openai: APIConnectionError);
``await fake.start()`` binds the same port again, so a client can "recover".

Note that the real client retries 408/409/429/5xx and dropped connections (``max_retries``,
2 by default); each retry consumes the next scripted reply. Use ``max_retries=0`` in tests
that want to see the first failure.

One file of about 500 lines on purpose: it is one server class whose scripting and serving share
its state; split, each half would only make sense beside the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = ["FakeOpenAI", "ScriptedReply", "echo_last_user_message"]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    409: ("invalid_request_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _content_text(content: Any) -> str:
    """Text of a message content: a string, or the text parts of a content-part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def echo_last_user_message(body: dict[str, Any]) -> str:
    """The default reply: ``"echo: "`` + the last user message's text."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return "echo: " + _content_text(message.get("content"))
    return "echo: "


def _tokens(text: str) -> int:
    """A rough token count (about four characters per token), enough for usage fields."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


@dataclass
class ScriptedReply:
    """One queued answer; fields as in :meth:`FakeOpenAI.enqueue`."""

    text: str | None = None
    delay: float = 0.0
    status: int | None = None
    retry_after: float | None = None
    empty: bool = False
    drop_connection: bool = False
    finish_reason: str = "stop"
    error_message: str | None = None
    first_token_delay: float | None = None
    chunk_delay: float | None = None
    chunks: int | None = None
    break_after: int | None = None


class _Signal:
    """A broadcast wake-up that synchronous code can fire."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event


class FakeOpenAI:
    """A fake ``/v1`` server: chat completions (plain and SSE streaming) and model listing.

    ``fake.requests`` holds every POSTed JSON body in arrival order; scripted replies from
    :meth:`enqueue` are consumed in that order, then ``default_reply`` answers.
    """

    def __init__(
        self,
        *,
        model: str = "gpt-fake",
        api_key: str | None = None,
        stream_chunks: int = 4,
        stream_chunk_delay: float = 0.0,
        stream_first_token_delay: float = 0.0,
    ) -> None:
        self.model = model
        self.api_key = api_key  # if set, other keys get 401 invalid_api_key
        self.stream_chunks = stream_chunks
        self.stream_chunk_delay = stream_chunk_delay
        # Streamed answers: the wait between the headers and the first text (a model's time to
        # first token); 0 waits stream_chunk_delay as between any two chunks.
        self.stream_first_token_delay = stream_first_token_delay
        self.default_reply: Callable[[dict[str, Any]], str] = echo_last_user_message
        self.default_delay: float = 0.0
        self.requests: list[dict[str, Any]] = []
        self.moderation_requests: list[dict[str, Any]] = []
        # Inputs containing one of these are flagged by /v1/moderations as self-harm.
        self.flagged_phrases: set[str] = set()
        self.concurrency_peak: int = 0
        self.in_flight: int = 0
        # A server without JSON mode: a body with "response_format" gets a 400, as some do.
        self.refuse_json_mode = False

        self._queue: deque[ScriptedReply] = deque()
        self._signal = _Signal()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._next_id = 1

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound port (0 before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """For ``AsyncOpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self._port}/v1"

    async def start(self) -> None:
        """Bind 127.0.0.1 (a free port the first time, the same port on restart)."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/moderations", self._moderations)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Close the port; requests still waiting on a delay lose their connection."""
        if self._runner is None:
            return
        self._closing.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- scripting

    def enqueue(
        self,
        text: str | None = None,
        *,
        delay: float = 0.0,
        status: int | None = None,
        retry_after: float | None = None,
        empty: bool = False,
        drop_connection: bool = False,
        finish_reason: str = "stop",
        error_message: str | None = None,
        first_token_delay: float | None = None,
        chunk_delay: float | None = None,
        chunks: int | None = None,
        break_after: int | None = None,
    ) -> None:
        """Script the next answer (FIFO).

        ``text=None`` uses ``default_reply``; ``status`` answers with an OpenAI error JSON
        (``retry_after`` becomes a Retry-After header); ``empty`` answers with content "";
        ``drop_connection`` closes the socket without a response; ``delay`` waits first
        without blocking other requests. For a streamed answer, ``first_token_delay``,
        ``chunk_delay`` and ``chunks`` override the server's ``stream_*`` settings (first text
        after 0.5 s and 8 s in all over 16 chunks: 0.5, 0.5, 16), and ``break_after`` closes the
        connection after that many pieces of text, as a model that breaks off.
        """
        self._queue.append(
            ScriptedReply(
                text=text,
                delay=delay,
                status=status,
                retry_after=retry_after,
                empty=empty,
                drop_connection=drop_connection,
                finish_reason=finish_reason,
                error_message=error_message,
                first_token_delay=first_token_delay,
                chunk_delay=chunk_delay,
                chunks=chunks,
                break_after=break_after,
            )
        )

    @property
    def pending_replies(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._queue)

    @property
    def last_request(self) -> dict[str, Any]:
        """The most recent request body."""
        if not self.requests:
            raise AssertionError("no request reached the fake OpenAI server")
        return self.requests[-1]

    def requests_starting(self, prefix: str) -> list[dict[str, Any]]:
        """The chat requests whose first message begins with `prefix` (a fixed system prompt,
        such as memory extraction's)."""
        return [
            body
            for body in self.requests
            if _content_text(body["messages"][0].get("content")).startswith(prefix)
        ]

    def reset(self) -> None:
        """Forget history, scripted replies and the concurrency peak."""
        self.requests.clear()
        self._queue.clear()
        self.concurrency_peak = 0

    async def wait_for_requests(
        self,
        n: int,
        timeout: float = 10.0,
    ) -> None:
        """Wait until at least ``n`` requests have arrived (AssertionError on timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._signal.current()
            if len(self.requests) >= n:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {n} requests; got {len(self.requests)}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ---------------------------------------------------------------- HTTP handlers

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return self._error(404, f"Unknown request URL: {request.method} {request.path}.")

    async def _models(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_auth(request)) is not None:
            return denied
        return web.json_response({"object": "list", "data": [self._model_json()]})

    async def _model(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_auth(request)) is not None:
            return denied
        if request.match_info["model"] != self.model:
            return self._error(404, "The model does not exist.", code="model_not_found")
        return web.json_response(self._model_json())

    async def _moderations(self, request: web.Request) -> web.StreamResponse:
        """OpenAI's moderation endpoint, flagging inputs that contain `flagged_phrases`."""
        if (denied := self._check_auth(request)) is not None:
            return denied
        body = await request.json()
        self.moderation_requests.append(body)
        inputs = body.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        results = []
        for text in texts:
            hit = any(p in str(text) for p in self.flagged_phrases)
            categories = {
                name: hit and name.startswith("self-harm")
                for name in (
                    "self-harm",
                    "self-harm/intent",
                    "self-harm/instructions",
                    "violence",
                    "violence/graphic",
                    "harassment",
                    "harassment/threatening",
                    "hate",
                    "hate/threatening",
                    "sexual",
                    "sexual/minors",
                )
            }
            scores = {name: 0.99 if flagged else 0.01 for name, flagged in categories.items()}
            results.append({"flagged": hit, "categories": categories, "category_scores": scores})
        return web.json_response(
            {"id": "modr-fake", "model": body.get("model"), "results": results}
        )

    def _model_json(self) -> dict[str, Any]:
        return {"id": self.model, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error(400, "We could not parse the JSON body of your request.")
        self.requests.append(body)
        self._signal.notify()
        self.in_flight += 1
        self.concurrency_peak = max(self.concurrency_peak, self.in_flight)
        try:
            return await self._answer(request, body)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if (denied := self._check_auth(request)) is not None:
            return denied
        if (problem := self._validate(body)) is not None:
            return self._error(400, problem)
        if self.refuse_json_mode and "response_format" in body:
            return self._error(400, "Invalid parameter: 'response_format' is not supported.")
        script = self._queue.popleft() if self._queue else ScriptedReply()
        delay = script.delay or self.default_delay
        if delay > 0 and await self._closed_during(delay):
            return self._drop(request)
        if script.drop_connection:
            return self._drop(request)
        if script.status is not None:
            return self._error(script.status, script.error_message, retry_after=script.retry_after)
        if script.empty:
            text = ""
        elif script.text is not None:
            text = script.text
        else:
            text = self.default_reply(body)
        if body.get("stream") is True:
            return await self._stream(request, body, text, script)
        return web.json_response(self._completion(body, text, script.finish_reason))

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return self._error(401, None)

    @staticmethod
    def _validate(body: dict[str, Any]) -> str | None:
        """The checks the real API makes that a bot can plausibly fail."""
        if not body.get("model"):
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "Invalid 'messages': empty array. Expected an array with minimum length 1."
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                return f"Invalid value for 'messages[{index}].role'."
            content = message.get("content")
            if message["role"] == "assistant" and content is None:
                continue
            if not isinstance(content, str | list):
                return f"Invalid type for 'messages[{index}].content': expected a string."
        return None

    async def _closed_during(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True if the server started stopping meanwhile."""
        try:
            await asyncio.wait_for(self._closing.wait(), delay)
        except TimeoutError:
            return False
        return True

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    @staticmethod
    def _error(
        status: int,
        message: str | None,
        *,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> web.Response:
        kind, default_code, default_message = _ERRORS.get(status, ("api_error", None, "Error."))
        payload = {
            "error": {
                "message": message or default_message,
                "type": kind,
                "param": None,
                "code": code or default_code,
            }
        }
        headers = {"x-request-id": f"req_fake_{time.monotonic_ns()}"}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return web.json_response(payload, status=status, headers=headers)

    def _usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        prompt = sum(
            _tokens(_content_text(m.get("content")))
            for m in body.get("messages", [])
            if isinstance(m, dict)
        )
        completion = _tokens(text)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _new_id(self) -> str:
        value = self._next_id
        self._next_id += 1
        return f"chatcmpl-fake{value:08d}"

    def _completion(self, body: dict[str, Any], text: str, finish_reason: str) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or self.model),
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": self._usage(body, text),
        }

    def _pieces(self, text: str, chunks: int | None = None) -> list[str]:
        """Split ``text`` into up to ``chunks`` (default ``stream_chunks``) non-empty pieces."""
        if not text:
            return []
        count = max(1, min(self.stream_chunks if chunks is None else chunks, len(text)))
        size = math.ceil(len(text) / count)
        return [text[i : i + size] for i in range(0, len(text), size)]

    async def _stream(
        self, request: web.Request, body: dict[str, Any], text: str, script: ScriptedReply
    ) -> web.StreamResponse:
        """Server-sent events the way OpenAI sends them, ending with ``data: [DONE]``."""
        finish_reason = script.finish_reason
        pieces = self._pieces(text, script.chunks)
        between = self.stream_chunk_delay if script.chunk_delay is None else script.chunk_delay
        first = script.first_token_delay
        first = self.stream_first_token_delay if first is None else first
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        base = {
            "id": self._new_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": str(body.get("model") or self.model),
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
        }

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            data: dict[str, Any] = {
                **base,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                data["usage"] = None
            return data

        events = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
        events += [chunk({"content": piece}, None) for piece in pieces]
        events.append(chunk({}, finish_reason))
        if include_usage:
            events.append({**base, "choices": [], "usage": self._usage(body, text)})

        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        for index, event in enumerate(events):
            wait = first if index == 1 and first > 0 else between
            if index and wait > 0:
                await asyncio.sleep(wait)
            if script.break_after is not None and index > script.break_after:
                if request.transport is not None:  # the headers went out: cut the body short
                    request.transport.abort()
                return response
            await response.write(b"data: " + json.dumps(event).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
