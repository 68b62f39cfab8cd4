"""Registration through the sandbox: the real bot, PTB's network stack, a real SQLite file.

Latvian flows expect the Latvian wordings of the catalog; English flows check the hints."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.domain.skills import skill_groups
from bot.sandbox.scenarios import begin_registration, register_in_latvia
from bot.sandbox.users import SimMessage, SimUser
from tests.e2e.test_alerts import coordinator

PERSON_COLUMNS = (
    "status, language, name, location_kind, municipality, country, city, timezone, availability,"
    " quiet_start, quiet_end, phone, organisation, paused, paused_until, source"
)


def rows(db_path: Path, sql: str, *args: object) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]


def person_or_none(db_path: Path, user_id: int) -> dict[str, Any] | None:
    found = rows(db_path, f"SELECT id, consent_at, {PERSON_COLUMNS} FROM people WHERE external_id = ?", str(user_id))
    return found[0] if found else None


def person(db_path: Path, user_id: int) -> dict[str, Any]:
    """The stored row of the person with Telegram id ``user_id``, who must exist."""
    found = person_or_none(db_path, user_id)
    assert found is not None, f"no person with external id {user_id} is stored"
    return found


def skills_of(db_path: Path, user_id: int) -> set[str]:
    return {
        r["skill"]
        for r in rows(
            db_path,
            "SELECT skill FROM person_skills s JOIN people p ON p.id = s.person_id WHERE p.external_id = ?",
            str(user_id),
        )
    }


def session_of(db_path: Path, user_id: int) -> dict[str, Any] | None:
    found = rows(db_path, "SELECT flow, step, data FROM sessions WHERE external_id = ?", str(user_id))
    return found[0] if found else None


def step_of(db_path: Path, user_id: int) -> str | None:
    """The step of the person's session, None without one."""
    session = session_of(db_path, user_id)
    return session["step"] if session is not None else None


def nothing_stored(db_path: Path) -> bool:
    if not db_path.exists():
        return True
    return (
        not rows(db_path, "SELECT id FROM people")
        and not rows(db_path, "SELECT step FROM sessions")
        and not rows(db_path, "SELECT skill FROM person_skills")
    )


def data_of(m: SimMessage) -> list[str]:
    return [d for row in m.buttons for _, d in row if d]


def labels_with(prefix: str) -> Callable[[SimMessage], bool]:
    return lambda m: any(d.startswith(prefix) for d in data_of(m))


def ticked(label: str) -> Callable[[SimMessage], bool]:
    """A wait_for predicate: a button is labelled ``label`` with a ✅ in front."""
    return lambda m: ("✅ " + label) in m.button_labels


async def choose_skills(u: SimUser, *labels: str) -> None:
    for label in labels:
        await u.press(label)
        await u.wait_for(ticked(label))


# ----- Latvia -----------------------------------------------------------------------------


@pytest.mark.parametrize("telegram_mode", ["polling", "webhook"])
async def test_register_in_latvia_in_english(sandbox, bot, db_path):
    u = sandbox.user(101, "Anna", "Bērziņa", language_code="en")
    await register_in_latvia(u, lang="en", place="cesis", skills=("First aid", "Driver with own car"))
    summary = u.last.text
    assert "Anna Bērziņa" in summary
    assert "Cēsis Municipality, Latvia" in summary
    assert "First aid" in summary and "Driver with own car" in summary
    p = person(db_path, 101)
    assert p is not None
    assert (p["status"], p["language"], p["location_kind"], p["municipality"], p["country"], p["timezone"]) == (
        "active",
        "en",
        "lv",
        "0026000",
        "LV",
        "Europe/Riga",
    )
    assert skills_of(db_path, 101) == {"first_aid", "driver"}
    assert session_of(db_path, 101) is None


