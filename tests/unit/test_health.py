"""The health rule on a real database and a Reachability record, at given times."""

from __future__ import annotations

import sqlite3

from bot.application.health import Health, HealthReport
from bot.domain.reachability import Reachability
from db.health import HealthRepo

T0 = 1_700_000_000.0


async def test_telegram_within_the_window_and_after_it(db):
    r = Reachability()
    health = Health(HealthRepo(db), r, telegram_silence_seconds=60)
    assert await health.check(T0) == HealthReport(False, "telegram has not answered since the start")
    r.answered(T0)
    assert await health.check(T0 + 60) == HealthReport(True, "ok")
    assert await db.fetchval("SELECT checked_at FROM health WHERE id = 1") == T0 + 60  # the write happened
    assert await health.check(T0 + 61) == HealthReport(False, "telegram has not answered for 61 s")
    r.failed(T0 + 20)
    assert await health.check(T0 + 260) == HealthReport(False, "telegram unreachable for 240 s")
    r.failed(T0 + 30)  # the outage goes on: it began at the first failure
    assert (await health.check(T0 + 261)).reason == "telegram unreachable for 241 s"
    r.answered(T0 + 262)
    assert await health.check(T0 + 263) == HealthReport(True, "ok")


async def test_a_database_that_takes_no_writes(db):
    r = Reachability()
    r.answered(T0)
    health = Health(HealthRepo(db), r, telegram_silence_seconds=60)
    await db.conn.execute("PRAGMA query_only = ON")
    assert await health.check(T0) == HealthReport(False, "database not writable")
    assert await health.check(T0 + 120) == HealthReport(
        False, "database not writable; telegram has not answered for 120 s"
    )
    await db.conn.execute("PRAGMA query_only = OFF")
    assert await health.check(T0 + 1) == HealthReport(True, "ok")


async def test_a_write_that_hangs_is_reported_and_left_to_finish(db):
    r = Reachability()
    r.answered(T0)
    health = Health(HealthRepo(db), r, telegram_silence_seconds=60, database_timeout=0.2)
    other = sqlite3.connect(db.path, isolation_level=None)  # another process, say
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert await health.check(T0) == HealthReport(False, "database not writable (no answer within 0.2 s)")
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the same write, not cancelled, goes through once the lock is gone (busy timeout)
    assert await health.check(T0 + 1) == HealthReport(True, "ok")
    assert await db.fetchval("SELECT checked_at FROM health WHERE id = 1") == T0
    assert not db.conn.in_transaction


def test_a_failure_asked_before_the_last_answer_is_old_news():
    r = Reachability()
    r.answered(T0 + 5)  # Telegram is back: a request asked at T0 + 4 was answered
    r.failed(T0 + 6, asked_at=T0 + 3)  # a 502 that was on its way since T0 + 3
    assert r.reachable and r.last_ok == T0 + 5
    r.failed(T0 + 8, asked_at=T0 + 7)  # asked after the answer: the outage is real
    assert not r.reachable and r.unreachable_for(T0 + 10) == 2.0
