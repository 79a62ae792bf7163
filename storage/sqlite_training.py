"""SQLite queries behind the training export (policy section 6, P6.5): who may be in it, and which
conversations the live safety checks already marked as sensitive.

Consent is read from the ledger, never cached: the newest model_improvement row of a user is their
current choice, so a withdrawal takes effect for every export that starts (or reaches them) after it.
"""

from __future__ import annotations

from storage.models import Purpose, Status
from storage.sql_base import SqlBase

# An account is in the training set only while it is active, its newest Terms row is granted (a
# user who withdrew the Terms is no longer served, so their chats are not used either) and its
# newest model_improvement row is granted. consents_user(user_id, purpose, id) answers each lookup.
_ELIGIBLE = (
    "u.status = :active"
    " AND (SELECT c.granted FROM consents c WHERE c.user_id = u.id AND c.purpose = :training"
    "      ORDER BY c.id DESC LIMIT 1) = 1"
    " AND (SELECT c.granted FROM consents c WHERE c.user_id = u.id AND c.purpose = :terms"
    "      ORDER BY c.id DESC LIMIT 1) = 1"
)
_PARAMS = {"active": Status.ACTIVE, "training": Purpose.MODEL_IMPROVEMENT, "terms": Purpose.TERMS}


class TrainingQueries(SqlBase):
    async def consenting_users(self) -> list[int]:
        """Active accounts whose current model_improvement consent is granted, by id."""
        rows = await self._read(
            f"SELECT u.id FROM users u WHERE {_ELIGIBLE} ORDER BY u.id", _PARAMS
        )
        return [r[0] for r in rows]

    async def consents_to_training(self, user_id: int) -> bool:
        """The same test for one account, asked again just before its conversations are written, so
        a withdrawal made while a long export runs is honoured too."""
        rows = await self._read(
            f"SELECT 1 FROM users u WHERE u.id = :uid AND {_ELIGIBLE}", {**_PARAMS, "uid": user_id}
        )
        return bool(rows)

    async def flagged_conversations(self, user_id: int) -> set[int]:
        """Conversations holding a message the live checks flagged (distress, from the detector or
        the moderation model, or a possible under-18 signal): never used for training."""
        rows = await self._read(
            "SELECT DISTINCT m.conversation_id FROM safety_records s"
            " JOIN messages m ON m.id = s.message_id"
            " WHERE s.user_id = ? AND m.user_id = ?",
            (user_id, user_id),
        )
        return {r[0] for r in rows}
