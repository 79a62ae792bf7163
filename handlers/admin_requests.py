"""Requests that do not come from the chat: by e-mail, by a parent about a minor, by a nominee on
death or incapacity (policy sections 3, 9, 13). The team acts on them with these commands:

- /find <telegram id> <reason>: the account ref (u34) and its status, nothing else. Telegram ids
  are stored only as keyed hashes, so the id the request names is hashed and looked up.
- /exportfor <u34> <chat|email> <reason>: the export, to the account's own chat, or to the owner
  when the request came by verified e-mail (the owner passes it on).
- /erasefor <u34> <reason>: the account deletion a user can do with /delete, done for them.
- /nominee <u34> show <reason> | <export|erase> <death|incapacity> <reason>: for the registered
  nominee only; show lets the owner check the requester is that person.
- /unminor <telegram id> <reason>: lift an under-18 marker after a review.

Each needs a reason; the table in handlers/admin.py checks the role and writes the audit entry this
returns (ids, choices and the reason, never a Telegram id, a name or a contact). The person is told
in their own chat where it still exists: before an erasure, with the file, or after a lookup. The
export and the deletion are the ones /export and /delete use (handlers/rights.py, the repository).
"""

from __future__ import annotations

import logging

from handlers.deps import Deps
from handlers.events import Reply
from handlers.export import VERSION
from handlers.payments import stop_renewal
from handlers.ports import Channel
from handlers.rights import fmt_time, send_export
from handlers.staff import OWNER, BadArguments, Desk, Say, parse_ref
from handlers.texts import speaking, t
from storage.models import Account, Status

log = logging.getLogger("amigo.admin.requests")

BASES = ("death", "incapacity")


def parse_tg_id(text: str) -> int:
    """A Telegram user id (a positive number); anything else is a clear error."""
    value = text.strip()
    if not value.isdigit() or int(value) == 0:
        raise BadArguments(t("requests.bad_tg_id", value=text or "nothing"))
    return int(value)


def need_reason(reason: str) -> str:
    if not reason.strip():
        raise BadArguments(t("admin.need_reason"))
    return " ".join(reason.split())


async def open_account(deps: Deps, ref: str) -> Account:
    """The account `ref` (u34) names, if it exists and is not erased; else a one-line error."""
    account = await deps.repo.account_by_id(parse_ref(ref, "u"))
    if account is None:
        raise BadArguments(t("admin.no_such", what=ref or "nothing"))
    if account.status is Status.CLOSED:
        raise BadArguments(t("requests.closed", user=account.id))
    return account


