"""Free-text matching shared by municipalities and countries.

Text is folded (NFKD, marks stripped, case-folded), split into words and
stripped of Latvian case endings ("Rīgā" -> "rig", "Cēsu" -> "ces").  Exact
stem matches are confident; otherwise an optimal-string-alignment
(Damerau-Levenshtein) distance forgives small typos.  Folding makes every
comparison diacritics-insensitive: "Jurmala" and "Jūrmala" are one key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

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


def fold(text: str) -> str:
    """Case-fold and strip diacritics: 'Ķekavā' -> 'kekava'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


def split_words(text: str) -> list[str]:
    return _WORD_RE.findall(fold(text))


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
MIN_STEM = 3


def _stem(word: str) -> str:
    """Strip one Latvian case ending, keeping at least three letters."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
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
            base = fold(char) or char
            out.append(base + "\x00")
    return "".join(out), text


def _plain_sort_key(text: str) -> tuple[str, str]:
    return fold(text), text


def sort_key_for(lang: str) -> Callable[[str], tuple[str, str]]:
    return latvian_sort_key if lang_code(lang) == "lv" else _plain_sort_key


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


def allowed_typos(length: int) -> int:
    """Typos forgiven for a confident match of a key of this length."""
    if length <= 3:
        return 0
    if length <= 6:
        return 1
    return 2


def lang_code(lang: str | None) -> str:
    return "lv" if (lang or "").lower().startswith("lv") else "en"


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
class Query:
    stem: str  # stems of all words joined: "dienvidkurzem"
    full: str  # folded words joined: "dienvidkurzemes"
    parts: tuple[tuple[str, str], ...]  # (stem, full) of single words/pairs


def make_query(words: Sequence[str]) -> Query:
    stems = [_stem(w) for w in words]
    parts: list[tuple[str, str]] = []
    if len(words) > 1:
        for i, word in enumerate(words):
            parts.append((stems[i], word))
            if i + 1 < len(words):
                parts.append((stems[i] + stems[i + 1], word + words[i + 1]))
    return Query("".join(stems), "".join(words), tuple(parts))


class Index(Generic[T]):
    """Maps name keys (stemmed and full) to the entities they name."""

    def __init__(self) -> None:
        self.by_stem: dict[str, list[T]] = {}
        self.by_full: dict[str, list[T]] = {}
        self.keys: dict[str, list[T]] = {}  # every key, for fuzzy search

    def add(self, words: Sequence[str], item: T) -> None:
        if not words:
            return
        query = make_query(words)
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


MAX_CANDIDATES = 5


def confident(score: float, query: Query) -> bool:
    """Whether the best fuzzy score is good enough to answer on its own:
    an exact key, a prefix of five letters or more, or few enough typos."""
    if score == 0:
        return True
    if score == 0.5:
        return len(query.stem) >= 5
    return score <= allowed_typos(max(len(query.stem), len(query.full)))
