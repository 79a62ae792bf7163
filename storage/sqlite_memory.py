"""SQLite queries behind memory (handlers/memory.py): what the companion remembers about a person,
the summaries of their finished conversations, their on/off switch and the extraction cursor.

Every text is sealed under the person's data key. A memory names its source conversation (NULL for
one the person added) and goes with it: the deletion paths in storage/sqlite_rights.py and the
purges in storage/sqlite_retention.py delete memories and summaries explicitly, and the foreign keys
(ON DELETE CASCADE from conversations and users, migration 12) catch any other way a conversation
or account row goes. Forgetting checkpoints the WAL, as every deletion does, so a forgotten text
leaves no copy on disk. Every query here is answered from an index (memories_user, summaries_user,
messages_user), so a person with a million messages and ten thousand memories stays fast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from storage.models import ChatMessage, Memory, Summary
from storage.sql_base import SqlBase, Tx, dt, inserted_id, ts

log = logging.getLogger("amigo.storage")

_MEMORY_COLUMNS = (
    "id, body_enc, conversation_id, manual, created_at, updated_at, last_used_at, uses"
)


class MemoryQueries(SqlBase):
    # -- memories --------------------------------------------------------------------------------

    async def memories(self, user_id: int) -> list[Memory]:
        rows = await self._read(
            f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [await self._memory(user_id, r) for r in rows]

    async def add_memory(
        self, user_id: int, text: str, *, conversation_id: int | None, manual: bool
    ) -> int:
        """LookupError when `conversation_id` is not (or no longer) this person's: a memory
        learnt from a conversation deleted meanwhile is not kept."""
        body = await self._seal(user_id, "memories.body", text)
        now = ts(self._clock.now())
        async with self.transaction() as db:
            if conversation_id is None:
                memory_id = await inserted_id(
                    db,
                    "INSERT INTO memories (user_id, conversation_id, manual, body_enc,"
                    " created_at, updated_at) SELECT id, NULL, ?, ?, ?, ? FROM users WHERE id = ?"
                    " RETURNING id",
                    (int(manual), body, now, now, user_id),
                )
            else:
                memory_id = await inserted_id(
                    db,
                    "INSERT INTO memories (user_id, conversation_id, manual, body_enc,"
                    " created_at, updated_at) SELECT user_id, id, ?, ?, ?, ? FROM conversations"
                    " WHERE id = ? AND user_id = ? RETURNING id",
                    (int(manual), body, now, now, conversation_id, user_id),
                )
            if memory_id is None:
                raise LookupError(f"conversation {conversation_id} is not user {user_id}'s")
            return memory_id

    async def update_memory(self, user_id: int, memory_id: int, text: str) -> bool:
        body = await self._seal(user_id, "memories.body", text)
        cur = await self._write(
            "UPDATE memories SET body_enc = ?, updated_at = ? WHERE id = ? AND user_id = ?",
            (body, ts(self._clock.now()), memory_id, user_id),
        )
        if cur.rowcount:
            await self.checkpoint()  # the replaced text leaves no copy in the WAL
        return cur.rowcount > 0

    async def forget_memory(self, user_id: int, memory_id: int) -> bool:
        cur = await self._write(
            "DELETE FROM memories WHERE id = ? AND user_id = ?", (memory_id, user_id)
        )
        if cur.rowcount:
            await self.checkpoint()
            log.info("memory.forgotten", extra={"uid": user_id, "memories": cur.rowcount})
        return cur.rowcount > 0

    async def forget_memories(self, user_id: int) -> int:
        async with self.transaction() as db:
            memories, summaries = await delete_memories(db, user_id)
        await self.checkpoint()
        log.info(
            "memory.forgotten_all",
            extra={"uid": user_id, "memories": memories, "summaries": summaries},
        )
        return memories

    async def mark_memories_used(self, user_id: int, memory_ids: Sequence[int]) -> None:
        if not memory_ids:
            return
        ids = [int(i) for i in memory_ids]
        await self._write(
            "UPDATE memories SET uses = uses + 1, last_used_at = ?"
            f" WHERE user_id = ? AND id IN ({', '.join('?' for _ in ids)})",
            (ts(self._clock.now()), user_id, *ids),
        )

    async def memory_version(self, user_id: int) -> tuple[int, int, str | None]:
        rows = await self._read(  # memories_user, memories_user_updated: no table row is read
            "SELECT (SELECT count(*) FROM memories WHERE user_id = :u),"
            " (SELECT max(id) FROM memories WHERE user_id = :u),"
            " (SELECT max(updated_at) FROM memories WHERE user_id = :u)",
            {"u": user_id},
        )
        count, newest, updated = rows[0]
        return int(count), int(newest or 0), updated

    # -- the switch and the cursor ---------------------------------------------------------------

    async def memory_enabled(self, user_id: int) -> bool:
        rows = await self._read("SELECT memory_off FROM users WHERE id = ?", (user_id,))
        return not (rows and rows[0][0])

    async def set_memory_enabled(self, user_id: int, enabled: bool) -> None:
        await self._write(
            "UPDATE users SET memory_off = ? WHERE id = ?", (int(not enabled), user_id)
        )

    async def memory_cursor(self, user_id: int) -> int:
        rows = await self._read("SELECT memory_cursor FROM users WHERE id = ?", (user_id,))
        return int(rows[0][0]) if rows else 0

    async def set_memory_cursor(self, user_id: int, message_id: int) -> None:
        await self._write("UPDATE users SET memory_cursor = ? WHERE id = ?", (message_id, user_id))

    async def messages_after(
        self, user_id: int, after_id: int, limit: int
    ) -> list[tuple[int, ChatMessage]]:
        rows = await self._read(  # messages_user(user_id, id)
            "SELECT conversation_id, id, role, body_enc, created_at FROM messages"
            " WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
            (user_id, after_id, limit),
        )
        return [
            (
                r[0],
                ChatMessage(r[1], r[2], await self._open(user_id, "messages.body", r[3]), dt(r[4])),
            )
            for r in rows
        ]

    # -- summaries -------------------------------------------------------------------------------

    async def set_summary(self, user_id: int, conversation_id: int, text: str) -> None:
        """LookupError when the conversation is not (or no longer) this person's."""
        body = await self._seal(user_id, "summaries.body", text)
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT INTO summaries (conversation_id, user_id, body_enc, created_at)"
                " SELECT id, user_id, ?, ? FROM conversations WHERE id = ? AND user_id = ?"
                " ON CONFLICT(conversation_id) DO UPDATE SET body_enc = excluded.body_enc,"
                " created_at = excluded.created_at",
                (body, ts(self._clock.now()), conversation_id, user_id),
            )
            if cur.rowcount != 1:
                raise LookupError(f"conversation {conversation_id} is not user {user_id}'s")

    async def summaries(self, user_id: int, limit: int) -> list[Summary]:
        """Newest conversation first (conversation ids only grow)."""
        rows = await self._read(  # summaries_user(user_id, conversation_id)
            "SELECT conversation_id, body_enc, created_at FROM summaries"
            " WHERE user_id = ? ORDER BY conversation_id DESC LIMIT ?",
            (user_id, limit),
        )
        return [
            Summary(r[0], await self._open(user_id, "summaries.body", r[1]), dt(r[2])) for r in rows
        ]

    async def memory_counts(self, user_id: int) -> tuple[int, int]:
        rows = await self._read(
            "SELECT (SELECT COUNT(*) FROM memories WHERE user_id = :u),"
            " (SELECT COUNT(*) FROM summaries WHERE user_id = :u)",
            {"u": user_id},
        )
        return int(rows[0][0]), int(rows[0][1])

    async def _memory(self, user_id: int, r: Any) -> Memory:
        return Memory(
            id=r[0],
            text=await self._open(user_id, "memories.body", r[1]),
            conversation_id=r[2],
            manual=bool(r[3]),
            created_at=dt(r[4]),
            updated_at=dt(r[5]),
            last_used_at=dt(r[6]) if r[6] else None,
            uses=r[7],
        )


