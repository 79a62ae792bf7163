"""Both backends end with the same tables and columns (PostgreSQL's baseline is SQLite's schema
after version 12, translated once), the same migration versions, and the keys apart from the data;
and the dialect translates what the mixins write."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from storage.crypto import Vault
from storage.pg_dialect import arguments, translate
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository
from tests import postgres

pytestmark = pytest.mark.postgres_always  # PostgreSQL in every run


def _sqlite_schema(path: Path) -> dict[str, set[str]]:
    with closing(sqlite3.connect(path)) as db:
        db.execute("ATTACH DATABASE ? AS keys", (str(path.with_name("amigo-keys.db")),))
        tables: dict[str, set[str]] = {}
        for schema in ("main", "keys"):
            names = db.execute(
                f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for (name,) in names:
                columns = db.execute(f"PRAGMA {schema}.table_info({name})").fetchall()
                tables[f"{schema}.{name}"] = {c[1] for c in columns}
    return tables


def _pg_schema(url: str) -> dict[str, set[str]]:
    rows = postgres.rows(
        url,
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        " WHERE table_schema IN ('public', $1)",
        postgres.KEYS_SCHEMA,
    )
    tables: dict[str, set[str]] = {}
    for schema, table, column in rows:
        name = f"{'main' if schema == 'public' else 'keys'}.{table}"
        tables.setdefault(name, set()).add(column)
    return tables


async def test_both_backends_have_the_same_tables_columns_and_versions(
    tmp_path: Path, vault: Vault
) -> None:
    lite = SqliteRepository(tmp_path / "amigo.db", vault)
    await lite.open()
    await lite.close()
    name = postgres.create_database()
    try:
        url = postgres.url_of(name)
        pg = PostgresRepository(url, vault, pool_size=2)
        await pg.open()
        await pg.close()
        assert _pg_schema(url) == _sqlite_schema(tmp_path / "amigo.db")
        with closing(sqlite3.connect(tmp_path / "amigo.db")) as db:
            versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations")]
        pg_versions = postgres.rows(url, "SELECT version FROM schema_migrations ORDER BY 1")
        assert [int(r[0]) for r in pg_versions] == sorted(versions)
    finally:
        postgres.drop(name)


@pytest.mark.parametrize(
    ("sqlite", "pg"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
        (
            "UPDATE t SET a = 1 WHERE id <= ?1 AND x = ?1",
            "UPDATE t SET a = 1 WHERE id <= $1 AND x = $1",
        ),
        (
            "SELECT '?', ':x', \"a?\" FROM t WHERE a = ?",
            "SELECT '?', ':x', \"a?\" FROM t WHERE a = $1",
        ),
        (
            "INSERT OR IGNORE INTO m VALUES (?, ?)",
            "INSERT INTO m VALUES ($1, $2) ON CONFLICT DO NOTHING",
        ),
        (
            "INSERT OR IGNORE INTO m VALUES (?) RETURNING id",
            "INSERT INTO m VALUES ($1) ON CONFLICT DO NOTHING RETURNING id",
        ),
        (
            "UPDATE h SET last = max(last, (SELECT max(id) FROM u)) + 1",
            "UPDATE h SET last = GREATEST(last, (SELECT max(id) FROM u)) + 1",
        ),
        ("SELECT min(a, min(b)), min(c) FROM t", "SELECT LEAST(a, min(b)), min(c) FROM t"),
        ("SELECT m.id FROM messages m INDEXED BY messages_accepted", "SELECT m.id FROM messages m"),
        (
            "UPDATE users SET chat_enc = x'' WHERE id = ?",
            "UPDATE users SET chat_enc = '\\x'::bytea WHERE id = $1",
        ),
        ("SELECT wrapped FROM keys.user_keys", "SELECT wrapped FROM amigo_keys.user_keys"),
        ("SELECT 'keys.user_keys' FROM user_keys.a", "SELECT 'keys.user_keys' FROM user_keys.a"),
        (
            "SELECT t.id FROM users u CROSS JOIN messages t ON t.user_id = u.id",
            "SELECT t.id FROM users u JOIN messages t ON t.user_id = u.id",
        ),
    ],
)
def test_the_dialect_translates_what_the_mixins_write(sqlite: str, pg: str) -> None:
    assert translate(sqlite).sql == pg


def test_named_parameters_become_numbered_in_order_of_first_use() -> None:
    statement = translate("SELECT * FROM t WHERE a = :u OR b = :v OR c = :u", "other_keys")
    assert statement.sql == "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $1"
    assert arguments(statement, {"v": 2, "u": 1}) == [1, 2]
    with pytest.raises(ValueError, match="mixes"):
        translate("SELECT :a, ?")
    with pytest.raises(ValueError, match="identifier"):
        translate("SELECT 1", "Bad-Name")
