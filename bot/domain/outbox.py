"""The broadcast sender: drains a durable outbox at the configured rate with as many
requests in flight as that rate needs.

It knows nothing of Telegram or SQL: a ``Store`` hands out due jobs and records results, a
``Transport`` delivers one job and says how it went. After a restart, whatever is still
``queued`` in the store is sent; what was recorded as sent never is again.

Results are recorded in batches (``GroupCommit``: the results that arrive while one batch is
being written go together in the next), and a job keeps its place in the in-flight window
until its result is written. So a crash can re-send only messages whose requests were in
flight or whose results were not yet written, at most the window's size (``InFlightWindow``,
at most ``broadcast.max_in_flight``) however the results are batched: the same bound as when
each result had its own transaction, where every request in flight could also have reached
Telegram unrecorded. In practice it is about one round trip's worth of messages (the
window: about 67 at 1,000 a second and 50 ms).

Retries are the sender's alone (the HTTP layer never repeats a request that may have
arrived), and every attempt is recorded. A message that fails for a passing reason (5xx,
no connection, a timeout) is tried again, with a backoff that doubles up to
``RetryPolicy.max_backoff`` with jitter, until it is delivered, its alert closes (the store
cancels alert messages and reminders then) or it is older than ``give_up_after``;
permanent errors (blocked, chat not found, other 400s) stop it at once.

While Telegram is unreachable (``held_up_since`` is set) the sender does not burn through
its queue one failure after another: it waits for what is in flight, then probes with one
message at a time (the oldest due), the probes spaced by the same backoff. The first probe
that gets through ends the hold-up: the messages held back by the outage are due again in
their original order (``Store.release_deferred``) and the full rate resumes at once. When the
bot's other requests (``Reachability``) see Telegram answer again, the next probe goes at
once instead of after its backoff (once per hold-up, so a partial outage, where other calls
work, is still probed at the backoff's pace).

The in-flight window is sized from the rate and the measured round trip
(``InFlightWindow``), so a paid broadcast at 1,000 messages a second reaches its rate
without hand tuning."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.budget import SendBudget
from bot.domain.people import Address
from bot.domain.reachability import Reachability
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
    NOTICE = "notice"  # to one person, about no alert: ``params["notice"]`` says which (``Notice``)


class Notice(StrEnum):
    """What a NOTICE job tells its person; its other params fill the text in."""

    COORDINATOR_REVOKED = "coordinator_revoked"  # params: organisation (its name)


# Edits: in paid mode they stay at Telegram's free rate (``SendBudget.acquire_edit``)
EDIT_KINDS = frozenset({OutboxKind.EDIT_CLOSED, OutboxKind.EDIT_ANSWER})


class OutboxState(StrEnum):
    """``outbox.state``: waiting to go out, or what became of it."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


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
    created: float = 0.0  # when it was queued (time.time() seconds; 0: unknown, never expires)


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


@dataclass(frozen=True)
class Outcome:
    """One attempt's result, to record: ``retry_at`` (time.time() seconds) when the job is to
    be tried again, None when the result is final."""

    job: Job
    result: Result
    retry_at: float | None = None


