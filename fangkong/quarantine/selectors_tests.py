"""Reads of the test schedules, in the viewer's scope: a site's staff see their sites' tasks,
everyone else the tasks of the grids in their jurisdiction. Out of scope looks like missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_q

from .models import Certificate, SamplingTask, SiteStaff, Stay
from .permissions import READERS, role_of

SITE_ROLES = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF})
TASK_READERS = READERS | {Role.LAB_STAFF}


def staff_site_ids(*, user: Any) -> set[int]:
    """The sites the user is on the active staff of."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        SiteStaff.objects.filter(user_id=user.pk, active=True).values_list("site_id", flat=True)
    )


def _where(viewer: Any, *, site_field: str, division_field: str) -> Q | None:
    """None: everything; otherwise a Q (possibly matching nothing)."""
    role = role_of(viewer)
    if role not in TASK_READERS:
        return Q(pk__in=[])
    if role in SITE_ROLES:
        return Q(**{f"{site_field}__in": list(staff_site_ids(user=viewer))})
    return scope_q(viewer=viewer, field=division_field)


def tasks_visible(*, viewer: Any) -> QuerySet[SamplingTask]:
    qs = SamplingTask.objects.select_related("person", "site", "order")
    q = _where(viewer, site_field="site_id", division_field="division_id")
    return qs if q is None else qs.filter(q)


def tasks_list(
    *,
    viewer: Any,
    day: dt.date | None = None,
    site_id: int | None = None,
    status: str = "",
) -> QuerySet[SamplingTask]:
    qs = tasks_visible(viewer=viewer)
    if day is not None:
        qs = qs.filter(due_date=day)
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_date", "site_id", "division_id", "pk")


def tasks_overdue(*, viewer: Any, today: dt.date) -> QuerySet[SamplingTask]:
    return (
        tasks_visible(viewer=viewer)
        .filter(status=SamplingTask.Status.PENDING, due_date__lt=today)
        .order_by("due_date", "pk")
    )


def task_get(*, viewer: Any, task_id: int) -> SamplingTask:
    task = tasks_visible(viewer=viewer).filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("检测任务不存在。"))
    return task


def order_get(*, viewer: Any, order_id: int) -> ControlOrder:
    """An order the viewer may see: in their jurisdiction, or (site staff) one whose person
    stays or stayed at their site."""
    qs = ControlOrder.objects.select_related("person", "edition", "division")
    role = role_of(viewer)
    if role not in TASK_READERS:
        raise NotFound(_("管控措施不存在。"))
    if role in SITE_ROLES:
        sites = staff_site_ids(user=viewer)
        persons = Stay.objects.filter(site_id__in=sites, order_id=order_id).values("person_id")
        qs = qs.filter(pk=order_id, person_id__in=persons)
    else:
        q = scope_q(viewer=viewer, field="division_id")
        qs = qs.filter(pk=order_id) if q is None else qs.filter(q, pk=order_id)
    order = qs.first()
    if order is None:
        raise NotFound(_("管控措施不存在。"))
    return order


def order_tasks(*, order: ControlOrder) -> list[SamplingTask]:
    return list(SamplingTask.objects.filter(order=order).order_by("due_date"))


def order_open_stay(*, order: ControlOrder) -> Stay | None:
    return (
        Stay.objects.select_related("site", "room")
        .filter(person_id=order.person_id, checked_out_at__isnull=True)
        .first()
    )


def certificate_for_order(*, order: ControlOrder) -> Certificate | None:
    return Certificate.objects.filter(order=order).first()


def certificate_get(*, viewer: Any, certificate_id: int) -> Certificate:
    certificate = Certificate.objects.filter(pk=certificate_id).first()
    if certificate is None:
        raise NotFound(_("证明不存在。"))
    try:
        order_get(viewer=viewer, order_id=certificate.order_id)
    except NotFound:
        raise NotFound(_("证明不存在。")) from None
    return certificate


def certificate_by_code(*, code: str) -> Certificate | None:
    """Public verification: nothing but the certificate itself."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    return Certificate.objects.filter(verify_code=code).first()
