"""Companion chat: store the message, check it for safety signals, build the window, ask the
model, store and send the reply, and surface help when distress shows."""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from handlers.deps import Deps, HelplineInfo
from handlers.events import Reply, Text
from handlers.memory import MemoryKeeper
from handlers.memory_index import MemoryIndex
from handlers.persona import HONESTY_TURN, SAFE_MESSAGING, system_prompt
from handlers.ports import Channel, ModelUnavailable, Turn
from handlers.texts import t
from handlers.timezones import zone_for
from handlers.window import build_memory_window
from safety import Distress, asks_if_ai, detect_distress, detect_minor_signal
from storage.base import Unanswered
from storage.models import Account, Companion, Memory, Summary

log = logging.getLogger("amigo.chat")

DISCLOSE_EVERY = timedelta(hours=3)
ELLIPSIS = "…"
# Where a capped reply may end, best first: the position is where the kept text stops.
_BOUNDARIES: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"\n[^\S\n]*\n"), False),  # a paragraph end: keep what precedes the blank line
    (re.compile(r"\n"), False),  # a line end
    (re.compile(r"[.!?…。！？][)\"'”’»\]]*(?=\s)"), True),  # a sentence end: keep the full stop
    (re.compile(r"\s"), False),  # a word end
)


CLAIM_FOR = timedelta(minutes=10)
"""How long whoever answers a message holds it (a lease in storage). Longer than one reply can
take (llm.deadline_seconds, then the send); it only decides anything when several workers share
a database, or at a start (handlers/recovery.py)."""


def claim_for(deps: Deps) -> timedelta:
    """A message's claim: CLAIM_FOR alone, the workers' lease when several share the database
    (a dead worker's messages are then taken over that much later, handlers/shared_lane.py)."""
    workers = deps.config.workers
    return CLAIM_FOR if workers is None else timedelta(seconds=workers.lease_seconds)


RELEVANCE_TURNS = 6
"""The newest turns whose words rank the memories (handlers/relevance.py)."""


@dataclass(frozen=True)
class Accepted:
    """A chat message stored and checked, waiting for its answer (alone or in a burst)."""

    message: Unanswered
    distress: Distress | None


