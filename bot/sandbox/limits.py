"""Telegram's flood limits: about 30 messages a second overall (1000 for paid broadcasts)
and about one a second per chat with a short burst, answered with 429 and retry_after.
Edits (editMessageText, editMessageReplyMarkup) count as messages do (bot/sandbox/methods.py)."""

from __future__ import annotations

import math
import time

from .errors import ApiError


class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 if available now); refills first."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate if self.rate > 0 else 3600.0

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimits:
    """The global buckets (free and paid) and the per-chat bucket shape."""

    def __init__(
        self,
        *,
        global_rate: float,
        global_burst: int,
        chat_rate: float,
        chat_burst: int,
        paid_broadcast_rate: float,
        enforce: bool,
    ) -> None:
        self.enforce = enforce
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self._global = Bucket(global_rate, global_burst)
        self._paid = Bucket(paid_broadcast_rate, int(paid_broadcast_rate))

    def chat_bucket(self) -> Bucket:
        """A fresh bucket for a new chat."""
        return Bucket(self.chat_rate, self.chat_burst)

    def check(self, chat_bucket: Bucket, paid: bool) -> None:
        """Take a token from the global and the chat's bucket, or raise 429 with retry_after."""
        if not self.enforce:
            return
        now = time.monotonic()
        gbucket = self._paid if paid else self._global
        wait = max(gbucket.wait_needed(now), chat_bucket.wait_needed(now))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        gbucket.take()
        chat_bucket.take()
