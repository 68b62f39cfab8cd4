"""Two-person approval: which alerts need a second person's approval before anything is sent,
and an alert waiting for it (``approvals``). Who may decide is ``coalition.may_decide``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.alerts import AlertDraft, Severity
from bot.domain.people import Address

REASON_LIMIT = 500  # characters of a rejection's reason


class ApprovalStatus(StrEnum):
    """Where a request stands (``approvals.status``)."""

    PENDING = "pending"
    APPROVED = "approved"  # and sent
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody decided in time


def needs_approval(audience_size: int, severity: Severity, approval_above: int, approval_for_critical: bool) -> bool:
    """An alert to more than ``approval_above`` people, or a critical one when
    ``approval_for_critical``, needs a second person's approval (drills too, so that approvals
    can be practised)."""
    return audience_size > approval_above or (approval_for_critical and severity == Severity.CRITICAL)


@dataclass(frozen=True)
class Approval:
    """An alert waiting for (or decided by) a second person. ``organisation_id`` None: an
    admin's own alert, which only another admin may approve."""

    id: int
    organisation_id: int | None
    organisation_code: str  # "" for an admin's own alert
    author: Address
    author_name: str
    author_language: str
    sender: str  # the organisation's name the alert shows ("From: name, sender")
    draft: AlertDraft
    audience: int  # the count the author's preview showed
    status: ApprovalStatus
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None  # the Telegram id of who decided
    decided_by_name: str | None = None
    reason: str | None = None
    alert_id: int | None = None

    @property
    def pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING

    def overdue(self, now: datetime) -> bool:
        """Still pending, but its time is up (the expiry job may not have run yet)."""
        return self.pending and now >= self.expires_at


@dataclass(frozen=True)
class ApprovalMessage:
    """A request message shown to someone who may decide (edited when someone does)."""

    chat: str
    message_id: int
    language: str


def clean_reason(text: str | None) -> str | None:
    """A rejection's reason on at most ``REASON_LIMIT`` characters (None: none given)."""
    if text is None:
        return None
    reason = " ".join(text.split())
    if not reason:
        return None
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"
