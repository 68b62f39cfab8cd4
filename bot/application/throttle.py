"""Newcomers and floods (issue 9): a person who is not registered gets at most one reply to
their messages per ``interval`` seconds, and so does anyone who is flooding; repeated
identical messages are answered once.

- Exempt (never throttled): coordinators, and registered volunteers answering an alert.
- Flooding: more than ``flood_messages`` updates (messages or taps) within the last
  ``flood_window`` seconds. A newcomer's taps on buttons are throttled only then, so that a
  registration (several quick taps, skills toggled one after another) loses nothing.
- A throttled update is answered at once when the person's window is open. Otherwise it is
  *held*, and answered when the window opens (``due``); a later one replaces the held one (the
  last message of a burst is the one answered), so everyone is eventually answered.
- A throttled update identical to the one held, or to the one last answered within
  ``repeat_window`` seconds, is coalesced: dropped, since it is answered already.

The rule knows nothing of Telegram: the input boundary (``handlers.boundary``) asks
``arrive`` for each update and re-dispatches what ``due`` releases. ``clock`` is monotonic
seconds (tests pass their own)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    ANSWER = "answer"  # handle it now
    HOLD = "hold"  # kept, and handled when the person's window opens
    COALESCED = "coalesced"  # the same as one answered or held: dropped


@dataclass(frozen=True)
class Arrival:
    verdict: Verdict
    superseded: int | None = None  # the held update this one replaced (dropped now)
    opens_in: float = 0.0  # for HOLD: seconds until the person's window opens


@dataclass
class _Person:
    answered_at: float = float("-inf")
    answered: str | None = None
    held: tuple[int, str] | None = None
    recent: deque[float] = field(default_factory=deque)
    seen: float = 0.0


class Throttle:
    def __init__(
        self,
        interval: float = 3.0,
        *,
        flood_messages: int = 10,
        flood_window: float = 10.0,
        repeat_window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.flood_messages = flood_messages
        self.flood_window = flood_window
        self.repeat_window = repeat_window
        self._clock = clock
        self._people: dict[Hashable, _Person] = {}
        self._released: set[int] = set()
        self._last_pruned = clock()

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def held(self) -> int:
        return sum(1 for p in self._people.values() if p.held is not None)

    def arrive(
        self, key: Hashable, ticket: int, content: str, *, registered: bool, exempt: bool, tap: bool = False
    ) -> Arrival:
        """``ticket`` identifies the update (its id), ``content`` is its text or button data
        ("" when it has neither: never coalesced), ``tap`` says it is a button tap."""
        if not self.enabled or exempt:
            return Arrival(Verdict.ANSWER)
        if ticket in self._released:  # a held update whose window opened: answered now
            self._released.discard(ticket)
            return Arrival(Verdict.ANSWER)
        now = self._clock()
        self._prune(now)
        p = self._people.setdefault(key, _Person())
        p.seen = now
        p.recent.append(now)
        while p.recent and now - p.recent[0] > self.flood_window:
            p.recent.popleft()
        flooding = len(p.recent) > self.flood_messages
        if not flooding and (registered or tap):
            return Arrival(Verdict.ANSWER)
        if content and (
            (p.held is not None and p.held[1] == content)
            or (p.answered == content and now - p.answered_at < self.repeat_window)
        ):
            return Arrival(Verdict.COALESCED)
        opens_in = p.answered_at + self.interval - now
        if opens_in <= 0 and p.held is None:
            p.answered_at, p.answered = now, content
            return Arrival(Verdict.ANSWER)
        superseded = p.held[0] if p.held is not None else None
        p.held = (ticket, content)
        return Arrival(Verdict.HOLD, superseded=superseded, opens_in=max(0.0, opens_in))

    def due(self) -> list[int]:
        """The held updates whose person's window is open now: each is answered when it
        arrives again (``arrive`` with the same ticket)."""
        now = self._clock()
        released: list[int] = []
        for p in self._people.values():
            if p.held is not None and now - p.answered_at >= self.interval:
                ticket, content = p.held
                p.held = None
                p.answered_at, p.answered = now, content
                released.append(ticket)
        self._released.update(released)
        return released

    def let_through(self, ticket: int) -> None:
        """The update ``ticket`` is dispatched again after being held back for another reason (a
        changed privacy notice): it is answered when it arrives, not taken for a repeat."""
        if self.enabled:
            self._released.add(ticket)

    def _prune(self, now: float) -> None:
        """Forget people quiet for longer than any window (at most once per ``repeat_window``)."""
        if now - self._last_pruned < self.repeat_window:
            return
        self._last_pruned = now
        keep = max(self.interval, self.flood_window, self.repeat_window)
        for key in [k for k, p in self._people.items() if p.held is None and now - p.seen > keep]:
            del self._people[key]
