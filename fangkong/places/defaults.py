"""Default stay rules per kind of place: how long a visit is taken to last when nobody scanned out,
and the cap on an imputed stay, in minutes.

These are a starting point that the county adjusts (页面「停留时长规则」, API PUT
/places/stay-rules): a `StayRule` row for a kind overrides the default here. The figures follow
what a visit usually lasts: a school or enterprise day is a working day, a pharmacy visit a
quarter of an hour; hotels usually register whole stays (arrival and departure), so their
default only applies to a scan without a departure and is a night, capped at a day.
"""

from __future__ import annotations

from .models import PlaceKind

# kind -> (stay_minutes, cap_minutes); stay <= cap for every kind.
DEFAULT_STAY_RULES: dict[str, tuple[int, int]] = {
    PlaceKind.SCHOOL: (480, 600),
    PlaceKind.ENTERPRISE: (540, 720),
    PlaceKind.HOTEL: (720, 1440),
    PlaceKind.FARM_STAY: (240, 720),
    PlaceKind.MARKET: (60, 240),
    PlaceKind.SUPERMARKET: (45, 180),
    PlaceKind.PHARMACY: (15, 60),
    PlaceKind.POULTRY: (30, 120),
    PlaceKind.COLD_STORE: (120, 480),
    PlaceKind.RESTAURANT: (90, 240),
    PlaceKind.BATHHOUSE: (120, 300),
    PlaceKind.RELIGIOUS: (90, 240),
    PlaceKind.CONSTRUCTION: (540, 720),
    PlaceKind.TRANSPORT: (60, 180),
    PlaceKind.OTHER: (60, 240),
}

# The fallback for a kind missing above (a kind added to PlaceKind later).
FALLBACK_STAY_RULE: tuple[int, int] = DEFAULT_STAY_RULES[PlaceKind.OTHER]

# Bounds of a rule set by the county: a minute to a week.
MIN_MINUTES = 1
MAX_MINUTES = 1440 * 7
