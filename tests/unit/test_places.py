from __future__ import annotations

import unicodedata
import zoneinfo

import pytest

from bot.domain.places import (
    DIASPORA_COUNTRIES,
    LATVIA_TZ,
    Municipality,
    all_countries,
    country_flag,
    country_name,
    country_timezones,
    default_timezone,
    is_country_code,
    latvian_sort_key,
    match_country,
    match_municipality,
    municipalities,
    municipality,
    municipality_by_emma_id,
    nearest_municipalities,
    nearest_municipality,
    normalise_country_code,
    timezone_label,
)
from bot.domain.places.countries import cldr_official_names, country_aliases, official_names
from bot.domain.places.data import read_rows
from bot.domain.places.matching import Index, fold, split_words
from bot.domain.places.municipalities import town_aliases


def by_name(name_lv: str) -> Municipality:
    found = [m for m in municipalities() if m.name_lv == name_lv]
    assert len(found) == 1, name_lv
    return found[0]


# --------------------------------------------------------------------------
# Municipality data
# --------------------------------------------------------------------------


def test_there_are_42_territories_7_of_them_state_cities() -> None:
    items = municipalities()
    assert len(items) == 42
    assert len({m.atvk for m in items}) == 42
    cities = {m.name_lv for m in items if m.is_city}
    assert cities == {
        "Rīga",
        "Daugavpils",
        "Jelgava",
        "Jūrmala",
        "Liepāja",
        "Rēzekne",
        "Ventspils",
    }
    assert all(m.name_lv.endswith(" novads") for m in items if not m.is_city)


def test_municipalities_use_latvian_alphabetical_order() -> None:
    names = [m.name_lv for m in municipalities()]
    # Ā after all A..., Ķ after K..., Ē and Ī do not sort as E and I.
    assert names[:4] == [
        "Aizkraukles novads",
        "Alūksnes novads",
        "Augšdaugavas novads",
        "Ādažu novads",
    ]
    assert names.index("Kuldīgas novads") < names.index("Ķekavas novads") < names.index("Liepāja")
    assert names.index("Jelgavas novads") < names.index("Jēkabpils novads") < names.index("Jūrmala")
    assert names.index("Rēzeknes novads") < names.index("Rīga") < names.index("Ropažu novads")
    assert names[-1] == "Ventspils novads"


def test_latvian_sort_key_puts_diacritic_letters_after_base() -> None:
    words = ["čai", "cukurs", "ābols", "zebra", "auto", "šis", "sēne", "žogs", "se"]
    assert sorted(words, key=latvian_sort_key) == [
        "auto",
        "ābols",
        "cukurs",
        "čai",
        "se",
        "sēne",
        "šis",
        "zebra",
        "žogs",
    ]


def test_municipality_fields_and_names() -> None:
    cesis = municipality("0026000")
    assert cesis is not None
    assert cesis.name_lv == "Cēsu novads"
    assert cesis.name_en == "Cēsis Municipality"
    assert cesis.iso == "LV-022"
    assert (cesis.lat, cesis.lon) == (57.312, 25.275)
    assert cesis.emma_id == "LV016"
    assert not cesis.is_city
    riga = municipality("0001000")
    assert riga is not None and riga.is_city and riga.name_en == "Riga"
    # English names keep their diacritics; Riga is the established English exonym.
    found = [municipality(c) for c in ("0004000", "0005000", "0006000")]
    assert [m.name_en if m else None for m in found] == ["Jūrmala", "Liepāja", "Rēzekne"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0001000", "Rīga"),
        ("LV0001000", "Rīga"),
        ("lv0001000", "Rīga"),
        (" 0054000 ", "Valmieras novads"),
        ("0038001", "Madonas novads"),
        ("0038000", "Madonas novads"),  # Madona before 1 July 2025
        ("0055000", "Madonas novads"),  # Varakļānu novads, merged
        ("LV0055000", "Madonas novads"),
        ("1000", "Rīga"),  # leading zeros lost in a spreadsheet
        ("LV-RIX", "Rīga"),
        ("LV-022", "Cēsu novads"),
        ("LV-102", "Madonas novads"),  # ISO code of Varakļānu novads
    ],
)
def test_municipality_by_code(code: str, expected: str) -> None:
    found = municipality(code)
    assert found is not None
    assert found.name_lv == expected


