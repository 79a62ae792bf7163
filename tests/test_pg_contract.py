"""A slice of the Repository contract on PostgreSQL in every run (not only AMIGO_TEST_BACKEND=postgres):
accounts, messages, leases, deletion and crypto-shredding, the keys in their own schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.clock import FrozenClock
from storage.crypto import MasterKeyError, Vault
from storage.models import Purpose, Status
from storage.postgres import PostgresRepository
from tests import postgres

pytestmark = pytest.mark.postgres_always  # PostgreSQL in every run


@pytest.fixture
async def pg(
    pg_database: str, vault: Vault, clock: FrozenClock
) -> AsyncIterator[PostgresRepository]:
    repo = PostgresRepository(pg_database, vault, clock=clock, pool_size=4)
    await repo.open()
    yield repo
    await repo.close()


async def test_accounts_and_messages(pg: PostgresRepository, clock: FrozenClock) -> None:
    account = await pg.create_account(111, 222, policy_version="1", age_confirmed_at=clock.now())
    assert account.status == Status.ONBOARDING
    assert (await pg.find_account(111)) == account
    assert await pg.chat_of(account.id) == 222
    conversation = await pg.start_conversation(account.id)
    first = await pg.add_message(account.id, conversation, "user", "hello")
    reply = await pg.add_reply(account.id, conversation, first, "hi there")
    assert reply is not None and reply > first
    window = await pg.recent_messages(account.id, conversation, 10)
    assert [m.text for m in window] == ["hi there", "hello"]
    assert [c.purpose for c in await pg.consents(account.id)] == [
        Purpose.AGE_18_PLUS,
        Purpose.TERMS,
    ]
    with pytest.raises(LookupError):
        await pg.add_message(account.id, conversation + 99, "user", "nowhere")
    assert await pg.first_group_notice(5) and not await pg.first_group_notice(5)


async def test_leases_are_shared(pg: PostgresRepository, clock: FrozenClock) -> None:
    until = clock.now() + timedelta(minutes=1)
    assert await pg.take_lease("job:x", "a", until)
    assert not await pg.take_lease("job:x", "b", until)
    assert await pg.take_lease("job:x", "a", until)  # the holder renews
    await pg.release_lease("job:x", "a")
    assert await pg.take_lease("job:x", "b", until)


async def test_transactions_serialise(pg: PostgresRepository) -> None:
    """Read-then-write sequences (the audit chain) stay whole under concurrent writers."""
    await asyncio.gather(*(pg.audit("op", f"action{i}") for i in range(20)))
    assert await pg.verify_audit() == (20, None)


@pytest.mark.promise("B1")
async def test_deletion_destroys_the_key_in_its_schema(
    pg: PostgresRepository, pg_database: str, clock: FrozenClock
) -> None:
    account = await pg.create_account(7, 8, policy_version="1", age_confirmed_at=clock.now())
    conversation = await pg.start_conversation(account.id)
    await pg.add_message(account.id, conversation, "user", "secret")
    keys = f"SELECT count(*) FROM {postgres.KEYS_SCHEMA}.user_keys WHERE user_id = $1"
    assert postgres.rows(pg_database, keys, account.id)[0][0] == 1
    deleted = await pg.delete_account(account.id)
    assert deleted.account and deleted.messages == 1
    assert postgres.rows(pg_database, keys, account.id)[0][0] == 0
    for table in ("messages", "conversations", "consents", "profiles"):
        left = postgres.rows(
            pg_database, f"SELECT count(*) FROM {table} WHERE user_id = $1", account.id
        )
        assert left[0][0] == 0, table
    assert await pg.find_account(7) is None
    data_tables = postgres.rows(
        pg_database,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'user_keys'"
        " AND table_schema = 'public'",
    )
    assert data_tables[0][0] == 0  # a dump of the data schema never holds a key


async def test_refuses_another_master_key(pg_database: str, vault: Vault) -> None:
    first = PostgresRepository(pg_database, vault, pool_size=2)
    await first.open()
    await first.close()
    other = PostgresRepository(pg_database, Vault(bytes(32)), pool_size=2)
    with pytest.raises(MasterKeyError):
        await other.open()


async def test_workers_start_at_once(pg_database: str, vault: Vault) -> None:
    """Several workers opening a fresh database: one migrates, the others wait, none fails."""
    postgres.run(_reset(pg_database))
    repos = [PostgresRepository(pg_database, vault, pool_size=2) for _ in range(4)]
    await asyncio.gather(*(r.open() for r in repos))
    await asyncio.gather(*(r.close() for r in repos))


async def _reset(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"DROP SCHEMA public CASCADE; DROP SCHEMA {postgres.KEYS_SCHEMA} CASCADE;"
            " CREATE SCHEMA public"
        )
    finally:
        await conn.close()
