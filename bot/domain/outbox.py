"""The broadcast sender: drains a durable outbox at the configured rate with a bounded
number of requests in flight.

It knows nothing of Telegram or SQL: a ``Store`` hands out due jobs and records results, a
``Transport`` delivers one job and says how it went. After a restart, whatever is still
``queued`` in the store is sent; what was recorded as sent never is again."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.budget import SendBudget
from bot.domain.people import Address
from bot.logs import event

log = logging.getLogger(__name__)


class OutboxKind(StrEnum):
    """``outbox.kind``: what a message is. Edits change a message already sent."""

    ALERT = "alert"
    REMINDER = "reminder"
    FOLLOWUP = "followup"
    CLOSED = "closed"
    STANDBY_RELEASED = "standby_released"
    PROMOTED = "promoted"
    EDIT_CLOSED = "edit_closed"
    EDIT_ANSWER = "edit_answer"
    NOTICE = "notice"


class OutboxState(StrEnum):
    """``outbox.state``: waiting to go out, or what became of it."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


# Edits are not rate counted (they do not make a new message).
UNCOUNTED_KINDS = frozenset({OutboxKind.EDIT_CLOSED, OutboxKind.EDIT_ANSWER})
# Not sent any more once their alert is closed (the store cancels the queued ones).
CANCELLED_ON_CLOSE = frozenset({OutboxKind.ALERT, OutboxKind.REMINDER})


@dataclass
class Job:
    id: int
    address: Address
    kind: OutboxKind
    params: dict[str, Any]
    attempts: int = 0
    alert_id: int | None = None
    recipient_id: int | None = None
    language: str = "lv"
    timezone: str = "Europe/Riga"
    message_id: int | None = None  # for edits: the message to change


@dataclass(frozen=True)
class Sent:
    message_id: int | None = None


@dataclass(frozen=True)
class RetryLater:
    """429: Telegram asks everyone to wait."""

    seconds: float


@dataclass(frozen=True)
class Transient:
    """5xx, timeout, dropped connection: try again with backoff."""

    reason: str


@dataclass(frozen=True)
class Blocked:
    """403: the person blocked the bot."""

    reason: str = "blocked"


@dataclass(frozen=True)
class Failed:
    """Permanent: chat not found, bad request."""

    reason: str


Result = Sent | RetryLater | Transient | Blocked | Failed


class Store(Protocol):
    async def due_jobs(self, limit: int, exclude: set[int]) -> list[Job]: ...
    async def next_due_in(self, exclude: set[int]) -> float | None: ...
    async def record(self, job: Job, result: Result, retry_at: float | None) -> None: ...
    async def enqueue_closing_edit(self, job: Job, message_id: int) -> None: ...


class Transport(Protocol):
    async def deliver(self, job: Job) -> Result: ...


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0
    started: float = field(default_factory=time.monotonic)


class OutboxSender:
    def __init__(
        self,
        store: Store,
        transport: Transport,
        budget: SendBudget,
        *,
        max_in_flight: int = 16,
        max_attempts: int = 6,
        on_recorded: Callable[[Job, Result], None] | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.budget = budget
        self.max_in_flight = max_in_flight
        self.max_attempts = max_attempts
        self.on_recorded = on_recorded
        self.stats = SenderStats()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._closed_alerts: set[int] = set()

    def wake(self) -> None:
        """New jobs were queued."""
        self._wake.set()

    def alert_closed(self, alert_id: int) -> None:
        """Jobs of ``alert_id`` already read from the store but not yet on their way are
        dropped if they are alert messages or reminders (the store marked them cancelled);
        one that was already on its way is marked closed once it is sent."""
        self._closed_alerts.add(alert_id)

    def _cancelled(self, job: Job) -> bool:
        return job.kind in CANCELLED_ON_CLOSE and job.alert_id in self._closed_alerts

    def start(self) -> None:
        self._stopping = False
        self._runner = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            self._runner = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    @property
    def idle(self) -> bool:
        return not self._in_flight

    async def _run(self) -> None:
        while not self._stopping:
            try:
                jobs = await self.store.due_jobs(self.max_in_flight * 4, self._in_flight)
            except Exception:
                event(log, "outbox_read_failed", level=logging.ERROR, exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if not jobs:
                self._wake.clear()
                delay = await self.store.next_due_in(self._in_flight)
                timeout = 5.0 if delay is None else max(0.01, min(delay, 5.0))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
                continue
            for job in jobs:
                if self._stopping:
                    return
                if self._cancelled(job):
                    continue
                await self._slots.acquire()
                if job.kind not in UNCOUNTED_KINDS:
                    await self.budget.acquire()
                if self._cancelled(job):  # closed while this job waited for its turn
                    self._slots.release()
                    continue
                self._in_flight.add(job.id)
                task = asyncio.create_task(self._deliver(job))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, job: Job) -> None:
        retry_at: float | None = None
        try:
            try:
                result: Result = await self.transport.deliver(job)
            except Exception as exc:  # a bug or an unexpected error: retry, never lose the job
                event(log, "outbox_transport_error", job=job.id, level=logging.ERROR, exc_info=True)
                result = Transient(type(exc).__name__)
            if isinstance(result, RetryLater):
                self.stats.rate_limited += 1
                self.budget.pause(result.seconds)
                retry_at = time.time() + result.seconds
                event(log, "outbox_retry_after", job=job.id, seconds=round(result.seconds, 1), level=logging.WARNING)
            elif isinstance(result, Transient):
                job.attempts += 1
                if job.attempts >= self.max_attempts:
                    result = Failed(f"gave up after {job.attempts} attempts: {result.reason}")
                else:
                    self.stats.retried += 1
                    backoff = min(60.0, 0.5 * 2**job.attempts) * (0.75 + random.random() / 2)
                    retry_at = time.time() + backoff
                    event(
                        log,
                        "outbox_retry",
                        job=job.id,
                        attempt=job.attempts,
                        reason=result.reason,
                        retry_in=round(backoff, 1),
                    )
            if isinstance(result, Sent):
                self.stats.sent += 1
            elif isinstance(result, Blocked):
                self.stats.blocked += 1
            elif isinstance(result, Failed):
                self.stats.failed += 1
                event(log, "outbox_failed", job=job.id, kind=job.kind, reason=result.reason)
            await self.store.record(job, result, retry_at)
            if isinstance(result, Sent) and result.message_id is not None and self._cancelled(job):
                await self.store.enqueue_closing_edit(job, result.message_id)  # it went out as its alert closed
            if self.on_recorded is not None:
                self.on_recorded(job, result)
        except Exception:
            event(log, "outbox_record_failed", job=job.id, level=logging.ERROR, exc_info=True)
        finally:
            self._in_flight.discard(job.id)
            self._slots.release()
            self._wake.set()
