"""Shared by tests/test_retention.py and tests/test_retention_runs.py: rows of each retained
category, written straight to the database, and a retention run at the frozen clock."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import RetentionSettings
from core.clock import FrozenClock
from jobs.retention import run_retention
from storage.sqlite import SqlRepository
from tests import db
from tests.conftest import CANARY

SETTINGS = RetentionSettings(batch_size=2)


@pytest.fixture(autouse=True)
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Export-file clean-up looks in the process's temp dir: never the real one in these tests."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield temp


def scalar(repo: SqlRepository, sql: str, *params: object) -> Any:
    """The first value the query finds in the database itself (either backend)."""
    return db.scalar(repo, sql, *params)


async def insert(repo: SqlRepository, sql: str, *params: object) -> int:
    """One INSERT through the repository's writer; the new row's id."""
    async with repo.transaction() as db:
        cur = await db.execute(f"{sql} RETURNING id", params)
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


async def account(repo: SqlRepository, tg_id: int, messages: int = 0) -> int:
    acc = await repo.create_account(
        tg_id, tg_id, policy_version="v1", age_confirmed_at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    await repo.set_step(acc.id, None, activate=True)
    conversation = await repo.start_conversation(acc.id)
    for i in range(messages):
        await repo.add_message(acc.id, conversation, "user", f"{CANARY} {i}")
    return acc.id


async def closed_account(repo: SqlRepository, tg_id: int, leftovers: int = 0) -> int:
    """A tombstone left by /delete, with `leftovers` rows still pointing at it (as if a crash or an
    older version had left them): a conversation with messages, a safety and a payment record."""
    uid = await account(repo, tg_id, messages=2)
    await repo.delete_account(uid)
    if leftovers:
        now = repo._clock.now().isoformat()
        conv = await insert(
            repo, "INSERT INTO conversations (user_id, started_at) VALUES (?, ?)", uid, now
        )
        async with repo.transaction() as db:
            await db.executemany(
                "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at)"
                " VALUES (?, ?, 'user', x'00', ?)",
                [(conv, uid, now)] * leftovers,
            )
        await safety_record(repo, uid, now)
        await payment(repo, uid, now)
    return uid


async def payment(repo: SqlRepository, uid: int | None, at: str) -> int:
    return await insert(
        repo,
        "INSERT INTO payments (user_id, provider_charge_id, amount_minor, currency, status,"
        " created_at) VALUES (?, 'ch_1', 49900, 'INR', 'paid', ?)",
        uid,
        at,
    )


async def safety_record(repo: SqlRepository, uid: int | None, at: str) -> int:
    return await insert(
        repo,
        "INSERT INTO safety_records (user_id, category, severity, created_at)"
        " VALUES (?, 'abuse', 'low', ?)",
        uid,
        at,
    )


async def audit(repo: SqlRepository, at: str) -> int:
    return await insert(
        repo,
        "INSERT INTO audit_log (at, actor, action, prev_hash, hash) VALUES (?, 'op', 'x', '', '')",
        at,
    )


async def purge(repo: SqlRepository, clock: FrozenClock, **kw: Any) -> dict[str, int]:
    return await run_retention(repo, SETTINGS, clock.now(), **kw)
