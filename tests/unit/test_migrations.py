"""Migrations against a real SQLite file: from empty to the latest version, once."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from db.database import Database
from db.migrate import SchemaTooNew, current_version, latest_version, migrate, migrations, statements

MIGRATION_FILES = sorted((Path(__file__).resolve().parents[2] / "db" / "migrations").glob("*.sql"))
TABLES = {"people", "person_skills", "sessions", "alerts", "recipients", "outbox"}


@pytest.fixture
async def db(tmp_path):
    database = await Database(tmp_path / "m.sqlite3").open()
    yield database
    await database.close()


def test_the_migration_files_are_numbered_without_gaps():
    assert [m.name for m in migrations()] == [p.name for p in MIGRATION_FILES]
    assert [m.version for m in migrations()] == list(range(1, len(MIGRATION_FILES) + 1))
    assert latest_version() == len(MIGRATION_FILES)


async def test_migrating_an_empty_database_reaches_the_latest_version(db, tmp_path):
    assert await current_version(db) == 0
    applied = await migrate(db)
    assert applied == [p.name for p in MIGRATION_FILES]
    assert await current_version(db) == len(MIGRATION_FILES)
    names = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names >= TABLES
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1

    # as another process sees the file
    with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATION_FILES)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrating_twice_is_a_no_op(db):
    await migrate(db)
    schema = await db.fetchall("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    await db.execute(
        "INSERT INTO people (channel, external_id, status, language, created_at, updated_at)"
        " VALUES ('telegram', '1', 'active', 'lv', 'x', 'x')"
    )
    assert await migrate(db) == []
    assert await current_version(db) == len(MIGRATION_FILES)
    assert [tuple(r) for r in await db.fetchall("SELECT type, name, sql FROM sqlite_master ORDER BY name")] == [
        tuple(r) for r in schema
    ]
    assert await db.fetchval("SELECT count(*) FROM people") == 1  # data untouched


async def test_foreign_keys_are_enforced(db):
    await migrate(db)
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO person_skills (person_id, skill) VALUES (999, 'first_aid')")
    await db.execute(
        "INSERT INTO people (id, channel, external_id, status, language, created_at, updated_at)"
        " VALUES (1, 'telegram', '1', 'active', 'lv', 'x', 'x')"
    )
    await db.execute("INSERT INTO person_skills (person_id, skill) VALUES (1, 'first_aid')")
    await db.execute("DELETE FROM people WHERE id = 1")
    assert await db.fetchval("SELECT count(*) FROM person_skills") == 0  # ON DELETE CASCADE


async def test_a_partly_migrated_database_gets_only_the_rest(db):
    first = migrations()[0]
    async with db.read() as conn:
        await conn.executescript(f"BEGIN; {first.sql}\nPRAGMA user_version = 1; COMMIT;")
    applied = await migrate(db)
    assert applied == [m.name for m in migrations()[1:]]
    assert await current_version(db) == latest_version()


async def test_two_connections_migrating_a_new_database_at_once_both_succeed(tmp_path):
    """Each in its own thread, as two processes would be: the one that waits for the other's
    transaction reads the version the other left and applies nothing twice."""
    for attempt in range(5):
        path = tmp_path / f"race{attempt}.sqlite3"
        a, b = await Database(path).open(), await Database(path).open()
        try:
            first, second = await asyncio.gather(migrate(a), migrate(b))
        finally:
            await a.close()
            await b.close()
        assert sorted(first + second) == [p.name for p in MIGRATION_FILES]  # each applied exactly once
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATION_FILES)


async def test_a_database_from_a_newer_version_is_refused_untouched(db):
    await migrate(db)
    await db.execute(f"PRAGMA user_version = {latest_version() + 1}")
    with pytest.raises(SchemaTooNew, match=f"version {latest_version() + 1} is newer"):
        await migrate(db)
    assert await current_version(db) == latest_version() + 1


def test_statements_are_split_where_sqlite_says_they_end():
    sql = (
        "-- a comment; with a semicolon\nCREATE TABLE t (a TEXT DEFAULT ';');\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 'x;';\nEND;\n-- trailing\n"
    )
    found = statements(sql)
    assert len(found) == 2 and found[1].startswith("CREATE TRIGGER") and found[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        statements("CREATE TABLE t (a TEXT)")
    for mig in migrations():
        assert statements(mig.sql), mig.name
