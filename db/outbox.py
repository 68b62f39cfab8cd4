"""The durable outbox: one row per message to send, drained by ``bot.domain.outbox``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime

from bot.domain.alerts import Delivery
from bot.domain.outbox import Blocked, Failed, Job, Notice, OutboxKind, OutboxState, Outcome, Result, Sent
from bot.domain.people import Address
from db.database import Database
from db.people import now_iso

_DUE = """
SELECT o.id, o.channel, o.external_id, o.kind, o.payload, o.attempts, o.recipient_id, o.created_at,
       r.alert_id, r.language, r.message_id AS alert_message_id, r.response, r.eta, p.timezone
FROM outbox o
LEFT JOIN recipients r ON r.id = o.recipient_id
LEFT JOIN people p ON p.id = r.person_id
WHERE o.state = ? AND o.next_attempt_at <= ?
ORDER BY o.priority, o.next_attempt_at, o.id
LIMIT ?
"""


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def due_jobs(self, limit: int, exclude: set[int]) -> list[Job]:
        rows = await self.db.fetchall(_DUE, (OutboxState.QUEUED, time.time(), limit + len(exclude)))
        jobs = []
        for r in rows:
            if r["id"] in exclude:
                continue
            params = json.loads(r["payload"])
            if r["response"] is not None:
                params.update(response=r["response"], eta=r["eta"])
            jobs.append(
                Job(
                    id=r["id"],
                    address=Address(r["channel"], r["external_id"]),
                    kind=OutboxKind(r["kind"]),
                    params=params,
                    attempts=r["attempts"],
                    alert_id=r["alert_id"] if r["alert_id"] is not None else params.get("alert_id"),
                    recipient_id=r["recipient_id"],
                    language=r["language"] or params.get("language", "lv"),
                    timezone=r["timezone"] or "Europe/Riga",
                    message_id=params.get("message_id") or r["alert_message_id"],
                    created=_timestamp(r["created_at"]),
                )
            )
            if len(jobs) >= limit:
                break
        return jobs

    async def next_due_in(self, exclude: set[int]) -> float | None:
        rows = await self.db.fetchall(
            "SELECT id, next_attempt_at FROM outbox WHERE state = ? ORDER BY next_attempt_at LIMIT ?",
            (OutboxState.QUEUED, len(exclude) + 1),
        )
        for r in rows:
            if r["id"] not in exclude:
                return max(0.0, float(r["next_attempt_at"]) - time.time())
        return None

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Record ``outcomes`` in one transaction, with one statement of each kind for all of
        them (``executemany``: one trip to the database thread each)."""
        now = now_iso()
        retries: list[tuple[object, ...]] = []
        finals: list[tuple[object, ...]] = []
        deliveries: list[tuple[object, ...]] = []
        blocked: list[tuple[object, ...]] = []
        for o in outcomes:
            job, result = o.job, o.result
            if o.retry_at is not None:
                retries.append((job.attempts, o.retry_at, _reason(result), job.id))
                continue
            state = _state(result)
            message_id = result.message_id if isinstance(result, Sent) else None
            finals.append(
                (state, job.attempts, message_id, _reason(result), now if state == OutboxState.SENT else None, job.id)
            )
            if job.kind == OutboxKind.ALERT and job.recipient_id is not None:
                deliveries.append((Delivery(state.value), message_id, job.recipient_id))
            if isinstance(result, Blocked):
                blocked.append((now, job.address.channel, job.address.external_id))
        async with self.db.tx() as conn:
            if retries:
                await conn.executemany(
                    "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?", retries
                )
            if finals:
                await conn.executemany(
                    "UPDATE outbox SET state = ?, attempts = ?, message_id = ?, last_error = ?, sent_at = ?"
                    " WHERE id = ?",
                    finals,
                )
            if deliveries:
                await conn.executemany(
                    "UPDATE recipients SET delivery = ?, message_id = coalesce(?, message_id) WHERE id = ?", deliveries
                )
            if blocked:
                await conn.executemany(
                    "UPDATE people SET blocked_at = ? WHERE channel = ? AND external_id = ? AND blocked_at IS NULL",
                    blocked,
                )

    async def enqueue_notice(self, address: Address, notice: Notice, language: str, **params: str) -> None:
        """Queue a notice to ``address`` (about no alert), in ``language``, ahead of broadcasts."""
        payload = json.dumps({"notice": notice, "language": language, **params}, ensure_ascii=False)
        await self.db.execute(
            "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
            " VALUES (NULL, ?, ?, ?, 0, ?, ?)",
            (address.channel, address.external_id, OutboxKind.NOTICE, payload, now_iso()),
        )

    async def release_deferred(self) -> int:
        """Queued jobs waiting out a retry's backoff are due now. A job is first queued with
        ``next_attempt_at`` 0, so setting it back to 0 puts it where it was: the queue's order
        is (priority, next_attempt_at, id)."""
        return await self.db.execute(
            "UPDATE outbox SET next_attempt_at = 0 WHERE state = ? AND attempts > 0 AND next_attempt_at > ?",
            (OutboxState.QUEUED, time.time()),
        )

    async def enqueue_closing_edit(self, job: Job, message_id: int) -> None:
        """Mark message ``message_id`` of ``job``'s alert closed (an EDIT_CLOSED job)."""
        await self.db.execute(
            "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
            " VALUES (?, ?, ?, ?, 2, ?, ?)",
            (
                job.recipient_id,
                job.address.channel,
                job.address.external_id,
                OutboxKind.EDIT_CLOSED,
                json.dumps({"alert_id": job.alert_id, "message_id": message_id}),
                now_iso(),
            ),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT state, count(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}


def _timestamp(iso: str | None) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else 0.0
    except ValueError:
        return 0.0


def _state(result: Result) -> OutboxState:
    if isinstance(result, Sent):
        return OutboxState.SENT
    return OutboxState.BLOCKED if isinstance(result, Blocked) else OutboxState.FAILED


def _reason(result: Result) -> str | None:
    if isinstance(result, Failed | Blocked):
        return result.reason[:200]
    return getattr(result, "reason", None)
