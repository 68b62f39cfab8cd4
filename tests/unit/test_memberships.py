"""Memberships from the volunteer's side against a real SQLite file (joining, leaving, and what
importing a list again does), the registration question's place among the steps, the privacy
notice's version rule, and the new buttons' parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.application.steps import Step, next_step, step_sequence
from bot.domain.coalition import Membership, MembershipSource, Organisation, Reach, Scope
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address, LocationKind, Person, PersonStatus, must_agree_again
from db.database import Database
from db.memberships import ImportedMemberships, MembershipRepo
from db.organisations import OrganisationRepo
from db.people import PeopleRepo
from handlers.callbacks import MembershipAction, MembershipButton, NoticeButton, StepAction, StepButton, parse


def listed(external_id: int) -> Person:
    return Person(
        id=0,
        address=Address.telegram(external_id),
        status=PersonStatus.ACTIVE,
        language="lv",
        name=f"Person {external_id}",
        location_kind=LocationKind.LV,
        municipality="0001000",
        country="LV",
        source="import",
    )


async def test_importing_a_list_again_keeps_choices_and_departures(db: Database) -> None:
    orgs = OrganisationRepo(db)
    a, b, c = [await orgs.add(code, code, Scope()) for code in ("A1", "B2", "C3")]
    people, repo = PeopleRepo(db), MembershipRepo(db)
    await people.import_people([listed(1), listed(2)])
    one, two = Address.telegram(1), Address.telegram(2)

    first = await repo.import_lists({one: [a.id, b.id], two: []}, phone_visible=True)
    assert first == ImportedMemberships(added=2)
    assert [(m.organisation.code, m.source, m.phone_visible) for m in await repo.of(one)] == [
        ("A1", MembershipSource.IMPORT, True),
        ("B2", MembershipSource.IMPORT, True),
    ]
    # the person's own choices: hide the number from A1, leave B2, join C3 through its link
    assert await repo.set_phone_visible(one, a.id, False)
    assert await repo.leave(one, b.id) and not await repo.leave(one, b.id)
    assert await repo.join(one, c.id, MembershipSource.INVITE)

    again = await repo.import_lists({one: [a.id, b.id]}, phone_visible=True)
    assert again == ImportedMemberships(not_restored=1)
    assert [(m.organisation.code, m.source, m.phone_visible) for m in await repo.of(one)] == [
        ("A1", MembershipSource.IMPORT, False),  # kept as the person chose
        ("C3", MembershipSource.INVITE, False),  # a link's membership is not the list's
    ]
    assert not await repo.join(one, b.id, MembershipSource.IMPORT)  # the list does not undo leaving

    # a list without A1 takes the imported membership away, not the link's
    assert await repo.import_lists({one: []}, phone_visible=True) == ImportedMemberships(removed=1)
    assert [m.organisation.code for m in await repo.of(one)] == ["C3"]
    # opening B2's volunteers' link again makes the person a member again
    assert await repo.join(one, b.id, MembershipSource.INVITE)
    assert [m.organisation.code for m in await repo.of(one)] == ["B2", "C3"]
    person = await people.get(one)
    assert person is not None and person.organisations == (b.id, c.id)

    # forgetting the person forgets their memberships and departures
    await repo.leave(one, c.id)
    assert await people.forget(one)
    counts = [await db.fetchval(f"SELECT count(*) FROM {t}") for t in ("memberships", "membership_departures")]
    assert counts == [0, 0]


async def test_a_new_person_agrees_to_the_current_notice(db: Database) -> None:
    people = PeopleRepo(db)
    created = await people.create(
        Address.telegram(5), language="en", name="A", consent_at=datetime.now(UTC), privacy_version=2
    )
    assert created.privacy_version == 2 and not must_agree_again(created)


def test_the_coalition_question_comes_after_the_phone_for_members_only() -> None:
    pool = listed(1)
    assert Step.COALITION not in step_sequence(pool)
    assert next_step(pool, Step.PHONE) == Step.SUMMARY
    member = listed(2)
    member.organisations = (1,)
    assert step_sequence(member)[-3:] == [Step.PHONE, Step.COALITION, Step.SUMMARY]
    assert next_step(member, Step.PHONE) == Step.COALITION
    assert next_step(member, Step.COALITION) == next_step(pool, Step.COALITION) == Step.SUMMARY


def test_who_agreed_to_an_older_notice_agrees_again() -> None:
    assert PRIVACY_NOTICE_VERSION == 2
    person = listed(1)
    assert not must_agree_again(person)  # never agreed (imported): asked for consent, not again
    person.consent_at = datetime.now(UTC)
    for version, again in ((None, True), (1, True), (PRIVACY_NOTICE_VERSION, False)):
        person.privacy_version = version
        assert must_agree_again(person) is again, version


def test_reach_is_the_pool_or_the_members_organisations() -> None:
    org = Organisation(7, "LAPAS", "LAPAS", Scope())
    assert Reach((), False).shared_pool and Reach((), False).every_organisation
    member = Reach((Membership(org, MembershipSource.IMPORT, True),), False)
    assert not member.shared_pool and not member.every_organisation
    assert member.membership(7) is not None and member.membership(8) is None
    assert Reach(member.memberships, True).every_organisation


@pytest.mark.parametrize(
    ("data", "command"),
    [
        ("reg:coalition:yes", StepButton(StepAction.COALITION, "yes")),
        ("reg:coalition:no", StepButton(StepAction.COALITION, "no")),
        ("reg:coalition:maybe", None),
        ("reg:coalition", None),
        ("mem:open:yes", MembershipButton(MembershipAction.OPEN, allowed=True)),
        ("mem:open:no", MembershipButton(MembershipAction.OPEN, allowed=False)),
        ("mem:open", None),
        ("mem:phone:12:yes", MembershipButton(MembershipAction.PHONE, 12, True)),
        ("mem:phone:12", None),
        ("mem:phone:0:yes", None),
        ("mem:phone:-1:no", None),
        (f"mem:phone:{2**63}:no", None),
        ("mem:leave:3", MembershipButton(MembershipAction.LEAVE, 3)),
        ("mem:leaveyes:3", MembershipButton(MembershipAction.LEAVE_YES, 3)),
        ("mem:leaveyes:x", None),
        ("mem:leave", None),
        ("mem:back", MembershipButton(MembershipAction.BACK)),
        ("mem:done", MembershipButton(MembershipAction.DONE)),
        ("mem:done:1", None),
        ("mem:join:1", None),
        ("notice:2:yes", NoticeButton(2, True)),
        ("notice:2:no", NoticeButton(2, False)),
        ("notice:0:yes", None),
        ("notice:2", None),
        ("notice:two:yes", None),
    ],
)
def test_the_new_buttons_parse_strictly(data: str, command: object) -> None:
    assert parse(data) == command
