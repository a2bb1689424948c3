"""Read-only views over several apps: the coverage of a division (全覆盖、无盲区)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.accounts.models import GridWorker
from fangkong.accounts.roles import policy_for
from fangkong.core.exceptions import NotFound
from fangkong.core.models import AuditEvent
from fangkong.core.scope import scope_q, subtree_q
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person


@dataclass
class CoverageRow:
    code: str
    name: str
    level: int
    households: int = 0
    people: int = 0
    small_grids: int = 0
    grid_workers: int = 0
    grids_without_worker: int = 0
    households_outside_grid: int = 0
    overloaded_workers: int = 0

    @property
    def households_per_worker(self) -> float | None:
        return round(self.households / self.grid_workers, 1) if self.grid_workers else None

    @property
    def has_blind_spots(self) -> bool:
        return bool(
            self.grids_without_worker or self.households_outside_grid or self.overloaded_workers
        )


@dataclass
class WorkerLoad:
    worker_id: int
    name: str
    grids: list[str]
    households: int


@dataclass
class Coverage:
    division: Division
    total: CoverageRow
    rows: list[CoverageRow]
    grids_without_worker: list[Division] = field(default_factory=list)
    overloaded: list[WorkerLoad] = field(default_factory=list)
    max_households: int = 0


def _child_for(
    code: str, children: dict[str, CoverageRow], lengths: list[int]
) -> CoverageRow | None:
    for length in lengths:
        row = children.get(code[:length])
        if row is not None:
            return row
    return None


def division_coverage(*, viewer: Any, division: Division, blind_spot_limit: int = 200) -> Coverage:
    """Households, people and grid workers of `division`, by child, with the blind spots.

    A constant number of queries whatever the size: each table is counted once, grouped by
    division code over the subtree (index-only scans), then rolled up here.
    """
    max_households: int = settings.FANGKONG["GRID_WORKER_MAX_HOUSEHOLDS"]
    in_tree = subtree_q("division_id", division.code)
    scope = scope_q(viewer=viewer, field="division_id")
    if scope is not None:
        in_tree &= scope

    code_scope = scope_q(viewer=viewer, field="code")
    child_qs = Division.objects.filter(parent=division)
    if code_scope is not None:
        child_qs = child_qs.filter(code_scope)
    child_divisions = list(child_qs.order_by("code").only("code", "name", "level"))
    children = {d.code: CoverageRow(d.code, d.name, d.level) for d in child_divisions}
    lengths = sorted({len(c) for c in children}, reverse=True)
    total = CoverageRow(division.code, division.name, division.level)

    grid_q = subtree_q("code", division.code) & Q(level=Division.Level.GRID)
    if code_scope is not None:
        grid_q &= code_scope
    grid_levels = dict(
        Division.objects.filter(subtree_q("code", division.code)).values_list("code", "level")
    )

    households_by_code: dict[str, int] = defaultdict(int)
    for code, n in (
        Household.objects.filter(in_tree)
        .values_list("division_id")
        .annotate(n=Count("*"))
        .order_by()
    ):
        households_by_code[code] += n
    people_by_code = dict(
        Person.objects.filter(in_tree, merged_into__isnull=True)
        .values_list("division_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    small_grids = list(Division.objects.filter(grid_q).values_list("code", flat=True))
    Through = GridWorker.grids.through
    assignments = list(
        Through.objects.filter(
            subtree_q("division_id", division.code), gridworker__active=True
        ).values_list("gridworker_id", "division_id")
    )
    workers_by_grid: dict[str, set[int]] = defaultdict(set)
    grids_by_worker: dict[int, list[str]] = defaultdict(list)
    for worker_id, code in assignments:
        workers_by_grid[code].add(worker_id)
        grids_by_worker[worker_id].append(code)

    for code, n in households_by_code.items():
        row = _child_for(code, children, lengths)
        outside = grid_levels.get(code) != Division.Level.GRID
        for target in (row, total):
            if target is None:
                continue
            target.households += n
            if outside:
                target.households_outside_grid += n
    for code, n in people_by_code.items():
        row = _child_for(code, children, lengths)
        for target in (row, total):
            if target is not None:
                target.people += n

    without: list[str] = []
    for code in small_grids:
        row = _child_for(code, children, lengths)
        has_worker = bool(workers_by_grid.get(code))
        for target in (row, total):
            if target is None:
                continue
            target.small_grids += 1
            if not has_worker:
                target.grids_without_worker += 1
        if not has_worker:
            without.append(code)

    overloaded: list[WorkerLoad] = []
    worker_names = dict(
        GridWorker.objects.filter(pk__in=grids_by_worker.keys()).values_list("pk", "name")
    )
    for worker_id, codes in grids_by_worker.items():
        load = sum(households_by_code.get(c, 0) for c in codes)
        rows = {
            id(r): r for r in (_child_for(c, children, lengths) for c in codes) if r is not None
        }
        for target in (*rows.values(), total):
            target.grid_workers += 1
        if load > max_households:
            overloaded.append(
                WorkerLoad(worker_id, worker_names.get(worker_id, ""), sorted(codes), load)
            )
            for target in (*rows.values(), total):
                target.overloaded_workers += 1
    overloaded.sort(key=lambda w: -w.households)
    without_divisions = list(
        Division.objects.filter(code__in=without[:blind_spot_limit]).order_by("code")
    )
    return Coverage(
        division=division,
        total=total,
        rows=list(children.values()),
        grids_without_worker=without_divisions,
        overloaded=overloaded[:blind_spot_limit],
        max_households=max_households,
    )


# --- The audit log (county administrators) -------------------------------------------------


def _audit_viewer_or_404(viewer: Any) -> None:
    if not policy_for(viewer).can_view_audit:
        raise NotFound()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_event_list(
    *,
    viewer: Any,
    actor: str | None = None,
    verb: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, for roles that may read the log (else NotFound).

    `actor` is a username (exact) or an account id; `verb` matches a whole verb or, ending
    with ".", every verb under it ("people." = all people events); dates are local days,
    both inclusive. The reason given for a reveal or an export comes with its event.
    """
    _audit_viewer_or_404(viewer)
    qs = AuditEvent.objects.select_related("actor", "reason")
    if actor:
        actor = actor.strip()
        qs = qs.filter(
            Q(actor__username=actor) | (Q(actor_id=int(actor)) if actor.isdigit() else Q())
        )
    if verb:
        verb = verb.strip()
        qs = qs.filter(verb__startswith=verb) if verb.endswith(".") else qs.filter(verb=verb)
    if target_type:
        qs = qs.filter(target_type=target_type.strip())
    if target_id:
        qs = qs.filter(target_id=target_id.strip())
    if date_from:
        qs = qs.filter(at__gte=_local_midnight(date_from))
    if date_to:
        qs = qs.filter(at__lt=_local_midnight(date_to + dt.timedelta(days=1)))
    return qs.order_by("-at", "-id")


