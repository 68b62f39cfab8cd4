"""Conversation state (``bot.domain.sessions.Session``) by address, in the ``sessions`` table."""

from __future__ import annotations

import json

from bot.domain.people import Address
from bot.domain.sessions import Flow, Session
from db.database import Database
from db.people import now_iso

__all__ = ["Session", "SessionRepo"]  # Session is re-exported for modules not yet moved to the domain


class SessionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> Session | None:
        row = await self.db.fetchone(
            "SELECT flow, step, data FROM sessions WHERE channel = ? AND external_id = ?",
            (address.channel, address.external_id),
        )
        return Session(Flow(row["flow"]), row["step"], json.loads(row["data"])) if row else None

    async def set(self, address: Address, session: Session) -> None:
        await self.db.execute(
            "INSERT INTO sessions (channel, external_id, flow, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO UPDATE SET"
            " flow = excluded.flow, step = excluded.step, data = excluded.data,"
            " updated_at = excluded.updated_at",
            (
                address.channel,
                address.external_id,
                session.flow,
                session.step,
                json.dumps(session.data, ensure_ascii=False),
                now_iso(),
            ),
        )

    async def clear(self, address: Address) -> None:
        await self.db.execute(
            "DELETE FROM sessions WHERE channel = ? AND external_id = ?",
            (address.channel, address.external_id),
        )
