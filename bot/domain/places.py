"""Places: Latvian municipalities, countries and time zones.

Pure domain code. The only I/O is reading the package data file
``bot/data/latvia_municipalities.csv`` (cached); country names and time
zones come from Babel's CLDR data.

Municipalities
    Latvia has 42 top-level territories as of 1 July 2025: 7 state cities
    (valstspilsētas) and 35 municipalities (novadi).  On that date
    Varakļānu novads (ATVK 0055000) merged into Madonas novads, whose code
    changed from 0038000 to 0038001; the old codes and the name "Varakļāni"
    still resolve to Madonas novads.

Free-text matching
    Text is folded (NFKD, marks stripped, case-folded), split into words,
    stripped of noise words ("novads", "pilsēta", "municipality", "city",
    ...) and of Latvian case endings ("Rīgā" -> "rig", "Cēsu" -> "ces").
    Exact stem matches are confident; otherwise an optimal-string-alignment
    (Damerau-Levenshtein) distance forgives small typos.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Generic, TypeVar

import babel
import babel.dates
from babel.core import get_global
from babel.localedata import exists as locale_exists

__all__ = [
    "DIASPORA_COUNTRIES",
    "LATVIA",
    "LATVIA_TZ",
    "MatchResult",
    "Municipality",
    "all_countries",
    "country_flag",
    "country_name",
    "country_timezones",
    "default_timezone",
    "is_country_code",
    "latvian_sort_key",
    "match_country",
    "match_municipality",
    "municipalities",
    "municipality",
    "municipality_by_emma_id",
    "nearest_municipalities",
    "nearest_municipality",
    "normalise_country_code",
    "timezone_label",
]

T = TypeVar("T")

LATVIA = "LV"
LATVIA_TZ = "Europe/Riga"

#: Countries with the largest Latvian diaspora, largest first (for menus).
DIASPORA_COUNTRIES: tuple[str, ...] = (
    "GB",
    "IE",
    "DE",
    "NO",
    "SE",
    "US",
    "DK",
    "NL",
    "FI",
    "ES",
    "IT",
    "FR",
    "BE",
    "CA",
    "AU",
    "EE",
    "LT",
    "PL",
)


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------

# Letters that NFKD does not decompose into base letter + mark.
_FOLD_EXTRA = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
    }
)

_WORD_RE = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Case-fold and strip diacritics: 'Ķekavā' -> 'kekava'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(_fold(text))


# Latvian case endings, longest first (matched on folded text, so "ā" is "a").
_ENDINGS: tuple[str, ...] = (
    "iem",
    "ai",
    "ei",
    "am",
    "os",
    "as",
    "es",
    "is",
    "us",
    "u",
    "a",
    "e",
    "i",
    "s",
)
_MIN_STEM = 3


def _stem(word: str) -> str:
    """Strip one Latvian case ending, keeping at least three letters."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


# Latvian alphabet order: each Latvian diacritic letter sorts right after its
# base letter (a < ā < b < c < č ...), as in official Latvian lists.
_LV_LETTERS = {
    "ā": "a",
    "č": "c",
    "ē": "e",
    "ģ": "g",
    "ī": "i",
    "ķ": "k",
    "ļ": "l",
    "ņ": "n",
    "ŗ": "r",
    "š": "s",
    "ū": "u",
    "ž": "z",
}


def latvian_sort_key(text: str) -> tuple[str, str]:
    """Sort key for Latvian alphabetical order.

    Every character becomes its base letter followed by a marker that is
    ``\\x01`` for Latvian diacritic letters and ``\\x00`` otherwise; other
    accents (é, ö, å) sort as their base letter.
    """
    out: list[str] = []
    for char in text.casefold():
        if char in _LV_LETTERS:
            out.append(_LV_LETTERS[char] + "\x01")
        else:
            base = _fold(char) or char
            out.append(base + "\x00")
    return "".join(out), text


def _plain_sort_key(text: str) -> tuple[str, str]:
    return _fold(text), text


def _sort_key_for(lang: str) -> Callable[[str], tuple[str, str]]:
    return latvian_sort_key if _lang(lang) == "lv" else _plain_sort_key


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, or ``limit + 1`` if larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[len(b)], limit + 1)