@pytest.mark.parametrize("code", ["0050000", "9999999", "", "abc", "LV-999", "00010000"])
def test_unknown_codes(code: str) -> None:
    assert municipality(code) is None


def test_municipality_by_emma_id() -> None:
    found = municipality_by_emma_id("lv039")
    assert found is not None and found.name_lv == "Rīga"
    assert municipality_by_emma_id("LV999") is None


# --------------------------------------------------------------------------
# Municipality matching
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cesis", "Cēsu novads"),
        ("Cēsu novads", "Cēsu novads"),
        ("Cēsīs", "Cēsu novads"),
        ("Cesis Municipality", "Cēsu novads"),
        ("Valmiera", "Valmieras novads"),
        ("riga", "Rīga"),
        ("Rīgā", "Rīga"),
        ("RIGA", "Rīga"),
        ("Rīgas pilsēta", "Rīga"),
        ("Riga city", "Rīga"),
        ("Rīga, Latvija", "Rīga"),
        ("jurmala", "Jūrmala"),
        ("Liepājā", "Liepāja"),
        ("Varakļāni", "Madonas novads"),
        ("Varaklanu novads", "Madonas novads"),
        ("0055000", "Madonas novads"),
        ("0038000", "Madonas novads"),
        ("Ogre", "Ogres novads"),
        ("Ogres nov.", "Ogres novads"),
        ("Daugavpils", "Daugavpils"),
        ("daugavpls", "Daugavpils"),
        ("Rezekne", "Rēzekne"),
        ("Rēzeknē", "Rēzekne"),
        ("Jelgava", "Jelgava"),
        ("Ventspils", "Ventspils"),
        ("Rēzeknes novads", "Rēzeknes novads"),
        ("Jelgavas novadā", "Jelgavas novads"),
        ("Ventspils Municipality", "Ventspils novads"),
        ("Daugavpils novads", "Augšdaugavas novads"),  # the pre-2021 novads
        ("LV0001000", "Rīga"),
        ("0001000", "Rīga"),
        ("Sigulda", "Siguldas novads"),
        ("Siguldā", "Siguldas novads"),
        ("Salaspils", "Salaspils novads"),
        ("Olaine", "Olaines novads"),
        ("Ādaži", "Ādažu novads"),
        ("adazi", "Ādažu novads"),
        ("Kuldīga", "Kuldīgas novads"),
        ("Talsi", "Talsu novads"),
        ("Talsos", "Talsu novads"),
        ("Saulkrasti", "Saulkrastu novads"),
        ("Līvāni", "Līvānu novads"),
        ("Preiļi", "Preiļu novads"),
        ("Balvi", "Balvu novads"),
        ("Tukumā", "Tukuma novads"),
        ("Kekava", "Ķekavas novads"),
        ("Dienvidkurzeme", "Dienvidkurzemes novads"),
        ("South Kurzeme", "Dienvidkurzemes novads"),
        # Towns that belong to a differently named municipality.
        ("Ikšķile", "Ogres novads"),
        ("ikskile", "Ogres novads"),
        ("Lielvārde", "Ogres novads"),
        ("Ķegums", "Ogres novads"),
        ("Baldone", "Ķekavas novads"),
        ("Carnikava", "Ādažu novads"),
        ("Ainaži", "Limbažu novads"),
        ("Salacgrīva", "Limbažu novads"),
        ("Vangaži", "Ropažu novads"),
        ("Lubāna", "Madonas novads"),
        # Small typos.
        ("Valmeira", "Valmieras novads"),
        ("Jurmla", "Jūrmala"),
        ("Rezkne", "Rēzekne"),
        ("cesiss", "Cēsu novads"),
        ("Siguldaa", "Siguldas novads"),
    ],
)
def test_match_municipality_confident(text: str, expected: str) -> None:
    result = match_municipality(text)
    assert result.best is not None, text
    assert result.best.name_lv == expected
    assert result.candidates[0] == result.best
    assert result


