"""The alert domain: the one-line form, targeting, quota decisions, respond-by times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.domain.alerts import (
    AlertDraft,
    AudienceFilter,
    Problem,
    Response,
    Severity,
    parse_one_line,
    parse_respond_by,
    read_respond_by,
    select_audience,
)
from bot.domain.people import Address, LocationKind, Person, PersonStatus
from bot.domain.quota import decide, still_needed

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 14:00 in Riga


def person(i: int, **kw: Any) -> Person:
    base: dict[str, Any] = dict(
        id=i,
        address=Address.telegram(i),
        status=PersonStatus.ACTIVE,
        language="lv",
        location_kind=LocationKind.LV,
        municipality="0001000",
        country="LV",
    )
    base.update(kw)
    return Person(**base)


LANGS = ("lv", "en")


def one_line(args, now=NOW, langs=LANGS):
    parsed = parse_one_line(args, now, langs)
    return parsed.draft, parsed.problems


def test_one_line_options_and_text_with_line_breaks():
    draft, problems = one_line(
        'skills=first_aid,driver areas="Cēsu novads",Ogre,0001000 countries=gb,* langs=en severity=critical need=12 drill=yes by=2h Line one\nLine <two>',
    )
    assert problems == [] and draft is not None
    assert draft.audience.skills == ["first_aid", "driver"]
    assert draft.audience.areas == ["0026000", "0040000", "0001000"]
    assert draft.audience.countries == ["GB", "*"]
    assert draft.audience.langs == ["en"]
    assert (draft.severity, draft.need, draft.drill) == ("critical", 12, True)
    assert draft.respond_by == datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    assert draft.texts == {"lv": "Line one\nLine <two>"}  # one text, for everyone
    assert draft.text_for("en") == draft.text_for("uk") == "Line one\nLine <two>"


def test_one_line_other_words_with_equals_after_the_text_are_text():
    draft, problems = one_line("need=2 Come to Ogre: a=b, 2+2=4", NOW, LANGS)
    assert problems == [] and draft is not None
    assert draft.need == 2 and draft.texts == {"lv": "Come to Ogre: a=b, 2+2=4"}


def test_one_line_known_keys_in_the_text_stop_the_parser_and_are_named():
    """Without quotes, 'novads,Ogre skills=...' became the text of an URGENT, non-drill alert."""
    draft, problems = one_line("areas=Cēsu novads,Ogre skills=first_aid drill=yes need=1 by=90m Mācības", NOW, LANGS)
    assert draft is None
    assert [p.code for p in problems] == ["keys_in_text"]
    assert problems[0].values == {"keys": "skills=, drill=, need=, by="}
    draft, problems = one_line("need=2 Come to Ogre, NEED = 3 people", NOW, LANGS)
    assert draft is None and problems[0].values == {"keys": "need="}


def test_one_line_typographic_quotes_are_quotes():
    for opening, closing in (("„", "”"), ("“", "”"), ("”", "”"), ("‘", "’"), ("«", "»"), ('"', '"')):
        args = f"areas={opening}Cēsu novads{closing},Ogre skills=first_aid Test “quoted” text"
        draft, problems = one_line(args)
        assert problems == [] and draft is not None, (opening, problems)
        assert draft.audience.areas == ["0026000", "0040000"] and draft.audience.skills == ["first_aid"]
        assert draft.texts == {"lv": "Test “quoted” text"}


def test_one_line_places_resolve_exactly_or_are_refused_with_suggestions():
    for typed, codes in {
        "Cēsis": ["0026000"],
        "cesu novads": ["0026000"],
        "CĒSU NOVADS": ["0026000"],
        "0026000": ["0026000"],
        "Ikšķile": ["0040000"],  # a known alias: a town of Ogres novads
        "Jelgavas novads": ["0030000"],
        "Jelgavas pilsēta": ["0003000"],
    }.items():
        draft, problems = one_line(f'areas="{typed}" Text')
        assert problems == [] and draft is not None and draft.audience.areas == codes, typed
    for typed, suggestion in {"Cesis2": "Cēsu novads", "Ventsp": "Ventspils, Ventspils novads"}.items():
        draft, problems = one_line(f"areas={typed} Text")
        assert draft is None and problems[0].code == "unknown_area", typed
        assert problems[0].values == {"value": typed, "suggestions": suggestion}
    draft, problems = one_line("countries=Irland Text")
    assert draft is None and problems[0].values["suggestions"].startswith("IE")
    draft, problems = one_line("countries=ireland,UK,deu Text")
    assert draft is not None and draft.audience.countries == ["IE", "GB", "DE"]


def test_one_line_a_state_citys_bare_name_includes_its_novads_and_says_so():
    for name, city, novads in (
        ("Jelgava", "0003000", "0030000"),
        ("Ventspils", "0007000", "0056000"),
        ("Rēzekne", "0006000", "0043000"),
        ("Daugavpils", "0002000", "0022000"),
    ):
        parsed = parse_one_line(f"areas={name} Text", NOW, LANGS)
        assert parsed.draft is not None and parsed.draft.audience.areas == [city, novads], name
        assert [(n.code, n.values) for n in parsed.notes] == [
            ("twins", {"value": name, "city": city, "municipality": novads})
        ]


def test_one_line_a_respond_by_in_the_past_is_refused():
    evening = datetime(2026, 11, 22, 19, 5, tzinfo=UTC)  # 21:05 in Riga
    draft, problems = one_line("by=18:30 Text", evening)
    assert draft is None and [(p.code, p.values) for p in problems] == [("past_by", {"value": "18:30", "now": "21:05"})]
    draft, problems = one_line("by=23:30 Text", evening)
    assert draft is not None and draft.respond_by == datetime(2026, 11, 22, 21, 30, tzinfo=UTC)


def test_one_line_every_problem_is_reported():
    draft, problems = one_line("x=1 skills=nope areas=Atlantis need=0 drill=maybe langs=lv,uk", NOW, LANGS)
    assert draft is None
    assert [p.code for p in problems] == [
        "unknown_key",
        "unknown_skill",
        "unknown_area",
        "bad_need",
        "bad_drill",
        "unknown_language",
        "no_text",
    ]
    assert problems[-2].values == {"value": "uk", "languages": "lv, en"}
    # with Ukrainian enabled, langs=uk is a language
    draft, problems = one_line("langs=lv,uk Text", NOW, (*LANGS, "uk"))
    assert problems == [] and draft is not None
    assert draft.audience.langs == ["lv", "uk"]


def test_an_alert_reads_its_own_text_else_the_default_languages_else_any():
    both = AlertDraft(texts={"lv": "Latviski", "en": "In English"})
    assert [both.text_for(lang) for lang in ("lv", "en", "uk")] == ["Latviski", "In English", "Latviski"]
    english = AlertDraft(texts={"en": "In English"})
    assert [english.text_for(lang) for lang in ("lv", "en", "uk")] == ["In English"] * 3
    assert AlertDraft().text_for("lv") == "" and not AlertDraft().has_text


def test_a_draft_saved_with_text_lv_and_text_en_still_loads():
    """A composer session open across the upgrade has the old keys."""
    old = {"audience": {"skills": ["driver"]}, "text_lv": "Latviski", "text_en": None, "severity": "info", "need": 3}
    draft = AlertDraft.from_dict(old)
    assert draft.texts == {"lv": "Latviski"} and draft.audience.skills == ["driver"] and draft.need == 3
    assert AlertDraft.from_dict({"text_lv": "A", "text_en": "B"}).texts == {"lv": "A", "en": "B"}
    assert AlertDraft.from_dict({"text_en": "B"}).texts == {"en": "B"}
    again = AlertDraft.from_dict(draft.to_dict())
    assert again == draft


def test_respond_by_clock_is_riga_time_the_nearest_occurrence_and_never_past():
    assert parse_respond_by("18:30", NOW) == datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    assert parse_respond_by("09:00", NOW) is None  # five hours ago, not tomorrow
    late = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # 23:00 in Riga
    assert parse_respond_by("01:00", late) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # after midnight
    assert read_respond_by("09:00", NOW) == Problem("past_by", {"value": "09:00", "now": "14:00"})
    assert parse_respond_by("90m", NOW) == datetime(2026, 11, 22, 13, 30, tzinfo=UTC)
    assert parse_respond_by("25:00", NOW) is None and parse_respond_by("soon", NOW) is None


def test_audience_and_exclusions():
    people = [
        person(1, skills=("first_aid",)),
        person(2, skills=("driver",), municipality="0040000"),
        person(
            3,
            skills=("translation",),
            location_kind=LocationKind.ABROAD,
            municipality=None,
            country="IE",
            timezone="Europe/Dublin",
            language="en",
        ),
        person(4, skills=("first_aid",), paused=True),
        person(5, skills=("first_aid",), paused=True, paused_until=date(2026, 11, 22)),  # pause over today
        person(6, skills=("first_aid",), blocked=True),
        person(7, skills=("first_aid",), quiet_start="13:00", quiet_end="15:00"),
        person(8, skills=("first_aid",), status=PersonStatus.REGISTERING),
    ]
    a = select_audience(people, AudienceFilter(skills=["first_aid"]), Severity.URGENT, NOW)
    assert [p.id for p in a.recipients] == [1, 5] and (a.paused, a.blocked, a.quiet) == (1, 1, 1)
    assert [
        p.id for p in select_audience(people, AudienceFilter(skills=["first_aid"]), Severity.CRITICAL, NOW).recipients
    ] == [1, 5, 7]
    assert [p.id for p in select_audience(people, AudienceFilter(countries=["*"]), Severity.INFO, NOW).recipients] == [
        3
    ]
    assert [
        p.id
        for p in select_audience(
            people, AudienceFilter(areas=["0040000"], countries=["IE"]), Severity.INFO, NOW
        ).recipients
    ] == [2, 3]
    assert [p.id for p in select_audience(people, AudienceFilter(langs=["en"]), Severity.INFO, NOW).recipients] == [3]


def test_quiet_hours_over_midnight():
    p = person(1, quiet_start="22:00", quiet_end="07:00")
    assert p.in_quiet_hours(datetime(2026, 11, 22, 21, 0, tzinfo=UTC))  # 23:00 Riga
    assert p.in_quiet_hours(datetime(2026, 11, 22, 4, 0, tzinfo=UTC))  # 06:00 Riga
    assert not p.in_quiet_hours(datetime(2026, 11, 22, 5, 30, tzinfo=UTC))  # 07:30 Riga


def test_quota_decisions():
    assert decide(Response.NONE, True, 2, 0).response == "accepted"
    assert decide(Response.NONE, True, 2, 2).response == "standby"
    assert decide(Response.NONE, True, None, 500).response == "accepted"
    assert decide(Response.STANDBY, True, 2, 1).response == "standby"  # a second tap keeps the place in line
    d = decide(Response.ACCEPTED, False, 2, 2)
    assert d.response == "declined" and d.promote_standby
    assert not decide(Response.STANDBY, False, 2, 2).promote_standby
    assert still_needed(3, 1) == 2 and still_needed(3, 5) == 0 and still_needed(None, 4) is None
