"""The sending budget, on a clock of the test's own: waiting moves it on, so the figures are
exact and nothing depends on how busy the machine is. Rates are powers of two, so that the
waits add up exactly in binary floating point."""

from __future__ import annotations

import asyncio
import heapq

import pytest

from bot.domain.budget import SendBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class SharedClock(Clock):
    """A simulated clock for several tasks at once: a sleeper wakes at its own time, and the
    clock moves on to the earliest wake-up only once every task is waiting."""

    def __init__(self) -> None:
        super().__init__()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + seconds, self._seq, future))
        await future

    async def run(self, *tasks) -> None:
        running = [asyncio.ensure_future(t) for t in tasks]
        while not all(t.done() for t in running):
            for _ in range(20):  # let every runnable task get to its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        for t in running:
            t.result()


def budget(clock: Clock, rate: float, burst: float = 1.0, free_rate: float | None = None) -> SendBudget:
    return SendBudget(rate, burst, free_rate=free_rate, clock=clock, sleep=clock.sleep)


async def test_the_broadcast_goes_at_the_rate():
    clock = Clock()
    b = budget(clock, rate=8)
    for _ in range(25):  # the first token is there at once, then one every 1/8 s
        await b.acquire()
    assert clock.now == 3.0


async def test_a_burst_goes_at_once_then_the_rate():
    clock = Clock()
    b = budget(clock, rate=8, burst=5)
    for _ in range(5):
        await b.acquire()
    assert clock.now == 0.0
    await b.acquire()
    assert clock.now == 0.125


async def test_replies_alone_borrow_the_whole_rate():
    clock = Clock()
    b = budget(clock, rate=8)
    for _ in range(17):  # nothing is broadcast: replies get every token
        await b.acquire_interactive()
    assert clock.now == 2.0


async def test_a_broadcast_keeps_half_the_rate_against_a_flood_of_replies():
    """Issue 9: interactive replies no longer always win; with both queued, each gets half."""
    clock = SharedClock()
    b = budget(clock, rate=8)
    broadcast: list[float] = []
    replies: list[float] = []

    async def broadcaster() -> None:
        while clock.now < 10:
            await b.acquire()
            broadcast.append(clock.now)

    async def replier() -> None:
        while clock.now < 10:
            await b.acquire_interactive()
            replies.append(clock.now)

    await clock.run(broadcaster(), *(replier() for _ in range(20)))
    in_ten = [t for t in broadcast if t <= 10]
    replied = [t for t in replies if t <= 10]
    assert len(in_ten) >= 0.5 * 8 * 10
    assert len(in_ten) + len(replied) <= 8 * 10 + 2  # the two together stay within the rate
    assert len(replied) >= 0.4 * 8 * 10  # the replies are not starved either (their share is 0.45)


async def test_a_broadcast_alone_goes_at_the_full_rate_and_replies_borrow_after_it():
    clock = Clock()
    b = budget(clock, rate=8)
    for _ in range(9):
        await b.acquire()
    assert clock.now == 1.0
    clock.now += 1.0  # the broadcast is over: replies have the whole rate again
    start = clock.now
    for _ in range(9):
        await b.acquire_interactive()
    assert clock.now - start == 1.0


async def test_paid_mode_gives_edits_and_replies_their_own_lane_at_the_free_rate():
    clock = Clock()
    b = budget(clock, rate=64, burst=1, free_rate=8)
    for _ in range(65):  # the paid broadcast at its own rate
        await b.acquire()
    assert clock.now == 1.0
    start = clock.now
    for _ in range(9):  # closing edits at the free rate, not the paid one
        await b.acquire_edit()
    assert clock.now - start == 1.0
    assert b.reply_rate == 8


async def test_in_paid_mode_replies_and_edits_together_stay_within_the_free_rate():
    clock = SharedClock()
    b = budget(clock, rate=64, burst=1, free_rate=8)
    done: list[str] = []

    async def edits() -> None:
        while clock.now < 5:
            await b.acquire_edit()
            done.append("edit")

    async def replies() -> None:
        while clock.now < 5:
            await b.acquire_interactive()
            done.append("reply")

    await clock.run(edits(), replies(), replies())
    assert len(done) <= 8 * 5 + 4
    assert done.count("edit") >= 0.5 * 8 * 5


async def test_a_pause_holds_everything_the_bot_sends_replies_included():
    """A 429's retry_after is Telegram's word for the whole bot (issue 7): replies and edits
    wait it out as the broadcast does."""
    clock = Clock()
    b = budget(clock, rate=8, burst=5)
    b.pause(2.0)
    b.pause(1.0)  # a shorter pause does not shorten it
    assert b.paused_for() == 2.0
    await b.acquire_interactive()
    assert clock.now == 2.0
    await b.acquire()
    assert clock.now == 2.0  # the pause is over and a token is there
    assert b.paused_for() == 0.0


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        SendBudget(0)


async def test_an_urgent_reply_goes_before_the_queued_replies():
    clock = SharedClock()
    b = budget(clock, rate=8)
    order: list[str] = []

    async def reply(name: str, urgent: bool, after: float) -> None:
        await clock.sleep(after)
        await b.acquire_interactive(urgent)
        order.append(name)

    await clock.run(*(reply(f"r{i}", False, 0.0) for i in range(20)), reply("tap", True, 0.01))
    assert order.index("tap") <= 2  # not behind the twenty queued before it
