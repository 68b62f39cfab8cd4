"""Organisations and the coordinators they added (``coordinators``; admins are configured)."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.coalition import Coordinator, Organisation, Scope, StoredRole
from bot.domain.people import Address
from db.database import Database
from db.people import now_iso

_COORDINATOR = """
SELECT c.channel, c.external_id, c.role, c.areas AS c_areas, c.countries AS c_countries, c.name AS c_name,
       c.added_by, o.id, o.code, o.name, o.areas, o.countries
FROM coordinators c JOIN organisations o ON o.id = c.organisation_id
"""


def scope_of(areas: str, countries: str) -> Scope:
    return Scope(tuple(json.loads(areas)), tuple(json.loads(countries)))


def _organisation(row: Any) -> Organisation:
    return Organisation(row["id"], row["code"], row["name"], scope_of(row["areas"], row["countries"]))


def _coordinator(row: Any) -> Coordinator:
    return Coordinator(
        address=Address(row["channel"], row["external_id"]),
        organisation=_organisation(row),
        role=StoredRole(row["role"]),
        scope=scope_of(row["c_areas"], row["c_countries"]),
        name=row["c_name"],
        added_by=row["added_by"],
    )


class OrganisationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, code: str, name: str, scope: Scope) -> Organisation:
        """A new organisation; ``ValueError`` if its code is taken (codes ignore case)."""
        if await self.by_code(code) is not None:
            raise ValueError(f"organisation {code} exists already")
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO organisations (code, name, areas, countries, created_at) VALUES (?, ?, ?, ?, ?)",
                (code, name, json.dumps(list(scope.areas)), json.dumps(list(scope.countries)), now_iso()),
            )
            org_id = cur.lastrowid
        assert org_id is not None
        return Organisation(org_id, code, name, scope)

    async def rename(self, org_id: int, name: str) -> None:
        await self.db.execute("UPDATE organisations SET name = ? WHERE id = ?", (name, org_id))

    async def by_code(self, code: str) -> Organisation | None:
        row = await self.db.fetchone("SELECT * FROM organisations WHERE code = ? COLLATE NOCASE", (code,))
        return _organisation(row) if row is not None else None

    async def get(self, org_id: int) -> Organisation | None:
        row = await self.db.fetchone("SELECT * FROM organisations WHERE id = ?", (org_id,))
        return _organisation(row) if row is not None else None

    async def all(self) -> list[Organisation]:
        return [_organisation(r) for r in await self.db.fetchall("SELECT * FROM organisations ORDER BY code")]


class CoordinatorRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> Coordinator | None:
        row = await self.db.fetchone(
            _COORDINATOR + " WHERE c.channel = ? AND c.external_id = ?", (address.channel, address.external_id)
        )
        return _coordinator(row) if row is not None else None

    async def put(
        self,
        address: Address,
        organisation_id: int,
        role: StoredRole,
        scope: Scope,
        *,
        name: str | None = None,
        added_by: str | None = None,
    ) -> bool:
        """Make ``address`` a coordinator (or organisation admin) of the organisation, replacing
        any earlier role; True if they were not one before."""
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM coordinators WHERE channel = ? AND external_id = ?",
                (address.channel, address.external_id),
            )
            existed = await cur.fetchone() is not None
            await conn.execute(
                "INSERT INTO coordinators (channel, external_id, organisation_id, role, areas, countries, name,"
                " added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, external_id) DO UPDATE SET organisation_id = excluded.organisation_id,"
                " role = excluded.role, areas = excluded.areas, countries = excluded.countries,"
                " name = coalesce(excluded.name, coordinators.name), added_by = excluded.added_by,"
                " added_at = excluded.added_at",
                (
                    address.channel,
                    address.external_id,
                    organisation_id,
                    role,
                    json.dumps(list(scope.areas)),
                    json.dumps(list(scope.countries)),
                    name,
                    added_by,
                    now_iso(),
                ),
            )
        return not existed

    async def revoke(self, address: Address) -> Coordinator | None:
        """Remove a coordinator; the row as it was, or None if there was none."""
        existing = await self.get(address)
        if existing is not None:
            await self.db.execute(
                "DELETE FROM coordinators WHERE channel = ? AND external_id = ?", (address.channel, address.external_id)
            )
        return existing

    async def of_organisation(self, organisation_id: int | None = None) -> list[Coordinator]:
        """The coordinators of one organisation (None: of all), organisation admins first."""
        if organisation_id is None:
            rows = await self.db.fetchall(_COORDINATOR + " ORDER BY o.code, c.role DESC, c.added_at")
        else:
            rows = await self.db.fetchall(
                _COORDINATOR + " WHERE c.organisation_id = ? ORDER BY c.role DESC, c.added_at", (organisation_id,)
            )
        return [_coordinator(r) for r in rows]

    async def addresses(self) -> set[Address]:
        rows = await self.db.fetchall("SELECT channel, external_id FROM coordinators")
        return {Address(r["channel"], r["external_id"]) for r in rows}
