"""Reads for the transmission chains: the graph (graph.py lays it out) and the list view.

Both read only the cases in the viewer's scope (selectors.case_queryset) and their contacts.
The graph costs a constant number of queries whatever its size: the cluster check, the cases
(with their person's document), the contacts. Contact names are masked by the viewer's role
(surname only where the role does not see full names); ID numbers never leave the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core.masking import mask_name

from . import graph
from .models import Case, Contact
from .selectors import access_cluster_by_id, case_queryset

DEFAULT_GRAPH_LIMIT = 5000
STATUS_KEYS = tuple(Contact.Status.values)


def graph_limit() -> int:
    """The most nodes one graph holds (settings.FANGKONG["CHAIN_GRAPH_LIMIT"], default 5000)."""
    return int(settings.FANGKONG.get("CHAIN_GRAPH_LIMIT", DEFAULT_GRAPH_LIMIT))


def chain_case_queryset(
    *,
    viewer: Any,
    cluster_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Case]:
    """The viewer's cases filtered by cluster and report date, oldest first (chain order).

    A cluster out of scope (or missing) is NotFound, like everywhere else."""
    qs = case_queryset(viewer=viewer)
    if cluster_id is not None:
        access_cluster_by_id(viewer=viewer, cluster_id=cluster_id)
        qs = qs.filter(cluster_id=cluster_id)
    if date_from is not None:
        qs = qs.filter(report_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(report_date__lte=date_to)
    return qs.order_by("report_date", "pk")


def chain_graph(
    *,
    viewer: Any,
    cluster_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Nodes (with x/y) and edges of the chains; at most `limit` nodes (cases first, then
    contacts by case, degree and id), `truncated` when some were left out."""
    limit = max(1, limit or graph_limit())
    cases_qs = chain_case_queryset(
        viewer=viewer, cluster_id=cluster_id, date_from=date_from, date_to=date_to
    )
    case_rows = [
        graph.CaseRow(
            id=row["pk"],
            code=row["code"],
            classification=row["classification"],
            infected_by_id=row["infected_by_id"],
            document=(row["person__id_type"], row["person__id_number"])
            if row["person__id_number"]
            else None,
        )
        for row in cases_qs.values(
            "pk",
            "code",
            "classification",
            "infected_by_id",
            "person__id_type",
            "person__id_number",
        )[: limit + 1]
    ]
    truncated = len(case_rows) > limit
    case_rows = case_rows[:limit]
    budget = limit - len(case_rows)
    contact_rows: list[graph.ContactRow] = []
    if budget and case_rows:
        page_ids = cases_qs.values("pk")[:limit]
        found = list(
            Contact.objects.filter(case_id__in=page_ids)
            .order_by("case_id", "degree", "pk")
            .values("pk", "case_id", "name", "status", "degree", "via_id", "id_type", "id_number")[
                : budget + 1
            ]
        )
        truncated = truncated or len(found) > budget
        full = policy_for(viewer).name == FULL
        contact_rows = [
            graph.ContactRow(
                id=row["pk"],
                case_id=row["case_id"],
                label=row["name"] if full else mask_name(row["name"]),
                status=row["status"],
                degree=row["degree"],
                via_id=row["via_id"],
                document=(row["id_type"], row["id_number"]),
            )
            for row in found[:budget]
        ]
    elif case_rows:
        truncated = (
            truncated or Contact.objects.filter(case_id__in=[c.id for c in case_rows]).exists()
        )
    built = graph.build(cases=case_rows, contacts=contact_rows)
    return {
        "cluster_id": cluster_id,
        "nodes": built.nodes,
        "edges": built.edges,
        "categories": [
            {"key": key, "name": str(label), "color": colour}
            for key, label, colour in graph.CATEGORIES
        ],
        "truncated": truncated,
        "limit": limit,
        "counts": {"cases": len(case_rows), "contacts": len(contact_rows)},
    }


def chain_list(
    *,
    viewer: Any,
    cluster_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Case]:
    """The list view of the chains: each case with its contact counts by status
    (`n_<status>`, `n_secondary`, `n_total`) and, prefetched, its contacts (`chain_contacts`,
    degree then id) and its source case. Page it; the prefetch then reads one page's contacts."""
    counts = {
        f"n_{status}": Count("contacts", filter=Q(contacts__status=status), distinct=True)
        for status in STATUS_KEYS
    }
    return (
        chain_case_queryset(
            viewer=viewer, cluster_id=cluster_id, date_from=date_from, date_to=date_to
        )
        .select_related("infected_by")
        .annotate(
            **counts,
            n_secondary=Count("contacts", filter=Q(contacts__degree__gte=2), distinct=True),
            n_total=Count("contacts", distinct=True),
        )
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.order_by("degree", "pk").only(
                    "pk", "case_id", "name", "status", "degree", "via_id", "evidence_kind"
                ),
                to_attr="chain_contacts",
            )
        )
    )


def chain_row(*, viewer: Any, case: Case) -> dict[str, Any]:
    """One row of the list view for the page and the API (a case from chain_list)."""
    full = policy_for(viewer).name == FULL
    contacts = getattr(case, "chain_contacts", [])
    return {
        "case_id": case.pk,
        "code": case.code,
        "classification": case.classification,
        "classification_label": case.get_classification_display(),
        "report_date": case.report_date,
        "cluster_id": case.cluster_id,
        "cluster_name": case.cluster.name if case.cluster_id and case.cluster else "",
        "infected_by_code": case.infected_by.code if case.infected_by else "",
        "counts": {
            **{status: getattr(case, f"n_{status}", 0) for status in STATUS_KEYS},
            "secondary": getattr(case, "n_secondary", 0),
            "total": getattr(case, "n_total", 0),
        },
        "contacts": [
            {
                "id": c.pk,
                "label": c.name if full else mask_name(c.name),
                "status": c.status,
                "status_label": c.get_status_display(),
                "degree": c.degree,
                "via_id": c.via_id,
            }
            for c in contacts
        ],
    }
