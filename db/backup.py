"""Backups and restores of the SQLite file.

``backup`` copies the database with SQLite's online backup API: one step, so the copy is one
consistent snapshot, taken while the bot keeps writing (in WAL mode readers never block writers).
The copy is written beside the target, switched to a rollback journal (one self-contained file),
checked with ``PRAGMA integrity_check``, flushed to disk and only then renamed into place.

``restore`` takes the database's lock (``db.lock``: it refuses while a bot runs on it), checks a
copy of the backup (integrity, a Sauciens schema no newer than this program's, the migrations
apply), and renames it over the database; the old database's ``-wal`` and ``-shm`` go first, as
they would otherwise be applied to the restored file."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

import aiosqlite

from db.database import Database
from db.lock import DatabaseLock
from db.migrate import SchemaTooNew, migrate

# The tables every Sauciens database has from the latest migration on.
REQUIRED_TABLES = frozenset({"people", "person_skills", "sessions", "alerts", "recipients", "outbox"})


class BackupError(Exception):
    """Why a backup or restore was not done, in one line."""


@dataclass(frozen=True)
class Summary:
    """What a database file holds, as the backup and restore commands print it."""

    path: Path
    size: int
    version: int
    people: int
    alerts: int
    recipients: int
    queued: int  # outbox messages still to send
    migrated: int = 0  # migrations applied on restore

    def lines(self) -> list[str]:
        return [
            f"{self.path} ({self.size} bytes), integrity ok",
            f"schema version {self.version}: {self.people} people, {self.alerts} alerts, "
            f"{self.recipients} alert recipients, {self.queued} outbox messages queued",
        ]


def sidecars(database: Path) -> list[Path]:
    """SQLite's files beside a WAL-mode database."""
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]


async def _integrity(conn: aiosqlite.Connection) -> str:
    rows = await conn.execute_fetchall("PRAGMA integrity_check")
    problems = [str(r[0]) for r in rows]
    return "ok" if problems == ["ok"] else "; ".join(problems[:3])


async def _tables(conn: aiosqlite.Connection) -> set[str]:
    rows = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r[0]) for r in rows}


async def _count(conn: aiosqlite.Connection, sql: str) -> int:
    rows = list(await conn.execute_fetchall(sql))
    return int(rows[0][0])


async def _summary(conn: aiosqlite.Connection, path: Path, migrated: int = 0) -> Summary:
    return Summary(
        path=path,
        size=0,  # filled in once the file is complete
        version=await _count(conn, "PRAGMA user_version"),
        people=await _count(conn, "SELECT count(*) FROM people"),
        alerts=await _count(conn, "SELECT count(*) FROM alerts"),
        recipients=await _count(conn, "SELECT count(*) FROM recipients"),
        queued=await _count(conn, "SELECT count(*) FROM outbox WHERE state = 'queued'"),
        migrated=migrated,
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target`` durably: the file's data first, then the folder's entry."""
    _fsync(source)
    os.replace(source, target)
    _fsync(target.parent)


def _prepare_backup(database: Path, target: Path, force: bool) -> tuple[Path, Path, Path]:
    database, target = database.absolute(), target.absolute()
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    if target.exists() and target.resolve() == database.resolve():
        raise BackupError(f"{target} is the database itself")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists (use --force to replace it)")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    return database, target, partial


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _size(path: Path) -> int:
    return path.stat().st_size


async def backup(database: Path, target: Path, *, force: bool = False) -> Summary:
    """Copy ``database`` to ``target``, consistently, while a bot may be writing to it.

    An existing ``target`` is replaced only with ``force``."""
    database, target, partial = await asyncio.to_thread(_prepare_backup, database, target, force)
    try:
        source = await aiosqlite.connect(database, isolation_level=None)
        try:
            await source.execute("PRAGMA busy_timeout=5000")
            # The backup runs on the source's thread, which then uses this connection.
            copy = await aiosqlite.connect(partial, isolation_level=None, check_same_thread=False)
            try:
                await source.backup(copy)  # pages=0: all at once, one consistent snapshot
            finally:
                await copy.close()
        finally:
            await source.close()
        copy = await aiosqlite.connect(partial, isolation_level=None)
        try:
            await copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            verdict = await _integrity(copy)
            if verdict != "ok":
                raise BackupError(f"the copy failed its integrity check: {verdict}")
            summary = await _summary(copy, target)
        finally:
            await copy.close()
        await asyncio.to_thread(_replace, partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {database}: {exc}") from None
    finally:
        await asyncio.to_thread(_remove, partial)
    return replace(summary, size=await asyncio.to_thread(_size, target))


def _prepare_restore(backup_file: Path, database: Path) -> tuple[Path, Path, Path]:
    backup_file, database = backup_file.absolute(), database.absolute()
    if not backup_file.is_file():
        raise BackupError(f"there is no file {backup_file}")
    if database.exists() and backup_file.resolve() == database.resolve():
        raise BackupError(f"{backup_file} is the database itself")
    return backup_file, database, database.with_name(f".{database.name}.{os.getpid()}.restoring")


async def restore(backup_file: Path, database: Path) -> Summary:
    """Put ``backup_file`` in place of ``database``; raises ``db.lock.DatabaseInUse`` while a bot
    runs on it and ``BackupError`` for a file that is not a sound Sauciens database."""
    backup_file, database, staged = await asyncio.to_thread(_prepare_restore, backup_file, database)
    with DatabaseLock(database):
        try:
            await asyncio.to_thread(shutil.copyfile, backup_file, staged)
            summary = await _check_and_migrate(backup_file, staged, database)
            await _retire(database)
            await asyncio.to_thread(_replace, staged, database)
        finally:
            await asyncio.to_thread(_remove, staged, *sidecars(staged))
    return replace(summary, size=await asyncio.to_thread(_size, database))


async def _check_and_migrate(backup_file: Path, staged: Path, database: Path) -> Summary:
    """Check the staged copy and bring it to the latest schema, as the bot will open it."""
    db = Database(staged)
    try:
        await db.open()
        conn = db.conn
        verdict = await _integrity(conn)
        if verdict != "ok":
            raise BackupError(f"{backup_file} failed its integrity check: {verdict}")
        version = await _count(conn, "PRAGMA user_version")
        if version == 0 or "people" not in await _tables(conn):
            raise BackupError(f"{backup_file} is not a Sauciens database (no Sauciens schema in it)")
        applied = await migrate(db)
        missing = REQUIRED_TABLES - await _tables(conn)
        if missing:
            raise BackupError(f"{backup_file} is not a Sauciens database (no table {', '.join(sorted(missing))})")
        return await _summary(conn, database, migrated=len(applied))
    except SchemaTooNew as exc:
        raise BackupError(f"{backup_file}: {exc}") from None
    except sqlite3.Error as exc:
        raise BackupError(f"{backup_file} is not a usable SQLite database: {exc}") from None
    finally:
        await db.close()


async def _retire(database: Path) -> None:
    """Before the old database is replaced: fold its ``-wal`` into it (nothing half-kept if the
    rename never happens), then remove the ``-wal`` and ``-shm`` that must not meet the new file."""
    if await asyncio.to_thread(database.is_file):
        with suppress(sqlite3.Error):
            conn = await aiosqlite.connect(database, isolation_level=None)
            try:
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await conn.close()
    await asyncio.to_thread(_remove, *sidecars(database))
