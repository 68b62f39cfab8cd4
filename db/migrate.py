"""Versioned raw-SQL migrations: ``db/migrations/NNNN_name.sql``, applied in order, each in
one transaction together with ``PRAGMA user_version``, with foreign keys checked at the end
rather than enforced statement by statement (so a migration can rebuild a table)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from bot.logs import event
from db.database import Database

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise RuntimeError(f"migration {mig.name} is out of sequence (expected {expected:04d})")
    return found


def latest_version() -> int:
    return len(migrations())


async def current_version(db: Database) -> int:
    return int(await db.fetchval("PRAGMA user_version"))


async def migrate(db: Database) -> list[str]:
    """Bring the database to the latest version; returns the names of applied migrations."""
    applied: list[str] = []
    version = await current_version(db)
    for mig in migrations():
        if mig.version <= version:
            continue
        async with db.read() as conn:
            # SQLite's procedure for rebuilding a table: foreign keys off (it cannot be changed
            # inside a transaction), so that dropping the old table cascades nothing, and checked
            # before the commit.
            enforced = (await (await conn.execute("PRAGMA foreign_keys")).fetchone() or (0,))[0]
            await conn.execute("PRAGMA foreign_keys=OFF")
            try:
                await conn.executescript(f"BEGIN IMMEDIATE;\n{mig.sql}\nPRAGMA user_version = {mig.version};")
                broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
                if broken:
                    raise RuntimeError(f"migration {mig.name} leaves {len(broken)} broken foreign key(s)")
                await conn.execute("COMMIT")
            except Exception:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            finally:
                await conn.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
        event(log, "migration_applied", version=mig.version, name=mig.name)
        applied.append(mig.name)
    return applied
