"""Anonymising old alerts (``bot.application.retention`` decides which and when): the answers
and delivery rows stay, without anything that says who they were."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.alerts import AlertStatus
from bot.domain.outbox import OutboxKind, OutboxState
from db.database import Database
from db.people import now_iso


@dataclass(frozen=True)
class Anonymised:
    alerts: int = 0
    recipients: int = 0  # rows that lost who they were (their answers and delivery states stay)
    outbox: int = 0  # messages to them, deleted
    messages: int = 0  # talk-back messages, deleted


class RetentionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def closed_before(self, cutoff: datetime) -> list[int]:
        """The alerts closed before ``cutoff`` that are not anonymised yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id FROM alerts WHERE status = ? AND closed_at IS NOT NULL AND closed_at < ?"
            " AND anonymised_at IS NULL ORDER BY id",
            (AlertStatus.CLOSED, cutoff.isoformat(timespec="seconds")),
        )
        return [int(r["id"]) for r in rows]

    async def forget_notices(self, cutoff: datetime) -> int:
        """Delete the notices about no alert (a revoked coordinator's) queued before
        ``cutoff`` and no longer waiting to go out; returns how many."""
        return await self.db.execute(
            "DELETE FROM outbox WHERE kind = ? AND recipient_id IS NULL AND state != ? AND created_at < ?",
            (OutboxKind.NOTICE, OutboxState.QUEUED, cutoff.isoformat(timespec="seconds")),
        )

    async def anonymise(self, alert_ids: Iterable[int]) -> Anonymised:
        """Each alert in a transaction of its own: its recipient rows lose who and where they
        were (person, address, arrival time, message id) and keep their delivery state and
        answer, so that its counts stay; the messages queued or sent to them and the talk-back
        messages about the alert are deleted; the alert is marked anonymised. As ``/forget``
        does, what is removed is overwritten in the file (``secure_delete``) and the write-ahead
        log emptied afterwards."""
        ids = list(alert_ids)
        total = Anonymised()
        if not ids:
            return total
        async with self.db.read() as conn:
            cur = await conn.execute("PRAGMA secure_delete")
            row = await cur.fetchone()
            before = int(row[0]) if row is not None else 0
            await conn.execute("PRAGMA secure_delete = ON")
        try:
            for alert_id in ids:
                recipients, outbox, messages = await self._anonymise(alert_id)
                total = Anonymised(
                    total.alerts + 1, total.recipients + recipients, total.outbox + outbox, total.messages + messages
                )
        finally:
            async with self.db.read() as conn:
                await conn.execute(f"PRAGMA secure_delete = {before}")
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return total

    async def _anonymise(self, alert_id: int) -> tuple[int, int, int]:
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "UPDATE recipients SET person_id = NULL, channel = NULL, external_id = NULL, eta = NULL,"
                " message_id = NULL WHERE alert_id = ?",
                (alert_id,),
            )
            recipients = cur.rowcount
            cur = await conn.execute(
                # (every outbox row of an alert is one of its recipients')
                "DELETE FROM outbox WHERE recipient_id IN (SELECT id FROM recipients WHERE alert_id = ?)",
                (alert_id,),
            )
            outbox = cur.rowcount
            cur = await conn.execute("DELETE FROM messages WHERE alert_id = ?", (alert_id,))
            messages = cur.rowcount
            await conn.execute("UPDATE alerts SET anonymised_at = ? WHERE id = ?", (now_iso(), alert_id))
        return recipients, outbox, messages
