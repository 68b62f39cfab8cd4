"""The audit trail: who did what, append-only and hash-chained. Each entry's hash covers its
own fields and the previous entry's hash, so changing, removing or reordering any entry breaks
the chain from there on (``first_broken``). Entries hold no volunteer's personal data: actors
are coordinators and admins, targets are ids, details are counts."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TextIO

from bot.domain.spreadsheet import neutralise

GENESIS = "0" * 64  # the "previous hash" of the first entry
CSV_HEADER = ("at", "actor_telegram_id", "role", "organisation", "action", "target", "details")


class AuditRole(StrEnum):
    """The role an entry's actor acted in (``audit_log.role``)."""

    ADMIN = "admin"
    ORGADMIN = "orgadmin"
    COORDINATOR = "coordinator"
    VOLUNTEER = "volunteer"  # a volunteer's own action (/forget), recorded without who they were
    OPERATOR = "operator"  # the command line
    SYSTEM = "system"  # the bot itself (expiry, retention)


class AuditAction(StrEnum):
    """Every consequential action the trail records."""

    ALERT_SUBMITTED = "alert_submitted"  # waiting for a second person's approval
    ALERT_APPROVED = "alert_approved"
    ALERT_REJECTED = "alert_rejected"
    APPROVAL_EXPIRED = "approval_expired"
    ALERT_SENT = "alert_sent"  # created and queued to its recipients
    ALERT_CLOSED = "alert_closed"
    FOLLOWUP_SENT = "followup_sent"
    REMINDER_SENT = "reminder_sent"
    EXPORT = "export"  # an alert's answers, or a volunteer list
    INVITE_CREATED = "invite_created"
    INVITE_USED = "invite_used"
    COORDINATOR_ADDED = "coordinator_added"
    COORDINATOR_REVOKED = "coordinator_revoked"
    ORGANISATION_ADDED = "organisation_added"
    ORGANISATION_RENAMED = "organisation_renamed"
    VOLUNTEERS_IMPORTED = "volunteers_imported"
    PERSON_FORGOTTEN = "person_forgotten"
    RETENTION_RUN = "retention_run"


Details = Mapping[str, int | str | bool | None]


@dataclass(frozen=True)
class AuditRecord:
    """What is to be recorded; the store adds the time and the chain."""

    action: AuditAction
    role: AuditRole
    actor: str | None = None  # the actor's Telegram id (None: the command line, the bot, a volunteer)
    organisation: str = ""  # the organisation's code ("" : none, or the whole coalition)
    target: str = ""  # e.g. "alert:12", "invite", "coordinator:123456"
    details: Details = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str  # ISO 8601 UTC, exactly as stored and hashed
    actor: str | None
    role: str
    organisation: str
    action: str
    target: str
    details: str  # JSON, exactly as stored and hashed
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditQuery:
    """Which entries to read: each given filter narrows them."""

    since: datetime | None = None  # at or after this moment
    actor: str | None = None  # the actor's Telegram id
    action: str | None = None
    organisation: str | None = None  # an organisation's code
    limit: int | None = None  # the latest this many (still returned oldest first)


def details_json(details: Details) -> str:
    return json.dumps(dict(details), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(
    prev_hash: str, at: str, actor: str | None, role: str, organisation: str, action: str, target: str, details: str
) -> str:
    """SHA-256 over the previous hash and the entry's fields, as one canonical JSON array."""
    payload = json.dumps(
        [prev_hash, at, actor, role, organisation, action, target, details], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken(entries: Iterable[AuditEntry]) -> AuditEntry | None:
    """The first entry (in id order) whose hash does not follow from the one before it, or None
    when the whole chain holds."""
    previous = GENESIS
    for e in entries:
        expected = entry_hash(previous, e.at, e.actor, e.role, e.organisation, e.action, e.target, e.details)
        if e.prev_hash != previous or e.hash != expected:
            return e
        previous = e.hash
    return None


def write_audit_csv(entries: Iterable[AuditEntry], out: TextIO) -> int:
    """``python -m bot audit``: CSV with ``CSV_HEADER``; every cell neutralised for spreadsheets."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    n = 0
    for e in entries:
        writer.writerow(
            [
                e.at,
                e.actor or "",
                e.role,
                neutralise(e.organisation),
                e.action,
                neutralise(e.target),
                neutralise(e.details),
            ]
        )
        n += 1
    return n
