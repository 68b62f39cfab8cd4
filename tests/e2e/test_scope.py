"""Issue 11, scoped targeting and authorisation, through the sandbox: two organisations with
scopes and coordinators (added to the SQLite file before the bot starts), volunteers in the
shared pool and in organisations; whom a scoped coordinator reaches, refusals outside the
scope, the count of those left out, the sender line, forged commands and buttons for another
organisation's alert, talk-back, and phone numbers in exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Sauciens
from bot.domain.coalition import MembershipSource, Organisation, Scope, StoredRole
from bot.domain.people import Address
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser
from db.database import Database
from db.memberships import MembershipRepo
from db.migrate import migrate
from db.organisations import CoordinatorRepo, OrganisationRepo
from tests.conftest import COORDINATOR_ID, BotFactory
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import wait_delivered

OGRE, RIGA = "0040000", "0001000"
OGRE_NAME, RIGA_NAME = "Ogres glābēji", "Rīgas brīvprātīgie"
AIJA, ANDRIS = 7001, 7002  # coordinators of the Ogre organisation (Ogre Municipality and Ireland)
BAIBA, BRUNO = 7101, 7102  # coordinators of the Riga organisation (Riga)
NOT_YOURS = "Alert #{id} was sent for another organisation: you cannot act on it."


@dataclass
class Coalition:
    bot: Sauciens
    ogre: Organisation
    riga: Organisation

    async def member(self, person: int, organisation: Organisation, *, phone_visible: bool = False) -> None:
        joined = await MembershipRepo(self.bot.services.db).join(
            Address.telegram(person), organisation.id, MembershipSource.IMPORT, phone_visible=phone_visible
        )
        assert joined

    def open_to_coalition(self, person: int) -> None:
        with closing(sqlite3.connect(self.bot.settings.database.path)) as conn:
            conn.execute("UPDATE people SET open_to_coalition = 1 WHERE external_id = ?", (str(person),))
            conn.commit()


@pytest.fixture
async def coalition(start_bot: BotFactory, db_path: Path) -> Coalition:
    """Two organisations and their coordinators, stored before the bot starts."""
    db = await Database(db_path).open()
    try:
        await migrate(db)
        organisations, coordinators = OrganisationRepo(db), CoordinatorRepo(db)
        ogre = await organisations.add("OGR", OGRE_NAME, Scope((OGRE,), ("IE",)))
        riga = await organisations.add("RIX", RIGA_NAME, Scope((RIGA,)))
        for user, org in ((AIJA, ogre), (ANDRIS, ogre), (BAIBA, riga), (BRUNO, riga)):
            await coordinators.put(Address.telegram(user), org.id, StoredRole.COORDINATOR, Scope())
    finally:
        await db.close()
    return Coalition(await start_bot(), ogre, riga)


def coordinator(sandbox: BotApiSandbox, user: int, lang: str = "en") -> SimUser:
    names = {
        AIJA: ("Aija", "Ozola"),
        ANDRIS: ("Andris", "Kalns"),
        BAIBA: ("Baiba", "Liepa"),
        BRUNO: ("Bruno", "Bērziņš"),
    }
    first, last = names.get(user, ("Kārlis", "Koordinators"))
    return sandbox.user(user, first, last, language_code=lang)


def alerts_in(db_path: Path) -> list[tuple[int, int | None, str, str]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT id, organisation_id, organisation, status FROM alerts ORDER BY id").fetchall()


def outbox_rows(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


def send_button(msg) -> str:
    return next(d for row in msg.buttons for _, d in row if d and d.startswith("cmp:send:"))


async def forged(u: SimUser, data: str, message=None) -> dict:
    """``data`` as a tap from a modified client; the bot's answer to it."""
    return await u.wait_answered(await u.forge_callback(data, message))


