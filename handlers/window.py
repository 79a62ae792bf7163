"""The rolling context window: the system prompt whole, then the newest messages that fit the budget."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.ports import TokenCounter, Turn
from storage.models import ChatMessage

_TRUNCATED = " […]"
PRIMING_TOKENS = 3  # every reply is primed with a few tokens by the chat format


class PromptTooLarge(Exception):
    """The system prompt alone does not fit the budget: a configuration problem."""


def build_window(
    system: str,
    newest_first: Sequence[ChatMessage],
    counter: TokenCounter,
    *,
    context_tokens: int,
    reply_tokens: int,
) -> list[Turn]:
    """System prompt + the newest messages that fit `context_tokens - reply_tokens`.

    The window is contiguous: the first message that does not fit ends it, so the model never
    sees a conversation with holes. If even the newest message is too long alone, its start is kept.
    """
    overhead = counter.per_message()
    budget = context_tokens - reply_tokens - PRIMING_TOKENS - overhead - counter.count(system)
    if budget <= overhead:
        raise PromptTooLarge("system prompt leaves no room for messages")
    picked: list[Turn] = []
    for message in newest_first:
        cost = overhead + counter.count(message.text)
        if cost > budget:
            if not picked:
                text = _truncate(message.text, budget - overhead, counter)
                picked.append({"role": message.role, "content": text})
            break
        picked.append({"role": message.role, "content": message.text})
        budget -= cost
    return [{"role": "system", "content": system}, *reversed(picked)]


def window_cost(turns: Sequence[Turn], counter: TokenCounter) -> int:
    """Tokens the request's messages take, as the budget counts them."""
    return PRIMING_TOKENS + sum(counter.per_message() + counter.count(t["content"]) for t in turns)


def _truncate(text: str, budget: int, counter: TokenCounter) -> str:
    """The longest start of `text` (plus a marker) that fits `budget` tokens."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if counter.count(text[:mid] + _TRUNCATED) <= budget:
            low = mid
        else:
            high = mid - 1
    return text[:low] + _TRUNCATED if low else ""
