"""Reads of sites, rooms, stays, the people awaiting a room, occupancy and the 14-day forecast.

Scope: county-wide roles see every site; site and medical staff the sites they are active staff
of; everyone else the sites whose division is in their jurisdiction. Out of scope is missing.
Occupancy and forecast aggregate in SQL (a fixed number of queries, whatever the county's size).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.control.models import ACTIVE_STATUSES, ControlOrder, OrderStatus
from fangkong.core import timeutils
from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.scope import scope_q

from .models import QuarantineSettings, Room, Site, SiteStaff, Stay
from .permissions import COUNTY_WIDE, READERS, role_of

CENTRALIZED = "centralized"
FORECAST_DAYS = 14
MAX_PHASES = 4  # phases read from the JSON snapshot in SQL (editions have 1-3)
STAFF_ROLES = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF})


def _require_reader(role: str) -> None:
    """Roles that read no site are refused (403) before any lookup, as on the pages."""
    if role not in READERS:
        raise Forbidden(_("您的角色不能查看隔离点信息。"))


def site_queryset(*, viewer: Any) -> QuerySet[Site]:
    role = role_of(viewer)
    qs = Site.objects.all()
    if not role:
        return qs.none()
    _require_reader(role)
    if role in COUNTY_WIDE:
        return qs
    if role in STAFF_ROLES:
        return qs.filter(
            Exists(SiteStaff.objects.filter(site=OuterRef("pk"), user=viewer, active=True))
        )
    q = scope_q(viewer=viewer, field="division_id")
    return qs if q is None else qs.filter(q)


def access_site_by_id(*, viewer: Any, site_id: int) -> Site:
    site = site_queryset(viewer=viewer).filter(pk=site_id).first()
    if site is None:
        raise NotFound(_("隔离点不存在。"))
    return site


def access_room_by_id(*, viewer: Any, room_id: int) -> Room:
    room = (
        Room.objects.select_related("site")
        .filter(pk=room_id, site__in=site_queryset(viewer=viewer))
        .first()
    )
    if room is None:
        raise NotFound(_("房间不存在。"))
    return room


def access_stay_by_id(*, viewer: Any, stay_id: int) -> Stay:
    stay = (
        Stay.objects.select_related("site", "room", "order", "person")
        .filter(pk=stay_id, site__in=site_queryset(viewer=viewer))
        .first()
    )
    if stay is None:
        raise NotFound(_("入住记录不存在。"))
    return stay


def order_queryset(*, viewer: Any) -> QuerySet[ControlOrder]:
    """Orders the viewer may place in a room: in scope, or staying at one of the viewer's sites."""
    role = role_of(viewer)
    qs = ControlOrder.objects.all()
    if not role:
        return qs.none()
    if role in COUNTY_WIDE:
        return qs
    q = scope_q(viewer=viewer, field="division_id")
    if q is None:
        return qs
    at_my_sites = Exists(
        Stay.objects.filter(
            order=OuterRef("pk"),
            checked_out_at__isnull=True,
            site__in=site_queryset(viewer=viewer),
        )
    )
    return qs.filter(q | Q(at_my_sites))


def access_order_by_id(*, viewer: Any, order_id: int) -> ControlOrder:
    order = (
        order_queryset(viewer=viewer)
        .select_related("person", "division")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("管控措施不存在。"))
    return order


def settings_get(*, viewer: Any = None) -> QuarantineSettings:
    """The county's single settings row (unsaved defaults until someone saves it)."""
    return QuarantineSettings.objects.order_by("pk").first() or QuarantineSettings()


def phase_on(*, phases: list[dict[str, Any]], day: dt.date) -> dict[str, Any] | None:
    """The phase covering `day` (end inclusive; an open end runs on)."""
    iso = day.isoformat()
    for phase in phases or []:
        start = phase.get("start") or ""
        end = phase.get("end")
        if start <= iso and (not end or iso <= end):
            return phase
    return None


def centralized_end(*, order: ControlOrder, today: dt.date) -> str:
    phase = phase_on(phases=order.phases, day=today)
    return (phase or {}).get("end") or "" if (phase or {}).get("kind") == CENTRALIZED else ""


def site_rooms(*, viewer: Any, site: Site) -> list[Room]:
    """The site's rooms by floor, each with `used` = its open stays."""
    return list(
        Room.objects.filter(site=site)
        .annotate(used=Count("stays", filter=Q(stays__checked_out_at__isnull=True)))
        .order_by("floor", "number")
    )


