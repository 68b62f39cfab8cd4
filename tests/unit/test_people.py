"""People: the pure rules (names, quiet hours, dates, pauses) and the repository against a
real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.application.steps import Step, next_step, step_sequence
from bot.domain.people import (
    Address,
    InvalidPhone,
    LocationKind,
    Person,
    PersonStatus,
    clean_city,
    clean_name,
    contact_phone,
    normalise_phone,
    parse_date,
    parse_quiet_hours,
)
from bot.domain.sessions import Flow, Session
from db.people import PeopleRepo
from db.sessions import SessionRepo

UTC = UTC


# ----- pure rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22-7", ("22:00", "07:00")),
        ("22:00-07:00", ("22:00", "07:00")),
        ("23.30 – 6.45", ("23:30", "06:45")),
        (" 0-6 ", ("00:00", "06:00")),
        ("9—17", ("09:00", "17:00")),
        ("25-7", None),
        ("22-7:60", None),
        ("22-22", None),
        ("late", None),
        ("22", None),
        ("", None),
    ],
)
def test_parse_quiet_hours(text, expected):
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Anna   Bērziņa ", "Anna Bērziņa"),
        ("x" * 64, "x" * 64),
        ("x" * 65, None),
        ("   ", None),
        ("", None),
        ("/start", None),
    ],
)
def test_clean_name(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  New   York ", "New York"),
        ("München", "München"),
        ("12345", None),
        ("y" * 65, None),
        ("/x", None),
        ("", None),
    ],
)
def test_clean_city(text, expected):
    assert clean_city(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+371 2000 0000", "+37120000000"), ("(371) 20-000-000", "+37120000000"), ("2000 0000", "+37120000000")],
)
def test_normalise_phone(text, expected):
    assert normalise_phone(text) == expected


@pytest.mark.parametrize("text", ["123", "call me", "+12"])
def test_normalise_phone_rejects(text):
    with pytest.raises(InvalidPhone):
        normalise_phone(text)


@pytest.mark.parametrize(
    ("shared", "expected"),
    [("37120000000", "+37120000000"), ("+37120000000", "+37120000000"), ("447700900123", "+447700900123")],
)
def test_a_contact_shared_from_telegram_is_international_with_or_without_plus(shared, expected):
    assert contact_phone(shared) == expected


TODAY = date(2026, 6, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.12.2026", date(2026, 12, 24)),
        ("2026-12-24", date(2026, 12, 24)),
        ("24.12.", date(2026, 12, 24)),
        ("1.3", date(2027, 3, 1)),  # without a year: the next such day
        ("10.06.2026", TODAY),
        ("24/12/26", date(2026, 12, 24)),
        ("09.06.2026", None),  # the past
        ("31.02.2027", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, TODAY) == expected


def make_person(**fields: Any) -> Person:
    return Person(id=1, address=Address.telegram(1), status=PersonStatus.ACTIVE, language="lv", **fields)


def test_quiet_hours_over_midnight_in_the_persons_zone():
    p = make_person(quiet_start="22:00", quiet_end="07:00", timezone="Europe/Riga")
    assert p.in_quiet_hours(datetime(2026, 1, 10, 21, 30, tzinfo=UTC))  # 23:30 in Riga
    assert p.in_quiet_hours(datetime(2026, 1, 10, 4, 59, tzinfo=UTC))  # 06:59
    assert not p.in_quiet_hours(datetime(2026, 1, 10, 5, 0, tzinfo=UTC))  # 07:00
    assert not p.in_quiet_hours(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    day = make_person(quiet_start="09:00", quiet_end="17:00", timezone="America/New_York")
    assert day.in_quiet_hours(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))  # 10:00 in New York
    assert not day.in_quiet_hours(datetime(2026, 1, 10, 23, 0, tzinfo=UTC))  # 18:00
    assert not make_person().in_quiet_hours(datetime(2026, 1, 10, 23, 0, tzinfo=UTC))


def test_pause_until_a_date_ends_that_day_in_the_persons_zone():
    p = make_person(paused=True, paused_until=date(2026, 3, 1), timezone="Europe/Riga")
    assert p.is_paused(datetime(2026, 2, 28, 21, 59, tzinfo=UTC))  # 23:59 in Riga
    assert not p.is_paused(datetime(2026, 2, 28, 22, 0, tzinfo=UTC))  # midnight in Riga
    assert make_person(paused=True).is_paused(datetime(2030, 1, 1, tzinfo=UTC))
    assert not make_person(paused=False, paused_until=date(2030, 1, 1)).is_paused(datetime(2026, 1, 1, tzinfo=UTC))


def test_address_of_a_telegram_user():
    assert Address.telegram(42) == Address("telegram", "42") == Address.telegram("42")


# ----- the repository ----------------------------------------------------------------------


async def test_create_update_and_read_back(db):
    repo = PeopleRepo(db)
    address = Address.telegram(501)
    consent = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    p = await repo.create(address, language="en", name="Anna", consent_at=consent)
    assert (p.status, p.language, p.name, p.consent_at, p.source, p.skills) == (
        "registering",
        "en",
        "Anna",
        consent,
        "chat",
        (),
    )
    await repo.update(
        p.id,
        location_kind="abroad",
        country="IE",
        city="Dublin",
        timezone="Europe/Dublin",
        quiet_start="22:00",
        quiet_end="07:00",
        paused=True,
        paused_until=date(2026, 12, 24),
        status="active",
    )
    await repo.set_skills(p.id, ["translation", "legal", "translation"])
    got = await repo.get(address)
    assert got is not None and got.id == p.id
    assert (got.abroad, got.country, got.city, got.timezone, got.paused, got.paused_until, got.active) == (
        True,
        "IE",
        "Dublin",
        "Europe/Dublin",
        True,
        date(2026, 12, 24),
        True,
    )
    assert got.skills == ("legal", "translation")
    assert await repo.get(Address.telegram(502)) is None
    assert await repo.count_active() == 1
    with pytest.raises(ValueError, match="unknown person fields"):
        await repo.update(p.id, nickname="x")


async def test_import_inserts_then_updates_and_replaces_skills(db):
    repo = PeopleRepo(db)

    def imported(name: str, skills: tuple[str, ...]) -> Person:
        return Person(
            id=0,
            address=Address.telegram(601),
            status=PersonStatus.ACTIVE,
            language="lv",
            name=name,
            location_kind=LocationKind.LV,
            municipality="0001000",
            country="LV",
            skills=skills,
            organisation="LAPAS",
            source="import",
        )

    assert await repo.import_people([imported("A", ("first_aid", "driver"))]) == (1, 0)
    assert await repo.import_people([imported("B", ("care",))]) == (0, 1)
    people = await repo.all()
    assert len(people) == 1
    (p,) = people
    # the legacy free-text organisation is no longer written (a list's codes become memberships)
    assert (p.name, p.skills, p.source, p.status, p.consent_at, p.organisation, p.organisations) == (
        "B",
        ("care",),
        "import",
        "active",
        None,
        None,
        (),
    )


async def test_forget_removes_the_person_and_their_conversation(db):
    repo, sessions = PeopleRepo(db), SessionRepo(db)
    address = Address.telegram(701)
    p = await repo.create(address, language="lv", name="Zelma", consent_at=datetime.now(UTC))
    await repo.update(p.id, phone="+37120000000")
    await repo.set_skills(p.id, ["first_aid"])
    await sessions.set(address, Session(Flow.REGISTER, Step.WHERE, {"return": "summary"}))
    other = await repo.create(Address.telegram(702), language="en", name="Other", consent_at=datetime.now(UTC))

    data = await repo.personal_data(address)
    assert data is not None
    person, conversation = data["person"], data["conversation"]
    assert isinstance(person, dict) and isinstance(conversation, dict)
    assert person["name"] == "Zelma" and person["skills"] == ["first_aid"]
    assert conversation["step"] == "where" and data["alerts"] == []

    assert await repo.forget(address) is True
    assert await repo.get(address) is None
    assert await sessions.get(address) is None
    assert await db.fetchval("SELECT count(*) FROM person_skills") == 0
    assert await repo.personal_data(address) is None
    assert await repo.forget(address) is False
    kept = await repo.get(other.address)
    assert kept is not None and kept.name == "Other"  # nobody else is touched


async def test_sessions_round_trip(db):
    sessions = SessionRepo(db)
    address = Address.telegram(801)
    assert await sessions.get(address) is None
    await sessions.set(address, Session(Flow.EDIT, Step.WHERE, {"before": {"city": "Rīga"}}))
    await sessions.set(address, Session(Flow.EDIT, Step.COUNTRY, {"before": {"city": "Rīga"}}))
    got = await sessions.get(address)
    assert got == Session(Flow.EDIT, Step.COUNTRY, {"before": {"city": "Rīga"}})
    assert got is not None and type(got.flow) is Flow
    await sessions.clear(address)
    assert await sessions.get(address) is None


def test_registration_steps_skip_the_time_zone_when_there_is_nothing_to_choose():
    lv = make_person(location_kind=LocationKind.LV)
    assert step_sequence(lv) == ["name", "where", "municipality", "skills", "availability", "quiet", "phone", "summary"]
    assert next_step(lv, Step.MUNICIPALITY) == Step.SKILLS
    abroad = dict(location_kind=LocationKind.ABROAD)
    assert next_step(make_person(country="US", **abroad), Step.CITY) == Step.TIMEZONE
    assert next_step(make_person(country="IE", **abroad), Step.CITY) == Step.SKILLS  # one zone
    assert next_step(make_person(country="DE", **abroad), Step.CITY) == Step.SKILLS  # one clock
    assert next_step(make_person(country="BV", **abroad), Step.CITY) == Step.SKILLS  # no zone at all


async def test_the_person_states_are_the_values_the_schema_allows(db):
    """PersonStatus and LocationKind against the CHECK constraints of the migrated file."""
    import re

    sql = await db.fetchval("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'people'")

    def allowed(column: str) -> set[str]:
        m = re.search(rf"\b{column}\b[^,]*CHECK \({column} IN \(([^)]*)\)\)", sql)
        assert m is not None, column
        return {v.strip().strip("'") for v in m.group(1).split(",")}

    assert allowed("status") == {s.value for s in PersonStatus}
    assert allowed("location_kind") == {k.value for k in LocationKind}


async def test_a_stored_person_has_typed_states(db):
    repo = PeopleRepo(db)
    p = await repo.create(Address.telegram(901), language="lv", name="A", consent_at=datetime.now(UTC))
    assert type(p.status) is PersonStatus and p.status == PersonStatus.REGISTERING and p.location_kind is None
    await repo.update(p.id, status=PersonStatus.ACTIVE, location_kind=LocationKind.ABROAD)
    got = await repo.get(p.address)
    assert got is not None and (got.status, got.location_kind) == (PersonStatus.ACTIVE, LocationKind.ABROAD)
    assert type(got.location_kind) is LocationKind


async def test_audience_candidates_narrow_the_rows_but_never_decide(db):
    """``PeopleRepo.targets`` reads only the rows a filter can match; choosing from them gives
    the same audience as choosing from everybody, for every kind of filter, and each target
    carries the same values as the person."""
    import random

    from bot.domain.alerts import AudienceFilter, Severity, select_audience
    from bot.domain.people import ALL_ABROAD

    rng = random.Random(5)
    repo = PeopleRepo(db)
    areas, countries, skills = ["0001000", "0040000", "0004000"], ["GB", "IE", "DE"], ["first_aid", "driver", "care"]
    people = []
    for i in range(300):
        abroad = rng.random() < 0.3
        people.append(
            Person(
                id=0,
                address=Address.telegram(10_000 + i),
                status=PersonStatus.ACTIVE,
                language=rng.choice(("lv", "en")),
                name=f"P{i}",
                location_kind=LocationKind.ABROAD if abroad else LocationKind.LV,
                municipality=None if abroad else rng.choice(areas),
                country=rng.choice(countries) if abroad else "LV",
                timezone="Europe/London" if abroad else "Europe/Riga",
                skills=tuple(rng.sample(skills, rng.randint(0, 2))),
                source="import",
            )
        )
    await repo.import_people(people)
    for p in await repo.all():
        roll = rng.random()
        if roll < 0.1:
            await repo.update(p.id, paused=True)
        elif roll < 0.15:
            await repo.update(p.id, paused=True, paused_until=date(2026, 11, 22))  # over on NOW's day
        elif roll < 0.25:
            await repo.update(p.id, quiet_start="13:00", quiet_end="15:00")  # NOW is 14:00 in Rīga
        elif roll < 0.3:
            await repo.set_blocked(p.address, True)
        elif roll < 0.35:
            await repo.update(p.id, status=PersonStatus.REGISTERING)
    everybody = await repo.all()
    by_id = {p.id: p for p in everybody}
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def chosen(candidates, audience, severity):
        a = select_audience(candidates, audience, severity, now)
        return [p.id for p in a.recipients], (a.paused, a.blocked, a.quiet)

    filters = [
        AudienceFilter(),
        AudienceFilter(skills=["first_aid"]),
        AudienceFilter(skills=["driver", "care"], langs=["en"]),
        AudienceFilter(areas=["0040000"]),
        AudienceFilter(countries=[ALL_ABROAD]),
        AudienceFilter(areas=["0001000", "0004000"], countries=["IE"], skills=["care"]),
        AudienceFilter(countries=["GB", "DE"], langs=["lv"]),
    ]
    active = [p for p in everybody if p.active]
    assert len(await repo.targets(AudienceFilter())) == len(active) < len(everybody)
    narrowed = 0
    for audience in filters:
        targets = await repo.targets(audience)
        narrowed += len(targets) < len(active)
        for t in targets:
            p = by_id[t.id]
            assert (t.address, t.status, t.language, t.location_kind, t.municipality, t.country) == (
                p.address,
                p.status,
                p.language,
                p.location_kind,
                p.municipality,
                p.country,
            )
            assert (t.timezone, t.skills, t.quiet_start, t.quiet_end, t.paused, t.paused_until, t.blocked) == (
                p.timezone,
                p.skills,
                p.quiet_start,
                p.quiet_end,
                p.paused,
                p.paused_until,
                p.blocked,
            )
        for severity in (Severity.INFO, Severity.CRITICAL):
            expected = chosen(everybody, audience, severity)
            assert expected[0], audience  # the filter reaches someone: the comparison means something
            assert chosen(targets, audience, severity) == expected, audience
    assert narrowed == len(filters) - 1  # every filter but the empty one reads fewer rows
    assert await repo.countries_abroad() == sorted(
        {p.country for p in everybody if p.active and p.abroad and p.country is not None}
    )


async def test_an_import_writes_in_short_transactions_that_let_others_write_between(db):
    repo = PeopleRepo(db)

    def listed(i: int, name: str, skills: tuple[str, ...]) -> Person:
        return Person(
            id=0,
            address=Address.telegram(20_000 + i),
            status=PersonStatus.ACTIVE,
            language="lv",
            name=name,
            location_kind=LocationKind.LV,
            municipality="0001000",
            country="LV",
            skills=skills,
            source="import",
        )

    await repo.create(Address.telegram(20_003), language="en", name="Chat", consent_at=datetime.now(UTC))
    other = await repo.create(Address.telegram(30_000), language="en", name="Other", consent_at=datetime.now(UTC))
    listed_twice = [listed(i, f"N{i}", ("first_aid",)) for i in range(50)] + [listed(7, "Later", ("care", "driver"))]
    importing = asyncio.create_task(repo.import_people(listed_twice, batch=10))
    await asyncio.sleep(0)  # the import has begun
    await repo.update(other.id, name="Written during the import")
    imported_meanwhile = await db.fetchval("SELECT count(*) FROM people WHERE source = 'import'")
    assert await importing == (49, 2)  # 20_003 existed; 20_007 came twice
    assert 0 < imported_meanwhile < 49  # the update went in between two batches
    people = {p.address.external_id: p for p in await repo.all()}
    assert len(people) == 51 and people["30000"].name == "Written during the import"
    assert (people["20003"].name, people["20003"].source, people["20003"].skills) == ("N3", "chat", ("first_aid",))
    assert (people["20007"].name, people["20007"].skills) == ("Later", ("care", "driver"))
