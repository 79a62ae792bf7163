"""Companion chat: store the message, check it for safety signals, build the window, ask the
model, store and send the reply, and surface help when distress shows."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

from handlers.deps import Deps, HelplineInfo
from handlers.events import Reply, Text
from handlers.persona import HONESTY_TURN, SAFE_MESSAGING, system_prompt
from handlers.ports import Channel, ModelUnavailable
from handlers.texts import t
from handlers.window import build_window
from safety import Distress, asks_if_ai, detect_distress, detect_minor_signal
from storage.models import Account, Companion

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


class Chat:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def on_text(self, event: Text, account: Account, channel: Channel) -> None:
        repo, cfg = self.deps.repo, self.deps.config
        conversation = account.conversation_id or await repo.start_conversation(account.id)
        message_id = await repo.add_message(account.id, conversation, "user", event.text)
        distress = await self._distress(event.text)
        sincere_question = asks_if_ai(event.text)
        if distress is not None:  # a category and a reference, never a copy of the text (P14.2)
            await repo.flag(account.id, distress.category, distress.severity, message_id)
            log.info("safety.distress", extra={"uid": account.id, "category": distress.category})
        if detect_minor_signal(event.text):  # for a person to review; nothing is decided here
            await repo.flag(account.id, "age_signal", "review", message_id)
        companion = await repo.companion(account.id) or Companion(
            cfg.default_name, cfg.default_gender, cfg.default_tone
        )
        system = system_prompt(companion)
        if distress is not None:
            system += "\n\n" + SAFE_MESSAGING
        if sincere_question:
            system += "\n\n" + HONESTY_TURN
        history = await repo.recent_messages(account.id, conversation, cfg.window_max_messages)
        turns = build_window(
            system,
            history,
            self.deps.tokens,
            context_tokens=cfg.context_tokens,
            reply_tokens=cfg.reply_tokens,
        )
        try:
            async with channel.typing():
                answer = await self.deps.model.complete(turns, max_tokens=cfg.reply_tokens)
        except ModelUnavailable:
            log.warning("chat.model_unavailable", extra={"uid": account.id})
            await channel.send(Reply(t("chat.llm_failed")))
        else:
            capped = cap_reply(answer, cfg.max_reply_chars)
            if len(capped) < len(answer):  # asked for reply_tokens, but servers do not always obey
                log.info(
                    "chat.reply_capped",
                    extra={"uid": account.id, "chars": len(answer), "sent": len(capped)},
                )
                answer = capped
            await repo.add_message(account.id, conversation, "assistant", answer)  # as sent
            log.info(
                "chat.replied",
                extra={"uid": account.id, "window": len(turns) - 1, "chars": len(answer)},
            )
            note = await self._disclosure(account, sincere_question)
            await channel.send(Reply(f"{note}\n\n{answer}" if note else answer, format="markdown"))
        if distress is not None:
            profile = await repo.profile(account.id)
            await channel.send(
                Reply(resources_text(cfg.helplines, profile.country, cfg.default_country))
            )

    async def _distress(self, text: str) -> Distress | None:
        """The built-in detector, and the moderation endpoint's verdict where one is configured."""
        found = detect_distress(text)
        if found is None and self.deps.moderator is not None:
            verdict = await self.deps.moderator.distress(text)
            if verdict is not None:
                found = Distress(*verdict)  # type: ignore[arg-type]
        return found

    async def _disclosure(self, account: Account, asked: bool) -> str:
        """The companion says it is an AI when asked, and again after every three hours."""
        last = await self.deps.repo.disclosed_at(account.id)
        if asked or last is None or self.deps.clock.now() - last >= DISCLOSE_EVERY:
            await self.deps.repo.mark_disclosed(account.id)
            if asked:
                return t("disclosure.answer")
            return "" if last is None else t("disclosure.reminder")
        return ""

    async def new_conversation(self, account: Account, channel: Channel) -> None:
        await self.deps.repo.start_conversation(account.id)
        await self.deps.repo.mark_disclosed(account.id)
        await channel.send(Reply(t("chat.new")))


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