def _allowed_typos(length: int) -> int:
    """Typos forgiven for a confident match of a key of this length."""
    if length <= 3:
        return 0
    if length <= 6:
        return 1
    return 2


def _lang(lang: str | None) -> str:
    return "lv" if (lang or "").lower().startswith("lv") else "en"


# ---------------------------------------------------------------------------
# Generic matching
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchResult(Generic[T]):
    """Outcome of matching free text.

    ``best`` is set only when the answer is confident.  ``candidates`` holds
    up to five suggestions, best first; when ``best`` is set it is the first
    candidate and the others are close alternatives (e.g. Rēzeknes novads
    next to the state city Rēzekne).
    """

    best: T | None = None
    candidates: list[T] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.best is not None


@dataclass(frozen=True)
class _Query:
    stem: str  # stems of all words joined: "dienvidkurzem"
    full: str  # folded words joined: "dienvidkurzemes"
    parts: tuple[tuple[str, str], ...]  # (stem, full) of single words/pairs


def _make_query(words: Sequence[str]) -> _Query:
    stems = [_stem(w) for w in words]
    parts: list[tuple[str, str]] = []
    if len(words) > 1:
        for i, word in enumerate(words):
            parts.append((stems[i], word))
            if i + 1 < len(words):
                parts.append((stems[i] + stems[i + 1], word + words[i + 1]))
    return _Query("".join(stems), "".join(words), tuple(parts))


class _Index(Generic[T]):
    """Maps name keys (stemmed and full) to the entities they name."""

    def __init__(self) -> None:
        self.by_stem: dict[str, list[T]] = {}
        self.by_full: dict[str, list[T]] = {}
        self.keys: dict[str, list[T]] = {}  # every key, for fuzzy search

    def add(self, words: Sequence[str], item: T) -> None:
        if not words:
            return
        query = _make_query(words)
        for mapping, key in ((self.by_stem, query.stem), (self.by_full, query.full)):
            items = mapping.setdefault(key, [])
            if item not in items:
                items.append(item)
            items = self.keys.setdefault(key, [])
            if item not in items:
                items.append(item)

    def exact(self, stem: str, full: str) -> list[T]:
        found: list[T] = []
        for item in self.by_stem.get(stem, []) + self.by_full.get(full, []):
            if item not in found:
                found.append(item)
        return found

    def scored(self, probes: Iterable[str], limit: int) -> dict[T, float]:
        """Best score per entity: OSA distance, or 0.5 for a prefix hit."""
        scores: dict[T, float] = {}
        probe_list = [p for p in dict.fromkeys(probes) if p]
        for key, items in self.keys.items():
            best: float = limit + 1
            for probe in probe_list:
                if len(probe) >= 4 and len(key) > len(probe) and key.startswith(probe):
                    best = min(best, 0.5)
                dist = _distance(probe, key, limit)
                # Half the letters wrong is not a typo ("asdf" vs "usa").
                if dist == 0 or 2 * dist < min(len(probe), len(key)):
                    best = min(best, dist)
            if best <= limit:
                for item in items:
                    if best < scores.get(item, limit + 1):
                        scores[item] = best
        return scores


