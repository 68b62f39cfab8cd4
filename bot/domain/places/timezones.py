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
