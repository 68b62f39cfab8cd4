"""Countries: ISO 3166-1 codes, localised names (Babel's CLDR data), flags and
free-text matching, with common aliases from ``bot/data/country_aliases.csv``."""

from __future__ import annotations

from functools import cache

import babel
from babel.core import get_global
from babel.localedata import exists as locale_exists

from .data import read_rows
from .matching import (
    MAX_CANDIDATES,
    Index,
    MatchResult,
    allowed_typos,
    confident,
    make_query,
    sort_key_for,
    split_words,
)

LATVIA = "LV"

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


@cache
def country_aliases() -> tuple[tuple[str, str], ...]:
    """(alias, alpha-2 code) of common names CLDR lacks: ("Anglija", "GB"), ("ASV", "US")."""
    return tuple((row["alias"], row["country"]) for row in read_rows("country_aliases.csv"))


def babel_locale(lang: str) -> babel.Locale:
    try:
        return babel.Locale.parse(lang.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale("en")


@cache
def _country_codes() -> frozenset[str]:
    names = babel.Locale("en").territories
    return frozenset(
        code
        for code in names
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


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
    names = babel_locale(lang).territories
    name: str = names.get(canonical) or babel.Locale("en").territories.get(canonical, canonical)
    return name


@cache
def _all_countries(lang: str) -> tuple[tuple[str, str], ...]:
    key = sort_key_for(lang)
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


OFFICIAL_NAMES = "country_names.csv"


def official_names() -> list[tuple[str, str, str]]:
    """(code, language, name) of every country in its official languages, from
    ``bot/data/country_names.csv`` (``cldr_official_names`` wrote it)."""
    return [(row["country"], row["language"], row["name"]) for row in read_rows(OFFICIAL_NAMES)]


def cldr_official_names() -> list[tuple[str, str, str]]:
    """The same names from Babel's CLDR data, for ``python -m bot.i18n_tools country-names``.

    This loads every one of those languages' CLDR data (about a hundred locales, 85 MB that
    Babel keeps for the life of the process), so the bot reads the file instead."""
    codes = _country_codes()
    languages = get_global("territory_languages")
    rows: list[tuple[str, str, str]] = []
    for code in sorted(codes):
        for language, info in languages.get(code, {}).items():
            if info.get("official_status") not in ("official", "de_facto_official"):
                continue
            if not locale_exists(language):
                continue
            name = babel.Locale(language).territories.get(code)
            if name:
                rows.append((code, language, name))
    return rows


def _country_words(text: str) -> list[str]:
    return [w for w in split_words(text) if w not in ("the",)]


@cache
def _country_index(extra_lang: str | None) -> Index[str]:
    """Names in English, Latvian, the countries' official languages, the
    optional ``extra_lang`` and the alias table."""
    codes = _country_codes()
    index: Index[str] = Index()
    locales = ["en", "lv"] + ([extra_lang] if extra_lang else [])
    for lang in locales:
        names = babel_locale(lang).territories
        for code in codes:
            if code in names:
                index.add(_country_words(names[code]), code)
    for code, _language, name in official_names():
        if code in codes:
            index.add(_country_words(name), code)
    for alias, code in country_aliases():
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
    query = make_query(words)

    hits = index.exact(query.stem, query.full)
    if len(hits) == 1:
        return MatchResult(hits[0], hits)
    if hits:
        return MatchResult(None, sorted(hits, key=_country_rank)[:MAX_CANDIDATES])

    if len(compact) == 3 and compact.isalpha():
        code = normalise_country_code(compact)
        if code is not None:
            return MatchResult(code, [code])

    limit = allowed_typos(len(query.stem)) + 1
    scores = index.scored([query.stem, query.full], limit)
    if not scores:
        return MatchResult()
    ranked = sorted(scores, key=lambda c: (scores[c], _country_rank(c), c))
    top = scores[ranked[0]]
    candidates = [c for c in ranked if scores[c] <= top + 1][:MAX_CANDIDATES]
    tied = [c for c in ranked if scores[c] == top]
    if confident(top, query) and len(tied) == 1:
        return MatchResult(ranked[0], candidates)
    return MatchResult(None, candidates)
