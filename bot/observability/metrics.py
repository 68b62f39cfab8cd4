"""The bot's Prometheus metrics, in a registry of its own (several bots may run in one
process, as in the tests).

Counters are fed as things happen, through observer callbacks wired in ``bot.app``: the
outbox sender's ``on_recorded`` (messages), every Bot API answer (429s), the update
processor (updates and their time). Gauges read from the database are set by
``set_counts`` from a periodic refresh (bot/observability/monitor.py), so a scrape never
waits for the database; reachability is read at scrape time (no I/O)."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.domain.outbox import Blocked, Failed, Job, OutboxKind, Result, RetryLater, Sent, Transient
from bot.domain.people import PersonStatus
from bot.domain.reachability import Reachability
from bot.domain.stats import StoredCounts

UPDATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MessageResult(StrEnum):
    """The ``result`` label of ``sauciens_messages_total``: what became of one attempt."""

    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    RETRIED = "retried"  # a passing failure or a 429: it stays queued and is tried again


def message_result(result: Result) -> MessageResult:
    if isinstance(result, Sent):
        return MessageResult.SENT
    if isinstance(result, Blocked):
        return MessageResult.BLOCKED
    if isinstance(result, Failed):
        return MessageResult.FAILED
    if isinstance(result, Transient | RetryLater):
        return MessageResult.RETRIED
    raise TypeError(f"not an outbox result: {result!r}")


class Metrics:
    def __init__(self, reachability: Reachability) -> None:
        self.registry = r = CollectorRegistry()
        self.outbox_queued = Gauge(
            "sauciens_outbox_queued", "Outbox messages waiting to be sent, by kind", ["kind"], registry=r
        )
        self.messages = Counter(
            "sauciens_messages",
            "Outbox messages by kind and what became of each attempt (sent, failed, blocked, retried)",
            ["kind", "result"],
            registry=r,
        )
        self.telegram_429 = Counter(
            "sauciens_telegram_429", "Bot API answers 429 Too Many Requests (replies and broadcasts)", registry=r
        )
        self.telegram_reachable = Gauge(
            "sauciens_telegram_reachable", "1 while the Bot API answers, 0 during an outage", registry=r
        )
        self.telegram_reachable.set_function(lambda: 1.0 if reachability.reachable else 0.0)
        self.updates = Counter("sauciens_updates", "Updates received from Telegram and handled", registry=r)
        self.update_seconds = Histogram(
            "sauciens_update_seconds",
            "Time from receiving an update to finishing its handling, in seconds",
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        self.open_alerts = Gauge("sauciens_open_alerts", "Alerts not yet closed", registry=r)
        self.volunteers = Gauge("sauciens_volunteers", "People in the database, by status", ["status"], registry=r)
        # Every label value is there from the start (at 0), so rates and alerts see the first change.
        for kind in OutboxKind:
            self.outbox_queued.labels(kind=kind.value)
            for result in MessageResult:
                self.messages.labels(kind=kind.value, result=result.value)
        for status in PersonStatus:
            self.volunteers.labels(status=status.value)

    # ---------------------------------------------------------------- observers
    def message_recorded(self, job: Job, result: Result) -> None:
        """The outbox sender recorded an attempt (its ``on_recorded``)."""
        self.messages.labels(kind=job.kind.value, result=message_result(result).value).inc()

    def api_answered(self, status: int | None) -> None:
        """The Bot API answered ``status`` (None: no answer), any request."""
        if status == 429:
            self.telegram_429.inc()

    def update_processed(self, seconds: float) -> None:
        """An update was handled ``seconds`` after it arrived."""
        self.updates.inc()
        self.update_seconds.observe(seconds)

    def set_counts(self, counts: StoredCounts) -> None:
        for kind in OutboxKind:
            self.outbox_queued.labels(kind=kind.value).set(counts.queued.get(kind, 0))
        self.open_alerts.set(counts.open_alerts)
        for status in PersonStatus:
            self.volunteers.labels(status=status.value).set(counts.people.get(status, 0))

    # ---------------------------------------------------------------- exposition
    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)
