"""The LLM client: the official openai async client, with bounded retries and backoff of our own.

Any OpenAI-compatible server works (OpenAI, vLLM, Ollama, llama.cpp) by base URL. Failures never carry
message text outward: the caller gets ModelUnavailable, the log gets the error type and attempt count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any

import openai

from bot.config import LLMSettings
from handlers.ports import ModelUnavailable, Turn

log = logging.getLogger("amigo.llm")

_RETRYABLE = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
)
_MAX_RETRY_AFTER = 30.0


class EmptyAnswer(Exception):
    """The model answered with no text."""


class OpenAIChatModel:
    """handlers.ports.ChatModel over an OpenAI-compatible endpoint."""

    def __init__(
        self, settings: LLMSettings, api_key: str | None, max_concurrent: int = 16
    ) -> None:
        self.settings = settings
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

    async def complete(self, messages: Sequence[Turn], *, max_tokens: int) -> str:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._slots:
                    return await self._once(messages, max_tokens)
            except (*_RETRYABLE, EmptyAnswer) as exc:
                error = type(exc).__name__
                if attempt == attempts:
                    log.warning("llm.gave_up", extra={"attempts": attempt, "error": error})
                    raise ModelUnavailable(error) from None
                delay = self._delay(attempt, exc)
                log.info("llm.retry", extra={"attempt": attempt, "error": error, "delay": delay})
                await asyncio.sleep(delay)
            except openai.APIError as exc:  # 400, 401, 404...: retrying will not help
                log.error("llm.failed", extra={"error": type(exc).__name__})
                raise ModelUnavailable(type(exc).__name__) from None
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, exc: Exception) -> float:
        base = self.settings.backoff_seconds * 2 ** (attempt - 1)
        if isinstance(exc, openai.APIStatusError):
            retry_after = exc.response.headers.get("retry-after")
            with contextlib.suppress(ValueError):
                base = max(base, min(float(retry_after or 0), _MAX_RETRY_AFTER))
        return float(base * random.uniform(1.0, 1.25))

    async def _once(self, messages: Sequence[Turn], max_tokens: int) -> str:
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
        }
        if self.settings.stream:
            parts: list[str] = []
            stream = await self.client.chat.completions.create(**request, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            text = "".join(parts)
        else:
            response = await self.client.chat.completions.create(**request)
            text = (response.choices[0].message.content or "") if response.choices else ""
        if not text.strip():
            raise EmptyAnswer
        return text.strip()


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