@pytest.mark.parametrize(
    ("lang", "typed", "atvk", "shown"),
    [
        ("lv", "cesis", "0026000", "Cēsu novads"),
        ("en", "Cēsu novads", "0026000", "Cēsis Municipality"),
        ("lv", "Valmiera", "0054000", "Valmieras novads"),
        ("en", "Varakļāni", "0038001", "Madona Municipality"),  # merged into Madonas novads in 2025
    ],
)
async def test_typed_municipality(sandbox, bot, db_path, lang, typed, atvk, shown):
    u = sandbox.user(110, "Ilze", language_code=lang)
    await begin_registration(u, lang=lang)
    await u.press("✅ Yes" if lang == "en" else "✅ Jā")
    await u.wait_for("Where are you usually based?" if lang == "en" else "Kur jūs parasti atrodaties?")
    await u.press("🇱🇻 In Latvia" if lang == "en" else "🇱🇻 Latvijā")
    question = await u.wait_for("municipality" if lang == "en" else "pašvaldīb")
    assert labels_with("reg:muni:")(question)
    await u.send(typed)
    confirmed = await u.wait_for(f"📍 {shown}")
    assert confirmed.removes_keyboard  # the "share my location" keyboard goes away
    await u.wait_for("Tap everything" if lang == "en" else "Atzīmējiet")
    p = person(db_path, 110)
    assert (p["location_kind"], p["municipality"], p["country"], p["city"], p["timezone"]) == (
        "lv",
        atvk,
        "LV",
        None,
        "Europe/Riga",
    )
    assert step_of(db_path, 110) == "skills"


@pytest.mark.parametrize("telegram_mode", ["polling", "webhook"])
async def test_whole_registration_in_latvian_with_paged_list_contact_and_typed_quiet_hours(sandbox, bot, db_path):
    u = sandbox.user(120, "Jānis", language_code="lv")
    await u.send("/start")
    hello = await u.wait_for("Sveiki! Izvēlieties valodu.")
    assert hello.button_labels[0] == "Latviešu"  # the person's Telegram language first
    await u.press("Latviešu")
    await u.wait_for("Vai piekrītat?")
    await u.press("✅ Piekrītu")
    asked = await u.wait_for("Kādu vārdu redzēs koordinatori?")
    assert "Jānis" in asked.text and "✅ Jā" in asked.button_labels
    await u.send("  Jānis   Ozols ")
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.press("🇱🇻 Latvijā")
    listing = await u.wait_for("pašvaldīb")
    assert listing.button_labels[:2] == ["Aizkraukles novads", "Alūksnes novads"]
    assert "Valmieras novads" not in listing.button_labels
    await u.wait_for(lambda m: bool(m.reply_keyboard))
    assert "📍" in str(u.reply_keyboard)  # share-location button
    for page in (2, 3, 4):
        await u.press("▶", listing)
        await u.wait_for_edit(listing, lambda m, p=page: f"{p}/5" in m.button_labels)
    assert "Valmieras novads" in listing.button_labels
    await u.press("Valmieras novads", listing)
    await u.wait_for("Atzīmējiet")
    await choose_skills(u, "Pirmā palīdzība", "Autovadītājs ar savu auto")
    await u.press("Gatavs")
    await u.wait_for("Kad jūs parasti varat palīdzēt?")
    await u.press("reg:avail:weekdays")
    await u.wait_for("Klusuma stundas:")
    await u.send("22-7")
    await u.wait_for("tālruņa numur")
    assert any("Izlaist" in row for row in u.reply_keyboard)
    await u.share_contact("+37120000001", own=False)  # someone else's number is refused
    await u.wait_for(lambda m: "Izlaist" in m.text)
    assert person(db_path, 120)["phone"] is None
    await u.share_contact("37120000001")
    summary = await u.wait_for("Vai viss ir pareizi?")
    for part in (
        "Jānis Ozols",
        "Valmieras novads",
        "Pirmā palīdzība",
        "Autovadītājs ar savu auto",
        "22:00–07:00",
        "+37120000001",
    ):
        assert part in summary.text
    await u.press("✅ Apstiprināt")
    await u.wait_for("🎉 Reģistrācija pabeigta.")

    p = person(db_path, 120)
    assert p.pop("consent_at") is not None
    p.pop("id")
    assert p == {
        "status": "active",
        "language": "lv",
        "name": "Jānis Ozols",
        "location_kind": "lv",
        "municipality": "0054000",
        "country": "LV",
        "city": None,
        "timezone": "Europe/Riga",
        "availability": "weekdays",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "phone": "+37120000001",
        "organisation": None,
        "paused": 0,
        "paused_until": None,
        "source": "chat",
    }
    assert skills_of(db_path, 120) == {"first_aid", "driver"}
    assert session_of(db_path, 120) is None


