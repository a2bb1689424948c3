"""Pages of 过卡登记 (/passages/): the fast form at the barrier, the result page (flagged
occupants in red with what to do, and "next vehicle"), and the list with the per-checkpoint ×
hour count table. Each view parses, reads through a selector, calls one service, renders.

The form carries an idempotency key made when it is rendered: sending it again (a retry after
a network error, a double tap) answers with the same passage instead of a second one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.models import Division
from fangkong.people.models import IdType

from . import passage_rules, selectors_passages, services_passages
from .models import CheckpointPassage
from .presenters_passages import passage_display

OCCUPANT_FIELDS = ("name", "id_type", "id_number", "phone", "temperature")
PASSAGE_FIELDS = (
    "direction",
    "plate",
    "vehicle_type",
    "origin_code",
    "destination_code",
    "destination_address",
    "purpose",
)
BLANK_OCCUPANT = {
    "name": "",
    "id_type": IdType.RESIDENT_ID,
    "id_number": "",
    "phone": "",
    "temperature": "",
}


def _date_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _posted(request: HttpRequest) -> dict[str, Any]:
    """The form's fields as the service takes them; occupant rows left wholly empty dropped."""
    data: dict[str, Any] = {k: request.POST.get(k, "") for k in PASSAGE_FIELDS}
    columns = {k: request.POST.getlist(f"occ_{k}") for k in OCCUPANT_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for index in range(count):
        row = {k: (columns[k][index] if index < len(columns[k]) else "") for k in OCCUPANT_FIELDS}
        if any(row[k].strip() for k in ("name", "id_number", "phone", "temperature")):
            rows.append(row)
    data["occupants"] = rows
    return data


def _form_context(
    request: HttpRequest,
    *,
    checkpoint: Any,
    data: dict[str, Any],
    key: str,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
) -> dict[str, Any]:
    errors = errors or {}
    occupants = data.get("occupants") or [dict(BLANK_OCCUPANT)]
    rows = []
    for index, values in enumerate(occupants):
        prefix = f"occupants[{index}]."
        rows.append(
            {
                "values": {**BLANK_OCCUPANT, **values},
                "errors": {
                    path.removeprefix(prefix): msgs
                    for path, msgs in errors.items()
                    if path.startswith(prefix)
                },
            }
        )
    grids = Division.objects.filter(level=Division.Level.GRID).order_by("code")
    return {
        "checkpoint": checkpoint,
        "data": data,
        "key": key,
        "rows": rows,
        "errors": {k: v for k, v in errors.items() if not k.startswith("occupants[")},
        "message": message,
        "vehicle_types": passage_rules.VEHICLE_TYPES,
        "on_foot": passage_rules.ON_FOOT,
        "id_types": [(v, label) for v, label in IdType.choices if v != IdType.NONE],
        "directions": CheckpointPassage.Direction.choices,
        "grid_choices": [(g.code, g.full_name or g.name) for g in grids],
    }


@_page
@require_http_methods(["GET", "POST"])
def passage_create(request: HttpRequest) -> HttpResponse:
    checkpoint_id = request.GET.get("checkpoint") or request.POST.get("checkpoint")
    if not checkpoint_id:
        checkpoints = selectors_passages.checkpoint_list_for_passages(viewer=request.user)
        return render(request, "travel/passage_choose.html", {"checkpoints": checkpoints})
    checkpoint = selectors_passages.access_checkpoint_for_passages(
        viewer=request.user, checkpoint_id=checkpoint_id
    )
    if request.method == "GET":
        data = {"direction": "in", "vehicle_type": passage_rules.VEHICLE_TYPES[0]}
        context = _form_context(request, checkpoint=checkpoint, data=data, key=uuid.uuid4().hex)
        return render(request, "travel/passage_form.html", context)
    data = _posted(request)
    key = request.POST.get("idempotency_key", "")
    try:
        result = services_passages.passage_register(
            actor=request.user, checkpoint=checkpoint, data=data, idempotency_key=key
        )
    except ValidationFailed as exc:
        context = _form_context(
            request,
            checkpoint=checkpoint,
            data=data,
            key=key,
            errors=exc.errors,
            message=str(exc.message),
        )
        return render(request, "travel/passage_form.html", context, status=400)
    except Conflict as exc:
        context = _form_context(
            request,
            checkpoint=checkpoint,
            data=data,
            key=uuid.uuid4().hex,
            message=str(exc.message),
        )
        return render(request, "travel/passage_form.html", context, status=409)
    url = reverse("passages:detail", args=[result.passage.pk])
    return redirect(f"{url}?registered=1" if result.created else f"{url}?retry=1")


@_page
@require_GET
def passage_detail(request: HttpRequest, passage_id: int) -> HttpResponse:
    passage = selectors_passages.access_passage_by_id(viewer=request.user, passage_id=passage_id)
    context = {
        "p": passage_display(viewer=request.user, passage=passage),
        "registered": request.GET.get("registered") == "1",
        "retry": request.GET.get("retry") == "1",
    }
    return render(request, "travel/passage_result.html", context)


@_page
@require_GET
def passage_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("checkpoint", "date", "flagged")}
    day = _date_param(params["date"])
    checkpoint_id = int(params["checkpoint"]) if params["checkpoint"].isdigit() else None
    flagged = {"1": True, "0": False}.get(params["flagged"])
    qs = selectors_passages.passage_list(
        viewer=request.user, checkpoint_id=checkpoint_id, date=day, flagged=flagged
    )
    page = paginate(qs, page=request.GET.get("page"))
    count_day = day or timeutils.local_today()
    context = {
        "params": params,
        "page": page,
        "rows": [passage_display(viewer=request.user, passage=p) for p in page.items],
        "checkpoints": selectors_passages.checkpoint_list_for_passages(viewer=request.user),
        "counts": selectors_passages.passage_counts(
            viewer=request.user, date=count_day, checkpoint_id=checkpoint_id
        ),
        "count_day": count_day,
        "filtered": any(params.values()),
    }
    return render(request, "travel/passage_list.html", context)
