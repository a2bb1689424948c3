"""The home page, the division tree with coverage, the map data and the audit log.

Thin views: scope checks through access_/selectors, numbers from reports.selectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fangkong.accounts.roles import Role, policy_for
from fangkong.accounts.selectors import escalation_chain
from fangkong.core.exceptions import NotFound
from fangkong.core.masking import mask_phone
from fangkong.core.pagination import paginate
from fangkong.core.scope import code_in_scope
from fangkong.geo.models import Division
from fangkong.geo.selectors import (
    access_division_by_code,
    division_ancestors,
    division_viewer_roots,
)
from fangkong.travel.selectors_checkpoints import gaps_for_leader

from .forms import TARGET_LABELS, VERB_LABELS, AuditFilterForm
from .selectors import (
    Coverage,
    CoverageRow,
    audit_event_list,
    audit_filter_choices,
    division_coverage,
    division_map,
    division_search,
    division_tree_children,
)

HOME_MAX_ROOTS = 12
HOME_ATTENTION_ROWS = 8


def _division_or_404(request: HttpRequest, code: str) -> Division:
    try:
        return access_division_by_code(viewer=request.user, code=code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None


def blind_spot_count(row: CoverageRow) -> int:
    """Things that need someone's action: grids without a worker, overloaded workers, and
    households not placed in any small grid."""
    return row.grids_without_worker + row.overloaded_workers + row.households_outside_grid


@dataclass
class RootSummary:
    division: Division
    coverage: Coverage

    @property
    def blind_spots(self) -> int:
        return blind_spot_count(self.coverage.total)

    @property
    def attention(self) -> list[CoverageRow]:
        rows = [r for r in self.coverage.rows if r.has_blind_spots]
        rows.sort(key=lambda r: -blind_spot_count(r))
        return rows[:HOME_ATTENTION_ROWS]


def _home_kind(user: Any) -> str:
    policy = policy_for(user)
    if user.is_superuser or policy.can_view_audit:
        return "admin"
    if user.role == Role.GRID_WORKER:
        return "grid_worker"
    return "officer"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    roots = division_viewer_roots(viewer=request.user)
    summaries = [
        RootSummary(root, division_coverage(viewer=request.user, division=root))
        for root in roots[:HOME_MAX_ROOTS]
    ]
    return render(
        request,
        "reports/home.html",
        {
            "summaries": summaries,
            "more_roots": max(0, len(roots) - HOME_MAX_ROOTS),
            "home_kind": _home_kind(request.user),
            "policy": policy_for(request.user),
            # Checkpoints of the viewer (as their leader, or in the roster keepers' scope)
            # with hours nobody is on duty in the next 48 hours.
            "duty_gaps": gaps_for_leader(user=request.user),
        },
    )


@login_required
@require_GET
def divisions(request: HttpRequest) -> HttpResponse:
    """The tree of the viewer's scope: the roots and their children; deeper levels load on
    demand. `?q=` finds a division by code prefix or name."""
    roots = division_viewer_roots(viewer=request.user)
    children = division_tree_children(
        viewer=request.user, parent_codes=[r.code for r in roots if r.level < Division.Level.GRID]
    )
    q = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "reports/divisions.html",
        {
            "roots": [(root, children.get(root.code, [])) for root in roots],
            "q": q,
            "matches": division_search(viewer=request.user, q=q) if q else None,
            "policy": policy_for(request.user),
        },
    )


@login_required
@require_GET
def division_children(request: HttpRequest, code: str) -> HttpResponse:
    """The children of one tree node (an htmx fragment)."""
    division = _division_or_404(request, code)
    nodes = division_tree_children(viewer=request.user, parent_codes=[division.code])
    return render(request, "reports/_tree_nodes.html", {"nodes": nodes[division.code]})


def _map_rows(coverage: Coverage) -> dict[str, dict[str, Any]]:
    rows = coverage.rows or [coverage.total]
    return {
        row.code: {
            "name": row.name,
            "people": row.people,
            "households": row.households,
            "workers": row.grid_workers,
            "blind": blind_spot_count(row),
            "drill": row.code != coverage.division.code,
        }
        for row in rows
    }


@login_required
@require_GET
def division(request: HttpRequest, code: str) -> HttpResponse:
    division = _division_or_404(request, code)
    crumbs = [
        (item, code_in_scope(viewer=request.user, code=item.code))
        for item in division_ancestors(division=division)
    ]
    coverage = division_coverage(viewer=request.user, division=division)
    chain = [
        {
            "tier": link.tier_label,
            "division": link.division_name,
            "name": link.name,
            "title": link.title,
            "phone": mask_phone(link.phone),
        }
        for link in escalation_chain(division=division)
    ]
    outside = [row for row in coverage.rows if row.households_outside_grid]
    # Households registered on this division itself rather than on a child.
    outside_direct = coverage.total.households_outside_grid - sum(
        row.households_outside_grid for row in outside
    )
    policy = policy_for(request.user)
    return render(
        request,
        "reports/division.html",
        {
            "division": division,
            "crumbs": crumbs,
            "coverage": coverage,
            "total": coverage.total,
            "blind_spots": blind_spot_count(coverage.total),
            "rows": [(row, blind_spot_count(row)) for row in coverage.rows],
            "outside_rows": outside,
            "outside_direct": outside_direct,
            "chain": chain,
            "map_rows": _map_rows(coverage),
            "policy": policy,
            "can_add_child": policy.can_edit_divisions and division.level < Division.Level.GRID,
            "is_grid": division.level == Division.Level.GRID,
        },
    )


@login_required
@require_GET
def division_geojson(request: HttpRequest, code: str) -> JsonResponse:
    """The children's boundaries as a FeatureCollection (ECharts registerMap)."""
    division = _division_or_404(request, code)
    response = JsonResponse(division_map(viewer=request.user, division=division))
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    try:
        choices = audit_filter_choices(viewer=request.user)
    except NotFound:
        raise Http404(_("未找到。")) from None
    form = AuditFilterForm(
        request.GET or None, verbs=choices["verbs"], target_types=choices["target_types"]
    )
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    page = paginate(
        audit_event_list(viewer=request.user, **filters),
        page=request.GET.get("page"),
        page_size=request.GET.get("page_size"),
    )
    events = [
        {
            "event": event,
            "verb_label": VERB_LABELS.get(event.verb, ""),
            "target_label": TARGET_LABELS.get(event.target_type, event.target_type),
            "reason": getattr(event, "reason", None),
        }
        for event in page.items
    ]
    return render(
        request,
        "reports/audit.html",
        {"form": form, "page": page, "events": events, "filtered": bool(filters)},
    )