def test_state_city_wins_but_municipality_is_a_candidate() -> None:
    result = match_municipality("Rezekne")
    assert result.best == by_name("Rēzekne")
    assert result.candidates == [by_name("Rēzekne"), by_name("Rēzeknes novads")]

    result = match_municipality("Rēzeknes novads")
    assert result.best == by_name("Rēzeknes novads")
    assert by_name("Rēzekne") in result.candidates

    result = match_municipality("Daugavpils")
    assert result.best == by_name("Daugavpils")
    assert by_name("Augšdaugavas novads") in result.candidates


@pytest.mark.parametrize("text", ["xyzzy", "asdf", "qwerty", "Springfield", "", "   ", "novads"])
def test_nonsense_has_no_match(text: str) -> None:
    result = match_municipality(text)
    assert result.best is None
    assert not result
    assert len(result.candidates) <= 1


@pytest.mark.parametrize("code", ["0050000", "LV9999999"])
def test_unknown_code_has_no_match(code: str) -> None:
    assert match_municipality(code) == match_municipality("")
    assert match_municipality(code).candidates == []


def test_ambiguous_text_gives_candidates_not_an_answer() -> None:
    # Priekule (Dienvidkurzemes novads) and Priekuļi (Cēsu novads).
    result = match_municipality("Priekule")
    assert result.best is None
    assert set(result.candidates) == {by_name("Dienvidkurzemes novads"), by_name("Cēsu novads")}

    result = match_municipality("Ogre Sigulda")
    assert result.best is None
    assert result.candidates[:2] == [by_name("Ogres novads"), by_name("Siguldas novads")]

    result = match_municipality("balk")  # Balvi? Valka?
    assert result.best is None
    assert {by_name("Balvu novads"), by_name("Valkas novads")} <= set(result.candidates)
    assert len(result.candidates) <= 5


def test_too_short_typo_is_only_a_suggestion() -> None:
    result = match_municipality("Rga")
    assert result.best is None
    assert result.candidates == [by_name("Rīga")]


@pytest.mark.parametrize("item", municipalities(), ids=lambda m: m.atvk)
def test_every_territory_matches_its_own_names_and_codes(item: Municipality) -> None:
    for text in (
        item.name_lv,
        item.name_en,
        item.name_lv.upper(),
        item.name_en.lower(),
        item.atvk,
        "LV" + item.atvk,
    ):
        result = match_municipality(text)
        assert result.best == item, text


@pytest.mark.parametrize("item", municipalities(), ids=lambda m: m.atvk)
def test_matching_ignores_diacritics_in_the_text_and_in_the_names(item: Municipality) -> None:
    for name in (item.name_lv, item.name_en):
        bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
        assert match_municipality(bare).best == item, bare


def test_a_name_with_diacritics_is_found_by_its_bare_spelling() -> None:
    index: Index[str] = Index()
    index.add(split_words("Jūrmala"), "J")
    index.add(split_words("Liepāja"), "L")
    assert index.exact("jurmal", "jurmala") == ["J"]
    assert fold("Rēzekne") == fold("Rezekne") == "rezekne"
    assert index.scored(["liepaj"], 1) == {"L": 0}


def test_town_aliases_are_data_and_name_their_territory() -> None:
    rows = read_rows("municipality_aliases.csv")
    assert len(rows) == len(town_aliases()) > 70
    for row in rows:
        territory = municipality(row["atvk"])
        assert territory is not None, row
        assert territory.name_lv == row["municipality"], row
        # Priekuļi (Cēsu novads) and Priekule (Dienvidkurzemes novads) share a stem: both are offered.
        assert territory in match_municipality(row["alias"]).candidates[:2], row
    assert ("Ikšķile", "0040000") in town_aliases()


