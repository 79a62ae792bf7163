"""Companion chat: store the message, build the window, ask the model, store and send the reply."""

from __future__ import annotations

import logging

from handlers.deps import Deps
from handlers.events import Reply, Text
from handlers.persona import system_prompt
from handlers.ports import Channel, ModelUnavailable
from handlers.texts import t
from handlers.window import build_window
from storage.models import Account, Companion

log = logging.getLogger("amigo.chat")


class Chat:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def on_text(self, event: Text, account: Account, channel: Channel) -> None:
        repo, cfg = self.deps.repo, self.deps.config
        conversation = account.conversation_id or await repo.start_conversation(account.id)
        await repo.add_message(account.id, conversation, "user", event.text)
        companion = await repo.companion(account.id) or Companion(
            cfg.default_name, cfg.default_gender, cfg.default_tone
        )
        history = await repo.recent_messages(account.id, conversation, cfg.window_max_messages)
        turns = build_window(
            system_prompt(companion),
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
            return
        await repo.add_message(account.id, conversation, "assistant", answer)
        log.info(
            "chat.replied",
            extra={"uid": account.id, "window": len(turns) - 1, "chars": len(answer)},
        )
        await channel.send(Reply(answer, format="markdown"))

    async def new_conversation(self, account: Account, channel: Channel) -> None:
        await self.deps.repo.start_conversation(account.id)
        await channel.send(Reply(t("chat.new")))
