"""Scoped reads of health checks, the grid worker's home list, alerts, links and door visits.

Out of scope looks exactly like missing (NotFound). The home list is a fixed number of
queries whatever the number of people: orders, then checks, tasks, visits and alerts of the
day for all of them at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet

from fangkong.accounts.roles import FULL, Role, policy_for
from fangkong.control.models import ACTIVE_STATUSES, ControlOrder
from fangkong.core.exceptions import NotFound
from fangkong.core.masking import mask_name
from fangkong.core.scope import scope_q

from .models import Alert, DoorVisit, HealthCheck, HealthLink, SamplingTask, SiteStaff, Stay
from .permissions import COUNTY_WIDE, HOME_CARERS, SITE_WORKERS, role_of

HOME_KINDS = frozenset({"home_isolation", "home_monitoring", "tests_only"})
SITE_ROLES = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF})


def masked_name(*, viewer: Any, name: str) -> str:
    return name if policy_for(viewer).name == FULL else mask_name(name)


def phase_on(*, order: ControlOrder, day: dt.date) -> dict[str, Any] | None:
    """The order's phase covering `day` (None before the first and after the last)."""
    iso = day.isoformat()
    for phase in order.phases or []:
        start, end = phase.get("start"), phase.get("end")
        if (start is None or start <= iso) and (end is None or iso <= end):
            return phase
    return None


def _viewer_sites(viewer: Any) -> list[int]:
    return list(
        SiteStaff.objects.filter(user_id=viewer.pk, active=True).values_list("site_id", flat=True)
    )


def orders_visible(*, viewer: Any) -> QuerySet[ControlOrder]:
    """Orders whose grid is in the viewer's scope (home carers, county readers), or whose
    person stays at one of the viewer's sites (site staff)."""
    role = role_of(viewer)
    qs = ControlOrder.objects.all()
    if role in COUNTY_WIDE:
        return qs
    q = Q(pk__in=[])
    if role in HOME_CARERS:
        q |= scope_q(viewer=viewer, field="division_id") or Q()
    if role in SITE_ROLES:
        q |= Q(
            pk__in=Stay.objects.filter(
                checked_out_at__isnull=True, site_id__in=_viewer_sites(viewer)
            ).values("order_id")
        )
    return qs.filter(q)


def access_order_by_id(*, viewer: Any, order_id: int) -> ControlOrder:
    order = orders_visible(viewer=viewer).filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    return order


def health_check_list(
    *, viewer: Any, order_id: int | None = None, day: dt.date | None = None
) -> QuerySet[HealthCheck]:
    qs = HealthCheck.objects.filter(order__in=orders_visible(viewer=viewer))
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    if day is not None:
        qs = qs.filter(day=day)
    return qs.order_by("-day", "-slot", "-id")


def home_list(*, viewer: Any, day: dt.date) -> list[dict[str, Any]]:
    """Everyone under an ACTIVE order in a home phase on `day`, in the viewer's grids."""
    if role_of(viewer) not in HOME_CARERS | COUNTY_WIDE:
        return []
    grid_q = scope_q(viewer=viewer, field="division_id")
    orders_qs = ControlOrder.objects.filter(status__in=ACTIVE_STATUSES, start_date__lte=day)
    if grid_q is not None:
        orders_qs = orders_qs.filter(grid_q)
    orders = [
        o
        for o in orders_qs.select_related("person").only(
            "pk",
            "division_id",
            "category",
            "phases",
            "person_id",
            "person__name",
        )
        if (phase_on(order=o, day=day) or {}).get("kind") in HOME_KINDS
    ]
    if not orders:
        return []
    by_order: dict[int, dict[str, Any]] = {}
    # The orders' ids as a plain list (each table below probes its order index); a subquery
    # of the orders made PostgreSQL scan today's checks of the whole county (0.6 s at 20,000).
    in_scope: Any = [o.pk for o in orders] if len(orders) <= 2000 else orders_qs.values("pk")
    checks: dict[tuple[int, str], Any] = {
        (order_id, slot): temp
        for order_id, slot, temp in HealthCheck.objects.filter(
            day=day, order__in=in_scope
        ).values_list("order_id", "slot", "temperature")
    }
    tasks = dict(
        SamplingTask.objects.filter(due_date=day, order__in=in_scope).values_list(
            "order_id", "status"
        )
    )
    visits = dict(
        DoorVisit.objects.filter(order__in=in_scope)
        .values("order_id")
        .annotate(last=Max("visited_at"))
        .values_list("order_id", "last")
    )
    alerts = dict(
        Alert.objects.filter(resolved_at__isnull=True, order__in=in_scope)
        .values("order_id")
        .annotate(n=Count("pk"))
        .values_list("order_id", "n")
    )
    links = set(
        HealthLink.objects.filter(revoked_at__isnull=True, order__in=in_scope).values_list(
            "order_id", flat=True
        )
    )
    from fangkong.policy.models import Category

    labels = dict(Category.choices)
    for o in orders:
        phase = phase_on(order=o, day=day) or {}
        by_order[o.pk] = {
            "order_id": o.pk,
            "person_id": o.person_id,
            "name": masked_name(viewer=viewer, name=o.person.name),
            "division_code": o.division_id,
            "category": o.category,
            "category_label": str(labels.get(o.category, o.category)),
            "phase_kind": phase.get("kind", ""),
            "phase_end": phase.get("end"),
            "am": checks.get((o.pk, "am")),
            "pm": checks.get((o.pk, "pm")),
            "test_due": o.pk in tasks,
            "test_status": tasks.get(o.pk, ""),
            "last_visit": visits.get(o.pk),
            "open_alerts": alerts.get(o.pk, 0),
            "has_link": o.pk in links,
        }
    return sorted(by_order.values(), key=lambda r: (-r["open_alerts"], r["order_id"]))


