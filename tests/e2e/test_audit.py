"""The audit trail through the sandbox: /audit for admins (the whole coalition), organisation
admins (their organisation only) and no one else; /export, /forget and the command line's
exports and imports each write a row, and no row holds a volunteer's personal data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.domain.audit import AuditAction, AuditRole
from bot.domain.coalition import Actor, Scope, StoredRole
from bot.domain.people import Address
from db.database import Database
from db.migrate import migrate
from db.organisations import CoordinatorRepo, OrganisationRepo
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import OGRE, coordinator, send_one_line, wait_delivered
from tests.e2e.test_cli import HEADER, run_cli, write
from tests.e2e.test_registration import rows

ORGADMIN, PLAIN, OTHER_ADMIN, EMPTY_ADMIN = 9100, 9101, 9200, 9300
NAMES = ("Anna Bērziņa", "Jānis Ozols")
PHONE = "+37120000001"


def audit_rows(db_path: Path, action: str | None = None) -> list[dict]:
    if action is None:
        return rows(db_path, "SELECT * FROM audit_log ORDER BY id")
    return rows(db_path, "SELECT * FROM audit_log WHERE action = ? ORDER BY id", action)


def personal_data_in_audit(db_path: Path, *needles: str) -> list[str]:
    """Where in the audit trail any of ``needles`` occurs (not in the hashes: hex digits may spell an id)."""
    return [
        f"{r['id']}:{k}={v!r}"
        for r in audit_rows(db_path)
        for k, v in r.items()
        if k not in ("hash", "prev_hash") and any(n in str(v) for n in needles)
    ]


async def organisations(db_path: Path) -> None:
    """Three organisations and their people, in the database before the bot starts."""
    db = await Database(db_path).open()
    await migrate(db)
    orgs, coordinators = OrganisationRepo(db), CoordinatorRepo(db)
    lsk = await orgs.add("LSK", "Liepājas Samariešu kopa", Scope(("0170000",)))
    sk = await orgs.add("SK", "Sarkanais Krusts", Scope())
    empty = await orgs.add("JAUNA", "Jauna biedrība", Scope())
    await coordinators.put(Address.telegram(ORGADMIN), lsk.id, StoredRole.ORGADMIN, Scope())
    await coordinators.put(Address.telegram(PLAIN), lsk.id, StoredRole.COORDINATOR, Scope())
    await coordinators.put(Address.telegram(OTHER_ADMIN), sk.id, StoredRole.ORGADMIN, Scope())
    await coordinators.put(Address.telegram(EMPTY_ADMIN), empty.id, StoredRole.ORGADMIN, Scope())
    await db.close()


async def test_an_admin_sees_the_coalitions_trail_and_an_export_is_recorded(sandbox, bot, db_path):
    users = await seed(bot, sandbox, [Spec(7001, NAMES[0], "en", OGRE), Spec(7002, NAMES[1], "lv", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    await wait_delivered(bot, 1, 2)
    await users[0].press("ans:1:yes")
    await users[0].wait_for("You are confirmed")
    await coord.send("/export 1")
    doc = await coord.wait_for(lambda m: m.document is not None)
    assert len(list(csv.DictReader(io.StringIO(doc.document[1].decode())))) == 2
    # the tracking message's Export button is the same export
    tracking = next(m for m in coord.messages if any(d == "trk:export:1" for row in m.buttons for _, d in row))
    await coord.press("trk:export:1", tracking)
    await coord.wait_for(lambda m: m.document is not None)

    exports = audit_rows(db_path, AuditAction.EXPORT)
    assert [
        (
            r["actor_channel"],
            r["actor_external_id"],
            r["role"],
            r["organisation"],
            r["target"],
            json.loads(r["details"]),
        )
        for r in exports
    ] == [("telegram", str(COORDINATOR_ID), "admin", "", "alert:1", {"rows": 2})] * 2
    assert personal_data_in_audit(db_path, *NAMES, "7001", "7002") == []

    await coord.send("/audit")
    shown = await coord.wait_for("Audit trail")
    lines = shown.text.splitlines()
    assert lines[0].startswith("Audit trail: the latest ") and lines[1] == "Newest last, times in Riga time."
    assert lines[-1].endswith(f" · {COORDINATOR_ID} (admin) · export · alert:1 · rows=2")
    assert lines[-2].endswith(f" · {COORDINATOR_ID} (admin) · export · alert:1 · rows=2")


async def test_an_orgadmin_sees_only_their_organisation_and_others_are_refused(sandbox, start_bot, db_path):
    await organisations(db_path)
    bot = await start_bot()
    audit = bot.services.audit
    lsk_admin = await bot.services.authorisation.actor(Address.telegram(ORGADMIN))
    lsk_coordinator = await bot.services.authorisation.actor(Address.telegram(PLAIN))
    sk_admin = await bot.services.authorisation.actor(Address.telegram(OTHER_ADMIN))
    assert lsk_admin is not None and lsk_coordinator is not None and sk_admin is not None
    admin = Actor.admin(Address.telegram(COORDINATOR_ID))
    await audit.record(lsk_admin, AuditAction.INVITE_CREATED, "invite")
    for n in range(1, 25):  # more than /audit shows
        await audit.record(lsk_coordinator, AuditAction.ALERT_SENT, f"alert:{n}", recipients=n)
    await audit.record(sk_admin, AuditAction.EXPORT, "alert:99", rows=7)
    await audit.record(admin, AuditAction.ORGANISATION_ADDED, "organisation:SK")
    await audit.record_as(AuditRole.OPERATOR, AuditAction.VOLUNTEERS_IMPORTED, "volunteers", created=3, updated=0)

    # the organisation admin: the latest 20 of their organisation's, oldest first, nothing of anyone else's
    orgadmin = sandbox.user(ORGADMIN, "Līga", language_code="en")
    await orgadmin.send("/audit")
    shown = await orgadmin.wait_for("Audit trail")
    lines = shown.text.splitlines()
    assert lines[0] == "Audit trail of Liepājas Samariešu kopa: the latest 20 entries"
    entries = lines[2:]
    assert len(entries) == 20
    assert [line.split(" · ")[3] for line in entries] == [f"alert:{n}" for n in range(5, 25)]
    assert entries[-1].split(" · ")[1:] == [f"{PLAIN} (coordinator)", "alert_sent", "alert:24", "recipients=24"]
    assert not any("alert:99" in line or "SK" in line or "operator" in line for line in entries)
    assert shown.html.splitlines()[-1].endswith(" · <b>alert_sent</b> · alert:24 · recipients=24")

    # in the person's language
    other = sandbox.user(OTHER_ADMIN, "Pēteris", language_code="lv")
    await other.send("/audit")
    shown = await other.wait_for("audita žurnāla")
    assert shown.text.splitlines()[0] == "Organizācijas Sarkanais Krusts audita žurnāla pēdējie ieraksti: 1"
    assert shown.text.splitlines()[-1].endswith(f" · {OTHER_ADMIN} (orgadmin) · export · alert:99 · rows=7")
    nobody_yet = sandbox.user(EMPTY_ADMIN, "Ilze", language_code="en")
    await nobody_yet.send("/audit")
    await nobody_yet.wait_for("The audit trail of Jauna biedrība has no entries yet.")

    # the admin: everyone's, with the organisation of each
    coord = await coordinator(sandbox)
    await coord.send("/audit")
    shown = await coord.wait_for("Audit trail")
    tail = shown.text.splitlines()[-4:]
    assert [line.split(" · ", 1)[1] for line in tail] == [
        f"{PLAIN} (coordinator, LSK) · alert_sent · alert:24 · recipients=24",
        f"{OTHER_ADMIN} (orgadmin, SK) · export · alert:99 · rows=7",
        f"{COORDINATOR_ID} (admin) · organisation_added · organisation:SK",
        "operator · volunteers_imported · volunteers · created=3, updated=0",
    ]

    # a plain coordinator, and a volunteer, are refused
    plain = sandbox.user(PLAIN, "Rūdolfs", language_code="en")
    await plain.send("/audit")
    await plain.wait_for("Sorry, /audit is for admins and organisation admins.")
    volunteer = (await seed(bot, sandbox, [Spec(1, NAMES[0], "en", OGRE)]))[0]
    await volunteer.send("/audit")
    await volunteer.wait_for("Sorry, this is for coordinators only.")


async def test_forget_is_recorded_without_who_it_was(sandbox, bot, db_path):
    users = await seed(bot, sandbox, [Spec(4242, NAMES[0], "en", OGRE, extra={"phone": PHONE})])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre need=1 Sandbags at the bridge")
    await wait_delivered(bot, 1, 1)
    u = users[0]
    await u.press("ans:1:yes", alert_messages(u)[0])
    await u.wait_for("You are confirmed")
    await u.send("/forget")
    await u.wait_for("Erase everything about you?")
    await u.press("forget:yes")
    await u.wait_for("Everything about you has been erased.")

    (row,) = audit_rows(db_path, AuditAction.PERSON_FORGOTTEN)
    assert (row["actor_channel"], row["actor_external_id"], row["role"], row["organisation"], row["target"]) == (
        None,
        None,
        "volunteer",
        "",
        "",
    )
    assert json.loads(row["details"]) == {"withdrawn": 1}
    assert personal_data_in_audit(db_path, "4242", NAMES[0], PHONE) == []
    # someone who was never registered has nothing to forget, and nothing is recorded
    stranger = sandbox.user(4343, "Svešais", language_code="en")
    await stranger.send("/forget")
    await stranger.wait_for("I keep nothing about you.")
    assert len(audit_rows(db_path, AuditAction.PERSON_FORGOTTEN)) == 1


async def test_the_command_lines_exports_and_imports_are_recorded(sandbox, bot, db_path, tmp_path):
    await seed(bot, sandbox, [Spec(1, NAMES[0], "en", OGRE), Spec(2, NAMES[1], "lv", OGRE)])
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    await wait_delivered(bot, 1, 2)
    await bot.stop()

    csv_file = write(
        tmp_path / "list.csv", f"{HEADER}\n1,{NAMES[0]},en,driver,Ogre,,,{PHONE},\n3,Pēteris,lv,,Ogre,,,,\n"
    )
    imported = run_cli(tmp_path, db_path, "volunteers", "import", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    assert "1 new, 1 updated" in imported.stdout
    assert run_cli(tmp_path, db_path, "volunteers", "export").returncode == 0
    assert run_cli(tmp_path, db_path, "alerts", "export", "1").returncode == 0
    assert run_cli(tmp_path, db_path, "alerts", "export", "7").returncode == 1  # no alert 7: nothing exported

    recorded = [
        (r["actor_external_id"], r["role"], r["action"], r["target"], json.loads(r["details"]))
        for r in audit_rows(db_path)
        if r["role"] == "operator"
    ]
    assert recorded == [
        (
            None,
            "operator",
            "volunteers_imported",
            "volunteers",
            {"created": 1, "updated": 1, "memberships_added": 0, "memberships_removed": 0},
        ),
        (None, "operator", "export", "volunteers", {"rows": 3}),
        (None, "operator", "export", "alert:1", {"rows": 2}),
    ]
    assert personal_data_in_audit(db_path, *NAMES, "Pēteris", PHONE) == []

    listed = run_cli(tmp_path, db_path, "audit", "--action", "export")
    assert listed.returncode == 0, listed.stderr
    got = [(r["role"], r["target"], r["details"]) for r in csv.DictReader(io.StringIO(listed.stdout))]
    assert got == [("operator", "volunteers", '{"rows":3}'), ("operator", "alert:1", '{"rows":2}')]
    verified = run_cli(tmp_path, db_path, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("audit trail intact: ")