async def find(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/find: which account a Telegram id has, and its status; the person is told."""
    deps = desk.deps
    ref, _, rest = args.strip().partition(" ")
    tg_id = parse_tg_id(ref)
    reason = need_reason(rest)
    account = await deps.repo.find_account(tg_id)
    if account is None:
        marked = await deps.repo.is_minor_marked(tg_id)
        await channel.send(Reply(t("requests.not_found_minor" if marked else "requests.not_found")))
        return f"user=none minor_marker={marked} reason={reason}"
    contact = deps.config.privacy_contact
    told = await desk.tell(
        account.id, lambda: t("requests.find_notice", reason=reason, contact=contact)
    )
    await channel.send(Reply(t("requests.found", user=account.id, status=account.status)))
    log.info("requests.find", extra={"uid": account.id})
    return f"user={account.id} status={account.status} told={told} reason={reason}"


async def export_for(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/exportfor: chat = the account's own chat; email = to the owner, for a request that came
    by verified e-mail (the owner passes it on). Recorded as a staff access when the team gets it."""
    deps = desk.deps
    ref, to, rest = [*args.split(maxsplit=2), "", "", ""][:3]
    account = await open_account(deps, ref)
    if to not in ("chat", "email"):
        raise BadArguments(t("requests.export_to"))
    reason = need_reason(rest)
    contact = deps.config.privacy_contact
    if to == "email":
        if role != OWNER:
            raise BadArguments(t("requests.owner_only_email"))
        await deps.repo.record_staff_access(account.id, role, "support")
        told = await desk.tell(
            account.id, lambda: t("requests.export_email_notice", reason=reason, contact=contact)
        )
        head = t("requests.export_here", user=account.id, basis="by verified e-mail")
        delivered = await send_export(deps, account, channel, head)
        where = "owner"
    else:
        chat = await deps.repo.chat_of(account.id)
        if chat is None or deps.channels is None:
            raise BadArguments(t("requests.unreachable", user=account.id))
        with speaking(account.language):
            caption = t("requests.export_caption", version=VERSION, reason=reason, contact=contact)
        delivered = told = await send_export(deps, account, deps.channels(chat), caption)
        where = "chat"
    if delivered:  # the processing log (Rule 6); the person's own allowance is untouched
        await deps.repo.record_event("export.sent", account_id=account.id, counts={"by_staff": 1})
    key = "requests.exported" if delivered else "requests.export_failed"
    await channel.send(Reply(t(key, user=account.id, where=f"the {where}")))
    log.info("requests.export", extra={"uid": account.id, "delivered": delivered})
    basis = "verified-email" if to == "email" else "on-behalf"
    return (
        f"user={account.id} to={where} basis={basis} delivered={delivered} told={told}"
        f" reason={reason}"
    )


async def erase_for(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/erasefor: the whole-account deletion of /delete, for the person; told first, while their
    chat is still known."""
    ref, _, rest = args.strip().partition(" ")
    account = await open_account(desk.deps, ref)
    reason = need_reason(rest)
    contact = desk.deps.config.privacy_contact
    return await _erase(
        desk,
        account,
        lambda: t("requests.erase_notice", reason=reason, contact=contact),
        channel,
        f"reason={reason}",
    )


async def nominee(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/nominee: act for the registered nominee; refused when none is registered."""
    deps = desk.deps
    ref, action, rest = [*args.split(maxsplit=2), "", "", ""][:3]
    account = await open_account(deps, ref)
    if action == "show":
        basis, reason = "", need_reason(rest)
    elif action in ("export", "erase"):
        basis, _, reason = rest.strip().partition(" ")
        if basis not in BASES:
            raise BadArguments(t("requests.nominee_args"))
        reason = need_reason(reason)
    else:
        raise BadArguments(t("requests.nominee_args"))
    held = await deps.repo.nominee(account.id)
    if held is None:
        raise BadArguments(t("requests.no_nominee", user=account.id))
    contact = deps.config.privacy_contact

    def notice() -> str:
        return t(
            "requests.nominee_notice",
            grounds=t("requests.nominee_grounds", basis=basis) if basis else "",
            action=t(f"requests.nominee_action.{action}"),
            reason=reason,
            contact=contact,
        )

    if action == "erase":
        audit = f"action=erase basis={basis} reason={reason}"
        return await _erase(desk, account, notice, channel, audit)
    await deps.repo.record_staff_access(account.id, role, "legal")  # seen: shown in /mydata
    told = await desk.tell(account.id, notice)
    if action == "show":
        text = t(
            "requests.nominee_shown",
            user=account.id,
            name=held.name,
            contact=held.contact,
            since=fmt_time(held.updated_at),
        )
        await channel.send(Reply(text))
        return f"user={account.id} action=show told={told} reason={reason}"
    head = t("requests.export_here", user=account.id, basis=f"by the nominee ({basis})")
    delivered = await send_export(deps, account, channel, head)
    if delivered:
        await deps.repo.record_event("export.sent", account_id=account.id, counts={"by_staff": 1})
    else:
        await channel.send(Reply(t("requests.export_failed", user=account.id)))
    log.info("requests.nominee_export", extra={"uid": account.id, "delivered": delivered})
    return (
        f"user={account.id} action=export basis={basis} to=owner delivered={delivered}"
        f" told={told} reason={reason}"
    )


async def unminor(desk: Desk, role: str, args: str, channel: Channel) -> str:
    """/unminor: lift the under-18 marker of a Telegram account after a review. The person has no
    account (the marker kept nothing else); a private chat's id is the user's id, so they are told
    there."""
    deps = desk.deps
    ref, _, rest = args.strip().partition(" ")
    tg_id = parse_tg_id(ref)
    reason = need_reason(rest)
    if not await deps.repo.lift_minor_marker(tg_id):
        await channel.send(Reply(t("requests.no_marker")))
        return f"lifted=False reason={reason}"
    told = False
    if deps.channels is not None:
        told = await deps.channels(tg_id).send(Reply(t("requests.unminor_notice")))
    await channel.send(Reply(t("requests.unminored")))
    log.info("requests.unminor", extra={"told": told})
    return f"lifted=True told={told} reason={reason}"


async def _erase(desk: Desk, account: Account, notice: Say, channel: Channel, audit: str) -> str:
    """Tell the person (while their chat is still known), then the account deletion /delete uses."""
    told = await desk.tell(account.id, notice)
    await stop_renewal(desk.deps, account.id)
    deleted = await desk.deps.repo.delete_account(account.id)
    text = t(
        "requests.erased",
        user=account.id,
        conversations=deleted.conversations,
        n=deleted.messages,
        payments=deleted.payment_records_kept,
    )
    await channel.send(Reply(text))
    log.info("requests.erase", extra={"uid": account.id, "messages": deleted.messages})
    return (
        f"user={account.id} conversations={deleted.conversations} messages={deleted.messages}"
        f" told={told} {audit}"
    )
