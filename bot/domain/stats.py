"""Counts of what is stored, for the metrics: the outbox's queue, open alerts, people."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.outbox import OutboxKind
from bot.domain.people import PersonStatus


@dataclass(frozen=True)
class StoredCounts:
    queued: dict[OutboxKind, int] = field(default_factory=dict)  # outbox messages waiting, by kind
    open_alerts: int = 0
    people: dict[PersonStatus, int] = field(default_factory=dict)  # people by status
