"""The write that ``/healthz`` makes to show the database takes writes: one row, rewritten."""

from __future__ import annotations

from db.database import Database


class HealthRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def touch(self, at: float) -> None:
        """Rewrite the health row in a transaction of its own (raises if the database is
        read-only, locked for longer than its busy timeout, or full)."""
        await self.db.execute(
            "INSERT INTO health (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            (at,),
        )
