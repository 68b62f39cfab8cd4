"""Spreadsheet import/export of volunteers (pure: no database, no files).

Format
------
The header is a promise to users and is kept exactly::

    telegram_id,name,language,skills,municipality,country,city,phone,organisation

Columns may come in any order (header names are case-insensitive), but the
set must be exactly these nine.  One volunteer per row:

``telegram_id``
    Required positive integer, unique within the file.
``name``
    Required, at most ``NAME_MAX`` (64) characters; runs of whitespace (including line
    breaks inside a quoted cell) become single spaces.
``language``
    ``lv`` or ``en`` (case-insensitive); empty means ``lv``.
``skills``
    Catalogue codes separated by ``;`` (or ``,``), e.g. ``first_aid;driver``.
    May be empty.
``municipality``
    Rows in Latvia: required; an ATVK code (``0001000``, ``LV0001000``, old
    codes such as ``0055000``) or a name resolved with
    :func:`~bot.domain.places.match_municipality` (only a confident match is
    accepted).  Rows abroad: must be empty.
``country``
    ISO 3166-1 alpha-2 code (case-insensitive; ``UK`` is accepted for
    ``GB``); empty means ``LV``.
``city``
    Optional in Latvia, required abroad (the municipality says where a
    volunteer in Latvia is; abroad the city is the only location we have).
    At most ``CITY_MAX`` (64) characters, as in the chat.
``phone``
    Optional; normalised by :func:`bot.domain.people.normalise_phone`, as in
    the chat: spaces, dashes, dots, slashes and parentheses are allowed and
    dropped, ``00`` becomes ``+``, ``(0)`` after the country code is
    dropped.  In Latvia an 8-digit number gets ``+371``; abroad the country
    code is required.  Stored as ``+`` and 7-15 digits.
``organisation``
    Optional: the codes of the organisations of the coalition the volunteer belongs to,
    separated by ``;`` (or ``,``), e.g. ``LAPAS;LSK`` (case-insensitive; written back as the
    organisations spell them). Every code must be an organisation's (``python -m bot orgs
    list``); an unknown code is an error on that line. Empty: the volunteer belongs to no
    organisation (the coalition's shared pool).

The time zone is not a column: Latvia is ``Europe/Riga``; abroad it is the
country's only time zone, or ``UTC`` when the country has several (the
volunteer can choose in the bot).

Files may be UTF-8 with or without a BOM, use ``,`` or ``;`` (Excel in a
Latvian locale) or tab as the delimiter (detected from the header line;
Excel's ``sep=;`` first line is honoured), and CRLF or LF line endings.
Empty rows are skipped.  Cells written by :func:`write_volunteer_csv` that
would start a spreadsheet formula (``=``, ``+``, ``-``, ``@``) are prefixed
with ``'``; the parser removes that prefix again.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TextIO

from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import (
    CITY_MAX,
    LATVIA,
    LATVIA_TZ,
    NAME_MAX,
    InvalidPhone,
    normalise_phone,
    readable_text,
)
from bot.domain.places import default_timezone, is_country_code, match_country, match_municipality
from bot.domain.skills import parse_skill_codes, suggest_skill
from bot.domain.spreadsheet import neutralise, restore

__all__ = [
    "HEADER",
    "RowError",
    "VolunteerRecord",
    "parse_volunteer_csv",
    "write_volunteer_csv",
]

HEADER: tuple[str, ...] = (
    "telegram_id",
    "name",
    "language",
    "skills",
    "municipality",
    "country",
    "city",
    "phone",
    "organisation",
)
_MAX_TELEGRAM_ID = 2**63 - 1  # fits a signed 64-bit database integer


@dataclass
class VolunteerRecord:
    telegram_id: int
    name: str
    language: str  # one of the enabled language codes (``bot.i18n``)
    skills: list[str]  # catalogue codes
    municipality: str | None  # ATVK code; None abroad
    country: str  # ISO 3166-1 alpha-2; "LV" for Latvia
    city: str | None
    phone: str | None  # "+" and digits
    organisations: list[str]  # organisations' codes, as the organisations spell them
    timezone: str  # IANA zone


@dataclass(frozen=True)
class RowError:
    line: int  # physical line in the file; the header is line 1
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


# ---------------------------------------------------------------------------
# Field helpers
# ---------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    return " ".join(restore(value.strip()).split())


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _first_line(text: str) -> str:
    return re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]


def _check_header(cells: list[str]) -> str | None:
    names = [c.strip().lstrip("\ufeff").lower() for c in cells]
    problems: list[str] = []
    missing = [h for h in HEADER if h not in names]
    unknown = [n for n in names if n not in HEADER]
    duplicates = sorted({n for n in names if n in HEADER and names.count(n) > 1})
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        shown = ", ".join(repr(n) for n in unknown)
        problems.append(f"unknown column(s): {shown}")
    if duplicates:
        problems.append("duplicate column(s): " + ", ".join(duplicates))
    if problems:
        return "; ".join(problems) + " (expected header: " + ",".join(HEADER) + ")"
    return None


# ---------------------------------------------------------------------------
# Row validation
# ---------------------------------------------------------------------------


_CODE_SEPARATORS = re.compile(r"[;,\s]+")


def _organisation_codes(text: str, known: Mapping[str, str], problems: list[str]) -> list[str]:
    """The organisations' codes in a cell (``known``: each code in lower case -> as spelled)."""
    codes: list[str] = []
    for token in _CODE_SEPARATORS.split(restore(text.strip())):
        if not token:
            continue
        code = known.get(token.lower())
        if code is None:
            close = difflib.get_close_matches(token.lower(), list(known), n=1)
            hint = f" (did you mean {known[close[0]]}?)" if close else ""
            problems.append(f"unknown organisation {token!r}{hint}")
        elif code not in codes:
            codes.append(code)
    return codes