async def delete_memories(db: Tx, user_id: int) -> tuple[int, int]:
    """Inside a transaction: every memory (the person's own too) and summary of a person; how
    many of each. All history, the account, and /memory's "forget everything" use it."""
    cur = await db.execute("DELETE FROM memories WHERE user_id = ?", (user_id,))
    memories = cur.rowcount
    cur = await db.execute("DELETE FROM summaries WHERE user_id = ?", (user_id,))
    return memories, cur.rowcount


async def delete_conversation_memories(
    db: Tx, user_id: int, conversation_id: int
) -> tuple[int, int]:
    """Inside a transaction: what was derived from one conversation (its memories and summary),
    even when the conversation row itself stays because a newer message arrived."""
    cur = await db.execute(
        "DELETE FROM memories WHERE conversation_id = ? AND user_id = ?",
        (conversation_id, user_id),
    )
    memories = cur.rowcount
    cur = await db.execute(
        "DELETE FROM summaries WHERE conversation_id = ? AND user_id = ?",
        (conversation_id, user_id),
    )
    return memories, cur.rowcount


async def rewind_memory_cursor(db: Tx, user_id: int | None = None) -> None:
    """Inside a transaction, after messages were deleted: SQLite gives the next message the id
    after the highest one left, so a cursor beyond it would make extraction skip new messages.
    `None`: every person's (after a purge)."""
    newest = "(SELECT coalesce(max(id), 0) FROM messages)"
    where = "" if user_id is None else " AND id = ?"
    await db.execute(
        f"UPDATE users SET memory_cursor = {newest} WHERE memory_cursor > {newest}{where}",
        () if user_id is None else (user_id,),
    )
