"""Time zones: a country's IANA zones, its default zone and readable labels.

Zones come from Babel's CLDR data; they are compared at fixed instants so that
results do not depend on today's date."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache

import babel.dates
from babel.core import get_global

from .countries import babel_locale, normalise_country_code
from .matching import fold

LATVIA_TZ = "Europe/Riga"

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
        label = babel.dates.get_timezone_location(zone, locale=babel_locale(lang), return_city=True)
    except (LookupError, ValueError):
        label = ""
    if not label or label == "Unknown City" or "/" in label:
        label = zone.rsplit("/", 1)[-1].replace("_", " ")
    return label


# ----- the choice offered in registration -----------------------------------------------------

MAX_CHOICES = 8  # the time zone step offers at most this many

# The zones most people of a country live in, most populous first (CLDR does not rank a
# country's zones); the rest of a choice is one zone per other clock, from CLDR.
_COMMON_ZONES: dict[str, tuple[str, ...]] = {
    "US": (
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "America/Denver",
        "America/Phoenix",
        "America/Anchorage",
        "Pacific/Honolulu",
    ),
    "CA": (
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
        "America/Regina",
        "America/St_Johns",
    ),
    "AU": (
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Brisbane",
        "Australia/Perth",
        "Australia/Adelaide",
        "Australia/Hobart",
        "Australia/Darwin",
    ),
    "BR": ("America/Sao_Paulo", "America/Manaus", "America/Belem", "America/Cuiaba", "America/Noronha"),
    "MX": ("America/Mexico_City", "America/Tijuana", "America/Cancun", "America/Hermosillo", "America/Mazatlan"),
    "RU": (
        "Europe/Moscow",
        "Asia/Yekaterinburg",
        "Asia/Novosibirsk",
        "Europe/Samara",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Vladivostok",
        "Europe/Kaliningrad",
    ),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "PT": ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"),
    "NZ": ("Pacific/Auckland", "Pacific/Chatham"),
}


@cache
def _choices(code: str) -> tuple[str, ...]:
    zones = _zones_by_country().get(code, ())
    chosen = [z for z in _COMMON_ZONES.get(code, ()) if z in zones]
    golden = set(get_global("windows_zone_mapping").values())
    clocks = {_offsets(z) for z in chosen}
    # then one zone for each clock not offered yet: a zone CLDR takes as its metazone's
    # example first, then west to east
    for zone in sorted(zones, key=lambda z: (z not in golden, zones.index(z))):
        if len(chosen) >= MAX_CHOICES:
            break
        if _offsets(zone) not in clocks:
            chosen.append(zone)
            clocks.add(_offsets(zone))
    return tuple(chosen[:MAX_CHOICES])


def timezone_choices(code: str) -> list[str]:
    """At most ``MAX_CHOICES`` zones of a country to choose from, the common ones first."""
    canonical = normalise_country_code(code)
    return list(_choices(canonical)) if canonical is not None else []


def utc_offset(zone: str) -> str:
    """The zone's standard (winter) offset: "UTC−6", "UTC+5:30", "UTC+0"."""
    offsets = _offsets(zone) or (timedelta(0),)
    minutes = int(min(offsets).total_seconds() // 60)
    sign = "−" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def timezone_choice_label(zone: str, lang: str) -> str:
    """A time zone button: "UTC−6 Chicago"."""
    return f"{utc_offset(zone)} {timezone_label(zone, lang)}"


def _fold(text: str) -> str:
    return " ".join(fold(text).replace("-", " ").replace("_", " ").split())


@cache
def _zone_names(code: str) -> dict[str, str]:
    """Folded city names of a country's zones (CLDR's exemplar cities in English and Latvian,
    and the zone's own name) -> the zone."""
    names: dict[str, str] = {}
    for zone in _zones_by_country().get(code, ()):
        for lang in ("en", "lv"):
            names.setdefault(_fold(timezone_label(zone, lang)), zone)
        names.setdefault(_fold(zone.rsplit("/", 1)[-1]), zone)
    return names


def city_timezone(code: str, city: str) -> str | None:
    """The zone of a typed city where CLDR knows it ("Chicago", "US" -> "America/Chicago");
    None otherwise."""
    canonical = normalise_country_code(code)
    if canonical is None or not city.strip():
        return None
    return _zone_names(canonical).get(_fold(city))
