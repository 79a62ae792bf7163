"""Deleted means gone, and nothing is stored in the clear, proven the PostgreSQL way, in every run.

The SQLite tests of these promises read the database files and their WALs byte for byte
(tests/test_promises_real.py, tests/test_e2e_delete.py, tests/test_backup.py...); PostgreSQL's
files are the server's, so here the proof is what every query of the database can reach: after a
deletion no row of the person is left in any table of the data schema, their key row is gone from
the keys schema, and no piece of their ciphertext nor any canary text is in any value of any table
of either schema (a full scan: bytea byte for byte, everything else as text). Each search has its
positive control, so a search that cannot find anything fails here. PostgreSQL always (skipped
where none answers; tests/postgres.py), like tests/test_pg_contract.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import repository
from bot.config import Settings
from core.clock import FrozenClock
from jobs.retention import run_retention
from storage.crypto import Vault
from storage.sqlite import SqlRepository
from tests import canary, postgres
from tests import db as stored
from tests.conftest import MASTER_KEY, Bot, make_settings, settings_for
from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.retention_helpers import SETTINGS, account
from tests.test_e2e_delete import assert_gone_from_disk, assert_on_disk, bodies
from tests.test_promises_real import PLAINTEXT_TG, assert_exported, enter_every_field

pytestmark = pytest.mark.postgres_always  # PostgreSQL in every run


@pytest.fixture
def pg_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Storage settings naming a throwaway PostgreSQL schema pair, whatever the run's backend."""
    postgres.require()
    yield postgres.settings_for(tmp_path)
    if not postgres.on_postgres():  # conftest empties them on PostgreSQL runs only
        postgres.drop_test_schemas()


@pytest.fixture
async def pg(
    tmp_path: Path, pg_env: dict[str, str], vault: Vault, clock: FrozenClock
) -> AsyncIterator[SqlRepository]:
    opened = repository(make_settings(tmp_path, **pg_env), vault, clock)
    assert stored.is_postgres(opened)
    await opened.open()
    yield opened
    await opened.close()


async def full_life(repo: SqlRepository, tg_id: int, needle: str) -> int:
    """An account holding something of every kind: messages, profile, companion, nominee,
    grievance, memories and a summary, each with `needle` in its (sealed) text."""
    uid = await account(repo, tg_id, messages=2)
    found = await repo.find_account(tg_id)
    assert found is not None and found.conversation_id is not None
    conversation = found.conversation_id
    first = await repo.add_message(uid, conversation, "user", f"my secret {needle}")
    await repo.add_reply(uid, conversation, first, f"I heard {needle}")
    await repo.set_profile_field(uid, "display_name", f"name {needle}")
    await repo.add_memory(uid, f"fact {needle}", conversation_id=conversation, manual=False)
    await repo.add_memory(uid, f"added {needle}", conversation_id=None, manual=True)
    await repo.set_summary(uid, conversation, f"summary {needle}")
    return uid


SEALED = (
    "SELECT body_enc FROM messages WHERE user_id = ?",
    "SELECT body_enc FROM memories WHERE user_id = ?",
    "SELECT body_enc FROM summaries WHERE user_id = ?",
    "SELECT wrapped FROM keys.user_keys WHERE user_id = ?",
)


