"""``python -m bot`` as real subprocesses: migrations, the volunteer CSV import and export,
configuration errors, and the bot token never showing in output or logs."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing, suppress
from pathlib import Path

import pytest

from bot.sandbox.scenarios import register_volunteer
from tests.conftest import TOKEN
from tests.e2e.test_registration import person, person_or_none, rows, skills_of

ROOT = Path(__file__).resolve().parents[2]
HEADER = "telegram_id,name,language,skills,municipality,country,city,phone,organisation"
MIGRATIONS = len(list((ROOT / "db" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql")))


def cli_env(db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAUCIENS_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["SAUCIENS_DATABASE__PATH"] = str(db_path)
    env.update(extra)
    return env


def run_cli(tmp_path: Path, db_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=cli_env(db_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(path: Path, text: str, *, bom: bool = False, newline: str = "\n") -> Path:
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def count_people(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    return rows(db_path, "SELECT count(*) AS n FROM people")[0]["n"]


VALID = f"""{HEADER}
1001,Anna Bērziņa,lv,first_aid;driver,Cēsis,,,20000001,LAPAS
1002,John Smith,en,translation,,IE,Dublin,+353 1 234 5678,
1003,"Ozols, Jānis",LV,,0054000,LV,Valmiera,,"lsk, LAPAS"
"""
# The coalition's organisations the lists name by code.
ORGANISATIONS = {"LAPAS": "Latvijas Platforma attīstības sadarbībai", "LSK": "Latvijas Sarkanais Krusts"}


def add_organisations(tmp_path: Path, db_path: Path, organisations: dict[str, str] = ORGANISATIONS) -> None:
    assert run_cli(tmp_path, db_path, "migrate").returncode == 0
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.executemany(
            "INSERT INTO organisations (code, name, created_at) VALUES (?, ?, '2026-01-01T00:00:00+00:00')",
            organisations.items(),
        )


def memberships_of(db_path: Path, user_id: int) -> set[tuple[str, str, int]]:
    """(organisation code, source, phone visible) of each of the person's memberships."""
    found = rows(
        db_path,
        "SELECT o.code, m.source, m.phone_visible FROM memberships m JOIN organisations o ON o.id = m.organisation_id"
        " JOIN people p ON p.id = m.person_id WHERE p.external_id = ?",
        str(user_id),
    )
    return {(r["code"], r["source"], r["phone_visible"]) for r in found}


# ----- migrate -------------------------------------------------------------------------


def test_migrate_creates_the_database_and_is_idempotent(tmp_path, db_path):
    first = run_cli(tmp_path, db_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert f"{MIGRATIONS} migration(s) applied" in first.stdout
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == MIGRATIONS
    again = run_cli(tmp_path, db_path, "migrate")
    assert again.returncode == 0 and "0 migration(s) applied" in again.stdout


# ----- import / export -------------------------------------------------------------------


def test_import_then_export_round_trips(tmp_path, db_path):
    add_organisations(tmp_path, db_path)
    result = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "list.csv", VALID)))
    assert result.returncode == 0, result.stderr
    assert "imported 3 volunteer(s): 3 new, 0 updated" in result.stdout

    anna = person(db_path, 1001)
    assert (
        anna["name"],
        anna["language"],
        anna["municipality"],
        anna["country"],
        anna["phone"],
        anna["organisation"],  # the legacy free text: no longer written
    ) == (
        "Anna Bērziņa",
        "lv",
        "0026000",
        "LV",
        "+37120000001",
        None,
    )
    # the organisations' codes: memberships, whose phone numbers the organisations that gave them may see
    assert memberships_of(db_path, 1001) == {("LAPAS", "import", 1)}
    assert memberships_of(db_path, 1002) == set()
    assert memberships_of(db_path, 1003) == {("LAPAS", "import", 1), ("LSK", "import", 1)}
    assert (anna["status"], anna["source"], anna["consent_at"]) == ("active", "import", None)
    assert skills_of(db_path, 1001) == {"first_aid", "driver"}
    john = person(db_path, 1002)
    assert (
        john["location_kind"],
        john["country"],
        john["city"],
        john["timezone"],
        john["municipality"],
        john["phone"],
    ) == (
        "abroad",
        "IE",
        "Dublin",
        "Europe/Dublin",
        None,
        "+35312345678",
    )
    janis = person(db_path, 1003)
    assert (janis["name"], janis["language"], janis["municipality"]) == ("Ozols, Jānis", "lv", "0054000")

    exported = run_cli(tmp_path, db_path, "volunteers", "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[0] == HEADER
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["telegram_id"] for r in table] == ["1001", "1002", "1003"]
    assert table[0] == {
        "telegram_id": "1001",
        "name": "Anna Bērziņa",
        "language": "lv",
        "skills": "driver;first_aid",
        "municipality": "0026000",
        "country": "LV",
        "city": "",
        "phone": "'+37120000001",  # neutralised: a spreadsheet would take +... for a formula
        "organisation": "LAPAS",
    }
    assert table[2]["organisation"] == "LAPAS;LSK"  # the codes, as the organisations spell them

    # the export imports into an empty database (of the same organisations) and exports the same again
    other_db = tmp_path / "other.sqlite3"
    add_organisations(tmp_path, other_db)
    again = run_cli(tmp_path, other_db, "volunteers", "import", str(write(tmp_path / "exported.csv", exported.stdout)))
    assert again.returncode == 0, again.stderr
    assert run_cli(tmp_path, other_db, "volunteers", "export").stdout == exported.stdout