async def test_a_scoped_coordinator_reaches_the_pool_their_members_and_the_willing_within_the_scope(
    sandbox, coalition, db_path
):
    c = coalition
    users = await seed(
        c.bot,
        sandbox,
        [
            Spec(1, "Ogre pool", "en", OGRE),
            Spec(2, "Ogre member", "en", OGRE),
            Spec(3, "Riga org's member in Ogre", "en", OGRE),
            Spec(4, "Riga org's willing member in Ogre", "lv", OGRE),
            Spec(5, "Riga pool", "en", RIGA),
            Spec(6, "Dublin pool", "en", None, "IE", "Dublin"),
            Spec(7, "London pool", "en", None, "GB", "London"),
        ],
    )
    await c.member(2, c.ogre)
    await c.member(3, c.riga)
    await c.member(4, c.riga)
    c.open_to_coalition(4)
    aija = coordinator(sandbox, AIJA)

    # no place given: everyone Aija may reach, and only them; the rest are counted as left out
    await aija.send("/alert Sandbags at the river")
    preview = await aija.wait_for("Preview")
    assert "4 people will receive it" in preview.text
    assert "Left out: 3 outside your scope or organisation" in preview.text
    assert "From: Aija Ozola, Ogres glābēji" in preview.text
    await aija.press(send_button(preview), preview)
    await aija.wait_for("📤 Delivery")
    await wait_delivered(c.bot, 1, 4)
    got = {u.id for u in users if alert_messages(u)}
    assert got == {1, 2, 4, 6}
    message = alert_messages(users[0])[0]
    assert "From: Aija Ozola, Ogres glābēji" in message.text
    assert "No: Aija Ozola, Ogres glābēji" in alert_messages(users[3])[0].text  # in the recipient's language
    assert alerts_in(db_path) == [(1, c.ogre.id, OGRE_NAME, "open")]

    # a place within the scope: its people Aija may reach
    await aija.send("/alert areas=Ogre Pumps")
    preview = await aija.wait_for(lambda m: "Preview" in m.text and "Pumps" in m.text)
    assert "3 people will receive it" in preview.text
    assert "Left out: 1 outside your scope or organisation" in preview.text
    # the menu's live count says so too
    await aija.press("✏️ Edit", preview)
    menu = await aija.wait_for("New alert")
    assert "Left out: 1 outside your scope or organisation" in menu.text

    # an admin reaches everyone, and sends for the configured organisation
    admin = coordinator(sandbox, COORDINATOR_ID)
    await admin.send("/alert Everyone")
    preview = await admin.wait_for("Preview")
    assert "7 people will receive it" in preview.text and "outside your scope" not in preview.text
    assert "From: Kārlis Koordinators, LAPAS" in preview.text


async def test_places_outside_the_scope_are_refused_naming_the_scope_and_nothing_is_sent(sandbox, coalition, db_path):
    c = coalition
    await seed(
        c.bot,
        sandbox,
        [Spec(1, "Riga", "en", RIGA), Spec(2, "Ogre", "en", OGRE), Spec(3, "London", "en", None, "GB", "London")],
    )
    aija = coordinator(sandbox, AIJA)
    for args, places in (
        ("areas=Rīga", "Riga"),
        ("areas=Ogre,Rīga", "Riga"),
        ("countries=*", "everyone abroad"),
        ("areas=Ogre countries=GB,IE", "United Kingdom"),
    ):
        await aija.send(f"/alert {args} Help")
        refused = await aija.wait_for("Nothing was sent")
        assert (
            f"Outside your scope: {places}. Your alerts for Ogres glābēji may go only to: Ogre Municipality, Ireland."
            in refused.text
        ), args
    assert alerts_in(db_path) == [] and outbox_rows(db_path) == 0

    # in Latvian, the places are named in Latvian
    baiba = coordinator(sandbox, BAIBA, "lv")
    await baiba.send("/alert areas=Ogre Palīdzība")
    refused = await baiba.wait_for("Nekas netika nosūtīts")
    assert "Ārpus jūsu darbības jomas: Ogres novads." in refused.text and "Rīga" in refused.text
    assert alerts_in(db_path) == []

    # nothing was kept either: the Send of an earlier draft cannot send the refused one
    await aija.send("/alert areas=Ogre Help")
    preview = await aija.wait_for("Preview")
    await aija.send("/alert areas=Rīga Help")
    await aija.wait_for("Nothing was sent")
    await aija.press(send_button(preview), preview)
    await aija.wait_for("📤 Delivery")
    await wait_delivered(c.bot, 1, 1)
    assert [(a[0], a[1]) for a in alerts_in(db_path)] == [(1, c.ogre.id)]

    # an admin has no scope
    admin = coordinator(sandbox, COORDINATOR_ID)
    await admin.send("/alert areas=Rīga countries=GB Help")
    assert "2 people will receive it" in (await admin.wait_for("Preview")).text