# ---------------------------------------------------------------------------
# Municipalities
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Municipality:
    """One of Latvia's 42 top-level territories (state city or novads).

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

    def name(self, lang: str) -> str:
        """Latvian name for 'lv', English name for anything else."""
        return self.name_lv if _lang(lang) == "lv" else self.name_en

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

# Towns and former municipalities (pre-2021 reform) whose names differ from
# the municipality they belong to now.  Values are ATVK codes.
_TOWN_ALIASES: dict[str, str] = {
    # Ogres novads
    "Ikšķile": "0040000",
    "Lielvārde": "0040000",
    "Ķegums": "0040000",
    # Ķekavas novads
    "Baldone": "0034000",
    # Ādažu novads
    "Carnikava": "0023000",
    # Limbažu novads
    "Ainaži": "0035000",
    "Salacgrīva": "0035000",
    "Aloja": "0035000",
    # Ropažu novads
    "Vangaži": "0044000",
    "Garkalne": "0044000",
    "Stopiņi": "0044000",
    "Ulbroka": "0044000",
    # Mārupes novads
    "Babīte": "0039000",
    "Pinki": "0039000",
    # Saulkrastu novads
    "Sēja": "0047000",
    # Siguldas novads
    "Inčukalns": "0048000",
    "Krimulda": "0048000",
    "Mālpils": "0048000",
    # Cēsu novads
    "Līgatne": "0026000",
    "Priekuļi": "0026000",
    "Vecpiebalga": "0026000",
    "Jaunpiebalga": "0026000",
    "Pārgauja": "0026000",
    "Amata": "0026000",
    # Dienvidkurzemes novads
    "Grobiņa": "0027000",
    "Aizpute": "0027000",
    "Priekule": "0027000",
    "Pāvilosta": "0027000",
    "Nīca": "0027000",
    "Rucava": "0027000",
    "Vaiņode": "0027000",
    "Durbe": "0027000",
    # Valmieras novads
    "Rūjiena": "0054000",
    "Mazsalaca": "0054000",
    "Strenči": "0054000",
    "Burtnieki": "0054000",
    "Kocēni": "0054000",
    # Talsu novads
    "Sabile": "0051000",
    "Stende": "0051000",
    "Valdemārpils": "0051000",
    "Roja": "0051000",
    "Mērsrags": "0051000",
    "Dundaga": "0051000",
    # Tukuma novads
    "Kandava": "0052000",
    "Engure": "0052000",
    "Jaunpils": "0052000",
    # Jelgavas novads
    "Ozolnieki": "0030000",
    # Dobeles novads
    "Auce": "0028000",
    "Tērvete": "0028000",
    # Bauskas novads
    "Iecava": "0025000",
    "Rundāle": "0025000",
    "Vecumnieki": "0025000",
    # Aizkraukles novads
    "Koknese": "0020000",
    "Skrīveri": "0020000",
    "Pļaviņas": "0020000",
    "Jaunjelgava": "0020000",
    "Nereta": "0020000",
    # Jēkabpils novads
    "Viesīte": "0031000",
    "Aknīste": "0031000",
    "Krustpils": "0031000",
    # Augšdaugavas novads
    "Ilūkste": "0022000",
    "Subate": "0022000",
    # Krāslavas novads
    "Dagda": "0032000",
    # Ludzas novads
    "Kārsava": "0037000",
    "Zilupe": "0037000",
    # Rēzeknes novads
    "Viļāni": "0043000",
    # Balvu novads
    "Viļaka": "0024000",
    "Baltinava": "0024000",
    "Rugāji": "0024000",
    # Madonas novads (Varakļāni since 1 July 2025)
    "Varakļāni": "0038001",
    "Varakļānu novads": "0038001",
    "Lubāna": "0038001",
    "Cesvaine": "0038001",
    "Ērgļi": "0038001",
    # Preiļu novads
    "Riebiņi": "0042000",
    "Aglona": "0042000",
    "Vārkava": "0042000",
    # Kuldīgas novads
    "Skrunda": "0033000",
    "Alsunga": "0033000",
    # Saldus novads
    "Brocēni": "0046000",
}

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
    text = resources.files("bot").joinpath("data", "latvia_municipalities.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
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
        for row in rows
    ]
    items.sort(key=lambda m: latvian_sort_key(m.name_lv))
    return tuple(items)


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
    for word in _words(text):
        if word in _MUNICIPALITY_NOISE:
            flag = _MUNICIPALITY_NOISE[word]
            if flag is not None:
                wants = flag
        else:
            words.append(word)
    return words, wants


@cache
def _municipality_index() -> _Index[Municipality]:
    index: _Index[Municipality] = _Index()
    for item in _municipality_table():
        for name in (item.name_lv, item.name_en):
            index.add(_clean_municipality_words(name)[0], item)
    codes = _by_code()
    for name, code in _TOWN_ALIASES.items():
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
        stem = _make_query(_clean_municipality_words(item.name_lv)[0]).stem
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


_MAX_CANDIDATES = 5


def _confident(score: float, query: _Query) -> bool:
    """Whether the best fuzzy score is good enough to answer on its own:
    an exact key, a prefix of five letters or more, or few enough typos."""
    if score == 0:
        return True
    if score == 0.5:
        return len(query.stem) >= 5
    return score <= _allowed_typos(max(len(query.stem), len(query.full)))


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
    query = _make_query(words)
    index = _municipality_index()

    hits = index.exact(query.stem, query.full)
    if hits:
        decided = _decide(hits, wants)
        if decided is not None:
            return decided
        return MatchResult(None, _prefer(hits, wants)[:_MAX_CANDIDATES])

    # A known name among other words: "Rīga, Latvija", "Ogre Ikšķile".
    part_hits: list[Municipality] = []
    for stem, full in query.parts:
        if len(stem) >= _MIN_STEM:
            for item in index.exact(stem, full):
                if item not in part_hits:
                    part_hits.append(item)
    if part_hits:
        decided = _decide(part_hits, wants)
        if decided is not None:
            return decided

    # Typos and prefixes.
    limit = _allowed_typos(len(query.stem)) + 1
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
    candidates = [m for m in ranked if scores[m] <= top + 1][:_MAX_CANDIDATES]
    tied = [m for m in ranked if scores[m] == top]
    confident_score = _confident(top, query)
    decided = _decide(tied, wants) if confident_score else None
    if decided is not None:
        rest = [m for m in candidates if m not in decided.candidates]
        return MatchResult(decided.best, (decided.candidates + rest)[:_MAX_CANDIDATES])
    return MatchResult(None, candidates)


# ---------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------

_EARTH_RADIUS_KM = 6371.0088
_CITY_RADIUS_KM = 5.0


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@cache
def _reference_points() -> dict[str, tuple[tuple[float, float], ...]]:
    """Points that lie inside each territory: its area centroid, plus its
    administrative centre unless that centre is a state city outside it."""
    table = _municipality_table()
    city_centres = {(m.lat, m.lon) for m in table if m.is_city}
    points: dict[str, tuple[tuple[float, float], ...]] = {}
    for item in table:
        refs: list[tuple[float, float]] = []
        if item.centroid_lat is not None and item.centroid_lon is not None:
            refs.append((item.centroid_lat, item.centroid_lon))
        if item.is_city or (item.lat, item.lon) not in city_centres:
            refs.append((item.lat, item.lon))
        points[item.atvk] = tuple(refs)
    return points


def nearest_municipalities(lat: float, lon: float, n: int = 3) -> list[tuple[Municipality, float]]:
    """The ``n`` territories most likely to contain a point, with the
    distance in km to the nearest reference point of each.

    Without boundary polygons this is an approximation: each territory is
    represented by its area centroid and (if inside it) its administrative
    centre; a point within 5 km of a state city's centre or centroid is
    placed in that city first.  The distance lets callers reject points far
    outside Latvia.
    """
    points = _reference_points()
    ranked: list[tuple[bool, float, Municipality]] = []
    for item in _municipality_table():
        dist = min(_haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points[item.atvk])
        in_city = item.is_city and dist <= _CITY_RADIUS_KM
        ranked.append((not in_city, dist, item))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [(item, dist) for _, dist, item in ranked[: max(n, 0)]]


def nearest_municipality(lat: float, lon: float) -> Municipality:
    """The territory most likely to contain the point (see
    :func:`nearest_municipalities`)."""
    return nearest_municipalities(lat, lon, 1)[0][0]


# ---------------------------------------------------------------------------
# Countries
# ---------------------------------------------------------------------------

# Two-letter CLDR territory codes that are not ISO 3166-1 alpha-2 countries:
# exceptionally reserved codes, groupings, pseudo-locales, user-assigned.
_NOT_COUNTRIES = frozenset(
    {
        "AC",
        "CP",
        "CQ",
        "DG",
        "EA",
        "EU",
        "EZ",
        "IC",
        "QO",
        "TA",
        "UN",
        "XA",
        "XB",
        "XK",
        "ZZ",
    }
)

_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "GB": (
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "Lielbritānija",
        "Anglija",
        "Skotija",
        "Velsa",
        "Ziemeļīrija",
        "Apvienotā Karaliste",
    ),
    "US": (
        "USA",
        "U.S.A.",
        "U.S.",
        "ASV",
        "United States",
        "United States of America",
        "America",
        "Amerika",
        "Amerikas Savienotās Valstis",
        "Savienotās Valstis",
    ),
    "NL": ("Holland", "Holande", "The Netherlands"),
    "IE": ("Republic of Ireland", "Eire"),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey",),
    "AE": ("UAE", "AAE", "Emirates"),
    "MK": ("Macedonia",),
    "CI": ("Ivory Coast",),
    "CV": ("Cape Verde",),
    "SZ": ("Swaziland",),
    "MM": ("Burma",),
    "KR": ("Korea",),
    "RU": ("Russia",),
    "MD": ("Moldova",),
}


def _locale(lang: str) -> babel.Locale:
    try:
        return babel.Locale.parse(lang.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale("en")


@cache
def _country_codes() -> frozenset[str]:
    names = babel.Locale("en").territories
    return frozenset(code for code in names if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


@cache
def _alpha3() -> dict[str, str]:
    codes = _country_codes()
    table: dict[str, str] = {}
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in codes:
            table[alias] = targets[0]
    return table


def normalise_country_code(code: str) -> str | None:
    """Canonical alpha-2 code for an alpha-2 (any case) or alpha-3 code;
    "UK" -> "GB".  None if it is not a country code."""
    text = code.strip().upper()
    if text == "UK":
        return "GB"
    if len(text) == 2 and text in _country_codes():
        return text
    if len(text) == 3:
        return _alpha3().get(text)
    return None


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (case-insensitive; not "UK")."""
    return code.strip().upper() in _country_codes()