class Store(Protocol):
    async def due_jobs(self, limit: int, exclude: set[int]) -> list[Job]: ...
    async def next_due_in(self, exclude: set[int]) -> float | None: ...
    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Record every outcome, all or none (one transaction)."""
        ...

    async def enqueue_closing_edit(self, job: Job, message_id: int) -> None: ...
    async def release_deferred(self) -> int:
        """Queued jobs waiting out a retry's backoff are due now, in their original order;
        how many."""
        ...


class Transport(Protocol):
    async def deliver(self, job: Job) -> Result: ...


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0
    expired: int = 0
    outages: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class RetryPolicy:
    """How passing failures are retried: ``first_backoff`` seconds after the first, doubling
    up to ``max_backoff``, each with ±25 % jitter; a job older than ``give_up_after`` seconds
    is not tried again (nor sent at all, if it waited that long)."""

    max_backoff: float = 60.0
    give_up_after: float = 1440 * 60.0
    first_backoff: float = 0.5

    def backoff(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        base = min(self.max_backoff, self.first_backoff * 2.0 ** max(0, failures - 1))
        return base * (0.75 + rng() / 2)

    def expired(self, job: Job, now: float) -> bool:
        return job.created > 0 and now - job.created >= self.give_up_after


class GroupCommit:
    """Records outcomes in batches: ``record`` returns once its outcome is written. While one
    batch is being written, the outcomes that arrive meanwhile wait and go together in the
    next (at most ``max_batch``), so a lone result is written at once, as before, and at 1,000
    messages a second one transaction carries dozens instead of each having its own (four
    trips to the database thread each). Nothing waits for a timer. A batch that fails to be
    written fails every ``record`` in it."""

    def __init__(self, write: Callable[[Sequence[Outcome]], Awaitable[None]], max_batch: int = 256) -> None:
        self._write = write
        self.max_batch = max(1, max_batch)
        self._pending: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.outcomes = 0

    @property
    def waiting(self) -> int:
        """Outcomes waiting for the next batch."""
        return len(self._pending)

    async def record(self, outcome: Outcome) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="outbox-recorder")
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                await self._write([outcome for outcome, _ in batch])
            except Exception as exc:  # each waiting record raises it (the sender logs and carries on)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self.batches += 1
                self.outcomes += len(batch)
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


class InFlightWindow:
    """How many requests the sender keeps in flight: the configured rate × the time a
    message holds its place in the window (an exponentially weighted average of the measured
    ones: the round trip to Telegram plus recording the result) × 1.25, plus ``margin``,
    between ``minimum`` and ``maximum``. At 30 messages a second and a 50 ms round trip that
    is 6; at 1,000 and 50 ms, 67."""

    def __init__(
        self,
        rate: float,
        *,
        maximum: int,
        minimum: int = 2,
        margin: int = 4,
        initial_rtt: float = 0.1,
        weight: float = 0.1,
    ) -> None:
        self.rate = rate
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.margin = margin
        self.rtt = initial_rtt
        self._weight = weight

    def observe(self, seconds: float) -> None:
        """One request's round trip."""
        self.rtt += self._weight * (seconds - self.rtt)

    @property
    def size(self) -> int:
        wanted = math.ceil(self.rate * self.rtt * 1.25) + self.margin
        return max(self.minimum, min(self.maximum, wanted))


@dataclass
class DeliveryHold:
    """Whether delivery is held up (Telegram unreachable) and since when (``time.time()``):
    written by the sender, read by whoever tells people about it (the tracking message). One
    object, built by the wiring and handed to both, so neither is patched onto the other."""

    held_up_since: float | None = None


STOP_WAIT_SECONDS = 20.0