def _parse_row(
    values: dict[str, str],
    line: int,
    seen_ids: dict[int, int],
    languages: Collection[str],
    organisations: Mapping[str, str],
) -> tuple[VolunteerRecord | None, list[str]]:
    problems: list[str] = []

    # telegram_id
    telegram_id: int | None = None
    raw_id = values["telegram_id"].strip()
    if not raw_id:
        problems.append("telegram_id is required")
    elif not raw_id.isascii() or not raw_id.isdigit() or int(raw_id) <= 0 or int(raw_id) > _MAX_TELEGRAM_ID:
        problems.append(f"telegram_id {raw_id!r} is not a positive integer")
    else:
        telegram_id = int(raw_id)
        if telegram_id in seen_ids:
            problems.append(f"duplicate telegram_id {telegram_id} (also on line {seen_ids[telegram_id]})")
        else:
            seen_ids[telegram_id] = line

    # name
    name = _clean_text(values["name"])
    if not name:
        problems.append("name is required")
    elif len(name) > NAME_MAX:
        problems.append(f"name is longer than {NAME_MAX} characters ({len(name)})")
    elif not readable_text(name):
        problems.append(f"name {name!r} needs a letter and may not contain control or bidi-override characters")

    # language
    language = values["language"].strip().lower() or DEFAULT_LANGUAGE
    if language not in languages:
        problems.append(f"language {values['language'].strip()!r} must be one of {', '.join(languages)}")

    # skills
    skill_codes, unknown = parse_skill_codes(values["skills"])
    for token in unknown:
        suggestion = suggest_skill(token)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        problems.append(f"unknown skill {token!r}{hint}")

    # country
    raw_country = restore(values["country"].strip())
    country = raw_country.upper() or LATVIA
    if country == "UK":
        country = "GB"
    country_ok = is_country_code(country)
    if not country_ok:
        guess = match_country(raw_country).best
        hint = f" (did you mean {guess}?)" if guess else ""
        problems.append(f"country {raw_country!r} is not an ISO 3166-1 alpha-2 code{hint}")
    in_latvia = country == LATVIA

    # municipality
    raw_municipality = _clean_text(values["municipality"])
    atvk: str | None = None
    if in_latvia:
        if not raw_municipality:
            problems.append("municipality is required for rows in Latvia (country LV)")
        else:
            atvk = _resolve_municipality(raw_municipality, problems)
    elif raw_municipality and country_ok:
        problems.append(
            f"municipality must be empty for rows outside Latvia (country {country}, municipality {raw_municipality!r})"
        )

    # city
    city = _clean_text(values["city"]) or None
    if city is None and not in_latvia and country_ok:
        problems.append("city is required for rows outside Latvia")
    elif city is not None and len(city) > CITY_MAX:
        problems.append(f"city is longer than {CITY_MAX} characters ({len(city)})")
    elif city is not None and not readable_text(city):
        problems.append(f"city {city!r} needs a letter and may not contain control or bidi-override characters")

    # phone
    phone: str | None = None
    if values["phone"].strip():
        try:
            phone = normalise_phone(restore(values["phone"].strip()), country)
        except InvalidPhone as exc:
            problems.append(str(exc))

    # organisation: the codes of the organisations the volunteer belongs to
    codes = _organisation_codes(values["organisation"], organisations, problems)

    if problems or telegram_id is None:
        return None, problems
    return (
        VolunteerRecord(
            telegram_id=telegram_id,
            name=name,
            language=language,
            skills=skill_codes,
            municipality=atvk,
            country=country,
            city=city,
            phone=phone,
            organisations=codes,
            timezone=LATVIA_TZ if in_latvia else (default_timezone(country) or "UTC"),
        ),
        [],
    )


