"""People and their skills."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, cast

import aiosqlite

from bot.domain.alerts import AudienceFilter
from bot.domain.people import ALL_ABROAD, Address, LocationKind, Person, PersonStatus, Target
from db.database import Database

_COLUMNS = [
    "status",
    "language",
    "name",
    "location_kind",
    "municipality",
    "country",
    "city",
    "timezone",
    "availability",
    "quiet_start",
    "quiet_end",
    "phone",
    "organisation",
    "paused",
    "paused_until",
    "blocked_at",
    "consent_at",
    "privacy_version",
    "open_to_coalition",
    "source",
]

_SELECT = """
SELECT p.*, (SELECT group_concat(skill, ';') FROM person_skills s WHERE s.person_id = p.id) AS skills,
       (SELECT group_concat(organisation_id, ';') FROM memberships m WHERE m.person_id = p.id) AS organisations
FROM people p
"""


# The columns of a Target, in its field order (blocked as a flag, skills as "a;b").
_TARGET = """
SELECT p.id, p.channel, p.external_id, p.status, p.language, p.location_kind, p.municipality, p.country,
       p.timezone, (SELECT group_concat(skill, ';') FROM person_skills s WHERE s.person_id = p.id),
       p.quiet_start, p.quiet_end, p.paused, p.paused_until, p.blocked_at IS NOT NULL, p.open_to_coalition
FROM people p
"""
_TARGET_CHUNK = 5000
IMPORT_BATCH = 1000  # people per transaction of an import
_STATUSES = {s.value: s for s in PersonStatus}
_LOCATION_KINDS = {k.value: k for k in LocationKind}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _to_person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row["id"],
        address=Address(row["channel"], row["external_id"]),
        status=PersonStatus(row["status"]),
        language=row["language"],
        name=row["name"],
        location_kind=LocationKind(row["location_kind"]) if row["location_kind"] else None,
        municipality=row["municipality"],
        country=row["country"],
        city=row["city"],
        timezone=row["timezone"],
        skills=tuple(sorted(row["skills"].split(";"))) if row["skills"] else (),
        availability=row["availability"],
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        phone=row["phone"],
        organisation=row["organisation"],
        paused=bool(row["paused"]),
        paused_until=date.fromisoformat(row["paused_until"]) if row["paused_until"] else None,
        blocked=row["blocked_at"] is not None,
        consent_at=_dt(row["consent_at"]),
        privacy_version=row["privacy_version"],
        source=row["source"],
        created_at=_dt(row["created_at"]) or datetime.now(UTC),
        open_to_coalition=bool(row["open_to_coalition"]),
        organisations=_ids(row["organisations"]),
    )


def _ids(joined: str | None) -> tuple[int, ...]:
    """``group_concat``'s "3;5" as (3, 5)."""
    return tuple(sorted(int(i) for i in joined.split(";"))) if joined else ()


def _to_target(row: tuple[Any, ...], intern: Callable[[str], str] = sys.intern) -> Target:
    # Positional, and no helper calls: a preview builds tens of thousands. Municipalities,
    # countries, languages, zones and skills repeat across a roster: interned, they are one
    # string each instead of one per row.
    municipality, country, skills = row[6], row[7], row[9]
    return Target(
        row[0],
        Address(intern(row[1]), row[2]),
        _STATUSES[row[3]],
        intern(row[4]),
        _LOCATION_KINDS[row[5]] if row[5] else None,
        intern(municipality) if municipality else None,
        intern(country) if country else None,
        intern(row[8]),
        tuple(map(intern, skills.split(";"))) if skills else (),  # only matched, never shown: no sorting
        row[10],
        row[11],
        bool(row[12]),
        date.fromisoformat(row[13]) if row[13] else None,
        bool(row[14]),
        (),  # organisations: set afterwards, for the members only (``PeopleRepo.targets``)
        bool(row[15]),
    )


def _marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)


