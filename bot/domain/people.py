"""Volunteers and diaspora members: who they are, where, what they can do, and when."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.places import LATVIA, LATVIA_TZ, is_country_code

__all__ = [
    "AVAILABILITY",
    "CITY_MAX",
    "LATVIA",
    "LATVIA_TZ",
    "NAME_MAX",
    "PRIVACY_NOTICE_VERSION",
    "TELEGRAM",
    "Address",
    "InvalidPhone",
    "LocationKind",
    "Person",
    "PersonStatus",
    "Target",
    "clean_city",
    "clean_name",
    "contact_phone",
    "is_abroad_country",
    "must_agree_again",
    "normalise_phone",
    "parse_date",
    "parse_hhmm",
    "parse_quiet_hours",
    "paused_at",
    "quiet_at",
    "readable_text",
    "stored_problem",
    "valid_hhmm",
]

TELEGRAM = "telegram"

# The longest texts a person may have, typed in the chat or imported from a list alike.
NAME_MAX = 64
CITY_MAX = 64

# The version of the privacy notice people agree to. Version 2 says that the organisations of a
# coalition can reach the person and what they may see. A person who agreed to an older one is
# asked again at their next interaction (``must_agree_again``).
PRIVACY_NOTICE_VERSION = 2


class PersonStatus(StrEnum):
    """The values match the CHECK constraint on ``people.status``."""

    REGISTERING = "registering"
    ACTIVE = "active"


class LocationKind(StrEnum):
    """The values match the CHECK constraint on ``people.location_kind``."""

    LV = "lv"
    ABROAD = "abroad"


# When a person can usually help; the codes are stored, labels are translated at the edge.
AVAILABILITY = ("any", "weekdays", "evenings_weekends", "weekends")


@dataclass(frozen=True)
class Address:
    """How to reach a person: a messenger channel and the person's id there."""

    channel: str
    external_id: str

    @classmethod
    def telegram(cls, user_id: int | str) -> Address:
        return cls(TELEGRAM, str(user_id))


@dataclass
class Person:
    id: int
    address: Address
    status: PersonStatus
    language: str
    name: str | None = None
    location_kind: LocationKind | None = None
    municipality: str | None = None  # ATVK code
    country: str | None = None  # ISO 3166-1 alpha-2; LV in Latvia
    city: str | None = None
    timezone: str = LATVIA_TZ
    skills: tuple[str, ...] = ()
    availability: str | None = None
    quiet_start: str | None = None  # 'HH:MM' local
    quiet_end: str | None = None
    phone: str | None = None
    organisation: str | None = None  # legacy free text (before organisations had codes): no longer used
    paused: bool = False
    paused_until: date | None = None
    blocked: bool = False
    consent_at: datetime | None = None
    privacy_version: int | None = None  # the privacy notice agreed to at consent_at
    source: str = "chat"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # "Other organisations in the coalition may call me" (asked at registration, default no)
    open_to_coalition: bool = False
    organisations: tuple[int, ...] = ()  # the ids of the organisations they belong to (none: the shared pool)

    @property
    def active(self) -> bool:
        return self.status == PersonStatus.ACTIVE

    @property
    def abroad(self) -> bool:
        return self.location_kind == LocationKind.ABROAD

    def is_paused(self, now: datetime) -> bool:
        return paused_at(self.paused, self.paused_until, self.timezone, now)

    def in_quiet_hours(self, now: datetime) -> bool:
        return quiet_at(self.quiet_start, self.quiet_end, self.timezone, now)


@dataclass(slots=True)
class Target:
    """A person as choosing an alert's audience and queueing the alert see them: the fields
    ``select_audience`` reads and the address to send to, and nothing else (no name, phone or
    dates), so that a national roster's tens of thousands fit in little memory and load fast.
    (Not frozen: a frozen dataclass takes three times as long to build, which a preview for
    25,000 people would notice.)"""

    id: int
    address: Address
    status: PersonStatus
    language: str
    location_kind: LocationKind | None
    municipality: str | None
    country: str | None
    timezone: str
    skills: tuple[str, ...]
    quiet_start: str | None = None
    quiet_end: str | None = None
    paused: bool = False
    paused_until: date | None = None
    blocked: bool = False
    organisations: tuple[int, ...] = ()
    open_to_coalition: bool = False

    @property
    def active(self) -> bool:
        return self.status == PersonStatus.ACTIVE

    def is_paused(self, now: datetime) -> bool:
        return paused_at(self.paused, self.paused_until, self.timezone, now)

    def in_quiet_hours(self, now: datetime) -> bool:
        return quiet_at(self.quiet_start, self.quiet_end, self.timezone, now)


def must_agree_again(person: Person) -> bool:
    """The person agreed to an older privacy notice than the current one (someone who never
    agreed, e.g. imported from a list, is asked for consent the first time instead)."""
    return person.consent_at is not None and (person.privacy_version or 0) < PRIVACY_NOTICE_VERSION


def paused_at(paused: bool, paused_until: date | None, timezone: str, now: datetime) -> bool:
    """Whether alerts are paused at ``now``: until further notice, or until ``paused_until``
    (a date in the person's time zone, from which they get alerts again)."""
    if not paused:
        return False
    if paused_until is None:
        return True
    return now.astimezone(ZoneInfo(timezone)).date() < paused_until


@functools.lru_cache(maxsize=256)  # one audience asks at one ``now`` for a few dozen zones, per person
def _local_time(timezone: str, now: datetime) -> time:
    return now.astimezone(ZoneInfo(timezone)).time()


