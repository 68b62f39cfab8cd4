"""Talk-back messages (``messages``), and the open alerts a person received (whose coordinator
a message goes to)."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from bot.domain.alerts import AlertStatus, Delivery, texts_of
from bot.domain.people import Address
from bot.domain.talkback import Direction, ReceivedAlert, TalkMessage
from db.database import Database
from db.people import now_iso

_SELECT = (
    "SELECT m.id, m.alert_id, m.direction, m.channel, m.external_id, m.coordinator_channel,"
    " m.coordinator_external_id, m.coordinator_name, m.text, m.created_at, p.name"
    " FROM messages m LEFT JOIN people p ON p.channel = m.channel AND p.external_id = m.external_id"
)


def _to_message(row: aiosqlite.Row) -> TalkMessage:
    return TalkMessage(
        id=row["id"],
        alert_id=row["alert_id"],
        direction=Direction(row["direction"]),
        volunteer=Address(row["channel"], row["external_id"]),
        volunteer_name=row["name"],
        coordinator=Address(row["coordinator_channel"], row["coordinator_external_id"]),
        coordinator_name=row["coordinator_name"],
        text=row["text"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class MessageRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_alerts_received(self, address: Address, limit: int) -> list[ReceivedAlert]:
        """The open alerts delivered to ``address``, the latest first."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.author_channel, a.author_external_id, a.author_name, a.author_language, a.texts,"
            " r.language FROM recipients r JOIN alerts a ON a.id = r.alert_id"
            " WHERE r.channel = ? AND r.external_id = ? AND r.delivery = ? AND a.status = ?"
            " ORDER BY a.id DESC LIMIT ?",
            (address.channel, address.external_id, Delivery.SENT, AlertStatus.OPEN, limit),
        )
        found = []
        for row in rows:
            texts = texts_of({"texts": json.loads(row["texts"])})
            text = texts.get(row["language"]) or next((t for t in texts.values() if t), "")
            found.append(
                ReceivedAlert(
                    alert_id=row["id"],
                    coordinator=Address(row["author_channel"], row["author_external_id"]),
                    coordinator_name=row["author_name"],
                    coordinator_language=row["author_language"],
                    text=text,
                )
            )
        return found

    async def add(
        self,
        alert_id: int,
        direction: Direction,
        volunteer: Address,
        coordinator: Address,
        coordinator_name: str,
        text: str,
    ) -> TalkMessage:
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO messages (alert_id, direction, channel, external_id, coordinator_channel,"
                " coordinator_external_id, coordinator_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert_id,
                    direction,
                    volunteer.channel,
                    volunteer.external_id,
                    coordinator.channel,
                    coordinator.external_id,
                    coordinator_name,
                    text,
                    now_iso(),
                ),
            )
            message_id = cur.lastrowid
        assert message_id is not None
        found = await self.get(message_id)
        assert found is not None
        return found

    async def get(self, message_id: int) -> TalkMessage | None:
        row = await self.db.fetchone(_SELECT + " WHERE m.id = ?", (message_id,))
        return _to_message(row) if row else None

    async def of_alert(self, alert_id: int) -> list[TalkMessage]:
        rows = await self.db.fetchall(_SELECT + " WHERE m.alert_id = ? ORDER BY m.id", (alert_id,))
        return [_to_message(r) for r in rows]

    async def of_person(self, address: Address) -> list[TalkMessage]:
        rows = await self.db.fetchall(
            _SELECT + " WHERE m.channel = ? AND m.external_id = ? ORDER BY m.id", (address.channel, address.external_id)
        )
        return [_to_message(r) for r in rows]

    async def sent_since(self, address: Address, since: datetime) -> int:
        """How many messages ``address`` sent to coordinators from ``since`` on."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM messages WHERE channel = ? AND external_id = ? AND direction = ?"
                " AND created_at >= ?",
                (address.channel, address.external_id, Direction.IN, since.isoformat(timespec="seconds")),
            )
        )

    async def forget(self, address: Address) -> int:
        """Delete the person's messages, both ways (their text is personal data); overwritten on disk."""
        async with self.db.read() as conn:
            await conn.execute("PRAGMA secure_delete = ON")
        return await self.db.execute(
            "DELETE FROM messages WHERE channel = ? AND external_id = ?", (address.channel, address.external_id)
        )