def alert_queryset(*, viewer: Any) -> QuerySet[Alert]:
    """Alerts the viewer answers for: HQ all; town officers level >= 2 and village officers
    level >= 1 in their scope; grid workers and site staff their own from level 0."""
    role = role_of(viewer)
    qs = Alert.objects.all()
    if role in COUNTY_WIDE:
        return qs
    q = Q(pk__in=[])
    grid_q = scope_q(viewer=viewer, field="division_id")
    if role == Role.TOWN_OFFICER:
        q = (grid_q or Q()) & Q(level__gte=Alert.Level.TOWN)
    elif role == Role.VILLAGE_OFFICER:
        q = (grid_q or Q()) & Q(level__gte=Alert.Level.VILLAGE)
    elif role == Role.GRID_WORKER:
        q = grid_q or Q()
    elif role in SITE_ROLES:
        q = Q(site_id__in=_viewer_sites(viewer))
    elif role not in HOME_CARERS | SITE_WORKERS:
        return qs.none()
    return qs.filter(q)


def alert_list(*, viewer: Any, open_only: bool = True) -> QuerySet[Alert]:
    qs = alert_queryset(viewer=viewer).select_related("person")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    # Fever and symptom hand-overs first, then the newest.
    return qs.order_by(F("handed_over_at").desc(nulls_last=True), "-raised_at", "-id")


def access_alert_by_id(*, viewer: Any, alert_id: int) -> Alert:
    alert = alert_queryset(viewer=viewer).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound()
    return alert


def link_for_order(*, order: ControlOrder) -> HealthLink | None:
    return HealthLink.objects.filter(order=order, revoked_at__isnull=True).first()


def link_by_token(*, token: str) -> HealthLink | None:
    """A valid link (not revoked, order ACTIVE) with its order, or None."""
    if not token or len(token) > 60:
        return None
    return (
        HealthLink.objects.select_related("order")
        .filter(token=token, revoked_at__isnull=True, order__status__in=ACTIVE_STATUSES)
        .first()
    )


def slots_done(*, order_id: int, day: dt.date) -> set[str]:
    return set(
        HealthCheck.objects.filter(order_id=order_id, day=day).values_list("slot", flat=True)
    )


def site_occupants(*, viewer: Any, site_id: int, day: dt.date) -> list[dict[str, Any]]:
    """People with an open Stay at the site, with the day's checks (the site's staff and the
    site admins only; anyone else: NotFound)."""
    role = role_of(viewer)
    if role not in {Role.COMMANDER, Role.ADMIN} and site_id not in _viewer_sites(viewer):
        raise NotFound()
    stays = list(
        Stay.objects.filter(site_id=site_id, checked_out_at__isnull=True)
        .select_related("person", "room")
        .order_by("room__floor", "room__number", "pk")
    )
    checks = {
        (order_id, slot): temp
        for order_id, slot, temp in HealthCheck.objects.filter(
            day=day, order_id__in=[s.order_id for s in stays]
        ).values_list("order_id", "slot", "temperature")
    }
    return [
        {
            "order_id": s.order_id,
            "room": s.room.number,
            "name": masked_name(viewer=viewer, name=s.person.name),
            "am": checks.get((s.order_id, "am")),
            "pm": checks.get((s.order_id, "pm")),
        }
        for s in stays
    ]


def access_visit_by_id(*, viewer: Any, visit_id: int) -> DoorVisit:
    grid_q = scope_q(viewer=viewer, field="division_id")
    if role_of(viewer) not in HOME_CARERS | COUNTY_WIDE:
        raise NotFound()
    qs = DoorVisit.objects.filter(pk=visit_id)
    if grid_q is not None:
        qs = qs.filter(grid_q)
    visit = qs.first()
    if visit is None:
        raise NotFound()
    return visit
