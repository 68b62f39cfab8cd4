"""Geography: which Latvian territory a point (a shared location) lies in."""

from __future__ import annotations

import math
from functools import cache

from .municipalities import Municipality, municipalities

_EARTH_RADIUS_KM = 6371.0088
_CITY_RADIUS_KM = 5.0


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@cache
def _reference_points() -> dict[str, tuple[tuple[float, float], ...]]:
    """Points that lie inside each territory: its area centroid, plus its
    administrative centre unless that centre is a state city outside it."""
    table = municipalities()
    city_centres = {(m.lat, m.lon) for m in table if m.is_city}
    points: dict[str, tuple[tuple[float, float], ...]] = {}
    for item in table:
        refs: list[tuple[float, float]] = []
        if item.centroid_lat is not None and item.centroid_lon is not None:
            refs.append((item.centroid_lat, item.centroid_lon))
        if item.is_city or (item.lat, item.lon) not in city_centres:
            refs.append((item.lat, item.lon))
        points[item.atvk] = tuple(refs)
    return points


def nearest_municipalities(lat: float, lon: float, n: int = 3) -> list[tuple[Municipality, float]]:
    """The ``n`` territories most likely to contain a point, with the
    distance in km to the nearest reference point of each.

    Without boundary polygons this is an approximation: each territory is
    represented by its area centroid and (if inside it) its administrative
    centre; a point within 5 km of a state city's centre or centroid is
    placed in that city first.  The distance lets callers reject points far
    outside Latvia.
    """
    points = _reference_points()
    ranked: list[tuple[bool, float, Municipality]] = []
    for item in municipalities():
        dist = min(_haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points[item.atvk])
        in_city = item.is_city and dist <= _CITY_RADIUS_KM
        ranked.append((not in_city, dist, item))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [(item, dist) for _, dist, item in ranked[: max(n, 0)]]


def nearest_municipality(lat: float, lon: float) -> Municipality:
    """The territory most likely to contain the point (see
    :func:`nearest_municipalities`)."""
    return nearest_municipalities(lat, lon, 1)[0][0]
