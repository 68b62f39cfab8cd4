"""The unit tests' shared fixture: a migrated SQLite file (a test module may define its own ``db``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from db.migrate import migrate


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database(tmp_path / "unit.sqlite3").open()
    try:
        await migrate(database)
        yield database
    finally:
        await database.close()
