"""Issue 11, organisations and roles, through the sandbox: two organisations, an organisation
admin's invite link accepted by a new coordinator who can then alert; links expired, used,
unknown and of a revoked maker; refusals outside the scope and for the wrong role; revoking in
/coordinators and on the command line; a forged revoke button for another organisation; and an
organisation's volunteers' link for a new and for a registered person."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Sauciens
from bot.application.coalition import Added
from bot.domain.coalition import Organisation, Scope, StoredRole
from bot.domain.people import Address
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, seed
from tests.e2e.test_alerts import OGRE, coordinator
from tests.e2e.test_cli import run_cli
from tests.e2e.waits import eventually

LIEPAJA = "0005000"
LINK = re.compile(r"https://t\.me/sauciens_bot\?start=([A-Za-z0-9]{16})\b")
LSK_ADMIN, LSK_COORD, OGR_ADMIN, OGR_COORD = 501, 502, 503, 504


def rows(db_path: Path, sql: str, *args: object) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]


def execute(db_path: Path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(sql, args)
        conn.commit()


def coordinator_row(bot: Sauciens, telegram_id: int) -> dict[str, Any] | None:
    found = rows(
        bot.settings.database.path,
        "SELECT c.role, c.name, c.added_by, c.areas, o.code FROM coordinators c"
        " JOIN organisations o ON o.id = c.organisation_id WHERE c.external_id = ?",
        str(telegram_id),
    )
    return found[0] if found else None


def role_of(bot: Sauciens, telegram_id: int) -> str | None:
    found = coordinator_row(bot, telegram_id)
    return found["role"] if found else None


def audit_actions(bot: Sauciens) -> list[tuple[str | None, str, str, str, str]]:
    return [
        (r["actor_external_id"], r["role"], r["organisation"], r["action"], r["target"])
        for r in rows(bot.settings.database.path, "SELECT * FROM audit_log ORDER BY id")
    ]


def members_of(bot: Sauciens, code: str) -> set[str]:
    return {
        r["external_id"]
        for r in rows(
            bot.settings.database.path,
            "SELECT p.external_id, m.source FROM memberships m JOIN people p ON p.id = m.person_id"
            " JOIN organisations o ON o.id = m.organisation_id WHERE o.code = ? AND m.source = 'invite'",
            code,
        )
    }


async def two_organisations(bot: Sauciens) -> tuple[Organisation, Organisation]:
    """LSK, for Liepāja, with an organisation admin and a coordinator; OGR, for Ogre, likewise."""
    coalition = bot.services.coalition
    lsk = await coalition.add_organisation("LSK", "Liepājas Samariešu kopa", Scope((LIEPAJA,)))
    ogr = await coalition.add_organisation("OGR", "Ogres brīvprātīgie", Scope((OGRE,)))
    assert isinstance(lsk, Organisation) and isinstance(ogr, Organisation)
    for telegram_id, org, role in (
        (LSK_ADMIN, "LSK", StoredRole.ORGADMIN),
        (LSK_COORD, "LSK", StoredRole.COORDINATOR),
        (OGR_ADMIN, "OGR", StoredRole.ORGADMIN),
        (OGR_COORD, "OGR", StoredRole.COORDINATOR),
    ):
        added = await coalition.add_coordinator(Address.telegram(telegram_id), org, role, Scope())
        assert isinstance(added, Added)
    return lsk, ogr


async def make_link(user: SimUser, command: str) -> str:
    await user.send(command)
    made = await user.wait_for("🔗")
    found = LINK.search(made.text)
    assert found is not None, made.text
    return found.group(1)


async def test_an_orgadmin_invites_a_coordinator_who_accepts_and_can_then_alert(sandbox: BotApiSandbox, bot):
    await two_organisations(bot)
    await seed(bot, sandbox, [Spec(1, "Liepāja 1", "en", LIEPAJA)])
    orgadmin = sandbox.user(LSK_ADMIN, "Ilze", language_code="en")
    code = await make_link(orgadmin, "/invite coordinator areas=Liepāja")
    made = orgadmin.last
    assert made is not None and "a coordinator of Liepājas Samariešu kopa (where: Liepāja)" in made.text
    assert "works once, for 72 hours" in made.text

    newcomer = sandbox.user(601, "Anna", "Ozola", language_code="en")
    await newcomer.send(f"/start {code}")
    invitation = await newcomer.wait_for("Invitation")
    assert "coordinate for Liepājas Samariešu kopa" in invitation.text and "Where: Liepāja." in invitation.text
    assert invitation.button_labels == ["✅ Accept", "Decline"]
    assert "Choose your language" not in "".join(m.text for m in newcomer.messages)  # not the volunteer's /start
    assert coordinator_row(bot, 601) is None  # nothing before consent
    await newcomer.press("✅ Accept", invitation)
    welcome = await newcomer.wait_for_edit(invitation, "Welcome")
    assert "You are now a coordinator of Liepājas Samariešu kopa" in welcome.text and not welcome.buttons
    help_text = await newcomer.wait_for("For coordinators")
    assert "/alert" in help_text.text and "/coordinators" in help_text.text
    assert coordinator_row(bot, 601) == {
        "role": "coordinator",
        "name": "Anna Ozola",
        "added_by": str(LSK_ADMIN),
        "areas": f'["{LIEPAJA}"]',
        "code": "LSK",
    }
    used = rows(bot.settings.database.path, "SELECT used_by, used_at FROM invites WHERE code = ?", code)
    assert used[0]["used_by"] == "601" and used[0]["used_at"]

    # the new coordinator's rights are there at once
    await newcomer.send("/alert areas=Liepāja Sandbags at the harbour")
    preview = await newcomer.wait_for("Preview")
    await newcomer.press("🚀", preview)
    await newcomer.wait_for("📤 Delivery")
    await newcomer.send("/start")
    assert "You are a coordinator" in (await newcomer.wait_for("coordinator")).text

    # the trail: who made the link, who used it, who was added (ids only, never the code)
    trail = audit_actions(bot)
    assert (str(LSK_ADMIN), "orgadmin", "LSK", "invite_created", "invite") in trail
    assert ("601", "coordinator", "LSK", "invite_used", "invite") in trail
    assert (str(LSK_ADMIN), "orgadmin", "LSK", "coordinator_added", "coordinator:601") in trail
    assert not any(code in str(r) for r in rows(bot.settings.database.path, "SELECT * FROM audit_log"))

    # the link worked once: for anyone else, and for the same person again, it is used
    other = sandbox.user(602, "Pēteris", language_code="en")
    await other.send(f"/start {code}")
    await other.wait_for("This invite link has been used already")
    await newcomer.send(f"/start {code}")
    await newcomer.wait_for("This invite link has been used already")
    assert coordinator_row(bot, 602) is None


async def test_an_admin_makes_an_organisation_admin_and_a_decline_changes_nothing(sandbox, bot):
    await two_organisations(bot)
    admin = await coordinator(sandbox)
    await admin.send("/invite orgadmin")
    await admin.wait_for("Please name the organisation: org=CODE. Organisations: LSK, OGR.")
    code = await make_link(admin, "/invite orgadmin org=ogr")
    person = sandbox.user(610, "Jānis", language_code="en")
    await person.send(f"/start {code}")
    invitation = await person.wait_for("organisation admin of Ogres brīvprātīgie")
    await person.press("Decline", invitation)
    await person.wait_for_edit(invitation, "All right, nothing changed.")
    assert coordinator_row(bot, 610) is None
    await person.send(f"/start {code}")
    await person.press("✅ Accept", await person.wait_for("Invitation"))
    await person.wait_for("Welcome")
    assert role_of(bot, 610) == "orgadmin"
    # an admin's invitation is filed under the organisation it is for
    assert (str(COORDINATOR_ID), "admin", "OGR", "invite_created", "invite") in audit_actions(bot)

    # the new organisation admin invites into their own organisation only
    await person.send("/invite coordinator areas=Liepāja")
    refused = await person.wait_for("outside the scope")
    assert "outside the scope you may give for Ogres brīvprātīgie: Ogre Municipality." in refused.text
    assert "No link was made." in refused.text

    # a coordinator promoted by a link is told that it replaces their role
    code = await make_link(admin, "/invite orgadmin org=OGR")
    promoted = sandbox.user(OGR_COORD, "Edgars", language_code="en")
    await promoted.send(f"/start {code}")
    invitation = await promoted.wait_for("Invitation")
    assert "You are a coordinator of Ogres brīvprātīgie now: accepting replaces that." in invitation.text
    await promoted.press("✅ Accept", invitation)
    await promoted.wait_for_edit(invitation, "You are now an organisation admin of Ogres brīvprātīgie")
    assert role_of(bot, OGR_COORD) == "orgadmin"


async def test_refusals_name_the_scope_and_the_role_and_make_no_link(sandbox, bot):
    await two_organisations(bot)
    await seed(bot, sandbox, [Spec(50, "Volunteer", "en", LIEPAJA)])
    orgadmin = sandbox.user(LSK_ADMIN, "Ilze", language_code="en")
    await orgadmin.send("/invite coordinator areas=Ogre")
    refused = await orgadmin.wait_for("No link was made")
    assert "outside the scope you may give for Liepājas Samariešu kopa: Liepāja." in refused.text
    await orgadmin.send("/invite coordinator countries=IE")
    await orgadmin.wait_for("outside the scope you may give for Liepājas Samariešu kopa: Liepāja.")
    await orgadmin.send("/invite orgadmin")
    await orgadmin.wait_for("Only admins may invite organisation admins.")
    await orgadmin.send("/invite coordinator areas=Liepaja2")
    assert "Unknown municipality “Liepaja2”. Did you mean" in (await orgadmin.wait_for("No link was made")).text
    await orgadmin.send("/invite volunteers areas=Liepāja")
    await orgadmin.wait_for("A volunteers' link has no areas or countries.")
    await orgadmin.send("/invite coordinator org=OGR")
    await orgadmin.wait_for("Only organisation admins and admins may invite.")
    await orgadmin.send("/invite captain")
    await orgadmin.wait_for("Please say whom to invite")

    plain = sandbox.user(LSK_COORD, "Edgars", language_code="en")
    await plain.send("/invite coordinator")
    await plain.wait_for("Only organisation admins and admins may invite.")
    await plain.send("/invite volunteers")
    await plain.wait_for("Only organisation admins and admins may invite.")
    volunteer = sandbox.user(50)
    await volunteer.send("/invite coordinator")
    await volunteer.wait_for("Sorry, this is for coordinators only.")
    volunteer_lv = sandbox.user(51, "Līga", language_code="lv")
    await volunteer_lv.send("/coordinators")
    await volunteer_lv.wait_for("Atvainojiet, tas pieejams tikai koordinatoriem.")

    admin = await coordinator(sandbox)
    await admin.send("/invite coordinator org=NOPE")
    await admin.wait_for("There is no organisation “NOPE”. Organisations: LSK, OGR.")
    assert rows(bot.settings.database.path, "SELECT count(*) AS n FROM invites")[0]["n"] == 0


async def test_expired_unknown_and_revoked_makers_links_change_nothing(sandbox, bot):
    await two_organisations(bot)
    db = bot.settings.database.path
    orgadmin = sandbox.user(LSK_ADMIN, "Ilze", language_code="en")
    person = sandbox.user(620, "Marta", language_code="en")

    # expired: the stored expiry moved into the past (no sleeping)
    code = await make_link(orgadmin, "/invite coordinator")
    expires = rows(db, "SELECT created_at, expires_at FROM invites WHERE code = ?", code)[0]
    created = datetime.fromisoformat(expires["created_at"])
    assert datetime.fromisoformat(expires["expires_at"]) - created == timedelta(hours=72)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    execute(db, "UPDATE invites SET expires_at = ? WHERE code = ?", past, code)
    await person.send(f"/start {code}")
    await person.wait_for("This invite link has expired")

    # expired between the consent question and the answer: Accept changes nothing
    code = await make_link(orgadmin, "/invite coordinator")
    await person.send(f"/start {code}")
    invitation = await person.wait_for("Invitation")
    execute(db, "UPDATE invites SET expires_at = ? WHERE code = ?", past, code)
    await person.press("✅ Accept", invitation)
    await person.wait_for_edit(invitation, "This invite link has expired")
    assert coordinator_row(bot, 620) is None

    # unknown, in the form of a code and not
    await person.send("/start ABCDEFGHJKLMNPQR")
    await person.wait_for("This invite link is not valid")
    latvian = sandbox.user(621, "Līga", language_code="lv")
    await latvian.send("/start ABCDEFGHJKLMNPQR")
    await latvian.wait_for("Šī uzaicinājuma saite nav derīga.")
    await person.forge_callback("inv:yes:ABCDEFGHJKLMNPQR", invitation)
    await person.wait_for_edit(invitation, "This invite link is not valid")
    assert coordinator_row(bot, 620) is None

    # the maker's own link is not for them
    code = await make_link(orgadmin, "/invite coordinator")
    await orgadmin.send(f"/start {code}")
    await orgadmin.wait_for("This is your own invite link")

    # its maker revoked: the link no longer works, also after the question was shown
    await person.send(f"/start {code}")
    invitation = await person.wait_for("Invitation")
    revoked = await bot.services.coalition.revoke_coordinator(Address.telegram(LSK_ADMIN), None)
    assert not isinstance(revoked, Exception)
    await person.press("✅ Accept", invitation)
    await person.wait_for_edit(invitation, "no longer valid: whoever made it may no longer invite")
    await person.send(f"/start {code}")
    await person.wait_for("no longer valid")
    assert coordinator_row(bot, 620) is None
    assert [r["used_by"] for r in rows(db, "SELECT used_by FROM invites")] == [None, None, None]


async def test_coordinators_lists_and_revokes_and_a_forged_button_for_another_organisation_is_refused(sandbox, bot):
    await two_organisations(bot)
    orgadmin = sandbox.user(LSK_ADMIN, "Ilze", language_code="en")
    await orgadmin.send("/coordinators")
    listed = await orgadmin.wait_for("Coordinators")
    assert "Liepājas Samariešu kopa (LSK), where: Liepāja" in listed.text
    assert f"({LSK_COORD}) — coordinator" in listed.text and f"({LSK_ADMIN}) — organisation admin" in listed.text
    assert "Ogres" not in listed.text and str(OGR_COORD) not in listed.text
    assert [d for row in listed.buttons for _, d in row] == [f"crd:ask:{LSK_COORD}"]  # not themselves

    # forged buttons for the other organisation's coordinator: refused, nothing changes
    for data in (f"crd:ask:{OGR_COORD}", f"crd:yes:{OGR_COORD}"):
        query = await orgadmin.forge_callback(data, listed)
        answer = await orgadmin.wait_answered(query)
        assert "only the coordinators of your own organisation" in answer["text"] and answer["show_alert"]
    assert coordinator_row(bot, OGR_COORD) is not None
    # a plain coordinator sees the list but may not revoke, forged or not
    plain = sandbox.user(OGR_COORD, "Edgars", language_code="en")
    await plain.send("/coordinators")
    assert not (await plain.wait_for("Coordinators")).buttons
    answer = await plain.wait_answered(await plain.forge_callback(f"crd:yes:{OGR_ADMIN}"))
    assert "only the coordinators of your own organisation" in answer["text"]
    assert coordinator_row(bot, OGR_ADMIN) is not None

    # revoking, with a confirmation; Edgars chose English, so he is told in English
    revoked = sandbox.user(LSK_COORD, "Edgars", language_code="en")
    await revoked.send("/language")
    await revoked.wait_for("Choose your language")
    await revoked.press("clang:en")
    await revoked.wait_for("Language: English")
    await orgadmin.press(f"crd:ask:{LSK_COORD}", listed)
    confirm = await orgadmin.wait_for_edit(listed, "Every right ends at once")
    assert f"({LSK_COORD}), coordinator of Liepājas Samariešu kopa?" in confirm.text
    await orgadmin.press("Revoke", confirm)
    await orgadmin.wait_for_edit(confirm, f"({LSK_COORD}) no longer coordinates for Liepājas Samariešu kopa.")
    assert coordinator_row(bot, LSK_COORD) is None
    assert (str(LSK_ADMIN), "orgadmin", "LSK", "coordinator_revoked", f"coordinator:{LSK_COORD}") in audit_actions(bot)
    told = await revoked.wait_for("no longer coordinate", timeout=10)  # through the outbox
    assert told.text == (
        "🚫 You no longer coordinate for Liepājas Samariešu kopa: coordinators' commands are closed to you now. "
        "If this is a mistake, please ask its admin."
    )
    await revoked.send("/alert areas=Liepāja Test")
    await revoked.wait_for("only coordinators can send alerts")
    await revoked.send("/coordinators")
    await revoked.wait_for("Sorry, this is for coordinators only.")

    # admins see every organisation, grouped, and may revoke anyone
    admin = await coordinator(sandbox)
    await admin.send("/coordinators")
    everyone = await admin.wait_for("Coordinators")
    assert everyone.text.index("(LSK)") < everyone.text.index("(OGR)")
    assert {d for row in everyone.buttons for _, d in row} == {
        f"crd:ask:{LSK_ADMIN}",
        f"crd:ask:{OGR_ADMIN}",
        f"crd:ask:{OGR_COORD}",
    }


async def test_revoking_on_the_command_line_takes_every_right_away_at_once(sandbox, bot, tmp_path):
    await two_organisations(bot)
    await seed(bot, sandbox, [Spec(1, "Ogre 1", "en", OGRE)])
    coord = sandbox.user(OGR_COORD, "Edgars", language_code="en")
    await coord.send("/alert areas=Ogre Test")
    await coord.press("✖️ Cancel", await coord.wait_for("Preview"))
    result = run_cli(tmp_path, bot.settings.database.path, "coordinators", "revoke", str(OGR_COORD))
    assert result.returncode == 0, result.stderr
    assert f"revoked {OGR_COORD} (coordinator of OGR)" in result.stdout
    # the running bot tells them (the command line only queued it), in the language of their
    # Telegram app: he chose none, and the bot remembered English when he wrote /alert
    told = await coord.wait_for("no longer coordinate", timeout=10)
    assert told.text.startswith("🚫 You no longer coordinate for Ogres brīvprātīgie:")
    await coord.send("/alert areas=Ogre Test")
    await coord.wait_for("only coordinators can send alerts")
    assert (None, "operator", "OGR", "coordinator_revoked", f"coordinator:{OGR_COORD}") in audit_actions(bot)
    again = run_cli(tmp_path, bot.settings.database.path, "coordinators", "revoke", str(OGR_COORD))
    assert again.returncode == 1 and f"{OGR_COORD} is not a coordinator" in again.stderr


async def test_a_volunteers_link_for_a_new_and_for_a_registered_person(sandbox, bot):
    await two_organisations(bot)
    db = bot.settings.database.path
    orgadmin = sandbox.user(LSK_ADMIN, "Ilze", language_code="en")
    code = await make_link(orgadmin, "/invite volunteers")
    assert "whoever opens it joins the organisation" in orgadmin.last.text
    assert await make_link(orgadmin, "/invite volunteers") == code  # the same reusable link again
    invite = rows(db, "SELECT kind, expires_at FROM invites WHERE code = ?", code)[0]
    assert invite == {"kind": "volunteers", "expires_at": None}

    # someone new: told, then registration starts exactly as /start; they join once they agree
    new = sandbox.user(701, "Zane", language_code="en")
    await new.send(f"/start {code}")
    await new.wait_for("This link is from Liepājas Samariešu kopa: once you agree to the privacy notice")
    await new.wait_for("Choose your language")
    assert rows(db, "SELECT count(*) AS n FROM people WHERE external_id = '701'")[0]["n"] == 0
    await new.press("lang:en")
    await new.press("consent:en:yes", await new.wait_for("Do you agree?"))
    await new.wait_for("Let's set up your profile")

    async def new_member() -> bool:  # just after the consent's answer
        return members_of(bot, "LSK") == {"701"}

    await eventually(new_member, "701 joined LSK")

    # someone new who declines: nothing is stored
    declining = sandbox.user(702, "Oskars", language_code="en")
    await declining.send(f"/start {code}")
    await declining.press("lang:en", await declining.wait_for("Choose your language"))
    await declining.press("consent:en:no", await declining.wait_for("Do you agree?"))
    await declining.wait_for("nothing was saved")
    assert members_of(bot, "LSK") == {"701"}
    assert rows(db, "SELECT count(*) AS n FROM people WHERE external_id = '702'")[0]["n"] == 0

    # someone registered: joins at once and is told so
    await seed(bot, sandbox, [Spec(703, "Registered", "en", LIEPAJA, extra={"consent_at": datetime.now(UTC)})])
    registered = sandbox.user(703)
    await registered.send(f"/start {code}")
    joined = await registered.wait_for("You are now one of the volunteers of Liepājas Samariešu kopa")
    assert "its coordinators can send you its alerts" in joined.text
    await registered.wait_no_message()
    assert members_of(bot, "LSK") == {"701", "703"}
    await registered.send(f"/start {code}")
    await registered.wait_for("You are already one of the volunteers of Liepājas Samariešu kopa.")
    trail = [a for a in audit_actions(bot) if a[3] == "invite_used"]
    assert trail == [(None, "volunteer", "LSK", "invite_used", "invite")] * 2

    # the link of a revoked maker stops working for volunteers too
    await bot.services.coalition.revoke_coordinator(Address.telegram(LSK_ADMIN), None)
    late = sandbox.user(704, "Late", language_code="en")
    await late.send(f"/start {code}")
    await late.wait_for("no longer valid")
    await late.wait_no_message()


async def test_renaming_an_organisation_on_the_command_line_shows_on_its_next_alerts(sandbox, bot, tmp_path):
    await two_organisations(bot)
    await seed(bot, sandbox, [Spec(1, "Ogre 1", "en", OGRE)])
    coord = sandbox.user(OGR_COORD, "Edgars", language_code="en")
    await coord.send("/alert areas=Ogre Test")
    assert "From: Edgars, Ogres brīvprātīgie" in (await coord.wait_for("Preview")).text
    await coord.press("✖️ Cancel", coord.last)
    result = run_cli(tmp_path, bot.settings.database.path, "orgs", "rename", "OGR", "Ogres glābēji")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "renamed organisation OGR: Ogres brīvprātīgie -> Ogres glābēji\n"
    await coord.send("/alert areas=Ogre Test")
    assert "From: Edgars, Ogres glābēji" in (await coord.wait_for("Preview")).text
    assert (None, "operator", "OGR", "organisation_renamed", "organisation:2") in audit_actions(bot)
