"""Exact look-up for coordinators: a place in an alert's audience is a name, an ATVK (or ISO)
code, a known alias, or one of these typed in another case or without diacritics. Anything
else is refused with suggestions; the forgiving, fuzzy matching (:func:`match_municipality`,
:func:`match_country`) stays in the volunteer's registration, where a confirmation follows.

A state city and the novads around it ("Jelgava" and Jelgavas novads, "Daugavpils" and
Augšdaugavas novads) share a bare name: it resolves to both, marked ``twins``, so that the
caller can say so. "Jelgavas novads", "Jelgava Municipality", "Jelgavas pilsēta" and
"Jelgava city" name one of them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Generic, TypeVar

import babel

from .countries import _country_codes, country_aliases, match_country, normalise_country_code
from .matching import fold
from .municipalities import Municipality, _twins, match_municipality, municipalities, municipality, town_aliases

T = TypeVar("T")
SUGGESTIONS = 3


@dataclass(frozen=True)
class Exact(Generic[T]):
    """What a typed value names: ``found`` (empty when nothing does exactly, then
    ``suggestions``); ``twins``: the name is both a state city's and its novads'."""

    found: list[T] = field(default_factory=list)
    suggestions: list[T] = field(default_factory=list)
    twins: bool = False


def _key(text: str) -> str:
    return " ".join(fold(text).replace("-", " ").split())


def _add(table: dict[str, list[Municipality]], name: str, *items: Municipality) -> None:
    entry = table.setdefault(_key(name), [])
    for item in items:
        if item not in entry:
            entry.append(item)


@cache
def _municipality_names() -> dict[str, list[Municipality]]:
    table: dict[str, list[Municipality]] = {}
    by_code = {m.atvk: m for m in municipalities()}
    twins = _twins()
    for m in municipalities():
        _add(table, m.name_lv, m)
        _add(table, m.name_en, m)
        if not m.is_city:
            _add(table, m.name_lv.removesuffix(" novads"), m)  # "Ogres", "Cēsu"
            _add(table, m.name_en.removesuffix(" Municipality"), m)  # "Ogre", "Cēsis"
    for m in municipalities():
        twin = by_code.get(twins.get(m.atvk, ""))
        if not m.is_city or twin is None:
            continue
        # the bare name is both; qualified names are one of them
        for name in (m.name_lv, m.name_en):
            table[_key(name)] = [m, twin]
        genitive = twin.name_lv.removesuffix(" novads")
        if fold(genitive)[:4] != fold(m.name_lv)[:4]:  # Augšdaugavas novads, formerly Daugavpils novads
            genitive = m.name_lv
            _add(table, f"{m.name_lv} novads", twin)
            _add(table, f"{m.name_en} Municipality", twin)
        for name in (f"{genitive} pilsēta", f"{genitive} valstspilsēta", f"{m.name_en} city", f"{m.name_lv} city"):
            _add(table, name, m)
    for alias, code in town_aliases():
        if _key(alias) not in table:
            _add(table, alias, by_code[code])
    return table


def exact_municipality(text: str) -> Exact[Municipality]:
    """The territory ``text`` names exactly (two for a state city's bare name, ``twins``)."""
    raw = text.strip()
    if not raw:
        return Exact()
    by_code = municipality(raw)
    if by_code is not None:
        return Exact([by_code])
    found = _municipality_names().get(_key(raw), [])
    if found:
        return Exact(list(found), twins=len(found) == 2)
    return Exact(suggestions=match_municipality(raw).candidates[:SUGGESTIONS])


@cache
def _country_names(languages: tuple[str, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    codes = _country_codes()
    for lang in ("en", "lv", *languages):
        try:
            names = babel.Locale.parse(lang).territories
        except (ValueError, babel.UnknownLocaleError):
            continue
        for code in codes:
            if code in names:
                table.setdefault(_key(names[code]), code)
    for alias, code in country_aliases():
        table.setdefault(_key(alias), code)
    return table


def exact_country(text: str, languages: Collection[str] = ()) -> Exact[str]:
    """The ISO 3166-1 alpha-2 code ``text`` names exactly: a two- or three-letter code, a
    name in English, Latvian or one of ``languages``, or a known alias ("UK")."""
    raw = text.strip()
    if not raw:
        return Exact()
    compact = raw.replace(".", "").replace(" ", "")
    if len(compact) in (2, 3) and compact.isalpha():
        code = normalise_country_code(compact)
        if code is not None:
            return Exact([code])
    found = _country_names(tuple(sorted(languages))).get(_key(raw))
    if found is not None:
        return Exact([found])
    return Exact(suggestions=list(match_country(raw).candidates[:SUGGESTIONS]))
