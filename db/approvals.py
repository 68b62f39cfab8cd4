"""Alerts waiting for a second person's approval (``approvals``) and the request messages shown
to those who may decide (``approval_messages``). A decision is one UPDATE that only a pending,
unexpired request passes, so that approve, reject and expiry never both win.

The ``draft`` column holds the alert as ``AlertDraft.to_dict`` writes it, with one more key,
``sender``: the organisation's name the author's preview showed (``AlertDraft.from_dict``
ignores it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.alerts import AlertDraft
from bot.domain.approval import Approval, ApprovalMessage, ApprovalStatus
from bot.domain.people import Address
from db.database import Database

SENDER_KEY = "sender"

_APPROVAL = """
SELECT a.*, coalesce(o.code, '') AS organisation_code
FROM approvals a LEFT JOIN organisations o ON o.id = a.organisation_id
"""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _approval(row: Any) -> Approval:
    saved = json.loads(row["draft"])
    created, expires = _dt(row["created_at"]), _dt(row["expires_at"])
    assert created is not None and expires is not None
    return Approval(
        id=row["id"],
        organisation_id=row["organisation_id"],
        organisation_code=row["organisation_code"],
        author=Address(row["author_channel"], row["author_external_id"]),
        author_name=row["author_name"],
        author_language=row["author_language"],
        sender=str(saved.get(SENDER_KEY) or ""),
        draft=AlertDraft.from_dict(saved),
        audience=row["audience"],
        status=ApprovalStatus(row["status"]),
        created_at=created,
        expires_at=expires,
        decided_at=_dt(row["decided_at"]),
        decided_by=row["decided_by"],
        decided_by_name=row["decided_by_name"],
        reason=row["reason"],
        alert_id=row["alert_id"],
    )


class ApprovalRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        draft: AlertDraft,
        *,
        organisation_id: int | None,
        author: Address,
        author_name: str,
        author_language: str,
        sender: str,
        audience: int,
        created_at: datetime,
        expires_at: datetime,
    ) -> Approval:
        saved = {**draft.to_dict(), SENDER_KEY: sender}
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO approvals (organisation_id, author_channel, author_external_id, author_name,"
                " author_language, draft, audience, status, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    organisation_id,
                    author.channel,
                    author.external_id,
                    author_name,
                    author_language,
                    json.dumps(saved, ensure_ascii=False),
                    audience,
                    ApprovalStatus.PENDING,
                    _iso(created_at),
                    _iso(expires_at),
                ),
            )
            approval_id = cur.lastrowid
        assert approval_id is not None
        approval = await self.get(approval_id)
        assert approval is not None
        return approval

    async def get(self, approval_id: int) -> Approval | None:
        row = await self.db.fetchone(_APPROVAL + " WHERE a.id = ?", (approval_id,))
        return _approval(row) if row is not None else None

    async def pending(self) -> list[Approval]:
        """Every request still pending (also those whose time is up but not yet marked), oldest first."""
        rows = await self.db.fetchall(_APPROVAL + " WHERE a.status = ? ORDER BY a.id", (ApprovalStatus.PENDING,))
        return [_approval(r) for r in rows]

    async def decide(
        self,
        approval_id: int,
        status: ApprovalStatus,
        *,
        by: Address,
        by_name: str,
        now: datetime,
        reason: str | None = None,
    ) -> bool:
        """Approve or reject a request that is pending and not expired at ``now``; False when it
        was not (someone else decided first, or it expired)."""
        assert status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
        changed = await self.db.execute(
            "UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decided_by_name = ?, reason = ?"
            " WHERE id = ? AND status = ? AND expires_at > ?",
            (status, _iso(now), by.external_id, by_name, reason, approval_id, ApprovalStatus.PENDING, _iso(now)),
        )
        return changed == 1

    async def reopen(self, approval_id: int) -> None:
        """An approval whose alert could not be created after all: pending again."""
        await self.db.execute(
            "UPDATE approvals SET status = ?, decided_at = NULL, decided_by = NULL, decided_by_name = NULL"
            " WHERE id = ? AND status = ? AND alert_id IS NULL",
            (ApprovalStatus.PENDING, approval_id, ApprovalStatus.APPROVED),
        )

    async def set_alert(self, approval_id: int, alert_id: int) -> None:
        await self.db.execute("UPDATE approvals SET alert_id = ? WHERE id = ?", (alert_id, approval_id))

    async def expire(self, approval_id: int, now: datetime) -> bool:
        """Mark a pending request whose time is up at ``now`` expired; False when it was decided
        (or is not due)."""
        changed = await self.db.execute(
            "UPDATE approvals SET status = ?, decided_at = ? WHERE id = ? AND status = ? AND expires_at <= ?",
            (ApprovalStatus.EXPIRED, _iso(now), approval_id, ApprovalStatus.PENDING, _iso(now)),
        )
        return changed == 1

    async def add_message(self, approval_id: int, message: ApprovalMessage) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO approval_messages (approval_id, chat, message_id, language) VALUES (?, ?, ?, ?)",
            (approval_id, message.chat, message.message_id, message.language),
        )

    async def messages(self, approval_id: int) -> list[ApprovalMessage]:
        rows = await self.db.fetchall(
            "SELECT chat, message_id, language FROM approval_messages WHERE approval_id = ? ORDER BY id",
            (approval_id,),
        )
        return [ApprovalMessage(r["chat"], r["message_id"], r["language"]) for r in rows]
