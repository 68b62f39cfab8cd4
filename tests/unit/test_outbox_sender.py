"""The outbox sender through its interfaces: an in-memory ``Store`` and a scripted
``Transport`` (the test's own implementations of the sender's Protocols). Retried jobs are
due again at once in this store, which records the delay the sender asked for; nothing here
depends on how fast the machine is (the bounds are generous, the rest are counts)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence

import pytest

from bot.domain.budget import SendBudget
from bot.domain.outbox import (
    Blocked,
    Failed,
    InFlightWindow,
    Job,
    OutboxKind,
    OutboxSender,
    Outcome,
    Result,
    RetryLater,
    RetryPolicy,
    Sent,
    Transient,
)
from bot.domain.people import Address


def job(job_id: int, kind: OutboxKind = OutboxKind.ALERT, alert_id: int | None = 7) -> Job:
    return Job(id=job_id, address=Address.telegram(1000 + job_id), kind=kind, params={}, alert_id=alert_id)


@dataclasses.dataclass
class Recorded:
    job_id: int
    result: Result
    attempts: int
    retry_in: float | None  # seconds from when it was recorded


class MemoryStore:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = {j.id: j for j in jobs}
        self.queued = [j.id for j in jobs]
        self.recorded: list[Recorded] = []
        self.closing_edits: list[tuple[int, int]] = []
        self.releases = 0
        self.batches: list[int] = []  # how many outcomes each record() wrote

    async def due_jobs(self, limit: int, exclude: set[int]) -> list[Job]:
        return [dataclasses.replace(self.jobs[i]) for i in self.queued if i not in exclude][:limit]

    async def next_due_in(self, exclude: set[int]) -> float | None:
        return 0.0 if any(i not in exclude for i in self.queued) else None

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        self.batches.append(len(outcomes))
        for o in outcomes:
            job, retry_at = o.job, o.retry_at
            retry_in = None if retry_at is None else retry_at - time.time()
            self.recorded.append(Recorded(job.id, o.result, job.attempts, retry_in))
            self.jobs[job.id] = dataclasses.replace(self.jobs[job.id], attempts=job.attempts)
            if retry_at is None and job.id in self.queued:  # (closing its alert may have taken it out)
                self.queued.remove(job.id)

    async def enqueue_closing_edit(self, job: Job, message_id: int) -> None:
        self.closing_edits.append((job.id, message_id))

    async def release_deferred(self) -> int:
        self.releases += 1
        return 0  # (retried jobs are due at once here anyway)

    def close(self, alert_id: int) -> None:
        """What closing an alert does in the real store: its queued alert messages and
        reminders are not sent any more."""
        self.queued = [
            i
            for i in self.queued
            if not (self.jobs[i].alert_id == alert_id and self.jobs[i].kind in (OutboxKind.ALERT, OutboxKind.REMINDER))
        ]

    def results(self, job_id: int) -> list[Result]:
        return [r.result for r in self.recorded if r.job_id == job_id]


class ScriptedTransport:
    """Answers each delivery with the next result scripted for its job (then ``Sent``)."""

    def __init__(self, script: dict[int, list[Result | Exception]] | None = None) -> None:
        self.script = script or {}
        self.delivered: list[int] = []
        self.before: Callable[[Job], Awaitable[None]] | None = None

    async def deliver(self, job: Job) -> Result:
        self.delivered.append(job.id)
        if self.before is not None:
            await self.before(job)
        answers = self.script.get(job.id)
        answer = answers.pop(0) if answers else Sent(500 + job.id)
        if isinstance(answer, Exception):
            raise answer
        return answer


def fast_budget() -> SendBudget:
    return SendBudget(10_000, burst=10_000)


async def until(condition: Callable[[], bool], tries: int = 2000) -> None:
    for _ in range(tries):  # 10 s at least
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the sender did not get there")


async def run(sender: OutboxSender, store: MemoryStore) -> None:
    sender.start()
    try:
        await until(lambda: not store.queued and sender.idle)
    finally:
        await sender.stop()


async def test_every_job_is_sent_once_and_reported():
    store = MemoryStore([job(i) for i in range(1, 21)])
    transport = ScriptedTransport()
    reported: list[tuple[int, type]] = []
    sender = OutboxSender(
        store, transport, fast_budget(), max_in_flight=4, on_recorded=lambda j, r: reported.append((j.id, type(r)))
    )
    await run(sender, store)
    assert sorted(transport.delivered) == list(range(1, 21))
    assert [r.result for r in sorted(store.recorded, key=lambda r: r.job_id)] == [Sent(500 + i) for i in range(1, 21)]
    assert sorted(reported) == [(i, Sent) for i in range(1, 21)]
    assert sender.stats.sent == 20


async def test_429_pauses_the_broadcast_and_retries_after_the_wait():
    clock = {"now": 0.0}
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock["now"] += seconds
        await asyncio.sleep(0)

    budget = SendBudget(10_000, burst=10_000, clock=lambda: clock["now"], sleep=sleep)
    store = MemoryStore([job(1), job(2)])
    transport = ScriptedTransport({1: [RetryLater(3.0)]})
    sender = OutboxSender(store, transport, budget, max_in_flight=1)
    await run(sender, store)
    first = store.recorded[0]
    assert (first.job_id, first.result) == (1, RetryLater(3.0))
    assert first.retry_in is not None and 2.0 < first.retry_in <= 3.0
    assert first.attempts == 0  # a 429 is nobody's fault: it does not count as an attempt
    assert sum(waited) >= 3.0  # the broadcast waited out the pause before sending again
    assert store.results(1)[-1] == Sent(501) and store.results(2) == [Sent(502)]
    assert sender.stats.rate_limited == 1


QUICK = RetryPolicy(first_backoff=0.01, max_backoff=0.04)  # the real one's shape, in hundredths


async def test_passing_failures_are_retried_with_growing_backoff_up_to_the_cap_until_delivered():
    store = MemoryStore([job(1), job(2)])
    script: dict[int, list[Result | Exception]] = {
        1: [Transient("502")] * 6,
        2: [Transient("timeout"), Transient("timeout"), ValueError("bug")],
    }
    transport = ScriptedTransport(script)
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=2, policy=QUICK)
    await run(sender, store)
    one = [r for r in store.recorded if r.job_id == 1]
    # 0.01 s, doubling, ±25 %, up to the 0.04 s cap; then it goes through: nothing gives up
    assert [r.attempts for r in one] == [1, 2, 3, 4, 5, 6, 6]
    caps = [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]
    for r, cap in zip(one, caps, strict=False):
        assert r.retry_in is not None and r.retry_in <= cap * 1.25, (r, cap)
    assert one[-1].result == Sent(501) and one[-1].retry_in is None
    # an exception in the transport counts as a passing failure too: the job is not lost
    assert store.results(2)[-1] == Sent(502) and len(store.results(2)) == 4
    assert sender.stats.retried == 9 and sender.stats.failed == 0
    assert sender.held_up_since is None  # delivery resumed


def test_the_backoff_grows_to_the_cap_with_jitter():
    policy = RetryPolicy(max_backoff=60.0)
    assert [policy.backoff(n, rng=lambda: 0.5) for n in (1, 2, 3, 7, 8, 20)] == [0.5, 1.0, 2.0, 32.0, 60.0, 60.0]
    assert policy.backoff(20, rng=lambda: 0.0) == 45.0 and policy.backoff(20, rng=lambda: 1.0) == 75.0


async def test_a_message_older_than_give_up_after_is_not_sent_nor_retried():
    now = time.time()
    old, fresh = job(1), job(2)
    old.created, fresh.created = now - 120, now - 30
    store = MemoryStore([old, fresh, job(3)])  # job 3: no creation time known, never expires
    transport = ScriptedTransport({2: [Transient("502")] * 2})
    policy = RetryPolicy(first_backoff=0.01, max_backoff=0.02, give_up_after=60.0)
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=1, policy=policy)
    await run(sender, store)
    assert 1 not in transport.delivered
    first = store.results(1)[0]
    assert isinstance(first, Failed) and "expired" in first.reason
    assert store.results(2)[-1] == Sent(502) and store.results(3) == [Sent(503)]
    assert sender.stats.expired == 1


async def test_while_telegram_is_unreachable_it_probes_one_message_at_a_time_then_resumes():
    store = MemoryStore([job(i) for i in range(1, 41)])
    down = True
    in_flight = 0
    most_while_held_up = 0
    attempts_while_down = 0

    class Outage:
        def __init__(self) -> None:
            self.delivered: list[int] = []

        async def deliver(self, j: Job) -> Result:
            nonlocal in_flight, most_while_held_up, attempts_while_down
            in_flight += 1
            if sender.held_up:
                most_while_held_up = max(most_while_held_up, in_flight)
            try:
                await asyncio.sleep(0.005)
                if down:
                    attempts_while_down += 1
                    return Transient("NotSent: connection refused")
                self.delivered.append(j.id)
                return Sent(500 + j.id)
            finally:
                in_flight -= 1

    changes: list[bool] = []
    policy = RetryPolicy(first_backoff=0.02, max_backoff=0.05)
    outage = Outage()
    sender = OutboxSender(store, outage, fast_budget(), max_in_flight=8, policy=policy)
    sender.on_held_up = lambda: changes.append(sender.held_up)
    sender.start()
    try:
        await until(lambda: sender.held_up)
        await asyncio.sleep(0.5)  # ten probes' worth of outage
        assert attempts_while_down < 8 + 20  # the window that was on its way, then probes: not 40 failures
        assert most_while_held_up == 1
        assert len(store.queued) == 40 and sender.held_up_since is not None
        down = False
        await until(lambda: not store.queued and sender.idle)
    finally:
        await sender.stop()
    assert sorted(outage.delivered) == list(range(1, 41)) and len(outage.delivered) == 40
    assert changes == [True, False] and sender.held_up_since is None
    assert store.releases == 1  # the messages held back are due again, in their order (db/outbox.py)
    assert sender.stats.outages == 1


def test_the_window_follows_the_rate_and_the_measured_round_trip():
    paid = InFlightWindow(1000, maximum=256)
    for _ in range(100):
        paid.observe(0.05)
    assert 65 <= paid.size <= 70  # 1000/s × 50 ms × 1.25 + 4
    free = InFlightWindow(30, maximum=256)
    for _ in range(100):
        free.observe(0.05)
    assert free.size == 6
    slow = InFlightWindow(1000, maximum=128)
    for _ in range(100):
        slow.observe(1.0)
    assert slow.size == 128  # bounded by broadcast.max_in_flight


async def test_blocked_and_failed_are_final():
    store = MemoryStore([job(1), job(2), job(3)])
    transport = ScriptedTransport(
        {1: [Blocked("Forbidden: bot was blocked by the user")], 2: [Failed("chat not found")]}
    )
    sender = OutboxSender(store, transport, fast_budget())
    await run(sender, store)
    assert store.results(1) == [Blocked("Forbidden: bot was blocked by the user")]
    assert store.results(2) == [Failed("chat not found")]
    assert store.results(3) == [Sent(503)]
    assert transport.delivered.count(1) == transport.delivered.count(2) == 1
    assert (sender.stats.sent, sender.stats.blocked, sender.stats.failed) == (1, 1, 1)


async def test_an_alert_closed_mid_batch_sends_no_more_of_its_alert_messages():
    jobs = [job(1), job(2), job(3, OutboxKind.CLOSED), job(4), job(5), job(6, alert_id=8)]
    store = MemoryStore(jobs)
    transport = ScriptedTransport()
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=1)

    async def close_during_the_first(j: Job) -> None:
        if j.id == 1:  # the coordinator closes alert 7 while its first message is on its way
            store.close(7)
            sender.alert_closed(7)

    transport.before = close_during_the_first
    sender.start()
    try:
        await until(lambda: 6 in transport.delivered and sender.idle)
    finally:
        await sender.stop()
    assert transport.delivered == [1, 3, 6]  # the thanks of alert 7 and another alert's message still go
    assert store.closing_edits == [(1, 501)]  # the one that went out as it closed loses its buttons


async def test_stop_lets_the_message_on_its_way_finish_and_sends_nothing_more():
    store = MemoryStore([job(i) for i in range(1, 6)])
    transport = ScriptedTransport()
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(j: Job) -> None:
        started.set()
        await release.wait()

    transport.before = slow
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=1)
    sender.start()
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(sender.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waits for the delivery in flight
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert transport.delivered == [1]
    assert store.results(1) == [Sent(501)]  # recorded, so it is not sent again after a restart
    assert store.queued == [2, 3, 4, 5]
    assert sender.idle


@pytest.mark.parametrize("kind", [OutboxKind.EDIT_CLOSED, OutboxKind.EDIT_ANSWER])
async def test_edits_are_counted_against_the_budget_as_sends_are(kind: OutboxKind):
    """Telegram counts edits against its limits (issue 7)."""
    clock = {"now": 0.0}

    async def sleep(seconds: float) -> None:
        clock["now"] += seconds
        await asyncio.sleep(0)

    budget = SendBudget(2, burst=1, clock=lambda: clock["now"], sleep=sleep)
    store = MemoryStore([job(1), *(job(i, kind) for i in range(2, 6))])
    transport = ScriptedTransport()
    sender = OutboxSender(store, transport, budget)
    await run(sender, store)
    assert sorted(transport.delivered) == [1, 2, 3, 4, 5]
    assert clock["now"] == pytest.approx(2.0)  # five messages at 2/s, the first from the burst


async def test_when_the_bot_hears_from_telegram_again_the_next_probe_goes_at_once():
    """The backoff between probes may have grown to its cap (a minute by default): an answer
    to any of the bot's other requests (polling) ends the wait instead."""
    from bot.domain.reachability import Reachability

    store = MemoryStore([job(i) for i in range(1, 6)])
    transport = ScriptedTransport({1: [Transient("502")] * 3})
    reachability = Reachability()
    policy = RetryPolicy(first_backoff=30.0, max_backoff=30.0)
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=1, policy=policy, reachability=reachability)
    sender.start()
    try:
        await until(lambda: sender.held_up)
        await asyncio.sleep(0.3)
        assert transport.delivered == [1]  # waiting out a 30 s backoff
        reachability.answered(time.time())  # a late answer to a request from before: not a sign
        await asyncio.sleep(0.6)
        assert transport.delivered == [1]
        reachability.failed(time.time())  # polling fails...
        await asyncio.sleep(0.6)
        reachability.answered(time.time())  # ...then comes back
        await until(lambda: len(transport.delivered) == 2, tries=400)
        # that probe failed too: the next one waits its backoff, an early probe is had once
        reachability.failed(time.time())
        await asyncio.sleep(0.6)
        reachability.answered(time.time())
        await asyncio.sleep(0.6)
        assert len(transport.delivered) == 2 and sender.held_up
    finally:
        await sender.stop()


