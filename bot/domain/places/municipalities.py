"""Latvia's municipalities: the table, look-up by code and free-text matching.

Latvia has 42 top-level territories as of 1 July 2025: 7 state cities
(valstspilsētas) and 35 municipalities (novadi).  On that date Varakļānu
novads (ATVK 0055000) merged into Madonas novads, whose code changed from
0038000 to 0038001; the old codes and the name "Varakļāni" still resolve to
Madonas novads.

Data: ``bot/data/latvia_municipalities.csv`` (the territories) and
``bot/data/municipality_aliases.csv`` (towns and former municipalities whose
names differ from the territory they belong to now), read once.  Matching
strips noise words ("novads", "pilsēta", "municipality", "city", ...) before
the generic matching of :mod:`bot.domain.places.matching`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from .data import read_rows
from .matching import (
    MAX_CANDIDATES,
    MIN_STEM,
    Index,
    MatchResult,
    allowed_typos,
    confident,
    latvian_sort_key,
    make_query,
    split_words,
)


@dataclass(frozen=True)
class Municipality:
    """One of Latvia's 42 top-level territories (state city or novads).

    ``name_lv`` is the official name. ``name_en``, the English one, is also the msgid by
    which other languages name it (``t._(m.name_en)``; the Latvian catalogue gives the
    official name), so a language without a translation shows the English name.

    ``lat``/``lon`` is the administrative centre.  For Augšdaugavas,
    Jelgavas, Rēzeknes and Ventspils novads that is the state city outside
    the territory which hosts the council.
    """

    atvk: str
    name_lv: str
    name_en: str
    iso: str
    lat: float
    lon: float
    emma_id: str = ""
    centroid_lat: float | None = None
    centroid_lon: float | None = None

    @property
    def is_city(self) -> bool:
        """True for the 7 state cities (valstspilsētas)."""
        return not self.name_lv.endswith(" novads")


# Codes that no longer exist, mapped to the current code.
_OLD_CODES: dict[str, str] = {
    "0038000": "0038001",  # Madonas novads before 1 July 2025
    "0055000": "0038001",  # Varakļānu novads, merged into Madonas novads
}
_OLD_ISO: dict[str, str] = {"LV-102": "0038001"}  # Varakļānu novads


# Words that do not help identify a territory.  Values: True if the word
# asks for a municipality (novads), False if it asks for a city, None if
# neutral.
_MUNICIPALITY_NOISE: dict[str, bool | None] = {
    "novads": True,
    "novada": True,
    "novadam": True,
    "novadu": True,
    "novadi": True,
    "novados": True,
    "nov": True,
    "municipality": True,
    "municipal": True,
    "county": True,
    "pilseta": False,
    "pilsetas": False,
    "pilsetai": False,
    "pilsetu": False,
    "valstspilseta": False,
    "valstspilsetas": False,
    "city": False,
    "lv": None,
    "latvija": None,
    "latvijas": None,
    "latvia": None,
    "the": None,
    "of": None,
    "in": None,
}

_CODE_RE = re.compile(r"(?:lv)?[\s-]?(\d{4,7})", re.IGNORECASE)
_ISO_RE = re.compile(r"lv[\s-]?([a-z]{3}|\d{3})", re.IGNORECASE)


@cache
def _municipality_table() -> tuple[Municipality, ...]:
    items = [
        Municipality(
            atvk=row["atvk"],
            name_lv=row["name_lv"],
            name_en=row["name_en"],
            iso=row["iso_3166_2"],
            lat=float(row["centre_lat"]),
            lon=float(row["centre_lon"]),
            emma_id=row["meteoalarm_emma_id"],
            centroid_lat=float(row["area_centroid_lat"]),
            centroid_lon=float(row["area_centroid_lon"]),
        )
        for row in read_rows("latvia_municipalities.csv")
    ]
    items.sort(key=lambda m: latvian_sort_key(m.name_lv))
    return tuple(items)


@cache
def town_aliases() -> tuple[tuple[str, str], ...]:
    """(name, ATVK code) of towns and former (pre-2021) municipalities whose names
    differ from the territory they belong to now: ("Ikšķile", "0040000")."""
    return tuple((row["alias"], row["atvk"]) for row in read_rows("municipality_aliases.csv"))


@cache
def _by_code() -> dict[str, Municipality]:
    table = {m.atvk: m for m in _municipality_table()}
    for old, new in _OLD_CODES.items():
        table[old] = table[new]
    return table


def municipalities() -> list[Municipality]:
    """All 42 territories, sorted by Latvian name in Latvian order."""
    return list(_municipality_table())


def municipality(atvk: str) -> Municipality | None:
    """Look up a territory by ATVK code.

    Accepts the current codes, the pre-July-2025 codes of Madonas and
    Varakļānu novads (both -> Madonas novads), an ``LV`` prefix
    (``LV0001000``) and codes whose leading zeros a spreadsheet dropped
    (``1000`` -> Rīga); also ISO 3166-2 codes (``LV-RIX``, ``LV-022``).
    """
    text = atvk.strip()
    match = _CODE_RE.fullmatch(text)
    if match:
        return _by_code().get(match.group(1).zfill(7))
    iso = _ISO_RE.fullmatch(text)
    if iso:
        code = "LV-" + iso.group(1).upper()
        if code in _OLD_ISO:
            return _by_code()[_OLD_ISO[code]]
        for item in _municipality_table():
            if item.iso == code:
                return item
    return None


def municipality_by_emma_id(emma_id: str) -> Municipality | None:
    """The territory of a MeteoAlarm EMMA_ID area code (e.g. ``LV039``)."""
    wanted = emma_id.strip().upper()
    for item in _municipality_table():
        if item.emma_id == wanted:
            return item
    return None


def _clean_municipality_words(text: str) -> tuple[list[str], bool | None]:
    """Drop noise words; report whether text asked for novads or city."""
    words: list[str] = []
    wants: bool | None = None
    for word in split_words(text):
        if word in _MUNICIPALITY_NOISE:
            flag = _MUNICIPALITY_NOISE[word]
            if flag is not None:
                wants = flag
        else:
            words.append(word)
    return words, wants


@cache
def _municipality_index() -> Index[Municipality]:
    index: Index[Municipality] = Index()
    for item in _municipality_table():
        for name in (item.name_lv, item.name_en):
            index.add(_clean_municipality_words(name)[0], item)
    codes = _by_code()
    for name, code in town_aliases():
        index.add(_clean_municipality_words(name)[0], codes[code])
    return index


def _prefer(items: list[Municipality], wants_novads: bool | None) -> list[Municipality]:
    """Order same-name territories: the state city first unless the text
    asked for a novads ("Rēzeknes novads", "Jelgava Municipality")."""
    want_city = wants_novads is not True
    return sorted(items, key=lambda m: m.is_city != want_city)


# State cities whose surrounding novads has a different name: the former
# Daugavpils novads is now part of Augšdaugavas novads.
_CITY_NOVADS: dict[str, str] = {"0002000": "0022000"}


@cache
def _twins() -> dict[str, str]:
    """State city <-> the novads around it (Rēzekne <-> Rēzeknes novads)."""
    stems: dict[str, list[Municipality]] = {}
    for item in _municipality_table():
        stem = make_query(_clean_municipality_words(item.name_lv)[0]).stem
        stems.setdefault(stem, []).append(item)
    pairs = dict(_CITY_NOVADS)
    for items in stems.values():
        cities = [m for m in items if m.is_city]
        novadi = [m for m in items if not m.is_city]
        if len(cities) == 1 and len(novadi) == 1:
            pairs[cities[0].atvk] = novadi[0].atvk
    return {**pairs, **{novads: city for city, novads in pairs.items()}}


def _is_twin_group(items: Sequence[Municipality]) -> bool:
    return len(items) == 2 and _twins().get(items[0].atvk) == items[1].atvk


def _decide(hits: list[Municipality], wants: bool | None) -> MatchResult[Municipality] | None:
    """Confident result for exact hits, or None when ambiguous."""
    if len(hits) == 1:
        hit = hits[0]
        twin_code = _twins().get(hit.atvk)
        if twin_code is None:
            return MatchResult(hit, [hit])
        twin = _by_code()[twin_code]
        if hit.is_city and wants is True:  # "Daugavpils novads"
            return MatchResult(twin, [twin, hit])
        return MatchResult(hit, [hit, twin])
    if _is_twin_group(hits):
        ordered = _prefer(hits, wants)
        return MatchResult(ordered[0], ordered)
    return None


def match_municipality(text: str) -> MatchResult[Municipality]:
    """Resolve free text to a Latvian territory.

    Examples: "cesis", "Cēsu novads" -> Cēsu novads; "Rīgā" -> Rīga;
    "Varakļāni", "0055000" -> Madonas novads; "Rezekne" -> the state city
    Rēzekne (Rēzeknes novads is the second candidate); "Ikšķile" -> Ogres
    novads; "LV0001000" -> Rīga.
    """
    raw = text.strip()
    if not raw:
        return MatchResult()
    by_code = municipality(raw)
    if by_code is not None:
        return MatchResult(by_code, [by_code])
    if _CODE_RE.fullmatch(raw):
        return MatchResult()  # a code, but not a known one

    words, wants = _clean_municipality_words(raw)
    if not words:
        return MatchResult()
    query = make_query(words)
    index = _municipality_index()

    hits = index.exact(query.stem, query.full)
    if hits:
        decided = _decide(hits, wants)
        if decided is not None:
            return decided
        return MatchResult(None, _prefer(hits, wants)[:MAX_CANDIDATES])

    # A known name among other words: "Rīga, Latvija", "Ogre Ikšķile".
    part_hits: list[Municipality] = []
    for stem, full in query.parts:
        if len(stem) >= MIN_STEM:
            for item in index.exact(stem, full):
                if item not in part_hits:
                    part_hits.append(item)
    if part_hits:
        decided = _decide(part_hits, wants)
        if decided is not None:
            return decided

    # Typos and prefixes.
    limit = allowed_typos(len(query.stem)) + 1
    probes = [query.stem, query.full] + [s for s, _ in query.parts if len(s) >= 4]
    scores = index.scored(probes, limit)
    for item in part_hits:
        scores[item] = 0.0
    if not scores:
        return MatchResult()
    ranked = sorted(
        scores,
        key=lambda m: (scores[m], m.is_city == (wants is True), latvian_sort_key(m.name_lv)),
    )
    top = scores[ranked[0]]
    candidates = [m for m in ranked if scores[m] <= top + 1][:MAX_CANDIDATES]
    tied = [m for m in ranked if scores[m] == top]
    confident_score = confident(top, query)
    decided = _decide(tied, wants) if confident_score else None
    if decided is not None:
        rest = [m for m in candidates if m not in decided.candidates]
        return MatchResult(decided.best, (decided.candidates + rest)[:MAX_CANDIDATES])
    return MatchResult(None, candidates)
