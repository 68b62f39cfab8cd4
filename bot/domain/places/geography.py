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


# Latvia's outline, coarsely (about 40 points, clockwise from the Lithuanian border on the
# Baltic coast): good to a few kilometres, which is all that telling "in Latvia" from
# "abroad" needs with :data:`OUTSIDE_TOLERANCE_KM` of slack.
_LATVIA_OUTLINE: tuple[tuple[float, float], ...] = (
    (56.07, 21.05),  # the coast at the Lithuanian border
    (56.30, 20.98),
    (56.51, 20.97),  # Liepāja
    (56.89, 21.15),  # Pāvilosta
    (57.14, 21.38),
    (57.40, 21.52),  # Ventspils
    (57.60, 21.80),
    (57.76, 22.60),  # Kolka
    (57.50, 22.82),  # Roja
    (57.33, 23.13),  # Mērsrags
    (57.10, 23.25),  # Engure
    (56.97, 23.55),  # Jūrmala
    (56.98, 23.90),
    (57.05, 24.03),  # the mouth of the Daugava
    (57.26, 24.40),  # Saulkrasti
    (57.55, 24.37),
    (57.87, 24.35),  # Ainaži, at the Estonian border
    (57.92, 24.80),
    (58.08, 25.20),
    (57.95, 25.60),
    (57.78, 26.03),  # Valka
    (57.85, 26.50),
    (57.58, 26.90),
    (57.52, 27.37),  # the Estonian-Russian border
    (57.30, 27.85),
    (57.00, 27.75),
    (56.80, 27.95),
    (56.39, 28.16),  # Zilupe
    (56.15, 28.16),  # the Russian-Belarusian border
    (55.95, 27.65),
    (55.83, 27.20),  # Krāslava
    (55.70, 26.70),
    (55.67, 26.60),  # the Belarusian-Lithuanian border
    (55.90, 26.10),
    (56.10, 25.60),
    (56.15, 25.10),
    (56.30, 24.50),
    (56.27, 24.00),
    (56.38, 23.50),
    (56.35, 22.90),
    (56.40, 22.30),
    (56.30, 21.70),
    (56.22, 21.25),
)

OUTSIDE_TOLERANCE_KM = 20.0


def _to_km(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    """An equirectangular projection around latitude ``lat0``, in km (fine over a few hundred km)."""
    k = math.pi / 180 * _EARTH_RADIUS_KM
    return lon * k * math.cos(math.radians(lat0)), lat * k


def _inside_outline(lat: float, lon: float) -> bool:
    inside = False
    points = _LATVIA_OUTLINE
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:] + points[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat) and lon < lon1 + (lat - lat1) / (lat2 - lat1) * (lon2 - lon1):
            inside = not inside
    return inside


def km_outside_latvia(lat: float, lon: float) -> float:
    """How far a point lies outside Latvia's outline, in km (0 inside it)."""
    if _inside_outline(lat, lon):
        return 0.0
    if not 50 <= lat <= 62 or not 14 <= lon <= 36:  # far away: the distance to Riga is enough
        return _haversine_km(lat, lon, 56.95, 24.11)
    px, py = _to_km(lat, lon, lat)
    best = math.inf
    points = _LATVIA_OUTLINE
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:] + points[:1], strict=True):
        ax, ay = _to_km(lat1, lon1, lat)
        bx, by = _to_km(lat2, lon2, lat)
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        u = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        best = min(best, math.hypot(px - (ax + u * dx), py - (ay + u * dy)))
    return best


def in_latvia(lat: float, lon: float) -> bool:
    """True for a point in Latvia, or outside it by no more than :data:`OUTSIDE_TOLERANCE_KM`
    (a location shared near the border, or from a boat off the coast); NaN and out-of-range
    coordinates are not in Latvia."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also False for NaN
        return False
    return km_outside_latvia(lat, lon) <= OUTSIDE_TOLERANCE_KM
