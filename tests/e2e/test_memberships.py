"""The volunteer's side of the coalition through the sandbox, against a real SQLite file: the
volunteer list's organisations' codes, the registration question for members, /profile's
organisations (leaving one, letting the others call, the phone number, forged buttons), and
agreeing again to a privacy notice that changed since the person agreed to it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from datetime import datetime

from bot.domain.coalition import MembershipSource, Organisation, Scope
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address
from bot.sandbox.scenarios import begin_registration, has_button, register_volunteer
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import coordinator, send_one_line, wait_delivered
from tests.e2e.test_cli import HEADER, ORGANISATIONS, add_organisations, memberships_of, run_cli, write
from tests.e2e.test_registration import person, rows

LAPAS, LSK = ORGANISATIONS["LAPAS"], ORGANISATIONS["LSK"]
QUESTION = "Other organisations in the coalition may call me"
NOTICE_CHANGED = "The privacy notice has changed."
RIGA = "0001000"


def departures(db_path, user_id: int) -> set[str]:
    found = rows(
        db_path,
        "SELECT o.code FROM membership_departures d JOIN organisations o ON o.id = d.organisation_id"
        " JOIN people p ON p.id = d.person_id WHERE p.external_id = ?",
        str(user_id),
    )
    return {r["code"] for r in found}


def open_to_coalition(db_path, user_id: int) -> int:
    return rows(db_path, "SELECT open_to_coalition FROM people WHERE external_id = ?", str(user_id))[0][
        "open_to_coalition"
    ]


async def organisations(bot) -> tuple[Organisation, Organisation]:
    return (
        await bot.services.organisations.add("LAPAS", LAPAS, Scope()),
        await bot.services.organisations.add("LSK", LSK, Scope()),
    )


# ----- the volunteer list ---------------------------------------------------------------------


async def test_list_codes_become_memberships_an_unknown_code_imports_nothing_and_leaving_sticks(
    sandbox, start_bot, tmp_path, db_path
):
    add_organisations(tmp_path, db_path)
    unknown = write(
        tmp_path / "unknown.csv",
        f"{HEADER}\n1001,Anna Bērziņa,en,first_aid,Cēsis,,,20000001,LAPAS\n1002,John,en,,Rīga,,,,LAPAS;LKS\n",
    )
    refused = run_cli(tmp_path, db_path, "volunteers", "import", str(unknown))
    assert refused.returncode == 1
    assert f"{unknown}:3: unknown organisation 'LKS' (did you mean LSK?)" in refused.stderr
    assert "1 invalid row(s); nothing was imported" in refused.stderr
    assert rows(db_path, "SELECT count(*) AS n FROM people")[0]["n"] == 0

    listed = f"{HEADER}\n1001,Anna Bērziņa,en,first_aid,Cēsis,,,20000001,lapas;LSK\n1002,John,en,,Rīga,,,,\n"
    imported = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "list.csv", listed)))
    assert imported.returncode == 0, imported.stderr
    assert "memberships: 2 added, 0 removed" in imported.stdout
    assert memberships_of(db_path, 1001) == {("LAPAS", "import", 1), ("LSK", "import", 1)}
    assert memberships_of(db_path, 1002) == set()

    # the volunteer agrees, is asked once about the coalition, and leaves one organisation
    await start_bot()
    anna = sandbox.user(1001, "Anna", language_code="en")
    await anna.send("/start")
    await anna.press("English", await anna.wait_for("Choose your language"))
    await anna.press("✅ I agree", await anna.wait_for("Do you agree?"))
    asked = await anna.wait_for(QUESTION)
    assert f"You belong to {LAPAS}, {LSK}" in asked.text
    await anna.press("✅ Yes", asked)
    profile = await anna.wait_for(lambda m: "🏢 Organisations" in m.button_labels)
    assert f"{QUESTION}: yes" in profile.text and open_to_coalition(db_path, 1001) == 1
    lsk = rows(db_path, "SELECT id FROM organisations WHERE code = 'LSK'")[0]["id"]
    await anna.press("🏢 Organisations", profile)
    view = await anna.wait_for("Who can reach you")
    await anna.press(f"mem:leave:{lsk}", view)
    await anna.press("🚪 Yes, leave", await anna.wait_for_edit(view, f"Leave {LSK}?"))
    await anna.wait_for_edit(view, lambda m: LSK not in m.text)
    assert memberships_of(db_path, 1001) == {("LAPAS", "import", 1)} and departures(db_path, 1001) == {"LSK"}

    # the same list again does not make her a member of what she left
    again = run_cli(tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "again.csv", listed)))
    assert again.returncode == 0, again.stderr
    assert "1 membership(s) not restored: the volunteer left that organisation in the bot" in again.stdout
    assert memberships_of(db_path, 1001) == {("LAPAS", "import", 1)}

    # the export writes the codes back; a list without a code takes the imported membership away
    exported = run_cli(tmp_path, db_path, "volunteers", "export")
    table = {r["telegram_id"]: r["organisation"] for r in csv.DictReader(io.StringIO(exported.stdout))}
    assert table == {"1001": "LAPAS", "1002": ""}
    none = run_cli(
        tmp_path, db_path, "volunteers", "import", str(write(tmp_path / "none.csv", listed.replace("lapas;LSK", "")))
    )
    assert none.returncode == 0 and "memberships: 0 added, 1 removed" in none.stdout
    assert memberships_of(db_path, 1001) == set()
    assert person(db_path, 1001)["organisation"] is None  # the legacy free text is not used


# ----- registration -----------------------------------------------------------------------------


async def test_registration_asks_about_the_coalition_only_of_members(sandbox, bot, db_path):
    pool = sandbox.user(2001, "Pool", language_code="en")
    summary = await register_volunteer(pool, lang="en")
    assert "Organisations: none, so every coalition organisation can reach you" in summary.text
    assert not [m for m in pool.messages if has_button("reg:coalition:")(m)]

    lapas, _ = await organisations(bot)
    member = sandbox.user(2002, "Member", language_code="en")
    await begin_registration(member, lang="en")
    # the person joins the organisation half-way (as its volunteers' link does)
    assert await bot.services.memberships.join(Address.telegram(2002), lapas.id, MembershipSource.INVITE)
    await member.press("✅ Yes")
    await member.press("🇱🇻 In Latvia", await member.wait_for("Where are you"))
    await member.wait_for("Which municipality")
    await member.send("Cēsis")
    await member.press("First aid", await member.wait_for("Tap everything"))
    await member.press("Done", await member.wait_for(lambda m: "✅ First aid" in m.button_labels))
    await member.press("Any time", await member.wait_for("When can you"))
    await member.press("No quiet hours", await member.wait_for("Quiet hours"))
    await member.wait_for("phone number")
    await member.tap_reply_button("Skip")
    asked = await member.wait_for(QUESTION)
    assert f"You belong to {LAPAS}: their coordinators can send you alerts." in asked.text
    assert asked.button_labels == ["✅ Yes", "No"]
    assert open_to_coalition(db_path, 2002) == 0  # the default: no
    await member.send("maybe")  # typed: the buttons, please
    again = await member.wait_for(lambda m: QUESTION in m.text and m.message_id != asked.message_id)
    assert "Please answer with the buttons above" in again.text
    await member.press("No", again)
    await member.wait_for_edit(again, f"{QUESTION}: no")
    summary = await member.wait_for("Is everything right?")
    assert f"Your organisations: {LAPAS}" in summary.text and f"{QUESTION}: no" in summary.text
    await member.press("✅ Confirm", summary)
    await member.wait_for("You are registered")
    assert person(db_path, 2002)["status"] == "active" and open_to_coalition(db_path, 2002) == 0
    # asked once: a change of the phone number does not ask again
    asking = has_button("reg:coalition:")
    asked_so_far = len([m for m in member.messages if asking(m)])
    await member.send("/profile")
    await member.press("✏️ Phone", await member.wait_for(lambda m: "✏️ Phone" in m.button_labels))
    await member.wait_for("phone number")
    await member.tap_reply_button("Skip")
    await member.wait_for(lambda m: "✏️ Phone" in m.button_labels)
    assert len([m for m in member.messages if asking(m)]) == asked_so_far


# ----- /profile ------------------------------------------------------------------------------


async def test_profile_shows_who_can_call_and_changes_it(sandbox, bot, db_path):
    lapas, lsk = await organisations(bot)
    other = await bot.services.organisations.add("ZS", "Zemessardzes atbalsts", Scope())
    (v,) = await seed(bot, sandbox, [Spec(3001, "Vija", "en", RIGA, extra={"consent_at": "2026-01-01T00:00:00+00:00"})])
    address = Address.telegram(3001)
    await bot.services.memberships.join(address, lapas.id, MembershipSource.IMPORT, phone_visible=True)
    await bot.services.memberships.join(address, lsk.id, MembershipSource.INVITE)

    await v.send("/profile")
    profile = await v.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert f"Your organisations: {LAPAS}, {LSK}" in profile.text and f"{QUESTION}: no" in profile.text
    await v.press("🏢 Organisations", profile)
    view = await v.wait_for("Who can reach you")
    assert f"• {LAPAS}: sees your phone number in its exports" in view.text
    assert f"• {LSK}: does not see your phone number" in view.text
    assert "The coalition's other organisations may not send you alerts." in view.text
    assert view.button_labels[0] == "🤝 Let other organisations alert me" and view.button_labels[-1] == "✔️ Done"

    # other organisations may call: yes (a second tap of the same button changes nothing)
    await v.press("mem:open:yes", view)
    view = await v.wait_for_edit(view, "may send you alerts too")
    assert view.button_labels[0] == "🚫 Only my organisations may alert me" and open_to_coalition(db_path, 3001) == 1
    await v.wait_answered(await v.forge_callback("mem:open:yes", view))
    assert open_to_coalition(db_path, 3001) == 1

    # each organisation sees the phone number only if allowed
    await v.press(f"mem:phone:{lsk.id}:yes", view)
    view = await v.wait_for_edit(view, f"• {LSK}: sees your phone number")
    await v.press(f"mem:phone:{lapas.id}:no", view)
    view = await v.wait_for_edit(view, f"• {LAPAS}: does not see your phone number")
    assert memberships_of(db_path, 3001) == {("LAPAS", "import", 0), ("LSK", "invite", 1)}

    # forged buttons for an organisation she does not belong to change nothing
    for forged in (
        f"mem:leaveyes:{other.id}",
        f"mem:phone:{other.id}:yes",
        "mem:leaveyes:424242",
        f"mem:leave:{other.id}",
    ):
        answer = await v.wait_answered(await v.forge_callback(forged, view))
        assert answer["text"] == "That button is no longer valid.", forged
    assert memberships_of(db_path, 3001) == {("LAPAS", "import", 0), ("LSK", "invite", 1)}

    # leaving asks first
    await v.press(f"mem:leave:{lsk.id}", view)
    confirm = await v.wait_for_edit(view, f"Leave {LSK}?")
    assert confirm.button_labels == ["🚪 Yes, leave", "No, stay"]
    await v.press("No, stay", confirm)
    view = await v.wait_for_edit(view, "Who can reach you")
    assert memberships_of(db_path, 3001) == {("LAPAS", "import", 0), ("LSK", "invite", 1)}
    await v.press(f"mem:leave:{lsk.id}", view)
    query = await v.press("🚪 Yes, leave", await v.wait_for_edit(view, f"Leave {LSK}?"))
    assert (await v.wait_answered(query))["text"] == f"You left {LSK}."
    view = await v.wait_for_edit(view, lambda m: "Who can reach you" in m.text and LSK not in m.text)
    assert memberships_of(db_path, 3001) == {("LAPAS", "import", 0)} and departures(db_path, 3001) == {"LSK"}
    await v.press(f"mem:leave:{lapas.id}", view)
    await v.press("🚪 Yes, leave", await v.wait_for_edit(view, f"Leave {LAPAS}?"))
    view = await v.wait_for_edit(view, "You belong to no organisation, so every coalition organisation can reach you.")
    assert view.button_labels == ["✔️ Done"] and memberships_of(db_path, 3001) == set()
    await v.press("✔️ Done", view)
    await v.wait_for_edit(view, lambda m: not m.buttons)

    await v.send("/profile")
    profile = await v.wait_for(lambda m: "✏️ Name" in m.button_labels)
    assert "Organisations: none, so every coalition organisation can reach you" in profile.text
    assert "🏢 Organisations" not in profile.button_labels
    await v.send("/mydata")
    doc = await v.wait_for(lambda m: m.document is not None)
    assert doc.document is not None
    assert json.loads(doc.document[1])["person"]["organisations"] == []

    stranger = sandbox.user(3002, "Stranger", language_code="en")
    await stranger.send("/help")
    await stranger.wait_for("What I can do")
    answer = await stranger.wait_answered(await stranger.forge_callback(f"mem:phone:{lapas.id}:yes"))
    assert answer["text"] == "This button is no longer active."


async def test_mydata_lists_the_organisations(sandbox, bot):
    lapas, _ = await organisations(bot)
    (v,) = await seed(bot, sandbox, [Spec(3101, "Vija", "en", RIGA, extra={"consent_at": "2026-01-01T00:00:00+00:00"})])
    await bot.services.memberships.join(Address.telegram(3101), lapas.id, MembershipSource.IMPORT, phone_visible=True)
    await v.send("/mydata")
    doc = await v.wait_for(lambda m: m.document is not None)
    assert doc.document is not None
    (membership,) = json.loads(doc.document[1])["person"]["organisations"]
    assert (membership["code"], membership["name"], membership["source"], membership["phone_visible"]) == (
        "LAPAS",
        LAPAS,
        "import",
        True,
    )


# ----- a changed privacy notice ------------------------------------------------------------------


async def test_a_changed_notice_is_agreed_to_before_anything_else_but_alerts_never_wait(sandbox, bot, db_path):
    agreed_before = "2020-01-01T00:00:00+00:00"
    old = {"consent_at": agreed_before, "privacy_version": 1}
    v, w, coordinating = await seed(
        bot,
        sandbox,
        [
            Spec(4001, "Vija", "en", RIGA, extra=old),
            Spec(4002, "Valts", "en", RIGA, extra=old),
            Spec(COORDINATOR_ID, "Kārlis", "en", RIGA, extra=old),  # a coordinator who is a volunteer too
        ],
    )

    await v.send("hello")
    notice = await v.wait_for(NOTICE_CHANGED)
    assert "Sauciens is shared by a coalition of organisations" in notice.text and "/forget" in notice.text
    assert notice.button_labels == ["✅ I agree", "🗑 Erase my data"]
    await v.send("/pause")  # what she asks for now waits for her answer
    hint = await v.wait_for("Please agree to the new privacy notice above first")
    assert hint.button_labels == ["✅ I agree", "🗑 Erase my data"]
    assert not [m for m in v.messages if "Pause alerts for how long?" in m.text]

    # a crisis never waits: the coordinator's alert goes out and her tap on it counts
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Rīga Sandbags at the bridge")
    await wait_delivered(bot, 1, 3)
    (alert,) = alert_messages(v)
    await v.press("ans:1:yes", alert)
    await v.wait_for("You are confirmed")
    assert (await bot.services.alerts.tally(1)).accepted == 1
    # ...and what is hers to see or erase is never held up
    await v.send("/mydata")
    await v.wait_for(lambda m: m.document is not None)

    # an older notice's button records nothing: the current notice is shown instead
    await v.wait_answered(await v.forge_callback("notice:1:yes", notice))
    assert rows(db_path, "SELECT privacy_version FROM people WHERE external_id = '4001'")[0]["privacy_version"] == 1

    # "Erase my data" asks /forget's question; keeping it leaves everything as it was
    await v.press("🗑 Erase my data", notice)
    await v.press("No, keep it", await v.wait_for("Erase everything about you?"))
    await v.wait_for("Nothing was erased.")

    await v.press("✅ I agree", notice)
    await v.wait_for_edit(notice, "Thank you! You have agreed to the privacy notice.")
    await v.wait_for("Pause alerts for how long?")  # then what she asked for
    stored = person(db_path, 4001)
    assert rows(db_path, "SELECT privacy_version FROM people WHERE external_id = '4001'")[0]["privacy_version"] == (
        PRIVACY_NOTICE_VERSION
    )
    assert datetime.fromisoformat(stored["consent_at"]) > datetime.fromisoformat(agreed_before)
    await v.send("/profile")
    await v.wait_for(lambda m: "✏️ Name" in m.button_labels)

    # /forget is never held up
    await w.send("/forget")
    await w.press("🗑 Yes, erase all", await w.wait_for("Erase everything about you?"))
    await w.wait_for("Everything about you has been erased.")

    # a coordinator's work is not held up; their own data as a volunteer is
    await coord.send("/alerts")
    await coord.wait_for("open alert")
    await coord.send("/profile")
    await coord.wait_for(NOTICE_CHANGED)
    assert coordinating.id == COORDINATOR_ID


async def test_what_a_registering_person_typed_before_agreeing_again_is_not_lost_to_the_throttle(
    sandbox, start_bot, db_path
):
    bot = await start_bot(throttle={"reply_interval_seconds": 1})
    u = sandbox.user(4101, "Zelma", language_code="en")
    await begin_registration(u, lang="en")  # agreed to the current notice
    _execute(db_path, "UPDATE people SET privacy_version = 1 WHERE external_id = '4101'")  # as if an older one
    await u.send("Zelma Kalniņa")
    notice = await u.wait_for(NOTICE_CHANGED, timeout=10)
    assert rows(db_path, "SELECT name FROM people WHERE external_id = '4101'")[0]["name"] == "Zelma"
    await u.press("✅ I agree", notice)
    await u.wait_for("Where are you", timeout=10)  # the typed name, answered after all
    assert rows(db_path, "SELECT name FROM people WHERE external_id = '4101'")[0]["name"] == "Zelma Kalniņa"
    assert bot.throttle.enabled


def _execute(db_path, sql: str) -> None:
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(sql)
