"""Per-person limits on every LimitStore: memory, the database, Redis (handlers/limits.py).

The same behaviour table runs on each store; the shared ones (database, Redis) also limit a person
flooding two workers as if there were one, under concurrency too, and never hold a Telegram id or
a text. Redis tests use a fresh key prefix each and skip when Redis cannot be reached, unless
CI=true (then they fail).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as redis

from bot.app import repository
from bot.limit_stores import build_limit_store
from bot.redis_limits import RedisLimitStore
from core.clock import FrozenClock
from handlers.events import Reply
from handlers.limits import (
    DatabaseLimitStore,
    Limiter,
    Limits,
    LimitStore,
    MemoryLimitStore,
    Refused,
)
from handlers.texts import t
from storage.crypto import Vault
from storage.sqlite import SqliteRepository, SqlRepository
from tests import canary
from tests import db as stored
from tests.conftest import make_settings

REDIS_URL = os.environ.get("AMIGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TG_ID = 7_304_915_562  # a Telegram id no stored cell may hold
SECRET_TEXT = "CANARY-limits-5d1e-same-words"

StoreFactory = Callable[[], LimitStore]


def limits(burst: int = 3, per_minute: int = 1, repeat_threshold: int = 3) -> Limits:
    return Limits(
        burst=burst,
        per_minute=per_minute,
        daily_messages=1000,
        max_message_chars=200,
        repeat_threshold=repeat_threshold,
    )


def slow_down(seconds: int) -> Refused:
    return Refused(Reply(t("limits.slow_down", seconds=seconds)))


async def account(repo: SqliteRepository, clock: FrozenClock, tg_id: int = TG_ID) -> int:
    created = await repo.create_account(
        tg_id, tg_id, policy_version="v1", age_confirmed_at=clock.now()
    )
    return created.id


async def flags(repo: SqliteRepository, category: str) -> int:
    return sum(f.category == category for f in await repo.open_flags())


# -- the stores ----------------------------------------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A fresh key prefix on a reachable Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
        await client.aclose()
        message = f"Redis unreachable at {REDIS_URL} ({type(error).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"amigo-test:{uuid.uuid4().hex}:"
    yield prefix
    async for key in client.scan_iter(match=f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def redis_stores(redis_prefix: str) -> AsyncIterator[StoreFactory]:
    """Each call: a new store with its own client (another worker) on the same keys."""
    made: list[RedisLimitStore] = []

    def make() -> LimitStore:
        made.append(RedisLimitStore.from_url(REDIS_URL, prefix=redis_prefix))
        return made[-1]

    yield make
    for store in made:
        await store.close()


@pytest.fixture
async def second_repo(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock
) -> AsyncIterator[SqlRepository]:
    """Another worker's repository on the same database (its own connections)."""
    other = repository(make_settings(tmp_path), vault, clock)
    await other.open()
    yield other
    await other.close()


@pytest.fixture(params=["memory", "database", "redis"])
def stores(request: pytest.FixtureRequest, repo: SqliteRepository) -> StoreFactory:
    """Each call: a store on the same state (memory: the one instance, as in one process)."""
    if request.param == "memory":
        memory = MemoryLimitStore()
        return lambda: memory
    if request.param == "database":
        return lambda: DatabaseLimitStore(repo)
    factory: StoreFactory = request.getfixturevalue("redis_stores")
    return factory


@pytest.fixture(params=["database", "redis"])
def shared_stores(
    request: pytest.FixtureRequest, repo: SqliteRepository, second_repo: SqlRepository
) -> StoreFactory:
    """Each call: the store of one more worker (the database: alternately through two
    repositories on one file, as two processes would; Redis: a client each)."""
    if request.param == "database":
        turns = itertools.cycle([repo, second_repo])
        return lambda: DatabaseLimitStore(next(turns))
    factory: StoreFactory = request.getfixturevalue("redis_stores")
    return factory


def limiter(
    lim: Limits,
    clock: FrozenClock,
    repo: SqliteRepository,
    store: LimitStore,
    vault: Vault,
) -> Limiter:
    return Limiter(
        lim, clock, repo, store=store, pseudonym=lambda text: vault.pseudonym("sign", text)
    )


# -- one behaviour on every store ----------------------------------------------------------------


