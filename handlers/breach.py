"""/breach: a personal data breach handled as DPDP Rules 2025, rule 7 requires (P12.4).

Two records, one command. The notice for the people affected has eight required fields (nature,
extent, timing, location, likely consequences, mitigation, what the person can do, contact); the
owner sends it as one message of labelled lines (`/breach new` answers with the form to fill),
can change fields (`/breach edit`) and see it exactly as people will (`/breach preview`), then
sends it through the paced, at-most-once broadcasts (`/breach send all | u3,u7`). Beside it, the
Board intimation record: when the breach became known, when the initial intimation was made
(`/breach intimated`, due without delay) and the detailed report due 72 hours after discovery
(`/breach report` records and renders it, with the notices sent counted from the broadcast
records; `/breach filed` when it is made). `/breach status` shows what is due when, in UTC;
jobs/breach.py reminds the owners before the deadline, with `reminder` below as its words.

Each step returns the audit detail (ids, field names and counts, never the words); Admin audits it.
Steps act on the newest breach unless `b2` follows the step.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from handlers.broadcasts import Broadcasts
from handlers.deps import Deps
from handlers.events import Reply
from handlers.ports import Channel
from handlers.rights import fmt_time
from handlers.staff import OWNER, BadArguments, parse_ref
from handlers.texts import t
from storage.models import BREACH_REPORT_DUE, Breach, BreachNotice

log = logging.getLogger("amigo.breach")

NOTICE_FIELDS = (
    "nature",
    "extent",
    "timing",
    "location",
    "consequences",
    "mitigation",
    "advice",
    "contact",
)
"""What rule 7(1) says a person is told, in the order the notice shows them."""
REPORT_FIELDS = ("facts", "circumstances", "reasons", "measures", "responsible", "remediation")
"""The detailed report of rule 7(2)(b), less the notices sent, which the broadcast records give."""
DISCOVERED = "discovered"
LABEL = re.compile(r"\s*([A-Za-z]+)\s*:\s?(.*)")
BREACH_REF = re.compile(r"b\d+", re.IGNORECASE)
TARGETS = re.compile(r"u\d+(,u\d+)*", re.IGNORECASE)


def parse_fields(text: str, names: Sequence[str]) -> dict[str, str]:
    """`name: text` lines into {name: text}; a line without a known label continues the field
    above it. Strict: text before the first label, or a label given twice, is an error. Empty
    fields are left out, so the caller can name what is missing."""
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = LABEL.fullmatch(line)
        name = match.group(1).lower() if match else ""
        if match and name in names:
            if name in fields:
                raise BadArguments(t("breach.twice", field=name))
            fields[name], current = [match.group(2).strip()], name
        elif current is not None:
            fields[current].append(line.strip())
        elif line.strip():
            raise BadArguments(t("breach.unlabelled", fields=", ".join(names)))
    joined = {name: "\n".join(lines).strip() for name, lines in fields.items()}
    return {name: value for name, value in joined.items() if value}


def require(fields: Mapping[str, str], names: Sequence[str]) -> None:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise BadArguments(t("breach.missing", fields=", ".join(missing)))


def parse_discovered(value: str, now: datetime) -> datetime:
    try:
        when = datetime.strptime(" ".join(value.replace("T", " ").split()), "%Y-%m-%d %H:%M")
    except ValueError:
        raise BadArguments(t("breach.bad_time")) from None
    when = when.replace(tzinfo=UTC)
    if when > now:
        raise BadArguments(t("breach.bad_time"))
    return when


def form(names: Sequence[str], key: str) -> str:
    return t(key, fields="\n".join(f"{name}: {t(f'breach.field.{name}')}" for name in names))


def render_notice(notice: Mapping[str, str]) -> str:
    """The notice as people get it (every field filled in: `require` first)."""
    return t("breach.notice", **{name: notice.get(name, "") for name in NOTICE_FIELDS})


def _left(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def render_notices(notices: Sequence[BreachNotice]) -> str:
    if not notices:
        return t("breach.notices_none")
    lines = [
        t(
            "breach.notice_line",
            broadcast=n.broadcast_id,
            at=fmt_time(n.created_at),
            whom=t("breach.notice_named", n=n.targets) if n.targets else t("breach.notice_all"),
            delivered=n.delivered,
            sending="" if n.finished_at else t("breach.notice_sending"),
        )
        for n in notices
    ]
    notified = sum(n.delivered for n in notices)
    return t("breach.notices_total", notified=notified, n=len(notices), lines="\n".join(lines))


def reminder(b: Breach, now: datetime) -> str:
    """What a reminder before the 72-hour mark says to the owners (jobs/breach.py sends it)."""
    left = b.report_due - now
    hours = max(round(left.total_seconds() / 3600), 1)
    return t(
        "breach.reminder",
        id=b.id,
        due=fmt_time(b.report_due),
        left=t("breach.reminder_left", hours=hours)
        if left > timedelta(0)
        else t("breach.reminder_overdue"),
        intimation="" if b.intimated_at else t("breach.reminder_intimation"),
    )


def _split(text: str) -> tuple[str, str]:
    """The first word (lower-cased) and the rest, whatever whitespace (a newline too) parts them."""
    parts = text.strip().split(maxsplit=1)
    return (parts[0].lower() if parts else "", parts[1] if len(parts) > 1 else "")


class BreachDesk:
    """The /breach steps; `broadcasts` sends the notice. Each returns the audit detail."""

    def __init__(self, deps: Deps, broadcasts: Broadcasts) -> None:
        self.deps = deps
        self.broadcasts = broadcasts

    async def run(self, args: str, channel: Channel) -> str:
        step, body = _split(args)
        if step in ("", "help"):
            await channel.send(Reply(t("breach.help")))
            return "help"
        if step == "new":
            return await self._new(body, channel)
        steps = {
            "edit": self._edit,
            "preview": self._preview,
            "send": self._send,
            "intimated": self._intimated,
            "report": self._report,
            "filed": self._filed,
            "status": self._status,
        }
        if step not in steps:
            raise BadArguments(t("breach.bad_step"))
        ref, rest = _split(body)
        if BREACH_REF.fullmatch(ref):
            b = await self.deps.repo.breach(parse_ref(ref, "b"))
            if b is None:
                raise BadArguments(t("breach.bad_ref", ref=ref))
        else:
            b, rest = await self.deps.repo.breach(), body
            if b is None:
                await channel.send(Reply(t("breach.none")))
                return f"{step} none"
        detail = await steps[step](b, rest, channel)
        return f"breach={b.id} {step} {detail}".strip()

    async def _new(self, body: str, channel: Channel) -> str:
        if not body.strip():
            await channel.send(Reply(form(NOTICE_FIELDS, "breach.notice_form")))
            return "form"
        now = self.deps.clock.now()
        fields = parse_fields(body, (*NOTICE_FIELDS, DISCOVERED))
        require(fields, NOTICE_FIELDS)
        discovered = parse_discovered(fields.pop(DISCOVERED), now) if DISCOVERED in fields else now
        breach_id = await self.deps.repo.create_breach(discovered, fields)
        await channel.send(
            Reply(
                t(
                    "breach.created",
                    id=breach_id,
                    discovered=fmt_time(discovered),
                    due=fmt_time(discovered + BREACH_REPORT_DUE),
                )
            )
        )
        chars = sum(len(v) for v in fields.values())
        return f"breach={breach_id} new fields={len(fields)} chars={chars}"

    async def _edit(self, b: Breach, body: str, channel: Channel) -> str:
        names = (*NOTICE_FIELDS, DISCOVERED)
        fields = parse_fields(body, names)
        if not fields:
            raise BadArguments(t("breach.nothing", fields=", ".join(names)))
        changed = ", ".join(name for name in names if name in fields)
        discovered = None
        if DISCOVERED in fields:
            discovered = parse_discovered(fields.pop(DISCOVERED), self.deps.clock.now())
        await self.deps.repo.update_breach(b.id, {**b.notice, **fields}, discovered)
        await channel.send(Reply(t("breach.edited", id=b.id, fields=changed)))
        return "fields=" + changed.replace(" ", "")

    async def _preview(self, b: Breach, body: str, channel: Channel) -> str:
        self._complete(b)
        await channel.send(Reply(t("breach.preview", id=b.id, notice=render_notice(b.notice))))
        return ""

    async def _send(self, b: Breach, body: str, channel: Channel) -> str:
        whom = body.strip()
        if whom.lower() == "all":
            targets: list[int] = []
        elif TARGETS.fullmatch(whom):
            targets = [parse_ref(ref, "u") for ref in whom.split(",")]
        else:
            raise BadArguments(t("breach.send_whom"))
        self._complete(b)
        # The fields, not the rendered text: each person gets the notice's framing in their
        # language (handlers/broadcasts.py renders it per recipient).
        fields = json.dumps({name: b.notice.get(name, "") for name in NOTICE_FIELDS})
        detail = await self.broadcasts.start("breach", fields, channel, targets, breach=b.id)
        return f"targets={len(targets) or 'all'} {detail}"

    async def _intimated(self, b: Breach, body: str, channel: Channel) -> str:
        if await self.deps.repo.record_breach_intimation(b.id):
            at = self.deps.clock.now()
            await channel.send(Reply(t("breach.intimated", id=b.id, at=fmt_time(at))))
            return "recorded"
        at = b.intimated_at or self.deps.clock.now()
        await channel.send(Reply(t("breach.already", id=b.id, at=fmt_time(at))))
        return "unchanged"

    async def _report(self, b: Breach, body: str, channel: Channel) -> str:
        if body.strip():
            fields = parse_fields(body, REPORT_FIELDS)
            require(fields, REPORT_FIELDS)
            await self.deps.repo.record_breach_report(b.id, fields)
            await channel.send(
                Reply(t("breach.report_recorded", id=b.id, due=fmt_time(b.report_due)))
            )
            return f"recorded fields={len(fields)} chars={sum(len(v) for v in fields.values())}"
        if b.report is None:
            await channel.send(Reply(form(REPORT_FIELDS, "breach.report_form")))
            return "form"
        notices = await self.deps.repo.breach_notices(b.id)
        intimation = fmt_time(b.intimated_at) if b.intimated_at else t("breach.intimation_due")
        report = {name: b.report.get(name, "") for name in REPORT_FIELDS}
        text = t(
            "breach.report",
            id=b.id,
            discovered=fmt_time(b.discovered_at),
            intimation=intimation,
            notices=render_notices(notices),
            **report,
        )
        await channel.send(Reply(text))
        return f"shown notices={len(notices)}"

    async def _filed(self, b: Breach, body: str, channel: Channel) -> str:
        if b.report is None:
            raise BadArguments(t("breach.report_first", id=b.id))
        if not await self.deps.repo.file_breach_report(b.id):
            at = b.report_filed_at or self.deps.clock.now()
            await channel.send(Reply(t("breach.already", id=b.id, at=fmt_time(at))))
            return "unchanged"
        now = self.deps.clock.now()
        late = t("breach.filed_late", due=fmt_time(b.report_due)) if now > b.report_due else ""
        await channel.send(Reply(t("breach.filed", id=b.id, at=fmt_time(now), late=late)))
        return f"late={bool(late)}"

    async def _status(self, b: Breach, body: str, channel: Channel) -> str:
        now, repo = self.deps.clock.now(), self.deps.repo
        if b.intimated_at:
            intimation = t("breach.intimation_done", at=fmt_time(b.intimated_at))
        else:
            intimation = t("breach.intimation_due")
        if b.report_recorded_at:
            recorded = t("breach.report_is_recorded", at=fmt_time(b.report_recorded_at))
        else:
            recorded = t("breach.report_not_recorded")
        due = fmt_time(b.report_due)
        if b.report_filed_at:
            report = t("breach.report_filed", at=fmt_time(b.report_filed_at))
        elif now > b.report_due:
            report = t("breach.report_overdue", due=due, recorded=recorded)
        else:
            report = t(
                "breach.report_due", due=due, left=_left(b.report_due - now), recorded=recorded
            )
        notices = await repo.breach_notices(b.id)
        text = t(
            "breach.status",
            id=b.id,
            discovered=fmt_time(b.discovered_at),
            intimation=intimation,
            report=report,
            notices=render_notices(notices),
        )
        others = [f"B{o.id}" for o in await repo.breaches_awaiting_report() if o.id != b.id]
        if others:
            text += t("breach.others", refs=", ".join(others))
        await channel.send(Reply(text))
        return f"notices={len(notices)}"

    @staticmethod
    def _complete(b: Breach) -> None:
        missing = [name for name in NOTICE_FIELDS if not b.notice.get(name)]
        if missing:
            raise BadArguments(t("breach.incomplete", id=b.id, fields=", ".join(missing)))


def owner_reminder(
    deps: Deps, staff: Mapping[int, str]
) -> Callable[[Breach, datetime], Awaitable[int]]:
    """How jobs/breach.py reminds: `reminder`'s words to each owner's private chat (bot/app.py
    wires it); returns how many owners it reached."""

    async def remind(b: Breach, now: datetime) -> int:
        if deps.channels is None:
            return 0
        text, reached = reminder(b, now), 0
        for tg_id, role in staff.items():
            if role != OWNER:
                continue
            try:
                await deps.channels(tg_id).send(Reply(text))
                reached += 1
            except Exception as exc:  # one unreachable owner never stops the others
                log.warning("breach.remind_failed", extra={"error": type(exc).__name__})
        return reached

    return remind