async def test_shared_location_suggests_the_nearest_municipality(sandbox, bot, db_path):
    u = sandbox.user(130, "Pēteris", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    await u.wait_for("Which municipality")
    await u.wait_for(lambda m: bool(m.reply_keyboard))
    assert u.reply_keyboard == [["📍 Share my location"]]
    await u.share_location(57.312, 25.271)  # Cēsis
    offer = await u.wait_for("The nearest municipality is Cēsis Municipality. Is that right?")
    await u.press("Choose from the list", offer)  # not right: the list instead
    await u.wait_for_edit(offer, lambda m: "1/5" in m.button_labels)
    assert person(db_path, 130)["municipality"] is None
    await u.share_location(57.541, 25.424)  # Valmiera
    offer = await u.wait_for("The nearest municipality is Valmiera Municipality")
    await u.press("✅ Yes", offer)
    await u.wait_for("Tap everything")
    p = person(db_path, 130)
    assert (p["location_kind"], p["municipality"], p["country"]) == ("lv", "0054000", "LV")


# ----- abroad -----------------------------------------------------------------------------


async def test_register_abroad_in_english_one_zone_country_from_buttons(sandbox, bot, db_path):
    u = sandbox.user(140, "Siobhan", "Murphy", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    countries = await u.wait_for("Which country are you in?")
    assert countries.button_labels[:3] == ["United Kingdom", "Ireland", "Germany"]
    await u.press("Ireland", countries)
    await u.wait_for("Which city or town")
    await u.send("Dublin")
    skills_msg = await u.wait_for("Tap everything")
    assert not any("Which time zone" in m.text for m in u.messages)  # Ireland has one zone
    skill_labels = [label for label in skills_msg.button_labels if not label.startswith(("—", "Done"))]
    remote = {
        "Psychological first aid",
        "Hosting evacuees at home",
        "Collecting aid to send to Latvia",
        "Hotline and phone check-ins",
        "Translation and interpreting",
        "IT and radio communications",
        "Media and advocacy abroad",
        "Countering disinformation",
        "Fundraising and donations",
        "Coordinating volunteers",
        "Helping evacuees abroad with papers",
        "Legal aid",
    }
    assert remote <= set(skill_labels)
    # Done at the top and at the bottom; each group's heading once, its skills after it, those
    # possible from abroad first; two skills to a row where both labels are short
    rows = [[label for label, _ in row] for row in skills_msg.buttons]
    assert rows[0] == rows[-1] == ["Done (0 chosen)"]
    headings = [row[0] for row in rows if row[0].startswith("—")]
    assert len(headings) == len(set(headings)) == len(skill_groups())
    for row in rows[1:-1]:
        if len(row) == 2:
            assert all(len(label) <= 18 for label in row), row
    groups: dict[str, list[str]] = {}
    group = ""
    for row in rows[1:-1]:
        if row[0].startswith("—"):
            group = row[0]
        else:
            groups.setdefault(group, []).extend(row)
    for labels in groups.values():
        kinds = [label in remote for label in labels]
        assert kinds == sorted(kinds, reverse=True), labels  # remote-capable first in each group
    await choose_skills(u, "Translation and interpreting")
    await u.press("Done")
    await u.wait_for("When can you usually help?")
    await u.press("Evenings and weekends")
    await u.wait_for("Quiet hours:")
    await u.press("22:00–07:00")
    await u.wait_for("phone number")
    await u.tap_reply_button("Skip")
    summary = await u.wait_for("Is everything right?")
    assert "Where: Dublin, Ireland (time zone: Dublin)" in summary.text
    assert "Quiet hours: 22:00–07:00" in summary.text and "Phone: not shared" in summary.text
    await u.press("✅ Confirm")
    await u.wait_for("🎉 You are registered.")
    p = person(db_path, 140)
    assert p.pop("consent_at") is not None
    p.pop("id")
    assert p == {
        "status": "active",
        "language": "en",
        "name": "Siobhan Murphy",
        "location_kind": "abroad",
        "municipality": None,
        "country": "IE",
        "city": "Dublin",
        "timezone": "Europe/Dublin",
        "availability": "evenings_weekends",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "phone": None,
        "organisation": None,
        "paused": 0,
        "paused_until": None,
        "source": "chat",
    }
    assert skills_of(db_path, 140) == {"translation"}


@pytest.mark.parametrize(("lang", "typed", "shown"), [("lv", "Vācija", "Vācija"), ("en", "Germany", "Germany")])
async def test_country_typed(sandbox, bot, db_path, lang, typed, shown):
    en = lang == "en"
    u = sandbox.user(150, "Līga", language_code=lang)
    await begin_registration(u, lang=lang)
    await u.press("✅ Yes" if en else "✅ Jā")
    await u.wait_for("Where are you usually based?" if en else "Kur jūs parasti atrodaties?")
    await u.press("🌍 Abroad" if en else "🌍 Ārzemēs")
    await u.wait_for(labels_with("reg:country:"))
    await u.send(typed)
    await u.wait_for(shown)
    await u.send("Berlīne")
    await u.wait_for("Tap everything" if en else "Atzīmējiet")
    p = person(db_path, 150)
    assert (p["location_kind"], p["country"], p["city"], p["timezone"], p["municipality"]) == (
        "abroad",
        "DE",
        "Berlīne",
        "Europe/Berlin",
        None,
    )


@pytest.mark.parametrize(
    ("lang", "city", "zone"),
    [("en", "Chicago", "America/Chicago"), ("lv", "Ņujorka", "America/New_York"), ("en", "toronto", None)],
)
async def test_a_typed_city_cldr_knows_sets_the_time_zone_without_asking(sandbox, bot, db_path, lang, city, zone):
    en = lang == "en"
    u = sandbox.user(161, "Mārtiņš", language_code=lang)
    await begin_registration(u, lang=lang)
    await u.press("reg:name_ok")
    await u.wait_for(labels_with("reg:where:"))
    await u.press("reg:where:abroad")
    await u.wait_for(labels_with("reg:country:"))
    if zone is None:
        await u.send("Canada")
    else:
        await u.press("reg:country:US")
    await u.wait_for("Which city" if en else "Kurā pilsētā")
    await u.send(city)
    await u.wait_for("Tap everything" if en else "Atzīmējiet")
    assert not any(labels_with("reg:tz:")(m) for m in u.messages)
    p = person(db_path, 161)
    assert (p["city"], p["timezone"]) == (city, zone or "America/Toronto")


async def test_multi_zone_country_offers_a_few_zones_with_utc_offsets(sandbox, bot, db_path):
    u = sandbox.user(160, "Mārtiņš", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("reg:name_ok")
    await u.wait_for(labels_with("reg:where:"))
    await u.press("reg:where:abroad")
    await u.wait_for(labels_with("reg:country:"))
    await u.press("reg:country:US")
    await u.wait_for("United States")
    await u.send("Springfield")  # no CLDR city: the zone is asked
    zones = await u.wait_for(labels_with("reg:tz:"))
    assert zones.button_labels == [
        "UTC−5 New York",
        "UTC−6 Chicago",
        "UTC−8 Los Angeles",
        "UTC−7 Denver",
        "UTC−7 Phoenix",
        "UTC−9 Anchorage",
        "UTC−10 Honolulu",
        "UTC−10 Adak",
    ]
    await u.press("UTC−6 Chicago", zones)
    await u.wait_for("Tap everything")
    p = person(db_path, 160)
    assert (p["country"], p["city"], p["timezone"]) == ("US", "Springfield", "America/Chicago")


# ----- consent, /cancel, restart ----------------------------------------------------------


async def test_nothing_is_stored_before_consent_and_refusing_keeps_nothing(sandbox, bot, db_path):
    u = sandbox.user(170, "Rūta", language_code="lv")
    await u.send("/start")
    await u.wait_for("Sveiki! Izvēlieties valodu.")
    await u.send_sticker()  # the hint names the open question, not /start
    assert (await u.wait_for("valodu ar pogām")).text == "Lūdzu, izvēlieties valodu ar pogām augstāk."
    await u.send("jā")
    await u.wait_for("Lūdzu, izvēlieties valodu ar pogām augstāk.")
    await u.press("Latviešu")
    consent = await u.wait_for("Vai piekrītat?")
    assert consent.button_labels == ["✅ Piekrītu", "Nē, paldies"]
    assert nothing_stored(db_path)
    await u.send("jā")  # typing before agreeing stores nothing either
    assert (await u.wait_for("piekrītat")).text == "Lūdzu, atbildiet ar pogām augstāk: vai piekrītat?"
    await u.send_sticker()
    await u.wait_for("Lūdzu, atbildiet ar pogām augstāk: vai piekrītat?")
    assert nothing_stored(db_path)
    await u.press("Nē, paldies")
    await u.wait_for_edit(consent, lambda m: not m.buttons)
    assert nothing_stored(db_path)
    await u.send("jā")  # the question is answered: back to the general hint
    await u.wait_for("/start")


async def test_the_consent_hint_is_in_the_chosen_language(sandbox, bot, db_path):
    u = sandbox.user(171, "Mary", language_code="en")
    await u.send("/start")
    await u.wait_for("Choose your language.")
    await u.send("yes")
    await u.wait_for("Please choose your language with the buttons above.")
    await u.press("Latviešu")
    await u.wait_for("Vai piekrītat?")
    await u.send("yes")
    await u.wait_for("Lūdzu, atbildiet ar pogām augstāk: vai piekrītat?")
    await u.press("✅ Piekrītu")
    await u.wait_for("Kādu vārdu redzēs koordinatori?")


async def test_cancel_mid_registration_removes_everything(sandbox, bot, db_path):
    u = sandbox.user(180, "Kārlis", language_code="lv")
    await begin_registration(u, lang="lv")
    await u.press("✅ Jā")
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.press("🇱🇻 Latvijā")
    await u.wait_for("pašvaldīb")
    await u.send("Ogre")
    await u.wait_for("Atzīmējiet")
    await choose_skills(u, "Pirmā palīdzība")
    assert person_or_none(db_path, 180) is not None and skills_of(db_path, 180) == {"first_aid"}
    await u.send("/cancel")
    done = await u.wait_for("Reģistrācija atcelta.")
    assert done.removes_keyboard
    assert nothing_stored(db_path)
    await u.send("/start")  # a fresh start
    await u.wait_for("Sveiki! Izvēlieties valodu.")
    await u.send("/cancel")
    await u.wait_for(lambda m: m.text and "Reģistrācija atcelta." not in m.text)
    assert nothing_stored(db_path)


@pytest.mark.parametrize("telegram_mode", ["polling", "webhook"])
async def test_restart_mid_registration_continues_at_the_same_step(sandbox, bot, start_bot, db_path):
    u = sandbox.user(190, "Zane", language_code="en")
    await begin_registration(u, lang="en")
    await u.send("Zane Liepa")
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    await u.wait_for("Which municipality")
    await u.send("Sigulda")
    skills_msg = await u.wait_for("Tap everything")
    await choose_skills(u, "First aid")

    await bot.stop()
    bot = await start_bot()
    # a button of the keyboard shown before the restart still works
    await u.press("Driver with own car", skills_msg)
    await u.wait_for(lambda m: "✅ Driver with own car" in m.button_labels)
    await u.press("Done")
    await u.wait_for("When can you usually help?")
    await u.press("Any time")
    await u.wait_for("Quiet hours:")

    await bot.stop()
    bot = await start_bot()
    await u.send("/start")  # asks the same step again
    again = await u.wait_for("Let's continue where you left off.")
    assert "Quiet hours:" in again.text
    await u.send("23-6")
    await u.wait_for("phone number")

    await bot.stop()
    bot = await start_bot()
    await u.tap_reply_button("Skip")
    summary = await u.wait_for("Is everything right?")
    for part in ("Zane Liepa", "Sigulda Municipality", "First aid", "Driver with own car", "Any time", "23:00–06:00"):
        assert part in summary.text
    await u.press("✅ Confirm")
    await u.wait_for("🎉 You are registered.")
    p = person(db_path, 190)
    assert (p["status"], p["name"], p["municipality"], p["availability"], p["quiet_start"], p["quiet_end"]) == (
        "active",
        "Zane Liepa",
        "0048000",
        "any",
        "23:00",
        "06:00",
    )
    assert skills_of(db_path, 190) == {"first_aid", "driver"}


# ----- bad input at every step ----------------------------------------------------------


async def test_bad_input_from_name_to_municipality_gets_hints_and_the_step_continues(sandbox, bot, db_path):
    u = sandbox.user(200, "Bads", language_code="en")
    name_question = await begin_registration(u, lang="en")
    await u.send("   ")
    await u.wait_for("Please type a name of up to 64 characters")
    await u.send("x" * 65)
    await u.wait_for("Please type a name of up to 64 characters")
    await u.share_location(56.95, 24.1)  # not text
    await u.wait_for("Please answer with the buttons above")
    await u.wait_for("What name should coordinators see?")
    assert person(db_path, 200)["name"] == "Bads"
    await u.send("Ann")
    await u.wait_for("Where are you usually based?")

    await u.send("sometimes")  # neither a place nor a button
    hint = await u.wait_for("Please answer with the buttons above")
    assert "Where are you usually based?" in hint.text  # the question again, in the same message
    assert hint.button_labels == ["🇱🇻 In Latvia", "🌍 Abroad"]
    await u.send_sticker()
    await u.wait_for(lambda m: "Please answer with the buttons above" in m.text and "usually based" in m.text)
    await u.send("Latvia")  # typed at the button step: in Latvia, which municipality?
    first_list = await u.wait_for("Which municipality")
    assert first_list.text.startswith("🇱🇻 In Latvia\n\n")
    await u.send("xyzzy")
    unknown = await u.wait_for("I don't know a municipality called “xyzzy”")
    assert labels_with("reg:muni:")(unknown)  # the list again
    await u.send("Valm")
    suggestions = await u.wait_for("Did you mean one of these?")
    assert suggestions.button_labels == ["Valmiera Municipality", "Valka Municipality"]
    await u.press("Valmiera Municipality", suggestions)
    await u.wait_for("Tap everything")

    # stale buttons from earlier steps do nothing
    stale = await u.press("Cēsis Municipality", first_list)
    assert (await u.wait_answered(stale))["text"] == "This button is no longer active."
    stale = await u.press("reg:name_ok", name_question)
    assert (await u.wait_answered(stale))["text"] == "This button is no longer active."
    p = person(db_path, 200)
    assert (p["name"], p["municipality"]) == ("Ann", "0054000")


async def test_bad_input_from_skills_to_the_summary_gets_hints_and_the_step_continues(sandbox, bot, db_path):
    u = sandbox.user(200, "Ann", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    await u.wait_for("Which municipality")
    await u.send("Valmiera")
    await u.wait_for("Tap everything")
    empty = await u.press("Done")
    answer = await u.wait_answered(empty)
    assert answer == {"text": "Choose at least one skill first.", "show_alert": True, "url": None}
    await u.send("first aid")
    await u.wait_for("Please answer with the buttons above")
    await u.wait_for("Tap everything")
    await choose_skills(u, "First aid")
    await u.press("Done")
    await u.wait_for("When can you usually help?")
    await u.send("always")
    await u.wait_for("Please answer with the buttons above")
    await u.press("Any time")
    quiet_question = await u.wait_for("Quiet hours:")

    for bad in ("25-7", "late", "22-22"):
        await u.send(bad)
        await u.wait_for("Please write quiet hours as from-to, e.g. 22-7")
    await u.share_contact("+37120000002")  # not text at a text step
    await u.wait_for("Please answer with the buttons above")
    assert person(db_path, 200)["phone"] is None
    await u.send("23:30-6")
    await u.wait_for("Quiet hours: 23:30–06:00")
    await u.wait_for("phone number")

    for bad in ("call me", "2000", "+371 2000 000 000 000 000"):
        await u.send(bad)
        await u.wait_for("That does not look like a phone number. Type it with the country code")
    await u.share_contact("+37129999999", own=False)
    await u.wait_for("Please share your own number with the button below, or tap Skip.")
    assert person(db_path, 200)["phone"] is None
    await u.share_contact("37120000002")
    await u.wait_for("Thank you, your number is saved.")
    await u.wait_for("Is everything right?")

    stale = await u.press("No quiet hours", quiet_question)
    assert (await u.wait_answered(stale))["text"] == "This button is no longer active."
    await u.press("✅ Confirm")
    await u.wait_for("🎉 You are registered.")
    p = person(db_path, 200)
    assert (p["status"], p["name"], p["municipality"], p["quiet_start"], p["quiet_end"], p["phone"]) == (
        "active",
        "Ann",
        "0054000",
        "23:30",
        "06:00",
        "+37120000002",
    )


async def test_bad_input_abroad_gets_hints_and_the_step_continues(sandbox, bot, db_path):
    u = sandbox.user(210, "Ivars", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    await u.send("Narnia")
    await u.wait_for("I don't know a country called “Narnia”")
    await u.send("Austr")
    suggestions = await u.wait_for("Did you mean one of these?")
    assert {"Austria", "Australia"} <= set(suggestions.button_labels)
    await u.press("Australia", suggestions)
    await u.wait_for("Which city or town")
    for bad in ("x" * 65, "12345"):
        await u.send(bad)
        await u.wait_for("Please type the name of your city or town (up to 64 characters).")
    assert person(db_path, 210)["city"] is None
    await u.send("Fremantle")
    zones = await u.wait_for("Which time zone are you in?")
    await u.send("AWST")
    await u.wait_for("Please answer with the buttons above")
    await u.wait_for("Which time zone are you in?")
    await u.press("Perth", zones)
    await u.wait_for("Tap everything")
    p = person(db_path, 210)
    assert (p["country"], p["city"], p["timezone"]) == ("AU", "Fremantle", "Australia/Perth")


async def test_noop_buttons_are_answered(sandbox, bot, db_path):
    u = sandbox.user(220, "Ieva", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🇱🇻 In Latvia")
    listing = await u.wait_for("Which municipality")
    query = await u.press("1/5", listing)  # the page counter: Telegram shows a spinner until answered
    await u.wait_answered(query)


async def test_agreeing_twice_continues_the_registration(sandbox, bot, db_path):
    u = sandbox.user(230, "Arta", language_code="en")
    await u.send("/start")
    first = await u.wait_for("Hello! Choose your language.")
    await u.send("/start")
    second = await u.wait_for(lambda m: m is not first and "Hello! Choose your language." in m.text)
    await u.press("English", first)
    await u.wait_for_edit(first, "Do you agree?")
    await u.press("English", second)
    await u.wait_for_edit(second, "Do you agree?")
    await u.press("✅ I agree", first)
    await u.wait_for("What name should coordinators see?")
    await u.press("✅ I agree", second)
    again = await u.wait_for("Let's continue where you left off.")
    assert "What name should coordinators see?" in again.text
    assert len(rows(db_path, "SELECT id FROM people")) == 1
    assert step_of(db_path, 230) == "name"


async def test_latvia_typed_as_the_country_asks_for_the_municipality(sandbox, bot, db_path):
    u = sandbox.user(240, "Uldis", language_code="lv")
    await begin_registration(u, lang="lv")
    await u.press("✅ Jā")
    await u.wait_for("Kur jūs parasti atrodaties?")
    await u.press("🌍 Ārzemēs")
    await u.wait_for(labels_with("reg:country:"))
    await u.send("Latvija")
    await u.wait_for("pašvaldīb")
    await u.send("Liepāja")
    await u.wait_for("Atzīmējiet")
    p = person(db_path, 240)
    assert (p["location_kind"], p["country"], p["municipality"], p["city"], p["timezone"]) == (
        "lv",
        "LV",
        "0005000",
        None,
        "Europe/Riga",
    )


async def test_a_country_without_time_zones_does_not_ask_for_one(sandbox, bot, db_path):
    u = sandbox.user(250, "Pingvīns", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.press("🌍 Abroad")
    await u.wait_for("Which country are you in?")
    await u.send("Bouvet Island")
    await u.wait_for("Which city or town")
    await u.send("Research station")
    await u.wait_for("Tap everything")  # not a time-zone question without any button
    p = person(db_path, 250)
    assert (p["country"], p["city"], p["timezone"]) == ("BV", "Research station", "UTC")


# ----- a place typed at "in Latvia or abroad?" ---------------------------------------------


@pytest.mark.parametrize("flow", ["registration", "profile"])
async def test_a_municipality_typed_at_the_where_step_is_in_latvia_there(sandbox, bot, db_path, flow):
    u = sandbox.user(230, "Liene", language_code="en")
    if flow == "registration":
        await begin_registration(u, lang="en")
        await u.press("✅ Yes")
    else:
        await register_in_latvia(u, lang="en", place="Rīga", skills=("First aid",))
        await u.send("/profile")
        await u.press("✏️ Place", await u.wait_for(lambda m: "✏️ Place" in m.button_labels))
    await u.wait_for("Where are you usually based?")
    await u.send("cesis")
    following = await u.wait_for("📍 Cēsis Municipality")
    expected = "Tap everything" if flow == "registration" else "✏️ Name"
    assert expected in following.text or expected in following.button_labels
    p = person(db_path, 230)
    assert (p["location_kind"], p["municipality"], p["country"], p["timezone"]) == (
        "lv",
        "0026000",
        "LV",
        "Europe/Riga",
    )


async def test_a_country_typed_at_the_where_step_is_abroad_there(sandbox, bot, db_path):
    u = sandbox.user(231, "Jānis", language_code="en")
    await begin_registration(u, lang="en")
    await u.press("✅ Yes")
    await u.wait_for("Where are you usually based?")
    await u.send("Ireland")
    city = await u.wait_for("Which city or town")
    assert city.text.startswith("Country: Ireland\n\n")  # the echo and the next question: one message
    p = person(db_path, 231)
    assert (p["location_kind"], p["country"], p["municipality"]) == ("abroad", "IE", None)


# ----- a typed phone number -----------------------------------------------------------------


async def test_a_typed_phone_number_is_normalised_in_registration_and_profile(sandbox, bot, db_path):
    u = sandbox.user(240, "Dace", language_code="lv")
    await register_in_latvia(u, lang="lv", skills=("Pirmā palīdzība",))
    assert person(db_path, 240)["phone"] is None

    await u.send("/profile")
    await u.press("✏️ Tālrunis", await u.wait_for(lambda m: "✏️ Tālrunis" in m.button_labels))
    await u.wait_for("ierakstiet, piem., +371 20000000")
    await u.send("tālrunis")
    invalid = await u.wait_for("Tas neizskatās pēc tālruņa numura.")
    assert "+44 20 7946 0958" in invalid.text
    assert person(db_path, 240)["phone"] is None
    await u.send("20 000 002")  # 8 Latvian digits get +371
    await u.wait_for("Paldies, jūsu numurs ir saglabāts.")
    await u.wait_for("+37120000002")
    assert person(db_path, 240)["phone"] == "+37120000002"

    await u.send("/profile")
    await u.press("✏️ Tālrunis", await u.wait_for(lambda m: "✏️ Tālrunis" in m.button_labels))
    phone_question = await u.wait_for("ierakstiet")
    assert phone_question.reply_keyboard == [["📱 Kopīgot manu tālruņa numuru"], ["Izlaist", "Dzēst manu numuru"]]
    await u.send("+44 (0)20 7946 0958")
    await u.wait_for("Paldies, jūsu numurs ir saglabāts.")
    assert person(db_path, 240)["phone"] == "+442079460958"

    await u.send("/profile")
    await u.press("✏️ Tālrunis", await u.wait_for(lambda m: "✏️ Tālrunis" in m.button_labels))
    await u.wait_for("ierakstiet")
    await u.tap_reply_button("Dzēst manu numuru")
    await u.wait_for("Jūsu numurs ir dzēsts.")
    assert person(db_path, 240)["phone"] is None


# ----- one message per step -----------------------------------------------------------------


async def test_each_step_is_one_message(sandbox, bot, db_path):
    """A typed answer gets one message (its echo and the next question); a tapped answer
    edits the tapped message to the echo and sends the next question as one message."""
    u = sandbox.user(250, "Ieva", language_code="en")
    name_question = await begin_registration(u, lang="en")
    assert u.chat is not None
    chat = u.chat

    async def one_message(question: str) -> SimMessage:
        before = len(chat.bot_messages)
        m = await u.wait_for(question)
        await u.wait_no_message(0.3)
        assert chat.bot_messages[before:] == [m], [b.text for b in chat.bot_messages[before:]]
        return m

    async def typed(text: str, echo: str, question: str) -> SimMessage:
        before = len(chat.bot_messages)
        await u.send(text)
        m = await u.wait_for(question)
        await u.wait_no_message(0.3)
        assert chat.bot_messages[before:] == [m], [b.text for b in chat.bot_messages[before:]]
        assert m.text.startswith(echo + "\n\n")
        return m

    async def tapped(label: str, message: SimMessage, echo: str, question: str) -> SimMessage:
        before = len(chat.bot_messages)
        await u.press(label, message)
        await u.wait_for_edit(message, lambda m: m.text == echo and not m.buttons)
        m = await u.wait_for(question)
        await u.wait_no_message(0.3)
        assert chat.bot_messages[before:] == [m], [b.text for b in chat.bot_messages[before:]]
        return m

    assert name_question.button_labels == ["✅ Yes"]
    where = await typed("Ieva Ozola", "Name: Ieva Ozola", "Where are you usually based?")
    country = await tapped("🌍 Abroad", where, "🌍 Abroad", "Which country are you in?")
    await u.send("Ireland")
    await one_message("Country: Ireland\n\nWhich city or town")
    skills_question = await typed("Cork", "City: Cork", "Tap everything")  # Ireland has one time zone
    await choose_skills(u, "Translation and interpreting")
    skills_question = chat.by_id[skills_question.message_id]
    availability = await tapped(
        "reg:skills_done", skills_question, "Skills: Translation and interpreting", "usually help"
    )
    quiet = await tapped("Any time", availability, "Available: Any time", "Quiet hours:")
    await typed("22-7", "Quiet hours: 22:00–07:00", "phone number")
    # the phone keyboard is a reply keyboard: taking it away takes a message of its own
    await u.send("+353 21 234 5678")
    await u.wait_for("Thank you, your number is saved.")
    await u.wait_for("Is everything right?")
    assert person(db_path, 250)["phone"] == "+353212345678"
    assert country.button_labels and quiet.button_labels


async def test_the_volunteers_language_and_consent_buttons_do_not_enrol_a_coordinator(sandbox, bot, db_path):
    coord = await coordinator(sandbox)
    await coord.send("/start")  # the coordinator's own
    await coord.wait_for(None)
    for data in ("lang:lv", "consent:lv:yes"):  # an old message's, or forged
        answer = await coord.wait_answered(await coord.forge_callback(data))
        assert answer["text"] == "This button is no longer active."
    assert person_or_none(db_path, coord.id) is None
    assert session_of(db_path, coord.id) is None
