"""The bot's sending budget: Telegram allows about ``rate`` messages per second overall.

The broadcast sender waits for a token before each message (``acquire``); interactive
replies take theirs first (``acquire_interactive``), running the bucket into debt if need be,
which the broadcast then pays back by waiting. So replies never queue behind a broadcast,
and the two together stay within the limit. Only when replies alone exceed the limit (a
surge of hundreds of people at once) do they wait, for at most ``max_debt`` seconds' worth
of tokens, rather than being refused by Telegram.

Edits count as messages (Telegram counts them against the same limits). A 429's
``retry_after`` (``pause``) holds everything the bot sends, interactive and broadcast,
until it is over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class SendBudget:
    """``clock`` and ``sleep`` are the monotonic clock and how to wait on it (tests pass a
    clock of their own that ``sleep`` moves on)."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        max_debt: float = 0.5,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        self._max_debt = max_debt * rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def paused_for(self) -> float:
        """Seconds until a 429's pause is over (0 when there is none)."""
        return max(0.0, self._paused_until - self._clock())

    async def acquire_interactive(self) -> None:
        while True:
            wait = self.paused_for()
            if wait > 0:
                await self._sleep(wait)
                continue
            self._refill()
            if self._tokens > -self._max_debt:
                self._tokens -= 1.0
                return
            await self._sleep((-self._max_debt - self._tokens + 1.0) / self.rate)

    def pause(self, seconds: float) -> None:
        """Telegram said 429 retry_after: nobody sends until then, replies and edits included."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:  # FIFO among broadcast senders
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill()
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await self._sleep((1.0 - self._tokens) / self.rate)
