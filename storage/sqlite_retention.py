"""SQLite queries behind retention: legal holds, batched purges and the record of each job run."""

from __future__ import annotations

from storage.sqlite_base import SqliteBase


class RetentionQueries(SqliteBase):
    """Filled in by the retention work (issue: retention that runs itself)."""