async def test_the_composer_lists_only_the_scope_and_refuses_a_forged_place(sandbox, coalition, db_path):
    c = coalition
    await seed(c.bot, sandbox, [Spec(1, "Ogre", "en", OGRE), Spec(2, "Riga", "en", RIGA)])
    aija = coordinator(sandbox, AIJA)
    await aija.send("/alert")
    menu = await aija.wait_for("New alert")
    await aija.press("cmp:v:areas", menu)
    areas = await aija.wait_for_edit(menu, "Which municipalities?")
    assert [d for row in areas.buttons for _, d in row] == ["cmp:ar:0040000:0", "cmp:menu"]
    await aija.press("cmp:menu", menu)
    await aija.wait_for_edit(menu, "New alert")
    await aija.press("cmp:v:abroad", menu)
    abroad = await aija.wait_for_edit(menu, "People abroad")
    assert abroad.button_labels == ["Ireland", "⬅️ Back"]  # no "Everyone abroad", no other country

    # a modified client's tap on a place outside the scope changes nothing
    for data in ("cmp:ar:0001000:0", "cmp:co:GB:0", "cmp:co:*:0"):
        await forged(aija, data, menu)
        refused = await aija.wait_for("Outside your scope")
        assert "Your alerts for Ogres glābēji may go only to: Ogre Municipality, Ireland." in refused.text
    await aija.press("cmp:menu", menu)
    menu = await aija.wait_for_edit(menu, "New alert")
    assert "📍 Areas (0)" in menu.button_labels and "🌍 Abroad (0)" in menu.button_labels
    assert "Where: anywhere" in menu.text and "1 person will receive it" in menu.text

    # the place of the scope is taken
    await aija.press("cmp:v:areas", menu)
    await aija.wait_for_edit(menu, "Which municipalities?")
    await aija.press("cmp:ar:0040000:0", menu)
    await aija.wait_for_edit(menu, lambda m: "✅ Ogre Municipality" in m.button_labels)
    await aija.press("cmp:menu", menu)
    assert "📍 Areas (1)" in (await aija.wait_for_edit(menu, "New alert")).button_labels

    # an admin's lists have every municipality (in pages) and everyone abroad
    admin = coordinator(sandbox, COORDINATOR_ID)
    await admin.send("/alert")
    admin_menu = await admin.wait_for("New alert")
    await admin.press("cmp:v:areas", admin_menu)
    listed = await admin.wait_for_edit(admin_menu, "Which municipalities?")
    assert "1/5" in listed.button_labels
    await admin.press("cmp:menu", admin_menu)
    await admin.wait_for_edit(admin_menu, "New alert")
    await admin.press("cmp:v:abroad", admin_menu)
    listed = await admin.wait_for_edit(admin_menu, "People abroad")
    assert listed.button_labels[0] == "Everyone abroad" and "United Kingdom" in listed.button_labels
    assert alerts_in(db_path) == []