def _narrowing(audience: AudienceFilter) -> tuple[str, list[object]]:
    """A WHERE clause that leaves out the rows ``audience`` cannot match, by the same
    dimensions as ``AudienceFilter.matches`` (which still decides)."""
    where: list[str] = ["p.status = ?"]
    args: list[object] = [PersonStatus.ACTIVE]
    if audience.langs:
        where.append(f"p.language IN ({_marks(audience.langs)})")
        args += audience.langs
    if audience.skills:
        # (IN rather than EXISTS: SQLite then reads only those people, by id)
        where.append(f"p.id IN (SELECT person_id FROM person_skills WHERE skill IN ({_marks(audience.skills)}))")
        args += audience.skills
    places: list[str] = []
    if audience.areas:
        places.append(f"(p.location_kind = ? AND p.municipality IN ({_marks(audience.areas)}))")
        args += [LocationKind.LV, *audience.areas]
    if ALL_ABROAD in audience.countries:
        places.append("p.location_kind = ?")
        args.append(LocationKind.ABROAD)
    elif audience.countries:
        places.append(f"(p.location_kind = ? AND p.country IN ({_marks(audience.countries)}))")
        args += [LocationKind.ABROAD, *audience.countries]
    if places:
        where.append("(" + " OR ".join(places) + ")")
    return " AND ".join(where), args


class PeopleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> Person | None:
        row = await self.db.fetchone(
            _SELECT + " WHERE p.channel = ? AND p.external_id = ?",
            (address.channel, address.external_id),
        )
        return _to_person(row) if row else None

    async def create(
        self,
        address: Address,
        *,
        language: str,
        name: str | None,
        consent_at: datetime,
        privacy_version: int | None = None,
    ) -> Person:
        """A new person registering, who agreed to version ``privacy_version`` of the privacy
        notice at ``consent_at``."""
        now = now_iso()
        async with self.db.tx() as conn:
            await conn.execute(
                "INSERT INTO people (channel, external_id, status, language, name, consent_at, privacy_version,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    address.channel,
                    address.external_id,
                    PersonStatus.REGISTERING,
                    language,
                    name,
                    consent_at.isoformat(timespec="seconds"),
                    privacy_version,
                    now,
                    now,
                ),
            )
        person = await self.get(address)
        assert person is not None
        return person

    async def update(self, person_id: int, **fields: object) -> None:
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown person fields: {sorted(unknown)}")
        values = [_sql_value(v) for v in fields.values()]
        assignments = ", ".join(f"{k} = ?" for k in fields)
        await self.db.execute(
            f"UPDATE people SET {assignments}, updated_at = ? WHERE id = ?",
            (*values, now_iso(), person_id),
        )

    async def set_skills(self, person_id: int, skills: Iterable[str]) -> None:
        async with self.db.tx() as conn:
            await _replace_skills(conn, person_id, skills)
            await conn.execute("UPDATE people SET updated_at = ? WHERE id = ?", (now_iso(), person_id))

    async def set_blocked(self, address: Address, blocked: bool) -> None:
        await self.db.execute(
            "UPDATE people SET blocked_at = ? WHERE channel = ? AND external_id = ?"
            + (" AND blocked_at IS NULL" if blocked else ""),
            (now_iso() if blocked else None, address.channel, address.external_id),
        )

    async def active(self) -> list[Person]:
        rows = await self.db.fetchall(_SELECT + " WHERE p.status = ? ORDER BY p.id", (PersonStatus.ACTIVE,))
        return [_to_person(r) for r in rows]

    async def targets(self, audience: AudienceFilter, *, memberships: bool = True) -> list[Target]:
        """The active people an alert to ``audience`` may reach, as lean ``Target``s in id
        order. SQL leaves out the rows the filter cannot match, so that a preview on a national
        roster reads only what it needs; whom the alert reaches (the filter, paused, blocked,
        quiet hours) is decided by ``bot.domain.alerts.select_audience`` alone."""
        where, args = _narrowing(audience)
        targets: list[Target] = []
        async with self.db.read() as conn:
            cur = await conn.execute(_TARGET + f" WHERE {where} ORDER BY p.id", args)
            cur.row_factory = None  # plain tuples: no Row object per person
            # In chunks, the next one read on the database's thread while this one is turned
            # into Targets here: SQLite's own work runs meanwhile, without the GIL.
            pending = asyncio.ensure_future(cur.fetchmany(_TARGET_CHUNK))
            try:
                while rows := await pending:
                    pending = asyncio.ensure_future(cur.fetchmany(_TARGET_CHUNK))
                    targets.extend(map(_to_target, cast("list[tuple[Any, ...]]", rows)))  # row_factory=None: tuples
            finally:
                await asyncio.gather(pending, return_exceptions=True)
                await cur.close()
            # Memberships (unless ``memberships`` is False: nobody asks) in one read of their
            # own, as (person, organisation) pairs in person order: a lookup per person would
            # cost every preview.
            pairs: list[tuple[int, int]] = []
            if memberships:
                cur = await conn.execute("SELECT person_id, organisation_id FROM memberships ORDER BY person_id")
                cur.row_factory = None
                pairs = cast("list[tuple[int, int]]", await cur.fetchall())
                await cur.close()
        if pairs:
            members: dict[int, tuple[int, ...]] = {}
            for person_id, organisation_id in pairs:
                members[person_id] = (*members.get(person_id, ()), organisation_id)
            for target in targets:
                organisations = members.get(target.id)
                if organisations is not None:
                    target.organisations = organisations
        return targets

    async def countries_abroad(self) -> list[str]:
        """The countries active people abroad live in, by code."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT country FROM people WHERE status = ? AND location_kind = ? AND country IS NOT NULL"
            " ORDER BY country",
            (PersonStatus.ACTIVE, LocationKind.ABROAD),
        )
        return [r["country"] for r in rows]

    async def all(self) -> list[Person]:
        rows = await self.db.fetchall(_SELECT + " ORDER BY p.id")
        return [_to_person(r) for r in rows]

    async def count_active(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM people WHERE status = ?", (PersonStatus.ACTIVE,)))

    async def forget(self, address: Address) -> bool:
        """Erase a person: their row, skills, conversation state and queued messages; their
        past answers stay in alert statistics without anything that identifies them.

        Deleted rows would otherwise linger in the file's free space and in the write-ahead
        log: the deletion overwrites them (``secure_delete``) and the log is checkpointed and
        emptied afterwards."""
        async with self.db.read() as conn:
            await conn.execute("PRAGMA secure_delete = ON")
        try:
            return await self._forget(address)
        finally:
            async with self.db.read() as conn:
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _forget(self, address: Address) -> bool:
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "SELECT id FROM people WHERE channel = ? AND external_id = ?",
                (address.channel, address.external_id),
            )
            row = await cur.fetchone()
            await conn.execute(
                "DELETE FROM sessions WHERE channel = ? AND external_id = ?",
                (address.channel, address.external_id),
            )
            await conn.execute(
                "DELETE FROM outbox WHERE channel = ? AND external_id = ?",
                (address.channel, address.external_id),
            )
            await conn.execute(
                "UPDATE recipients SET channel = NULL, external_id = NULL, eta = NULL"
                " WHERE channel = ? AND external_id = ?",
                (address.channel, address.external_id),
            )
            if row is None:
                return False
            await conn.execute("DELETE FROM people WHERE id = ?", (row["id"],))
            return True

    async def personal_data(self, address: Address) -> dict[str, object] | None:
        """Everything stored about a person, for /mydata."""
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE channel = ? AND external_id = ?", (address.channel, address.external_id)
        )
        if row is None:
            return None
        person: dict[str, object] = dict(row)
        skills = await self.db.fetchall(
            "SELECT skill FROM person_skills WHERE person_id = ? ORDER BY skill", (row["id"],)
        )
        person["skills"] = [r["skill"] for r in skills]
        organisations = await self.db.fetchall(
            "SELECT o.code, o.name, m.source, m.phone_visible, m.joined_at FROM memberships m"
            " JOIN organisations o ON o.id = m.organisation_id WHERE m.person_id = ? ORDER BY o.code",
            (row["id"],),
        )
        person["organisations"] = [
            {
                "code": r["code"],
                "name": r["name"],
                "source": r["source"],
                "phone_visible": bool(r["phone_visible"]),
                "joined_at": r["joined_at"],
            }
            for r in organisations
        ]
        alerts = await self.db.fetchall(
            "SELECT r.alert_id, a.created_at, a.severity, a.drill, r.delivery, r.response, r.eta, r.responded_at"
            " FROM recipients r JOIN alerts a ON a.id = r.alert_id WHERE r.person_id = ? ORDER BY r.alert_id",
            (row["id"],),
        )
        session = await self.db.fetchone(
            "SELECT flow, step, data, updated_at FROM sessions WHERE channel = ? AND external_id = ?",
            (address.channel, address.external_id),
        )
        return {
            "person": person,
            "alerts": [dict(r) for r in alerts],
            "conversation": dict(session) if session else None,
        }

    async def import_people(self, people: Iterable[Person], *, batch: int = IMPORT_BATCH) -> tuple[int, int]:
        """Insert or update (by address) ``batch`` people per transaction; returns (created,
        updated).

        A national roster is about a hundred short transactions, not one long one: between
        them the database is left free (for as long as the batch held it) so that a running
        bot's writes are never kept waiting for long. All or nothing is the caller's promise,
        kept by validating the whole list before the first write (``bot.cli``). Should a write
        fail (a full disk), the batches before it stay written; importing the same list again
        finishes the job, as an import only creates or updates."""
        items = list(people)
        created = updated = 0
        for start in range(0, len(items), batch):
            began = time.monotonic()
            new, old = await self._import_batch(items[start : start + batch])
            created, updated = created + new, updated + old
            if start + batch < len(items):
                await asyncio.sleep(min(time.monotonic() - began, 0.2))
        return created, updated

    async def _import_batch(self, batch: list[Person]) -> tuple[int, int]:
        # The same address twice: the later row wins (counted as an update, as if it came later).
        people = list({p.address: p for p in batch}.values())
        now = now_iso()
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        async with self.db.tx() as conn:
            existing: dict[Address, aiosqlite.Row] = {}
            for channel in {p.address.channel for p in people}:
                ids = [p.address.external_id for p in people if p.address.channel == channel]
                rows = await conn.execute_fetchall(
                    "SELECT id, channel, external_id, country, timezone FROM people"
                    " WHERE channel = ? AND external_id IN (SELECT value FROM json_each(?))",
                    (channel, json.dumps(ids)),
                )
                existing.update({Address(r["channel"], r["external_id"]): r for r in rows})
            for p in people:
                row = existing.get(p.address)
                values = _imported_fields(p)
                if row is None:
                    inserts.append((p.address.channel, p.address.external_id, now, now, *values.values()))
                    continue
                if row["country"] == p.country:
                    # A list has no time zone column: in the same country, keep the zone the
                    # person chose in the chat (a list's guess for a multi-zone country is UTC).
                    values["timezone"] = row["timezone"]
                updates.append((now, *values.values(), row["id"]))
            columns = list(_imported_fields(people[0])) if people else []
            await conn.executemany(
                "INSERT INTO people (channel, external_id, status, source, created_at, updated_at, "
                + ", ".join(columns)
                + ") VALUES (?, ?, 'active', 'import', ?, ?, "
                + ", ".join("?" for _ in columns)
                + ")",
                inserts,
            )
            await conn.executemany(
                "UPDATE people SET status = 'active', updated_at = ?, "
                + ", ".join(f"{k} = ?" for k in columns)
                + " WHERE id = ?",
                updates,
            )
            await conn.execute(
                "DELETE FROM person_skills WHERE person_id IN (SELECT value FROM json_each(?))",
                (json.dumps([r["id"] for r in existing.values()]),),
            )
            await conn.executemany(
                "INSERT INTO person_skills (person_id, skill)"
                " SELECT id, ? FROM people WHERE channel = ? AND external_id = ?",
                [(s, p.address.channel, p.address.external_id) for p in people for s in dict.fromkeys(p.skills)],
            )
        return len(inserts), len(updates) + len(batch) - len(people)


def _imported_fields(p: Person) -> dict[str, object]:
    """What a list sets of a person (the same columns, in the same order, for everyone). Its
    ``organisation`` column holds organisations' codes, which become memberships
    (``db.memberships.MembershipRepo.import_lists``); the legacy free-text ``people.organisation``
    is no longer written."""
    return {
        "language": p.language,
        "name": p.name,
        "location_kind": p.location_kind,
        "municipality": p.municipality,
        "country": p.country,
        "city": p.city,
        "timezone": p.timezone,
        "phone": p.phone,
    }


async def _replace_skills(conn: aiosqlite.Connection, person_id: int, skills: Iterable[str]) -> None:
    await conn.execute("DELETE FROM person_skills WHERE person_id = ?", (person_id,))
    await conn.executemany(
        "INSERT INTO person_skills (person_id, skill) VALUES (?, ?)",
        [(person_id, s) for s in dict.fromkeys(skills)],
    )


def _sql_value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
