"""SQLite queries behind "a message accepted is a message answered": accepted chat messages, the
claim (a lease) on answering one, the reply that references it, and marking it answered.

SQLite has one writer, so a claim is one UPDATE ... RETURNING guarded by its expiry; PostgreSQL
would pick the row with SELECT ... FOR UPDATE SKIP LOCKED in the same statement.
"""

from __future__ import annotations

from datetime import datetime

from storage.base import AlreadyAccepted, Unanswered
from storage.models import Status
from storage.sql_base import SqlBase, dt, ts


class PipelineQueries(SqlBase):
    async def accept_message(
        self,
        user_id: int,
        conversation_id: int,
        text: str,
        *,
        claimed_until: datetime,
        update_id: int | None = None,
    ) -> int:
        body = await self._seal(user_id, "messages.body", text)
        message_id = await self._insert(
            "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at,"
            " status, claimed_until, update_id) SELECT id, user_id, 'user', ?, ?, 'accepted', ?, ?"
            " FROM conversations WHERE id = ? AND user_id = ?"
            " ON CONFLICT (update_id) DO NOTHING RETURNING id",
            (body, ts(self._clock.now()), ts(claimed_until), update_id, conversation_id, user_id),
        )
        if message_id is None:
            if update_id is not None and await self._read(
                "SELECT 1 FROM messages WHERE update_id = ?", (update_id,)
            ):
                raise AlreadyAccepted(update_id)
            raise LookupError(f"conversation {conversation_id} is not user {user_id}'s")
        return message_id

    async def add_reply(
        self, user_id: int, conversation_id: int, answers: int, text: str
    ) -> int | None:
        body = await self._seal(user_id, "messages.body", text)
        return await self._insert(  # only while the message it answers still exists
            "INSERT INTO messages (conversation_id, user_id, role, body_enc, created_at,"
            " reply_to) SELECT conversation_id, user_id, 'assistant', ?, ?, id"
            " FROM messages WHERE id = ? AND conversation_id = ? AND user_id = ?"
            " AND role = 'user' RETURNING id",
            (body, ts(self._clock.now()), answers, conversation_id, user_id),
        )

    async def mark_answered(self, message_id: int) -> None:
        await self._write(
            "UPDATE messages SET status = 'answered', claimed_until = NULL"
            " WHERE status = 'accepted' AND id <= ?1 AND conversation_id ="
            " (SELECT conversation_id FROM messages WHERE id = ?1)",
            (message_id,),
        )

    async def unanswered(self, expired_by: datetime, limit: int = 1000) -> list[tuple[int, int]]:
        rows = await self._read(
            # Through the small partial index of accepted messages, never a scan of every user's.
            "SELECT m.id, m.user_id FROM messages m INDEXED BY messages_accepted"
            " WHERE m.status = 'accepted' AND (m.claimed_until IS NULL OR m.claimed_until < ?)"
            " AND (SELECT status = ? AND terms_withdrawn_at IS NULL FROM users"
            " WHERE id = m.user_id) ORDER BY m.id LIMIT ?",
            (ts(expired_by), Status.ACTIVE, limit),
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def claim_unanswered(
        self, message_id: int, *, expired_by: datetime, until: datetime
    ) -> Unanswered | None:
        async with self.transaction() as db:
            async with db.execute(
                "UPDATE messages SET claimed_until = ? WHERE id = ? AND status = 'accepted'"
                " AND (claimed_until IS NULL OR claimed_until < ?)"
                " RETURNING user_id, conversation_id, body_enc, created_at",
                (ts(until), message_id, ts(expired_by)),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            async with db.execute(
                "SELECT body_enc FROM messages WHERE reply_to = ?", (message_id,)
            ) as cur:
                reply = await cur.fetchone()
        user_id = int(row[0])
        return Unanswered(
            id=message_id,
            user_id=user_id,
            conversation_id=int(row[1]),
            text=await self._open(user_id, "messages.body", row[2]),
            created_at=dt(row[3]),
            reply=await self._open(user_id, "messages.body", reply[0]) if reply else None,
        )
