"""Issue 10, the coordinator's side, through the sandbox: Send bound to its draft, the strict
one-line form, the preview's definition, who is coming, and clean states."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.people import Address
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import CESIS, OGRE, RIGA, coordinator, wait_delivered

JELGAVA, JELGAVAS_NOVADS = "0003000", "0030000"


def alerts_in(bot) -> int:
    return sqlite3.connect(bot.settings.database.path).execute("SELECT count(*) FROM alerts").fetchone()[0]


def send_button(msg) -> str:
    return next(d for row in msg.buttons for _, d in row if d and d.startswith("cmp:send:"))


async def test_send_on_an_older_preview_sends_nothing_and_shows_the_current_draft(sandbox, bot):
    """Finding 1: Send on a critical evacuation preview sent the later one-line alert for Ireland."""
    users = await seed(
        bot,
        sandbox,
        [Spec(i, f"Ogre {i}", "en", OGRE) for i in range(1, 5)] + [Spec(9, "Dublin", "en", None, "IE", "Dublin")],
    )
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre severity=critical Evacuation of the riverside streets")
    first = await coord.wait_for("Preview")
    assert first.button_labels[0] == "🚀 Send to 4 people"
    await coord.send("/alert countries=IE Please share the fundraiser link")
    second = await coord.wait_for("Preview")
    assert second.button_labels[0] == "🚀 Send to 1 person"

    await coord.press(send_button(first), first)
    await coord.wait_for("This preview is out of date. Nothing was sent. The current draft:")
    current = await coord.wait_for(lambda m: "Preview" in m.text and "fundraiser" in m.text)
    assert alerts_in(bot) == 0 and not first.buttons  # the old preview lost its buttons
    await coord.press(send_button(current), current)
    await coord.wait_for("📤 Delivery")
    await wait_delivered(bot, 1, 1)
    assert alert_messages(users[4]) and not any(alert_messages(u) for u in users[:4])

    # a sent draft's preview is out of date too
    await coord.press(send_button(second), second)
    await coord.wait_for("its draft was sent or discarded")
    assert alerts_in(bot) == 1


async def test_an_edited_draft_invalidates_its_preview_and_a_changed_audience_asks_again(sandbox, bot):
    await seed(bot, sandbox, [Spec(i, f"P{i}", "en", OGRE) for i in range(1, 6)])
    coord = await coordinator(sandbox)
    await coord.send("/alert")
    await coord.wait_for("New alert")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text")
    await coord.send("Sandbags at the bridge")
    await coord.wait_for("English version")
    await coord.press("Same text for everyone")
    menu = await coord.wait_for("New alert")
    await coord.press("cmp:preview", menu)
    old = await coord.wait_for("Preview")
    await coord.press("cmp:drill", menu)  # the menu above the preview: the draft changes
    await coord.wait_for_edit(menu, "Exercise: yes")
    await coord.press(send_button(old), old)
    await coord.wait_for("This preview is out of date")
    preview = await coord.wait_for(lambda m: "Preview" in m.text and "EXERCISE" in m.text)
    assert alerts_in(bot) == 0
    assert preview.button_labels[0] == "🚀 Send to 5 people"
    # two of five pause after the preview: 40 % fewer, so the coordinator confirms again
    for i in (1, 2):
        person = await bot.services.people.get(Address.telegram(i))
        assert person is not None
        await bot.services.people.update(person.id, paused=True)
    await coord.press(send_button(preview), preview)
    again = await coord.wait_for("The audience changed since the preview: 3 people now instead of 5")
    assert again.button_labels[0] == "🚀 Send to 3 people" and alerts_in(bot) == 0
    await coord.press(send_button(again), again)
    await coord.wait_for("📤 Delivery")
    assert (await wait_delivered(bot, 1, 3)).sent == 3


async def test_typographic_quotes_and_the_preview_lists_the_definition(sandbox, bot):
    """Finding 2: „Cēsu novads” left `novads”,Ogre skills=first_aid Test` as the text."""
    await seed(
        bot,
        sandbox,
        [
            Spec(1, "Cēsis medic", "lv", CESIS, skills=("first_aid",)),
            Spec(2, "Ogre medic", "en", OGRE, skills=("first_aid",)),
            Spec(3, "Ogre driver", "en", OGRE, skills=("driver",)),
        ],
    )
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=„Cēsu novads”,Ogre skills=first_aid langs=lv,en need=2 by=2h Test")
    preview = await coord.wait_for("Preview")
    body, definition = preview.text.split("Who gets it")
    assert "\nTest\n" in body and "novads" not in body and "skills=" not in body
    for line in (
        "Where: Cēsis Municipality, Ogre Municipality",
        "Skills: First aid",
        "Languages: Latvian, English",
        "Level: 🟠 URGENT",
        "Needed: 2 people",
        "Riga time",
        "Exercise: no",
        "2 people will receive it",
    ):
        assert line in definition, line
    assert "wave" not in definition.lower()  # there are no wave settings: nothing is said about them


async def test_keys_left_in_the_text_stop_the_one_line_form(sandbox, bot):
    await seed(bot, sandbox, [Spec(1, "A", "en", CESIS)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Cēsu novads,Ogre skills=first_aid drill=yes need=1 by=90m Mācības")
    refused = await coord.wait_for("Nothing was sent")
    assert "skills=, drill=, need=, by=" in refused.text and "quotes" in refused.text
    assert alerts_in(bot) == 0


async def test_inexact_places_are_refused_with_suggestions_and_a_city_name_includes_its_novads(sandbox, bot):
    await seed(bot, sandbox, [Spec(1, "J city", "en", JELGAVA), Spec(2, "J novads", "en", JELGAVAS_NOVADS)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Cesis2 Test")
    assert "Did you mean Cēsu novads?" in (await coord.wait_for("Nothing was sent")).text
    await coord.send("/alert areas=Ventsp Test")
    assert "Did you mean Ventspils, Ventspils novads?" in (await coord.wait_for("Nothing was sent")).text
    await coord.send("/alert areas=Jelgava Test")
    preview = await coord.wait_for("Preview")
    assert "Where: Jelgava, Jelgava Municipality" in preview.text
    assert "“Jelgava” is both the state city Jelgava and Jelgava Municipality: both are included." in preview.text
    assert "2 people will receive it" in preview.text
    await coord.press("✖️ Cancel")
    await coord.send("/alert areas=Jelgavas novads Test")
    await coord.wait_for("Nothing was sent")  # a value with a space needs quotes…
    await coord.send('/alert areas="Jelgavas novads" Test')
    preview = await coord.wait_for("Preview")  # …and then names the novads only
    assert "Where: Jelgava Municipality\n" in preview.text and "1 person will receive it" in preview.text


async def test_the_tracking_message_names_who_is_coming_and_roster_lists_everyone(sandbox, bot):
    specs = [Spec(10 + i, f"Person <{i}>", "en", OGRE) for i in range(18)]
    specs[0].extra = {"phone": "+37120000010"}
    users = await seed(bot, sandbox, specs)
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre need=16 Sandbags")
    await coord.press("🚀", await coord.wait_for("Preview"))
    tracking = await coord.wait_for("📤 Delivery")
    await wait_delivered(bot, 1, 18)
    await users[0].press("ans:1:30m")
    for u in users[1:]:
        await u.press("ans:1:yes")
    await users[-1].wait_for("on standby")
    shown = await coord.wait_for_edit(tracking, "standby 2", timeout=5)
    assert "✅ Confirmed:\n• Person &lt;0&gt; — within 30 minutes\n• Person &lt;1&gt; — now" in shown.html
    assert "+1 more: /roster 1" in shown.text
    assert "⏳ On standby:\n• Person <16>\n• Person <17>" in shown.text

    await coord.send("/roster 1")
    roster = await coord.wait_for("18 answers")
    assert "Person &lt;0&gt;</b> · confirmed · within 30 minutes · answered" in roster.html
    assert "+37120000010" in roster.text and 'href="tg://user?id=10"' in roster.html
    assert "Person <17> · on standby" in roster.text

    # a withdrawal and the promotion it causes: one short line each
    await users[1].press("ans:1:no")
    await coord.wait_for("#1: Person <1> can't come after all.")
    await coord.wait_for("#1: Person <16> moved up from standby and is confirmed.")


async def test_closing_edits_every_tracking_message_and_removes_their_buttons(sandbox, bot):
    await seed(bot, sandbox, [Spec(1, "A", "en", OGRE)])
    coord = await coordinator(sandbox)
    await coord.send("/alert areas=Ogre Sandbags")
    await coord.press("🚀", await coord.wait_for("Preview"))
    first = await coord.wait_for("📤 Delivery")
    await coord.send("/status 1")
    second = await coord.wait_for("📤 Delivery")
    assert first.message_id != second.message_id and first.buttons and second.buttons
    await coord.send("/close 1")
    await coord.wait_for("🔒 Alert #1 closed.")
    for msg in (first, second):
        closed = await coord.wait_for_edit(msg, "Closed.", timeout=5)
        assert not closed.buttons


async def test_coordinators_get_their_own_start_help_and_language(sandbox, bot):
    coord = await coordinator(sandbox)
    await coord.send("/start")
    intro = await coord.wait_for("You are a coordinator")
    assert "/roster ID — everyone who answered" in intro.text and "/start volunteer" in intro.text
    assert "Choose your language" not in intro.text
    await coord.send("/help")
    helped = await coord.wait_for("For coordinators")
    assert "/status ID — " in helped.text and "/status — ID" not in helped.text
    await coord.send("/language")
    await coord.wait_for("Choose your language")
    await coord.press("Latviešu")
    await coord.wait_for("Valoda: Latviešu")
    await coord.send("/help")
    assert "koordinatoriem" in (await coord.wait_for("/alert")).text.lower()
    assert await bot.services.people.get(Address.telegram(COORDINATOR_ID)) is None  # nothing registered
    await coord.send("/start volunteer")
    await coord.wait_for("Choose your language")  # the volunteer registration, when asked for


async def test_a_respond_by_in_the_past_is_refused_and_times_name_their_zone(sandbox, bot):
    users = await seed(bot, sandbox, [Spec(1, "Riga", "en", RIGA), Spec(2, "Dublin", "en", None, "IE", "Dublin")])
    dublin = await bot.services.people.get(Address.telegram(2))
    assert dublin is not None
    await bot.services.people.update(dublin.id, timezone="Europe/Dublin")
    coord = await coordinator(sandbox)
    riga_now = datetime.now(UTC).astimezone(ZoneInfo("Europe/Riga"))
    past = (riga_now - timedelta(hours=2)).strftime("%H:%M")  # two hours ago, whatever the time of day
    await coord.send(f"/alert by={past} Test")
    refused = await coord.wait_for("Nothing was sent")
    assert f"by={past} is already past: it is {riga_now:%H}:" in refused.text
    assert alerts_in(bot) == 0

    await coord.send("/alert by=2h Test")
    preview = await coord.wait_for("Preview")
    assert ", Riga time" in preview.text.split("Who gets it")[1]
    await coord.press("🚀", preview)
    await wait_delivered(bot, 1, 2)
    riga_msg, dublin_msg = alert_messages(users[0])[0], alert_messages(users[1])[0]
    riga_by = riga_msg.text.split("Please answer by")[1].splitlines()[0]  # the respond-by line
    assert "time" not in riga_by
    assert dublin_msg.text.split("Please answer by")[1].splitlines()[0].strip().endswith(", Dublin time")
