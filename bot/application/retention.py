"""Retention: the answers and delivery rows of alerts closed longer ago than
``privacy.retention_days`` are anonymised, at start-up and then every day. The counts stay (how
many were sent, accepted, declined...), so statistics and /alerts still add up; who answered,
their messages and the messages sent to them go, and so do the notices to single people (a
revoked coordinator's) older than that. Each run writes one audit row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.application.audit import Audit
from bot.application.tracking import Scheduler
from bot.domain.audit import AuditAction, AuditRole
from bot.logs import event

log = logging.getLogger(__name__)

RUN_EVERY_SECONDS = 24 * 3600.0
FIRST_RUN_SECONDS = 1.0  # after start-up (PTB's JobQueue cannot run a repeating job at once)


class AnonymisedCounts(Protocol):
    @property
    def alerts(self) -> int: ...
    @property
    def recipients(self) -> int: ...
    @property
    def outbox(self) -> int: ...
    @property
    def messages(self) -> int: ...


class RetentionStore(Protocol):
    """``db.retention.RetentionRepo``."""

    async def closed_before(self, cutoff: datetime) -> list[int]: ...
    async def anonymise(self, alert_ids: list[int]) -> AnonymisedCounts: ...
    async def forget_notices(self, cutoff: datetime) -> int: ...


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Alerts closed before this moment are anonymised."""
    return now - timedelta(days=retention_days)


class Retention:
    def __init__(self, store: RetentionStore, audit: Audit, scheduler: Scheduler, *, retention_days: int) -> None:
        self._store = store
        self._audit = audit
        self._scheduler = scheduler
        self._days = retention_days

    def start(self) -> None:
        """Run at start-up (in the background, a moment later) and then every 24 hours."""
        self._scheduler.run_repeating(RUN_EVERY_SECONDS, self._run, "retention", first=FIRST_RUN_SECONDS)

    async def _run(self) -> None:
        await self.anonymise_old_alerts()

    async def anonymise_old_alerts(self, now: datetime | None = None) -> AnonymisedCounts:
        """Anonymise every alert closed more than ``retention_days`` before ``now``, and record
        the run in the audit trail (also when there was nothing to do)."""
        cutoff = retention_cutoff(now or datetime.now(UTC), self._days)
        done = await self._store.anonymise(await self._store.closed_before(cutoff))
        notices = await self._store.forget_notices(cutoff)
        await self._audit.record_as(
            AuditRole.SYSTEM,
            AuditAction.RETENTION_RUN,
            "alerts",
            retention_days=self._days,
            alerts=done.alerts,
            recipients=done.recipients,
            outbox=done.outbox,
            messages=done.messages,
            notices=notices,
        )
        event(
            log,
            "retention_run",
            days=self._days,
            alerts=done.alerts,
            recipients=done.recipients,
            outbox=done.outbox,
            messages=done.messages,
            notices=notices,
        )
        return done