def rooms_with_a_free_bed(*, viewer: Any, exclude_site: Site | None = None) -> list[Room]:
    """Rooms with a free bed at the active sites the viewer may see (transfer targets), by
    site, floor and number: one query whatever the number of sites."""
    open_stays = Stay.objects.filter(room=OuterRef("pk"), checked_out_at__isnull=True)
    qs = (
        Room.objects.filter(site__in=site_queryset(viewer=viewer).filter(active=True))
        # A free room has nobody; an occupied one can have a bed left only with two or more.
        .filter(Q(status=Room.Status.FREE) | Q(status=Room.Status.OCCUPIED, capacity__gt=1))
        .annotate(
            used=Coalesce(
                Subquery(
                    open_stays.values("room").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            )
        )
        .filter(used__lt=F("capacity"))
        .select_related("site")
        .order_by("site__name", "floor", "number")
    )
    if exclude_site is not None:
        qs = qs.exclude(site=exclude_site)
    return list(qs)


def open_stays(*, viewer: Any, site: Site) -> QuerySet[Stay]:
    return (
        Stay.objects.filter(site=site, checked_out_at__isnull=True)
        .select_related("person", "person__division", "order", "room")
        .order_by("room__floor", "room__number", "pk")
    )


def site_staff(*, viewer: Any, site: Site) -> QuerySet[SiteStaff]:
    return SiteStaff.objects.filter(site=site, active=True).select_related("user").order_by("pk")


def open_stay_of(*, viewer: Any, order: ControlOrder) -> Stay | None:
    return (
        Stay.objects.select_related("site", "room")
        .filter(order=order, checked_out_at__isnull=True)
        .first()
    )


def _order_scope(viewer: Any) -> Q | None:
    if role_of(viewer) in COUNTY_WIDE:
        return None
    q = scope_q(viewer=viewer, field="division_id")
    return q


def awaiting_rooms(
    *, viewer: Any, today: dt.date | None = None, limit: int = 500
) -> list[ControlOrder]:
    """Active orders in a centralized phase today whose person has no open stay."""
    if not role_of(viewer):
        return []
    _require_reader(role_of(viewer))
    today = today or timeutils.local_today()
    iso = today.isoformat()
    qs = (
        ControlOrder.objects.filter(status__in=ACTIVE_STATUSES, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .exclude(
            Exists(Stay.objects.filter(person=OuterRef("person"), checked_out_at__isnull=True))
        )
        .annotate(**_phase_annotations())
        .filter(_phase_covers_q(iso, kind=CENTRALIZED))
        .select_related("person", "person__division")
        .order_by("start_date", "pk")
    )
    q = _order_scope(viewer)
    if q is not None:
        qs = qs.filter(q)
    return list(qs[:limit])


def _phase_annotations() -> dict[str, Any]:
    ann: dict[str, Any] = {}
    for i in range(MAX_PHASES):
        for key, name in (("k", "kind"), ("s", "start"), ("e", "end")):
            ann[f"_{key}{i}"] = Cast(KT(f"phases__{i}__{name}"), output_field=CharField())
    return ann


def _phase_covers_q(iso: str, *, kind: str) -> Q:
    """Some phase of kind `kind` covers the ISO day (on the `_phase_annotations` columns)."""
    q = Q()
    for i in range(MAX_PHASES):
        q |= Q(**{f"_k{i}": kind, f"_s{i}__lte": iso}) & (
            Q(**{f"_e{i}__isnull": True}) | Q(**{f"_e{i}__gte": iso})
        )
    return q


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    return start, timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz
    )


def occupancy(*, viewer: Any, start: dt.date | None = None, days: int = 7) -> dict[str, Any]:
    """Per site: people staying each day, beds, rooms by status now. Three queries."""
    start = start or timeutils.local_today()
    days = max(1, min(int(days), 31))
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    sites = list(site_queryset(viewer=viewer).filter(active=True).order_by("name"))
    site_ids = [s.pk for s in sites]
    room_rows = (
        {
            r["site_id"]: r
            for r in Room.objects.filter(site_id__in=site_ids)
            .values("site_id")
            .annotate(
                beds=Sum("capacity"),
                rooms=Count("pk"),
                free=Count("pk", filter=Q(status=Room.Status.FREE)),
                occupied=Count("pk", filter=Q(status=Room.Status.OCCUPIED)),
                disinfection=Count("pk", filter=Q(status=Room.Status.DISINFECTION)),
                out_of_service=Count("pk", filter=Q(status=Room.Status.OUT_OF_SERVICE)),
            )
        }
        if site_ids
        else {}
    )
    aggregates = {}
    for i, day in enumerate(dates):
        lo, hi = _day_bounds(day)
        aggregates[f"d{i}"] = Count(
            "pk",
            filter=Q(checked_in_at__lt=hi)
            & (Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=lo)),
        )
    first_lo, _first = _day_bounds(dates[0])
    last_hi = _day_bounds(dates[-1])[1]
    stay_rows = (
        {
            r["site_id"]: r
            for r in Stay.objects.filter(site_id__in=site_ids, checked_in_at__lt=last_hi)
            .filter(Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=first_lo))
            .values("site_id")
            .annotate(**aggregates)
        }
        if site_ids
        else {}
    )
    rows = []
    totals = {
        "beds": 0,
        "rooms": 0,
        "free": 0,
        "occupied": 0,
        "disinfection": 0,
        "out_of_service": 0,
        "people": [0] * days,
    }
    for site in sites:
        r = room_rows.get(site.pk, {})
        s = stay_rows.get(site.pk, {})
        people = [s.get(f"d{i}", 0) for i in range(days)]
        row = {
            "site": site,
            "site_id": site.pk,
            "name": site.name,
            "beds": r.get("beds") or 0,
            "rooms": r.get("rooms", 0),
            "free": r.get("free", 0),
            "occupied": r.get("occupied", 0),
            "disinfection": r.get("disinfection", 0),
            "out_of_service": r.get("out_of_service", 0),
            "people": people,
        }
        rows.append(row)
        for key in ("beds", "rooms", "free", "occupied", "disinfection", "out_of_service"):
            totals[key] += row[key]
        totals["people"] = [a + b for a, b in zip(totals["people"], people, strict=True)]
    return {"dates": dates, "sites": rows, "totals": totals}


