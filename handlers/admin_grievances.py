"""The grievance commands (/grievances, /ack, /reply, /resolve): the team answers what users wrote
to it (P9.4). /grievances shows that text, because answering it is its purpose; each showing is
recorded as a staff access with the reason category "support".

Each handler takes the Admin it runs under (as a `Desk`), the caller's role, the arguments and the
operator's channel, and returns the audit detail: ids and counts, never content. handlers/admin.py
lists them in its command table, which checks the role and writes the audit entry.
"""

from __future__ import annotations

from handlers.deps import Deps
from handlers.events import Reply
from handlers.ports import Channel
from handlers.rights import fmt_time
from handlers.staff import BadArguments, Desk
from handlers.texts import t
from storage.models import StaffGrievance

GRIEVANCE_SHOWN = 300  # characters of each grievance in the queue
QUEUE_SHOWN = 50  # grievances in one /grievances


def parse_ticket(text: str) -> int:
    """'G-000012' / 'g12' / '12' to the grievance id; anything else is a clear error."""
    value = text.strip().upper().lstrip("#").removeprefix("G").removeprefix("-")
    if not value.isdigit():
        raise BadArguments(t("admin.bad_ticket", value=text or "nothing"))
    return int(value)


async def queue(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/grievances: the open ones, oldest first, with what is overdue."""
    if args.strip():
        raise BadArguments(t("admin.bad_args"))
    now, repo = desk.deps.clock.now(), desk.deps.repo
    grievances = await repo.grievance_queue(QUEUE_SHOWN)
    if not grievances:
        await channel.send(Reply(t("admin.no_grievances")))
        return "shown=0"
    lines, overdue = [], 0
    for g in grievances:
        late = ""
        if now > g.resolve_due:
            late = t("admin.grievance_overdue")
        elif g.status == "open" and now > g.ack_due:
            late = t("admin.grievance_ack_overdue")
        overdue += bool(late)
        text = " ".join(g.text.split())
        lines.append(
            t(
                "admin.grievance_line",
                ticket=g.ticket,
                user=g.user_id,
                status=g.status,
                late=late,
                ack=fmt_time(g.ack_due),
                resolve=fmt_time(g.resolve_due),
                text=text if len(text) <= GRIEVANCE_SHOWN else text[:GRIEVANCE_SHOWN] + "…",
            )
        )
    for user_id in sorted({g.user_id for g in grievances}):  # recorded before anything is shown
        await repo.record_staff_access(user_id, role, "support")
    header = t("admin.grievances_header", n=len(grievances), overdue=overdue)
    await channel.send(Reply(header + "\n\n" + "\n\n".join(lines)))
    tickets = ",".join(g.ticket for g in grievances)
    return f"shown={len(grievances)} overdue={overdue} reason_category=support tickets={tickets}"


async def ack(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/ack: the user learns their grievance was seen, and by when it will be resolved."""
    deps = desk.deps
    g = await ticket(deps, args)
    if not await deps.repo.acknowledge_grievance(g.id):
        await channel.send(Reply(t("admin.grievance_already", ticket=g.ticket, status=g.status)))
        return f"ticket={g.ticket} user={g.user_id} unchanged={g.status}"
    told = await desk.tell(
        g.user_id,
        lambda: t("admin.grievance_ack_notice", ticket=g.ticket, resolve=fmt_time(g.resolve_due)),
    )
    await channel.send(Reply(t("admin.done", what=f"{g.ticket} acknowledged")))
    return f"ticket={g.ticket} user={g.user_id} told={told}"


async def reply(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/reply: an answer in the user's own chat; a reply also acknowledges."""
    deps = desk.deps
    ref, _, text = args.strip().partition(" ")
    g = await ticket(deps, ref)
    if not text.strip():
        raise BadArguments(t("admin.need_text"))
    if deps.channels is None:
        raise BadArguments(t("admin.no_transport"))
    acknowledged = await deps.repo.acknowledge_grievance(g.id)
    answer = text.strip()
    told = await desk.tell(
        g.user_id, lambda: t("admin.grievance_reply_notice", ticket=g.ticket, text=answer)
    )
    what = f"reply to {g.ticket} sent" if told else f"u{g.user_id} can't be reached"
    await channel.send(Reply(t("admin.done", what=what)))
    return (
        f"ticket={g.ticket} user={g.user_id} chars={len(text.strip())} told={told}"
        f" acknowledged={acknowledged}"
    )


async def resolve(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/resolve: closed, and the user is told where to go if they are not satisfied."""
    deps = desk.deps
    g = await ticket(deps, args)
    if not await deps.repo.resolve_grievance(g.id):
        await channel.send(Reply(t("admin.grievance_already", ticket=g.ticket, status=g.status)))
        return f"ticket={g.ticket} user={g.user_id} unchanged={g.status}"
    contact = deps.config.privacy_contact
    told = await desk.tell(
        g.user_id, lambda: t("admin.grievance_resolved_notice", ticket=g.ticket, contact=contact)
    )
    await channel.send(Reply(t("admin.done", what=f"{g.ticket} resolved")))
    return f"ticket={g.ticket} user={g.user_id} told={told}"


async def ticket(deps: Deps, ref: str) -> StaffGrievance:
    """The grievance one ticket argument names; a bad or unknown one is a one-line error."""
    if len(ref.split()) > 1:
        raise BadArguments(t("admin.bad_args"))
    grievance = await deps.repo.grievance_by_id(parse_ticket(ref))
    if grievance is None:
        raise BadArguments(t("admin.no_such", what=ref))
    return grievance