def country_name(code: str, lang: str) -> str:
    """Localised country name ("DE", "lv" -> "Vācija"); the code itself if
    unknown."""
    canonical = normalise_country_code(code) or code.strip().upper()
    names = _locale(lang).territories
    return names.get(canonical) or babel.Locale("en").territories.get(canonical, canonical)


@cache
def _all_countries(lang: str) -> tuple[tuple[str, str], ...]:
    key = _sort_key_for(lang)
    pairs = [(code, country_name(code, lang)) for code in _country_codes()]
    pairs.sort(key=lambda pair: key(pair[1]))
    return tuple(pairs)


def all_countries(lang: str) -> list[tuple[str, str]]:
    """(code, localised name) for every ISO 3166-1 country, sorted by name
    (Latvian alphabetical order for 'lv')."""
    return list(_all_countries(lang))


def country_flag(code: str) -> str:
    """Emoji flag from regional indicator symbols ("LV" -> 🇱🇻)."""
    canonical = normalise_country_code(code)
    if canonical is None:
        return ""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in canonical)


def _country_words(text: str) -> list[str]:
    return [w for w in _words(text) if w not in ("the",)]


@cache
def _country_index(extra_lang: str | None) -> _Index[str]:
    """Names in English, Latvian, the countries' official languages, the
    optional ``extra_lang`` and the alias table."""
    codes = _country_codes()
    index: _Index[str] = _Index()
    locales = ["en", "lv"] + ([extra_lang] if extra_lang else [])
    for lang in locales:
        names = _locale(lang).territories
        for code in codes:
            if code in names:
                index.add(_country_words(names[code]), code)
    languages = get_global("territory_languages")
    for code in sorted(codes):
        for language, info in languages.get(code, {}).items():
            if info.get("official_status") not in ("official", "de_facto_official"):
                continue
            if not locale_exists(language):
                continue
            name = babel.Locale(language).territories.get(code)
            if name:
                index.add(_country_words(name), code)
    for code, aliases in _COUNTRY_ALIASES.items():
        for alias in aliases:
            index.add(_country_words(alias), code)
    return index