def test_import_excel_semicolons_with_bom_and_crlf(tmp_path, db_path):
    text = (
        "telegram_id;name;language;skills;municipality;country;city;phone;organisation\n"
        "2001;Līga Kļaviņa;lv;first_aid,care;Rīga;;;+371 2612 3456;LSK,lapas\n"
        "2002;Kārlis Ēķis;en;logistics;;DE;München;;\n"
    )
    path = write(tmp_path / "excel.csv", text, bom=True, newline="\r\n")
    add_organisations(tmp_path, db_path)
    result = run_cli(tmp_path, db_path, "volunteers", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "2 new" in result.stdout
    liga = person(db_path, 2001)
    assert (liga["name"], liga["municipality"], liga["phone"]) == ("Līga Kļaviņa", "0001000", "+37126123456")
    assert memberships_of(db_path, 2001) == {("LAPAS", "import", 1), ("LSK", "import", 1)}
    assert skills_of(db_path, 2001) == {"first_aid", "care"}
    karlis = person(db_path, 2002)
    assert (karlis["name"], karlis["country"], karlis["city"], karlis["timezone"]) == (
        "Kārlis Ēķis",
        "DE",
        "München",
        "Europe/Berlin",
    )


def test_reimport_updates_instead_of_duplicating(tmp_path, db_path):
    add_organisations(tmp_path, db_path)
    assert run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "a.csv", VALID))).returncode == 0
    changed = VALID.replace("Anna Bērziņa,lv,first_aid;driver,Cēsis", "Anna Kalniņa,en,medical,Ogre")
    result = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "b.csv", changed)))
    assert result.returncode == 0, result.stderr
    assert "0 new, 3 updated" in result.stdout
    assert count_people(db_path) == 3
    anna = person(db_path, 1001)
    assert (anna["name"], anna["language"], anna["municipality"]) == ("Anna Kalniņa", "en", "0040000")
    assert skills_of(db_path, 1001) == {"medical"}


def test_bad_rows_are_each_reported_and_nothing_is_imported(tmp_path, db_path):
    add_organisations(tmp_path, db_path)
    assert run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "a.csv", VALID))).returncode == 0
    bad = write(
        tmp_path / "bad.csv",
        f"""{HEADER}
1001,Anna Changed,lv,first_aid,Cēsis,,,,
abc,Bad Id,lv,,Rīga,,,,
3002,Fine Person,lv,,Rīga,,,,
3003,Nowhere,lv,,Atlantīda,,,,
3004,No City,en,,,GB,,,
3005,Wrong Language,ru,flying,Rīga,,,,
""",
    )
    result = run_cli(tmp_path, db_path, "volunteers", "import", str(bad))
    assert result.returncode != 0
    err = result.stderr
    assert f"{bad}:3: " in err and "telegram_id 'abc'" in err
    assert f"{bad}:5: " in err and "Atlantīda" in err
    assert f"{bad}:6: " in err and "city" in err
    assert f"{bad}:7: " in err and "language 'ru'" in err and "flying" in err
    assert f"{bad}:2:" not in err and f"{bad}:4:" not in err
    assert "4 invalid row(s); nothing was imported" in err
    assert "Traceback" not in err
    assert count_people(db_path) == 3 and person_or_none(db_path, 3002) is None
    assert person(db_path, 1001)["name"] == "Anna Bērziņa"


