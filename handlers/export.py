"""/export's file: everything held about one user, decrypted, as versioned JSON (docs/export-format.md).

The file is written to a temporary file message by message, so building it takes memory bounded by a
constant, not by the length of the history.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from handlers.deps import HandlerConfig
from handlers.texts import t
from storage.base import Repository
from storage.models import Account

FORMAT = "amigo-export"
# 2: profile.time_zone, account.memory_enabled, derived; 3: account and consent language
VERSION = 3


def recipients(config: HandlerConfig, *, moderated: bool) -> list[dict[str, str]]:
    """Every party outside Amigo that receives a person's data, and why: the model provider,
    Telegram (it carries every message), and the moderation endpoint when one reads messages
    (`Deps.moderator`). /privacy, /mydata and /export all show this list."""
    provider = config.provider_name
    found = [
        {"name": provider, "purpose": t("recipient.model.purpose")},
        {"name": t("recipient.telegram.name"), "purpose": t("recipient.telegram.purpose")},
    ]
    if moderated:
        name = t("recipient.moderation.name", name=provider)
        found.append({"name": name, "purpose": t("recipient.moderation.purpose")})
    return found


def recipient_lines(config: HandlerConfig, *, moderated: bool) -> str:
    """The same list as lines of a screen."""
    lines = [t("recipient.model", name=config.provider_name), t("recipient.telegram")]
    if moderated:
        lines.append(t("recipient.moderation", name=config.provider_name))
    return "\n".join(lines)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _plain(value: Any) -> Any:
    """Dataclass rows as JSON-ready dicts, datetimes as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def write_export(
    repo: Repository,
    account: Account,
    config: HandlerConfig,
    now: datetime,
    *,
    policy_version: str,
    moderated: bool = False,
) -> Path:
    """Write the export to an owner-only temporary file and return its path; the caller removes it.
    `moderated`: a moderation endpoint reads messages (`Deps.moderator`), so it is a recipient."""
    fd, name = tempfile.mkstemp(prefix="amigo-export-", suffix=".json")
    os.fchmod(fd, 0o600)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            await _write(out, repo, account, config, now, policy_version, moderated)
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - a local temporary file
        raise
    return path


async def _write(
    out: IO[str],
    repo: Repository,
    account: Account,
    config: HandlerConfig,
    now: datetime,
    policy_version: str,
    moderated: bool,
) -> None:
    uid = account.id
    companion = await repo.companion(uid)
    nominee = await repo.nominee(uid)
    head: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.isoformat(),
        "policy_version": policy_version,
        "account": {
            "created_at": _when(account.created_at),
            "status": str(account.status),
            "age_confirmed": True,
            "policy_version_accepted": account.policy_version,
            "autodelete_days": account.autodelete_days,
            "memory_enabled": await repo.memory_enabled(uid),
            "language": account.language,
            "plus_renewal_cancelled": account.plus_canceled,
        },
        "profile": asdict(await repo.profile(uid)),
        "companion": asdict(companion) if companion else None,
        "consents": [
            {**_plain(asdict(c)), "purpose": str(c.purpose)} for c in await repo.consents(uid)
        ],
        "nominee": _plain(asdict(nominee)) if nominee else None,
        "grievances": [
            {**_plain(asdict(g)), "ticket": g.ticket} for g in await repo.grievances(uid)
        ],
        "safety_records": [_plain(asdict(r)) for r in await repo.safety_records(uid)],
        "payment_records": [_plain(asdict(r)) for r in await repo.payment_records(uid)],
        "staff_accesses": [_plain(asdict(a)) for a in await repo.staff_accesses(uid)],
        "recipients": recipients(config, moderated=moderated),
        "derived": await _derived(repo, uid),
    }
    out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2])  # reopen the object
    out.write(',\n "conversations": [')
    conversations = sorted(await repo.conversations(uid), key=lambda c: c.id)
    for index, conversation in enumerate(conversations):
        started = json.dumps(_when(conversation.started_at))
        out.write(",\n" if index else "\n")
        out.write(f'  {{"id": {conversation.id}, "started_at": {started}, "messages": [')
        first = True
        async for message in repo.iter_messages(uid, conversation.id):
            row = {"role": message.role, "text": message.text, "at": message.created_at.isoformat()}
            out.write(("\n   " if first else ",\n   ") + json.dumps(row, ensure_ascii=False))
            first = False
        out.write("]}")
    out.write("\n ]\n}\n")


async def _derived(repo: Repository, uid: int) -> dict[str, Any]:
    """What the companion derived from the conversations: memories (with their source) and
    conversation summaries, oldest first."""
    _, held = await repo.memory_counts(uid)
    summaries = reversed(await repo.summaries(uid, held)) if held else []
    return {
        "memories": [
            {
                "id": m.id,
                "text": m.text,
                "conversation_id": m.conversation_id,
                "manual": m.manual,
                "created_at": _when(m.created_at),
                "updated_at": _when(m.updated_at),
                "last_used_at": _when(m.last_used_at),
                "uses": m.uses,
            }
            for m in await repo.memories(uid)
        ],
        "summaries": [
            {
                "conversation_id": s.conversation_id,
                "text": s.text,
                "created_at": _when(s.created_at),
            }
            for s in summaries
        ],
    }


# Telegram refuses documents over 50 MB; larger exports go out gzip-compressed (JSON shrinks ~5x).
PLAIN_LIMIT_BYTES = 45 * 1024 * 1024


def compress_if_large(path: Path) -> Path:
    """The file to send: `path` itself, or a gzip copy of it (owner-only) when it is too large.
    The caller removes both."""
    if path.stat().st_size <= PLAIN_LIMIT_BYTES:
        return path
    packed = path.with_name(path.name + ".gz")
    fd = os.open(packed, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with (
        open(path, "rb") as source,
        os.fdopen(fd, "wb") as raw,
        gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw) as target,
    ):
        shutil.copyfileobj(source, target, 1024 * 1024)
    return packed