def _centralized_phases(orders: QuerySet[ControlOrder]) -> list[tuple[Any, ...]]:
    """(person id, household id, start, end) of every centralized phase of `orders`:
    the phases unnested by the database (PostgreSQL jsonb_array_elements, SQLite json_each), so neither the
    JSON of every order nor a per-day count over JSON paths is worked out for the page."""
    sql, params = (
        orders.order_by()
        .annotate(
            q_person=F("person_id"),
            q_household=F("person__household_id"),
            q_phases=F("phases"),
        )
        .values_list("q_person", "q_household", "q_phases")
    ).query.sql_with_params()
    if connection.vendor == "postgresql":
        phases = "CROSS JOIN LATERAL jsonb_array_elements(o.q_phases) AS ph(v)"
        kind, start, end = "ph.v->>'kind'", "ph.v->>'start'", "ph.v->>'end'"
    else:
        phases = ", json_each(o.q_phases) AS ph"
        kind = "json_extract(ph.value, '$.kind')"
        start = "json_extract(ph.value, '$.start')"
        end = "json_extract(ph.value, '$.end')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.q_person, o.q_household, {start}, {end}"
            f" FROM ({sql}) AS o {phases} WHERE {kind} = %s",
            [*params, CENTRALIZED],
        )
        return cursor.fetchall()


def _daily_counts(groups: Any, days: int) -> list[int]:
    """How many groups are present each day: each group a list of (first, last) day indexes,
    possibly overlapping (a person's proposed and active order); counted once a day."""
    delta = [0] * (days + 1)
    for spans in groups:
        if len(spans) == 1:  # nearly everyone: one order, one centralized phase
            lo, hi = spans[0]
            delta[lo] += 1
            delta[hi + 1] -= 1
            continue
        spans = sorted(spans)
        lo, hi = spans[0]
        for a, b in spans[1:]:
            if a <= hi + 1:
                hi = max(hi, b)
                continue
            delta[lo] += 1
            delta[hi + 1] -= 1
            lo, hi = a, b
        delta[lo] += 1
        delta[hi + 1] -= 1
    counts, running = [], 0
    for i in range(days):
        running += delta[i]
        counts.append(running)
    return counts


def forecast(*, viewer: Any, today: dt.date | None = None) -> dict[str, Any]:
    """The next 14 days: people needing a centralized room (active and proposed orders), rooms
    needed, against the beds and rooms of the sites in scope. Two queries; the days are
    counted in Python from the orders that have a centralized phase."""
    today = today or timeutils.local_today()
    dates = [today + dt.timedelta(days=i) for i in range(FORECAST_DAYS)]
    sharing = settings_get().sharing
    qs = ControlOrder.objects.filter(
        status__in=(OrderStatus.PROPOSED, *ACTIVE_STATUSES), start_date__lte=dates[-1]
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    q = _order_scope(viewer)
    if not role_of(viewer):
        qs = qs.none()
    elif q is not None:
        qs = qs.filter(q)
    first, last = dates[0].isoformat(), dates[-1].isoformat()
    index_of = {day.isoformat(): i for i, day in enumerate(dates)}
    people_spans: dict[int, list[tuple[int, int]]] = {}
    household_spans: dict[int, list[tuple[int, int]]] = {}
    for person_id, household_id, start, end in _centralized_phases(qs):
        start, end = start or first, end or last
        if start > last or end < first:
            continue
        span = (index_of[max(start, first)], index_of[min(end, last)])
        people_spans.setdefault(person_id, []).append(span)
        # A person without a household needs a room of their own.
        household_spans.setdefault(household_id or -person_id, []).append(span)
    people_on = _daily_counts(people_spans.values(), len(dates))
    households_on = _daily_counts(household_spans.values(), len(dates))
    capacity = (
        Room.objects.filter(site__in=site_queryset(viewer=viewer).filter(active=True))
        .exclude(status=Room.Status.OUT_OF_SERVICE)
        .aggregate(beds=Sum("capacity"), rooms=Count("pk"))
    )
    beds = capacity["beds"] or 0
    rooms = capacity["rooms"] or 0
    out = []
    for i, day in enumerate(dates):
        people = people_on[i]
        by_household = sharing == QuarantineSettings.Sharing.HOUSEHOLD
        needed = households_on[i] if by_household else people
        out.append(
            {
                "day": day,
                "people": people,
                "rooms_needed": needed,
                "beds": beds,
                "rooms": rooms,
                "short": max(0, needed - rooms),
            }
        )
    return {"days": out, "beds": beds, "rooms": rooms, "sharing": sharing}
