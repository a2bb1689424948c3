"""Reads of the control app, always through the viewer's data scope (on the order's or the
task's division). Out of scope answers NotFound, exactly like missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Case, Count, F, Min, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_by_division, scope_q, subtree_q
from fangkong.geo.models import Division
from fangkong.geo.selectors import (
    access_division_by_code,
    division_ancestors,
    division_list,
    division_viewer_roots,
)
from fangkong.policy.selectors import county_root

from .models import (
    OPEN_STATUSES,
    ControlOrder,
    ControlOrderEvent,
    Escalation,
    LoopSettings,
    LoopStep,
    LoopTask,
    StepKind,
    TaskStatus,
)

# ---------------------------------------------------------------------------------------------
# Orders


def order_list(
    *,
    viewer: Any,
    status: str | None = None,
    category: str | None = None,
    division: str | None = None,
    person_id: int | None = None,
) -> QuerySet[ControlOrder]:
    """Orders of the viewer's scope, newest first. `status="open"`: proposed or active."""
    qs = ControlOrder.objects.select_related("person", "person__division", "edition", "division")
    qs = scope_by_division(qs, viewer=viewer, field="division_id")
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if division:
        qs = qs.filter(subtree_q("division_id", division))
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    return qs.order_by("-pk")


def access_order_by_id(*, viewer: Any, order_id: Any) -> ControlOrder:
    try:
        return order_list(viewer=viewer).get(pk=order_id)
    except (ControlOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("管控措施不存在。")) from None


def orders_for_person(*, viewer: Any, person_id: int) -> QuerySet[ControlOrder]:
    return order_list(viewer=viewer, person_id=person_id)


def order_events(*, order: ControlOrder) -> QuerySet[ControlOrderEvent]:
    """The order's history, oldest first (the caller already has the order in scope)."""
    return order.events.select_related("actor").order_by("at", "pk")


def order_tasks(*, order: ControlOrder) -> QuerySet[LoopTask]:
    return order.tasks.prefetch_related(
        Prefetch("steps", queryset=LoopStep.objects.order_by("seq"))
    ).order_by("-opened_at", "-pk")


# ---------------------------------------------------------------------------------------------
# Tasks and steps


def _task_qs() -> QuerySet[LoopTask]:
    return LoopTask.objects.select_related(
        "person", "person__division", "division", "order", "order__edition", "order__division"
    ).prefetch_related(Prefetch("steps", queryset=LoopStep.objects.order_by("seq")))


def task_list(*, viewer: Any, status: str | None = None) -> QuerySet[LoopTask]:
    qs = scope_by_division(_task_qs(), viewer=viewer, field="division_id")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-opened_at", "-pk")


def access_task_by_id(*, viewer: Any, task_id: Any) -> LoopTask:
    try:
        return task_list(viewer=viewer).get(pk=task_id)
    except (LoopTask.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("闭环任务不存在。")) from None


def access_step_by_id(*, viewer: Any, step_id: Any) -> LoopStep:
    qs = scope_by_division(
        LoopStep.objects.select_related("task"), viewer=viewer, field="task__division_id"
    )
    try:
        return qs.get(pk=step_id)
    except (LoopStep.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("闭环任务不存在。")) from None