def _country_rank(code: str) -> int:
    try:
        return DIASPORA_COUNTRIES.index(code)
    except ValueError:
        return len(DIASPORA_COUNTRIES)


def match_country(text: str, lang: str | None = None) -> MatchResult[str]:
    """Resolve free text to an ISO 3166-1 alpha-2 code.

    Accepts codes ("de", "UK", "USA"), names in English, Latvian, the
    country's own language or ``lang`` ("Vācija", "Germany",
    "Deutschland"), common aliases ("Anglija", "ASV") and small typos.
    Ties are ordered by diaspora size.
    """
    raw = text.strip()
    if not raw:
        return MatchResult()
    compact = raw.replace(".", "").replace(" ", "")
    if len(compact) == 2 and compact.isalpha():
        code = normalise_country_code(compact)
        if code is not None:
            return MatchResult(code, [code])

    extra = (lang or "").lower()[:2]
    index = _country_index(extra if extra.isalpha() and extra not in ("en", "lv") else None)
    words = _country_words(raw)
    if not words:
        return MatchResult()
    query = _make_query(words)

    hits = index.exact(query.stem, query.full)
    if len(hits) == 1:
        return MatchResult(hits[0], hits)
    if hits:
        return MatchResult(None, sorted(hits, key=_country_rank)[:_MAX_CANDIDATES])

    if len(compact) == 3 and compact.isalpha():
        code = normalise_country_code(compact)
        if code is not None:
            return MatchResult(code, [code])

    limit = _allowed_typos(len(query.stem)) + 1
    scores = index.scored([query.stem, query.full], limit)
    if not scores:
        return MatchResult()
    ranked = sorted(scores, key=lambda c: (scores[c], _country_rank(c), c))
    top = scores[ranked[0]]
    candidates = [c for c in ranked if scores[c] <= top + 1][:_MAX_CANDIDATES]
    tied = [c for c in ranked if scores[c] == top]
    if _confident(top, query) and len(tied) == 1:
        return MatchResult(ranked[0], candidates)
    return MatchResult(None, candidates)


