"""Operations as real processes: ``python -m bot run`` against the sandbox, backed up while it
broadcasts, stopped with SIGTERM mid-broadcast, restored once it is stopped; one bot per database;
the database's path taken from the config file's folder."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import closing, suppress
from pathlib import Path

import pytest

from bot.app import Sauciens
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser
from db.backup import sidecars
from tests.conftest import COORDINATOR_ID, TOKEN, make_settings
from tests.e2e.seed import alert_messages
from tests.e2e.test_cli import HEADER, cli_env, run_cli, write

VOLUNTEERS = 24
FIRST_ID = 7000


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[BotApiSandbox]:
    """Every answer takes 0.2 s, so a broadcast at 4 messages a second lasts seconds."""
    sb = BotApiSandbox(TOKEN, latency=0.2, chat_burst=30)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


def import_volunteers(tmp_path: Path, db_path: Path, sandbox: BotApiSandbox) -> list[SimUser]:
    lines = [HEADER] + [f"{FIRST_ID + i},Volunteer {i},en,first_aid,Rīga,,,," for i in range(VOLUNTEERS)]
    done = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "list.csv", "\n".join(lines))))
    assert done.returncode == 0, done.stderr
    return [sandbox.user(FIRST_ID + i, f"Volunteer {i}", language_code="en") for i in range(VOLUNTEERS)]


def bot_env(sandbox: BotApiSandbox, db_path: Path) -> dict[str, str]:
    return cli_env(
        db_path,
        SAUCIENS_TELEGRAM__TOKEN=TOKEN,
        SAUCIENS_TELEGRAM__API_BASE_URL=sandbox.base_url,
        SAUCIENS_TELEGRAM__API_BASE_FILE_URL=sandbox.base_file_url,
        SAUCIENS_TELEGRAM__POLL_TIMEOUT="1",
        SAUCIENS_ACCESS__ADMIN_IDS=f"[{COORDINATOR_ID}]",
        SAUCIENS_BROADCAST__MESSAGES_PER_SECOND="4",
        SAUCIENS_ALERTS__REMIND_AFTER_MINUTES="0",
    )


async def start_process(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def cli(tmp_path: Path, db_path: Path, *args: str) -> tuple[int, str, str]:
    """``python -m bot ARGS`` without blocking the event loop the sandbox runs on."""
    proc = await start_process(tmp_path, cli_env(db_path), *args)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def send_alert(sandbox: BotApiSandbox, text: str) -> SimUser:
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en")
    await coord.send(f"/alert {text}")
    await coord.wait_for("Preview", timeout=30)
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery", timeout=30)
    return coord


def received(users: list[SimUser]) -> dict[int, int]:
    """How many alert messages each volunteer got."""
    return {int(u.id): len(alert_messages(u)) for u in users}


async def wait_until(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def existing(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.exists()]


def query(db_path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql).fetchall()


async def stop(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> tuple[int, str, float]:
    started = time.monotonic()
    with suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode(), time.monotonic() - started


async def test_backup_during_a_broadcast_sigterm_keeps_the_rest_queued_and_restore_waits_for_the_stop(
    slow_sandbox, tmp_path, db_path
):
    users = import_volunteers(tmp_path, db_path, slow_sandbox)
    proc = await start_process(tmp_path, bot_env(slow_sandbox, db_path), "run")
    try:
        await send_alert(slow_sandbox, "Sandbags to the river bank")
        await wait_until(lambda: sum(received(users).values()) >= 3, what="the broadcast to begin")

        # a backup while the broadcast goes on
        code, out, err = await cli(tmp_path, db_path, "backup", str(tmp_path / "during.sqlite3"))
        assert code == 0, err
        assert out.startswith(f"backup written: {tmp_path / 'during.sqlite3'} (")
        assert f"{VOLUNTEERS} people, 1 alerts, {VOLUNTEERS} alert recipients" in out
        copy = tmp_path / "during.sqlite3"
        assert query(copy, "PRAGMA integrity_check") == [("ok",)]
        assert query(copy, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
        [(texts,)] = query(copy, "SELECT texts FROM alerts")
        assert set(json.loads(texts).values()) == {"Sandbags to the river bank"}
        queued_in_copy = query(copy, "SELECT count(*) FROM outbox WHERE state = 'queued'")[0][0]
        assert 0 < queued_in_copy < VOLUNTEERS  # taken mid-broadcast
        assert f"{queued_in_copy} outbox messages queued" in out

        # the same name again: refused unless --force
        code, _, err = await cli(tmp_path, db_path, "backup", str(copy))
        assert code == 1 and "already exists (use --force" in err
        code, out, err = await cli(tmp_path, db_path, "backup", "--force", str(copy))
        assert code == 0, err
        queued_in_copy = query(copy, "SELECT count(*) FROM outbox WHERE state = 'queued'")[0][0]
        assert f"{queued_in_copy} outbox messages queued" in out

        # one bot per database, and no restore under a running bot
        second = await start_process(tmp_path, bot_env(slow_sandbox, db_path), "run")
        _, err2 = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        assert f"sauciens: a Sauciens bot (process {proc.pid}) is running on {db_path}" in err2.decode()
        code, _, err = await cli(tmp_path, db_path, "restore", str(copy))
        assert code == 1
        assert err.strip().splitlines() == [
            f"sauciens: a Sauciens bot (process {proc.pid}) is running on {db_path}; stop it first "
            "(only one bot may use a database)"
        ]

        await wait_until(lambda: sum(received(users).values()) >= VOLUNTEERS // 2, what="half the broadcast")
    finally:
        code, output, took = await stop(proc)
    # SIGTERM mid-broadcast: the sends in flight finish, the rest stays queued
    assert code == 0, output
    assert took < 10, f"took {took:.1f} s to stop"
    assert "event=database path=" + str(db_path) in output
    assert "event=stopped" in output
    got = received(users)
    assert max(got.values()) == 1  # nobody twice
    states = dict(query(db_path, "SELECT external_id, state FROM outbox WHERE kind = 'alert'"))
    assert len(states) == VOLUNTEERS  # no message lost
    sent = {int(i) for i, s in states.items() if s == "sent"}
    queued = {int(i) for i, s in states.items() if s == "queued"}
    assert sent == {i for i, n in got.items() if n == 1}  # what went out is recorded as sent
    assert queued == {i for i, n in got.items() if n == 0} and queued  # the rest waits for the next start
    assert sent | queued == set(got)

    # restore, now that the bot is stopped, brings back the database as it was at the backup
    code, out, err = await cli(tmp_path, db_path, "restore", str(copy))
    assert code == 0, err
    assert f"restored {copy} as {db_path} (" in out and "integrity ok" in out
    assert "0 migration(s) applied; queued messages are sent when the bot starts" in out
    assert existing(sidecars(db_path)) == []  # the old database's -wal and -shm are gone
    restored = query(db_path, "SELECT count(*) FROM outbox WHERE state = 'queued'")[0][0]
    assert restored == queued_in_copy
    assert query(db_path, "SELECT count(*) FROM people")[0][0] == VOLUNTEERS


async def test_after_sigterm_the_next_start_sends_each_queued_message_once(slow_sandbox, tmp_path, db_path):
    users = import_volunteers(tmp_path, db_path, slow_sandbox)
    proc = await start_process(tmp_path, bot_env(slow_sandbox, db_path), "run")
    try:
        await send_alert(slow_sandbox, "Water needed in Ogre")
        await wait_until(lambda: sum(received(users).values()) >= 4, what="the broadcast to begin")
    finally:
        code, output, took = await stop(proc)
    assert code == 0 and took < 10, output
    assert 0 < query(db_path, "SELECT count(*) FROM outbox WHERE state = 'queued'")[0][0] < VOLUNTEERS

    bot = Sauciens(make_settings(slow_sandbox, db_path, broadcast={"messages_per_second": 30}))
    await bot.start()
    try:
        await wait_until(lambda: min(received(users).values()) == 1, what="everyone to have the alert")
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
    finally:
        await bot.stop()
    assert set(received(users).values()) == {1}
    assert query(db_path, "SELECT state, count(*) FROM outbox WHERE kind = 'alert' GROUP BY state") == [
        ("sent", VOLUNTEERS)
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a database at all, just some bytes" * 200, "is not a usable SQLite database"),
        (None, "is not a Sauciens database (no Sauciens schema in it)"),  # a foreign SQLite file
        ("truncated", "is not a usable SQLite database"),
    ],
)
def test_a_corrupt_or_foreign_file_is_refused_and_the_database_is_untouched(tmp_path, db_path, content, reason):
    lines = [HEADER, "1001,Anna,lv,first_aid,Cēsis,,,,"]
    assert (
        run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "a.csv", "\n".join(lines)))).returncode
        == 0
    )
    bad = tmp_path / "bad.sqlite3"
    if content is None:
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
            conn.commit()
    elif content == "truncated":
        assert run_cli(tmp_path, db_path, "backup", str(tmp_path / "good.sqlite3")).returncode == 0
        data = (tmp_path / "good.sqlite3").read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    else:
        bad.write_bytes(content)
    before = db_path.read_bytes()
    done = run_cli(tmp_path, db_path, "restore", str(bad))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"sauciens: nothing restored: {bad} "), done.stderr
    assert reason in done.stderr and "Traceback" not in done.stderr
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "restoring" in p.name) == []


def test_a_backup_from_a_newer_version_is_refused(tmp_path, db_path):
    assert run_cli(tmp_path, db_path, "migrate").returncode == 0
    newer = tmp_path / "newer.sqlite3"
    assert run_cli(tmp_path, db_path, "backup", str(newer)).returncode == 0
    with closing(sqlite3.connect(newer)) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version + 1}")
    done = run_cli(tmp_path, db_path, "restore", str(newer))
    assert done.returncode == 1
    assert f"database schema version {version + 1} is newer than this program's {version}" in done.stderr


def test_a_relative_database_path_is_relative_to_the_config_file_not_the_current_folder(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.toml").write_text('[database]\npath = "state/bot.sqlite3"\n', "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in cli_env(tmp_path / "unused").items() if k != "SAUCIENS_DATABASE__PATH"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", "../conf/config.toml", "migrate"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    expected = conf.resolve() / "state" / "bot.sqlite3"
    assert done.stdout.startswith(f"database {expected}: ")
    assert expected.is_file() and not (elsewhere / "state").exists()
    assert os.listdir(elsewhere) == []
