"""Volunteers' memberships of organisations (none: the coalition's shared pool)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.coalition import MembershipSource, Organisation
from bot.domain.people import Address
from db.database import Database
from db.organisations import scope_of
from db.people import now_iso


@dataclass(frozen=True)
class Membership:
    organisation: Organisation
    source: MembershipSource
    phone_visible: bool


class MembershipRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of(self, address: Address) -> list[Membership]:
        """The organisations the person at ``address`` belongs to, by code."""
        rows = await self.db.fetchall(
            "SELECT o.id, o.code, o.name, o.areas, o.countries, m.source, m.phone_visible FROM memberships m"
            " JOIN organisations o ON o.id = m.organisation_id JOIN people p ON p.id = m.person_id"
            " WHERE p.channel = ? AND p.external_id = ? ORDER BY o.code",
            (address.channel, address.external_id),
        )
        return [
            Membership(
                Organisation(r["id"], r["code"], r["name"], scope_of(r["areas"], r["countries"])),
                MembershipSource(r["source"]),
                bool(r["phone_visible"]),
            )
            for r in rows
        ]

    async def join(
        self, address: Address, organisation_id: int, source: MembershipSource, *, phone_visible: bool = False
    ) -> bool:
        """The person joins the organisation (already a member: nothing changes); False if there
        is no such person."""
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO memberships (person_id, organisation_id, source, phone_visible, joined_at)"
                " SELECT id, ?, ?, ?, ? FROM people WHERE channel = ? AND external_id = ?"
                " ON CONFLICT (person_id, organisation_id) DO NOTHING",
                (organisation_id, source, int(phone_visible), now_iso(), address.channel, address.external_id),
            )
            if cur.rowcount > 0:
                return True
            cur = await conn.execute(
                "SELECT 1 FROM memberships m JOIN people p ON p.id = m.person_id"
                " WHERE p.channel = ? AND p.external_id = ? AND m.organisation_id = ?",
                (address.channel, address.external_id, organisation_id),
            )
            return await cur.fetchone() is not None

    async def leave(self, address: Address, organisation_id: int) -> bool:
        return (
            await self.db.execute(
                "DELETE FROM memberships WHERE organisation_id = ? AND person_id ="
                " (SELECT id FROM people WHERE channel = ? AND external_id = ?)",
                (organisation_id, address.channel, address.external_id),
            )
            > 0
        )

    async def set_phone_visible(self, address: Address, organisation_id: int, visible: bool) -> bool:
        return (
            await self.db.execute(
                "UPDATE memberships SET phone_visible = ? WHERE organisation_id = ? AND person_id ="
                " (SELECT id FROM people WHERE channel = ? AND external_id = ?)",
                (int(visible), organisation_id, address.channel, address.external_id),
            )
            > 0
        )
