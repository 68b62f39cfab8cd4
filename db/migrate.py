"""Versioned raw-SQL migrations: ``db/migrations/NNNN_name.sql``, applied in order, each in
one transaction together with ``PRAGMA user_version``, with foreign keys checked at the end
rather than enforced statement by statement (so a migration can rebuild a table).

Two processes may start on a new database at once (a restarted service and an operator's
command): each migration's transaction is ``BEGIN IMMEDIATE`` (one writer at a time) and reads the
schema version inside it, so the second process finds the first one's work done and skips it."""

from __future__ import annotations

import logging
import re
import sqlite3
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


class SchemaTooNew(Exception):
    """The database was made by a newer Sauciens than this one."""

    def __init__(self, version: int, latest: int) -> None:
        self.version = version
        self.latest = latest
        super().__init__(
            f"database schema version {version} is newer than this program's {latest}: run a newer Sauciens"
        )


def statements(sql: str) -> list[str]:
    """A migration's statements, one by one (``executescript`` would commit the transaction they
    must run in). SQLite itself says where a statement ends, triggers' ``BEGIN ... END`` included."""
    found: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip())
            current = ""
    rest = "\n".join(ln for ln in current.splitlines() if not ln.strip().startswith("--")).strip()
    if rest:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[:60]!r}")
    return found


def latest_version() -> int:
    return len(migrations())


async def current_version(db: Database) -> int:
    return int(await db.fetchval("PRAGMA user_version"))


async def migrate(db: Database) -> list[str]:
    """Bring the database to the latest version; returns the names of applied migrations.

    Raises ``SchemaTooNew`` for a database from a newer version of the program."""
    applied: list[str] = []
    pending = migrations()
    latest = len(pending)
    while True:
        async with db.read() as conn:
            # SQLite's procedure for rebuilding a table: foreign keys off (it cannot be changed
            # inside a transaction), so that dropping the old table cascades nothing, and checked
            # before the commit.
            enforced = (await (await conn.execute("PRAGMA foreign_keys")).fetchone() or (0,))[0]
            await conn.execute("PRAGMA foreign_keys=OFF")
            try:
                await conn.execute("BEGIN IMMEDIATE")
                version = int((await (await conn.execute("PRAGMA user_version")).fetchone() or (0,))[0])
                if version > latest:
                    raise SchemaTooNew(version, latest)
                if version == latest:
                    await conn.execute("ROLLBACK")
                    break
                mig = pending[version]  # numbered without gaps from 1: the next one
                for statement in statements(mig.sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {mig.version}")
                broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
                if broken:
                    raise RuntimeError(f"migration {mig.name} leaves {len(broken)} broken foreign key(s)")
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            finally:
                await conn.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
        event(log, "migration_applied", version=mig.version, name=mig.name)
        applied.append(mig.name)
    return applied
