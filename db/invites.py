"""Invite links (``invites``): made by admins and organisation admins, used once (coordinators,
organisation admins) or by anyone (an organisation's volunteers)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.coalition import Invite, InviteKind, Organisation
from db.database import Database
from db.organisations import scope_of

_INVITE = """
SELECT i.code, i.kind, i.areas AS i_areas, i.countries AS i_countries, i.created_by, i.created_at, i.expires_at,
       i.used_at, i.used_by, i.revoked_at, o.id, o.code AS o_code, o.name, o.areas, o.countries
FROM invites i JOIN organisations o ON o.id = i.organisation_id
"""


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _invite(row: Any) -> Invite:
    created_at = _dt(row["created_at"])
    assert created_at is not None
    return Invite(
        code=row["code"],
        kind=InviteKind(row["kind"]),
        organisation=Organisation(row["id"], row["o_code"], row["name"], scope_of(row["areas"], row["countries"])),
        scope=scope_of(row["i_areas"], row["i_countries"]),
        created_by=row["created_by"],
        created_at=created_at,
        expires_at=_dt(row["expires_at"]),
        used_at=_dt(row["used_at"]),
        used_by=row["used_by"],
        revoked_at=_dt(row["revoked_at"]),
    )


class InviteRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, invite: Invite) -> None:
        await self.db.execute(
            "INSERT INTO invites (code, kind, organisation_id, areas, countries, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                invite.code,
                invite.kind,
                invite.organisation.id,
                json.dumps(list(invite.scope.areas)),
                json.dumps(list(invite.scope.countries)),
                invite.created_by,
                _iso(invite.created_at),
                _iso(invite.expires_at) if invite.expires_at is not None else None,
            ),
        )

    async def get(self, code: str) -> Invite | None:
        row = await self.db.fetchone(_INVITE + " WHERE i.code = ?", (code,))
        return _invite(row) if row is not None else None

    async def use(self, code: str, by: str, at: datetime) -> bool:
        """Mark a one-time link used by ``by``; False if it was used, withdrawn or expired meanwhile
        (of two people opening it at once, only one gets it)."""
        changed = await self.db.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (_iso(at), by, code, _iso(at)),
        )
        return changed > 0

    async def volunteers_links(self, organisation_id: int) -> list[Invite]:
        """The organisation's volunteers' links not withdrawn, newest first."""
        rows = await self.db.fetchall(
            _INVITE + " WHERE i.organisation_id = ? AND i.kind = ? AND i.revoked_at IS NULL"
            " ORDER BY i.created_at DESC, i.rowid DESC",
            (organisation_id, InviteKind.VOLUNTEERS),
        )
        return [_invite(r) for r in rows]
