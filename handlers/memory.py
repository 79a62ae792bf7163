"""Memory made in the background: facts about the person, and a summary of each finished
conversation, asked of the model with a fixed prompt, never while a reply waits.

When: every `memory.extract_every_messages` of a person's messages counted from the extraction
cursor (Repository.memory_cursor), and when a conversation ends (/new, or `memory.idle_hours` of
quiet: jobs/memory.py). One model call reads one conversation's unread messages; the cursor then
moves past them whatever the answer was, so a bad answer or a model that is down is never asked
again in a loop, and there is at most one call per that many messages (plus one when a
conversation ends). What is kept out, twice (the prompt says so; `safety.sensitive` screens each
answer): health, sex life and orientation, religion, caste, politics, ID numbers, account and card
numbers, passwords; the text of a message that raised a distress signal is never sent at all.
/memory add does not go through the screen: a person may keep such a fact on purpose.

Each person's work runs in one background task at a time (requests arriving meanwhile are folded
into its next round); `close` cancels and awaits them. Nothing raised here reaches the person.
Logs carry ids and counts, never text. About 450 lines, not split: the keeper and the small pure
helpers (parsing the answer, near-duplicates) only it uses; /memory is handlers/memory_command.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.deps import Deps
from handlers.payments import memory_limit
from handlers.ports import ModelUnavailable, Turn
from safety import detect_distress
from safety.sensitive import is_sensitive
from storage.models import ChatMessage, Memory

log = logging.getLogger("amigo.memory")

READ_FACTOR = 4
"""Messages read per round: this many times `extract_every_messages` (both roles)."""
SUMMARY_MESSAGES = 80
"""A finished conversation is summarised from at most its newest this many messages."""
KNOWN_IN_PROMPT = 100
"""The newest this many memories are shown to the model, so it answers with what is new."""
ANSWER_TOKENS = 700
MESSAGE_CHARS = 1500
"""A longer message is cut to this in the transcript."""
MAX_FACTS = 20
ROUNDS = 3
"""Conversations (or chunks of one) read per round at most: a long unread backlog is caught up
a few calls at a time, still at most one call per `extract_every_messages` messages."""
FACT_CHARS = 300
SUMMARY_CHARS = 1200

EXTRACT_PROMPT = """\
You keep a private memory about the person in a chat with their AI companion, so the companion \
remembers them in later conversations. Read the conversation and answer with ONE JSON object and \
nothing else, of this shape:
{{"facts": [{{"text": "Has a sister called Meera.", "replaces": null}}], "summary": "..."}}

Facts:
- Only lasting facts the person said about themselves and their life: what to call them, people \
who matter to them (with names), likes and dislikes, work or studies, plans and dates (write \
dates in full: today is {today}), ongoing situations.
- One short sentence each, about the person in the third person, in the language they used.
- Only what is new or changed compared with "Already remembered". When a fact corrects or \
updates a remembered one, put that one's number in "replaces"; otherwise null.
- NEVER include: health (physical or mental), sexual orientation or sex life, religion or \
beliefs, caste, political views, government ID numbers (Aadhaar, PAN, passport, SSN and the \
like), bank account or card numbers, passwords or PINs, or anything about self-harm, suicide or \
harming others. Nothing the companion said about itself. No guesses.
- Nothing new: "facts": [].
Summary: {summary_rule}"""

SUMMARY_RULE = (
    "the conversation has ended: in at most three sentences, what it was about (topics, plans, "
    "how the person was), leaving out the kinds of things listed above."
)
NO_SUMMARY_RULE = 'leave "summary" out (the conversation goes on).'

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


@dataclass(frozen=True)
class Fact:
    text: str
    replaces: int | None  # a number of the "Already remembered" list


@dataclass(frozen=True)
class Answer:
    facts: list[Fact]
    summary: str | None


@dataclass
class _Wanted:
    """What a person's next round should do."""

    ended: set[int] = field(default_factory=set)  # conversations that ended (/new)
    idle: bool = False  # quiet for idle_hours: everything unread is a finished conversation


@dataclass
class Outcome:
    """Counts of one round, for the log (never text)."""

    added: int = 0
    updated: int = 0
    same: int = 0
    sensitive: int = 0
    dropped: int = 0  # forgotten to stay under memory.max_items


