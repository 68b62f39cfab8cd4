"""Hostile input through the sandbox (issue 9): forged callbacks from a modified client,
buttons in group chats, /forget during an open alert, malformed data, and smaller holes.
Each test reproduces a finding against the real bot and a real SQLite file."""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
from contextlib import closing

import pytest

from bot.logs import EVENT, FIELDS
from bot.sandbox.scenarios import begin_registration, register_in_latvia
from bot.sandbox.users import SimMessage, SimUser
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import coordinator, send_one_line, wait_delivered
from tests.e2e.test_registration import person, person_or_none, rows, step_of

OGRE = "0040000"
NOT_VALID = "That button is no longer valid."
WRITE_PRIVATELY = "Please write to me privately"


def logged(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, object]]:
    """The fields of each ``name`` event logged (bot.logs.event)."""
    return [getattr(r, FIELDS) for r in caplog.records if getattr(r, EVENT, None) == name]


def handler_errors(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return logged(caplog, "handler_error")


async def forged(u: SimUser, data: str, message: SimMessage | None = None, **kw: object) -> dict:
    """Send ``data`` as a tap and return the bot's answer to it (it must answer)."""
    qid = await u.forge_callback(data, message, **kw)
    return await u.wait_answered(qid)


async def registered(sandbox, user_id: int = 501, lang: str = "en") -> SimUser:
    u = sandbox.user(user_id, "Ilze", language_code=lang)
    await register_in_latvia(u, lang=lang, place="Ogre")
    return u


# ----- finding 1: one volunteer can disable /alert for everyone ------------------------------


async def test_forged_quiet_hours_and_countries_are_refused_and_store_nothing(sandbox, bot, db_path, caplog):
    caplog.set_level(logging.INFO)
    u = await registered(sandbox)
    await u.send("/profile")
    await u.wait_for("Your details")
    await u.press("✏️ Quiet hours")
    await u.wait_for("Quiet hours: when should I not disturb you")
    for data in ("reg:quiet:aa-bb", "reg:quiet:25:00-07:00", "reg:quiet:22:00-07:00", "reg:quiet:2", "reg:quiet:-1"):
        answer = await forged(u, data)
        assert answer["text"] == NOT_VALID, data
    stored = person(db_path, u.id)
    assert stored is not None and (stored["quiet_start"], stored["quiet_end"]) == (None, None)
    # the presets still work, by index
    await u.press("22:00–07:00")
    await u.wait_for("Quiet hours: 22:00–07:00")
    assert (person(db_path, u.id)["quiet_start"], person(db_path, u.id)["quiet_end"]) == ("22:00", "07:00")

    # a country no one can be in, or Latvia "abroad"
    await u.send("/profile")
    await u.wait_for("Your details")
    await u.press("✏️ Place")
    await u.press("🌍 Abroad", await u.wait_for("Where are you usually based?"))
    await u.wait_for("Which country are you in?")
    for data in ("reg:country:🚨 TAP HERE TO SEND ALL 🚨", "reg:country:LV", "reg:country:XX", "reg:country:gb"):
        assert (await forged(u, data))["text"] == NOT_VALID, data
    assert step_of(db_path, u.id) == "country"
    assert person(db_path, u.id)["country"] in (None, "LV")
    # one log line per refused tap, with no stack trace
    refused = logged(caplog, "callback_invalid")
    assert len(refused) == 9
    assert not handler_errors(caplog)


async def test_a_corrupt_row_cannot_stop_an_alert(sandbox, bot, db_path, caplog):
    caplog.set_level(logging.INFO)
    users = await seed(bot, sandbox, [Spec(601, "Good", "en", OGRE), Spec(602, "Corrupt", "en", OGRE)])
    users += await seed(bot, sandbox, [Spec(603, "Bad zone", "en", OGRE)])
    # what a forged callback used to store, written straight into the file
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("UPDATE people SET quiet_start = 'aa', quiet_end = 'bb' WHERE external_id = '602'")
        conn.execute("UPDATE people SET timezone = 'Mars/Olympus_Mons' WHERE external_id = '603'")
        conn.commit()
    coord = await coordinator(sandbox)
    preview, _ = await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    assert "1 person will receive it" in preview.text
    await wait_delivered(bot, 1, 1)
    await users[0].wait_for("Sandbags at the bridge")
    assert alert_messages(users[0])
    assert not alert_messages(users[1]) and not alert_messages(users[2])
    skipped = logged(caplog, "audience_person_skipped")
    assert {f["reason"] for f in skipped} == {"quiet_hours", "timezone"}
    assert not handler_errors(caplog)


async def test_the_composer_offers_no_country_that_is_not_one(sandbox, bot, db_path):
    await seed(bot, sandbox, [Spec(611, "London", "en", None, "GB", "London")])
    await seed(bot, sandbox, [Spec(612, "Forged", "en", None, "GB", "London")])
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("UPDATE people SET country = '🚨 TAP HERE TO SEND ALL 🚨' WHERE external_id = '612'")
        conn.commit()
    coord = await coordinator(sandbox)
    await coord.send("/alert")
    await coord.press("Abroad", await coord.wait_for("New alert"))
    view = await coord.wait_for("People abroad")
    assert not any("TAP HERE" in label for label in view.button_labels)
    assert (await forged(coord, "cmp:co:🚨 TAP HERE TO SEND ALL 🚨"))["text"] == NOT_VALID


# ----- finding 3: callbacks in group chats ------------------------------------------------------


async def test_buttons_in_a_group_chat_do_nothing_but_ask_to_write_privately(sandbox, bot, db_path, caplog):
    u = await registered(sandbox, 701)
    await seed(bot, sandbox, [Spec(702, "Other", "en", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Pumps needed")
    await wait_delivered(bot, 1, 2)

    group = sandbox.group(-5001, "Ogre neighbours")
    await u.send_in_group(group, "/start")
    invite = await group.wait_for(WRITE_PRIVATELY)
    before = len(group.messages)
    for who, data in (
        (u, "prof:name"),
        (u, "prof:done"),
        (u, "ans:1:yes"),
        (coord, "trk:export:1"),
        (coord, "trk:closeyes:1"),
        (sandbox.user(703, "Newcomer", language_code="en"), "lang:en"),
        (sandbox.user(703, "Newcomer", language_code="en"), "consent:en:yes"),
        (u, "reg:where:lv"),
    ):
        answer = await forged(who, data, invite)
        assert WRITE_PRIVATELY in answer["text"], data
    await sandbox.wait_idle(quiet=0.3)
    assert len(group.messages) == before  # no profile, alert text or export in the group
    assert all(m.document is None for m in group.messages)
    assert person_or_none(db_path, 703) is None  # no one registered from the group
    tally = await bot.services.alerts.tally(1)
    assert tally.accepted == 0  # and the alert is open, unanswered
    assert (await bot.services.alerts.get(1)).open
    assert not handler_errors(caplog)


# ----- finding 4: /forget during an open alert --------------------------------------------------


async def test_forget_frees_the_place_and_promotes_the_first_standby(sandbox, bot, db_path):
    first = await registered(sandbox, 801)
    users = await seed(bot, sandbox, [Spec(802, "Standby", "en", OGRE)])
    standby = users[0]
    coord = await coordinator(sandbox)
    _, tracking = await send_one_line(coord, "areas=Ogre need=1 Sandbags at the bridge")
    await wait_delivered(bot, 1, 2)
    await first.press("ans:1:yes", await first.wait_for("Sandbags at the bridge"))
    await first.wait_for(lambda m: "confirmed" in m.text)
    await standby.press("ans:1:yes", await standby.wait_for("Sandbags at the bridge"))
    await standby.wait_for(lambda m: "standby" in m.text)

    await first.send("/forget")
    await first.press("forget:yes", await first.wait_for("Erase everything about you?"))
    await first.wait_for("Everything about you has been erased.")

    await standby.wait_for("A place opened up in alert #1")
    tally = await bot.services.alerts.tally(1)
    assert (tally.accepted, tally.standby, tally.declined) == (1, 0, 1)
    responses = rows(db_path, "SELECT external_id, response FROM recipients ORDER BY id")
    assert {(r["external_id"], r["response"]) for r in responses} == {(None, "declined"), ("802", "accepted")}
    # the coordinator's tracking message shows it
    await coord.wait_for_edit(tracking, lambda m: "1/1" in m.text or "✅ 1" in m.text, timeout=5)


# ----- finding 6: malformed callbacks -----------------------------------------------------------

MALFORMED = (
    "ans:99999999999999999999999:yes",  # OverflowError
    "ans:9223372036854775808:yes",  # one past SQLite's range
    "ans:-1:yes",  # never answered before
    "ans:1:maybe",
    "ans:1",
    "ans:1:yes:extra",
    "trk:export:99999999999999999999",
    "trk:export:0",
    "trk:nuke:1",
    "reg:tz:abc",
    "reg:tz:99999999999",
    "reg:mpage:-1",
    "reg:mpage:9999",
    "reg:muni:",
    "reg:muni:9999999",
    "reg:skill:root",
    "reg:avail:never",
    "reg:where:mars",
    "reg",
    "reg:",
    "prof:",
    "prof:phone:extra",
    "lang:xx",
    "consent:lv",
    "consent:xx:yes",
    "pause:forever",
    "forget:maybe",
    "cmp:ar:xx:0",
    "cmp:arp:-3",
    "cmp:v:nothing",
    "cmp:by:99h",
    "cmp:sk:",
    ":::",
    "",
    "\x00",
    "x" * 64,
    "é" * 40,  # too long in bytes
)


async def test_malformed_callbacks_are_answered_and_change_nothing(sandbox, bot, db_path, caplog):
    caplog.set_level(logging.INFO)
    await seed(bot, sandbox, [Spec(901, "Volunteer", "en", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Pumps needed")
    await wait_delivered(bot, 1, 1)
    u = await registered(sandbox, 902)
    before = {t: rows(db_path, f"SELECT * FROM {t}") for t in ("people", "recipients", "sessions", "alerts")}
    for who in (u, coord):
        for data in MALFORMED:
            answer = await forged(who, data)
            assert answer["text"] == NOT_VALID, data
    await sandbox.wait_idle(quiet=0.2)
    after = {t: rows(db_path, f"SELECT * FROM {t}") for t in before}
    assert after == before
    assert not handler_errors(caplog)


async def test_a_failing_handler_still_answers(sandbox, bot, db_path, caplog):
    """Data no validator let in (written straight into the file) makes /profile fail: the
    person is told, and the error is logged with the update's id."""
    u = await registered(sandbox, 951)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("UPDATE people SET availability = 'whenever' WHERE external_id = '951'")
        conn.commit()
    await u.send("/profile")
    await u.wait_for("Something went wrong, please try again.")
    (error,) = handler_errors(caplog)
    assert isinstance(error["update"], int) and error["error"] == "KeyError"
    # a tap whose handler fails is answered too (no spinner left turning), and the person told:
    # "Yes" keeps the name and shows the profile, which cannot be rendered
    await u.wait_answered(await u.forge_callback("prof:name"))
    asked = await u.wait_for("What name should coordinators see?")
    qid = await u.press("reg:name_ok", asked)
    await u.wait_answered(qid)
    await u.wait_for("Something went wrong, please try again.")
    assert len(handler_errors(caplog)) == 2


# ----- finding 7: smaller holes -----------------------------------------------------------------


async def test_a_formula_as_a_phone_number_is_not_stored(sandbox, bot, db_path):
    u = sandbox.user(1001, "Jānis", language_code="en")
    await register_in_latvia(u, lang="en", place="Ogre")
    await u.send("/profile")
    await u.wait_for("Your details")
    await u.press("✏️ Phone")
    await u.wait_for("Would you like to share your phone number?")
    await u.share_contact("=1+2")
    await u.wait_for("Please use the button below to share your number")
    assert person(db_path, u.id)["phone"] is None
    await u.share_contact("371 2000 0000")
    await u.wait_for("your number is saved")
    assert person(db_path, u.id)["phone"] == "+37120000000"


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b\u200b", "\u202eAnna", "An\x00na", "Anna\u2066x", "...", "12345", "\x1b[31mAnna"],
    ids=["zero-width", "rtl-override", "nul", "isolate", "no-letter", "digits", "escape"],
)
async def test_names_need_a_visible_letter_and_no_control_characters(sandbox, bot, db_path, name):
    u = sandbox.user(1101, "Anna", language_code="en")
    await begin_registration(u, lang="en")
    await u.wait_for("What name should coordinators see?")
    await u.send(name)
    await u.wait_for("Please type a name of up to 64 characters, with at least one letter.")
    assert person(db_path, u.id)["name"] == "Anna"  # the Telegram name, unchanged
    await u.send("Anna Ozola")
    await u.wait_for("Name: Anna Ozola")


@pytest.mark.parametrize(
    ("lat", "lon"), [(48.8566, 2.3522), (-33.8688, 151.2093), (0.0, 0.0)], ids=["paris", "sydney", "null-island"]
)
async def test_a_location_outside_latvia_offers_the_abroad_flow(sandbox, bot, db_path, lat, lon):
    u = sandbox.user(1201, "Pēteris", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("Yes", await u.wait_for("What name should coordinators see?"))
    await u.press("In Latvia", await u.wait_for("Where are you usually based?"))
    await u.wait_for("Which municipality are you in?")
    await u.share_location(lat, lon)
    asked = await u.wait_for("That looks like it is outside Latvia — are you abroad?")
    assert person(db_path, u.id)["municipality"] is None
    await u.press("🌍 Abroad", asked)
    await u.wait_for("Which country are you in?")
    assert person(db_path, u.id)["location_kind"] == "abroad"
    assert step_of(db_path, u.id) == "country"


async def test_a_location_near_the_border_is_still_latvia(sandbox, bot, db_path):
    u = sandbox.user(1202, "Pēteris", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("Yes", await u.wait_for("What name should coordinators see?"))
    await u.press("In Latvia", await u.wait_for("Where are you usually based?"))
    await u.wait_for("Which municipality are you in?")
    await u.share_location(57.78, 26.05)  # Valga, Estonia, across the street from Valka
    await u.wait_for("The nearest municipality is")


async def test_an_edited_message_is_never_executed(sandbox, bot, db_path):
    u = await registered(sandbox, 1301)
    await u.send("hello")
    await u.wait_for("I did not understand that.")
    await u.edit_last("/forget")
    await u.wait_no_message(0.6)
    await u.send("/mydata")  # the bot is still answering, and everything is still there
    await u.wait_for(lambda m: m.document is not None)
    assert person(db_path, u.id) is not None


async def test_every_typed_cell_in_the_exports_is_neutralised(sandbox, bot, db_path, tmp_path):
    formula = '=HYPERLINK("http://x","Anna")'
    users = await seed(
        bot,
        sandbox,
        [
            Spec(1401, formula, "en", OGRE),
            Spec(1402, "@Jānis", "en", None, "GB", "-London"),
        ],
    )
    await bot.services.people.update((await bot.services.people.all())[0].id, phone="+37120000000")
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre countries=GB Pumps needed")
    await wait_delivered(bot, 1, 2)
    await coord.send("/export 1")
    doc = await coord.wait_for(lambda m: m.document is not None)
    exported = list(csv.reader(io.StringIO(doc.document[1].decode())))
    cells = [cell for row in exported[1:] for cell in row]
    assert "'" + formula in cells and "'@Jānis" in cells and "'-London" in cells and "'+37120000000" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)

    from bot.cli import export_volunteers

    out = io.StringIO()
    await export_volunteers(bot.settings, out)
    volunteer_cells = [cell for row in list(csv.reader(io.StringIO(out.getvalue())))[1:] for cell in row]
    assert "'" + formula in volunteer_cells and "'+37120000000" in volunteer_cells
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in volunteer_cells)
    assert users
