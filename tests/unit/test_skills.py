from __future__ import annotations

from bot.domain.skills import (
    Skill,
    parse_skill_codes,
    skill,
    skill_groups,
    skills,
    skills_for,
    suggest_skill,
)
from bot.i18n import language_codes, translator
from bot.messenger.render import GROUP_HEADINGS, group_heading


def test_catalogue_is_loaded_in_file_order() -> None:
    items = skills()
    assert len(items) == 35
    assert items[0] == Skill(
        code="first_aid",
        group="care",
        remote_ok=False,
        label="First aid",
    )
    assert items[-1].code == "legal"
    assert len({s.code for s in items}) == len(items)


def test_labels_with_embedded_commas_are_msgids_translated_by_the_catalogues() -> None:
    medical = skill("medical")
    assert medical is not None
    assert medical.label == "Medic (doctor, nurse, paramedic)"
    assert translator("en")._(medical.label) == "Medic (doctor, nurse, paramedic)"
    assert translator("lv")._(medical.label) == "Mediķis (ārsts, māsa, ārsta palīgs)"


def test_skill_lookup() -> None:
    translation = skill("translation")
    assert translation is not None and translation.remote_ok and translation.group == "information"
    assert skill(" First_Aid ") == skill("first_aid")
    assert skill("firstaid") is None
    assert skill("") is None


def test_hosting_is_split_and_shelter_keeps_its_code() -> None:
    shelter, home = skill("shelter"), skill("home_hosting")
    assert shelter is not None and home is not None
    assert shelter.group == home.group == "shelter"
    assert not shelter.remote_ok and shelter.label == "Work in an evacuee shelter"
    assert home.remote_ok and home.label == "Hosting evacuees at home"


def test_labels_fit_a_phone_button() -> None:
    # One skill per keyboard row; labels longer than this are cut off on a phone.
    labels = [(s.code, translator(lang)._(s.label)) for s in skills() for lang in language_codes()]
    too_long = [(code, label) for code, label in labels if len(label) > 48]
    assert too_long == []


def test_skill_groups_in_first_appearance_order() -> None:
    assert skill_groups() == [
        "care",
        "transport",
        "shelter",
        "supplies",
        "field",
        "information",
        "coordination",
    ]


def test_group_headings_cover_every_group() -> None:
    assert set(GROUP_HEADINGS) == set(skill_groups())
    lv, en = translator("lv"), translator("en")
    for group in skill_groups():
        assert group_heading(group, lv) != group_heading(group, en)
    assert group_heading("care", lv) == "Aprūpe un veselība"
    assert group_heading("care", en) == "Care and health"
    assert group_heading("unknown", lv) == "unknown"


def test_skills_for_latvia_is_catalogue_order() -> None:
    assert skills_for(abroad=False) == skills()


def test_skills_for_abroad_keeps_each_group_together_remote_first() -> None:
    ordered = skills_for(abroad=True)
    assert sorted(s.code for s in ordered) == sorted(s.code for s in skills())
    groups = [s.group for s in ordered]
    assert list(dict.fromkeys(groups)) == skill_groups()  # each group once, in catalogue order
    for group in skill_groups():
        part = [s for s in ordered if s.group == group]
        remote = [s.code for s in part if s.remote_ok]
        assert [s.code for s in part[: len(remote)]] == remote, group  # remote-capable first
        # within each kind, catalogue order
        assert [s.code for s in part] == [
            *[s.code for s in skills() if s.group == group and s.remote_ok],
            *[s.code for s in skills() if s.group == group and not s.remote_ok],
        ]
    assert {s.code for s in ordered if s.remote_ok} == {
        "psych_support",
        "home_hosting",
        "aid_shipping",
        "hotline",
        "translation",
        "it_comms",
        "advocacy_media",
        "counter_disinformation",
        "fundraising",
        "coordination",
        "evacuee_support_abroad",
        "legal",
    }


def test_parse_skill_codes() -> None:
    assert parse_skill_codes("first_aid;driver") == (["first_aid", "driver"], [])
    assert parse_skill_codes(" Driver , FIRST_AID;driver;; ") == (["driver", "first_aid"], [])
    assert parse_skill_codes("first aid; Search-Rescue") == (["first_aid", "search_rescue"], [])
    assert parse_skill_codes("firstaid;driver;Juggling;juggling") == (
        ["driver"],
        ["firstaid", "Juggling"],
    )
    assert parse_skill_codes("") == ([], [])
    assert parse_skill_codes(" ; , ") == ([], [])


def test_suggest_skill() -> None:
    assert suggest_skill("firstaid") == "first_aid"
    assert suggest_skill("FirstAid") == "first_aid"
    assert suggest_skill("transation") == "translation"
    assert suggest_skill("drivr") == "driver"
    assert suggest_skill("xyzzy") is None
