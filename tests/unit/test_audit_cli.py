"""``python -m bot audit`` and ``audit verify`` (bot/cli.py) on a real SQLite file: the filters,
bad filters, an intact chain and a tampered one; the parser and exit codes as a subprocess."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import cli
from bot.__main__ import parser
from bot.domain.audit import CSV_HEADER, GENESIS, AuditAction, details_json, entry_hash
from bot.settings import Settings, load_settings
from db.database import Database
from db.migrate import migrate

ROOT = Path(__file__).resolve().parents[2]

# (at, actor, role, organisation, action, target, details): fixed times around a Riga midnight
# (2025-03-01 23:30 and 2025-03-02 00:30 in Riga are 21:30 and 22:30 UTC)
ROWS = [
    ("2025-02-20T10:00:00+00:00", "9000", "admin", "", "organisation_added", "organisation:LSK", {}),
    ("2025-03-01T21:30:00+00:00", "9100", "orgadmin", "LSK", "invite_created", "invite", {}),
    ("2025-03-01T22:30:00+00:00", "9101", "coordinator", "LSK", "export", "alert:1", {"rows": 4}),
    ("2025-03-02T08:00:00+00:00", None, "operator", "", "export", "volunteers", {"rows": 12}),
    ("2025-03-03T08:00:00+00:00", "9200", "coordinator", "SK", "alert_sent", "alert:2", {"recipients": 40}),
]


async def insert_chain(db: Database, rows: list[tuple]) -> None:
    """Entries with chosen times, chained as ``db.audit.AuditRepo.append`` chains them."""
    prev = GENESIS
    for at, actor, role, organisation, action, target, details in rows:
        text = details_json(details)
        digest = entry_hash(prev, at, actor, role, organisation, action, target, text)
        await db.execute(
            "INSERT INTO audit_log (at, actor_channel, actor_external_id, role, organisation, action, target,"
            " details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, "telegram" if actor else None, actor, role, organisation, action, target, text, prev, digest),
        )
        prev = digest


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[Settings]:
    path = tmp_path / "audit.sqlite3"
    db = await Database(path).open()
    await migrate(db)
    await insert_chain(db, ROWS)
    await db.close()
    yield load_settings(None, database={"path": str(path)})


async def listed(settings: Settings, **filters: str) -> list[dict[str, str]]:
    out, err = io.StringIO(), io.StringIO()
    assert await cli.audit_trail(settings, out, err=err, **filters) == 0, err.getvalue()
    assert out.getvalue().splitlines()[0] == ",".join(CSV_HEADER)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


async def test_the_whole_trail_as_csv(settings: Settings) -> None:
    rows = await listed(settings)
    assert [r["action"] for r in rows] == [r[4] for r in ROWS]
    first, operator = rows[2], rows[3]
    assert first == {
        "at": "2025-03-01T22:30:00+00:00",
        "actor_telegram_id": "9101",
        "role": "coordinator",
        "organisation": "LSK",
        "action": "export",
        "target": "alert:1",
        "details": '{"rows":4}',
    }
    assert operator["actor_telegram_id"] == "" and operator["role"] == "operator"


async def test_filters_narrow_the_trail_and_combine(settings: Settings) -> None:
    async def targets(**filters: str) -> list[str]:
        return [r["target"] for r in await listed(settings, **filters)]

    # a day is a day in Riga: 2025-03-02 begins at 22:00 UTC on 1 March
    assert await targets(since="2025-03-02") == ["alert:1", "volunteers", "alert:2"]
    assert await targets(since="2025-03-01T22:00:00+00:00") == ["alert:1", "volunteers", "alert:2"]
    assert await targets(since="2025-03-01T23:00") == ["invite", "alert:1", "volunteers", "alert:2"]  # Riga time
    assert await targets(since="2025-03-03T08:00:00Z") == ["alert:2"]
    assert await targets(since="2025-04-01") == []
    assert await targets(actor="9101") == ["alert:1"]
    assert await targets(action="export") == ["alert:1", "volunteers"]
    assert await targets(organisation="lsk") == ["invite", "alert:1"]  # codes ignore case
    assert await targets(organisation="LSK", action="export", since="2025-03-02") == ["alert:1"]
    assert await targets(organisation="SK") == ["alert:2"]  # not a prefix match


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"since": "yesterday"}, "--since 'yesterday' is neither a date (YYYY-MM-DD) nor an ISO time"),
        ({"since": "2025-02-30"}, "--since '2025-02-30' is neither a date"),
        ({"actor": "@anna"}, "--actor '@anna' is not a Telegram id"),
        ({"action": "exported"}, "--action 'exported' is not an audited action; they are: alert_submitted,"),
        ({"organisation": "L"}, "--org 'L' is not an organisation code"),
    ],
)
async def test_a_bad_filter_is_one_line_and_exit_2(settings: Settings, filters: dict[str, str], message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert await cli.audit_trail(settings, out, err=err, **filters) == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sauciens: " + message)
    if "action" in filters:
        assert all(a.value in lines[0] for a in AuditAction)


async def test_verify_an_intact_trail(settings: Settings, tmp_path: Path) -> None:
    out = io.StringIO()
    assert await cli.verify_audit(settings, out) == 0
    assert out.getvalue() == f"audit trail intact: {len(ROWS)} entries\n"
    empty = load_settings(None, database={"path": str(tmp_path / "empty.sqlite3")})
    out = io.StringIO()
    assert await cli.verify_audit(empty, out) == 0
    assert out.getvalue() == "audit trail intact: 0 entries\n"


async def tamper(settings: Settings, sql: str) -> None:
    """What someone with the file could do: drop the trigger that keeps rows unchanged, and edit."""
    db = await Database(settings.database.path).open()
    await db.execute("DROP TRIGGER audit_log_no_update")
    await db.execute(sql)
    await db.close()


async def test_verify_finds_an_edited_row(settings: Settings) -> None:
    await tamper(settings, """UPDATE audit_log SET details = '{"rows":1}' WHERE id = 3""")
    out = io.StringIO()
    assert await cli.verify_audit(settings, out) == 1
    assert out.getvalue() == "audit trail broken at entry 3 (2025-03-01T22:30:00+00:00, export)\n"


async def test_verify_finds_a_row_whose_hash_was_recomputed(settings: Settings) -> None:
    # the edited row's own hash made to fit: the next row no longer follows from it
    at, actor, role, organisation, action, _, _ = ROWS[1]
    db = await Database(settings.database.path).open()
    first = await db.fetchone("SELECT hash FROM audit_log WHERE id = 1")
    assert first is not None
    prev = first["hash"]
    await db.close()
    forged = entry_hash(prev, at, actor, role, organisation, action, "invite:forged", "{}")
    await tamper(settings, f"UPDATE audit_log SET target = 'invite:forged', hash = '{forged}' WHERE id = 2")
    out = io.StringIO()
    assert await cli.verify_audit(settings, out) == 1
    assert out.getvalue().startswith("audit trail broken at entry 3 (")


def test_the_parser_takes_the_filters_and_verify() -> None:
    args = parser().parse_args(
        ["audit", "--since", "2025-03-01", "--actor", "9000", "--action", "export", "--org", "LSK"]
    )
    assert (args.command, args.check, args.since, args.actor, args.action, args.org) == (
        "audit",
        None,
        "2025-03-01",
        "9000",
        "export",
        "LSK",
    )
    assert parser().parse_args(["audit", "verify"]).check == "verify"
    with pytest.raises(SystemExit):
        parser().parse_args(["audit", "check"])


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAUCIENS_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["SAUCIENS_DATABASE__PATH"] = str(settings.database.path)
    env["SAUCIENS_LOGGING__LEVEL"] = "WARNING"
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", *args],
        cwd=Path(settings.database.path).parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_line_exit_codes(settings: Settings) -> None:
    listing = run(settings, "--org", "LSK")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0] == "at,actor_telegram_id,role,organisation,action,target,details"
    assert len(listing.stdout.splitlines()) == 3
    bad = run(settings, "--since", "soon")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "sauciens: --since 'soon' is neither a date (YYYY-MM-DD) nor an ISO time"
    ]
    filtered_verify = run(settings, "verify", "--org", "LSK")
    assert filtered_verify.returncode == 2
    intact = run(settings, "verify")
    assert (intact.returncode, intact.stdout) == (0, f"audit trail intact: {len(ROWS)} entries\n")
    await tamper(settings, "UPDATE audit_log SET action = 'alert_closed' WHERE id = 5")
    broken = run(settings, "verify")
    assert (broken.returncode, broken.stdout) == (
        1,
        "audit trail broken at entry 5 (2025-03-03T08:00:00+00:00, alert_closed)\n",
    )
