"""Fault injection: the next calls of a method fail the way Telegram or the network can."""

from __future__ import annotations

import time
from collections import deque
from enum import StrEnum

FAULT_KINDS = frozenset({"5xx", "drop", "429", "timeout"})


class Faults:
    """Queued faults per method (lower-case name): (kind, retry_after)."""

    def __init__(self) -> None:
        self._queued: dict[str, deque[tuple[str, int]]] = {}

    def inject(self, method: str, kind: str, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` fail: "5xx", "drop", "429" or "timeout"."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        q = self._queued.setdefault(method.lower(), deque())
        for _ in range(count):
            q.append((kind, retry_after))

    def clear(self) -> None:
        self._queued.clear()

    def take(self, method: str) -> tuple[str, int] | None:
        """The next fault queued for ``method`` (lower-case), if any."""
        q = self._queued.get(method)
        return q.popleft() if q else None


class OutageMode(StrEnum):
    """How Telegram is unreachable during an outage."""

    SERVER_ERRORS = "5xx"  # every Bot API request is answered 502 Bad Gateway
    REFUSED = "refused"  # nothing listens: connections are refused, open ones are reset


class Outage:
    """The sandbox's outage switch: off (``mode`` None), or one of ``OutageMode``. It can also
    be armed to begin the moment the next updates have been handed to the bot (an outage
    that begins just as someone pressed a button: the bot has the press, then nothing works)."""

    def __init__(self) -> None:
        self.mode: OutageMode | None = None
        self.armed: OutageMode | None = None
        self.began: float | None = None  # time.monotonic()

    def set(self, mode: OutageMode | None) -> None:
        if mode != self.mode:
            self.began = time.monotonic() if mode is not None else None
        self.mode = mode
        self.armed = None

    def arm(self, mode: OutageMode) -> None:
        self.armed = mode

    def updates_handed_out(self) -> None:
        if self.armed is not None:
            self.set(self.armed)
