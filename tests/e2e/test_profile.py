"""After registration: /profile (changing every part), /language, /pause and /resume, /help,
and group chats, through the sandbox against a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.sandbox.scenarios import begin_registration, register_abroad, register_in_latvia
from tests.conftest import COORDINATOR_ID
from tests.e2e.test_registration import nothing_stored, person, rows, session_of, skills_of


async def open_profile(u):
    await u.send("/profile")
    return await u.wait_for(lambda m: "✏️ Name" in m.button_labels)


async def test_profile_changes_name_skills_availability_and_quiet_hours(sandbox, bot, db_path):
    u = sandbox.user(301, "Anna", language_code="en")
    await register_in_latvia(u, lang="en", place="Cēsis")

    profile = await open_profile(u)
    assert "Name: Anna" in profile.text and "Where: Cēsis Municipality, Latvia" in profile.text
    await u.press("✏️ Name", profile)
    await u.wait_for("What name should coordinators see? Is Anna right?")
    await u.send("Anna Kalniņa")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Name: Anna Kalniņa" in profile.text
    assert session_of(db_path, 301) is None

    await u.press("✏️ Skills", profile)
    skills_msg = await u.wait_for("Tap everything")
    assert "✅ First aid" in skills_msg.button_labels
    await u.press("First aid", skills_msg)
    await u.wait_for(lambda m: "First aid" in m.button_labels)
    await u.press("Animal care", skills_msg)
    await u.wait_for(lambda m: "✅ Animal care" in m.button_labels)
    await u.press("Done", skills_msg)
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Skills: Animal care" in profile.text

    await u.press("✏️ Availability", profile)
    await u.wait_for("When can you usually help?")
    await u.press("Weekends only")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Available: Weekends only" in profile.text

    await u.press("✏️ Quiet hours", profile)
    await u.wait_for("Quiet hours: when should I not disturb you")
    await u.send("23-6")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Quiet hours: 23:00–06:00" in profile.text
    p = person(db_path, 301)
    assert (p["name"], p["availability"], p["quiet_start"], p["quiet_end"], p["status"], p["municipality"]) == (
        "Anna Kalniņa",
        "weekends",
        "23:00",
        "06:00",
        "active",
        "0026000",
    )
    assert skills_of(db_path, 301) == {"animal_care"}
    await u.press("✔️ Done", profile)
    await u.wait_for_edit(profile, lambda m: not m.buttons)
    assert session_of(db_path, 301) is None


async def test_profile_changes_phone_and_place_from_latvia_to_abroad_and_back(sandbox, bot, db_path):
    u = sandbox.user(306, "Ģirts", language_code="en")
    await register_in_latvia(u, lang="en", place="Cēsis")
    profile = await open_profile(u)
    await u.press("✏️ Phone", profile)
    await u.wait_for("phone number")
    await u.share_contact("+371 2000 0003")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Phone: +37120000003 (seen only by coordinators)" in profile.text
    assert person(db_path, 306)["phone"] == "+37120000003"
    await u.press("✏️ Phone", profile)
    await u.wait_for("phone number")
    assert ["Skip", "Remove my number"] in u.reply_keyboard
    await u.tap_reply_button("Remove my number")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Phone: not shared" in profile.text

    # from Latvia to abroad
    await u.press("✏️ Place", profile)
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    await u.press("Norway")
    await u.wait_for("Which city or town")
    await u.send("Oslo")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Where: Oslo, Norway (time zone: Oslo)" in profile.text

    p = person(db_path, 306)
    assert (p["name"], p["location_kind"], p["municipality"], p["country"], p["city"], p["timezone"]) == (
        "Ģirts",
        "abroad",
        None,
        "NO",
        "Oslo",
        "Europe/Oslo",
    )
    assert (p["phone"], p["status"]) == (None, "active")

    # and back to Latvia
    await u.press("✏️ Place", profile)
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    await u.wait_for("Which municipality")
    await u.send("Rīga")
    profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Where: Riga, Latvia" in profile.text
    p = person(db_path, 306)
    assert (p["location_kind"], p["municipality"], p["country"], p["city"], p["timezone"]) == (
        "lv",
        "0001000",
        "LV",
        None,
        "Europe/Riga",
    )
    assert session_of(db_path, 306) is None


async def test_moving_from_abroad_to_latvia_leaves_no_old_city_whichever_way(sandbox, bot, db_path):
    """ "In Latvia" tapped, or Latvia named as the country: the same move (no city, Latvian time)."""

    def place(user_id: int) -> tuple:
        p = person(db_path, user_id)
        return (p["location_kind"], p["country"], p["city"], p["timezone"])

    for user_id, how in ((311, "tap"), (312, "country")):
        u = sandbox.user(user_id, "Inese", language_code="en")
        await register_abroad(u, country="IE", city="Dublin")
        assert place(user_id) == ("abroad", "IE", "Dublin", "Europe/Dublin")
        profile = await open_profile(u)
        await u.press("✏️ Place", profile)
        await u.wait_for("Where are you usually based?")
        if how == "tap":
            await u.press("🇱🇻 In Latvia")
            await u.wait_for("Which municipality")
        else:
            await u.press("🌍 Abroad")
            await u.wait_for("Which country are you in?")
            await u.send("Latvia")
            await u.wait_for(lambda m: m.text.startswith("Latvia it is, then.") and "Which municipality" in m.text)
        assert place(user_id) == ("lv", "LV", None, "Europe/Riga")
        await u.send("Cēsis")
        profile = await u.wait_for(lambda m: "✏️ Name" in m.button_labels)
        assert "Where: Cēsis Municipality, Latvia" in profile.text
        assert place(user_id) == ("lv", "LV", None, "Europe/Riga")
        assert person(db_path, user_id)["municipality"] == "0026000"


async def test_cancelling_a_change_of_place_keeps_the_old_place(sandbox, bot, db_path):
    u = sandbox.user(302, "Oskars", language_code="en")
    await register_in_latvia(u, lang="en", place="Cēsis")
    before = person(db_path, 302)
    profile = await open_profile(u)
    await u.press("✏️ Place", profile)
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    await u.press("Norway")
    await u.wait_for("Which city or town")
    await u.send("/cancel")
    await u.wait_for("Cancelled. Your details are unchanged.")
    assert person(db_path, 302) == before
    assert session_of(db_path, 302) is None
    profile = await open_profile(u)
    assert "Where: Cēsis Municipality, Latvia" in profile.text

    # leaving the change half-way with /profile keeps the old place too
    await u.press("✏️ Place", profile)
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    profile = await open_profile(u)
    assert "Where: Cēsis Municipality, Latvia" in profile.text
    assert person(db_path, 302) == before


async def test_changing_the_place_from_the_summary_before_confirming(sandbox, bot, db_path):
    u = sandbox.user(305, "Guna", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    await u.wait_for("Which municipality")
    await u.send("Tukums")
    await u.wait_for("Tap everything")
    await u.press("First aid")
    await u.wait_for(lambda m: "✅ First aid" in m.button_labels)
    await u.press("Done")
    await u.wait_for("When can you usually help?")
    await u.press("Any time")
    await u.wait_for("Quiet hours:")
    await u.press("No quiet hours")
    await u.wait_for("phone number")
    await u.tap_reply_button("Skip")
    summary = await u.wait_for("Is everything right?")
    await u.press("✏️ Place", summary)
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    await u.send("Sweden")
    await u.wait_for("Which city or town")
    await u.send("Göteborg")
    summary = await u.wait_for("Is everything right?")
    assert "Where: Göteborg, Sweden" in summary.text
    await u.press("✅ Confirm", summary)
    await u.wait_for("🎉 You are registered.")
    p = person(db_path, 305)
    assert (p["status"], p["location_kind"], p["country"], p["city"], p["municipality"], p["timezone"]) == (
        "active",
        "abroad",
        "SE",
        "Göteborg",
        None,
        "Europe/Stockholm",
    )


async def test_language_command_switches_the_interface(sandbox, bot, db_path):
    u = sandbox.user(310, "Emīls", language_code="en")
    await register_in_latvia(u, lang="en", place="Cēsis")
    await u.send("/language")
    await u.wait_for("Hello! Choose your language.")
    await u.press("Latviešu")
    await u.wait_for("Valoda: Latviešu")
    assert person(db_path, 310)["language"] == "lv"
    await u.send("/profile")
    profile = await u.wait_for("Cēsu novads")
    assert "Valoda: Latviešu" in profile.text and "Pirmā palīdzība" in profile.text
    await u.press("prof:language", profile)
    await u.wait_for("Sveiki! Izvēlieties valodu.")
    await u.press("English")
    await u.wait_for("Language: English")
    assert person(db_path, 310)["language"] == "en"
    await u.send("/help")
    await u.wait_for("What I can do")


async def test_language_switch_during_registration_repeats_the_step(sandbox, bot, db_path):
    u = sandbox.user(311, "Alise", language_code="lv")
    await begin_registration(u, lang="lv")
    await u.press("✅ Jā")
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.send("/language")
    await u.wait_for("Sveiki! Izvēlieties valodu.")
    await u.press("English")
    await u.wait_for("Where are you usually based?")
    p = person(db_path, 311)
    assert (p["language"], p["status"]) == ("en", "registering")


async def test_pause_and_resume_in_latvian(sandbox, bot, db_path):
    u = sandbox.user(320, "Dace", language_code="lv")
    await register_in_latvia(u, lang="lv", place="Cēsis")
    await u.send("/pause")
    await u.wait_for(lambda m: "pause:open" in [d for row in m.buttons for _, d in row])
    await u.press("pause:open")
    await u.wait_for("⏸ Izsaukumi apturēti")
    p = person(db_path, 320)
    assert (p["paused"], p["paused_until"]) == (1, None)
    await u.send("/resume")
    await u.wait_for("▶️")
    p = person(db_path, 320)
    assert (p["paused"], p["paused_until"]) == (0, None)


async def test_pause_for_a_week_until_a_date_and_resume(sandbox, bot, db_path):
    u = sandbox.user(321, "Roberts", language_code="en")
    await u.send("/pause")
    await u.wait_for("You are not registered yet.")
    await register_in_latvia(u, lang="en", place="Cēsis")

    await u.send("/pause")
    await u.wait_for("Pause alerts for how long?")
    before = datetime.now(ZoneInfo("Europe/Riga")).date()
    await u.press("One week")
    await u.wait_for("⏸ Alerts paused until")
    after = datetime.now(ZoneInfo("Europe/Riga")).date()  # Riga's midnight may pass meanwhile
    week = person(db_path, 321)["paused_until"]
    assert week in {(before + timedelta(days=7)).isoformat(), (after + timedelta(days=7)).isoformat()}
    profile = await open_profile(u)
    assert "⏸ Alerts paused until" in profile.text
    await u.press("✔️ Done", profile)

    await u.send("/pause")
    await u.wait_for("Pause alerts for how long?")
    await u.press("Until a date…")
    await u.wait_for("Until which date? Type it like 24.12.2026.")
    for bad in (f"31.02.{after.year + 3}", "01.01.2000", "soon"):
        await u.send(bad)
        await u.wait_for("Please type a date from today on, like 24.12.2026, or /cancel.")
    assert person(db_path, 321)["paused_until"] == week
    later = after.year + 3  # dates that stay in the future whenever the test runs
    await u.send(f"24.12.{later}")
    await u.wait_for(lambda m: "⏸ Alerts paused until" in m.text and str(later) in m.text)
    p = person(db_path, 321)
    assert (p["paused"], p["paused_until"]) == (1, f"{later}-12-24")
    assert session_of(db_path, 321) is None

    await u.send(f"/pause {later + 1}-03-15")
    await u.wait_for(lambda m: "⏸ Alerts paused until" in m.text and str(later + 1) in m.text)
    assert person(db_path, 321)["paused_until"] == f"{later + 1}-03-15"

    await u.send("/resume")
    await u.wait_for("▶️ Welcome back! You will receive alerts again.")
    p = person(db_path, 321)
    assert (p["paused"], p["paused_until"]) == (0, None)

    await u.send("/pause")
    await u.wait_for("Pause alerts for how long?")
    await u.press("Until a date…")
    await u.wait_for("Until which date?")
    await u.send("/cancel")
    await u.wait_for("Cancelled.")
    assert person(db_path, 321)["paused"] == 0 and session_of(db_path, 321) is None
    await u.send("hello")
    await u.wait_for("I did not understand that. /help lists what I can do.")


async def test_help_lists_coordinator_commands_only_for_coordinators(sandbox, bot, db_path):
    volunteer = sandbox.user(330, "Inese", language_code="en")
    await volunteer.send("/help")
    text = (await volunteer.wait_for("What I can do")).text
    for command in ("/start", "/profile", "/language", "/pause", "/resume", "/mydata", "/forget", "/cancel"):
        assert command in text
    assert "For coordinators" not in text and "/alert" not in text

    coordinator = sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en")
    await coordinator.send("/help")
    text = (await coordinator.wait_for("For coordinators")).text
    for command in (
        "/alert",
        "/alerts",
        "/status ID",
        "/roster ID",
        "/remind ID",
        "/followup ID TEXT",
        "/close",
        "/export",
    ):
        assert command in text
    assert "/start volunteer" in text  # not registered: how to receive alerts too

    lv = sandbox.user(331, "Laura", language_code="lv")
    await lv.send("/help")
    text = (await lv.wait_for("/profile")).text
    assert "/alert " not in text and "/pause" in text


async def test_group_chat_asks_to_write_privately_and_registers_no_one(sandbox, bot, db_path):
    group = sandbox.group(-1001, "Brīvprātīgie")
    u = sandbox.user(340, "Marta", language_code="lv", started=False)
    for command in ("/start", "/start@sauciens_bot", "/profile", "/help"):
        await u.send_in_group(group, command)
        reply = await group.wait_for("Lūdzu, rakstiet man privāti")
        assert reply.buttons and reply.buttons[0][0][1] == "https://t.me/sauciens_bot?start=join"
    en = sandbox.user(341, "Mark", language_code="en", started=False)
    await en.send_in_group(group, "/start")
    await group.wait_for("Please write to me privately")
    replies = len(group.messages)
    await u.send_in_group(group, "Sveiki, es gribu palīdzēt")
    await sandbox.wait_idle(quiet=0.3)
    assert len(group.messages) == replies  # ordinary talk in the group is left alone
    assert nothing_stored(db_path)
    assert rows(db_path, "SELECT count(*) AS n FROM people")[0]["n"] == 0
    assert u.chat is None  # no private chat was opened on their behalf


async def test_start_when_registered_and_unknown_commands(sandbox, bot, db_path):
    u = sandbox.user(350, "Pauls", language_code="en")
    await u.send("/profile")
    await u.wait_for("You are not registered yet. Send /start to join.")
    await u.send("hello")
    await u.wait_for("Send /start to join.")
    await register_in_latvia(u, lang="en", place="Cēsis")
    await u.send("/start")
    await u.wait_for("Welcome back, Pauls!")
    await u.send("/frobnicate")
    await u.wait_for("I don't know that command.")
    await u.send("/cancel")
    await u.wait_for("There is nothing to cancel.")
    assert person(db_path, 350)["status"] == "active"


async def test_a_date_in_latvian_is_not_followed_by_a_second_full_stop(sandbox, bot, db_path):
    u = sandbox.user(322, "Roberts", language_code="lv")
    await register_in_latvia(u, lang="lv", place="Cēsis")
    later = datetime.now(ZoneInfo("Europe/Riga")).year + 3  # stays in the future whenever the test runs
    await u.send(f"/pause 24.12.{later}")
    paused = await u.wait_for("⏸ Izsaukumi apturēti līdz")
    assert f"{later}. g. 24. dec." in paused.text and ".." not in paused.text
