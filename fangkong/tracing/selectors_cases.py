"""Reads for the case pages and API: the filtered case list, the HQ counts, clusters with
their case counts, teams, a case's history and timeline. Everything starts from
selectors.case_queryset / cluster_queryset, so the data scope is applied once, there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from fangkong.core import timeutils

from .models import (
    Case,
    CaseEvent,
    Classification,
    Cluster,
    Investigation,
    InvestigationTeam,
    TimelineEntry,
)
from .permissions import WRITERS, role_of
from .selectors import _require_reader, case_queryset, cluster_queryset


def case_list(
    *,
    viewer: Any,
    classification: str | None = None,
    cluster_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str | None = None,
) -> QuerySet[Case]:
    """Cases in scope, newest report first. `q` matches the case number, or the person's name
    or document number (exact document, name prefix)."""
    qs = case_queryset(viewer=viewer).select_related("investigation")
    if classification:
        qs = qs.filter(classification=classification)
    if cluster_id:
        qs = qs.filter(cluster_id=cluster_id)
    if date_from:
        qs = qs.filter(report_date__gte=date_from)
    if date_to:
        qs = qs.filter(report_date__lte=date_to)
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(person__id_number=text.upper())
            | Q(person__name__startswith=text)
        )
    return qs


def case_counts(*, viewer: Any) -> dict[str, Any]:
    """The HQ counts: cases in scope by classification, reported today, open investigations."""
    qs = case_queryset(viewer=viewer).order_by()
    today = timeutils.local_today()
    totals = qs.aggregate(
        total=Count("pk"),
        today=Count("pk", filter=Q(report_date=today)),
        open_investigations=Count("pk", filter=Q(investigation__status=Investigation.Status.OPEN)),
        **{c: Count("pk", filter=Q(classification=c)) for c in Classification.values},
    )
    totals["by_classification"] = [
        {"value": value, "label": str(label), "count": totals[value]}
        for value, label in Classification.choices
    ]
    return totals


def cluster_list(*, viewer: Any) -> QuerySet[Cluster]:
    """Clusters in scope with the number of their cases the viewer may see."""
    in_scope = case_queryset(viewer=viewer).values("pk")
    return cluster_queryset(viewer=viewer).annotate(
        case_count=Count("cases", filter=Q(cases__in=in_scope), distinct=True)
    )


def team_list(*, viewer: Any, active_only: bool = False) -> QuerySet[InvestigationTeam]:
    _require_reader(viewer)
    qs = InvestigationTeam.objects.select_related("leader").prefetch_related("members")
    return qs.filter(active=True) if active_only else qs


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    """The history of a case the caller already has (through access_case_by_id)."""
    return case.events.select_related("actor").order_by("at", "pk")


def case_timeline(*, case: Case) -> QuerySet[TimelineEntry]:
    """The timeline of a case the caller already has (through access_case_by_id)."""
    return TimelineEntry.objects.filter(investigation__case=case).select_related("place")


def investigation_of(*, case: Case) -> Investigation:
    return Investigation.objects.select_related("team", "investigator").get(case=case)


def investigator_list(*, viewer: Any) -> list[Any]:
    """Accounts an investigation can be given to: epidemiologists, the HQ, administrators."""
    _require_reader(viewer)
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [u for u in users.filter(role__in=WRITERS) if role_of(u) in WRITERS]
