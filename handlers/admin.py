"""The operator's commands in Telegram: least privilege by role, every attempt audited (P12.3).

To anyone who is not staff an admin command looks like any unknown command. Staff see aggregate
figures and flags without content; conversation content is shown only through /review, which needs
a reason category and a reason, shows the minimum, and is recorded where the user can see it (P6.3,
B3). There is deliberately no command that lists, browses or searches conversations (P6.4).

Every command is one entry of ADMIN_TABLE below: its name, the roles allowed, its usage line and its
handler. The grievance commands live in handlers/admin_grievances.py; broadcasts (/broadcast,
/breach) are sent by handlers/broadcasts.py; the pieces they all share are in handlers/staff.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from handlers import admin_grievances as grievances
from handlers import admin_payments as payments
from handlers import admin_requests as requests
from handlers.breach import BreachDesk
from handlers.broadcasts import Broadcasts
from handlers.deps import Deps
from handlers.events import Reply, Text
from handlers.payments import stop_renewal
from handlers.ports import Channel
from handlers.rights import fmt_time
from handlers.staff import ALL, OWNER, REVIEWER, SUPPORT, BadArguments, Tell, parse_ref, tell
from handlers.texts import t

log = logging.getLogger("amigo.admin")

REASONS = ("abuse", "safety", "support", "legal", "quality")
REVIEW_SHOWN = 2  # messages on each side of the flagged one
SNIPPET = 600
POLICY_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")

Handler = Callable[["Admin", str, str, Channel], Awaitable[str]]
"""(admin, caller's role, arguments, operator's channel) -> the audit detail: ids and categories,
never content. Raises BadArguments for a one-line explanation and the usage."""


@dataclass(frozen=True)
class AdminCommand:
    name: str
    roles: tuple[str, ...]
    usage: str
    run: Handler


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
        self.tell: Tell = partial(tell, deps)
        self.broadcasts = Broadcasts(deps, staff, self.tell)

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
        tg_id = event.sender.tg_id
        role, actor = self.staff.get(tg_id), self.actor(tg_id)
        if role is None:
            await self.deps.repo.audit(actor, f"refused /{name}", "not staff")
            return False  # the caller answers as for any unknown command
        if role not in command.roles:
            await self.deps.repo.audit(actor, f"refused /{name}", f"role {role}")
            await channel.send(Reply(t("admin.role_refused", role=role, command=name)))
            return True
        try:
            detail = await command.run(self, role, args, channel)
        except BadArguments as exc:
            await self.deps.repo.audit(actor, f"/{name}", f"bad arguments: {exc}")
            await channel.send(Reply(f"{exc}\n{t('admin.usage', usage=command.usage)}"))
            return True
        await self.deps.repo.audit(actor, f"/{name}", detail or "")
        return True

    async def resume_broadcasts(self) -> None:
        await self.broadcasts.resume()

    async def stop_broadcasts(self) -> None:
        await self.broadcasts.stop()

    # -- commands: each returns the audit detail (ids and categories, never content) -----------

    async def _admin(self, role: str, args: str, channel: Channel) -> str:
        lines = [c.usage for c in ADMIN_TABLE if role in c.roles]
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
        plus = await self.deps.repo.plus_stats(self.deps.clock.now())
        text += "\n" + t(
            "admin.stats_plus",
            subscribers=plus.subscribers,
            renewing=plus.renewing,
            paid=plus.stars_paid,
            refunded=plus.stars_refunded,
            payments=plus.payments,
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
            user_id = await self._known_user(target)
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
        user_id = await self._known_user(target)
        if not reason.strip():
            raise BadArguments(t("admin.need_reason"))
        reviewed = await self.deps.repo.last_review(user_id)
        if reviewed is None or self.deps.clock.now() - reviewed > self.ban_window:
            raise BadArguments(t("admin.review_first", user=user_id))
        await self.deps.repo.set_banned(user_id, True)
        contact = self.deps.config.privacy_contact
        await self.tell(user_id, lambda: t("admin.banned_notice", contact=contact))
        await channel.send(Reply(t("admin.done", what=f"u{user_id} banned")))
        return f"user={user_id} reason={reason.strip()}"

    async def _unban(self, role: str, args: str, channel: Channel) -> str:
        user_id = await self._known_user(args)
        await self.deps.repo.set_banned(user_id, False)
        await self.tell(user_id, lambda: t("admin.unbanned_notice"))
        await channel.send(Reply(t("admin.done", what=f"u{user_id} unbanned")))
        return f"user={user_id}"

    async def _minor(self, role: str, args: str, channel: Channel) -> str:
        user_id = await self._known_user(args)
        await self.tell(user_id, lambda: t("admin.minor_notice"))
        await self.deps.repo.mark_minor_account(user_id)
        await stop_renewal(self.deps, user_id)
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

    # -- broadcasts (P9.6) and breach notices (P12.4) ---------------------------------------------

    async def _broadcast(self, role: str, args: str, channel: Channel) -> str:
        kind, _, text = args.strip().partition(" ")
        if kind not in ("service", "marketing"):
            raise BadArguments(t("admin.broadcast_kind"))
        return await self.broadcasts.start(
            "service" if kind == "service" else "marketing", text, channel
        )

    async def _breach(self, role: str, args: str, channel: Channel) -> str:
        """The notice, the Board intimation record and the report: handlers/breach.py."""
        return await BreachDesk(self.deps, self.broadcasts).run(args, channel)

    # -- policy versions (P17.1) ------------------------------------------------------------------

    async def _policy(self, role: str, args: str, channel: Channel) -> str:
        action, version, weight, summary = [*args.split(maxsplit=3), "", "", "", ""][:4]
        summary = summary.strip()
        if (
            action != "publish"
            or not POLICY_VERSION.fullmatch(version)
            or weight not in ("material", "minor")
            or not summary
        ):
            raise BadArguments(t("admin.policy_args"))
        policy, now = self.deps.policy, self.deps.clock.now()
        date, material = f"{now:%B} {now.day}, {now.year}", weight == "material"
        known = {(await policy.current()).version, self.deps.config.policy_version}
        if version in known or not await self.deps.repo.publish_policy(
            version, date, material, summary
        ):
            await channel.send(Reply(t("admin.policy_exists", version=version)))
            return f"version={version} unchanged"
        policy.refresh()
        how = t("admin.policy_must_accept") if material else ""
        await channel.send(
            Reply(t("admin.policy_published", version=version, kind=weight, date=date, how=how))
        )
        return f"version={version} material={material} summary_chars={len(summary)}"

    async def _known_user(self, ref: str) -> int:
        """The user id in `ref` (u34), if that account exists; otherwise a one-line error."""
        user_id = parse_ref(ref, "u")
        if await self.deps.repo.account_status(user_id) is None:
            raise BadArguments(t("admin.no_such", what=ref))
        return user_id


ADMIN_TABLE: tuple[AdminCommand, ...] = (
    AdminCommand("admin", ALL, "/admin", Admin._admin),
    AdminCommand("stats", ALL, "/stats", Admin._stats),
    AdminCommand("flags", (OWNER, REVIEWER), "/flags", Admin._flags),
    AdminCommand(
        "review",
        (OWNER, REVIEWER),
        "/review <f12 | u34> <abuse|safety|support|legal|quality> <reason>",
        Admin._review,
    ),
    AdminCommand("ban", (OWNER, REVIEWER), "/ban <u34> <reason>", Admin._ban),
    AdminCommand("unban", (OWNER, REVIEWER), "/unban <u34>", Admin._unban),
    AdminCommand("minor", (OWNER, REVIEWER), "/minor <u34>", Admin._minor),
    AdminCommand("hold", (OWNER,), "/hold <u34> <reason>", Admin._hold),
    AdminCommand("holds", (OWNER,), "/holds", Admin._holds),
    AdminCommand("release", (OWNER,), "/release <u34>", Admin._release),
    AdminCommand("retention", (OWNER,), "/retention [run]", Admin._retention),
    AdminCommand("audit", (OWNER,), "/audit [n] | /audit verify", Admin._audit),
    AdminCommand("grievances", (OWNER, SUPPORT), "/grievances", grievances.queue),
    AdminCommand("ack", (OWNER, SUPPORT), "/ack <G-000012>", grievances.ack),
    AdminCommand("reply", (OWNER, SUPPORT), "/reply <G-000012> <text>", grievances.reply),
    AdminCommand("resolve", (OWNER, SUPPORT), "/resolve <G-000012>", grievances.resolve),
    AdminCommand("find", (OWNER, SUPPORT), "/find <telegram id> <reason>", requests.find),
    AdminCommand(
        "exportfor",
        (OWNER, SUPPORT),
        "/exportfor <u34> <chat|email> <reason>",
        requests.export_for,
    ),
    AdminCommand("erasefor", (OWNER,), "/erasefor <u34> <reason>", requests.erase_for),
    AdminCommand(
        "nominee",
        (OWNER,),
        "/nominee <u34> show <reason> | <export|erase> <death|incapacity> <reason>",
        requests.nominee,
    ),
    AdminCommand("unminor", (OWNER,), "/unminor <telegram id> <reason>", requests.unminor),
    AdminCommand("refund", (OWNER,), "/refund <u34> <charge id> <reason>", payments.refund),
    AdminCommand("broadcast", (OWNER,), "/broadcast <service|marketing> <text>", Admin._broadcast),
    AdminCommand(
        "breach",
        (OWNER,),
        "/breach new | edit | preview | send <all | u3,u7> | intimated | report | filed | status",
        Admin._breach,
    ),
    AdminCommand(
        "policy",
        (OWNER,),
        "/policy publish <version> <material|minor> <summary>",
        Admin._policy,
    ),
)
"""Every admin command, in the order /admin lists them."""
ADMIN_COMMANDS: Mapping[str, AdminCommand] = {c.name: c for c in ADMIN_TABLE}
"""ADMIN_TABLE by name."""


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 48 else f"{hours}h"
