"""/mydata and /forget through the sandbox, checked against the SQLite file itself."""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.sandbox.scenarios import begin_registration, register_in_latvia
from tests.conftest import COORDINATOR_ID
from tests.e2e.test_registration import person, person_or_none, rows, session_of, skills_of

USER_ID = 7_741_234
NAME = "Zelma Kalniņa"
PHONE = "+37129876543"


def everything(db_path: Path) -> dict[str, list[dict]]:
    """Every row of every table."""
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [dict(r) for r in conn.execute(f'SELECT * FROM "{t}"')] for t in tables}


def mentions(db_path: Path, *needles: str) -> list[str]:
    """Where (table.column) any of ``needles`` occurs in the database."""
    found = []
    for table, table_rows in everything(db_path).items():
        for row in table_rows:
            for column, value in row.items():
                if value is not None and any(n in str(value) for n in needles):
                    found.append(f"{table}.{column}={value!r}")
    return found


def stored_bytes(db_path: Path) -> bytes:
    """The database file and its write-ahead log as they are on disk (free pages included)."""
    wal = Path(f"{db_path}-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def register_and_answer_an_alert(sandbox, db_path):
    u = sandbox.user(USER_ID, "Zelma", language_code="en")
    await register_in_latvia(u, lang="en", place="Cēsis", name=NAME, phone=PHONE)
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert areas=Cēsis Sandbags needed at the bridge")
    await coord.wait_for("Preview")
    await coord.press("🚀")
    alert = await u.wait_for("Sandbags needed at the bridge")
    answers = [d for row in alert.buttons for _, d in row if d and d.startswith("ans:")]
    await u.press(answers[1], alert)  # "in 30 minutes": the answer that stores an ETA
    for _ in range(100):
        if rows(db_path, "SELECT response FROM recipients")[0]["response"] != "none":
            break
        await sandbox.wait_idle(quiet=0.05)
    return u


async def test_mydata_sends_everything_as_json(sandbox, bot, db_path):
    stranger = sandbox.user(USER_ID + 1, "Svešais", language_code="en")
    await stranger.send("/mydata")
    await stranger.wait_for("I keep nothing about you.")

    u = await register_and_answer_an_alert(sandbox, db_path)
    await u.send("/mydata")
    doc = await u.wait_for(lambda m: m.document is not None)
    filename, content = doc.document
    assert filename == "sauciens-my-data.json"
    assert doc.caption == "Everything Sauciens stores about you."
    data = json.loads(content)
    p = data["person"]
    assert (p["external_id"], p["name"], p["phone"], p["municipality"], p["country"], p["language"], p["status"]) == (
        str(USER_ID),
        NAME,
        PHONE,
        "0026000",
        "LV",
        "en",
        "active",
    )
    assert p["skills"] == ["first_aid"] and p["availability"] == "any" and p["consent_at"]
    assert len(data["alerts"]) == 1 and data["alerts"][0]["response"] == "accepted"
    assert data["conversation"] is None
    assert data["exported_at"]


async def test_mydata_during_registration_includes_the_conversation(sandbox, bot, db_path):
    u = sandbox.user(USER_ID, "Zelma", language_code="lv")
    await begin_registration(u, lang="lv")
    await u.send(NAME)
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.send("/mydata")
    doc = await u.wait_for(lambda m: m.document is not None)
    data = json.loads(doc.document[1])
    assert data["person"]["name"] == NAME and data["person"]["status"] == "registering"
    assert data["conversation"]["step"] == "where"


async def test_forget_erases_everything_personal(sandbox, bot, db_path, caplog):
    caplog.set_level(logging.INFO)
    u = await register_and_answer_an_alert(sandbox, db_path)
    assert mentions(db_path, str(USER_ID), NAME, PHONE)  # the check below can see them
    assert rows(db_path, "SELECT count(*) AS n FROM outbox WHERE external_id = ?", str(USER_ID))[0]["n"] > 0

    await u.send("/forget")
    ask = await u.wait_for("Erase everything about you?")
    assert ask.button_labels == ["🗑 Yes, erase all", "No, keep it"]
    await u.press("🗑 Yes, erase all")
    await u.wait_for("Everything about you has been erased.")

    assert person_or_none(db_path, USER_ID) is None
    assert session_of(db_path, USER_ID) is None
    assert rows(db_path, "SELECT * FROM person_skills") == []
    assert mentions(db_path, str(USER_ID), NAME, PHONE, "Zelma") == []
    # the answer stays in the alert's statistics, without anything that identifies them; the
    # alert is open, so the place they accepted is freed (tests/e2e/test_hostile.py)
    (recipient,) = rows(db_path, "SELECT person_id, channel, external_id, eta, response FROM recipients")
    assert recipient == {"person_id": None, "channel": None, "external_id": None, "eta": None, "response": "declined"}
    # nor in the file's free pages or write-ahead log
    raw = stored_bytes(db_path)
    for needle in (NAME, PHONE, "Zelma"):
        assert needle.encode() not in raw, needle
    # and never in the log
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert NAME not in logged and PHONE not in logged

    await u.send("/start")  # a fresh start
    await u.wait_for("Hello! Choose your language.")
    await u.send("/forget")
    await u.wait_for("I keep nothing about you.")


async def test_forget_no_keep_it_keeps_everything(sandbox, bot, db_path):
    u = sandbox.user(USER_ID, "Zelma", language_code="lv")
    await register_in_latvia(u, lang="lv", place="Cēsis", name=NAME, phone=PHONE)
    before = everything(db_path)
    await u.send("/forget")
    await u.wait_for(lambda m: "forget:no" in [d for row in m.buttons for _, d in row])
    await u.press("Nē, nedzēst")
    await u.wait_for(lambda m: not m.buttons and m.edited)
    assert everything(db_path) == before
    assert person(db_path, USER_ID)["phone"] == PHONE and skills_of(db_path, USER_ID) == {"first_aid"}


async def test_forget_mid_registration(sandbox, bot, db_path):
    u = sandbox.user(USER_ID, "Zelma", language_code="lv")
    await begin_registration(u, lang="lv")
    await u.send(NAME)
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.send("/forget")
    await u.wait_for(lambda m: "forget:yes" in [d for row in m.buttons for _, d in row])
    await u.press("forget:yes")
    await u.wait_for("Viss par jums ir dzēsts.")
    assert mentions(db_path, str(USER_ID), NAME) == []
    await u.send("hello")  # no conversation is left over
    await u.wait_for("/start")
