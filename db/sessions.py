"""Conversation state: which flow and step a person is in, and what they entered so far."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.domain.people import Address
from db.database import Database
from db.people import now_iso


@dataclass
class Session:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class SessionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> Session | None:
        row = await self.db.fetchone(
            "SELECT flow, step, data FROM sessions WHERE channel = ? AND external_id = ?",
            (address.channel, address.external_id),
        )
        return Session(row["flow"], row["step"], json.loads(row["data"])) if row else None

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