class Chat:
    def __init__(self, deps: Deps, memory: MemoryKeeper | None = None) -> None:
        self.deps = deps
        self.memory = memory or MemoryKeeper(deps)
        self.memory_index = MemoryIndex()

    async def accept(self, event: Text, account: Account) -> Accepted:
        """Store the message (accepted: answered from here on, even across a crash) and run the
        safety checks on it; the answer is a separate step, so a burst can be answered at once."""
        repo = self.deps.repo
        conversation = account.conversation_id or await repo.start_conversation(account.id)
        now = self.deps.clock.now()
        message_id = await repo.accept_message(
            account.id,
            conversation,
            event.text,
            claimed_until=now + claim_for(self.deps),
            update_id=event.update_id,
        )  # from here on this message is answered, even across a crash (handlers/recovery.py)
        message = Unanswered(message_id, account.id, conversation, event.text, now)
        distress = await self.distress(event.text)
        if distress is not None:  # a category and a reference, never a copy of the text (P14.2)
            await repo.flag(account.id, distress.category, distress.severity, message_id)
            log.info("safety.distress", extra={"uid": account.id, "category": distress.category})
        if detect_minor_signal(event.text):  # for a person to review; nothing is decided here
            await repo.flag(account.id, "age_signal", "review", message_id)
        return Accepted(message, distress)

    async def answer_burst(
        self, burst: Sequence[Accepted], channel: Channel, note: str = ""
    ) -> None:
        """One reply to messages sent in a row: the window ends at the newest, which the reply
        answers, and it covers the others. Distress in any of them shapes the reply and brings the
        helplines (once); the honesty checks read all their texts. A burst that spans two
        conversations (one ended between them) gets a reply in each."""
        runs: list[list[Accepted]] = []
        for item in burst:
            if runs and runs[-1][-1].message.conversation_id == item.message.conversation_id:
                runs[-1].append(item)
            else:
                runs.append([item])
        for run in runs:
            newest = run[-1].message
            if len(run) > 1:  # asks_if_ai and the disclosure read `text`: all of the burst's
                newest = replace(newest, text="\n".join(a.message.text for a in run))
            signals = [a.distress for a in run if a.distress is not None]
            distress = next((d for d in signals if d.severity == "high"), None) or next(
                iter(signals), None
            )
            # The reply answers `newest`; marking it answered marks the earlier ones of its
            # conversation too (Repository.mark_answered), so the run is answered together.
            await self.answer(newest, channel, distress, note)
            note = ""

    async def answer(
        self, message: Unanswered, channel: Channel, distress: Distress | None, note: str = ""
    ) -> None:
        """Ask the model with the window ending at `message`, store the reply as the answer to
        it, then send it (after `note`, if any). Used live and by recovery after a crash."""
        repo, cfg = self.deps.repo, self.deps.config
        companion = await repo.companion(message.user_id) or Companion(
            cfg.default_name, cfg.default_gender, cfg.default_tone
        )
        profile = await repo.profile(message.user_id)
        zone = zone_for(profile.time_zone, profile.country, cfg.default_time_zone)
        now = self.deps.clock.now()
        system = system_prompt(companion, name=profile.display_name, now=now.astimezone(zone))
        instructions = [SAFE_MESSAGING] if distress is not None else []
        if asks_if_ai(message.text):
            instructions.append(HONESTY_TURN)
        history = await repo.recent_messages(
            message.user_id, message.conversation_id, cfg.window_max_messages, through=message.id
        )
        memories: Iterable[Memory] = ()
        summaries: Sequence[Summary] = ()
        if cfg.memory.enabled and await repo.memory_enabled(message.user_id):
            if cfg.memory.summaries_in_window:
                summaries = await repo.summaries(message.user_id, cfg.memory.summaries_in_window)
            recent = [m.text for m in history[:RELEVANCE_TURNS]]
            # Ranked lazily from the cached memories: consumed by the window, before any await.
            memories = await self.memory_index.ranked(repo, message.user_id, recent, now)
        else:
            self.memory_index.drop(message.user_id)
        window = build_memory_window(
            system,
            history,
            self.deps.tokens,
            context_tokens=cfg.context_tokens,
            reply_tokens=cfg.reply_tokens,
            memories=memories,
            summaries=summaries,
            share=cfg.memory.budget_share,
            name=profile.display_name,
            zone=zone,
            instructions=instructions,
        )
        turns = window.turns
        try:
            if cfg.stream:
                await self._stream(message, turns, channel, note)
            else:
                async with channel.typing():
                    answer = await self.deps.model.complete(turns, max_tokens=cfg.reply_tokens)
                stored = await self._store(message, answer, len(turns) - 1)
                if stored is not None:
                    await self.deliver(message, stored, channel, note)
        except ModelUnavailable:
            # No answer, or one that broke off part-way (never stored as complete): the person
            # is told, and the message stays accepted, so their next message's answer covers it
            # (it is in that window), or the next start's recovery does.
            log.warning("chat.model_unavailable", extra={"uid": message.user_id})
            await channel.send(Reply(t("chat.llm_failed")))
        if window.memory_ids:  # they went into a request, answered or not
            await repo.mark_memories_used(message.user_id, window.memory_ids)
            self.memory_index.used(message.user_id, window.memory_ids, self.deps.clock.now())
        if distress is not None:
            await channel.send(
                Reply(resources_text(cfg.helplines, profile.country, cfg.default_country))
            )

    async def deliver(
        self, message: Unanswered, answer: str, channel: Channel, note: str = ""
    ) -> bool:
        """Send the stored reply to `message`, then mark it answered; True if sent.

        Sent before marked, so a reply is never lost: a kill in the milliseconds between the two
        sends it once more at the next start (the only way a reply is ever sent twice)."""
        text = await self._with_notes(message, answer, note)
        sent = await channel.send(Reply(text, format="markdown"))
        await self._delivered(message, sent)
        return sent

    async def _stream(
        self, message: Unanswered, turns: list[Turn], channel: Channel, note: str
    ) -> None:
        """The reply shown as the model writes it; capped, stored and prefixed in `finish`, so it
        is stored before its final message is sent, as on the non-streamed path."""
        cfg = self.deps.config

        dropped = False

        async def finish(text: str) -> str:
            nonlocal dropped
            answer = await self._store(message, text.strip(), len(turns) - 1)
            dropped = answer is None
            return "" if answer is None else await self._with_notes(message, answer, note)

        pieces = self.deps.model.stream(turns, max_tokens=cfg.reply_tokens)
        result = await channel.stream(
            _at_most(pieces, cfg.max_reply_chars + 1), format="markdown", finish=finish
        )
        if not dropped:  # an empty final text is withdrawn, not sent
            await self._delivered(message, result.delivered)

    async def _store(self, message: Unanswered, answer: str, window: int) -> str | None:
        """Cap the model's answer (servers do not always obey max_tokens) and store exactly
        that as the reply to `message`; the capped text is what is sent. None: `message` was
        deleted while the model wrote (/delete runs beside a pending reply), so nothing is
        stored or sent."""
        capped = cap_reply(answer, self.deps.config.max_reply_chars)
        if len(capped) < len(answer):
            log.info(
                "chat.reply_capped",
                extra={"uid": message.user_id, "chars": len(answer), "sent": len(capped)},
            )
        stored = await self.deps.repo.add_reply(
            message.user_id, message.conversation_id, message.id, capped
        )
        if stored is None:
            log.info("chat.reply_dropped", extra={"uid": message.user_id, "message_id": message.id})
            return None
        log.info(
            "chat.replied", extra={"uid": message.user_id, "window": window, "chars": len(capped)}
        )
        return capped

    async def _with_notes(self, message: Unanswered, answer: str, note: str) -> str:
        """`note` (e.g. recovery's "I was away") and the AI disclosure, before the answer."""
        notes = "\n\n".join(
            part for part in (note, await self._disclosure(message.user_id, message.text)) if part
        )
        return f"{notes}\n\n{answer}" if notes else answer

    async def _delivered(self, message: Unanswered, sent: bool) -> None:
        """Sent: `message`, and every earlier accepted message of its conversation (a burst, or
        one whose answer broke off: all were in this window), is answered. Unsent: it stays
        accepted and the next start sends the stored reply, without a new model call."""
        if sent:
            await self.deps.repo.mark_answered(message.id)
            self.memory.after_reply(message.user_id)  # in the background, never delaying
        else:
            log.warning(
                "chat.reply_unsent", extra={"uid": message.user_id, "message_id": message.id}
            )

    async def distress(self, text: str) -> Distress | None:
        """The built-in detector, and the moderation endpoint's verdict where one is configured."""
        found = detect_distress(text)
        if found is None and self.deps.moderator is not None:
            verdict = await self.deps.moderator.distress(text)
            if verdict is not None:
                found = Distress(*verdict)  # type: ignore[arg-type]
        return found

    async def _disclosure(self, user_id: int, text: str) -> str:
        """The companion says it is an AI when asked, and again after every three hours."""
        asked = asks_if_ai(text)
        last = await self.deps.repo.disclosed_at(user_id)
        if asked or last is None or self.deps.clock.now() - last >= DISCLOSE_EVERY:
            await self.deps.repo.mark_disclosed(user_id)
            if asked:
                return t("disclosure.answer")
            return "" if last is None else t("disclosure.reminder")
        return ""

    async def new_conversation(self, account: Account, channel: Channel) -> None:
        await self.deps.repo.start_conversation(account.id)
        self.memory.conversation_ended(account.id, account.conversation_id)
        await self.deps.repo.mark_disclosed(account.id)
        await channel.send(Reply(t("chat.new")))