# ---------------------------------------------------------------------------
# Time zones
# ---------------------------------------------------------------------------

# When every zone of a country keeps the same clock, the zone to use.
_PRIMARY_ZONES: dict[str, str] = {
    "DE": "Europe/Berlin",
    "CY": "Asia/Nicosia",
    "MY": "Asia/Kuala_Lumpur",
    "AR": "America/Argentina/Buenos_Aires",
    "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro",
    "UZ": "Asia/Tashkent",
}

# Fixed instants (1st and 15th of each month of 2025, noon UTC) used to
# compare zones, so results do not depend on today's date.
_SAMPLE_INSTANTS: tuple[datetime, ...] = tuple(
    datetime(2025, month, day, 12, tzinfo=UTC) for month in range(1, 13) for day in (1, 15)
)


def _zoneinfo(zone: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _offsets(zone: str) -> tuple[timedelta, ...] | None:
    tz = _zoneinfo(zone)
    if tz is None:
        return None
    return tuple(instant.astimezone(tz).utcoffset() or timedelta(0) for instant in _SAMPLE_INSTANTS)


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    available = zoneinfo.available_timezones()
    grouped: dict[str, list[str]] = {}
    for zone, territory in get_global("zone_territories").items():
        if zone.startswith("Etc/"):
            continue
        if available and zone not in available:
            continue
        grouped.setdefault(territory, []).append(zone)

    def order(zone: str) -> tuple[timedelta, str]:
        offsets = _offsets(zone)
        return (offsets[0] if offsets else timedelta(0), zone)

    return {code: tuple(sorted(zones, key=order)) for code, zones in grouped.items()}


def country_timezones(code: str) -> list[str]:
    """IANA zones of a country, west to east (by January UTC offset)."""
    canonical = normalise_country_code(code)
    if canonical is None:
        return []
    return list(_zones_by_country().get(canonical, ()))


@cache
def _default_timezone(code: str) -> str | None:
    zones = _zones_by_country().get(code, ())
    if len(zones) == 1:
        return zones[0]
    if not zones:
        return None
    offsets = {_offsets(zone) for zone in zones}
    if len(offsets) == 1 and None not in offsets:
        preferred = _PRIMARY_ZONES.get(code)
        return preferred if preferred in zones else sorted(zones)[0]
    return None


def default_timezone(code: str) -> str | None:
    """The country's zone if it has one clock (GB -> Europe/London, DE ->
    Europe/Berlin); None when the user must choose (US, CA, AU, ES...)."""
    canonical = normalise_country_code(code)
    if canonical is None:
        return None
    return _default_timezone(canonical)


def timezone_label(zone: str, lang: str) -> str:
    """Short readable name for buttons: the zone's exemplar city in the
    user's language ("America/New_York", "lv" -> "Ņujorka")."""
    try:
        label = babel.dates.get_timezone_location(zone, locale=_locale(lang), return_city=True)
    except (LookupError, ValueError):
        label = ""
    if not label or label == "Unknown City" or "/" in label:
        label = zone.rsplit("/", 1)[-1].replace("_", " ")
    return label
