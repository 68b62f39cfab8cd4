"""Places: Latvian municipalities, countries and time zones.

Pure domain code, in five modules: :mod:`.matching` (free-text matching),
:mod:`.municipalities`, :mod:`.geography` (the territory of a point),
:mod:`.countries` and :mod:`.timezones`.  The only I/O is reading the package
data files ``bot/data/latvia_municipalities.csv``, ``municipality_aliases.csv``
and ``country_aliases.csv`` (once); country names and time zones come from
Babel's CLDR data.  Callers use this package: ``from bot.domain import places``.
"""

from __future__ import annotations

from .countries import (
    DIASPORA_COUNTRIES,
    LATVIA,
    all_countries,
    country_flag,
    country_name,
    is_country_code,
    match_country,
    normalise_country_code,
)
from .geography import in_latvia, km_outside_latvia, nearest_municipalities, nearest_municipality
from .matching import MatchResult, latvian_sort_key
from .municipalities import Municipality, match_municipality, municipalities, municipality, municipality_by_emma_id
from .strict import Exact, exact_country, exact_municipality
from .timezones import (
    LATVIA_TZ,
    city_timezone,
    country_timezones,
    default_timezone,
    timezone_choice_label,
    timezone_choices,
    timezone_label,
)
from .timezones import (
    MAX_CHOICES as MAX_TIMEZONE_CHOICES,
)

__all__ = [
    "DIASPORA_COUNTRIES",
    "LATVIA",
    "LATVIA_TZ",
    "MAX_TIMEZONE_CHOICES",
    "Exact",
    "MatchResult",
    "Municipality",
    "all_countries",
    "city_timezone",
    "country_flag",
    "country_name",
    "country_timezones",
    "default_timezone",
    "exact_country",
    "exact_municipality",
    "in_latvia",
    "is_country_code",
    "km_outside_latvia",
    "latvian_sort_key",
    "match_country",
    "match_municipality",
    "municipalities",
    "municipality",
    "municipality_by_emma_id",
    "nearest_municipalities",
    "nearest_municipality",
    "normalise_country_code",
    "timezone_choice_label",
    "timezone_choices",
    "timezone_label",
]
