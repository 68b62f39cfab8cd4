"""Counts for the metrics, read in one short read (three aggregate queries)."""

from __future__ import annotations

from bot.domain.alerts import AlertStatus
from bot.domain.outbox import OutboxKind, OutboxState
from bot.domain.people import PersonStatus
from bot.domain.stats import StoredCounts
from db.database import Database


class StatsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def counts(self) -> StoredCounts:
        async with self.db.read() as conn:
            # the state as a literal, so that the partial index of the queue (WHERE state = 'queued') is used
            queued = await conn.execute_fetchall(
                f"SELECT kind, count(*) FROM outbox WHERE state = '{OutboxState.QUEUED.value}' GROUP BY kind"
            )
            open_alerts = await conn.execute_fetchall(
                "SELECT count(*) FROM alerts WHERE status = ?", (AlertStatus.OPEN,)
            )
            people = await conn.execute_fetchall("SELECT status, count(*) FROM people GROUP BY status")
        return StoredCounts(
            queued={OutboxKind(kind): int(n) for kind, n in queued},
            open_alerts=int(next(iter(open_alerts))[0]),
            people={PersonStatus(status): int(n) for status, n in people},
        )
