"""Reads of editions and risk areas.

Editions and risk areas are public rules, not personal data: every logged-in account reads all
of them (an anonymous caller reads nothing). What depends on the date (the edition in force,
the risk level of a place) takes the date as an argument, so tests and sweeps over the past ask
about any day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.core.cache import ProcessCache
from fangkong.core.db import columns_sql, instance_from_row
from fangkong.core.exceptions import NotFound
from fangkong.core.timeutils import local_today
from fangkong.geo.models import Division
from fangkong.geo.selectors import division_root

from .models import RISK_RANK, EditionActivation, PolicyEdition, RiskArea
from .rules import DowngradeProposal, downgrade_proposal

# Lengths of the codes a risk area may be declared on (province, city, county, town, village,
# compound): the candidates for an origin are the prefixes of its code of these lengths.
RISK_CODE_LENGTHS = (2, 4, 6, 9, 12, 15)
MANAGER_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})


def _reads(viewer: Any) -> bool:
    return bool(getattr(viewer, "is_authenticated", False))


def can_manage_policy(*, user: Any) -> bool:
    """County HQ and administrators activate editions, adjust them and manage risk areas."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return False
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in MANAGER_ROLES)


def county_root() -> Division | None:
    """The county (the level-0 division); None before the division tree is imported."""
    return division_root()


# --- editions ---------------------------------------------------------------------------------


def edition_in_force(*, on: dt.date) -> PolicyEdition | None:
    """The edition that applies on `on`: the county's latest activation on or before that day;
    without one, the latest national edition issued by then; None before the first."""
    root = county_root()
    if root is not None:
        activation = (
            EditionActivation.objects.filter(jurisdiction=root, effective_from__lte=on)
            .select_related("edition")
            .order_by("-effective_from", "-pk")
            .first()
        )
        if activation is not None:
            return activation.edition
    return (
        PolicyEdition.objects.filter(kind=PolicyEdition.Kind.NATIONAL, issued_on__lte=on)
        .order_by("-issued_on", "-pk")
        .first()
    )


def activation_in_force(*, on: dt.date) -> EditionActivation | None:
    """The county's activation that decides `on` (None: the national default applies)."""
    root = county_root()
    if root is None:
        return None
    return (
        EditionActivation.objects.filter(jurisdiction=root, effective_from__lte=on)
        .select_related("edition")
        .order_by("-effective_from", "-pk")
        .first()
    )


def edition_list(*, viewer: Any, kind: str | None = None) -> QuerySet[PolicyEdition]:
    """National editions and the county's local adjustments, oldest first."""
    qs = PolicyEdition.objects.select_related("base", "created_by")
    if not _reads(viewer):
        return qs.none()
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("issued_on", "pk")


def national_editions() -> list[PolicyEdition]:
    """The national presets in issue order (for the side-by-side table and ceilings)."""
    return list(
        PolicyEdition.objects.filter(kind=PolicyEdition.Kind.NATIONAL).order_by("issued_on", "pk")
    )


def access_edition_by_code(*, viewer: Any, code: str) -> PolicyEdition:
    try:
        return edition_list(viewer=viewer).get(code=code)
    except PolicyEdition.DoesNotExist:
        raise NotFound(_("防控方案版本不存在。")) from None


def activation_list(*, viewer: Any) -> QuerySet[EditionActivation]:
    """The county's activations, latest effective date first."""
    qs = EditionActivation.objects.select_related("edition", "activated_by", "jurisdiction")
    if not _reads(viewer):
        return qs.none()
    return qs.order_by("-effective_from", "-pk")


# --- risk areas -------------------------------------------------------------------------------


def in_force_q(on: dt.date, prefix: str = "") -> Q:
    """Q for risk areas in force on `on` (started, not yet ended)."""
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


def _compact(text: str) -> str:
    return "".join((text or "").split())


def risk_area_covers(*, area: RiskArea, origin_code: str, origin_address: str = "") -> bool:
    """Whether `area` covers an origin: the code lies under the area's code and, when the area
    is narrowed to a compound or building, the address mentions it (spaces ignored)."""
    if not origin_code.startswith(area.region_code):
        return False
    detail = _compact(area.detail)
    return not detail or detail in _compact(origin_address)


def _areas_in_force(prefixes: list[str], on: dt.date) -> list[RiskArea]:
    """The areas on these codes in force on a day, newest first: RiskArea.objects.filter(
    in_force_q(on), region_code__in=prefixes), written by hand because every checkpoint
    passage and arrival asks, and building the ORM query cost several times its run."""
    qn = connection.ops.quote_name
    meta = RiskArea._meta
    col = {n: qn(meta.get_field(n).column) for n in ("region_code", "start_date", "end_date", "id")}
    day = connection.ops.adapt_datefield_value(on)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns_sql(RiskArea, 'r')} FROM {qn(meta.db_table)} r "
            f"WHERE r.{col['region_code']} IN ({', '.join(['%s'] * len(prefixes))}) "
            f"AND r.{col['start_date']} <= %s "
            f"AND (r.{col['end_date']} IS NULL OR r.{col['end_date']} >= %s) "
            f"ORDER BY r.{col['start_date']} DESC, r.{col['id']} DESC",
            [*prefixes, day, day],
        )
        return [instance_from_row(RiskArea, row) for row in cursor.fetchall()]


