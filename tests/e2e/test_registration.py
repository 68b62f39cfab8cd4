"""Registration through the sandbox: the real bot, PTB's network stack, a real SQLite file."""

from __future__ import annotations

import sqlite3

from bot.sandbox.scenarios import register_in_latvia


async def test_register_in_latvia_in_english(sandbox, bot, db_path):
    u = sandbox.user(101, "Anna", "Bērziņa", language_code="en")
    await register_in_latvia(u, lang="en", place="cesis", skills=("First aid", "Driver with own car"))
    summary = u.last.text
    assert "Anna Bērziņa" in summary
    assert "Cēsis Municipality" in summary or "Cēsu novads" in summary
    assert "First aid" in summary and "Driver with own car" in summary
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT status, language, municipality, country FROM people WHERE external_id = '101'").fetchone()
        skills = {r[0] for r in conn.execute("SELECT skill FROM person_skills")}
    assert row == ("active", "en", "0011000", "LV") or row[:2] == ("active", "en")
    assert skills == {"first_aid", "driver"}
