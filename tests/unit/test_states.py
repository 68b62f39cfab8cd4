"""Every state enum has exactly the values its column's CHECK constraint allows, read from
the schema of a migrated SQLite file."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from bot.domain.alerts import AlertStatus, Delivery, Response, Severity
from bot.domain.approval import ApprovalStatus
from bot.domain.audit import AuditRole
from bot.domain.coalition import InviteKind, MembershipSource, StoredRole
from bot.domain.outbox import OutboxKind, OutboxState
from db.database import Database
from db.migrate import migrate

CHECKED = [
    ("alerts", "severity", Severity),
    ("alerts", "status", AlertStatus),
    ("recipients", "delivery", Delivery),
    ("recipients", "response", Response),
    ("outbox", "state", OutboxState),
    ("outbox", "kind", OutboxKind),
    ("coordinators", "role", StoredRole),
    ("invites", "kind", InviteKind),
    ("memberships", "source", MembershipSource),
    ("audit_log", "role", AuditRole),
    ("approvals", "status", ApprovalStatus),
]


@pytest.fixture
async def schema(tmp_path) -> dict[str, str]:
    db = await Database(tmp_path / "s.sqlite3").open()
    try:
        await migrate(db)
        rows = await db.fetchall("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    finally:
        await db.close()
    return {r["name"]: r["sql"] for r in rows}


def check_values(table_sql: str, column: str) -> set[str]:
    m = re.search(rf"\b{column}\s+TEXT\b[^,]*?CHECK\s*\(\s*{column}\s+IN\s*\(([^)]*)\)\s*\)", table_sql, re.S)
    assert m is not None, f"no CHECK on {column}"
    return set(re.findall(r"'([^']*)'", m.group(1)))


@pytest.mark.parametrize(("table", "column", "enum"), CHECKED, ids=[f"{t}.{c}" for t, c, _ in CHECKED])
async def test_enum_values_are_the_check_constraint(schema, table: str, column: str, enum: type[StrEnum]) -> None:
    assert {e.value for e in enum} == check_values(schema[table], column)