def test_official_country_names_file_is_cldr() -> None:
    """bot/data/country_names.csv is what ``python -m bot.i18n_tools country-names`` writes from
    the installed Babel (rerun it after upgrading Babel)."""
    assert official_names() == cldr_official_names()
    assert ("DE", "de", "Deutschland") in official_names()
    assert match_country("Deutschland").best == "DE"


def test_country_aliases_are_data() -> None:
    assert ("Anglija", "GB") in country_aliases()
    for alias, code in country_aliases():
        assert is_country_code(code), alias
        assert match_country(alias).best == code or code in match_country(alias).candidates, alias


# --------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (56.95, 24.11, "Rīga"),
        (57.31, 25.27, "Cēsu novads"),
        (56.82, 24.60, "Ogres novads"),
        (56.51, 21.01, "Liepāja"),
        (55.88, 26.53, "Daugavpils"),
        (56.65, 23.72, "Jelgava"),
        (57.54, 25.42, "Valmieras novads"),
        (56.86, 24.36, "Salaspils novads"),
    ],
)
def test_nearest_municipality(lat: float, lon: float, expected: str) -> None:
    assert nearest_municipality(lat, lon).name_lv == expected


def test_municipality_centre_shared_with_a_city_is_not_used() -> None:
    # Rēzeknes novads' council sits in the state city; a point in the city
    # is the city, a point in the countryside west of it is the novads.
    assert nearest_municipality(56.51, 27.34).name_lv == "Rēzekne"
    assert nearest_municipality(56.50, 27.15).name_lv == "Rēzeknes novads"


def test_point_in_the_sea_west_of_liepaja_is_still_sensible() -> None:
    nearest = nearest_municipalities(56.5, 20.5, n=3)
    assert nearest[0][0].name_lv in {"Liepāja", "Dienvidkurzemes novads"}
    assert nearest[0][1] > 25  # km: far from land, callers can tell
    assert len(nearest) == 3
    distances = [d for _, d in nearest]
    assert distances == sorted(distances)


def test_nearest_municipalities_distances() -> None:
    (first, dist), *_ = nearest_municipalities(56.946, 24.106, n=5)
    assert first.name_lv == "Rīga"
    assert dist == pytest.approx(0.0, abs=0.01)
    assert len(nearest_municipalities(56.9, 24.1, n=42)) == 42


# --------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------


def test_country_name() -> None:
    assert country_name("DE", "lv") == "Vācija"
    assert country_name("de", "en") == "Germany"
    assert country_name("IE", "lv") == "Īrija"
    assert country_name("LV", "lv") == "Latvija"
    assert country_name("UK", "en") == "United Kingdom"
    assert country_name("XX", "en") == "XX"


