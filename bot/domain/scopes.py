"""Reading a scope typed by a person (the command line's ``--areas``/``--countries``, an
``/invite``'s ``areas=``/``countries=``): municipalities by ATVK code or name, countries abroad
by ISO code or name, ``*`` for anywhere abroad; comma- or space-separated. Every value must
name a place exactly (``bot.domain.places`` strict matching); anything else is refused with
suggestions, and nothing is guessed."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain import places
from bot.domain.alerts import QUOTES
from bot.domain.coalition import Scope
from bot.domain.people import ALL_ABROAD

ALL_ABROAD_WORDS = (ALL_ABROAD, "all")
_KEY = re.compile(r"([A-Za-z_]+)=")


class PlaceKind(StrEnum):
    AREA = "area"
    COUNTRY = "country"


@dataclass(frozen=True)
class UnknownPlace:
    """A value that names no place exactly, and the places it might have meant (ATVK or ISO codes)."""

    kind: PlaceKind
    value: str
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopeReading:
    """The scope read (None when any value was refused, then ``unknown``)."""

    scope: Scope | None
    unknown: list[UnknownPlace] = field(default_factory=list)


def _pieces(texts: Iterable[str]) -> list[str]:
    return [piece.strip() for text in texts for piece in text.split(",") if piece.strip()]


def _areas(piece: str) -> list[str] | None:
    found = places.exact_municipality(piece)
    return [m.atvk for m in found.found] if found.found else None


def _country(piece: str, languages: Collection[str]) -> list[str] | None:
    if piece.lower() in ALL_ABROAD_WORDS:
        return [ALL_ABROAD]
    found = places.exact_country(piece, languages)
    if not found.found or found.found[0] == places.LATVIA:
        return None
    return [found.found[0]]


def _read(
    kind: PlaceKind, texts: Iterable[str], languages: Collection[str], unknown: list[UnknownPlace]
) -> tuple[str, ...]:
    """Each comma-separated piece names a place as a whole ("Cēsu novads"), or else each of its
    words does ("Ogre Cēsis"); otherwise it is refused, with suggestions for the whole piece."""
    codes: list[str] = []
    for piece in _pieces(texts):
        one = _areas(piece) if kind == PlaceKind.AREA else _country(piece, languages)
        if one is None and len(piece.split()) > 1:
            words = [_areas(w) if kind == PlaceKind.AREA else _country(w, languages) for w in piece.split()]
            if all(w is not None for w in words):
                one = [code for w in words if w is not None for code in w]
        if one is None:
            unknown.append(UnknownPlace(kind, piece, _suggestions(kind, piece)))
            continue
        codes.extend(one)
    return tuple(dict.fromkeys(codes))


def _suggestions(kind: PlaceKind, piece: str) -> tuple[str, ...]:
    if kind == PlaceKind.AREA:
        return tuple(m.atvk for m in places.exact_municipality(piece).suggestions)
    return tuple(c for c in places.exact_country(piece).suggestions if c != places.LATVIA)


def read_scope(areas: Iterable[str], countries: Iterable[str], languages: Collection[str] = ()) -> ScopeReading:
    """``areas`` and ``countries`` as typed (each item may hold several, comma- or space-separated);
    ``languages``: country names are also understood in these."""
    unknown: list[UnknownPlace] = []
    scope = Scope(
        _read(PlaceKind.AREA, areas, languages, unknown), _read(PlaceKind.COUNTRY, countries, languages, unknown)
    )
    return ScopeReading(None if unknown else scope, unknown)


def split_options(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``key=value`` words (a value with spaces in quotes, of any of ``QUOTES``; the quotes
    removed) and the other words, in order, as in the one-line /alert."""
    options: list[tuple[str, str]] = []
    words: list[str] = []
    rest = text.strip()
    while rest:
        m = _KEY.match(rest)
        i, quoted = (m.end() if m else 0), False
        while i < len(rest) and (quoted or not rest[i].isspace()):
            if rest[i] in QUOTES:
                quoted = not quoted
            i += 1
        if m:
            options.append((m.group(1).lower(), _unquoted(rest[m.end() : i])))
        else:
            words.append(_unquoted(rest[:i]))
        rest = rest[i:].lstrip()
    return options, words


def _unquoted(value: str) -> str:
    return "".join(c for c in value if c not in QUOTES).strip()