def inbox(*, viewer: Any, now: dt.datetime | None = None) -> QuerySet[LoopTask]:
    """The viewer's open tasks: a grid worker's are those of their grids (their scope), an
    officer's those of their jurisdiction. Most urgent first: by the earliest deadline of a
    step not yet done, so overdue tasks lead. `is_overdue` is annotated for the badges."""
    now = now or timeutils.now()
    qs = scope_by_division(_task_qs(), viewer=viewer, field="division_id")
    qs = qs.filter(status=TaskStatus.OPEN).annotate(
        next_due=Min("steps__due_at", filter=Q(steps__done_at__isnull=True))
    )
    qs = qs.annotate(
        is_overdue=Case(
            When(next_due__lt=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    return qs.order_by(F("next_due").asc(nulls_last=True), "pk")


def escalated_steps(*, viewer: Any, level: int, division: str | None = None) -> QuerySet[LoopStep]:
    """Open steps reported to `level` or beyond (Escalation values), in the viewer's scope:
    what the village, town or county is asked to chase ("需要您督办"). Oldest deadline first."""
    qs = LoopStep.objects.filter(
        done_at__isnull=True, task__status=TaskStatus.OPEN, escalation__gte=level
    )
    qs = scope_by_division(qs, viewer=viewer, field="task__division_id")
    if division:
        qs = qs.filter(subtree_q("task__division_id", division))
    return qs.select_related(
        "task", "task__person", "task__person__division", "task__division", "task__order"
    ).order_by("due_at", "pk")


# ---------------------------------------------------------------------------------------------
# Overview per division


@dataclass
class OverviewRow:
    code: str
    name: str
    level: int
    open_tasks: int = 0
    overdue_ack: int = 0
    overdue_visit: int = 0
    overdue_in_place: int = 0
    escalated_village: int = 0
    escalated_town: int = 0
    escalated_county: int = 0
    has_children: bool = False

    @property
    def overdue(self) -> int:
        return self.overdue_ack + self.overdue_visit + self.overdue_in_place

    @property
    def escalated(self) -> int:
        return self.escalated_village + self.escalated_town + self.escalated_county


COUNT_FIELDS = (
    "open_tasks",
    "overdue_ack",
    "overdue_visit",
    "overdue_in_place",
    "escalated_village",
    "escalated_town",
    "escalated_county",
)


@dataclass
class Overview:
    division: Division | None  # None: the viewer's several roots side by side
    ancestors: list[Division]
    rows: list[OverviewRow]
    total: OverviewRow
    now: dt.datetime
    extra: dict[str, Any] = field(default_factory=dict)


def _overview_divisions(
    *, viewer: Any, division: str | None
) -> tuple[Division | None, list[Division]]:
    if division:
        chosen = access_division_by_code(viewer=viewer, code=division)
    else:
        roots = division_viewer_roots(viewer=viewer)
        if len(roots) != 1:
            return None, roots
        chosen = roots[0]
    children = list(division_list(viewer=viewer, parent=chosen.code))
    return chosen, children or [chosen]


def loop_overview(
    *, viewer: Any, division: str | None = None, now: dt.datetime | None = None
) -> Overview:
    """Per child division of `division` (default: the top of the viewer's scope): open tasks,
    overdue open steps by kind, and open steps by how far they have been reported. Counted by
    the database, grouped on the leading digits of the task's grid code (a child's code is a
    prefix of every grid under it): two aggregate queries whatever the number of tasks."""
    now = now or timeutils.now()
    chosen, divisions = _overview_divisions(viewer=viewer, division=division)
    rows = {
        d.code: OverviewRow(code=d.code, name=d.name, level=d.level, has_children=d.level < 3)
        for d in divisions
    }
    scope = scope_q(viewer=viewer, field="division_id")
    step_scope = scope_q(viewer=viewer, field="task__division_id")
    for length in sorted({len(code) for code in rows}):
        codes = [c for c in rows if len(c) == length]
        tasks = LoopTask.objects.filter(status=TaskStatus.OPEN)
        steps = LoopStep.objects.filter(done_at__isnull=True, task__status=TaskStatus.OPEN)
        if scope is not None:
            tasks = tasks.filter(scope)
            steps = steps.filter(step_scope)
        if chosen is not None:
            tasks = tasks.filter(subtree_q("division_id", chosen.code))
            steps = steps.filter(subtree_q("task__division_id", chosen.code))
        task_counts = (
            tasks.annotate(prefix=Substr("division_id", 1, length))
            .filter(prefix__in=codes)
            .values("prefix")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for item in task_counts:
            rows[item["prefix"]].open_tasks = item["n"]
        late = Q(due_at__lt=now)
        step_counts = (
            steps.annotate(prefix=Substr("task__division_id", 1, length))
            .filter(prefix__in=codes)
            .values("prefix")
            .annotate(
                overdue_ack=Count("pk", filter=late & Q(kind=StepKind.ACK)),
                overdue_visit=Count("pk", filter=late & Q(kind=StepKind.VISIT)),
                overdue_in_place=Count("pk", filter=late & Q(kind=StepKind.IN_PLACE)),
                escalated_village=Count("pk", filter=Q(escalation=Escalation.VILLAGE)),
                escalated_town=Count("pk", filter=Q(escalation=Escalation.TOWN)),
                escalated_county=Count("pk", filter=Q(escalation=Escalation.COUNTY)),
            )
            .order_by()
        )
        for item in step_counts:
            row = rows[item.pop("prefix")]
            for name, value in item.items():
                setattr(row, name, value)
    ordered = [rows[d.code] for d in divisions]
    total = OverviewRow(code=chosen.code if chosen else "", name=_("合计"), level=-1)
    for name in COUNT_FIELDS:
        setattr(total, name, sum(getattr(r, name) for r in ordered))
    ancestors = division_ancestors(division=chosen) if chosen is not None else []
    return Overview(division=chosen, ancestors=ancestors, rows=ordered, total=total, now=now)


# ---------------------------------------------------------------------------------------------
# Settings


def loop_settings_current() -> LoopSettings:
    """The county's clocks; the defaults (unsaved) until someone changes them."""
    root = county_root()
    found = LoopSettings.objects.filter(division=root).first()
    return found or LoopSettings(division=root)
