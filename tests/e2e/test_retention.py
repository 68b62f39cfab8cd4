"""Retention through the sandbox, against a real SQLite file: at start-up (and daily) the
answers and delivery rows of alerts closed longer ago than ``privacy.retention_days`` lose who
they were, the messages to those people and their talk-back messages go, the counts stay, and
each run writes one audit row; a recent alert is left as it was."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

from bot.domain.coalition import Scope, StoredRole
from bot.domain.people import Address
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import coordinator, send_one_line, wait_delivered
from tests.e2e.test_registration import rows
from tests.e2e.waits import eventually

OGRE = "0040000"


def recipients(db_path, alert_id: int) -> list[dict]:
    return rows(
        db_path,
        "SELECT person_id, channel, external_id, eta, message_id, delivery, response, responded_at, language"
        " FROM recipients WHERE alert_id = ? ORDER BY id",
        alert_id,
    )


def outbox_of(db_path, alert_id: int) -> int:
    return rows(
        db_path,
        "SELECT count(*) AS n FROM outbox WHERE recipient_id IN (SELECT id FROM recipients WHERE alert_id = ?)",
        alert_id,
    )[0]["n"]


def talk_of(db_path, alert_id: int) -> int:
    return rows(db_path, "SELECT count(*) AS n FROM messages WHERE alert_id = ?", alert_id)[0]["n"]


def retention_runs(db_path) -> list[dict]:
    return rows(db_path, "SELECT * FROM audit_log WHERE action = 'retention_run' ORDER BY id")


async def test_old_closed_alerts_are_anonymised_and_their_counts_kept(sandbox, start_bot, db_path):
    bot = await start_bot()
    await eventually(lambda: _async(len(retention_runs(db_path)) == 1), "the retention run at start-up")
    assert json.loads(retention_runs(db_path)[0]["details"])["alerts"] == 0

    anna, janis, zelma = await seed(
        bot, sandbox, [Spec(801, "Anna", "en", OGRE), Spec(802, "Jānis", "en", OGRE), Spec(803, "Zelma", "en", OGRE)]
    )
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    await wait_delivered(bot, 1, 3)
    await anna.press("ans:1:yes", alert_messages(anna)[0])
    await anna.wait_for("You are confirmed")
    await janis.press("ans:1:30m", alert_messages(janis)[0])  # the answer that stores an arrival time
    await janis.wait_for(None)
    await zelma.press("ans:1:no", alert_messages(zelma)[0])
    await zelma.wait_for(None)
    await anna.send("Where exactly at the bridge?")  # talk-back about alert 1
    await anna.press("✅ Yes, send", await anna.wait_for("Send this to the coordinator of alert #1?"))
    await coord.wait_for("about alert #1")
    await coord.send("/close 1")
    await coord.wait_for("🔒 Alert #1 closed.")

    await send_one_line(coord, "areas=Ogre Second shift tomorrow")
    await wait_delivered(bot, 2, 3)
    second = alert_messages(anna)[-1]
    await anna.press("ans:2:yes", second)
    await anna.wait_for_edit(second, "You are confirmed")
    await coord.send("/close 2")
    await coord.wait_for("🔒 Alert #2 closed.")

    async def settled() -> bool:
        old, recent = await bot.services.alerts.tally(1), await bot.services.alerts.tally(2)
        return (old.accepted, old.declined, recent.accepted) == (2, 1, 1)

    await eventually(settled, "the answers recorded")
    old_tally, recent_tally = await bot.services.alerts.tally(1), await bot.services.alerts.tally(2)
    old_before, recent_before = recipients(db_path, 1), recipients(db_path, 2)
    assert [r["external_id"] for r in old_before] == ["801", "802", "803"]
    assert old_before[1]["eta"] is not None and all(r["message_id"] for r in old_before)
    recent_outbox = outbox_of(db_path, 2)
    assert outbox_of(db_path, 1) > 0 and talk_of(db_path, 1) == 1 and recent_outbox > 0

    # alert 1 was closed longer ago than retention_days (365), alert 2 a moment ago
    await bot.stop()
    _execute(db_path, "UPDATE alerts SET closed_at = ? WHERE id = 1", _days_ago(400))
    _execute(db_path, "UPDATE alerts SET closed_at = ? WHERE id = 2", _days_ago(364))
    bot = await start_bot()
    await eventually(lambda: _async(len(retention_runs(db_path)) == 2), "the retention run at the restart")

    old_after = recipients(db_path, 1)
    assert all(
        (r["person_id"], r["channel"], r["external_id"], r["eta"], r["message_id"]) == (None,) * 5 for r in old_after
    )
    keep = ("delivery", "response", "responded_at", "language")
    assert [{k: r[k] for k in keep} for r in old_after] == [{k: r[k] for k in keep} for r in old_before]
    assert outbox_of(db_path, 1) == 0 and talk_of(db_path, 1) == 0
    assert await bot.services.alerts.tally(1) == old_tally  # the counts stay
    (old,) = rows(db_path, "SELECT anonymised_at, status FROM alerts WHERE id = 1")
    assert old["anonymised_at"] is not None and old["status"] == "closed"

    # the recent alert is untouched
    assert recipients(db_path, 2) == recent_before and outbox_of(db_path, 2) == recent_outbox
    assert await bot.services.alerts.tally(2) == recent_tally
    assert rows(db_path, "SELECT anonymised_at FROM alerts WHERE id = 2")[0]["anonymised_at"] is None

    # one audit row for the run, as the bot itself, with counts and nothing about anyone
    run = retention_runs(db_path)[-1]
    assert (run["role"], run["actor_external_id"], run["organisation"], run["target"]) == ("system", None, "", "alerts")
    details = json.loads(run["details"])
    assert details.pop("outbox") >= 3  # the alert messages, their edits and the closing notes
    assert details == {"alerts": 1, "recipients": 3, "messages": 1, "notices": 0, "retention_days": 365}
    assert not any(needle in run["details"] for needle in ("801", "802", "803", "Anna"))

    # the volunteer's own data no longer lists the old alert; the statistics and the coordinator's view still add up
    await anna.send("/mydata")
    doc = await anna.wait_for(lambda m: m.document is not None)
    assert doc.document is not None
    assert [a["alert_id"] for a in json.loads(doc.document[1])["alerts"]] == [2]
    await coord.send("/status 1")
    status = await coord.wait_for("#1")
    assert "Closed" in status.text

    # a run with nothing to do writes its row too, and changes nothing
    done = await bot.retention.anonymise_old_alerts()
    assert (done.alerts, done.recipients) == (0, 0) and len(retention_runs(db_path)) == 3
    assert recipients(db_path, 2) == recent_before


async def test_retention_days_is_the_setting(sandbox, start_bot, db_path):
    bot = await start_bot(privacy={"retention_days": 30})
    await eventually(lambda: _async(len(retention_runs(db_path)) == 1), "the retention run at start-up")
    (u,) = await seed(bot, sandbox, [Spec(811, "Anna", "en", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags")
    await wait_delivered(bot, 1, 1)
    await coord.send("/close 1")
    await coord.wait_for("🔒 Alert #1 closed.")
    _execute(db_path, "UPDATE alerts SET closed_at = ? WHERE id = 1", _days_ago(31))
    done = await bot.retention.anonymise_old_alerts()
    assert (done.alerts, done.recipients) == (1, 1)
    assert json.loads(retention_runs(db_path)[-1]["details"])["retention_days"] == 30
    assert recipients(db_path, 1)[0]["external_id"] is None
    assert u.id == 811


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def _execute(db_path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(sql, args)


async def _async(value: bool) -> bool:
    return value


async def test_old_notices_to_revoked_coordinators_go_too(sandbox, start_bot, db_path):
    bot = await start_bot()
    await eventually(lambda: _async(len(retention_runs(db_path)) == 1), "the retention run at start-up")
    coalition = bot.services.coalition
    await coalition.add_organisation("LSK", "Liepājas Samariešu kopa", Scope())
    for uid in (701, 702):
        await coalition.add_coordinator(Address.telegram(uid), "LSK", StoredRole.COORDINATOR, Scope())
        await coalition.revoke_coordinator(Address.telegram(uid), None)
        await sandbox.user(uid, "Edgars").wait_for("koordinēšanas tiesības", timeout=10)

    def notices() -> list[dict]:
        return rows(db_path, "SELECT external_id, state FROM outbox WHERE kind = 'notice' ORDER BY id")

    await eventually(lambda: _async([n["state"] for n in notices()] == ["sent", "sent"]), "both notices recorded")
    _execute(db_path, "UPDATE outbox SET created_at = ? WHERE kind = 'notice' AND external_id = '701'", _days_ago(400))
    await bot.retention.anonymise_old_alerts()
    assert notices() == [{"external_id": "702", "state": "sent"}]  # the recent one stays
    assert json.loads(retention_runs(db_path)[-1]["details"])["notices"] == 1
