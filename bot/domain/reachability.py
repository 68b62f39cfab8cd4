"""Whether the Bot API answers: one object, updated by the HTTP layer after every request
and read by the tracking message, ``/status``, the metrics and ``/healthz``.

Times are ``time.time()`` seconds, so they can be shown as wall-clock times."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Reachability:
    last_ok: float | None = None  # when the Bot API last answered (any HTTP answer counts)
    unreachable_since: float | None = None  # first failure of the current outage, or None

    def answered(self, at: float) -> None:
        """The Bot API answered (2xx, 4xx, 429: it is there)."""
        self.last_ok = at
        self.unreachable_since = None

    def failed(self, at: float, asked_at: float | None = None) -> None:
        """No answer, or a 5xx from Telegram's side: the Bot API is not usable now.

        ``asked_at``: when the failed request was sent. If the Bot API answered another
        request after that, this failure is older news than the answer (a 502 that was on its
        way while Telegram came back) and changes nothing; the next request that fails, if the
        outage goes on, will tell."""
        if asked_at is not None and self.last_ok is not None and self.last_ok >= asked_at:
            return
        if self.unreachable_since is None:
            self.unreachable_since = at

    @property
    def reachable(self) -> bool:
        return self.unreachable_since is None

    def unreachable_for(self, now: float) -> float:
        return 0.0 if self.unreachable_since is None else max(0.0, now - self.unreachable_since)
