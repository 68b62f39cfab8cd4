"""The bot's sending budget: Telegram allows about ``rate`` messages per second overall.

Fair share (issue 9): a broadcast keeps at least half of a lane's rate whenever it has
messages queued (``REPLY_SHARE``: replies get 45 %, the broadcast 55 %); interactive replies
share the rest, and may borrow the broadcast's half
when it has nothing queued. So a crowd of newcomers cannot hold an alert back, and a quiet
bot still answers at the full rate. A broadcast "has messages queued" while its sender waits
for a token, or took one within the last ``idle_after`` seconds (the sender reads its next
batch between tokens).

Lanes: without ``free_rate`` everything shares one lane at ``rate``. In paid mode
(``free_rate`` set: Telegram's free limit, 30/s), the broadcast's messages go at ``rate``
(``acquire``), while edits (``acquire_edit``: the sender's closing edits) and interactive
replies (``acquire_interactive``) are still limited to the free rate, so they have a lane of
their own at ``free_rate``, shared between them by the same fair-share rule.

Among replies, ``urgent`` ones (answers to volunteers tapping an alert, coordinators) go
before the rest, so a crowd of newcomers' replies does not queue in front of them.

Edits count as messages (Telegram counts them against the same limits). A 429's
``retry_after`` (``pause``) holds everything the bot sends, interactive and broadcast,
until it is over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for_one(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate)


# While a broadcast is queued, replies get this much of the rate and the broadcast the rest:
# a little more than half, so that the broadcast's half holds with room to spare.
REPLY_SHARE = 0.45


class Lane:
    """One token bucket shared by a broadcast side and an interactive side; the interactive
    side is held to ``REPLY_SHARE`` of the rate (its ``share``) while the broadcast side is busy."""

    def __init__(self, rate: float, burst: float, idle_after: float, now: float) -> None:
        self.bucket = _Bucket(rate, burst, now)
        # two tokens at least, so that a token earned while the bucket is empty is not lost
        self.share = _Bucket(rate * REPLY_SHARE, max(2.0, burst * REPLY_SHARE), now)
        self.idle_after = idle_after
        self.broadcast_waiting = 0
        self.replies_waiting = 0
        self.urgent_waiting = 0
        self.broadcast_took = float("-inf")

    @property
    def rate(self) -> float:
        return self.bucket.rate

    def broadcast_busy(self, now: float) -> bool:
        return self.broadcast_waiting > 0 or now - self.broadcast_took < self.idle_after

    def take_broadcast(self, now: float) -> float:
        """0 when a token was taken, else how long to wait before trying again."""
        self.bucket.refill(now)
        self.share.refill(now)
        if self.replies_waiting > 0 and self.share.tokens >= 1.0:
            return 0.25 / self.rate  # a reply within its half goes first
        if self.bucket.tokens >= 1.0:
            self.bucket.tokens -= 1.0
            self.broadcast_took = now
            return 0.0
        return self.bucket.wait_for_one()

    def take_reply(self, now: float, urgent: bool = False) -> float:
        if not urgent and self.urgent_waiting > 0:
            return 0.25 / self.rate  # an urgent reply (a tap on an alert, a coordinator) goes first
        self.bucket.refill(now)
        self.share.refill(now)
        busy = self.broadcast_busy(now)
        if self.bucket.tokens >= 1.0 and (not busy or self.share.tokens >= 1.0):
            self.bucket.tokens -= 1.0
            if busy:
                self.share.tokens -= 1.0
            return 0.0
        wait = self.bucket.wait_for_one()
        if busy:
            wait = max(wait, self.share.wait_for_one())
        return wait


class SendBudget:
    """``clock`` and ``sleep`` are the monotonic clock and how to wait on it (tests pass a
    clock of their own that ``sleep`` moves on)."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        free_rate: float | None = None,
        idle_after: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or (free_rate is not None and free_rate <= 0):
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._broadcast = Lane(rate, burst, idle_after, now)
        # paid mode: edits and replies keep Telegram's free rate, in a lane of their own
        self._replies = (
            self._broadcast if free_rate is None else Lane(free_rate, max(1.0, free_rate / 10), idle_after, now)
        )
        self._broadcast_lock = asyncio.Lock()
        self._edit_lock = asyncio.Lock() if free_rate is not None else self._broadcast_lock
        self._reply_lock = asyncio.Lock()
        self._urgent_lock = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def reply_rate(self) -> float:
        """The rate interactive replies and edits share (the whole rate unless paid)."""
        return self._replies.rate

    def paused_for(self) -> float:
        """Seconds until a 429's pause is over (0 when there is none)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Telegram said 429 retry_after: nobody sends until then, replies and edits included."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def _take(self, lock: asyncio.Lock, lane: Lane, broadcast: bool, urgent: bool = False) -> None:
        async with lock:  # FIFO among the takers of one side
            if broadcast:
                lane.broadcast_waiting += 1
            else:
                lane.replies_waiting += 1
                lane.urgent_waiting += urgent
            try:
                while True:
                    wait = self.paused_for()
                    if wait <= 0:
                        now = self._clock()
                        wait = lane.take_broadcast(now) if broadcast else lane.take_reply(now, urgent)
                        if wait <= 0:
                            return
                    await self._sleep(max(wait, 0.001))
            finally:
                if broadcast:
                    lane.broadcast_waiting -= 1
                else:
                    lane.replies_waiting -= 1
                    lane.urgent_waiting -= urgent

    async def acquire(self) -> None:
        """A broadcast message."""
        await self._take(self._broadcast_lock, self._broadcast, broadcast=True)

    async def acquire_edit(self) -> None:
        """An edit the broadcast sender makes (a closing edit): the broadcast's side of the
        lane edits use (in paid mode the free-rate lane, not the paid rate)."""
        await self._take(self._edit_lock, self._replies, broadcast=True)

    async def acquire_interactive(self, urgent: bool = False) -> None:
        """A reply or an edit of the interactive bot; an ``urgent`` one (the answer to a tap
        on an alert, a coordinator's) goes before the others, within the same share."""
        lock = self._urgent_lock if urgent else self._reply_lock
        await self._take(lock, self._replies, broadcast=False, urgent=urgent)
