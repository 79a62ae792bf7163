"""`python -m bot migrate-to-postgres`: a SQLite instance with real content, copied into a fresh
PostgreSQL database and read back through the Repository contract under the same master key."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import maintenance
from bot.config import Secrets, Settings
from bot.process_lock import DatabaseInUse, database_lock
from core.clock import FrozenClock
from storage import pg_import
from storage.crypto import Vault, new_master_key_text, parse_master_key
from storage.models import Companion, Purpose
from storage.pg_import import MigrationFailed, MigrationRefused
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository, SqlRepository
from tests import postgres
from tests.conftest import CANARY, MASTER_KEY, make_settings
from tests.processes import clean_env

pytestmark = pytest.mark.postgres_always  # PostgreSQL in every run

KEYS = "amigo_keys"
ALICE, BOB = 1001, 1002
WEEK = timedelta(days=7)


@dataclass
class Instance:
    settings: Settings
    url: str
    database: Path


@pytest.fixture
def instance(tmp_path: Path, pg_database: str) -> Instance:
    settings = make_settings(
        tmp_path, AMIGO_STORAGE__URL=pg_database, AMIGO_STORAGE__KEYS_SCHEMA=KEYS
    )
    return Instance(settings, pg_database, Path(settings.storage.database_path))


@pytest.fixture
def vault() -> Vault:
    return Vault(parse_master_key(MASTER_KEY))


def secrets(master_key: str = MASTER_KEY) -> Secrets:
    return Secrets(telegram_bot_token=None, openai_api_key="test-key", master_key=master_key)


async def fill(repo: SqlRepository, clock: FrozenClock) -> None:
    """Two accounts with what people leave behind: consents, a chat, memories, a grievance..."""
    for tg_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
        account = await repo.create_account(
            tg_id, tg_id + 5, policy_version="1", age_confirmed_at=clock.now()
        )
        await repo.set_step(account.id, None, activate=True)
        await repo.record_consent(account.id, Purpose.MODEL_IMPROVEMENT, True, "1")
        await repo.record_consent(account.id, Purpose.MARKETING, False, "1")
        await repo.set_companion(account.id, Companion(f"{name}'s friend", "female", "warm"))
        await repo.set_profile_field(account.id, "display_name", name)
        await repo.set_nominee(account.id, f"{name}'s sister", "+91 98765 43210")
        conversation = await repo.start_conversation(account.id)
        for turn in range(3):
            clock.advance(seconds=30)
            said = await repo.add_message(
                account.id, conversation, "user", f"{name} says {turn} {CANARY}"
            )
            await repo.add_reply(account.id, conversation, said, f"to {name}: reply {turn}")
        gone = await repo.add_memory(
            account.id, f"{name} once said something", conversation_id=None, manual=True
        )
        await repo.forget_memory(account.id, gone)  # AUTOINCREMENT: its id is never reused
        await repo.add_memory(
            account.id, f"{name} likes tea", conversation_id=conversation, manual=False
        )
        await repo.open_grievance(
            account.id, f"{name} is unhappy about X", ack_within=WEEK, resolve_within=WEEK
        )
        await repo.flag(account.id, "distress", "low", said)
        await repo.take_limit_token(f"bucket-{tg_id}".encode(), clock.now(), 5, 0.5, can_flag=True)
    newest = await repo.add_memory(account.id, "said in passing", conversation_id=None, manual=True)
    await repo.forget_memory(account.id, newest)  # SQLite's AUTOINCREMENT mark is past max(id)
    await repo.audit("operator", "broadcast.sent", "2 people")
    await repo.take_lease("job:retention", "host:1", clock.now() + timedelta(minutes=1))


async def content(repo: SqlRepository) -> dict[str, Any]:
    """Everything `fill` wrote, read back (and decrypted) through the Repository contract."""
    seen: dict[str, Any] = {}
    for tg_id in (ALICE, BOB):
        account = await repo.find_account(tg_id)
        assert account is not None and account.conversation_id is not None
        seen[f"{tg_id}"] = {
            "account": account,
            "chat": await repo.chat_of(account.id),
            "messages": [
                (m.id, m.role, m.text)
                for m in await repo.recent_messages(account.id, account.conversation_id, 50)
            ],
            "consents": [(c.purpose, c.granted) for c in await repo.consents(account.id)],
            "companion": await repo.companion(account.id),
            "profile": await repo.profile(account.id),
            "nominee": await repo.nominee(account.id),
            "memories": [(m.id, m.text) for m in await repo.memories(account.id)],
            "grievances": [(g.id, g.text, g.status) for g in await repo.grievances(account.id)],
            "flags": [(f.category, f.severity) for f in await repo.safety_records(account.id)],
            "inventory": await repo.inventory(account.id),
        }
    seen["audit"] = [(e.id, e.actor, e.action, e.detail) for e in await repo.audit_tail(10)]
    seen["audit_ok"] = await repo.verify_audit()
    return seen


async def sqlite_instance(instance: Instance, vault: Vault, clock: FrozenClock) -> dict[str, Any]:
    repo = SqliteRepository(instance.database, vault, clock=clock)
    await repo.open()
    try:
        await fill(repo, clock)
        return await content(repo)
    finally:
        await repo.close()


def sqlite_counts(database: Path, tables: list[str]) -> dict[str, int]:
    keys = database.with_name(f"{database.stem}-keys{database.suffix}")
    with closing(sqlite3.connect(database)) as db:
        db.execute("ATTACH DATABASE ? AS keys", (str(keys),))
        return {
            t: db.execute(f"SELECT count(*) FROM {t.replace(f'{KEYS}.', 'keys.')}").fetchone()[0]
            for t in tables
        }


def pg_counts(url: str, tables: list[str]) -> dict[str, int]:
    return {t: postgres.rows(url, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


async def test_everything_is_copied_and_reads_back_under_the_same_key(
    instance: Instance, vault: Vault, clock: FrozenClock
) -> None:
    before = await sqlite_instance(instance, vault, clock)

    migrated = await maintenance.migrate_to_postgres(instance.settings, secrets())

    rows = migrated.report.rows
    with closing(sqlite3.connect(instance.database)) as db:
        every = {
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert set(rows) == every | {f"{KEYS}.user_keys"}
    assert rows["users"] == 2 and rows[f"{KEYS}.user_keys"] == 2 and rows["messages"] == 12
    assert migrated.report.total == sum(rows.values())
    order = list(rows)
    assert order.index("users") < order.index("conversations") < order.index("messages")
    assert order.index("conversations") < order.index("memories")
    assert pg_counts(instance.url, order) == sqlite_counts(instance.database, order) == rows
    summary = migrated.summary()
    assert f"copied {len(rows)} tables, {migrated.report.total} rows" in summary
    assert "keep" in summary and "delete them and their backups" in summary
    assert CANARY not in summary

    # Ciphertext was copied as it is: PostgreSQL never saw a plain text.
    bodies = postgres.rows(instance.url, "SELECT body_enc FROM messages")
    assert bodies and all(CANARY.encode() not in bytes(r[0]) for r in bodies)

    pg = PostgresRepository(instance.url, vault, clock=clock, keys_schema=KEYS, pool_size=2)
    await pg.open()
    try:
        assert await content(pg) == before
        # Sequences were reset past every id copied (and memories past SQLite's AUTOINCREMENT).
        ids = {
            t: postgres.rows(instance.url, f"SELECT max(id) FROM {t}")[0][0]
            for t in rows
            if t in {"users", "conversations", "messages", "memories", "consents", "audit_log"}
        }
        carol = await pg.create_account(
            1003, 1008, policy_version="1", age_confirmed_at=clock.now()
        )
        assert carol.id > ids["users"]
        conversation = await pg.start_conversation(carol.id)
        assert conversation > ids["conversations"]
        assert await pg.add_message(carol.id, conversation, "user", "hi") > ids["messages"]
        with closing(sqlite3.connect(instance.database)) as db:
            (mark,) = db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'memories'"
            ).fetchone()
        assert mark > ids["memories"]
        memory = await pg.add_memory(carol.id, "new", conversation_id=None, manual=True)
        assert memory == mark + 1  # a forgotten memory's id is never handed out again
        assert await pg.audit("operator", "after.migration") > ids["audit_log"]
        assert (await pg.verify_audit())[1] is None
    finally:
        await pg.close()


async def test_the_command_as_a_process(
    instance: Instance, vault: Vault, clock: FrozenClock, tmp_path: Path
) -> None:
    await sqlite_instance(instance, vault, clock)
    env = clean_env(
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__DATABASE_PATH=str(instance.database),
        AMIGO_STORAGE__URL=instance.url,
        AMIGO_STORAGE__KEYS_SCHEMA=KEYS,
    )
    code, out, err = await run(tmp_path, env, "migrate-to-postgres")
    assert (code, err) == (0, ""), err
    assert out.startswith("copied ") and "  users" in out and "keep " in out
    assert postgres.rows(instance.url, "SELECT count(*) FROM users")[0][0] == 2

    # Again: the database holds accounts now.
    code, out, err = await run(tmp_path, env, "migrate-to-postgres")
    assert (code, out) == (2, "")
    assert one_line(err).startswith("amigo: the PostgreSQL database already holds 2 account(s)")

    # Another master key: refused before PostgreSQL is touched.
    other = clean_env(**{**env, "AMIGO_MASTER_KEY": new_master_key_text()})
    code, _, err = await run(tmp_path, other, "migrate-to-postgres")
    assert code == 2 and "the master key does not match" in one_line(err)

    # No storage.url.
    env.pop("AMIGO_STORAGE__URL")
    code, _, err = await run(tmp_path, env, "migrate-to-postgres")
    assert code == 2 and one_line(err).startswith("amigo: storage.url is empty")


@pytest.mark.parametrize("command", ["backup", "restore"])
async def test_backup_and_restore_point_at_pg_dump_on_postgres(
    tmp_path: Path, command: str
) -> None:
    env = clean_env(
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__URL="postgresql://nobody@127.0.0.1:1/none",
        AMIGO_STORAGE__KEYS_SCHEMA="the_keys",
    )
    code, out, err = await run(tmp_path, env, command, *(["x.db"] if command == "restore" else []))
    line = one_line(err)
    assert (code, out) == (2, "")
    assert line.startswith(f"amigo: {command} works on the SQLite file only")
    assert "pg_dump --exclude-schema=the_keys" in line and "pg_dump --schema=the_keys" in line


async def test_wrong_master_key_is_refused_and_leaves_postgresql_untouched(
    instance: Instance, vault: Vault, clock: FrozenClock
) -> None:
    await sqlite_instance(instance, vault, clock)
    with pytest.raises(MigrationRefused, match=r"the master key does not match .*amigo\.db"):
        await maintenance.migrate_to_postgres(instance.settings, secrets(new_master_key_text()))
    # No key check was written: the right key can still migrate into it.
    assert postgres.rows(instance.url, "SELECT count(*) FROM meta")[0][0] == 0
    await maintenance.migrate_to_postgres(instance.settings, secrets())


async def test_a_postgresql_database_made_with_another_key_is_refused(
    instance: Instance, vault: Vault, clock: FrozenClock
) -> None:
    await sqlite_instance(instance, vault, clock)
    other = PostgresRepository(instance.url, Vault(bytes(32)), keys_schema=KEYS, pool_size=1)
    await other.open()
    await other.close()
    with pytest.raises(MigrationRefused, match="does not match the PostgreSQL database"):
        await maintenance.migrate_to_postgres(instance.settings, secrets())
    assert postgres.rows(instance.url, "SELECT count(*) FROM users")[0][0] == 0


async def test_nothing_to_copy_from_or_a_running_bot_is_refused(
    instance: Instance, vault: Vault, clock: FrozenClock
) -> None:
    with pytest.raises(MigrationRefused, match="no SQLite database at"):
        await maintenance.migrate_to_postgres(instance.settings, secrets())
    await sqlite_instance(instance, vault, clock)
    with database_lock(str(instance.database)), pytest.raises(DatabaseInUse):
        await maintenance.migrate_to_postgres(instance.settings, secrets())
    assert postgres.rows(instance.url, "SELECT count(*) FROM users")[0][0] == 0
    nowhere = instance.settings.model_copy(
        update={
            "storage": instance.settings.storage.model_copy(
                update={"url": "postgresql://someone:hunter2@127.0.0.1:1/amigo"}
            )
        }
    )
    with pytest.raises(MigrationFailed) as failed:
        await maintenance.migrate_to_postgres(nowhere, secrets())
    assert str(failed.value).startswith("PostgreSQL: ") and "hunter2" not in str(failed.value)
    assert len(str(failed.value).splitlines()) == 1


async def test_a_count_that_differs_rolls_everything_back(
    instance: Instance, vault: Vault, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sqlite_instance(instance, vault, clock)
    real = pg_import._sqlite_count

    async def one_more_grievance(src: Any, table: pg_import.Table) -> int:
        return await real(src, table) + (table.name == "grievances")

    monkeypatch.setattr(pg_import, "_sqlite_count", one_more_grievance)
    with pytest.raises(MigrationFailed, match=r"^grievances: 2 rows in PostgreSQL, 3 in SQLite"):
        await maintenance.migrate_to_postgres(instance.settings, secrets())
    for table in ("users", "messages", f"{KEYS}.user_keys", "grievances"):
        assert postgres.rows(instance.url, f"SELECT count(*) FROM {table}")[0][0] == 0
    monkeypatch.undo()
    assert (await maintenance.migrate_to_postgres(instance.settings, secrets())).report.rows[
        "grievances"
    ] == 2


def test_tables_go_after_the_tables_they_reference() -> None:
    def table(name: str, *refs: str) -> pg_import.Table:
        return pg_import.Table("main", name, ("id",), frozenset(refs))

    order = pg_import.in_foreign_key_order(
        [table("c", "b", "a"), table("b", "a"), table("a"), table("z")]
    )
    assert [t.name for t in order] == ["a", "z", "b", "c"]
    with pytest.raises(MigrationRefused, match="cycle"):
        pg_import.in_foreign_key_order([table("x", "y"), table("y", "x")])


async def run(cwd: Path, env: dict[str, str], *command: str) -> tuple[int, str, str]:
    """`python -m bot <command>` as a real process: its exit code, stdout and stderr."""
    (cwd / "config.toml").touch()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]
