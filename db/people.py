"""People and their skills."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import aiosqlite

from bot.domain.people import Address, LocationKind, Person, PersonStatus
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
    "source",
]

_SELECT = """
SELECT p.*, (SELECT group_concat(skill, ';') FROM person_skills s WHERE s.person_id = p.id) AS skills
FROM people p
"""


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
        source=row["source"],
        created_at=_dt(row["created_at"]) or datetime.now(UTC),
    )


class PeopleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, address: Address) -> Person | None:
        row = await self.db.fetchone(
            _SELECT + " WHERE p.channel = ? AND p.external_id = ?",
            (address.channel, address.external_id),
        )
        return _to_person(row) if row else None

    async def create(self, address: Address, *, language: str, name: str | None, consent_at: datetime) -> Person:
        now = now_iso()
        async with self.db.tx() as conn:
            await conn.execute(
                "INSERT INTO people (channel, external_id, status, language, name, consent_at,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    address.channel,
                    address.external_id,
                    PersonStatus.REGISTERING,
                    language,
                    name,
                    consent_at.isoformat(timespec="seconds"),
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

    async def import_people(self, people: Iterable[Person]) -> tuple[int, int]:
        """Insert or update (by address) in one transaction; returns (created, updated)."""
        created = updated = 0
        now = now_iso()
        async with self.db.tx() as conn:
            for p in people:
                cur = await conn.execute(
                    "SELECT id, country, timezone FROM people WHERE channel = ? AND external_id = ?",
                    (p.address.channel, p.address.external_id),
                )
                row = await cur.fetchone()
                fields = {
                    "language": p.language,
                    "name": p.name,
                    "location_kind": p.location_kind,
                    "municipality": p.municipality,
                    "country": p.country,
                    "city": p.city,
                    "timezone": p.timezone,
                    "phone": p.phone,
                    "organisation": p.organisation,
                }
                if row is not None and row["country"] == p.country:
                    # A list has no time zone column: in the same country, keep the zone the
                    # person chose in the chat (a list's guess for a multi-zone country is UTC).
                    fields["timezone"] = row["timezone"]
                if row is None:
                    cur = await conn.execute(
                        "INSERT INTO people (channel, external_id, status, source, created_at,"
                        " updated_at, "
                        + ", ".join(fields)
                        + ") VALUES (?, ?, 'active', 'import', ?, ?, "
                        + ", ".join("?" for _ in fields)
                        + ")",
                        (p.address.channel, p.address.external_id, now, now, *fields.values()),
                    )
                    assert cur.lastrowid is not None
                    person_id = cur.lastrowid
                    created += 1
                else:
                    person_id = row["id"]
                    await conn.execute(
                        "UPDATE people SET status = 'active', updated_at = ?, "
                        + ", ".join(f"{k} = ?" for k in fields)
                        + " WHERE id = ?",
                        (now, *fields.values(), person_id),
                    )
                    updated += 1
                await _replace_skills(conn, person_id, p.skills)
        return created, updated


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