async def test_another_organisations_alert_cannot_be_sent_followed_closed_or_exported(sandbox, coalition, db_path):
    c = coalition
    users = await seed(c.bot, sandbox, [Spec(1, "Riga one", "en", RIGA), Spec(2, "Riga two", "en", RIGA)])
    aija, baiba, bruno = coordinator(sandbox, AIJA), coordinator(sandbox, BAIBA), coordinator(sandbox, BRUNO)

    # Baiba's draft: Aija's forged composer buttons act on Aija's own (absent) draft, never Baiba's
    await baiba.send("/alert areas=Rīga Water at the station")
    preview = await baiba.wait_for("Preview")
    await aija.send("/help")
    await aija.wait_for("/alert")
    answer = await forged(aija, send_button(preview))
    assert "out of date" in answer["text"]
    await forged(aija, "cmp:cancel")
    await forged(aija, "cmp:drill")
    assert alerts_in(db_path) == []
    await baiba.press(send_button(preview), preview)
    await baiba.wait_for("📤 Delivery")
    await wait_delivered(c.bot, 1, 2)
    assert alerts_in(db_path) == [(1, c.riga.id, RIGA_NAME, "open")]
    assert all("Exercise" not in m.text for u in users for m in alert_messages(u))
    sent = outbox_rows(db_path)

    # commands for the other organisation's alert are refused and change nothing
    await aija.send("/alerts")
    assert (await aija.wait_for("No alerts are open")).text == "No alerts are open."
    for command in (
        "/status 1",
        "/close 1",
        "/export 1",
        "/remind 1",
        "/roster 1",
        "/followup 1 Meet at 6",
        "/followup 1",
    ):
        await aija.send(command)
        refused = await aija.wait_for(NOT_YOURS.format(id=1))
        assert refused.text == NOT_YOURS.format(id=1), command
    await aija.send("Meet at 6")  # no follow-up was being written: nothing goes out
    await aija.wait_for("I did not understand that")

    # and so are forged tracking buttons, also a "yes, close" pressed on Aija's own chat
    for action in ("closeyes", "close", "remind", "followup", "export", "keep"):
        answer = await forged(aija, f"trk:{action}:1")
        assert answer["text"] == NOT_YOURS.format(id=1) and answer["show_alert"], action
    await sandbox.wait_idle(quiet=0.3)
    assert alerts_in(db_path)[0][3] == "open" and outbox_rows(db_path) == sent
    assert not any(m.document for m in aija.messages)
    assert not any("📤 Delivery" in m.text for m in aija.messages)
    assert all("closed" not in m.text for u in users for m in u.messages)

    # the other coordinator of the same organisation may act on it, and admins may
    await bruno.send("/alerts")
    assert "#1" in (await bruno.wait_for("open alert")).text
    await bruno.send("/status 1")
    await bruno.wait_for("📤 Delivery")
    admin = coordinator(sandbox, COORDINATOR_ID)
    await admin.send("/alerts")
    assert "#1" in (await admin.wait_for("open alert")).text
    await bruno.send("/close 1")
    await bruno.wait_for("Alert #1 closed.")
    assert alerts_in(db_path)[0][3] == "closed"

    # every action on the alert is filed under its organisation, an admin's export too
    await admin.send("/export 1")
    await admin.wait_for(lambda m: m.document is not None)
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT actor_external_id, role, organisation, action FROM audit_log WHERE target = 'alert:1' ORDER BY id"
        ).fetchall()
    assert rows == [
        (str(BAIBA), "coordinator", "RIX", "alert_sent"),
        (str(BRUNO), "coordinator", "RIX", "alert_closed"),
        (str(COORDINATOR_ID), "admin", "RIX", "export"),
    ]


async def test_talk_back_of_another_organisations_alert_is_neither_shown_nor_answered(sandbox, coalition, db_path):
    c = coalition
    (volunteer,) = await seed(c.bot, sandbox, [Spec(1, "Rita", "en", RIGA)])
    aija, baiba, bruno = coordinator(sandbox, AIJA), coordinator(sandbox, BAIBA), coordinator(sandbox, BRUNO)
    await baiba.send("/alert Search at the port")
    await baiba.press("🚀", await baiba.wait_for("Preview"))
    await wait_delivered(c.bot, 1, 1)
    await volunteer.wait_for("Search at the port")
    await volunteer.send("Where do we meet?")
    await volunteer.press("✅ Yes, send", await volunteer.wait_for("Send this to the coordinator of alert #1?"))
    incoming = await baiba.wait_for("about alert #1")
    reply_data = next(d for row in incoming.buttons for _, d in row if d and d.startswith("talk:reply:"))

    await aija.send("/help")
    await aija.wait_for("/alert")
    answer = await forged(aija, reply_data)
    assert answer["text"] == "That alert was sent for another organisation: you cannot see or answer its messages."
    await aija.send("At the gate")  # not a reply: Aija is writing none
    await aija.wait_for("I did not understand that")
    await aija.send("/messages 1")
    refused = await aija.wait_for("another organisation")
    assert "Where do we meet?" not in refused.text
    await sandbox.wait_idle(quiet=0.3)
    assert not any("At the gate" in m.text for m in volunteer.messages)

    # the same organisation's coordinators see and answer them
    await bruno.send("/messages 1")
    assert "Rita: Where do we meet?" in (await bruno.wait_for("Alert #1: 1 message")).text
    await bruno.send("/help")
    await bruno.wait_for("/alert")
    await forged(bruno, reply_data)  # the Reply button is in Baiba's chat; the same data from Bruno's
    await bruno.wait_for("Type your reply to Rita (alert #1)")
    await bruno.send("At the gate")
    await bruno.wait_for("✓ Reply sent to Rita.")
    await volunteer.wait_for("At the gate")


