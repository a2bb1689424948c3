"""Reads of 过卡登记 (checkpoint passages), scoped by the checkpoint's division.

Passages are read by the roles that register them (checkpoint staff, the HQ, town officers for
the checkpoints of their town); other roles are refused (Forbidden). Out of scope is NotFound,
exactly like missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.cache import ProcessCache
from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.scope import code_in_scope, scope_by_division

from .models import Checkpoint, CheckpointPassage, PassageOccupant
from .passage_rules import can_register_passage

HOURS = 24
_checkpoints = ProcessCache(max_entries=2_000)


def _require_reader(viewer: Any) -> None:
    if not can_register_passage(viewer):
        raise Forbidden(_("您的角色不能查看过卡登记。"))


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The county's calendar day as an aware [start, end) range."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def checkpoint_list_for_passages(*, viewer: Any) -> QuerySet[Checkpoint]:
    """The active checkpoints at which the viewer may register passages."""
    _require_reader(viewer)
    qs = Checkpoint.objects.filter(active=True).select_related("division")
    return scope_by_division(qs, viewer=viewer, field="division_id").order_by("name", "pk")


def access_checkpoint_for_passages(*, viewer: Any, checkpoint_id: Any) -> Checkpoint:
    """The checkpoint a passage is registered at, in the viewer's scope. Every passage at the
    barrier asks for it, so it is kept per process for FANGKONG["PUBLIC_CACHE_SECONDS"]
    (core.cache): a checkpoint closed a moment ago still takes passages for up to that long.
    The object is shared: read it, never change it."""
    _require_reader(viewer)
    try:
        pk = int(checkpoint_id)
    except (TypeError, ValueError):
        raise NotFound(_("卡口不存在。")) from None
    checkpoint = _checkpoints.get(
        pk, lambda: Checkpoint.objects.select_related("division").filter(pk=pk).first()
    )
    if checkpoint is None or not code_in_scope(viewer=viewer, code=checkpoint.division_id):
        raise NotFound(_("卡口不存在。"))
    return checkpoint


def passage_list(
    *,
    viewer: Any,
    checkpoint_id: int | None = None,
    date: dt.date | None = None,
    flagged: bool | None = None,
) -> QuerySet[CheckpointPassage]:
    """Passages at checkpoints in the viewer's scope, newest first, occupants prefetched."""
    _require_reader(viewer)
    qs = CheckpointPassage.objects.select_related(
        "checkpoint", "destination_division"
    ).prefetch_related(
        Prefetch(
            "occupants",
            queryset=PassageOccupant.objects.select_related("person", "person__division"),
        )
    )
    qs = scope_by_division(qs, viewer=viewer, field="checkpoint__division_id")
    if checkpoint_id is not None:
        qs = qs.filter(checkpoint_id=checkpoint_id)
    if date is not None:
        start, end = _day_range(date)
        qs = qs.filter(passed_at__gte=start, passed_at__lt=end)
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    return qs.order_by("-passed_at", "-pk")


def access_passage_by_id(*, viewer: Any, passage_id: int) -> CheckpointPassage:
    passage = passage_list(viewer=viewer).filter(pk=passage_id).first()
    if passage is None:
        raise NotFound(_("过卡登记不存在。"))
    return passage


def passage_counts(
    *, viewer: Any, date: dt.date, checkpoint_id: int | None = None
) -> dict[str, Any]:
    """Passages per checkpoint and hour of a day (the county's clock), in one aggregate query:
    {"hours": [0..23], "rows": [{checkpoint_id, name, counts[24], people, flagged, total}],
    "totals": [24], "total": n}."""
    _require_reader(viewer)
    start, end = _day_range(date)
    qs = scope_by_division(
        CheckpointPassage.objects.filter(passed_at__gte=start, passed_at__lt=end),
        viewer=viewer,
        field="checkpoint__division_id",
    )
    if checkpoint_id is not None:
        qs = qs.filter(checkpoint_id=checkpoint_id)
    tz = timezone.get_current_timezone()
    grouped = (
        qs.annotate(hour=TruncHour("passed_at", tzinfo=tz))
        .values("checkpoint_id", "checkpoint__name", "hour")
        .annotate(
            passages=Count("pk", distinct=True),
            people=Count("occupants"),
            flagged=Count("pk", distinct=True, filter=Q(flagged=True)),
        )
        .order_by("checkpoint__name", "checkpoint_id", "hour")
    )
    rows: dict[int, dict[str, Any]] = {}
    totals = [0] * HOURS
    for entry in grouped:
        row = rows.setdefault(
            entry["checkpoint_id"],
            {
                "checkpoint_id": entry["checkpoint_id"],
                "name": entry["checkpoint__name"],
                "counts": [0] * HOURS,
                "people": 0,
                "flagged": 0,
                "total": 0,
            },
        )
        hour = timezone.localtime(entry["hour"], tz).hour
        row["counts"][hour] += entry["passages"]
        row["people"] += entry["people"]
        row["flagged"] += entry["flagged"]
        row["total"] += entry["passages"]
        totals[hour] += entry["passages"]
    return {
        "date": date,
        "hours": list(range(HOURS)),
        "rows": list(rows.values()),
        "totals": totals,
        "total": sum(totals),
    }
