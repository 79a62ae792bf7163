"""/delete: one conversation, all history, or the whole account; each shown, confirmed, done at once.

Buttons carry only internal ids, times and scopes, never personal data. A confirmation deletes only
what existed when it was shown: its button carries the newest message id (and conversation id) and
the time it was shown, so messages written after it stay. A stale or repeated button finds nothing
left to delete and says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.deps import Deps
from handlers.events import Button, Reply
from handlers.payments import stop_renewal
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
            newest = await repo.newest_message_id(account.id, conversation.id)
            shown = f"{newest:x}.{shown_mark(self.deps.clock.now())}"
            data = f"delok:c{conversation.id}.{stamp(conversation.started_at)}.{shown}"
            await channel.send(self._confirm(text, data))
        elif value == "all":
            held = await repo.inventory(account.id)
            text = t("delete.confirm.history", conversations=held.conversations, n=held.messages)
            newest = await repo.newest_message_id(account.id)
            newest_conversation = max((c.id for c in conversations), default=0)
            shown = f"{newest:x}.{newest_conversation:x}.{shown_mark(self.deps.clock.now())}"
            data = f"delok:all.{stamp(account.created_at)}.{shown}"
            await channel.send(self._confirm(text, data))
        elif value == "acct":
            held = await repo.inventory(account.id)
            kept = self._kept(
                "delete.kept.will_stay", payments=held.payment_records, safety=held.safety_records
            )
            text = t("delete.confirm.account", n=held.messages, kept=kept)
            await channel.send(self._confirm(text, f"delok:acct.{stamp(account.created_at)}"))

    @staticmethod
    def _confirm(text: str, data: str) -> Reply:
        buttons = ((Button(t("delete.yes"), data), Button(t("btn.cancel"), "del:no")),)
        return Reply(text, buttons=buttons)

    async def _do(self, account: Account, value: str, channel: Channel) -> None:
        """Carry out a confirmation, but only the one that was shown: each button names what it
        deletes by id and creation time, so a stale one never hits a newer conversation or account,
        and carries the newest message (and conversation) id and the time it was shown, so it never
        takes what was written after it."""
        repo = self.deps.repo
        scope, _, rest = value.partition(".")
        token, *bounds = rest.split(".")
        deleted: Deleted | None = None
        kept_newer = False
        safety_kept = 0
        if scope.startswith("c"):
            shown = {c.id: c for c in await repo.conversations(account.id)}.get(
                _int(scope[1:]) or -1
            )
            if shown is None or token != stamp(shown.started_at):
                pass
            elif not bounds:  # shown before confirmations carried what they showed: ask again
                await self._ask(account, f"c{shown.id}", channel)
                return
            elif (upto := _upto(bounds, ids=1)) is not None:
                (newest,), at = upto
                deleted = await repo.delete_conversation(
                    account.id, shown.id, through_message=newest, shown_at=at
                )
                kept_newer = deleted is not None and not deleted.conversations
        elif token != stamp(account.created_at):
            pass
        elif scope == "acct":  # the whole account goes, by design: no bounds
            safety_kept = (await repo.inventory(account.id)).safety_records
            await stop_renewal(self.deps, account.id)
            deleted = await repo.delete_account(account.id)
        elif scope == "all" and (await repo.inventory(account.id)).conversations:
            if not bounds:  # as above
                await self._ask(account, "all", channel)
                return
            if (upto := _upto(bounds, ids=2)) is not None:
                (newest, newest_conversation), at = upto
                deleted = await repo.delete_history(
                    account.id,
                    through_message=newest,
                    through_conversation=newest_conversation,
                    shown_at=at,
                )
                kept_newer = bool((await repo.inventory(account.id)).conversations)
        if deleted is None or not (deleted.account or deleted.conversations or deleted.messages):
            await channel.send(Reply(t("delete.nothing"), edit=True))
            return
        report = self._report(deleted, kept_newer=kept_newer, safety_kept=safety_kept)
        await channel.send(Reply(report, edit=True))

    def _kept(self, head: str, *, payments: int, safety: int) -> str:
        """Exactly what stays after an account is deleted, why, and for how long (from config)."""
        cfg = self.deps.config
        lines = [t(head)]
        if payments:
            lines.append(
                t("delete.kept.payments", payments=payments, years=cfg.payment_records_years)
            )
        if safety:
            lines.append(t("delete.kept.safety", safety=safety, days=cfg.safety_records_days))
        lines.append(t("delete.kept.consent_proof", days=cfg.consent_proof_days))
        lines.append(t("delete.kept.tombstone", days=cfg.closed_account_grace_days))
        lines.append(t("delete.kept.log", days=cfg.processing_log_days))
        return "\n".join(lines)

    def _report(self, deleted: Deleted, *, kept_newer: bool = False, safety_kept: int = 0) -> str:
        if deleted.account:
            head = t("delete.done_account", conversations=deleted.conversations, n=deleted.messages)
        else:
            head = t("delete.done", conversations=deleted.conversations, n=deleted.messages)
        kept = (
            self._kept(
                "delete.kept.stays", payments=deleted.payment_records_kept, safety=safety_kept
            )
            if deleted.account
            else ""
        )
        newer = t("delete.kept_newer") if kept_newer else ""
        tail = [t("delete.telegram_note")] + ([t("delete.goodbye")] if deleted.account else [])
        return "\n\n".join(part for part in (head, newer, kept, *tail) if part)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A creation time in a button, to tell this conversation or account from a later one."""
    return format(int(moment.timestamp() * 1_000_000), "x")


def shown_mark(moment: datetime) -> str:
    """When a confirmation was shown, in its button: exact microseconds since the epoch, hex."""
    return format((moment - EPOCH) // timedelta(microseconds=1), "x")


def shown_time(text: str) -> datetime | None:
    """The time `shown_mark` wrote, exactly; None for anything else."""
    micros = _hex(text)
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def _upto(bounds: list[str], *, ids: int) -> tuple[list[int], datetime] | None:
    """A confirmation's bounds: `ids` ids (hex), then the time it was shown; None if malformed."""
    numbers = [_hex(b) for b in bounds[:ids]]
    at = shown_time(bounds[-1])
    if len(bounds) != ids + 1 or at is None:
        return None
    checked = [n for n in numbers if n is not None]
    return (checked, at) if len(checked) == ids else None


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _hex(text: str) -> int | None:
    return int(text, 16) if text and all(c in "0123456789abcdef" for c in text) else None
