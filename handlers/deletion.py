"""/delete: one conversation, all history, or the whole account; each shown, confirmed, done at once.

Buttons carry only internal ids and scopes, never personal data. A stale or repeated button finds
nothing left to delete and says so.
"""

from __future__ import annotations

from datetime import datetime

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.ports import Channel
from handlers.rights import fmt_day
from handlers.texts import t
from storage.models import Account, Deleted

EARLIER_SHOWN = 10


class Deletion:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def menu(self, account: Account, channel: Channel) -> None:
        buttons = (
            (Button(t("delete.current"), "del:cur"),),
            (Button(t("delete.earlier"), "del:pick"),),
            (Button(t("delete.history"), "del:all"),),
            (Button(t("delete.account"), "del:acct"),),
            (Button(t("btn.cancel"), "del:no"),),
        )
        await channel.send(Reply(t("delete.choose"), buttons=buttons))

    async def on_button(self, account: Account, kind: str, value: str, channel: Channel) -> None:
        """kind 'del' asks (what, then confirm); kind 'delok' carries out a confirmed choice."""
        if kind == "del":
            await self._ask(account, value, channel)
        else:
            await self._do(account, value, channel)

    async def _ask(self, account: Account, value: str, channel: Channel) -> None:
        repo = self.deps.repo
        conversations = await repo.conversations(account.id)
        by_id = {c.id: c for c in conversations}
        if value == "no":
            await channel.send(Reply(t("delete.cancelled"), edit=True))
        elif value == "pick":
            earlier = [c for c in conversations if c.id != account.conversation_id][:EARLIER_SHOWN]
            if not earlier:
                await channel.send(Reply(t("delete.no_earlier")))
                return
            rows = tuple(
                (
                    Button(
                        t("delete.conv_label", date=fmt_day(c.started_at), n=c.messages),
                        f"del:c{c.id}",
                    ),
                )
                for c in earlier
            )
            await channel.send(Reply(t("delete.pick"), buttons=rows))
        elif value == "cur" or value.startswith("c"):
            target = account.conversation_id if value == "cur" else _int(value[1:])
            conversation = by_id.get(target or -1)
            if conversation is None:
                await channel.send(Reply(t("delete.nothing")))
                return
            text = t(
                "delete.confirm.conversation",
                date=fmt_day(conversation.started_at),
                n=conversation.messages,
            )
            await channel.send(
                self._confirm(text, f"delok:c{conversation.id}.{stamp(conversation.started_at)}")
            )
        elif value == "all":
            held = await repo.inventory(account.id)
            text = t("delete.confirm.history", conversations=held.conversations, n=held.messages)
            await channel.send(self._confirm(text, f"delok:all.{stamp(account.created_at)}"))
        elif value == "acct":
            held = await repo.inventory(account.id)
            text = t(
                "delete.confirm.account",
                n=held.messages,
                payments=held.payment_records,
                years=self.deps.config.payment_records_years,
            )
            await channel.send(self._confirm(text, f"delok:acct.{stamp(account.created_at)}"))

    @staticmethod
    def _confirm(text: str, data: str) -> Reply:
        buttons = ((Button(t("delete.yes"), data), Button(t("btn.cancel"), "del:no")),)
        return Reply(text, buttons=buttons)

    async def _do(self, account: Account, value: str, channel: Channel) -> None:
        """Carry out a confirmation, but only the one that was shown: each button names what it
        deletes by id and creation time, so a stale one never hits a newer conversation or account."""
        repo = self.deps.repo
        scope, _, token = value.partition(".")
        deleted: Deleted | None = None
        if scope.startswith("c"):
            shown = {c.id: c for c in await repo.conversations(account.id)}.get(
                _int(scope[1:]) or -1
            )
            if shown is not None and token == stamp(shown.started_at):
                deleted = await repo.delete_conversation(account.id, shown.id)
        elif token == stamp(account.created_at):
            if scope == "all" and (await repo.inventory(account.id)).conversations:
                deleted = await repo.delete_history(account.id)
            elif scope == "acct":
                deleted = await repo.delete_account(account.id)
        if deleted is None:
            await channel.send(Reply(t("delete.nothing"), edit=True))
            return
        await channel.send(Reply(self._report(deleted), edit=True))

    def _report(self, deleted: Deleted) -> str:
        years = self.deps.config.payment_records_years
        if deleted.account:
            head = t("delete.done_account", conversations=deleted.conversations, n=deleted.messages)
        else:
            head = t("delete.done", conversations=deleted.conversations, n=deleted.messages)
        kept = (
            t("delete.kept_payments", payments=deleted.payment_records_kept, years=years)
            if deleted.payment_records_kept
            else t("delete.kept_nothing")
            if deleted.account
            else ""
        )
        tail = [t("delete.telegram_note")] + ([t("delete.goodbye")] if deleted.account else [])
        return "\n\n".join(part for part in (head, kept, *tail) if part)


def stamp(moment: datetime) -> str:
    """A creation time in a button, to tell this conversation or account from a later one."""
    return format(int(moment.timestamp() * 1_000_000), "x")


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None