class MemoryKeeper:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._wanted: dict[int, _Wanted] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    @property
    def enabled(self) -> bool:
        return self.deps.config.memory.enabled

    # -- hooks (handlers/chat.py, jobs/memory.py) -------------------------------------------------

    def after_reply(self, user_id: int) -> None:
        """A reply was delivered: count the person's unread messages in the background."""
        if self.enabled:
            self._want(user_id)

    def conversation_ended(self, user_id: int, conversation_id: int | None) -> None:
        """/new ended `conversation_id`: read what is left of it and summarise it."""
        if self.enabled and conversation_id is not None:
            self._want(user_id).ended.add(conversation_id)

    async def end_idle(self, user_id: int) -> None:
        """The person's conversation went quiet for `memory.idle_hours` with unread messages
        (jobs/memory.py finds them in storage, so also after a restart): read what is left and
        summarise it, in the person's background task; returns when that round is done, so the
        job reads one person at a time."""
        if not self.enabled or self._closed:
            return
        self._want(user_id).idle = True
        task = self._tasks.get(user_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until every round asked for so far is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        """Cancel the rounds in flight and wait for them, before storage closes."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _want(self, user_id: int) -> _Wanted:
        wanted = self._wanted.setdefault(user_id, _Wanted())
        if user_id not in self._tasks and not self._closed:
            self._tasks[user_id] = asyncio.create_task(self._work(user_id))
        return wanted

    async def _work(self, user_id: int) -> None:
        try:
            while (wanted := self._wanted.pop(user_id, None)) is not None:
                try:
                    await self.run(user_id, wanted.ended, idle=wanted.idle)
                except Exception as exc:  # a background round never reaches the person
                    log.error("memory.failed", extra={"uid": user_id, "error": type(exc).__name__})
        finally:
            self._tasks.pop(user_id, None)

    # -- one round -----------------------------------------------------------------------------

    async def run(self, user_id: int, ended: set[int], *, idle: bool = False) -> int:
        """Read the person's unread messages a conversation at a time while one is due (enough
        messages, or finished), and summarise ended conversations; the model calls made."""
        repo, cfg = self.deps.repo, self.deps.config.memory
        if not cfg.enabled or not await repo.memory_enabled(user_id):
            return 0
        calls = 0
        ended = set(ended)
        for _ in range(ROUNDS):  # what is left waits for the next reply
            cursor = await repo.memory_cursor(user_id)
            batch = await repo.messages_after(
                user_id, cursor, cfg.extract_every_messages * READ_FACTOR
            )
            if not batch:
                break
            conversation = batch[0][0]
            unread: list[ChatMessage] = []
            for conv, message in batch:
                if conv != conversation:
                    break
                unread.append(message)
            finished = idle or conversation in ended or len(unread) < len(batch)
            users = sum(1 for m in unread if m.role == "user")
            if not finished and users < cfg.extract_every_messages:
                break
            if users:
                await self._extract(user_id, conversation, unread, summarise=finished)
                calls += 1
            ended.discard(conversation)
            await repo.set_memory_cursor(user_id, unread[-1].id)
        for conversation in ended:  # read already (at the Nth message), but not summarised
            if not await self._summarised(user_id, conversation):
                await self._extract(user_id, conversation, [], summarise=True)
                calls += 1
        return calls

    async def _still_there(self, user_id: int, newest: ChatMessage) -> bool:
        """Whether the newest message extraction read still exists (deletion removes the
        newest ones too: it cannot keep a later message and drop an earlier one it read)."""
        after = await self.deps.repo.messages_after(user_id, newest.id - 1, 1)
        return bool(after) and after[0][1].id == newest.id

    async def _summarised(self, user_id: int, conversation: int) -> bool:
        newest = await self.deps.repo.summaries(user_id, limit=10)
        return any(s.conversation_id == conversation for s in newest)

    async def _extract(
        self, user_id: int, conversation: int, unread: list[ChatMessage], *, summarise: bool
    ) -> None:
        """One model call: new facts from `unread` (or, summarising, from the conversation's
        newest messages), and its summary when it has ended."""
        repo = self.deps.repo
        messages = unread
        if summarise:
            newest = await repo.recent_messages(user_id, conversation, SUMMARY_MESSAGES)
            messages = sorted({m.id: m for m in [*newest, *unread]}.values(), key=lambda m: m.id)
        messages = await self._without_distress(user_id, messages)
        if not any(m.role == "user" for m in messages):
            return
        known = (await repo.memories(user_id))[-KNOWN_IN_PROMPT:]
        turns = self._prompt(known, messages, summarise=summarise)
        try:
            text = await self.deps.model.complete(turns, max_tokens=ANSWER_TOKENS, json_object=True)
        except ModelUnavailable:
            log.warning("memory.model_unavailable", extra={"uid": user_id})
            return
        answer = parse_answer(text)
        if answer is None:
            log.warning("memory.malformed", extra={"uid": user_id, "chars": len(text)})
            return
        if not await self._still_there(user_id, messages[-1]):
            # /delete ran while the model read them: nothing learnt from them may outlive them
            log.info("memory.source_deleted", extra={"uid": user_id})
            return
        outcome = await self._apply(user_id, conversation, answer.facts, known)
        summary = 0
        if summarise and answer.summary:
            kept = without_sensitive_sentences(answer.summary)[:SUMMARY_CHARS]
            if kept:
                await repo.set_summary(user_id, conversation, kept)
                summary = 1
        log.info(
            "memory.extracted",
            extra={
                "uid": user_id,
                "messages": len(messages),
                "facts": len(answer.facts),
                "added": outcome.added,
                "updated": outcome.updated,
                "same": outcome.same,
                "sensitive": outcome.sensitive,
                "dropped": outcome.dropped,
                "summary": summary,
            },
        )

    async def _without_distress(
        self, user_id: int, messages: list[ChatMessage]
    ) -> list[ChatMessage]:
        """`messages` without any that raised a distress signal, nor the companion's replies up
        to the person's next message. What raised one is read from the safety records (they keep
        the message id, whichever check raised it: the built-in detector or the moderation
        endpoint); the built-in detector runs again as a fallback, local and free, for a message
        whose record is gone (retention purges safety records after
        `retention.safety_records_days`) or that newer rules catch. The moderation endpoint is
        not asked again: its verdict is in the records, and the text is not sent out twice."""
        if not messages:
            return messages
        flagged = await self.deps.repo.flagged_message_ids(user_id, messages[0].id - 1)
        kept: list[ChatMessage] = []
        skipping = False
        for message in messages:
            if message.role == "user":
                skipping = message.id in flagged or detect_distress(message.text) is not None
            if not skipping:
                kept.append(message)
        if len(kept) < len(messages):
            log.info(
                "memory.distress_skipped",
                extra={"uid": user_id, "count": len(messages) - len(kept)},
            )
        return kept

    def _prompt(
        self, known: Sequence[Memory], messages: Sequence[ChatMessage], *, summarise: bool
    ) -> list[Turn]:
        """The fixed instructions, then what is remembered and the transcript, newest kept
        when it is longer than the context window allows."""
        cfg, tokens = self.deps.config, self.deps.tokens
        system = EXTRACT_PROMPT.format(
            today=self.deps.clock.now().date().isoformat(),
            summary_rule=SUMMARY_RULE if summarise else NO_SUMMARY_RULE,
        )
        remembered = "\n".join(f"{i}. {m.text}" for i, m in enumerate(known, 1)) or "(nothing yet)"
        head = f"Already remembered:\n{remembered}\n\nConversation (oldest first):\n"
        room = cfg.context_tokens - ANSWER_TOKENS - tokens.count(system) - tokens.count(head)
        room -= 3 * tokens.per_message()
        lines: list[str] = []
        for message in reversed(messages):
            who = "Person" if message.role == "user" else "Companion"
            line = f"{who}: {message.text[:MESSAGE_CHARS]}"
            room -= tokens.count(line) + 1
            if room < 0 and lines:
                break
            lines.append(line)
        transcript = "\n".join(reversed(lines))
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": head + transcript},
        ]

    # -- keeping what came back ----------------------------------------------------------------

    async def _apply(
        self, user_id: int, conversation: int, facts: Sequence[Fact], known: Sequence[Memory]
    ) -> Outcome:
        repo = self.deps.repo
        outcome = Outcome()
        memories = list(await repo.memories(user_id))
        added: list[int] = []
        for fact in facts:
            if is_sensitive(fact.text):
                outcome.sensitive += 1
                continue
            target = None
            if fact.replaces is not None and 1 <= fact.replaces <= len(known):
                wanted = known[fact.replaces - 1].id
                target = next((m for m in memories if m.id == wanted), None)
            match = near_duplicate(fact.text, memories)
            if target is None and match is not None:
                target, subsumed = match
                if subsumed:  # says less than what is kept already
                    outcome.same += 1
                    continue
            if target is None:
                new_id = await repo.add_memory(
                    user_id, fact.text, conversation_id=conversation, manual=False
                )
                now = self.deps.clock.now()
                memories.append(Memory(new_id, fact.text, conversation, False, now, now))
                added.append(new_id)
                outcome.added += 1
            elif target.manual or normalised(target.text) == normalised(fact.text):
                outcome.same += 1  # what the person wrote themselves is theirs to change
            else:
                await repo.update_memory(user_id, target.id, fact.text)
                memories = [
                    Memory(m.id, fact.text, m.conversation_id, m.manual, m.created_at, m.updated_at)
                    if m.id == target.id
                    else m
                    for m in memories
                ]
                outcome.updated += 1
        if outcome.added:
            outcome.dropped = await self.enforce_cap(user_id, keep=added)
        return outcome

    async def enforce_cap(self, user_id: int, keep: Sequence[int] = ()) -> int:
        """Forget past `memory.max_items` (plus.memory_items with Plus): the least used oldest first, automatic ones before
        those the person added; never those in `keep` (just added: not yet used, they would
        always go first). How many were forgotten."""
        repo, limit = self.deps.repo, await memory_limit(self.deps, user_id)
        memories = await repo.memories(user_id)
        excess = len(memories) - limit
        if excess <= 0:
            return 0
        candidates = sorted(
            (m for m in memories if m.id not in keep),
            key=lambda m: (m.manual, m.uses, m.last_used_at or m.updated_at, m.id),
        )
        for memory in candidates[:excess]:
            await repo.forget_memory(user_id, memory.id)
        log.info("memory.capped", extra={"uid": user_id, "dropped": excess, "limit": limit})
        return excess


# -- pure helpers ------------------------------------------------------------------------------


def parse_answer(text: str) -> Answer | None:
    """The model's JSON answer, or None when it is not the asked shape (then nothing changes).
    Tolerates a code fence and prose around the object (servers without JSON mode add them);
    drops single facts that are not usable."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(body[start : end + 1])
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("facts", []), list):
        return None
    facts: list[Fact] = []
    for item in data.get("facts", [])[:MAX_FACTS]:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        fact = " ".join(item["text"].split())
        replaces = item.get("replaces")
        if not fact or len(fact) > FACT_CHARS:
            continue
        if isinstance(replaces, bool) or not isinstance(replaces, int):
            replaces = None
        facts.append(Fact(fact, replaces))
    summary = data.get("summary")
    summary = " ".join(summary.split()) if isinstance(summary, str) else None
    return Answer(facts, summary or None)


def normalised(text: str) -> str:
    """Case, accents' forms, punctuation and spacing folded: "Likes tea." == "likes  tea"."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def near_duplicate(text: str, memories: Sequence[Memory]) -> tuple[Memory, bool] | None:
    """The kept memory `text` repeats or extends, and whether `text` says nothing more than it
    (its words are all in it). Equal after normalising; or the words of one hold the other's
    (at least three); or at least 75% of their words shared."""
    words = set(normalised(text).split())
    if not words:
        return None
    best: tuple[float, Memory, bool] | None = None
    for memory in memories:
        theirs = set(normalised(memory.text).split())
        if not theirs:
            continue
        shared = len(words & theirs)
        subsumed = words <= theirs
        contains = len(min(words, theirs, key=len)) >= 3 and (subsumed or theirs <= words)
        score = shared / len(words | theirs)
        close = words == theirs or contains or score >= 0.75
        if close and (best is None or score > best[0]):
            best = (score, memory, subsumed)
    return None if best is None else (best[1], best[2])


def without_sensitive_sentences(text: str) -> str:
    """A summary without the sentences the sensitive screen catches."""
    return " ".join(s for s in _SENTENCE.split(text.strip()) if s and not is_sensitive(s))