def quiet_at(quiet_start: str | None, quiet_end: str | None, timezone: str, now: datetime) -> bool:
    """Whether ``now`` is in the person's quiet hours (local 'HH:MM' to 'HH:MM')."""
    if not quiet_start or not quiet_end:
        return False
    local = _local_time(timezone, now)
    start, end = parse_hhmm(quiet_start), parse_hhmm(quiet_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # over midnight, e.g. 22:00-07:00


@functools.lru_cache(maxsize=2048)  # a roster's quiet hours are a few hundred values, read per person
def parse_hhmm(value: str) -> time:
    """'07:30' -> 07:30; raises ValueError for anything else."""
    if not valid_hhmm(value):
        raise ValueError(f"not a time of day HH:MM: {value!r}")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@functools.lru_cache(maxsize=2048)
def valid_hhmm(value: str) -> bool:
    """A time of day as stored: 'HH:MM', 00:00 to 23:59."""
    return _HHMM.fullmatch(value) is not None


ALL_ABROAD = "*"  # in an audience or a scope: anywhere abroad


def is_abroad_country(code: str) -> bool:
    """A country someone abroad can be in: an ISO 3166-1 alpha-2 code (upper case), not Latvia."""
    return code.isascii() and code.isupper() and is_country_code(code) and code != LATVIA


@functools.lru_cache(maxsize=1024)  # asked for every person of every audience
def _known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


class StoredTimes(Protocol):
    """What a person's stored quiet hours and time zone are read from (a ``Person`` or a ``Target``)."""

    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...
    @property
    def timezone(self) -> str: ...


def stored_problem(person: StoredTimes) -> str | None:
    """Why the stored data of ``person`` cannot be used to decide whether to alert them
    (quiet hours or a time zone no one could have chosen); None when it can."""
    for value in (person.quiet_start, person.quiet_end):
        if value is not None and not valid_hhmm(value):
            return "quiet_hours"
    if not _known_timezone(person.timezone):
        return "timezone"
    return None


_QUIET = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*[-–—]\s*(\d{1,2})(?:[:.](\d{2}))?\s*$")


def parse_quiet_hours(text: str) -> tuple[str, str] | None:
    """'22-7', '22:00-07:00', '23.30 – 6.45' -> ('22:00', '07:00'); None if not understood."""
    m = _QUIET.match(text)
    if not m:
        return None
    h1, m1, h2, m2 = int(m.group(1)), int(m.group(2) or 0), int(m.group(3)), int(m.group(4) or 0)
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        return None
    return f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"


# Bidirectional embeddings, overrides and isolates, and the marks: they reorder what a
# coordinator sees around a name (and in a spreadsheet cell).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def readable_text(text: str) -> bool:
    """A text a person can read: it has a visible letter and no control character (NUL,
    escape sequences...) and no bidirectional override."""
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in text):
        return False
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def clean_name(text: str) -> str | None:
    """A name as typed, trimmed; None when empty, too long, a command, without a visible
    letter, or with control or bidi-override characters."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or name.startswith("/") or not readable_text(name):
        return None
    return name


def clean_city(text: str) -> str | None:
    """A city as typed, trimmed; None under the same rules as a name."""
    city = " ".join(text.split())
    if not city or len(city) > CITY_MAX or city.startswith("/") or not readable_text(city):
        return None
    return city


class InvalidPhone(ValueError):
    """A phone number that cannot be normalised; the message says why (in English)."""


_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")


def normalise_phone(raw: str, country: str = LATVIA) -> str:
    """A phone number as ``+`` and 7-15 digits, for the chat and the import alike.

    Spaces, dashes, dots, slashes and parentheses are dropped, ``00`` becomes ``+`` and a
    ``(0)`` after the country code is dropped. Without ``+`` the country code is required,
    except in Latvia (``country``), where an 8-digit number gets ``+371`` and ``371`` and 8
    digits is accepted as it is. Raises :class:`InvalidPhone`."""
    text = raw.strip()
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidPhone(f"phone {text!r} may contain only digits, spaces, +, -, ( and )")
    has_plus = text.startswith("+")
    if has_plus:
        text = re.sub(r"^(\+\d+)\s*\(0\)", r"\1", text)  # +44 (0)20 ...
    digits = re.sub(r"\D", "", text)
    if not has_plus:
        if digits.startswith("00"):
            digits = digits[2:]
        elif country == LATVIA and len(digits) == 8:
            digits = "371" + digits
        elif not (country == LATVIA and len(digits) == 11 and digits.startswith("371")):
            raise InvalidPhone(f"phone {raw.strip()!r} must start with + and the country code")
    if not 7 <= len(digits) <= 15:
        raise InvalidPhone(f"phone {raw.strip()!r} must have 7 to 15 digits, found {len(digits)}")
    return "+" + digits


def contact_phone(raw: str) -> str:
    """The number of a contact shared from Telegram: always international, though it
    arrives without the ``+``. Raises :class:`InvalidPhone`."""
    return normalise_phone("+" + raw.strip().lstrip("+"))


_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2,4}))?\.?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date(text: str, today: date) -> date | None:
    """'2026-12-24', '24.12.2026', '24.12.' -> a date today or later; None otherwise."""
    m = _ISO_DATE.match(text)
    try:
        if m:
            result = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            m = _DATE.match(text)
            if not m:
                return None
            year = int(m.group(3)) if m.group(3) else today.year
            if year < 100:
                year += 2000
            result = date(year, int(m.group(2)), int(m.group(1)))
            if not m.group(3) and result < today:
                result = result.replace(year=today.year + 1)
    except ValueError:
        return None
    return result if result >= today else None
