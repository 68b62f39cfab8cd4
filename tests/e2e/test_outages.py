"""Delivery through outages (issue 7), end to end through the sandbox's outage switch: every
Bot API request answered 502, then connections refused, then back. The outages are seconds
here, not minutes, and the backoff cap is a second (``broadcast.max_backoff_seconds``);
``python -m bench.outage`` runs the full three minutes."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from bot.sandbox.scenarios import has_button
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed

OGRE = "0040000"
QUICK_RETRIES = {"max_backoff_seconds": 1.0, "messages_per_second": 20}


async def coordinator(sandbox):
    return sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.02)


async def wait_all_sent(bot, alert_id: int, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        t = await bot.services.alerts.tally(alert_id)
        if t.sent == total and t.queued == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not all sent within {timeout}s: {t}")
        await asyncio.sleep(0.05)


def attempts(db_path) -> list[int]:
    with sqlite3.connect(db_path) as conn:
        return [r[0] for r in conn.execute("SELECT attempts FROM outbox WHERE kind = 'alert' ORDER BY id")]


async def test_an_outage_in_the_middle_of_a_broadcast_loses_nobody(sandbox, start_bot):
    bot = await start_bot(broadcast=QUICK_RETRIES)
    users = await seed(bot, sandbox, [Spec(2000 + i, f"P{i}", "en", OGRE) for i in range(60)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre Dam breach, sandbags needed")
    await coord.press("🚀", await coord.wait_for("Preview"))
    tracking = await coord.wait_for("📤 Delivery")
    while True:
        if (await bot.services.alerts.tally(1)).sent >= 15:
            break
        await asyncio.sleep(0.02)

    await sandbox.set_outage("5xx")
    await asyncio.sleep(0.5)
    seen_at_start = sandbox.count("sendMessage")
    await asyncio.sleep(3.0)
    # one probe at a time, a second apart at most: not one failure after another through the queue
    assert sandbox.count("sendMessage") - seen_at_start <= 8
    assert bot.sender.held_up_since is not None
    await sandbox.set_outage("refused")
    await asyncio.sleep(3.0)
    await sandbox.set_outage(None)

    await wait_all_sent(bot, 1, 60, timeout=30)
    got = [len(alert_messages(u)) for u in users]
    assert all(n >= 1 for n in got)
    # a duplicate only where a connection broke after the sandbox had carried the message out:
    # in flight at the moment connections were reset, which is the one probe at most
    assert sum(n - 1 for n in got) <= 1
    tried = attempts(bot.settings.database.path)
    assert sum(1 for n in tried if n > 0) >= 3  # the failed attempts are recorded with the messages
    assert bot.sender.held_up_since is None and bot.reachability.reachable
    final = await coord.wait_for_edit(tracking, lambda m: "60/60" in m.text and "unreachable" not in m.text, 10)
    assert "sent 60 · queued 0 · failed 0" in final.text


async def test_the_tracking_message_says_when_delivery_is_held_up_and_stops_saying_it(sandbox, start_bot):
    bot = await start_bot(broadcast=QUICK_RETRIES)
    await seed(bot, sandbox, [Spec(2100 + i, f"P{i}", "en", OGRE) for i in range(30)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre Shelter needs hands")
    await coord.press("🚀", await coord.wait_for("Preview"))
    tracking = await coord.wait_for("📤 Delivery")
    # sending fails (5xx) while edits get through: the coordinator can be told
    sandbox.inject_faults("sendMessage", "5xx", count=16)
    held = await coord.wait_for_edit(tracking, "Telegram unreachable since", timeout=15)
    assert "waiting, retrying" in held.text
    await wait_all_sent(bot, 1, 30, timeout=30)
    await coord.wait_for_edit(tracking, lambda m: "30/30" in m.text and "unreachable" not in m.text, 10)


async def test_an_outage_as_the_coordinator_presses_send(sandbox, start_bot):
    bot = await start_bot(broadcast=QUICK_RETRIES)
    users = await seed(bot, sandbox, [Spec(2200 + i, f"P{i}", "en", OGRE) for i in range(8)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre Evacuate the riverside")
    preview = await coord.wait_for("Preview")
    sandbox.outage_after_next_updates("5xx")  # the bot gets the press, then Telegram is gone
    await coord.press("🚀", preview)
    await until(lambda: sandbox.outage == "5xx", 10, "the outage began")
    deadline = time.monotonic() + 10
    while (tally := await bot.services.alerts.tally(1)).total < 8:  # the press is not lost...
        assert time.monotonic() < deadline, tally
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    assert (await bot.services.alerts.tally(1)).sent == 0  # ...and the alert waits for Telegram
    await sandbox.set_outage("refused")
    await asyncio.sleep(1.5)
    await sandbox.set_outage(None)

    tracking = await coord.wait_for(has_button("trk:close:1"), timeout=15)
    assert "📤 Delivery" in tracking.text
    await wait_all_sent(bot, 1, 8, timeout=20)
    assert [len(alert_messages(u)) for u in users] == [1] * 8

    def shows_all_sent() -> bool:  # the message may have been sent once everything was out, or edited since
        assert coord.chat is not None
        current = coord.chat.by_id.get(tracking.message_id)
        return current is not None and "8/8" in current.text and "unreachable" not in current.text

    await until(shows_all_sent, 10, "the tracking message shows all 8 sent, with no held-up line")


async def test_the_bot_starts_while_telegram_is_down(sandbox, start_bot):
    await sandbox.set_outage("refused")
    starting = asyncio.create_task(start_bot())
    await asyncio.sleep(1.0)
    await sandbox.set_outage("5xx")
    await asyncio.sleep(1.0)
    assert not starting.done()  # waiting for Telegram, not failed
    await sandbox.set_outage(None)
    bot = await asyncio.wait_for(starting, 20)
    assert bot.app.bot.username == sandbox.bot_username
    u = sandbox.user(2300, "Ilze", language_code="en")
    await u.send("/help")
    await u.wait_for("/profile", timeout=10)


async def test_replies_resume_within_10_s_of_telegram_coming_back(sandbox, bot):
    """Long enough for python-telegram-bot's own polling back-off (1.5× per failure) to have
    grown past 10 s, had getUpdates failures reached it."""
    u = sandbox.user(2400, "Anna", language_code="en")
    await sandbox.set_outage("5xx")
    await asyncio.sleep(12)
    await sandbox.set_outage("refused")
    await asyncio.sleep(12)
    await u.send("/help")  # written during the outage
    await sandbox.set_outage(None)
    back = time.monotonic()
    await u.wait_for("/profile", timeout=10)
    assert time.monotonic() - back < 10
