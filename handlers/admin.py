"""The operator's commands in Telegram: least privilege by role, every attempt audited (P12.3).

To anyone who is not staff an admin command looks like any unknown command. Staff see aggregate
figures and flags without content; content is shown only through /review, which needs a reason
category and a reason, shows the minimum, and is recorded where the user can see it (P6.3, B3).
There is deliberately no command that lists, browses or searches conversations (P6.4).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from handlers.deps import Deps
from handlers.events import Reply, Text
from handlers.ports import Channel
from handlers.rights import fmt_time
from handlers.texts import t

log = logging.getLogger("amigo.admin")

OWNER, REVIEWER, SUPPORT = "owner", "reviewer", "support"
ALL = (OWNER, REVIEWER, SUPPORT)
REASONS = ("abuse", "safety", "support", "legal", "quality")
REVIEW_SHOWN = 2  # messages on each side of the flagged one
SNIPPET = 600


@dataclass(frozen=True)
class AdminCommand:
    roles: tuple[str, ...]
    usage: str


ADMIN_COMMANDS: dict[str, AdminCommand] = {
    "admin": AdminCommand(ALL, "/admin"),
    "stats": AdminCommand(ALL, "/stats"),
    "flags": AdminCommand((OWNER, REVIEWER), "/flags"),
    "review": AdminCommand(
        (OWNER, REVIEWER), "/review <f12 | u34> <abuse|safety|support|legal|quality> <reason>"
    ),
    "ban": AdminCommand((OWNER, REVIEWER), "/ban <u34> <reason>"),
    "unban": AdminCommand((OWNER, REVIEWER), "/unban <u34>"),
    "minor": AdminCommand((OWNER, REVIEWER), "/minor <u34>"),
    "hold": AdminCommand((OWNER,), "/hold <u34> <reason>"),
    "holds": AdminCommand((OWNER,), "/holds"),
    "release": AdminCommand((OWNER,), "/release <u34>"),
    "retention": AdminCommand((OWNER,), "/retention [run]"),
    "audit": AdminCommand((OWNER,), "/audit [n] | /audit verify"),
}


class BadArguments(Exception):
    """A one-line explanation of what the command expects."""


def parse_ref(text: str, kind: str) -> int:
    """'u34' / 'f12' (or a bare number) to the id; anything else is a clear error."""
    value = text.strip().lower().lstrip("#")
    if value.startswith(kind):
        value = value[len(kind) :]
    if not value.isdigit():
        raise BadArguments(t("admin.bad_ref", value=text or "nothing", kind=kind))
    return int(value)


class Admin:
    def __init__(
        self,
        deps: Deps,
        staff: Mapping[int, str],
        *,
        ban_needs_review_days: int = 30,
        run_retention: Callable[[], Awaitable[Mapping[str, int]]] | None = None,
    ) -> None:
        self.deps = deps
        self.staff = staff
        self.ban_window = timedelta(days=ban_needs_review_days)
        self.run_retention = run_retention
        # A way to reach a user's own chat (for bans and notices); set by the transport.
        self.channels: Callable[[int], Channel] | None = None

    def actor(self, tg_id: int) -> str:
        role = self.staff.get(tg_id)
        return (
            f"{role}:{tg_id}"
            if role
            else "non-staff:" + self.deps.sign(f"actor:{tg_id}").hex()[:12]
        )

    async def handle(self, event: Text, name: str, args: str, channel: Channel) -> bool:
        """True when `name` is an admin command (handled, or refused like an unknown one)."""
        command = ADMIN_COMMANDS.get(name)
        if command is None:
            return False
        tg_id = event.sender.user_id
        role, actor = self.staff.get(tg_id), self.actor(tg_id)
        if role is None:
            await self.deps.repo.audit(actor, f"refused /{name}", "not staff")
            return False  # the caller answers as for any unknown command
        if role not in command.roles:
            await self.deps.repo.audit(actor, f"refused /{name}", f"role {role}")
            await channel.send(Reply(t("admin.role_refused", role=role, command=name)))
            return True
        try:
            detail = await getattr(self, f"_{name}")(role, args, channel)
        except BadArguments as exc:
            await self.deps.repo.audit(actor, f"/{name}", f"bad arguments: {exc}")
            await channel.send(Reply(f"{exc}\n{t('admin.usage', usage=command.usage)}"))
            return True
        await self.deps.repo.audit(actor, f"/{name}", detail or "")
        return True

    # -- commands: each returns the audit detail (ids and categories, never content) -----------

    async def _admin(self, role: str, args: str, channel: Channel) -> str:
        lines = [c.usage for c in ADMIN_COMMANDS.values() if role in c.roles]
        await channel.send(Reply(t("admin.menu", role=role, commands="\n".join(lines))))
        return ""

    async def _stats(self, role: str, args: str, channel: Channel) -> str:
        s = await self.deps.repo.stats(self.deps.clock.now())
        runs = await self.deps.repo.last_runs()
        retention = next((r for r in runs if r.job == "retention" and not r.dry_run), None)
        text = t(
            "admin.stats",
            users=", ".join(f"{k} {v}" for k, v in sorted(s.users.items())) or "none",
            today=s.active_today,
            week=s.active_week,
            per_day=", ".join(f"{d[5:]}: {n}" for d, n in s.messages_per_day) or "none",
            training=f"{s.consent_rates.get('model_improvement', 0):.0%}",
            marketing=f"{s.consent_rates.get('marketing', 0):.0%}",
            flags=s.open_flags,
            grievances=s.open_grievances,
            retention=fmt_time(retention.started_at) if retention else t("admin.never"),
        )
        await channel.send(Reply(text))
        return ""

    async def _flags(self, role: str, args: str, channel: Channel) -> str:
        now = self.deps.clock.now()
        flags = await self.deps.repo.open_flags()
        lines = [
            t(
                "admin.flag_line",
                id=f.id,
                user=f.user_id if f.user_id is not None else "-",
                category=f.category,
                severity=f.severity,
                age=_age(now - f.created_at),
            )
            for f in flags
        ]
        await channel.send(Reply("\n".join(lines) if lines else t("admin.no_flags")))
        return f"shown={len(flags)}"

    async def _review(self, role: str, args: str, channel: Channel) -> str:
        target, category, reason = [*args.split(maxsplit=2), "", "", ""][:3]
        if category not in REASONS or not reason.strip():
            raise BadArguments(t("admin.review_reason", reasons=", ".join(REASONS)))
        repo = self.deps.repo
        flag_id, message_id = None, None
        if target.lower().startswith("f"):
            flag = await repo.flag_by_id(parse_ref(target, "f"))
            if flag is None or flag.user_id is None:
                raise BadArguments(t("admin.no_such", what=target))
            flag_id, user_id, message_id = flag.id, flag.user_id, flag.message_id
        else:
            user_id = parse_ref(target, "u")
            if await repo.account_status(user_id) is None:
                raise BadArguments(t("admin.no_such", what=target))
        shown = await repo.messages_around(user_id, message_id, REVIEW_SHOWN)
        await repo.record_staff_access(user_id, role, category)
        if flag_id is not None:
            await repo.mark_reviewed(flag_id)
        lines = [
            ("▶ " if m.id == message_id else "  ") + f"[{m.role}] {m.text[:SNIPPET]}" for m in shown
        ]
        header = t("admin.review_header", user=user_id, category=category, n=len(shown))
        await channel.send(Reply(header + "\n\n" + ("\n".join(lines) or t("admin.nothing_shown"))))
        log.info("admin.review", extra={"uid": user_id, "shown": len(shown)})
        return f"user={user_id} flag={flag_id} reason_category={category} reason={reason.strip()}"

    async def _ban(self, role: str, args: str, channel: Channel) -> str:
        target, _, reason = args.partition(" ")
        user_id = parse_ref(target, "u")
        if not reason.strip():
            raise BadArguments(t("admin.need_reason"))
        if await self.deps.repo.account_status(user_id) is None:
            raise BadArguments(t("admin.no_such", what=target))
        reviewed = await self.deps.repo.last_review(user_id)
        if reviewed is None or self.deps.clock.now() - reviewed > self.ban_window:
            raise BadArguments(t("admin.review_first", user=user_id))
        await self.deps.repo.set_banned(user_id, True)
        await self._tell(
            user_id, t("admin.banned_notice", contact=self.deps.config.privacy_contact)
        )
        await channel.send(Reply(t("admin.done", what=f"u{user_id} banned")))
        return f"user={user_id} reason={reason.strip()}"

    async def _unban(self, role: str, args: str, channel: Channel) -> str:
        user_id = parse_ref(args, "u")
        if await self.deps.repo.account_status(user_id) is None:
            raise BadArguments(t("admin.no_such", what=args))
        await self.deps.repo.set_banned(user_id, False)
        await self._tell(user_id, t("admin.unbanned_notice"))
        await channel.send(Reply(t("admin.done", what=f"u{user_id} unbanned")))
        return f"user={user_id}"

    async def _minor(self, role: str, args: str, channel: Channel) -> str:
        user_id = parse_ref(args, "u")
        if await self.deps.repo.account_status(user_id) is None:
            raise BadArguments(t("admin.no_such", what=args))
        await self._tell(user_id, t("admin.minor_notice"))
        await self.deps.repo.mark_minor_account(user_id)
        deleted = await self.deps.repo.delete_account(user_id)
        await channel.send(Reply(t("admin.done", what=f"u{user_id} erased and blocked")))
        return f"user={user_id} messages={deleted.messages}"

    async def _hold(self, role: str, args: str, channel: Channel) -> str:
        target, _, reason = args.partition(" ")
        user_id = parse_ref(target, "u")
        if not reason.strip():
            raise BadArguments(t("admin.need_reason"))
        try:
            hold_id = await self.deps.repo.place_hold(user_id, reason.strip())
        except LookupError:
            raise BadArguments(t("admin.no_such", what=target)) from None
        await channel.send(Reply(t("admin.done", what=f"hold {hold_id} on u{user_id}")))
        return f"user={user_id} hold={hold_id} reason={reason.strip()}"

    async def _holds(self, role: str, args: str, channel: Channel) -> str:
        holds = await self.deps.repo.holds()
        lines = [f"u{h.user_id}: {h.reason} (since {fmt_time(h.placed_at)})" for h in holds]
        await channel.send(Reply("\n".join(lines) or t("admin.no_holds")))
        return f"shown={len(holds)}"

    async def _release(self, role: str, args: str, channel: Channel) -> str:
        user_id = parse_ref(args, "u")
        lifted = await self.deps.repo.release_hold(user_id)
        await channel.send(Reply(t("admin.done", what=f"{lifted} hold(s) on u{user_id} lifted")))
        return f"user={user_id} lifted={lifted}"

    async def _retention(self, role: str, args: str, channel: Channel) -> str:
        if args.strip() == "run":
            if self.run_retention is None:
                raise BadArguments(t("admin.no_scheduler"))
            removed = await self.run_retention()
            text = ", ".join(f"{k} {v}" for k, v in removed.items())
            await channel.send(Reply(t("admin.retention_ran", removed=text)))
            return f"run {text}"
        if args.strip():
            raise BadArguments(t("admin.bad_args"))
        runs = await self.deps.repo.last_runs()
        lines = [
            f"{r.job}: {fmt_time(r.started_at)}{' (dry run)' if r.dry_run else ''}"
            f" {', '.join(f'{k} {v}' for k, v in r.removed.items())}"
            for r in runs
        ]
        await channel.send(Reply("\n".join(lines) or t("admin.never")))
        return ""

    async def _audit(self, role: str, args: str, channel: Channel) -> str:
        if args.strip() == "verify":
            checked, broken = await self.deps.repo.verify_audit()
            if broken is None:
                await channel.send(Reply(t("admin.audit_ok", n=checked)))
            else:
                await channel.send(Reply(t("admin.audit_broken", id=broken, n=checked)))
            return f"verify checked={checked} broken={broken}"
        n = int(args) if args.strip().isdigit() else 20 if not args.strip() else -1
        if not 0 < n <= 200:
            raise BadArguments(t("admin.bad_args"))
        entries = await self.deps.repo.audit_tail(n)
        lines = [f"#{e.id} {fmt_time(e.at)} {e.actor} {e.action} {e.detail}" for e in entries]
        await channel.send(Reply("\n".join(lines) or t("admin.never")))
        return f"shown={len(entries)}"

    async def _tell(self, user_id: int, text: str) -> None:
        """Tell a user something in their own chat (their chat id is sealed at rest)."""
        chat = await self.deps.repo.chat_of(user_id)
        if chat is not None and self.channels is not None:
            await self.channels(chat).send(Reply(text))


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 else f"{hours}h"
