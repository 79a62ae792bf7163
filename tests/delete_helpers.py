"""Shared by the /delete end-to-end tests (test_e2e_delete and test_e2e_delete_edge_cases):
looking into the database as it is stored (either backend), and the steps of the /delete dialogue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from handlers.texts import t
from tests import db as db_
from tests.db import Target
from tests.e2e import press, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

ALICE, BOB, CAROL = 611, 612, 613


PER_USER_TABLES = (
    "conversations",
    "messages",
    "consents",
    "companions",
    "profiles",
    "keys.user_keys",
    "nominees",
    "grievances",
    "payments",
    "safety_records",
    "staff_accesses",
    "memories",
    "summaries",
)


# -- looking into the database -----------------------------------------------------------------


def query(db: Target, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Run one query on a fresh connection that is closed at once (it must not pin the WAL), on
    either backend (tests/db.py); `keys.` names the wrapped data keys, as in the bot."""
    return db_.query(db, sql, *params)


def keys_file(db: str) -> Path:
    """Where SQLite keeps the wrapped data keys: next to the database, named '<stem>-keys'."""
    path = Path(db)
    return path.with_name(path.stem + "-keys" + path.suffix)


def newest_user_id(db: Target) -> int:
    """The internal id of the account created last."""
    rows = query(db, "SELECT MAX(id) FROM users")
    value = rows[0][0]
    assert isinstance(value, int)
    return value


def holdings(db: Target, user_id: int) -> dict[str, int]:
    """How many rows of each per-user table belong to `user_id`."""
    counts: dict[str, int] = {}
    for table in PER_USER_TABLES:
        value = query(db, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,))[0][0]
        assert isinstance(value, int)
        counts[table] = value
    return counts


def snapshot(db: Target, user_id: int) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """Counts plus every message row and the account row, to prove a user was left untouched."""
    messages = query(
        db,
        "SELECT id, conversation_id, role, body_enc, created_at FROM messages"
        " WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    account = query(db, "SELECT * FROM users WHERE id = ?", (user_id,))
    return holdings(db, user_id), messages + account


def user_contents(llm: FakeOpenAI) -> list[str]:
    """The non-system messages of the latest LLM request."""
    return [str(m["content"]) for m in llm.requests[-1]["messages"] if m["role"] != "system"]


# -- steps -------------------------------------------------------------------------------------


async def open_menu(tg: FakeTelegram, user: int) -> SentMessage:
    menu = await say(tg, user, "/delete")
    assert menu.text == t("delete.choose"), menu.text
    labels = [label for label, _ in menu.buttons()]
    assert labels == [
        t("delete.current"),
        t("delete.earlier"),
        t("delete.history"),
        t("delete.account"),
        t("btn.cancel"),
    ]
    return menu


async def ask(tg: FakeTelegram, user: int, choice: str) -> SentMessage:
    """/delete, then one of the menu's choices; returns what the bot shows next."""
    menu = await open_menu(tg, user)
    return await press(tg, user, menu, choice)


def scope_of(data: str) -> str:
    """The scope part of a confirmation's data ("delok:c12" of "delok:c12.<check>")."""
    return data.partition(".")[0]


async def chat(tg: FakeTelegram, user: int, *texts: str) -> None:
    """Say each text and wait for the companion's echo."""
    for text in texts:
        reply = await say(tg, user, text)
        assert reply.text == f"echo: {text}", reply.text


async def new_conversation(tg: FakeTelegram, user: int) -> None:
    reply = await say(tg, user, "/new")
    assert reply.text == t("chat.new"), reply.text


def conversation_ids(db: Target, user_id: int) -> list[int]:
    rows = query(db, "SELECT id FROM conversations WHERE user_id = ? ORDER BY id", (user_id,))
    return [int(str(r[0])) for r in rows]
