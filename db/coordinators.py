"""What a coordinator who has not registered as a volunteer chose for themselves: their language."""

from __future__ import annotations

from bot.domain.people import Address
from db.database import Database
from db.people import now_iso


class CoordinatorLanguageRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> str | None:
        value = await self.db.fetchval(
            "SELECT language FROM coordinator_languages WHERE channel = ? AND external_id = ?",
            (address.channel, address.external_id),
        )
        return str(value) if value is not None else None

    async def set(self, address: Address, language: str) -> None:
        await self.db.execute(
            "INSERT INTO coordinator_languages (channel, external_id, language, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel, external_id) DO UPDATE SET language = excluded.language,"
            " updated_at = excluded.updated_at",
            (address.channel, address.external_id, language, now_iso()),
        )