@pytest.mark.promise("B1")
@pytest.mark.promise("B2")
@pytest.mark.promise("P6.6")
async def test_a_deleted_account_leaves_no_row_no_key_and_no_ciphertext(
    pg: SqlRepository, clock: FrozenClock
) -> None:
    needle = canary.new("deleted")
    alice = await full_life(pg, 801, needle)
    bob = await full_life(pg, 802, "bob's ordinary day")
    sealed = [blob for sql in SEALED for blob in bodies(pg, sql, (alice,))]
    kept = [blob for sql in SEALED for blob in bodies(pg, sql, (bob,))]
    # Positive controls: the person's rows, key and ciphertext are all found before deletion.
    held = stored.rows_of_user(pg, alice)
    for table in ("main.users", "main.messages", "main.memories", "keys.user_keys"):
        assert held.get(table), (table, held)
    assert_on_disk(pg, sealed)
    assert stored.cells_containing(pg, needle) == []  # sealed, never in the clear
    bobs = stored.rows_of_user(pg, bob)

    deleted = await pg.delete_account(alice)
    assert deleted.account
    assert stored.rows_of_user(pg, alice) == {"main.users": 1}  # the closed tombstone, alone
    assert stored.query(pg, "SELECT status FROM users WHERE id = ?", alice) == [("closed",)]
    assert stored.scalar(pg, "SELECT count(*) FROM keys.user_keys WHERE user_id = ?", alice) == 0
    assert_gone_from_disk(pg, sealed)  # not a piece of it, in any value of either schema
    assert_on_disk(pg, kept)  # the other person's untouched
    assert stored.rows_of_user(pg, bob) == bobs

    clock.advance(days=SETTINGS.closed_account_grace_days + 1)
    assert (await run_retention(pg, SETTINGS, clock.now()))["closed_accounts"] == 1
    assert stored.rows_of_user(pg, alice) == {}
    assert stored.cells_containing(pg, needle) == []


async def test_the_searches_find_what_they_look_for(pg: SqlRepository) -> None:
    """The positive controls of the scans themselves: plaintext written behind the code's back,
    in the data schema and in the keys schema, is found where it was put and nowhere else."""
    uid = await account(pg, 803)
    text, raw = canary.new("plainmain"), canary.new("plainkeys")
    stored.execute(pg, "INSERT INTO job_runs (job, started_at) VALUES ('careless', ?)", text)
    stored.execute(pg, "UPDATE keys.user_keys SET wrapped = ? WHERE user_id = ?", raw.encode(), uid)
    assert stored.cells_containing(pg, text) == ["main.job_runs.started_at"]
    assert stored.cells_containing(pg, raw) == ["keys.user_keys.wrapped"]
    assert_on_disk(pg, [raw.encode()])
    assert stored.cells_containing(pg, "no%such_thing") == []  # LIKE's wildcards are escaped
    schemas = {name.split(".")[0] for name in stored.tables(pg)}
    assert schemas == {"main", "keys"}
    assert "main.user_keys" not in stored.tables(pg)  # a dump of the data schema holds no key


@pytest.mark.promise("P12.2")
async def test_every_encrypted_field_leaves_no_plaintext_in_any_table(
    tmp_path: Path, pg_env: dict[str, str], tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """tests/test_promises_real.py's canary for every personal field, through the real screens
    of the real bot on PostgreSQL: no value of any table of either schema holds any of them, the
    Telegram id, a sealed choice or the master key. /export proves each was stored."""
    settings: Settings = settings_for(
        tmp_path,
        tg,
        llm,
        AMIGO_STORAGE__URL=pg_env["AMIGO_STORAGE__URL"],
        AMIGO_STORAGE__KEYS_SCHEMA=pg_env["AMIGO_STORAGE__KEYS_SCHEMA"],
    )
    assert stored.is_postgres(settings)
    user = PLAINTEXT_TG
    async with Bot(settings, tg).running():
        c = await enter_every_field(tg, llm, user)
        await assert_exported(tg, user, c)
        await onboard(tg, user + 1)  # a second person: their rows are searched too
    for label, needle in c.items():
        assert stored.cells_containing(settings, needle) == [], label
    assert stored.cells_containing(settings, str(user)) == []  # ids are hashed or sealed
    assert stored.cells_containing(settings, "nonbinary") == []  # sealed choices too
    assert stored.cells_containing(settings, MASTER_KEY) == []  # the master key is never stored
    first = stored.scalar(settings, "SELECT min(id) FROM users")
    assert "keys.user_keys" in stored.rows_of_user(settings, first)  # there was a person to search

    control = canary.new("controlmain")
    stored.execute(settings, "UPDATE profiles SET country_enc = ?", control.encode())
    assert stored.cells_containing(settings, control) == ["main.profiles.country_enc"]
