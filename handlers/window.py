"""The context window: the system prompt whole (persona, conduct, name, local time, then what is
remembered and the newest summaries of earlier conversations, in one system message), then the
newest messages of the current conversation that fit the budget.

What is remembered is part of the one system message, not a turn of its own: some chat templates
of OpenAI-compatible servers refuse a second system message. It takes at most
`memory.budget_share` of `context_tokens - reply_tokens` (and never more than half of what the
prompt leaves), so the conversation always keeps most of the room, and the total never exceeds
`context_tokens - reply_tokens` whatever the number of memories or messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from handlers.ports import TokenCounter, Turn
from storage.models import ChatMessage, Memory, Summary

_TRUNCATED = " […]"
PRIMING_TOKENS = 3  # every reply is primed with a few tokens by the chat format


class PromptTooLarge(Exception):
    """The system prompt alone does not fit the budget: a configuration problem."""


def build_window(
    system: str,
    newest_first: Iterable[ChatMessage],
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


# -- what is remembered ----------------------------------------------------------------------------

MAX_MISSES = 32
"""Memories that did not fit, in a row, after which filling stops (the rest are lower ranked and
rarely shorter): keeps the work bounded with thousands of memories."""


@dataclass(frozen=True)
class Window:
    turns: list[Turn]
    memory_ids: tuple[int, ...]
    """The memories that went in (Repository.mark_memories_used)."""


@dataclass(frozen=True)
class Remembered:
    text: str
    """To append to the system prompt: "" or "\\n\\n" + the labelled memories and summaries."""
    memory_ids: tuple[int, ...]


def memory_budget(
    system: str, counter: TokenCounter, *, context_tokens: int, reply_tokens: int, share: float
) -> int:
    """Tokens what is remembered may take: `share` of the message budget, and at most half of
    what the system prompt leaves, so the newest turns always keep room."""
    total = context_tokens - reply_tokens
    left = total - PRIMING_TOKENS - counter.per_message() - counter.count(system)
    return max(0, min(int(total * share), left // 2))


def remembered(
    ranked: Iterable[Memory],
    summaries: Sequence[Summary],
    counter: TokenCounter,
    budget: int,
    *,
    name: str | None,
    zone: tzinfo,
) -> Remembered:
    """The memories, most relevant first, and the summaries (newest first, up to half of
    `budget`) that fit `budget` tokens together, labelled for the model."""
    who = name or "the user"
    parts: list[str] = []
    spent = 0
    summary_lines: list[str] = []
    head = f"\n\nSummaries of your earlier conversations with {who}, newest first:"
    room = budget // 2 - counter.count(head)
    for summary in summaries:
        day = summary.created_at.astimezone(zone).strftime("%d %b %Y")
        line = f"\n- {day}: {summary.text}"
        cost = counter.count(line)
        if cost <= room:
            summary_lines.append(line)
            room -= cost
    if summary_lines:
        parts.append(head + "".join(summary_lines))
        spent = counter.count(parts[0])
    head = (
        f"\n\nWhat you remember about {who} (from earlier conversations, most relevant first; "
        "use it naturally when it fits, never recite it):"
    )
    room = budget - spent - counter.count(head)
    picked: list[Memory] = []
    lines: list[str] = []
    misses = 0
    for memory in ranked:
        if room <= 0 or misses >= MAX_MISSES:
            break
        line = f"\n- {memory.text}"
        cost = counter.count(line)
        if cost <= room:
            picked.append(memory)
            lines.append(line)
            room -= cost
            misses = 0
        else:
            misses += 1
    if picked:
        parts.insert(0, head + "".join(lines))
    text = "".join(parts)
    while picked and counter.count(text) > budget:  # a tokenizer may count joins apart
        picked.pop()
        lines.pop()
        parts[0] = head + "".join(lines) if lines else ""
        text = "".join(parts)
    return Remembered(text, tuple(m.id for m in picked))


def build_memory_window(
    system: str,
    newest_first: Iterable[ChatMessage],
    counter: TokenCounter,
    *,
    context_tokens: int,
    reply_tokens: int,
    memories: Iterable[Memory] = (),
    summaries: Sequence[Summary] = (),
    share: float = 0.25,
    name: str | None = None,
    zone: tzinfo,
    instructions: Sequence[str] = (),
) -> Window:
    """`system` + what is remembered (`memories` ranked most relevant first) + `instructions`
    for this reply (safe messaging, honesty), then the newest messages that fit. Within
    `context_tokens - reply_tokens` whatever the amounts (build_window counts it all)."""
    extra = "".join("\n\n" + part for part in instructions)
    budget = memory_budget(
        system + extra,
        counter,
        context_tokens=context_tokens,
        reply_tokens=reply_tokens,
        share=share,
    )
    memory = remembered(memories, summaries, counter, budget, name=name, zone=zone)
    turns = build_window(
        system + memory.text + extra,
        newest_first,
        counter,
        context_tokens=context_tokens,
        reply_tokens=reply_tokens,
    )
    return Window(turns, memory.memory_ids)
