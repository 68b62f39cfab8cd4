"""The volunteer skill catalogue (``bot/data/skills.csv``).

Labels are in English and are msgids: ``make locales`` puts them into the catalogues, where
they are translated like every other string; the groups' headings are in
``bot.messenger.render.GROUP_HEADINGS``.

Skill codes are stable identifiers used in the CSV import, the one-line
``/alert`` form and the database; once shipped they are never renamed.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "Skill",
    "parse_skill_codes",
    "skill",
    "skill_groups",
    "skills",
    "skills_for",
    "suggest_skill",
]


@dataclass(frozen=True)
class Skill:
    code: str
    group: str
    remote_ok: bool
    label: str  # in English: the msgid its translations are found by (``t._(skill.label)``)


_BOOL = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}


@cache
def _catalogue() -> tuple[Skill, ...]:
    text = resources.files("bot").joinpath("data", "skills.csv").read_text(encoding="utf-8")
    return tuple(
        Skill(
            code=row["code"].strip(),
            group=row["group"].strip(),
            remote_ok=_BOOL[row["remote_ok"].strip().lower()],
            label=row["label"].strip(),
        )
        for row in csv.DictReader(io.StringIO(text))
    )


@cache
def _by_code() -> dict[str, Skill]:
    return {s.code: s for s in _catalogue()}


def skills() -> list[Skill]:
    """All skills in catalogue order."""
    return list(_catalogue())


def skill(code: str) -> Skill | None:
    """The skill with this code (case-insensitive, trimmed), or None."""
    return _by_code().get(_normalise(code))


def skill_groups() -> list[str]:
    """Group codes in order of first appearance in the catalogue."""
    return list(dict.fromkeys(s.group for s in _catalogue()))


def skills_for(abroad: bool) -> list[Skill]:
    """Skills to offer a volunteer, group by group in catalogue order.

    Abroad: within each group the remotely possible skills come first, so that each group
    (and its heading) appears once.  In Latvia: catalogue order.
    """
    catalogue = list(_catalogue())
    if not abroad:
        return catalogue
    groups = skill_groups()
    return sorted(catalogue, key=lambda s: (groups.index(s.group), not s.remote_ok))


_SPLIT_RE = re.compile(r"[;,]")


def _normalise(token: str) -> str:
    """'First aid' / 'first-aid' -> 'first_aid'."""
    return re.sub(r"[\s\-]+", "_", token.strip().lower())


def parse_skill_codes(text: str) -> tuple[list[str], list[str]]:
    """Split ``text`` on ``;`` or ``,`` into (valid codes, unknown tokens).

    Tokens are trimmed and lower-cased; spaces and hyphens inside a token
    count as underscores ("First aid" -> first_aid).  Both lists are
    de-duplicated and keep first-appearance order; unknown tokens are
    returned trimmed, as written.
    """
    codes: list[str] = []
    unknown: list[str] = []
    seen_unknown: set[str] = set()
    for raw in _SPLIT_RE.split(text):
        token = raw.strip()
        if not token:
            continue
        code = _normalise(token)
        if code in _by_code():
            if code not in codes:
                codes.append(code)
        elif code not in seen_unknown:
            seen_unknown.add(code)
            unknown.append(token)
    return codes, unknown


def suggest_skill(token: str) -> str | None:
    """The catalogue code closest to a mistyped one ("firstaid" ->
    "first_aid"), or None when nothing is close."""
    wanted = _normalise(token)
    squashed = {s.code.replace("_", ""): s.code for s in _catalogue()}
    if wanted.replace("_", "") in squashed:
        return squashed[wanted.replace("_", "")]
    close = difflib.get_close_matches(wanted, list(_by_code()), n=1, cutoff=0.75)
    return close[0] if close else None