def risk_level_at(
    *, origin_code: str, origin_address: str = "", on: dt.date
) -> tuple[str | None, RiskArea | None]:
    """The highest risk level covering an origin on a day, and the area that gives it; (None,
    None) when no risk area covers it. One query over the areas on the prefixes of the code."""
    code = (origin_code or "").strip()
    if not code:
        return None, None
    prefixes = [code[:n] for n in RISK_CODE_LENGTHS if n <= len(code)]
    return _best_area(_areas_in_force(prefixes, on), code, origin_address)


def _best_area(
    candidates: list[RiskArea], code: str, origin_address: str
) -> tuple[str | None, RiskArea | None]:
    """Of the areas on the prefixes of a code (newest first), the highest level covering it."""
    best: RiskArea | None = None
    for area in candidates:
        if not risk_area_covers(area=area, origin_code=code, origin_address=origin_address):
            continue
        if best is None or RISK_RANK.get(area.level, 0) > RISK_RANK.get(best.level, 0):
            best = area
    return (best.level, best) if best is not None else (None, None)


_areas_on_day = ProcessCache(max_entries=16)


def _areas_by_code(on: dt.date) -> dict[str, list[RiskArea]]:
    """Every area in force on a day, by region code, newest first (one query)."""
    qn = connection.ops.quote_name
    meta = RiskArea._meta
    col = {n: qn(meta.get_field(n).column) for n in ("start_date", "end_date", "id")}
    day = connection.ops.adapt_datefield_value(on)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns_sql(RiskArea, 'r')} FROM {qn(meta.db_table)} r "
            f"WHERE r.{col['start_date']} <= %s "
            f"AND (r.{col['end_date']} IS NULL OR r.{col['end_date']} >= %s) "
            f"ORDER BY r.{col['start_date']} DESC, r.{col['id']} DESC",
            [day, day],
        )
        by_code: dict[str, list[RiskArea]] = {}
        for row in cursor.fetchall():
            area = instance_from_row(RiskArea, row)
            by_code.setdefault(area.region_code, []).append(area)
    return by_code


def risk_level_cached(*, origin_code: str, on: dt.date) -> str | None:
    """`risk_level_at`'s level for the barrier's hot path. Every area in force on the day is
    kept per process for FANGKONG["PUBLIC_CACHE_SECONDS"] (core.cache; one query per day and
    process, whatever the origins): an area declared a moment ago is seen within that time,
    and the loop worker's follow-up sweep (travel.sweep.sweeps_follow_up) then finds whoever
    came through from it in between."""
    code = (origin_code or "").strip()
    if not code:
        return None
    by_code = _areas_on_day.get(on, lambda: _areas_by_code(on))
    candidates = [
        area for n in RISK_CODE_LENGTHS if n <= len(code) for area in by_code.get(code[:n], ())
    ]
    candidates.sort(key=lambda a: (a.start_date, a.pk), reverse=True)
    return _best_area(candidates, code, "")[0]


def risk_area_list(
    *,
    viewer: Any,
    level: str | None = None,
    active_on: dt.date | None = None,
    inside_county: bool | None = None,
    q: str | None = None,
) -> QuerySet[RiskArea]:
    """Risk areas, newest first: by level, in force on a day, inside or outside the county, or
    whose code starts with / name, detail or notice contains `q`."""
    qs = RiskArea.objects.select_related("division", "previous", "created_by")
    if not _reads(viewer):
        return qs.none()
    if level:
        qs = qs.filter(level=level)
    if active_on is not None:
        qs = qs.filter(in_force_q(active_on))
    if inside_county is True:
        qs = qs.filter(division__isnull=False)
    elif inside_county is False:
        qs = qs.filter(division__isnull=True)
    text = (q or "").strip()
    if text:
        if text.isdigit():
            qs = qs.filter(region_code__startswith=text)
        else:
            qs = qs.filter(
                Q(region_name__contains=text) | Q(detail__contains=text) | Q(notice__contains=text)
            )
    return qs.order_by("-start_date", "-pk")


def access_risk_area_by_id(*, viewer: Any, area_id: Any) -> RiskArea:
    try:
        return risk_area_list(viewer=viewer).get(pk=area_id)
    except (RiskArea.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("风险地区不存在。")) from None


def risk_area_is_after_downgrade(*, area: RiskArea) -> bool:
    """The area was made by confirming the downgrade of a higher-level one (9th edition:
    medium -> low after 3 more days)."""
    return area.source == RiskArea.Source.DOWNGRADE and area.previous_id is not None


def downgrade_for(*, area: RiskArea, today: dt.date | None = None) -> DowngradeProposal | None:
    """When the edition in force today would let an area inside the county go down a level,
    counting days without a new infection from the last one (or from the area's start).
    None for areas outside the county, areas no longer in force, and levels without a rule."""
    today = today or local_today()
    if area.division_id is None:
        return None
    if area.start_date > today or (area.end_date is not None and area.end_date < today):
        return None
    edition = edition_in_force(on=today)
    if edition is None:
        return None
    return downgrade_proposal(
        edition=edition,
        level=area.level,
        clock_from=area.last_case_on or area.start_date,
        after_downgrade=risk_area_is_after_downgrade(area=area),
    )
