"""Organisations, coordinators and invite links: reading scopes, the rules of granting and of
links, the use cases (bot.application.coalition) on a real SQLite file, and the command-line
functions (bot.cli) in process; ``python -m bot`` itself runs in tests/e2e."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.__main__ import parser
from bot.application.coalition import (
    Accepted,
    Coalition,
    Joined,
    JoinOutcome,
    LinkStatus,
    Opened,
    Refusal,
    Refused,
)
from bot.domain.coalition import (
    INVITE_LIFETIME,
    Actor,
    Coordinator,
    Invite,
    InviteKind,
    InviteState,
    Organisation,
    Scope,
    StoredRole,
    invite_state,
    may_grant,
    may_revoke,
    valid_invite_code,
)
from bot.domain.people import Address
from bot.domain.scopes import PlaceKind, read_scope, split_options
from bot.services import coalition_on
from bot.settings import Settings, load_settings
from db.audit import AuditRepo
from db.database import Database
from db.memberships import MembershipRepo
from db.people import PeopleRepo

LIEPAJA, OGRE, CESIS, RIGA = "0005000", "0040000", "0026000", "0001000"
JELGAVA, JELGAVAS_NOVADS = "0003000", "0030000"
ADMIN = 9000
LSK = Organisation(1, "LSK", "Liepājas Samariešu kopa", Scope((LIEPAJA, OGRE)))


# ----- reading a scope ----------------------------------------------------------------------


def test_a_scope_is_read_from_codes_and_names_comma_or_space_separated() -> None:
    reading = read_scope(["Ogre Cēsis", "Cēsu novads", RIGA], ["IE, United Kingdom", "*"])
    assert reading.scope == Scope((OGRE, CESIS, RIGA), ("IE", "GB", "*")) and not reading.unknown
    assert read_scope(["Jelgava"], []).scope == Scope((JELGAVA, JELGAVAS_NOVADS))  # a city and its novads
    assert read_scope(["Jelgavas novads"], ["Īrija"], ["lv"]).scope == Scope((JELGAVAS_NOVADS,), ("IE",))
    assert read_scope([], []).scope == Scope()


def test_values_that_name_no_place_exactly_are_refused_with_suggestions() -> None:
    reading = read_scope(["Ogre, Cesis2", "Ventsp"], ["Latvia", "Irlande"])
    assert reading.scope is None
    unknown = {(u.kind, u.value): u.suggestions for u in reading.unknown}
    assert unknown[(PlaceKind.AREA, "Cesis2")] == (CESIS,)
    assert len(unknown[(PlaceKind.AREA, "Ventsp")]) == 2  # Ventspils and Ventspils novads
    assert unknown[(PlaceKind.COUNTRY, "Latvia")] == ()  # not abroad
    assert "IE" in unknown[(PlaceKind.COUNTRY, "Irlande")]
    assert (PlaceKind.AREA, "Ogre") not in unknown


def test_options_split_like_the_one_line_alert() -> None:
    assert split_options("coordinator areas=„Cēsu novads”,Ogre org=LSK") == (
        [("areas", "Cēsu novads,Ogre"), ("org", "LSK")],
        ["coordinator"],
    )
    assert split_options("") == ([], [])


# ----- the rules ------------------------------------------------------------------------------


EVERYWHERE = Scope()


def orgadmin(org: Organisation = LSK, scope: Scope = EVERYWHERE, telegram_id: int = 100) -> Actor:
    return Actor.of(Coordinator(Address.telegram(telegram_id), org, StoredRole.ORGADMIN, scope))


def test_granting_stays_within_the_organisation_and_the_granter() -> None:
    admin = Actor.admin(Address.telegram(ADMIN))
    assert may_grant(admin, LSK, Scope((OGRE,))) and may_grant(admin, LSK, Scope())
    assert not may_grant(admin, LSK, Scope((RIGA,))) and not may_grant(admin, LSK, Scope((), ("IE",)))
    assert may_grant(orgadmin(), LSK, Scope((LIEPAJA,)))
    narrow = orgadmin(scope=Scope((LIEPAJA,)))
    assert may_grant(narrow, LSK, Scope((LIEPAJA,)))
    assert not may_grant(narrow, LSK, Scope((OGRE,)))
    assert not may_grant(narrow, LSK, Scope())  # the whole organisation is more than their own
    other = Organisation(2, "OGR", "Ogre", Scope((OGRE,)))
    assert not may_grant(orgadmin(), other, Scope((OGRE,)))
    plain = Actor.of(Coordinator(Address.telegram(7), LSK, StoredRole.COORDINATOR))
    assert not may_grant(plain, LSK, Scope((LIEPAJA,)))


def test_revoking_is_for_admins_and_the_organisations_admins_never_oneself() -> None:
    admin = Actor.admin(Address.telegram(ADMIN))
    member = Coordinator(Address.telegram(7), LSK, StoredRole.COORDINATOR)
    outsider = Coordinator(Address.telegram(8), Organisation(2, "OGR", "Ogre"), StoredRole.COORDINATOR)
    assert may_revoke(admin, member) and may_revoke(admin, outsider)
    assert may_revoke(orgadmin(), member) and not may_revoke(orgadmin(), outsider)
    assert not may_revoke(orgadmin(telegram_id=7), member)  # themselves
    assert not may_revoke(Actor.of(member), Coordinator(Address.telegram(9), LSK, StoredRole.COORDINATOR))


def test_a_link_works_once_for_72_hours_while_its_maker_may_still_make_it() -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    maker = orgadmin()
    link = Invite("A" * 16, InviteKind.COORDINATOR, LSK, Scope(), "100", now, now + INVITE_LIFETIME)
    assert timedelta(hours=72) == INVITE_LIFETIME
    assert invite_state(link, maker, now) == InviteState.OPEN
    assert invite_state(link, maker, now + timedelta(hours=72)) == InviteState.EXPIRED
    assert invite_state(link, None, now) == InviteState.REVOKED  # the maker was revoked
    demoted = Actor.of(Coordinator(Address.telegram(100), LSK, StoredRole.COORDINATOR))
    assert invite_state(link, demoted, now) == InviteState.REVOKED
    used = Invite(link.code, link.kind, LSK, Scope(), "100", now, link.expires_at, used_at=now, used_by="5")
    assert invite_state(used, maker, now) == InviteState.USED
    volunteers = Invite("B" * 16, InviteKind.VOLUNTEERS, LSK, Scope(), "100", now, None, used_at=now)
    assert invite_state(volunteers, maker, now + timedelta(days=400)) == InviteState.OPEN
    assert valid_invite_code("Ab3" * 5 + "x") and not valid_invite_code("0" * 16) and not valid_invite_code("A")


# ----- the use cases --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coalition(db: Database, clock: Clock) -> Coalition:
    return coalition_on(db, [ADMIN], clock=clock)


async def lsk_with_admin(coalition: Coalition) -> tuple[Organisation, Actor]:
    org = await coalition.add_organisation("LSK", "Liepājas  Samariešu kopa ", Scope((LIEPAJA, OGRE)))
    assert isinstance(org, Organisation) and org.name == "Liepājas Samariešu kopa"
    await coalition.add_coordinator(Address.telegram(100), "lsk", StoredRole.ORGADMIN, Scope())
    coordinator = await coalition.coordinator(Address.telegram(100))
    assert coordinator is not None
    return org, Actor.of(coordinator)


async def test_organisations_and_coordinators_are_checked_before_anything_is_stored(coalition: Coalition) -> None:
    assert await coalition.add_organisation("X", "Name", Scope()) == Refused(Refusal.BAD_CODE)
    assert await coalition.add_organisation("OK", " ", Scope()) == Refused(Refusal.BAD_NAME)
    org, _ = await lsk_with_admin(coalition)
    exists = await coalition.add_organisation("lsk", "Again", Scope())
    assert isinstance(exists, Refused) and exists.reason == Refusal.ORGANISATION_EXISTS
    assert await coalition.add_coordinator(Address.telegram(5), "NOPE", StoredRole.COORDINATOR, Scope()) == Refused(
        Refusal.NO_ORGANISATION
    )
    admin = await coalition.add_coordinator(Address.telegram(ADMIN), "LSK", StoredRole.COORDINATOR, Scope())
    assert isinstance(admin, Refused) and admin.reason == Refusal.IS_ADMIN
    outside = await coalition.add_coordinator(Address.telegram(5), "LSK", StoredRole.COORDINATOR, Scope((RIGA,)))
    assert outside == Refused(Refusal.OUTSIDE_SCOPE, org, org.scope)
    assert [o.code for o in await coalition.organisations()] == ["LSK"]
    assert [c.address.external_id for c in await coalition.all_coordinators()] == ["100"]


async def test_an_invite_is_made_used_once_and_recorded(coalition: Coalition, db: Database, clock: Clock) -> None:
    org, admin_of_lsk = await lsk_with_admin(coalition)
    link = await coalition.create_invite(admin_of_lsk, InviteKind.COORDINATOR, None, Scope((OGRE,)))
    assert isinstance(link, Invite) and link.organisation.id == org.id and valid_invite_code(link.code)
    assert link.expires_at == clock.now + timedelta(hours=72)
    opened = await coalition.open_invite(link.code, Address.telegram(5))
    assert opened.status == LinkStatus.OPEN and opened.current is None
    own = await coalition.open_invite(link.code, Address.telegram(100))
    assert own.status == LinkStatus.OWN
    accepted = await coalition.accept_invite(link.code, Address.telegram(5), "Anna")
    assert isinstance(accepted, Accepted)
    assert accepted.coordinator.scope == Scope((OGRE,)) and accepted.coordinator.added_by == "100"
    again = await coalition.accept_invite(link.code, Address.telegram(6), "Other")
    assert isinstance(again, Opened) and again.status == LinkStatus.USED
    assert await coalition.coordinator(Address.telegram(6)) is None
    entries = await AuditRepo(db).entries()
    assert [(e.actor, e.role, e.organisation, e.action, e.target) for e in entries[-3:]] == [
        ("100", "orgadmin", "LSK", "invite_created", "invite"),
        ("5", "coordinator", "LSK", "invite_used", "invite"),
        ("100", "orgadmin", "LSK", "coordinator_added", "coordinator:5"),
    ]
    assert all(link.code not in e.details for e in entries)


async def test_invites_are_refused_for_the_wrong_role_organisation_or_scope(coalition: Coalition) -> None:
    org, admin_of_lsk = await lsk_with_admin(coalition)
    admin = Actor.admin(Address.telegram(ADMIN))
    assert await coalition.create_invite(admin, InviteKind.COORDINATOR, None, Scope()) == Refused(
        Refusal.ORGANISATION_NEEDED
    )
    assert await coalition.create_invite(admin, InviteKind.ORGADMIN, "NOPE", Scope()) == Refused(
        Refusal.NO_ORGANISATION
    )
    assert isinstance(await coalition.create_invite(admin, InviteKind.ORGADMIN, "lsk", Scope()), Invite)
    refused = await coalition.create_invite(admin_of_lsk, InviteKind.ORGADMIN, None, Scope())
    assert isinstance(refused, Refused) and refused.reason == Refusal.NOT_ALLOWED
    outside = await coalition.create_invite(admin_of_lsk, InviteKind.COORDINATOR, None, Scope((RIGA,)))
    assert outside == Refused(Refusal.OUTSIDE_SCOPE, org, org.scope)
    await coalition.add_organisation("OGR", "Ogre", Scope((OGRE,)))
    other = await coalition.create_invite(admin_of_lsk, InviteKind.COORDINATOR, "OGR", Scope())
    assert isinstance(other, Refused) and other.reason == Refusal.NOT_ALLOWED


async def test_a_link_dies_with_its_maker_and_with_time(coalition: Coalition, clock: Clock) -> None:
    _, admin_of_lsk = await lsk_with_admin(coalition)
    link = await coalition.create_invite(admin_of_lsk, InviteKind.COORDINATOR, None, Scope())
    assert isinstance(link, Invite)
    clock.now += timedelta(hours=72)
    assert (await coalition.open_invite(link.code, Address.telegram(5))).status == LinkStatus.EXPIRED
    clock.now -= timedelta(hours=1)
    revoked = await coalition.revoke_coordinator(Address.telegram(100), None)
    assert isinstance(revoked, Coordinator)
    assert (await coalition.open_invite(link.code, Address.telegram(5))).status == LinkStatus.REVOKED
    assert (await coalition.open_invite("ABCDEFGHJKLMNPQR", Address.telegram(5))).status == LinkStatus.UNKNOWN
    assert (await coalition.open_invite("'; DROP TABLE", Address.telegram(5))).status == LinkStatus.UNKNOWN
    assert await coalition.revoke_coordinator(Address.telegram(100), None) == Refused(Refusal.NOT_A_COORDINATOR)


async def test_a_volunteers_link_joins_now_or_after_consent(coalition: Coalition, db: Database) -> None:
    org, admin_of_lsk = await lsk_with_admin(coalition)
    link = await coalition.create_invite(admin_of_lsk, InviteKind.VOLUNTEERS, None, Scope())
    assert isinstance(link, Invite) and link.expires_at is None
    same = await coalition.create_invite(admin_of_lsk, InviteKind.VOLUNTEERS, None, Scope())
    assert isinstance(same, Invite) and same.code == link.code

    newcomer = Address.telegram(20)
    pending = await coalition.join_by_volunteer_link(link.code, newcomer, None)
    assert pending == Joined(JoinOutcome.AFTER_CONSENT, org, True)
    people = PeopleRepo(db)
    await people.create(newcomer, language="en", name="Zane", consent_at=datetime.now(UTC))
    assert await coalition.join_after_consent(newcomer) == org
    assert await coalition.join_after_consent(newcomer) is None  # remembered once
    assert [m.organisation.code for m in await MembershipRepo(db).of(newcomer)] == ["LSK"]

    person = await people.get(newcomer)
    again = await coalition.join_by_volunteer_link(link.code, newcomer, person)
    assert isinstance(again, Joined) and again.outcome == JoinOutcome.ALREADY

    declined = Address.telegram(21)
    await coalition.join_by_volunteer_link(link.code, declined, None)
    coalition.forget_pending(declined)
    assert await coalition.join_after_consent(declined) is None
    used = [e for e in await AuditRepo(db).entries() if e.action == "invite_used"]
    assert [(e.actor, e.role, e.organisation) for e in used] == [(None, "volunteer", "LSK")]


async def test_coordinators_are_listed_for_ones_own_organisation_with_who_may_be_revoked(
    coalition: Coalition,
) -> None:
    _, admin_of_lsk = await lsk_with_admin(coalition)
    await coalition.add_coordinator(Address.telegram(5), "LSK", StoredRole.COORDINATOR, Scope((OGRE,)))
    await coalition.add_organisation("OGR", "Ogre", Scope((OGRE,)))
    await coalition.add_coordinator(Address.telegram(6), "OGR", StoredRole.COORDINATOR, Scope())
    listed = await coalition.coordinators_of(admin_of_lsk)
    assert [(e.coordinator.address.external_id, e.revocable) for e in listed] == [("100", False), ("5", True)]
    everyone = await coalition.coordinators_of(Actor.admin(Address.telegram(ADMIN)))
    assert [e.coordinator.organisation.code for e in everyone] == ["LSK", "LSK", "OGR"]
    assert all(e.revocable for e in everyone)
    forged = await coalition.revoke_coordinator(Address.telegram(6), admin_of_lsk)
    assert isinstance(forged, Refused) and forged.reason == Refusal.NOT_ALLOWED
    assert await coalition.coordinator(Address.telegram(6)) is not None


# ----- the command line, in process ---------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, database={"path": str(tmp_path / "cli.sqlite3")}, access={"admin_ids": [ADMIN]})


def audit_rows(settings: Settings) -> list[tuple[str | None, str, str, str, str]]:
    with closing(sqlite3.connect(settings.database.path)) as conn:
        return list(conn.execute("SELECT actor_external_id, role, organisation, action, target FROM audit_log"))


async def run(command: Callable[..., Awaitable[int]], *args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await command(*args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_parser_takes_the_commands_of_the_issue() -> None:
    p = parser()
    args = p.parse_args(["orgs", "add", "LSK", "Liepājas Samariešu kopa", "--areas", "Liepāja", "Ogre,Cēsis"])
    assert (args.code, args.name, args.areas, args.countries) == (
        "LSK",
        "Liepājas Samariešu kopa",
        ["Liepāja", "Ogre,Cēsis"],
        [],
    )
    args = p.parse_args(["coordinators", "add", "123", "--org", "LSK", "--role", "orgadmin", "--countries", "*"])
    assert (args.telegram_id, args.org, args.role, args.areas, args.countries) == (123, "LSK", "orgadmin", [], ["*"])
    assert p.parse_args(["coordinators", "revoke", "123"]).telegram_id == 123
    args = p.parse_args(["orgs", "rename", "LSK", "Latvijas Samariešu kopa"])
    assert (args.action, args.code, args.name) == ("rename", "LSK", "Latvijas Samariešu kopa")
    assert p.parse_args(["orgs", "list"]).action == "list" and p.parse_args(["coordinators", "list"]).action == "list"
    for bad in (
        ["coordinators", "add", "abc", "--org", "LSK"],
        ["coordinators", "add", "1", "--org", "L", "--role", "x"],
    ):
        with pytest.raises(SystemExit):
            p.parse_args(bad)


async def test_orgs_add_and_list(settings: Settings) -> None:
    code, out, _ = await run(cli.add_organisation, settings, "LSK", "Liepājas Samariešu kopa", ["Liepāja"], [])
    assert code == 0 and out == "added organisation LSK (Liepājas Samariešu kopa); scope: Liepāja\n"
    code, _, _ = await run(cli.add_organisation, settings, "ABR", "Abroad", [], ["IE", "United Kingdom"])
    assert code == 0
    code, _, err = await run(cli.add_organisation, settings, "lsk", "Again", [], [])
    assert code == 1 and "organisation LSK exists already" in err
    code, _, err = await run(cli.add_organisation, settings, "NEW", "New", ["Cesis2"], ["Latvia"])
    assert code == 2 and "unknown municipality 'Cesis2'" in err and "did you mean Cēsu novads?" in err
    assert "unknown country 'Latvia'" in err and "nothing was added" in err
    code, _, err = await run(cli.add_organisation, settings, "a b", "Bad", [], [])
    assert code == 2 and "is not an organisation code" in err
    listing = io.StringIO()
    assert await cli.list_organisations(settings, listing) == 0
    assert list(csv.reader(io.StringIO(listing.getvalue()))) == [
        ["code", "name", "areas", "countries", "coordinators"],
        ["ABR", "Abroad", "", "IE;GB", "0"],
        ["LSK", "Liepājas Samariešu kopa", LIEPAJA, "", "0"],
    ]
    assert [r[1:4] for r in audit_rows(settings)] == [
        ("operator", "LSK", "organisation_added"),
        ("operator", "ABR", "organisation_added"),
    ]


async def test_orgs_rename(settings: Settings) -> None:
    await run(cli.add_organisation, settings, "LSK", "Liepājas Samariešu kopa", [], [])
    code, out, _ = await run(cli.rename_organisation, settings, "lsk", "  Latvijas   Samariešu kopa ")
    assert code == 0 and out == "renamed organisation LSK: Liepājas Samariešu kopa -> Latvijas Samariešu kopa\n"
    code, _, err = await run(cli.rename_organisation, settings, "OGR", "Ogre")
    assert code == 1 and "no organisation has the code 'OGR'" in err
    code, _, err = await run(cli.rename_organisation, settings, "LSK", " ")
    assert code == 2 and "nothing was renamed" in err
    listing = io.StringIO()
    assert await cli.list_organisations(settings, listing) == 0
    assert "LSK,Latvijas Samariešu kopa," in listing.getvalue()
    assert [r[1:4] for r in audit_rows(settings)] == [
        ("operator", "LSK", "organisation_added"),
        ("operator", "LSK", "organisation_renamed"),
    ]


async def test_coordinators_add_list_and_revoke(settings: Settings) -> None:
    await run(cli.add_organisation, settings, "LSK", "Liepājas Samariešu kopa", ["Liepāja, Ogre"], [])
    code, out, _ = await run(cli.add_coordinator, settings, 123, "LSK", "orgadmin", [], [])
    assert code == 0 and out == "123 is now orgadmin of LSK; scope: Liepāja, Ogre Municipality\n"
    code, out, _ = await run(cli.add_coordinator, settings, 124, "lsk", "coordinator", ["Ogre"], [])
    assert code == 0 and "scope: Ogre Municipality" in out
    code, _, err = await run(cli.add_coordinator, settings, 125, "LSK", "coordinator", ["Rīga"], [])
    assert code == 1 and err == "sauciens: outside the scope of LSK (Liepāja, Ogre Municipality); nothing was changed\n"
    code, _, err = await run(cli.add_coordinator, settings, 125, "LSK", "coordinator", [], ["*"])
    assert code == 1 and "outside the scope of LSK" in err
    code, _, err = await run(cli.add_coordinator, settings, 125, "NOPE", "coordinator", [], [])
    assert code == 1 and "there is no organisation 'NOPE' (organisations: LSK)" in err
    code, _, err = await run(cli.add_coordinator, settings, ADMIN, "LSK", "coordinator", [], [])
    assert code == 1 and "is an admin" in err
    code, _, err = await run(cli.add_coordinator, settings, 125, "LSK", "coordinator", ["Ogre Cesis2"], [])
    assert code == 2 and "unknown municipality 'Ogre Cesis2'" in err
    code, out, _ = await run(cli.add_coordinator, settings, 124, "LSK", "orgadmin", [], [])
    assert code == 0 and "(their earlier role was replaced)" in out

    listing = io.StringIO()
    assert await cli.list_coordinators(settings, listing) == 0
    assert list(csv.reader(io.StringIO(listing.getvalue()))) == [
        ["telegram_id", "organisation", "role", "areas", "countries", "name", "added_by"],
        ["123", "LSK", "orgadmin", "", "", "", ""],
        ["124", "LSK", "orgadmin", "", "", "", ""],
    ]
    code, out, _ = await run(cli.revoke_coordinator, settings, 124)
    assert code == 0 and out == "revoked 124 (orgadmin of LSK)\n"
    code, _, err = await run(cli.revoke_coordinator, settings, 124)
    assert code == 1 and "124 is not a coordinator" in err
    code, _, err = await run(cli.revoke_coordinator, settings, ADMIN)
    assert code == 1 and "remove them from access.admin_ids" in err
    assert audit_rows(settings)[1:] == [
        (None, "operator", "LSK", "coordinator_added", "coordinator:123"),
        (None, "operator", "LSK", "coordinator_added", "coordinator:124"),
        (None, "operator", "LSK", "coordinator_added", "coordinator:124"),
        (None, "operator", "LSK", "coordinator_revoked", "coordinator:124"),
    ]
