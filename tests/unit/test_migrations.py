"""Migrations against a real SQLite file: from empty to the latest version, once."""

from __future__ import annotations

import asyncio
import json
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


async def at_version(db: Database, version: int) -> None:
    async with db.read() as conn:
        for mig in migrations()[:version]:
            await conn.executescript(f"BEGIN; {mig.sql}\nPRAGMA user_version = {mig.version}; COMMIT;")


async def rows(db: Database, table: str, columns: list[str] | None = None) -> list[tuple[object, ...]]:
    """A table's rows; with ``columns``, only those (later migrations add columns of their own)."""
    picked = ", ".join(columns) if columns else "*"
    return [tuple(r) for r in await db.fetchall(f"SELECT {picked} FROM {table} ORDER BY 1, 2")]


async def column_names(db: Database, table: str) -> list[str]:
    return [r["name"] for r in await db.fetchall(f"PRAGMA table_info({table})")]


async def test_0003_moves_the_alert_texts_into_a_mapping_and_keeps_everything_else(db):
    await at_version(db, 2)
    person = "INSERT INTO people (id, external_id, status, language, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'x', 'x')"
    async with db.tx() as conn:
        await conn.execute(person, (1, "11", "active", "lv", "Anna"))
        await conn.execute(person, (2, "12", "registering", "en", "Ben"))
        await conn.execute("INSERT INTO person_skills VALUES (1, 'first_aid'), (1, 'driver'), (2, 'it_comms')")
        alert = (
            "INSERT INTO alerts (id, author_channel, author_external_id, author_name, text_lv, text_en, severity,"
            " created_at) VALUES (?, 'telegram', '9000', 'Koordinators', ?, ?, 'urgent', 'x')"
        )
        await conn.execute(alert, (1, "Smilšu maisi pie tilta", "Sandbags at the bridge"))
        await conn.execute(alert, (2, "Tikai latviski", None))
        await conn.execute(alert, (3, None, "English only"))
        await conn.execute(alert, (4, "Ar tukšu", ""))
        await conn.execute(
            "INSERT INTO recipients (id, alert_id, person_id, channel, external_id, language, delivery, response)"
            " VALUES (1, 1, 1, 'telegram', '11', 'lv', 'sent', 'accepted'), (2, 1, 2, 'telegram', '12', 'en', 'queued',"
            " 'none'), (3, 3, 2, 'telegram', '12', 'en', 'sent', 'declined')"
        )
        await conn.execute(
            "INSERT INTO outbox (id, recipient_id, channel, external_id, kind, payload, state, created_at)"
            " VALUES (1, 1, 'telegram', '11', 'alert', '{}', 'sent', 'x'), (2, 2, 'telegram', '12', 'alert', '{}',"
            " 'queued', 'x')"
        )
    tables = ("people", "person_skills", "recipients", "outbox")
    columns = {table: await column_names(db, table) for table in tables}
    before = {table: await rows(db, table, columns[table]) for table in tables}
    before_alerts = await db.fetchall("SELECT * FROM alerts ORDER BY id")

    assert await migrate(db) == [m.name for m in migrations()[2:]]

    texts = {r["id"]: json.loads(r["texts"]) for r in await db.fetchall("SELECT id, texts FROM alerts")}
    assert texts == {
        1: {"lv": "Smilšu maisi pie tilta", "en": "Sandbags at the bridge"},
        2: {"lv": "Tikai latviski"},
        3: {"en": "English only"},
        4: {"lv": "Ar tukšu"},
    }
    assert list(texts[1]) == ["lv", "en"]
    after_alerts = await db.fetchall("SELECT * FROM alerts ORDER BY id")
    for old, new in zip(before_alerts, after_alerts, strict=True):
        kept = set(old.keys()) - {"text_lv", "text_en"}
        assert {k: old[k] for k in kept} == {k: new[k] for k in kept}
    for table, content in before.items():
        assert await rows(db, table, columns[table]) == content, table
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchall("PRAGMA foreign_key_check") == []
    indexes = {
        r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    }
    assert {"recipients_by_person", "recipients_by_address", "outbox_queue", "outbox_by_recipient"} <= indexes

    # the references still hold, in both directions
    await db.execute("DELETE FROM alerts WHERE id = 1")
    assert await db.fetchval("SELECT count(*) FROM recipients WHERE alert_id = 1") == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0
    await db.execute("DELETE FROM people WHERE id = 2")
    assert await db.fetchval("SELECT person_id FROM recipients WHERE id = 3") is None
    assert await db.fetchval("SELECT count(*) FROM person_skills WHERE person_id = 2") == 0
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO person_skills VALUES (99, 'first_aid')")


async def test_after_0003_any_language_code_is_stored_but_an_alert_needs_a_text(db):
    await migrate(db)
    await db.execute(
        "INSERT INTO people (channel, external_id, status, language, created_at, updated_at)"
        " VALUES ('telegram', '1', 'active', 'uk', 'x', 'x')"
    )
    insert = (
        "INSERT INTO alerts (author_channel, author_external_id, author_name, texts, severity, created_at)"
        " VALUES ('telegram', '1', 'A', ?, 'info', 'x')"
    )
    for texts in ("{}", "not json", '["lv"]'):
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute(insert, (texts,))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO outbox (channel, external_id, kind, payload, created_at) VALUES ('telegram', '1', 'x', '{}', 'x')"
        )


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