async def test_phone_numbers_in_exports_follow_what_each_person_allowed(sandbox, coalition, db_path):
    c = coalition
    phones = {i: f"+3712000000{i}" for i in range(1, 6)}
    people = await seed(
        c.bot,
        sandbox,
        [
            Spec(1, "Pool", "en", OGRE, extra={"phone": phones[1]}),
            Spec(2, "Member who allows", "en", OGRE, extra={"phone": phones[2]}),
            Spec(3, "Member who does not", "en", OGRE, extra={"phone": phones[3]}),
            Spec(4, "Riga org's willing member", "en", OGRE, extra={"phone": phones[4]}),
            Spec(5, "Member of both, allows Riga", "en", OGRE, extra={"phone": phones[5]}),
        ],
    )
    await c.member(2, c.ogre, phone_visible=True)
    await c.member(3, c.ogre)
    await c.member(4, c.riga, phone_visible=True)
    c.open_to_coalition(4)
    await c.member(5, c.ogre)
    await c.member(5, c.riga, phone_visible=True)

    async def exported(u: SimUser, alert_id: int) -> dict[str, str]:
        await u.send(f"/export {alert_id}")
        doc = await u.wait_for(lambda m: m.document is not None and f"alert-{alert_id}" in m.document[0])
        assert doc.document is not None
        text = doc.document[1].decode()
        assert (
            text.splitlines()[0]
            == "telegram_id,delivery,response,eta,responded_at,name,phone,language,municipality,country,city"
        )
        # a phone number's "+" is neutralised for spreadsheets (a leading "'")
        return {r["telegram_id"]: r["phone"].removeprefix("'") for r in csv.DictReader(io.StringIO(text))}

    aija = coordinator(sandbox, AIJA)
    await aija.send("/alert areas=Ogre Sandbags")
    await aija.press("🚀", await aija.wait_for("Preview"))
    await wait_delivered(c.bot, 1, 5)
    # the Ogre organisation's alert: only the number of the member who lets it see it
    assert await exported(aija, 1) == {"1": "", "2": phones[2], "3": "", "4": "", "5": ""}

    # /roster follows the same rule
    for u in people[1:3]:
        await u.press("ans:1:yes", alert_messages(u)[0])
        await u.wait_for("confirmed")
    await aija.send("/roster 1")
    roster = await aija.wait_for("2 answers")
    assert phones[2] in roster.text and phones[3] not in roster.text

    # an admin's own alert: the pool's numbers and those of members who let any organisation see them
    admin = coordinator(sandbox, COORDINATOR_ID)
    await admin.send("/alert areas=Ogre More sandbags")
    await admin.press("🚀", await admin.wait_for("Preview"))
    await wait_delivered(c.bot, 2, 5)
    assert await exported(admin, 2) == {"1": phones[1], "2": phones[2], "3": "", "4": phones[4], "5": phones[5]}
    # and an admin exporting the organisation's alert sees what the organisation sees
    assert await exported(admin, 1) == {"1": "", "2": phones[2], "3": "", "4": "", "5": ""}