class OutboxSender:
    def __init__(
        self,
        store: Store,
        transport: Transport,
        budget: SendBudget,
        *,
        max_in_flight: int = 16,
        policy: RetryPolicy | None = None,
        on_recorded: Callable[[Job, Result], None] | None = None,
        on_held_up: Callable[[], None] | None = None,
        reachability: Reachability | None = None,
        hold: DeliveryHold | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.budget = budget
        self.window = InFlightWindow(budget.rate, maximum=max_in_flight)
        self.policy = policy or RetryPolicy()
        self.on_recorded = on_recorded
        self.on_held_up = on_held_up  # the hold-up began or ended
        self.reachability = reachability  # the bot's other requests: Telegram back means probe now
        self.stats = SenderStats()
        self.recorder = GroupCommit(store.record)
        self.hold = hold if hold is not None else DeliveryHold()  # since the failure that began an outage
        self._held_up_at = 0.0  # time.monotonic() of the same
        self._probe_failures = 0
        self._early_probe_used = False
        self._wake = asyncio.Event()
        self._freed = asyncio.Event()
        self._stop = asyncio.Event()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._closed_alerts: set[int] = set()

    @property
    def max_in_flight(self) -> int:
        return self.window.maximum

    @property
    def held_up_since(self) -> float | None:
        return self.hold.held_up_since

    @held_up_since.setter
    def held_up_since(self, value: float | None) -> None:
        self.hold.held_up_since = value

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
        self._stop.clear()
        self._runner = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            self._runner = None
        if self._tasks:
            # longer than the broadcast bot's read timeout (15 s): a send in flight ends, and is
            # recorded, rather than staying queued to be sent again after the restart
            await asyncio.wait(self._tasks, timeout=STOP_WAIT_SECONDS)

    @property
    def idle(self) -> bool:
        return not self._in_flight

    @property
    def held_up(self) -> bool:
        return self.held_up_since is not None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if self.held_up:
                    await self._probe()
                else:
                    await self._send_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                event(log, "outbox_read_failed", level=logging.ERROR, exc_info=True)
                await self._pause(1.0)

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the sender is stopped meanwhile."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _idle_wait(self) -> None:
        self._wake.clear()
        delay = await self.store.next_due_in(self._in_flight)
        timeout = 5.0 if delay is None else max(0.01, min(delay, 5.0))
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    async def _send_batch(self) -> None:
        jobs = await self.store.due_jobs(max(16, self.window.size * 4), self._in_flight)
        if not jobs:
            await self._idle_wait()
            return
        for job in jobs:
            if self._stopping or self.held_up:
                return  # an outage began: the rest waits for the probes
            if self._cancelled(job):
                continue
            while len(self._in_flight) >= self.window.size:
                self._freed.clear()
                await self._freed.wait()
                if self._stopping or self.held_up:
                    return
            await self._take_token(job)  # edits count against Telegram's limits as sends do
            if self._cancelled(job):  # closed while this job waited for its turn
                continue
            if self.held_up:
                return
            self._in_flight.add(job.id)
            task = asyncio.create_task(self._deliver(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _take_token(self, job: Job) -> None:
        await (self.budget.acquire_edit() if job.kind in EDIT_KINDS else self.budget.acquire())

    async def _probe(self) -> None:
        """Held up: let what is in flight finish, wait the backoff, then send the oldest due
        job alone."""
        while self._in_flight and not self._stopping:
            self._freed.clear()
            await self._freed.wait()
        if not self.held_up or self._stopping:
            return
        await self._probe_wait(self.policy.backoff(self._probe_failures + 1))
        if self._stopping:
            return
        jobs = await self.store.due_jobs(1, self._in_flight)
        if not jobs:
            await self._idle_wait()
            return
        job = jobs[0]
        if not self._cancelled(job):
            await self._take_token(job)
            self._in_flight.add(job.id)
            await self._deliver(job)

    async def _probe_wait(self, seconds: float) -> None:
        """Wait ``seconds``, or less: when the bot's other requests (polling, replies) see
        Telegram unreachable and then answering again during the wait, the probe goes at once,
        once per hold-up, so that delivery resumes within seconds of an outage's end rather
        than a backoff later."""
        deadline = time.monotonic() + seconds
        saw_down = False
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            r = self.reachability
            if r is not None and not self._early_probe_used:
                if not r.reachable:
                    saw_down = True
                elif saw_down:
                    self._early_probe_used = True
                    return
            await self._pause(min(left, 0.25))

    async def _deliver(self, job: Job) -> None:
        retry_at: float | None = None
        began = time.monotonic()
        try:
            if self.policy.expired(job, time.time()):
                result: Result = Failed(f"expired: not delivered within {self.policy.give_up_after / 60:g} minutes")
                self.stats.expired += 1
            else:
                try:
                    result = await self.transport.deliver(job)
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
                if self.policy.expired(job, time.time()):
                    result = Failed(f"gave up after {job.attempts} attempts: {result.reason}")
                    self.stats.expired += 1
                else:
                    self.stats.retried += 1
                    backoff = self.policy.backoff(job.attempts)
                    retry_at = time.time() + backoff
                    event(
                        log,
                        "outbox_retry",
                        job=job.id,
                        attempt=job.attempts,
                        reason=result.reason,
                        retry_in=round(backoff, 1),
                    )
                    self._failed_passing(began)
            if isinstance(result, Sent):
                self.stats.sent += 1
            elif isinstance(result, Blocked):
                self.stats.blocked += 1
            elif isinstance(result, Failed):
                self.stats.failed += 1
                event(log, "outbox_failed", job=job.id, kind=job.kind, reason=result.reason)
            await self.recorder.record(Outcome(job, result, retry_at))
            if isinstance(result, Sent):
                self.window.observe(time.monotonic() - began)  # its place in the window: round trip and record
            if not isinstance(result, Transient | RetryLater):
                await self._got_through(began)
            if isinstance(result, Sent) and result.message_id is not None and self._cancelled(job):
                await self.store.enqueue_closing_edit(job, result.message_id)  # it went out as its alert closed
            if self.on_recorded is not None:
                self.on_recorded(job, result)
        except Exception:
            event(log, "outbox_record_failed", job=job.id, level=logging.ERROR, exc_info=True)
        finally:
            self._in_flight.discard(job.id)
            self._freed.set()
            self._wake.set()

    def _failed_passing(self, began: float) -> None:
        """A request begun at ``began`` (monotonic) failed for a passing reason."""
        if self.held_up_since is None:
            self.held_up_since = time.time()
            self._held_up_at = time.monotonic()
            self._probe_failures = 0
            self.stats.outages += 1
            event(log, "outbox_held_up", in_flight=len(self._in_flight), level=logging.WARNING)
            if self.on_held_up is not None:
                self.on_held_up()
        elif began >= self._held_up_at:
            self._probe_failures += 1  # a probe: the next one waits longer

    async def _got_through(self, began: float) -> None:
        """Telegram answered a request begun at ``began``: an answer to one begun before the
        hold-up says nothing about now."""
        if self.held_up_since is None or began < self._held_up_at:
            return
        held_for = time.time() - self.held_up_since
        released = await self.store.release_deferred() if self._probe_failures else 0
        self.held_up_since = None
        self._probe_failures = 0
        self._early_probe_used = False
        event(log, "outbox_resumed", held_seconds=round(held_for, 1), released=released, level=logging.WARNING)
        if self.on_held_up is not None:
            self.on_held_up()
