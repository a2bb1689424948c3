"""Pages: 传播链 (transmission chains). The graph and the list of the same chains.

`/tracing/chains/` shows the filters (cluster, report dates), the ECharts graph and the list
(case -> its contacts, counts by status), paginated. The graph's data comes from
`/tracing/chains/data.json` with the same filters: nodes already positioned on the server
(selectors_graph.chain_graph), so the browser only draws (static/fangkong/chains.js).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate

from . import selectors_graph
from .models import Cluster, Contact
from .selectors import cluster_queryset

FILTERS = ("cluster", "date_from", "date_to")


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _filters(request: HttpRequest) -> tuple[dict[str, str], dict[str, Any]]:
    params = {k: request.GET.get(k, "").strip() for k in FILTERS}
    kwargs = {
        "cluster_id": int(params["cluster"]) if params["cluster"].isdigit() else None,
        "date_from": _date(params["date_from"]),
        "date_to": _date(params["date_to"]),
    }
    return params, kwargs


@_page
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    params, kwargs = _filters(request)
    qs = selectors_graph.chain_list(viewer=request.user, **kwargs)
    page = paginate(qs, page=request.GET.get("page"))
    cluster: Cluster | None = None
    clusters = list(cluster_queryset(viewer=request.user).only("pk", "code", "name")[:500])
    if kwargs["cluster_id"] is not None:
        cluster = next((c for c in clusters if c.pk == kwargs["cluster_id"]), None)
    data_query = urlencode({k: v for k, v in params.items() if v})
    context = {
        "params": params,
        "filtered": any(params.values()),
        "cluster": cluster,
        "clusters": clusters,
        "page": page,
        "rows": [selectors_graph.chain_row(viewer=request.user, case=c) for c in page.items],
        "statuses": Contact.Status.choices,
        "data_query": data_query,
    }
    return render(request, "tracing/chains.html", context)


@_page
@require_GET
def data(request: HttpRequest) -> HttpResponse:
    """The graph as JSON for the page's chart (same filters as the page)."""
    _params, kwargs = _filters(request)
    body = selectors_graph.chain_graph(viewer=request.user, **kwargs)
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