def audit_filter_choices(*, viewer: Any) -> dict[str, list[str]]:
    """The verbs and target types present in the log, for the filter form."""
    _audit_viewer_or_404(viewer)
    verbs = AuditEvent.objects.order_by("verb").values_list("verb", flat=True).distinct()
    types = (
        AuditEvent.objects.order_by("target_type").values_list("target_type", flat=True).distinct()
    )
    return {"verbs": list(verbs), "target_types": [t for t in types if t]}


# --- The division tree and the map ---------------------------------------------------------


def division_tree_children(*, viewer: Any, parent_codes: list[str]) -> dict[str, list[Division]]:
    """Children of each parent the viewer may see, each with `n_children`: one query."""
    if not parent_codes:
        return {}
    qs = Division.objects.filter(parent_id__in=parent_codes)
    code_scope = scope_q(viewer=viewer, field="code")
    if code_scope is not None:
        qs = qs.filter(code_scope)
    grouped: dict[str, list[Division]] = {code: [] for code in parent_codes}
    for child in (
        qs.annotate(n_children=Count("children"))
        .only("code", "name", "level", "kind", "parent_id")
        .order_by("code")
    ):
        grouped[child.parent_id].append(child)
    return grouped


def division_search(*, viewer: Any, q: str, limit: int = 50) -> list[Division]:
    """Divisions in scope whose code starts with `q` or whose name contains it."""
    text = (q or "").strip()
    if not text:
        return []
    match = Q(code__startswith=text) if text.isdigit() else Q(name__contains=text)
    qs = Division.objects.filter(match)
    code_scope = scope_q(viewer=viewer, field="code")
    if code_scope is not None:
        qs = qs.filter(code_scope)
    return list(
        qs.only("code", "name", "level", "full_name", "parent_id").order_by("level", "code")[:limit]
    )


def _geometry(boundary: Any) -> dict[str, Any] | None:
    """The geometry of a stored boundary (a GeoJSON geometry, Feature or FeatureCollection)."""
    if not isinstance(boundary, dict):
        return None
    kind = boundary.get("type")
    if kind == "Feature":
        return _geometry(boundary.get("geometry"))
    if kind == "FeatureCollection":
        polygons: list[Any] = []
        for feature in boundary.get("features") or []:
            geometry = _geometry(feature)
            if geometry is None:
                continue
            if geometry["type"] == "Polygon":
                polygons.append(geometry["coordinates"])
            else:
                polygons.extend(geometry["coordinates"])
        return {"type": "MultiPolygon", "coordinates": polygons} if polygons else None
    if kind in ("Polygon", "MultiPolygon") and boundary.get("coordinates"):
        return {"type": kind, "coordinates": boundary["coordinates"]}
    return None


def division_map(*, viewer: Any, division: Division) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the division's children (the division itself when it has
    none), for drawing with ECharts. Features without a boundary are left out. One query."""
    code_scope = scope_q(viewer=viewer, field="code")
    qs = Division.objects.filter(Q(parent=division) | Q(code=division.code))
    if code_scope is not None:
        qs = qs.filter(code_scope)
    rows = list(qs.only("code", "name", "level", "boundary", "parent_id").order_by("code"))
    children = [d for d in rows if d.code != division.code]
    shown = children or [d for d in rows if d.code == division.code]
    features = []
    for item in shown:
        geometry = _geometry(item.boundary)
        if geometry is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": item.code,
                "properties": {"code": item.code, "name": item.name, "level": item.level},
                "geometry": geometry,
            }
        )
    return {"type": "FeatureCollection", "features": features}
