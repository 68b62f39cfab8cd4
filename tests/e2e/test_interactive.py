"""Interactive traffic: concurrent, in order per person, and resilient to Telegram hiccups."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.sandbox.scenarios import register_in_latvia


async def test_rapid_taps_of_one_person_are_applied_in_order(sandbox, bot, db_path):
    u = sandbox.user(77, "Ilze", language_code="en")
    await u.send("/start")
    await u.wait_for(lambda m: "English" in m.button_labels)
    await u.press("English")
    await u.wait_for("Do you agree")
    await u.press("I agree")
    await u.wait_for("name")
    await u.press("Yes")
    await u.wait_for("Where are you")
    await u.press("In Latvia")
    await u.wait_for("municipality")
    await u.send("Ogre")
    skills_msg = await u.wait_for("Tap everything")
    codes = [
        "reg:skill:first_aid",
        "reg:skill:driver",
        "reg:skill:food",
        "reg:skill:logistics",
        "reg:skill:legal",
        "reg:skill:driver",
    ]
    for code in codes:  # no waiting between taps: toggles must not overwrite each other
        await u.press(code, message=skills_msg)
    await u.wait_for(lambda m: "✅ Legal aid" in m.button_labels and "Done (4 chosen)" in m.button_labels)
    with sqlite3.connect(db_path) as conn:
        skills = {r[0] for r in conn.execute("SELECT skill FROM person_skills")}
    assert skills == {"first_aid", "food", "logistics", "legal"}


async def test_many_people_are_served_at_once(sandbox, bot):
    people = [sandbox.user(1000 + i, f"P{i}", language_code="en" if i % 2 else "lv") for i in range(12)]
    await asyncio.gather(
        *(register_in_latvia(u, lang="en" if i % 2 else "lv", place="Valmiera") for i, u in enumerate(people))
    )
    assert await bot.services.people.count_active() == 12


async def test_a_reply_survives_a_telegram_hiccup_but_is_never_sent_twice(sandbox, bot):
    u = sandbox.user(88, "Juris", language_code="en")
    sandbox.inject_faults("sendMessage", "5xx", count=2)  # Telegram did not carry it out: tried again
    await u.send("/help")
    await u.wait_for("/profile", timeout=10)
    assert sandbox.count("sendMessage", 502) == 2
    # a connection lost after the request went out: it may have arrived, so it is not sent again
    sent_before = sandbox.count("sendMessage")
    sandbox.inject_faults("sendMessage", "drop", count=1)
    await u.send("/help")
    while True:  # the request arrived and its connection was dropped
        if sandbox.count("sendMessage", 0) >= 1:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(1.5)  # longer than the limiter's retries would take
    assert sandbox.count("sendMessage") == sent_before + 1
    assert len([m for m in u.messages if "/profile" in m.text]) == 1
