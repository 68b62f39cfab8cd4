"""Fault injection: the next calls of a method fail the way Telegram or the network can."""

from __future__ import annotations

from collections import deque

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