async def _at_most(pieces: AsyncGenerator[str, None], chars: int) -> AsyncIterator[str]:
    """The model's pieces until `chars` characters came (cap_reply needs one past its limit to
    know the reply is longer); then the model's stream is closed, so a model that ignores
    max_tokens stops costing anything."""
    seen = 0
    async with contextlib.aclosing(pieces):
        async for piece in pieces:
            yield piece[: chars - seen]
            seen += len(piece)
            if seen >= chars:
                return


def cap_reply(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters; else its start, cut at the last paragraph, line,
    sentence or word end that keeps at least three quarters of the room, then "…".

    One cap where the reply is stored and sent, so a model that ignores max_tokens cannot flood a
    chat with dozens of messages, and the history holds exactly what the person saw.
    """
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[: room + 1]  # one more, so whitespace right after the room still marks an end
    floor = room * 3 // 4
    for pattern, keep_match in _BOUNDARIES:
        ends = [m.end() if keep_match else m.start() for m in pattern.finditer(head)]
        fitting = [end for end in ends if floor <= end <= room]
        if fitting and (kept := text[: fitting[-1]].rstrip()):
            return kept + ELLIPSIS
    cut = room  # no boundary near the end: cut anyway, but not between a letter and its marks
    while cut > 1 and (unicodedata.combining(text[cut]) or "\u200d" in (text[cut], text[cut - 1])):
        cut -= 1
    return text[:cut] + ELLIPSIS


def resources_text(
    helplines: tuple[HelplineInfo, ...], country: str | None, default_country: str
) -> str:
    """The helplines for the user's country (from /profile), else the default country's."""
    wanted = (country or "").strip().casefold()
    chosen = [h for h in helplines if wanted in (h.country.casefold(), h.country_name.casefold())]
    chosen = chosen or [h for h in helplines if h.country == default_country] or list(helplines)
    emergency = next((h.number for h in chosen if h.name.casefold() == "emergency"), "112")
    lines = "\n".join(
        t(
            "safety.line",
            name=h.name,
            number=h.number,
            hours=t("safety.hours", hours=h.hours) if h.hours else "",
            verified=t("safety.verified", date=h.last_verified) if h.last_verified else "",
        )
        for h in chosen
    )
    return t("safety.resources", lines=lines, emergency=emergency)
