"""Volunteers' memberships of organisations (none: the coalition's shared pool), and the
organisations a volunteer left themselves (``membership_departures``), which importing a list
again does not undo."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.coalition import Membership, MembershipSource, Organisation
from bot.domain.people import Address
from db.database import Database
from db.organisations import scope_of
from db.people import IMPORT_BATCH, now_iso

__all__ = ["ImportedMemberships", "Membership", "MembershipRepo"]


@dataclass(frozen=True)
class ImportedMemberships:
    """What importing a list did to memberships."""

    added: int = 0
    removed: int = 0  # imported memberships the list no longer has
    not_restored: int = 0  # listed, but the volunteer had left that organisation in the bot


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
        """The person joins the organisation (already a member: nothing changes). Through the
        organisation's volunteers' link (``INVITE``) they join even if they had left it before;
        through its list (``IMPORT``) not. False if there is no such person, or they had left."""
        async with self.db.tx() as conn:
            if source == MembershipSource.INVITE:
                await conn.execute(
                    "DELETE FROM membership_departures WHERE organisation_id = ? AND person_id ="
                    " (SELECT id FROM people WHERE channel = ? AND external_id = ?)",
                    (organisation_id, address.channel, address.external_id),
                )
            cur = await conn.execute(
                "INSERT INTO memberships (person_id, organisation_id, source, phone_visible, joined_at)"
                " SELECT p.id, ?, ?, ?, ? FROM people p WHERE p.channel = ? AND p.external_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM membership_departures d"
                " WHERE d.person_id = p.id AND d.organisation_id = ?)"
                " ON CONFLICT (person_id, organisation_id) DO NOTHING",
                (
                    organisation_id,
                    source,
                    int(phone_visible),
                    now_iso(),
                    address.channel,
                    address.external_id,
                    organisation_id,
                ),
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
        """The person leaves the organisation (and is not made a member again by its list);
        False if they were not a member."""
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "DELETE FROM memberships WHERE organisation_id = ? AND person_id ="
                " (SELECT id FROM people WHERE channel = ? AND external_id = ?)",
                (organisation_id, address.channel, address.external_id),
            )
            if cur.rowcount == 0:
                return False
            await conn.execute(
                "INSERT INTO membership_departures (person_id, organisation_id, left_at)"
                " SELECT id, ?, ? FROM people WHERE channel = ? AND external_id = ?"
                " ON CONFLICT (person_id, organisation_id) DO UPDATE SET left_at = excluded.left_at",
                (organisation_id, now_iso(), address.channel, address.external_id),
            )
            return True

    async def set_phone_visible(self, address: Address, organisation_id: int, visible: bool) -> bool:
        return (
            await self.db.execute(
                "UPDATE memberships SET phone_visible = ? WHERE organisation_id = ? AND person_id ="
                " (SELECT id FROM people WHERE channel = ? AND external_id = ?)",
                (int(visible), organisation_id, address.channel, address.external_id),
            )
            > 0
        )

    async def import_lists(
        self, lists: Mapping[Address, Sequence[int]], *, phone_visible: bool, batch: int = IMPORT_BATCH
    ) -> ImportedMemberships:
        """Each listed person's memberships from an imported list become the organisations
        listed for them (ids): new ones are added with source ``import`` and ``phone_visible``;
        imported ones the list no longer has are removed; those the person joined through a
        link, and what they chose for a membership they kept, stay as they are; an organisation
        the person left in the bot is not joined again. ``batch`` people per transaction, as
        ``PeopleRepo.import_people`` (the people must exist); most people of a national roster
        have no membership to change, so each batch first reads what its people have."""
        items = list(lists.items())
        added = removed = not_restored = 0
        for start in range(0, len(items), batch):
            chunk = dict(items[start : start + batch])
            now = now_iso()
            async with self.db.tx() as conn:
                ids: dict[Address, int] = {}
                held: dict[Address, dict[int, str]] = {}
                left: dict[Address, set[int]] = {}
                for channel in {a.channel for a in chunk}:
                    external = json.dumps([a.external_id for a in chunk if a.channel == channel])
                    people = await conn.execute_fetchall(
                        "SELECT p.id, p.external_id, m.organisation_id, m.source, d.organisation_id AS departed"
                        " FROM people p LEFT JOIN memberships m ON m.person_id = p.id"
                        " LEFT JOIN membership_departures d ON d.person_id = p.id"
                        " WHERE p.channel = ? AND p.external_id IN (SELECT value FROM json_each(?))"
                        " AND (m.person_id IS NOT NULL OR d.person_id IS NOT NULL)",
                        (channel, external),
                    )
                    for r in people:
                        address = Address(channel, r["external_id"])
                        ids[address] = r["id"]
                        if r["organisation_id"] is not None:
                            held.setdefault(address, {})[r["organisation_id"]] = r["source"]
                        if r["departed"] is not None:
                            left.setdefault(address, set()).add(r["departed"])
                deletes: list[tuple[int, int]] = []
                inserts: list[tuple[object, ...]] = []
                for address, listed in chunk.items():
                    wanted, has = set(listed), held.get(address, {})
                    deletes += [
                        (ids[address], org)
                        for org, source in has.items()
                        if source == MembershipSource.IMPORT and org not in wanted
                    ]
                    for org in sorted(wanted - set(has)):
                        if org in left.get(address, set()):
                            not_restored += 1
                        else:
                            inserts.append((org, MembershipSource.IMPORT, int(phone_visible), now, *_key(address)))
                await conn.executemany("DELETE FROM memberships WHERE person_id = ? AND organisation_id = ?", deletes)
                await conn.executemany(
                    "INSERT INTO memberships (person_id, organisation_id, source, phone_visible, joined_at)"
                    " SELECT id, ?, ?, ?, ? FROM people WHERE channel = ? AND external_id = ?"
                    " ON CONFLICT (person_id, organisation_id) DO NOTHING",
                    inserts,
                )
                removed += len(deletes)
                added += len(inserts)
        return ImportedMemberships(added, removed, not_restored)


def _key(address: Address) -> tuple[str, str]:
    return address.channel, address.external_id
