"""Coordinators' alerts through the sandbox: composers, filters, preview, delivery and failures."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.waits import eventually

OGRE, RIGA, CESIS = "0040000", "0001000", "0026000"
ROOT = Path(__file__).resolve().parents[2]


def quiet_hours_around_now(tz: str = "Europe/Riga") -> dict[str, object]:
    """Quiet hours from two hours ago to two hours ahead, local time: they hold now whatever the
    time of day (over midnight they wrap, as quiet hours do) and for far longer than a test runs."""
    now = datetime.now(UTC).astimezone(ZoneInfo(tz))
    start, end = now - timedelta(hours=2), now + timedelta(hours=2)
    return {"quiet_start": start.strftime("%H:%M"), "quiet_end": end.strftime("%H:%M")}


async def coordinator(sandbox, lang="en"):
    return sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code=lang)


async def send_one_line(coord, args: str):
    await coord.send(f"/alert {args}")
    preview = await coord.wait_for("Preview")
    await coord.press("🚀")
    tracking = await coord.wait_for("📤 Delivery")
    return preview, tracking


async def wait_sent(bot, alert_id: int, at_least: int) -> None:
    async def sent() -> bool:
        return (await bot.services.alerts.tally(alert_id)).sent >= at_least

    await eventually(sent, f"{at_least} messages of alert #{alert_id} sent")


async def wait_delivered(bot, alert_id: int, total: int, timeout: float = 20.0):
    async def done():
        while True:
            t = await bot.services.alerts.tally(alert_id)
            if t.queued == 0 and t.total == total:
                return t
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(done(), timeout)


async def test_filters_combine_and_preview_counts_left_out(sandbox, bot):
    specs = [
        Spec(1, "Ogre first aid lv", "lv", OGRE, skills=("first_aid",)),
        Spec(2, "Ogre driver en", "en", OGRE, skills=("driver",)),
        Spec(3, "Riga first aid en", "en", RIGA, skills=("first_aid", "driver")),
        Spec(4, "Cesis first aid", "lv", CESIS, skills=("first_aid",)),
        Spec(5, "London translator", "en", None, "GB", "London", skills=("translation",)),
        Spec(6, "Dublin translator", "lv", None, "IE", "Dublin", skills=("translation",)),
        Spec(7, "Ogre paused", "lv", OGRE, skills=("first_aid",), extra={"paused": True}),
        Spec(8, "Ogre blocked", "lv", OGRE, skills=("first_aid",), extra={"blocked_at": "2026-01-01T00:00:00+00:00"}),
        Spec(9, "Ogre asleep", "lv", OGRE, skills=("first_aid",), extra=quiet_hours_around_now()),
    ]
    users = await seed(bot, sandbox, specs)
    coord = await coordinator(sandbox)

    cases = {
        "skills=first_aid areas=Ogre,Rīga": {1, 3},
        "skills=first_aid,driver areas=Ogre": {1, 2},
        "countries=GB,IE": {5, 6},
        "countries=* skills=translation langs=en": {5},
        "langs=en": {2, 3, 5},
        "areas=0026000": {4},
        "areas=Ogre countries=IE": {1, 2, 6},
    }
    for args, expected in cases.items():
        await coord.send(f"/alert {args} Test")
        preview = await coord.wait_for("Preview")
        n = len(expected)
        assert f"{n} {'person' if n == 1 else 'people'} will receive it" in preview.text, (args, preview.text)
        await coord.press("cmp:cancel")
        await coord.wait_for("discarded")

    await coord.send("/alert areas=Ogre Ogre test")
    preview = await coord.wait_for("Preview")
    assert "Left out: 1 paused, 1 blocked the bot, 1 in quiet hours" in preview.text
    # critical alerts reach people in quiet hours
    await coord.press("cmp:cancel")
    await coord.send("/alert areas=Ogre severity=critical Ogre critical")
    preview = await coord.wait_for("Preview")
    assert "3 people will receive it" in preview.text and "in quiet hours" not in preview.text
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery")
    await wait_delivered(bot, 1, 3)
    got = {u.id for u in users if alert_messages(u)}
    assert got == {1, 2, 9}
    assert "ĻOTI STEIDZAMI" in alert_messages(users[0])[0].text
    assert "CRITICAL" in alert_messages(users[1])[0].text


async def test_one_line_errors_name_the_problem_and_send_nothing(sandbox, bot):
    await seed(bot, sandbox, [Spec(1)])
    coord = await coordinator(sandbox)
    await coord.send(
        "/alert colour=red skills=firstaid areas=Springfield countries=XX langs=de severity=huge need=-2 drill=maybe by=soon Hello"
    )
    msg = await coord.wait_for("Nothing was sent")
    for expected in ("colour", "firstaid", "Springfield", "XX", "de", "huge", "-2", "maybe", "soon"):
        assert expected in msg.text, expected
    await coord.send("/alert skills=first_aid")
    assert "no text" in (await coord.wait_for("Nothing was sent")).text
    await coord.send("/alert " + "x" * 3600)
    assert "too long" in (await coord.wait_for("Nothing was sent")).text
    await coord.send("/alert areas=Cēsis Nobody there")
    assert "Nobody matches" in (await coord.wait_for("Nobody matches")).text
    assert sqlite3.connect(bot.settings.database.path).execute("SELECT count(*) FROM alerts").fetchone()[0] == 0


async def test_refusal_for_non_coordinators(sandbox, bot):
    (u,) = await seed(bot, sandbox, [Spec(1, language="en")])
    await u.send("/alert Everyone come")
    assert "only coordinators" in (await u.wait_for("only coordinators")).text
    for cmd in ("/alerts", "/status 1", "/close 1", "/remind 1", "/followup 1 hi", "/export 1"):
        await u.send(cmd)
        await u.wait_for("coordinators only")
    assert sqlite3.connect(bot.settings.database.path).execute("SELECT count(*) FROM alerts").fetchone()[0] == 0


async def test_guided_composer(sandbox, bot):
    users = await seed(bot, sandbox, [Spec(1, "A", "lv", OGRE), Spec(2, "B", "en", OGRE), Spec(3, "C", "en", RIGA)])
    coord = await coordinator(sandbox)
    await coord.send("/alert")
    menu = await coord.wait_for("New alert")
    assert "3 people will receive it" in menu.text
    await coord.press("cmp:v:areas")
    await coord.wait_for("Which municipalities")
    for _ in range(5):
        if any("Ogre Municipality" in label for label in coord.last.button_labels):
            break
        await coord.press("▶")
        await coord.wait_for_edit(coord.last, "Which municipalities")
    await coord.press("Ogre Municipality")
    await coord.wait_for(lambda m: any("✅ Ogre" in label for label in m.button_labels))
    await coord.press("cmp:menu")
    menu = await coord.wait_for("2 people will receive it")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text")
    await coord.send("Plūdi Ogrē: vajag smilšu maisus")
    await coord.wait_for("English version")
    await coord.send("Flood in Ogre: sandbags needed")
    await coord.wait_for("New alert")
    await coord.press("cmp:need")
    await coord.send("zero")
    await coord.wait_for("whole number")
    await coord.send("1")
    await coord.wait_for("Needed: 1")
    # severity: three explicit buttons; critical asks once, naming what it overrides
    await coord.press("cmp:v:sev")
    levels = await coord.wait_for("How severe")
    assert [label for label in levels.button_labels if "🔵" in label or "🟠" in label or "🔴" in label] == [
        "🔵 Info",
        "✅ 🟠 URGENT",
        "🔴 CRITICAL",
    ]
    assert "2 people would receive it now" in levels.text  # the live count on every screen
    await coord.press("cmp:sev:critical")
    question = await coord.wait_for("overrides quiet hours")
    assert "Make this alert critical?" in question.text
    await coord.press("🔴 Yes, critical")
    await coord.wait_for("CRITICAL")
    await coord.press("cmp:drill")
    await coord.wait_for("Exercise: yes")
    await coord.press("cmp:preview")
    preview = await coord.wait_for("Preview")
    assert "Plūdi Ogrē" in preview.text and "Flood in Ogre" in preview.text and "EXERCISE" in preview.text
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery")
    await wait_delivered(bot, 1, 2)
    lv_msg, en_msg = alert_messages(users[0])[0], alert_messages(users[1])[0]
    assert "Plūdi Ogrē" in lv_msg.text and "Flood" not in lv_msg.text
    assert "Flood in Ogre" in en_msg.text and "EXERCISE, not a real emergency" in en_msg.text
    assert not alert_messages(users[2])
    # the preview's buttons are gone, so Send cannot be pressed twice
    assert not preview.buttons
    assert sqlite3.connect(bot.settings.database.path).execute("SELECT count(*) FROM alerts").fetchone()[0] == 1


async def test_html_special_characters_in_names_and_texts(sandbox, bot):
    users = await seed(bot, sandbox, [Spec(1, "<Anna & Co>", "en", OGRE)])
    coord = sandbox.user(COORDINATOR_ID, "<b>Boss</b>", "& Sons", language_code="en")
    await coord.send('/alert areas=Ogre Bring <tools> & "ropes" </b> now')
    preview = await coord.wait_for("Preview")
    assert 'Bring <tools> & "ropes" </b> now' in preview.text
    assert "From: <b>Boss</b> & Sons, LAPAS" in preview.text
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery")
    await wait_delivered(bot, 1, 1)
    msg = alert_messages(users[0])[0]
    assert 'Bring <tools> & "ropes" </b> now' in msg.text
    await users[0].press("ans:1:yes")
    await users[0].wait_for("You are confirmed")
    await coord.send("/export 1")
    doc = await coord.wait_for(lambda m: m.document is not None)
    rows = list(csv.DictReader(io.StringIO(doc.document[1].decode())))
    assert rows[0]["name"] == "<Anna & Co>" and rows[0]["response"] == "accepted"


async def test_exact_delivery_despite_telegram_errors(sandbox, bot):
    specs = [Spec(100 + i, f"P{i}", "en", OGRE) for i in range(40)]
    users = await seed(bot, sandbox, specs)
    never_started = await seed(bot, sandbox, [Spec(500, "Ghost", "en", OGRE)], started=False)
    outsider = (await seed(bot, sandbox, [Spec(600, "Elsewhere", "en", CESIS)]))[0]
    users[3].block()
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    # the broadcast is running (40 messages at 30/s): Telegram misbehaves meanwhile
    sandbox.inject_faults("sendMessage", "429", count=2, retry_after=1)
    sandbox.inject_faults("sendMessage", "5xx", count=3)
    sandbox.inject_faults("sendMessage", "drop", count=2)
    tally = await wait_delivered(bot, 1, 41, timeout=30)
    assert (tally.sent, tally.blocked, tally.failed) == (39, 1, 1)
    assert sandbox.count("sendMessage", 429) >= 1 and sandbox.count("sendMessage", 502) >= 1
    for i, u in enumerate(users):
        assert len(alert_messages(u)) == (0 if i == 3 else 1), u
    assert not alert_messages(outsider) and not never_started[0].messages
    with sqlite3.connect(bot.settings.database.path) as conn:
        assert conn.execute("SELECT blocked_at IS NOT NULL FROM people WHERE external_id = '103'").fetchone()[0] == 1
        failed = conn.execute("SELECT last_error FROM outbox WHERE external_id = '500'").fetchone()[0]
    assert "chat not found" in failed.lower()
    # the blocked person is left out of the next alert
    await coord.send("/alert areas=Ogre Second call")
    preview = await coord.wait_for("Preview")
    assert "40 people will receive it" in preview.text and "1 blocked the bot" in preview.text
    await coord.press("cmp:cancel")
    await coord.wait_for("discarded")
    # ...until they come back: writing to the bot again includes them once more
    users[3].unblock()
    await users[3].send("/help")
    await users[3].wait_for("/profile")
    await coord.send("/alert areas=Ogre Third call")
    preview = await coord.wait_for("Preview")
    assert "41 people will receive it" in preview.text and "blocked" not in preview.text


async def test_restart_halfway_through_a_broadcast(sandbox, start_bot):
    bot = await start_bot(broadcast={"messages_per_second": 20})
    specs = [Spec(1000 + i, f"P{i}", "en", OGRE) for i in range(60)]
    users = await seed(bot, sandbox, specs)
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Evacuation help needed")
    await wait_sent(bot, 1, 20)
    await bot.stop()  # mid-broadcast
    sent_before = await_sync_tally(bot.settings.database.path)
    assert 0 < sent_before < 60
    bot2 = await start_bot(broadcast={"messages_per_second": 20})
    tally = await wait_delivered(bot2, 1, 60, timeout=30)
    assert tally.sent == 60
    for u in users:
        assert len(alert_messages(u)) == 1, (u, [m.text for m in u.messages])


def await_sync_tally(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM recipients WHERE delivery = 'sent'").fetchone()[0]


async def test_reminders_survive_a_restart_and_on_demand(sandbox, start_bot):
    bot = await start_bot(alerts={"remind_after_minutes": 1})
    users = await seed(bot, sandbox, [Spec(1, "A", "en", OGRE), Spec(2, "B", "en", OGRE), Spec(3, "C", "en", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre need=1 by=2h Generators needed")
    await wait_delivered(bot, 1, 3)
    await users[0].press("ans:1:yes")
    await users[0].wait_for("You are confirmed")
    await users[1].press("ans:1:no")
    await users[1].wait_for("can't help")
    await bot.stop()
    # the automatic reminder and the respond-by time are due now: a new process must still
    # act on them, once (PTB's JobQueue keeps nothing across a restart)
    with sqlite3.connect(bot.settings.database.path) as conn:
        conn.execute(
            "UPDATE alerts SET remind_at = '2000-01-01T00:00:00+00:00', respond_by = '2000-01-01T00:00:00+00:00'"
        )
    bot = await start_bot(alerts={"remind_after_minutes": 1})
    reminder = await users[2].wait_for("Reminder", timeout=10)
    notice = await coord.wait_for("answer time of alert #1 is over")
    assert "1/1 accepted" in notice.text and "1 did not answer" in notice.text
    assert "Generators needed" in reminder.text and reminder.buttons
    await asyncio.sleep(0.5)
    for u in users[:2]:
        assert not any("Reminder" in m.text for m in u.messages)
    # on demand: reminds the silent again
    await coord.send("/remind 1")
    await coord.wait_for("Reminding 1 person")
    await users[2].wait_for(lambda m: sum("Reminder" in x.text for x in users[2].messages) == 2)
    # answering the reminder counts
    await users[2].press("ans:1:yes")
    await users[2].wait_for("on standby")


async def test_followup_location_export_and_status(sandbox, bot):
    users = await seed(
        bot, sandbox, [Spec(1, "A", "en", OGRE, extra={"phone": "+37120000001"}), Spec(2, "B", "en", OGRE)]
    )
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Fire near Ogre")
    await wait_delivered(bot, 1, 2)
    await users[0].press("ans:1:30m")
    await users[0].wait_for("within 30 minutes")
    await coord.press("trk:followup:1")
    await coord.wait_for("Write the message")
    await coord.share_location(56.8162, 24.6140)
    await coord.wait_for("Sending to 1 person")
    loc = await users[0].wait_for(lambda m: m.location is not None)
    assert loc.location is not None
    assert abs(loc.location["latitude"] - 56.8162) < 1e-6
    assert not any(m.location for m in users[1].messages)
    await coord.send("/alerts")
    listing = await coord.wait_for("open alert")
    assert "#1" in listing.text and "accepted 1" in listing.text
    await coord.send("/status 1")
    status = await coord.wait_for("📤 Delivery")
    assert "accepted 1 · declined 0 · standby 0 · no answer 1" in status.text
    await coord.press("trk:export:1")
    doc = await coord.wait_for(lambda m: m.document is not None)
    rows = list(csv.DictReader(io.StringIO(doc.document[1].decode())))
    assert list(rows[0])[:3] == ["telegram_id", "delivery", "response"]
    assert {(r["telegram_id"], r["delivery"], r["response"], r["eta"]) for r in rows} == {
        ("1", "sent", "accepted", "30m"),
        ("2", "sent", "none", ""),
    }
    await coord.send("/status 99")
    await coord.wait_for("no alert #99")


async def test_cancel_leaves_the_composer_and_the_follow_up(sandbox, bot):
    (u,) = await seed(bot, sandbox, [Spec(1, "A", "en", OGRE)])
    coord = await coordinator(sandbox)
    await coord.send("/alert")
    await coord.wait_for("New alert")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text")
    await coord.send("/cancel")
    await coord.wait_for("The draft was discarded")
    await coord.send("some text")  # no longer taken as the alert text
    await coord.wait_for("did not understand")
    await send_one_line(coord, "areas=Ogre Test call")
    await wait_delivered(bot, 1, 1)
    await u.press("ans:1:yes")
    await u.wait_for("You are confirmed")
    await coord.press("trk:followup:1")
    await coord.wait_for("Write the message")
    await coord.send("/cancel")
    await coord.wait_for("Cancelled. Nothing was sent.")
    await coord.send("/cancel")
    await coord.wait_for("nothing to cancel")
    assert not any("Update on alert" in m.text for m in u.messages)


async def test_alerts_command_line_list_and_export(sandbox, bot, tmp_path):
    from tests.e2e.test_cli import run_cli

    users = await seed(bot, sandbox, [Spec(1, "A", "en", OGRE), Spec(2, "B", "lv", OGRE), Spec(3, "C", "en", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre need=1 drill=yes Exercise call")
    await wait_delivered(bot, 1, 3)
    await users[0].press("ans:1:yes")
    await users[0].wait_for("You are confirmed")
    await users[2].press("ans:1:2h")
    await users[2].wait_for("on standby")
    await users[1].press("ans:1:no")
    await users[1].wait_for("Paldies")
    db = bot.settings.database.path
    await bot.stop()

    listed = run_cli(tmp_path, db, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert (
        rows[0]["id"] == "1" and rows[0]["drill"] == "yes" and rows[0]["accepted"] == "1" and rows[0]["standby"] == "1"
    )

    for ref in ("latest", "1"):
        exported = run_cli(tmp_path, db, "alerts", "export", ref)
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout.splitlines()[0].startswith("telegram_id,delivery,response")
        got = {(r["telegram_id"], r["delivery"], r["response"]) for r in csv.DictReader(io.StringIO(exported.stdout))}
        assert got == {("1", "sent", "accepted"), ("2", "sent", "declined"), ("3", "sent", "standby")}
    missing = run_cli(tmp_path, db, "alerts", "export", "7")
    assert missing.returncode == 1 and "no alert 7" in missing.stderr
    bad = run_cli(tmp_path, db, "alerts", "export", "last")
    assert bad.returncode == 2 and "not an alert id" in bad.stderr


async def wait_outbox_empty(bot, timeout: float = 20.0) -> None:
    async def empty() -> bool:
        return not (await bot.services.outbox.counts()).get("queued", 0)

    await eventually(empty, "the outbox empty", timeout, every=0.05)


def closed(m) -> bool:
    return "This alert is closed" in m.text and not m.buttons


async def test_closing_mid_broadcast_stops_sending_and_closes_every_message(sandbox, start_bot):
    bot = await start_bot(broadcast={"messages_per_second": 10})
    users = await seed(bot, sandbox, [Spec(1100 + i, f"P{i}", "en", OGRE) for i in range(40)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    await wait_sent(bot, 1, 8)
    await coord.send("/close 1")
    await coord.wait_for("closed")
    await wait_outbox_empty(bot)
    await asyncio.sleep(0.5)
    got = [u for u in users if any("Sandbags" in m.text for m in u.messages)]
    assert 8 <= len(got) < 30  # the rest were never sent
    for u in got:  # including any that went out while the call was being closed
        (msg,) = [m for m in u.messages if "Sandbags" in m.text]
        assert closed(msg), msg.text
    tally = await bot.services.alerts.tally(1)
    assert tally.sent == len(got) and tally.queued == 40 - len(got)
    with sqlite3.connect(bot.settings.database.path) as conn:
        cancelled = conn.execute("SELECT count(*) FROM outbox WHERE last_error LIKE 'cancelled%'").fetchone()[0]
    assert cancelled == 40 - len(got)


async def test_tracking_buttons_remind_and_close_after_confirming_and_reminders_are_closed_too(sandbox, bot):
    users = await seed(bot, sandbox, [Spec(1200 + i, f"P{i}", "en", OGRE) for i in range(3)])
    coord = await coordinator(sandbox)
    _, tracking = await send_one_line(coord, "areas=Ogre Pumps needed")
    await wait_delivered(bot, 1, 3)
    await users[0].press("I can help")
    await users[0].wait_for("You are confirmed")
    await coord.press("trk:remind:1", tracking)
    reminders = [await u.wait_for("Reminder") for u in users[1:]]
    assert all(r.buttons for r in reminders)
    assert not any("Reminder" in m.text for m in users[0].messages)  # they answered

    await coord.press("trk:close:1", tracking)  # a tap alone does not close the call
    confirm = await coord.wait_for("Close alert #1?")
    await coord.press("trk:keep:1", confirm)
    await coord.wait_for_edit(confirm, "stays open")
    assert (await bot.services.alerts.get(1)).open
    await coord.press("trk:close:1", tracking)
    confirm = await coord.wait_for("Close alert #1?")
    await coord.press("Yes, close #1", confirm)
    await coord.wait_for("Alert #1 closed")
    assert not (await bot.services.alerts.get(1)).open
    await wait_outbox_empty(bot)
    for u in users:
        for m in [m for m in u.messages if "Pumps needed" in m.text]:
            if not closed(m):
                await u.wait_for_edit(m, closed)
    assert "confirmed" in next(m for m in users[0].messages if "Pumps needed" in m.text).text
    await users[0].wait_for("is closed. Thank you for your help")


async def test_preview_shows_every_recipient_language_with_its_buttons(sandbox, bot):
    from bot.i18n import translator

    await seed(bot, sandbox, [Spec(1300, "Latviete", "lv", OGRE), Spec(1301, "Anglis", "en", OGRE)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre severity=urgent Sandbags at the bridge")
    preview = await coord.wait_for("Preview")
    lv, en = translator("lv"), translator("en")
    assert lv._("URGENT") in preview.text and en._("URGENT") in preview.text and lv._("URGENT") != en._("URGENT")
    assert preview.text.count("Sandbags at the bridge") == 2
    for t in (lv, en):
        labels = [t._("✅ I can help"), t._("🕐 In 30 min"), t._("🕑 In 2 hours"), t._("❌ I can't")]
        assert " ".join(f"[{label}]" for label in labels) in preview.text
    await coord.press("cmp:cancel")
    await coord.wait_for("discarded")


async def test_killed_mid_broadcast_the_restarted_bot_resends_nothing_confirmed(sandbox, start_bot, db_path, tmp_path):
    """SIGKILL, not a clean stop: the bot runs as ``python -m bot run`` in its own process."""
    import os
    import signal
    import sys

    from tests.conftest import TOKEN

    seeder = await start_bot()
    users = await seed(seeder, sandbox, [Spec(1400 + i, f"P{i}", "en", OGRE) for i in range(60)])
    await seeder.stop()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{sandbox.base_url}"\napi_base_file_url = "{sandbox.base_file_url}"\n'
        f'poll_timeout = 1\n[database]\npath = "{db_path}"\n[access]\nadmin_ids = [{COORDINATOR_ID}]\n'
        "[broadcast]\nmessages_per_second = 20\n[alerts]\nremind_after_minutes = 0\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAUCIENS_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        coord = await coordinator(sandbox)
        await coord.send("/alert areas=Ogre Evacuation help needed")
        await coord.press("🚀", await coord.wait_for("Preview", timeout=20))

        async def twenty_sent() -> bool:  # read by the test, while the bot's process writes
            return await asyncio.to_thread(await_sync_tally, db_path) >= 20

        await eventually(twenty_sent, "20 messages sent by the bot's process", timeout=60, every=0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    with sqlite3.connect(db_path) as conn:
        confirmed = {
            r[0] for r in conn.execute("SELECT external_id FROM outbox WHERE kind = 'alert' AND state = 'sent'")
        }
    assert 20 <= len(confirmed) < 60
    bot = await start_bot(broadcast={"messages_per_second": 20})
    tally = await wait_delivered(bot, 1, 60, timeout=30)
    assert tally.sent == 60
    got = {str(u.id): len([m for m in u.messages if "Evacuation help needed" in m.text]) for u in users}
    assert all(n >= 1 for n in got.values())  # nobody lost
    assert all(got[uid] == 1 for uid in confirmed)  # nothing confirmed sent is sent again
    # only messages that were on their way at the kill (at most max_in_flight) can arrive twice
    assert sum(n - 1 for n in got.values()) <= bot.settings.broadcast.max_in_flight


async def test_paid_broadcast_goes_past_the_free_limit(sandbox, start_bot):
    bot = await start_bot(broadcast={"paid": True, "messages_per_second": 300, "max_in_flight": 32})
    users = await seed(bot, sandbox, [Spec(1500 + i, f"P{i}", "en", OGRE) for i in range(120)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Shelter volunteers needed")
    tally = await wait_delivered(bot, 1, 120)
    assert tally.sent == 120
    # at 300/s without allow_paid_broadcast the sandbox (like Telegram) would answer 429
    assert sandbox.count("sendMessage", 429) == 0
    # sent raw (bot/messenger/raw.py): each with its answer buttons, paid, and its id recorded
    for u in users:
        (message,) = alert_messages(u)
        assert sandbox.chat(u.id)[-1].params["allow_paid_broadcast"] is True
        recorded = await bot.services.db.fetchval(
            "SELECT r.message_id FROM recipients r JOIN people p ON p.id = r.person_id WHERE p.external_id = ?",
            (str(u.id),),
        )
        assert recorded == message.message_id


async def test_guided_composer_skills_abroad_languages_and_answer_by(sandbox, bot):
    from bot.i18n import translator

    users = await seed(
        bot,
        sandbox,
        [
            Spec(1600, "Ogre medic", "lv", OGRE, skills=("first_aid",)),
            Spec(1601, "Riga driver", "en", RIGA, skills=("driver", "translation")),
            Spec(1602, "London translator", "en", None, "GB", "London", skills=("translation",)),
            Spec(1603, "Dublin translator", "lv", None, "IE", "Dublin", skills=("translation",)),
            Spec(1604, "Berlin translator", "en", None, "DE", "Berlin", skills=("translation",)),
        ],
    )
    coord = await coordinator(sandbox)
    await coord.send("/alert")
    menu = await coord.wait_for("New alert")
    assert "5 people will receive it" in menu.text

    async def choose(view: str, *data: str, expect: str) -> None:
        await coord.press(f"cmp:v:{view}", menu)
        await coord.wait_for_edit(menu, lambda m: "cmp:menu" in [d for row in m.buttons for _, d in row])
        for d in data:
            await coord.press(d)
            await coord.wait_for_edit(
                menu, lambda m, d=d: any(lbl.startswith("✅") for row in m.buttons for lbl, dd in row if dd == d)
            )
        await coord.press("cmp:menu")
        await coord.wait_for_edit(menu, expect)

    await choose("skills", "cmp:sk:translation", expect="4 people will receive it")
    await choose("abroad", "cmp:co:GB:0", "cmp:co:IE:0", expect="2 people will receive it")  # only abroad now: GB or IE
    await choose("langs", "cmp:lg:en", expect="1 person will receive it")
    await coord.press("cmp:v:by", menu)
    await coord.wait_for_edit(menu, "Answers needed by when?")
    await coord.press("cmp:by:2h")
    await coord.wait_for_edit(menu, lambda m: "Answer by: —" not in m.text and "Answer by:" in m.text)
    await coord.press("cmp:text", menu)
    await coord.wait_for("Type the alert text")
    await coord.send("Translators needed for evacuees tonight")
    await coord.wait_for("English version")
    await coord.press("cmp:same")
    await coord.wait_for("New alert")
    await coord.press("cmp:preview")
    await coord.press("🚀", await coord.wait_for("Preview"))
    await wait_delivered(bot, 1, 1)
    got = [u for u in users if alert_messages(u)]
    assert got == [users[2]]  # London, translation, English
    alert = await bot.services.alerts.get(1)
    assert alert.draft.respond_by is not None
    london = translator("en").datetime(alert.draft.respond_by, "Europe/London")
    assert f"Please answer by {london}" in alert_messages(users[2])[0].text  # in the reader's time zone


async def test_replies_do_not_wait_behind_a_broadcast(sandbox, start_bot):
    bot = await start_bot(broadcast={"messages_per_second": 5})
    users = await seed(bot, sandbox, [Spec(1700 + i, f"P{i}", "en", OGRE) for i in range(30)])
    (outsider,) = await seed(bot, sandbox, [Spec(1799, "Elsewhere", "en", CESIS)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")  # 30 messages at 5/s: about 6 s
    await wait_sent(bot, 1, 2)
    await outsider.send("/help")
    await outsider.wait_for("/profile")
    await users[0].wait_for("Sandbags")  # the first recipients have it
    qid = await users[0].press("ans:1:yes")
    await users[0].wait_answered(qid)
    assert (await bot.services.alerts.tally(1)).queued >= 10  # answered while most of the broadcast still waits