async def test_burst_refill_and_slow_down_once_per_window(
    stores: StoreFactory, repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    lim = limiter(limits(burst=3, per_minute=1), clock, repo, stores(), vault)

    assert [await lim.admit(TG_ID, uid) for _ in range(3)] == [None] * 3
    assert await lim.admit(TG_ID, uid) == slow_down(60)  # told once, with the wait...
    assert await lim.admit(TG_ID, uid) == Refused(None)  # ...then refused in silence
    assert await flags(repo, "abuse.flood") == 0
    assert await lim.admit(TG_ID, uid) == Refused(None)  # the burst-th refusal flags the flood
    assert await flags(repo, "abuse.flood") == 1
    for _ in range(20):
        assert await lim.admit(TG_ID, uid) == Refused(None)
    assert await flags(repo, "abuse.flood") == 1  # once, not per refusal

    clock.advance(seconds=30)  # half a token: the same refusal window, still silent
    assert await lim.admit(TG_ID, uid) == Refused(None)
    clock.advance(seconds=30.5)  # a token is back (1.008): let through, the window ends
    assert await lim.admit(TG_ID, uid) is None
    assert await lim.admit(TG_ID, uid) == slow_down(60)  # a new window, told once again
    for _ in range(3):
        assert await lim.admit(TG_ID, uid) == Refused(None)
    assert await flags(repo, "abuse.flood") == 2  # a new flood, flagged again

    clock.advance(hours=5)  # refilled to the burst, not beyond
    assert [await lim.admit(TG_ID, uid) for _ in range(4)] == [None, None, None, slow_down(60)]


async def test_a_person_without_an_account_is_flagged_once_they_have_one(
    stores: StoreFactory, repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    lim = limiter(limits(burst=2, per_minute=1), clock, repo, stores(), vault)
    results = [await lim.admit(TG_ID, None) for _ in range(6)]
    assert results == [None, None, slow_down(60), Refused(None), Refused(None), Refused(None)]
    uid = await account(repo, clock)
    assert await lim.admit(TG_ID, uid) == Refused(None)
    assert await flags(repo, "abuse.flood") == 1


async def test_repeats_are_flagged_at_the_threshold_and_refused_after(
    stores: StoreFactory, repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    other = await account(repo, clock, tg_id=TG_ID + 1)
    lim = limiter(limits(repeat_threshold=3), clock, repo, stores(), vault)
    repeat = Reply(t("limits.repeat"))

    assert await lim.admit_chat(uid, "same words") is None
    assert await lim.admit_chat(other, "same words") is None  # each person their own counter
    # Spaces and case aside, the same text: counted as a repeat.
    assert await lim.admit_chat(uid, "  Same WORDS ") is None
    assert await flags(repo, "abuse.repeat") == 0
    assert (await lim.admit_chat(uid, "same words")) == repeat
    assert await flags(repo, "abuse.repeat") == 1
    assert (await lim.admit_chat(uid, "same words")) == repeat
    assert await flags(repo, "abuse.repeat") == 1  # flagged at the threshold only
    assert await lim.admit_chat(uid, "something else") is None  # a new text starts over
    assert await lim.admit_chat(uid, "same words") is None
    assert await lim.admit_chat(other, "same words") is None


# -- several workers, one person -----------------------------------------------------------------


async def test_two_workers_limit_a_person_as_one(
    shared_stores: StoreFactory, repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    workers = [limiter(limits(burst=5), clock, repo, shared_stores(), vault) for _ in range(2)]
    results = [await workers[n % 2].admit(TG_ID, uid) for n in range(10)]
    assert results.count(None) == 5 and results[:5] == [None] * 5
    assert results.count(slow_down(60)) == 1  # told once, by whichever worker refused first
    assert await flags(repo, "abuse.flood") == 1  # the fifth refusal, on either worker

    digests = [await workers[n % 2].admit_chat(uid, "again") for n in range(3)]
    assert digests[:2] == [None, None] and digests[2] is not None
    assert await flags(repo, "abuse.repeat") == 1


async def test_concurrent_messages_through_two_workers_admit_exactly_the_burst(
    shared_stores: StoreFactory, repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    workers = [limiter(limits(burst=5), clock, repo, shared_stores(), vault) for _ in range(2)]
    results = await asyncio.gather(*(workers[n % 2].admit(TG_ID, uid) for n in range(20)))
    assert results.count(None) == 5
    assert sum(r is not None and r.reply is not None for r in results) == 1
    assert await flags(repo, "abuse.flood") == 1


# -- privacy and housekeeping --------------------------------------------------------------------


async def test_the_database_holds_no_telegram_id_nor_text(
    repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    lim = limiter(limits(), clock, repo, DatabaseLimitStore(repo), vault)
    for _ in range(5):
        await lim.admit(TG_ID, uid)
        await lim.admit_chat(uid, SECRET_TEXT)
    await repo.checkpoint()
    assert canary.cells_containing(repo, str(TG_ID)) == []
    assert canary.cells_containing(repo, SECRET_TEXT) == []
    assert canary.cells_containing(repo, SECRET_TEXT.casefold()) == []
    assert query(repo, "SELECT COUNT(*) FROM limit_buckets") == [(1,)]
    assert query(repo, "SELECT COUNT(*) FROM limit_repeats") == [(1,)]


async def test_redis_holds_no_telegram_id_nor_text_and_keys_expire(
    redis_stores: StoreFactory,
    redis_prefix: str,
    repo: SqliteRepository,
    clock: FrozenClock,
    vault: Vault,
) -> None:
    uid = await account(repo, clock)
    lim = limiter(limits(), clock, repo, redis_stores(), vault)
    await lim.admit(TG_ID, uid)
    await lim.admit_chat(uid, SECRET_TEXT)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        assert len(keys) == 2
        for key in keys:
            assert 0 < await client.ttl(key) <= 86_400
            assert str(TG_ID).encode() not in key
            for field, value in (await client.hgetall(key)).items():
                assert isinstance(field, bytes) and isinstance(value, bytes)
                for needle in (str(TG_ID), SECRET_TEXT, SECRET_TEXT.casefold()):
                    assert needle.encode() not in field + value
    finally:
        await client.aclose()


async def test_repeat_counters_go_with_the_account(
    repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    uid = await account(repo, clock)
    lim = limiter(limits(), clock, repo, DatabaseLimitStore(repo), vault)
    await lim.admit_chat(uid, "hello")
    assert query(repo, "SELECT COUNT(*) FROM limit_repeats") == [(1,)]
    stored.execute(repo, "DELETE FROM users WHERE id = ?", uid)  # foreign keys enforced, as storage
    assert query(repo, "SELECT COUNT(*) FROM limit_repeats") == [(0,)]


async def test_deleting_an_account_deletes_its_repeat_counter_at_once(
    repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    """Erasure keeps a closed account row for the grace period; the keyed digest of their last
    text does not stay with it."""
    uid = await account(repo, clock)
    lim = limiter(limits(), clock, repo, DatabaseLimitStore(repo), vault)
    await lim.admit_chat(uid, "hello")
    assert query(repo, "SELECT COUNT(*) FROM limit_repeats") == [(1,)]
    await repo.delete_account(uid)
    assert query(repo, "SELECT COUNT(*) FROM limit_repeats") == [(0,)]


async def test_idle_buckets_are_purged_and_a_purged_bucket_is_full_again(
    repo: SqliteRepository, clock: FrozenClock, vault: Vault
) -> None:
    store = DatabaseLimitStore(repo, purge_every=3)
    lim = limiter(limits(burst=2, per_minute=1), clock, repo, store, vault)
    await lim.admit(TG_ID, None)
    await lim.admit(TG_ID + 1, None)  # the two buckets, then an hour later a third person:
    clock.advance(hours=1, seconds=1)
    assert await lim.admit(TG_ID + 2, None) is None  # the third take purges the idle two
    assert query(repo, "SELECT COUNT(*) FROM limit_buckets") == [(1,)]
    assert [await lim.admit(TG_ID, None) for _ in range(3)] == [None, None, slow_down(60)]
    assert await repo.purge_idle_limits(clock.now()) == 0  # its bucket was taken just now
    clock.advance(seconds=1)
    assert await repo.purge_idle_limits(clock.now()) == 2


def query(db: stored.Target, sql: str) -> list[tuple[object, ...]]:
    return stored.query(db, sql)


# -- wiring ----------------------------------------------------------------------------------------


def test_a_shared_store_needs_a_keyed_pseudonym(repo: SqliteRepository, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        Limiter(limits(), clock, repo, store=DatabaseLimitStore(repo))
    Limiter(limits(), clock, repo, store=MemoryLimitStore())  # memory: the unkeyed default is fine


async def test_the_store_follows_the_settings(tmp_path: Path, repo: SqliteRepository) -> None:
    sqlite = make_settings(tmp_path, AMIGO_STORAGE__URL="")
    assert isinstance(build_limit_store(sqlite, repo), MemoryLimitStore)
    pg = make_settings(tmp_path, AMIGO_STORAGE__URL="postgresql://amigo@db.internal/amigo")
    assert isinstance(build_limit_store(pg, repo), DatabaseLimitStore)
    with_redis = make_settings(
        tmp_path,
        AMIGO_STORAGE__URL="postgresql://amigo@db.internal/amigo",
        AMIGO_LIMITS__REDIS_URL="redis://127.0.0.1:1/0",
    )
    store = build_limit_store(with_redis, repo)
    assert isinstance(store, RedisLimitStore)  # nothing connected yet: port 1 is never tried
    await store.close()


async def test_the_memory_store_forgets_the_least_recently_seen_first(clock: FrozenClock) -> None:
    store = MemoryLimitStore(tracked=2)
    for key in (b"a", b"b", b"a", b"c"):  # "b" is the least recently seen when "c" comes
        await store.take(key, clock.now(), 1, 1.0, can_flag=False)
    assert list(store.buckets) == [b"a", b"c"]
    for user_id in (1, 2, 3):
        await store.repeat(user_id, b"same")
    assert list(store.last_text) == [2, 3]