def _resolve_municipality(text: str, problems: list[str]) -> str | None:
    atvk, problem = _municipality(text)
    if problem is not None:
        problems.append(problem)
    return atvk


@lru_cache(maxsize=4096)
def _municipality(text: str) -> tuple[str | None, str | None]:
    """(ATVK code, None) or (None, the problem): a list of 100,000 names only a few hundred
    ways, and matching a name is most of the time a row takes."""
    result = match_municipality(text)
    if result.best is not None:
        return result.best.atvk, None
    if result.candidates:
        names = [m.name_lv for m in result.candidates]
        options = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return None, f"municipality {text!r} not recognised (did you mean {options}?)"
    return None, f"municipality {text!r} not found"


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _decode(data: bytes | str) -> tuple[str | None, RowError | None]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        return None, RowError(
            line,
            f"the file is not UTF-8 (byte 0x{byte:02x}); in Excel use Save As > 'CSV UTF-8 (Comma delimited)'",
        )


def parse_volunteer_csv(
    data: bytes | str, *, languages: Collection[str], organisations: Iterable[str] = ()
) -> tuple[list[VolunteerRecord], list[RowError]]:
    """Parse a volunteer spreadsheet; ``organisations`` are the codes the ``organisation``
    column may hold (the coalition's organisations).

    Returns the valid records and an error for every invalid row (all
    problems of a row joined with "; "), in file order.  Rows with errors
    produce no record; for a duplicate telegram_id the first row wins.
    Header problems are reported on line 1 and stop parsing.
    """
    text, decode_error = _decode(data)
    if text is None:
        assert decode_error is not None
        return [], [decode_error]

    line_offset = 0
    first = _first_line(text)
    sep_directive = re.fullmatch(r"\s*sep=(.)\s*", first)
    if sep_directive:
        delimiter = sep_directive.group(1)
        text = re.sub(r"^(?:\r\n|\r|\n)", "", text[len(first) :])
        line_offset = 1
    else:
        delimiter = _detect_delimiter(first)

    if not text.strip():
        return [], [RowError(1, "the file is empty (expected header: " + ",".join(HEADER) + ")")]

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[VolunteerRecord] = []
    errors: list[RowError] = []
    seen_ids: dict[int, int] = {}
    known = {code.lower(): code for code in organisations}
    columns: list[str] = []
    previous_line = 0
    try:
        for cells in reader:
            start = previous_line + 1 + line_offset
            spans_lines = reader.line_num - previous_line > 1
            previous_line = reader.line_num
            if not columns:
                if not any(c.strip() for c in cells):
                    continue  # blank lines before the header
                while cells and not cells[-1].strip():
                    cells = cells[:-1]  # Excel's trailing separators
                problem = _check_header(cells)
                if problem:
                    return [], [RowError(start, problem)]
                columns = [c.strip().lstrip("\ufeff").lower() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns) and not any(c.strip() for c in cells[len(columns) :]):
                cells = cells[: len(columns)]
            if len(cells) != len(columns):
                unclosed = spans_lines and len(cells) < len(columns)
                hint = " (check for an unclosed quote)" if unclosed else ""
                errors.append(
                    RowError(
                        start,
                        f"expected {len(columns)} fields separated by {delimiter!r}, found {len(cells)}{hint}",
                    )
                )
                continue
            values = dict(zip(columns, cells, strict=True))
            record, problems = _parse_row(values, start, seen_ids, languages, known)
            if problems:
                errors.append(RowError(start, "; ".join(problems)))
            elif record is not None:
                records.append(record)
    except csv.Error as exc:
        errors.append(RowError(previous_line + 1 + line_offset, f"cannot read CSV: {exc}"))

    if not columns:
        return [], [RowError(1, "the file is empty (expected header: " + ",".join(HEADER) + ")")]
    return records, errors


def write_volunteer_csv(records: Iterable[VolunteerRecord], out: TextIO) -> None:
    """Write records in the import format (``,`` delimiter, ``\\n`` line
    endings); the output parses back to the same records."""
    writer = csv.writer(out, delimiter=",", lineterminator="\n")
    writer.writerow(HEADER)
    for record in records:
        writer.writerow(
            [
                str(record.telegram_id),
                neutralise(record.name),
                neutralise(record.language),
                neutralise(";".join(record.skills)),
                neutralise(record.municipality or ""),
                neutralise(record.country),
                neutralise(record.city or ""),
                neutralise(record.phone or ""),
                neutralise(";".join(record.organisations)),
            ]
        )