def test_import_of_a_missing_file_and_export_of_an_empty_list(tmp_path, db_path):
    missing = run_cli(tmp_path, db_path, "volunteers", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode != 0 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    empty = run_cli(tmp_path, db_path, "volunteers", "export")
    assert empty.returncode == 0 and empty.stdout == HEADER + "\n"


# ----- configuration errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "env", "toml", "key"),
    [
        ("migrate", {"SAUCIENS_BROADCAST__MESSAGES_PER_SECOND": "abc"}, None, "broadcast.messages_per_second"),
        ("migrate", {}, '[telegram]\ntokn = "123456:abcdefgh"\n', "telegram.tokn: unknown key"),
        ("migrate", {}, "[telegram\n", "config.toml"),
        ("run", {"SAUCIENS_TELEGRAM__TOKEN": "my-secret-not-a-token"}, None, "telegram.token"),
        ("run", {}, None, "telegram.token is required"),
    ],
)
def test_configuration_errors_stop_with_one_line_naming_the_key(tmp_path, db_path, command, env, toml, key):
    args = [command]
    if toml is not None:
        write(tmp_path / "config.toml", toml)
        args = ["--config", str(tmp_path / "config.toml"), command]
    result = run_cli(tmp_path, db_path, *args, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sauciens: ") and key in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "my-secret-not-a-token" not in result.stderr + result.stdout
    assert not db_path.exists()  # nothing was started


def test_a_named_config_file_must_exist(tmp_path, db_path):
    result = run_cli(tmp_path, db_path, "--config", "missing.toml", "migrate")
    assert result.returncode == 2 and result.stderr.strip() == (
        "sauciens: config file missing.toml not found (copy config.example.toml to start)"
    )


def test_config_toml_in_the_working_directory_is_read_and_env_overrides_it(tmp_path, db_path):
    write(tmp_path / "config.toml", f'[database]\npath = "{tmp_path / "from-toml.sqlite3"}"\n')
    env = {k: v for k, v in cli_env(db_path).items() if k != "SAUCIENS_DATABASE__PATH"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-toml.sqlite3").exists() and not db_path.exists()
    result = run_cli(tmp_path, db_path, "migrate")  # SAUCIENS_DATABASE__PATH wins over the file
    assert result.returncode == 0 and db_path.exists()


# ----- the token never shows -----------------------------------------------------------------


async def run_bot(tmp_path: Path, db_path: Path, token: str, api: str, file_api: str | None = None):
    env = cli_env(
        db_path,
        SAUCIENS_TELEGRAM__TOKEN=token,
        SAUCIENS_TELEGRAM__API_BASE_URL=api,
        SAUCIENS_TELEGRAM__API_BASE_FILE_URL=file_api or api.replace("/bot", "/file/bot"),
        SAUCIENS_TELEGRAM__POLL_TIMEOUT="1",
        SAUCIENS_LOGGING__LEVEL="DEBUG",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str]:
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None  # communicate() returns once the process has exited
    return proc.returncode, out.decode() + err.decode()


async def test_running_bot_never_shows_the_token(sandbox, tmp_path, db_path):
    proc = await run_bot(tmp_path, db_path, TOKEN, sandbox.base_url, sandbox.base_file_url)
    try:
        u = sandbox.user(4242, "Ilze", language_code="en")
        await u.send("/start")
        await u.wait_for("Hello! Choose your language.", timeout=30)
        await u.press("English")
        await u.wait_for("Do you agree?")
    finally:
        with suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    code, output = await finish(proc)
    assert code == 0, output
    assert "event=started" in output and "event=stopped" in output  # the logs were there to check
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


async def test_a_rejected_token_stops_with_one_line(sandbox, tmp_path, db_path):
    wrong = "654321:WRONG-but-well-formed-token"
    proc = await run_bot(tmp_path, db_path, wrong, sandbox.base_url)
    code, output = await finish(proc)
    assert code == 2
    assert "sauciens: telegram.token was rejected" in output
    assert "Traceback" not in output
    assert wrong not in output and wrong.split(":")[1] not in output


async def test_an_unreachable_api_is_waited_for_and_said_in_one_line(tmp_path, db_path):
    """Telegram down at start-up is an outage like any other (issue 7): the bot says so, one
    line per attempt naming the API, keeps trying, and stops cleanly on SIGTERM meanwhile."""
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "123456:ABCdefGHIjklMNOpqr"
    proc = await run_bot(tmp_path, db_path, token, f"http://127.0.0.1:{port}/bot")
    await asyncio.sleep(6)
    assert proc.returncode is None  # still trying
    proc.send_signal(signal.SIGTERM)
    code, output = await finish(proc)
    assert code == 0
    line = next(line for line in output.splitlines() if "start_waiting_for_telegram" in line)
    assert f"http://127.0.0.1:{port}/bot" in line and "NotSent" in line
    assert "Traceback" not in output
    assert token not in output and token.split(":")[1] not in output


# ----- an imported volunteer meets the bot ----------------------------------------------------


async def test_imported_volunteer_gets_language_and_consent_then_their_profile(sandbox, start_bot, tmp_path, db_path):
    add_organisations(tmp_path, db_path)
    result = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "list.csv", VALID)))
    assert result.returncode == 0, result.stderr
    assert person(db_path, 1001)["consent_at"] is None
    await start_bot()

    u = sandbox.user(1001, "Anna", language_code="lv")
    await u.send("/start")
    await u.wait_for("Sveiki! Izvēlieties valodu.")
    await u.press("Latviešu")
    await u.wait_for("Vai piekrītat?")
    await u.press("✅ Piekrītu")
    # a member of an organisation: asked once whether the coalition's other organisations may call
    asked = await u.wait_for("Citas koalīcijas organizācijas drīkst mani izsaukt")
    assert ORGANISATIONS["LAPAS"] in asked.text and asked.button_labels == ["✅ Jā", "Nē"]
    await u.press("Nē", asked)
    profile = await u.wait_for("Anna Bērziņa")
    for part in ("Cēsu novads", "Pirmā palīdzība", "Autovadītājs ar savu auto", "+37120000001", ORGANISATIONS["LAPAS"]):
        assert part in profile.text
    assert any("✏️" in label for label in profile.button_labels)
    anna = person(db_path, 1001)
    assert anna["consent_at"] is not None and (anna["status"], anna["language"]) == ("active", "lv")
    assert rows(db_path, "SELECT privacy_version, open_to_coalition FROM people WHERE external_id = '1001'") == [
        {"privacy_version": 2, "open_to_coalition": 0}
    ]

    john = sandbox.user(1002, "John", language_code="en")
    await john.send("/start")
    await john.wait_for("Hello! Choose your language.")
    await john.press("English")
    await john.wait_for("Do you agree?")
    await john.press("No, thanks")
    await john.wait_for("nothing was saved")
    assert person(db_path, 1002)["consent_at"] is None  # the organisation's record stays as it was


async def test_export_and_reimport_keep_what_the_list_has_no_column_for(sandbox, bot, tmp_path, db_path):
    u = sandbox.user(5005, "Krišjānis", language_code="en")
    await register_volunteer(
        u,
        lang="en",
        country="US",
        city="Springfield",  # no zone of its own in CLDR: the person chooses the zone
        skills=("translation",),
        availability="weekends",
        quiet="22:00-07:00",
    )
    before = person(db_path, 5005)
    assert before["timezone"] == "America/New_York"  # the first zone of the list the person chose from
    exported = run_cli(tmp_path, db_path, "volunteers", "export")
    assert exported.returncode == 0, exported.stderr
    assert "5005,Krišjānis,en,translation,,US,Springfield,," in exported.stdout
    again = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "e.csv", exported.stdout)))
    assert again.returncode == 0, again.stderr
    assert "0 new, 1 updated" in again.stdout
    assert person(db_path, 5005) == before  # time zone, availability, quiet hours, consent: all kept
