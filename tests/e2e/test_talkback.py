"""Talk-back through the sandbox: a volunteer who received an open alert writes free text, is
asked before anything is sent, and the coordinator's reply reaches them; /messages, the limit
per person, and /forget, checked against the SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.sandbox.users import SimUser
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed

OGRE = "0040000"
NAME = "Anna <i>Ozola</i>"  # the name is shown escaped: the tags stay text


def forwarded(coord: SimUser) -> list[str]:
    """The volunteers' messages the coordinator got."""
    return [m.text for m in coord.messages if " about alert #" in m.text]


def stored(db_path: Path) -> list[tuple[int, str, str, str]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT alert_id, direction, external_id, text FROM messages ORDER BY id").fetchall()


async def wait_delivered(bot, alert_id: int, total: int) -> None:
    async def done() -> None:
        while True:
            t = await bot.services.alerts.tally(alert_id)
            if t.queued == 0 and t.total == total:
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(done(), 20)


async def send_alert(bot, coord: SimUser, people: list[SimUser], alert_id: int, text: str) -> None:
    await coord.send(f"/alert areas=Ogre {text}")
    await coord.wait_for(lambda m: any((d or "").startswith("cmp:send") for row in m.buttons for _, d in row))
    await coord.press("🚀")
    await wait_delivered(bot, alert_id, len(people))
    for u in people:
        await u.wait_for(text)
        assert any(text in m.text for m in alert_messages(u))


async def test_a_volunteer_writes_to_the_coordinator_who_replies(sandbox, bot, db_path):
    (anna,) = await seed(bot, sandbox, [Spec(501, NAME, "en", OGRE)])
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")

    # without an open alert, free text is not understood, as before
    await anna.send("what's happening with the search?")
    await anna.wait_for("I did not understand that")

    await send_alert(bot, coord, [anna], 1, "Search in Ogre forest")
    await anna.send("what's happening with the search?")
    asked = await anna.wait_for("Send this to the coordinator of alert #1?")
    assert asked.button_labels == ["✅ Yes, send", "✖️ No"]
    await asyncio.sleep(0.3)  # nothing is sent without the volunteer's Yes
    assert forwarded(coord) == [] and stored(db_path) == []

    await anna.press("✅ Yes, send", asked)
    await anna.wait_for_edit(asked, "✓ Sent to the coordinator of alert #1")
    got = await coord.wait_for("about alert #1")
    assert got.text == f"💬 {NAME} about alert #1:\nwhat's happening with the search?"
    assert got.button_labels == ["↩️ Reply"]
    assert stored(db_path) == [(1, "in", "501", "what's happening with the search?")]

    await coord.press("↩️ Reply", got)
    await coord.wait_for(f"Type your reply to {NAME} (alert #1)")
    await coord.send("We start at 18:00 <sharp>")
    await coord.wait_for(f"✓ Reply sent to {NAME}.")
    reply = await anna.wait_for("Coordinator Kārlis Koordinators (alert #1):")
    assert reply.text == "💬 Coordinator Kārlis Koordinators (alert #1):\nWe start at 18:00 <sharp>"

    await coord.send("/messages 1")
    listing = await coord.wait_for("Alert #1: 2 messages")
    assert f"{NAME}: what's happening with the search?" in listing.text
    assert f"↩️ Kārlis Koordinators to {NAME}: We start at 18:00 <sharp>" in listing.text
    await anna.send("/messages 1")
    await anna.wait_for("for coordinators only")

    # No sends nothing; an older question's Yes is no longer live once a newer text is asked about
    await anna.send("never mind")
    first = await anna.wait_for(lambda m: m.text == "Send this to the coordinator of alert #1?")
    await anna.send("are you there?")
    second = await anna.wait_for(lambda m: m.message_id != first.message_id and "alert #1?" in m.text)
    stale = await anna.press("✅ Yes, send", first)
    assert "no longer active" in (await anna.wait_answered(stale))["text"]
    await anna.press("✖️ No", second)
    await anna.wait_for_edit(second, "OK, nothing was sent.")
    await asyncio.sleep(0.3)
    assert len(forwarded(coord)) == 1 and len(stored(db_path)) == 2

    # the messages are personal data: /forget deletes them
    await anna.send("/forget")
    await anna.press("🗑 Yes, erase all", await anna.wait_for("Erase everything about you?"))
    await anna.wait_for("Everything about you has been erased.")
    assert stored(db_path) == []


async def test_replying_keeps_the_alert_the_coordinator_was_composing(sandbox, bot, db_path):
    (anna,) = await seed(bot, sandbox, [Spec(501, NAME, "en", OGRE)])
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await send_alert(bot, coord, [anna], 1, "Search in Ogre forest")
    await coord.send("/alert")
    await coord.wait_for("New alert")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text")

    await anna.send("where do we meet?")
    await anna.press("✅ Yes, send", await anna.wait_for("Send this to the coordinator of alert #1?"))
    got = await coord.wait_for("about alert #1")
    await coord.press("↩️ Reply", got)
    asked = await coord.wait_for(f"Type your reply to {NAME} (alert #1)")
    assert "What you started before is kept: you can go on with it after this." in asked.text
    await coord.send("At the church")
    await coord.wait_for(f"✓ Reply sent to {NAME}.")
    await anna.wait_for("At the church")
    await coord.send("Otrā meklēšana rīt")  # the new alert's text, where he left off
    await coord.wait_for("Now the English version")
    assert [text for _, _, _, text in stored(db_path)] == ["where do we meet?", "At the church"]


async def test_several_open_alerts_offer_a_choice_and_the_limit_holds(sandbox, start_bot, db_path):
    bot = await start_bot(talkback={"max_messages": 2, "window_minutes": 10})
    (janis,) = await seed(bot, sandbox, [Spec(502, "Jānis", "lv", OGRE)])
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en")
    await send_alert(bot, coord, [janis], 1, "Smiltis maisos")
    await send_alert(bot, coord, [janis], 2, "Meklēšana mežā pie Ogres, pulcēšanās pie stacijas")

    await janis.send("kas notiek ar meklēšanu?")
    asked = await janis.wait_for("Par kuru izsaukumu")
    assert asked.button_labels == ["#2 Meklēšana mežā pie…", "#1 Smiltis maisos", "✖️ Nesūtīt"]
    await janis.press("#1 Smiltis maisos", asked)
    await janis.wait_for_edit(asked, "✓ Nosūtīts izsaukuma #1 koordinatoram")
    await coord.wait_for("about alert #1")

    await janis.send("otrā ziņa")
    await janis.press("#2", await janis.wait_for("Par kuru izsaukumu"))
    await coord.wait_for("about alert #2")

    await janis.send("trešā ziņa")
    await janis.wait_for("ir robeža")
    await asyncio.sleep(0.3)
    assert len(forwarded(coord)) == 2
    assert [row[0] for row in stored(db_path)] == [1, 2]