def test_all_countries_are_iso_alpha2_only() -> None:
    codes = [code for code, _ in all_countries("en")]
    assert len(codes) == len(set(codes)) == 249
    for fake in ("001", "150", "ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "XK", "AC", "IC"):
        assert fake not in codes
    for real in ("LV", "GB", "US", "DE", "AX", "CW", "SS", "VA"):
        assert real in codes
    assert all(len(c) == 2 and c.isalpha() and c.isupper() for c in codes)


def test_all_countries_sorted_by_localised_name() -> None:
    lv = all_countries("lv")
    names = [name for _, name in lv]
    assert names[0] == "Afganistāna"
    # Latvian order: Č after all C..., Ī after all I..., Š after all S...
    i = names.index
    assert i("Centrālāfrikas Republika") < i("Čada") < i("Čīle") < i("Dānija")
    assert i("Izraēla") < i("Īrija") < i("Jamaika")
    assert i("Svatini") < i("Šrilanka") < i("Šveice") < i("Tadžikistāna")
    assert i("Saūda Arābija") < i("Seišelu salas")  # ū is still a u-letter
    assert names[-1] == "Zviedrija"
    en = [name for _, name in all_countries("en")]
    assert en[:3] == ["Afghanistan", "Åland Islands", "Albania"]
    assert en[-1] == "Zimbabwe"
    assert en.index("Côte d’Ivoire") < en.index("Croatia") < en.index("Cuba") < en.index("Curaçao")


def test_diaspora_countries() -> None:
    assert DIASPORA_COUNTRIES[:6] == ("GB", "IE", "DE", "NO", "SE", "US")
    assert len(set(DIASPORA_COUNTRIES)) == len(DIASPORA_COUNTRIES)
    assert "LV" not in DIASPORA_COUNTRIES
    assert all(is_country_code(c) for c in DIASPORA_COUNTRIES)


def test_country_codes() -> None:
    assert is_country_code("lv")
    assert not is_country_code("UK")
    assert not is_country_code("ZZ")
    assert normalise_country_code("uk") == "GB"
    assert normalise_country_code("DEU") == "DE"
    assert normalise_country_code("xx") is None
    assert country_flag("lv") == "\U0001f1f1\U0001f1fb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("UK", "GB"),
        ("Lielbritānija", "GB"),
        ("Lielbritānijā", "GB"),
        ("Anglija", "GB"),
        ("England", "GB"),
        ("United Kingdom", "GB"),
        ("Īrija", "IE"),
        ("irija", "IE"),
        ("Ireland", "IE"),
        ("Éire", "IE"),
        ("Vācija", "DE"),
        ("Vācijā", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Germny", "DE"),
        ("Norvēģija", "NO"),
        ("Norway", "NO"),
        ("Norge", "NO"),
        ("ASV", "US"),
        ("USA", "US"),
        ("United States", "US"),
        ("Amerika", "US"),
        ("Zviedrija", "SE"),
        ("Sverige", "SE"),
        ("Zviedrja", "SE"),
        ("Dānija", "DK"),
        ("Holande", "NL"),
        ("Suomi", "FI"),
        ("España", "ES"),
        ("Eesti", "EE"),
        ("Lietuva", "LT"),
        ("Polska", "PL"),
        ("Latvija", "LV"),
        ("LV", "LV"),
    ],
)
def test_match_country(text: str, expected: str) -> None:
    result = match_country(text)
    assert result.best == expected, text
    assert result.candidates[0] == expected


def test_match_country_ambiguous_and_nonsense() -> None:
    result = match_country("Congo")
    assert result.best is None
    assert set(result.candidates) == {"CD", "CG"}
    for text in ("xyzzy", "asdf", "", "qwerty"):
        result = match_country(text)
        assert result.best is None
        assert len(result.candidates) <= 1


def test_match_country_in_users_language() -> None:
    assert match_country("Allemagne", lang="fr").best == "DE"
    assert match_country("Vācija", lang="en").best == "DE"


# --------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------


def test_country_timezones() -> None:
    assert country_timezones("LV") == [LATVIA_TZ] == ["Europe/Riga"]
    assert country_timezones("GB") == ["Europe/London"]
    us = country_timezones("US")
    assert "America/New_York" in us and "America/Los_Angeles" in us
    assert us.index("America/Los_Angeles") < us.index("America/New_York")  # west to east
    assert country_timezones("XX") == []
    available = zoneinfo.available_timezones()
    if available:
        assert set(us) <= available


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("GB", "Europe/London"),
        ("uk", "Europe/London"),
        ("DE", "Europe/Berlin"),
        ("IE", "Europe/Dublin"),
        ("NO", "Europe/Oslo"),
        ("SE", "Europe/Stockholm"),
        ("LV", "Europe/Riga"),
        ("US", None),
        ("CA", None),
        ("AU", None),
        ("ES", None),
        ("XX", None),
    ],
)
def test_default_timezone(code: str, expected: str | None) -> None:
    assert default_timezone(code) == expected


def test_timezone_label() -> None:
    assert timezone_label("America/New_York", "en") == "New York"
    assert timezone_label("America/New_York", "lv") == "Ņujorka"
    assert timezone_label("Europe/Riga", "lv") == "Rīga"
    assert timezone_label("Europe/London", "en") == "London"
    assert "/" not in timezone_label("America/Indiana/Indianapolis", "lv")