class SlowStore(MemoryStore):
    """Writing a batch takes until the test lets it finish; what is being written is visible."""

    def __init__(self, jobs: list[Job]) -> None:
        super().__init__(jobs)
        self.gate = asyncio.Event()
        self.writing: list[int] = []

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        self.writing = [o.job.id for o in outcomes]
        await self.gate.wait()
        self.gate.clear()
        await super().record(outcomes)
        self.writing = []


async def test_results_that_arrive_while_a_batch_is_written_go_together_in_the_next():
    store = SlowStore([job(i) for i in range(1, 11)])
    transport = ScriptedTransport()
    answer = asyncio.Event()

    async def first_alone(j: Job) -> None:
        if j.id != 1:
            await answer.wait()

    transport.before = first_alone
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=10)
    sender.start()
    try:
        await until(lambda: store.writing == [1])  # a lone result is written at once
        answer.set()
        await until(lambda: sender.recorder.waiting == 9)
        assert len(sender._in_flight) == 10  # every job keeps its place in the window until it is written
        assert not store.recorded
        store.gate.set()
        await until(lambda: len(store.writing) == 9)  # all the others, in one batch
        store.gate.set()
        await until(lambda: not store.queued and sender.idle)
    finally:
        await sender.stop()
    assert store.batches == [1, 9]
    assert sorted(r.job_id for r in store.recorded) == list(range(1, 11))


async def test_a_batch_that_cannot_be_written_leaves_its_jobs_queued_and_the_sender_goes_on():
    class Failing(MemoryStore):
        fail = True

        async def record(self, outcomes: Sequence[Outcome]) -> None:
            if self.fail:
                self.fail = False
                raise OSError("disk full")
            await super().record(outcomes)

    store = Failing([job(1)])
    transport = ScriptedTransport()
    sender = OutboxSender(store, transport, fast_budget(), max_in_flight=4)
    await run(sender, store)
    # not recorded the first time: still queued, so it went again (as when each result had its own transaction)
    assert transport.delivered == [1, 1]
    assert store.results(1) == [Sent(501)]
