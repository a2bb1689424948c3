"""Reads of the travel app, scoped to the viewer.

An arrival belongs to its destination grid: a viewer sees the arrivals bound for grids in their
jurisdiction (and those they registered themselves, e.g. a checkpoint's staff or an arrival
bound outside the county). Assist requests are the county's correspondence: read by viewers
whose jurisdiction is the whole county. Out of scope is NotFound, exactly like missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext as _

from fangkong.accounts.roles import policy_for
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import code_in_scope, scope_q, subtree_q, viewer_codes
from fangkong.core.validators import FormatError
from fangkong.geo.cache import division_cached
from fangkong.geo.models import Division
from fangkong.geo.regions import PLACEHOLDER_CITIES, region_lookup
from fangkong.policy.selectors import county_root

from .models import (
    AssistRequest,
    AssistRequestEntry,
    CheckpointPassage,
    SelfReport,
    TravelRegistration,
)

# Province and prefecture codes with their GB/T 2260 table name: "11" -> "110000".
PROVINCE_DIGITS, CITY_DIGITS = 2, 4
TOP_ORIGINS = 10


def _scope(qs: QuerySet[TravelRegistration], *, viewer: Any) -> QuerySet[TravelRegistration]:
    q = scope_q(viewer=viewer, field="destination_division_id")
    if q is None:
        return qs
    if policy_for(viewer).county_wide:
        # Arrivals bound outside the county have no grid: county-wide roles (HQ, leaders,
        # epidemiologists) see them, like the assist letters and sweep results that list them.
        q |= Q(destination_division__isnull=True)
    if getattr(viewer, "is_authenticated", False) and getattr(viewer, "pk", None):
        q |= Q(created_by_id=viewer.pk)
    return qs.filter(q)


def arrival_list(
    *,
    viewer: Any,
    arrived_from: dt.date | None = None,
    arrived_to: dt.date | None = None,
    origin: str | None = None,
    risk_level: str | None = None,
    channel: str | None = None,
    division: str | None = None,
    person_id: int | None = None,
    assist_request_id: int | None = None,
) -> QuerySet[TravelRegistration]:
    """Arrivals the viewer may see, newest arrival first. `origin`: a region code prefix
    (61, 6103, 610326 ...) or words the origin's name contains (北京, 朝阳区)."""
    qs = TravelRegistration.objects.select_related(
        "person", "person__division", "destination_division", "order", "risk_area"
    )
    qs = _scope(qs, viewer=viewer)
    if arrived_from is not None:
        qs = qs.filter(arrived_on__gte=arrived_from)
    if arrived_to is not None:
        qs = qs.filter(arrived_on__lte=arrived_to)
    if origin:
        text = origin.strip()
        if text.isdigit():
            qs = qs.filter(origin_code__startswith=text)
        else:
            qs = qs.filter(Q(origin_name__contains=text) | Q(origin_country__contains=text))
    if risk_level == "none":
        qs = qs.filter(risk_level="")
    elif risk_level:
        qs = qs.filter(risk_level=risk_level)
    if channel:
        qs = qs.filter(channel=channel)
    if division:
        qs = qs.filter(subtree_q("destination_division_id", division))
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if assist_request_id is not None:
        qs = qs.filter(assist_request_id=assist_request_id)
    return qs.order_by("-arrived_on", "-pk")


def access_arrival_by_id(*, viewer: Any, arrival_id: Any) -> TravelRegistration:
    try:
        return arrival_list(viewer=viewer).get(pk=arrival_id)
    except (TravelRegistration.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("来返报备不存在。")) from None


def _region_names(codes: list[str]) -> dict[str, str]:
    """Province / prefecture names for codes cut to 2 or 4 digits, from the in-memory GB/T 2260
    table (no query). A municipality's placeholder prefecture (北京市 / 市辖区) is named after
    the province."""
    names: dict[str, str] = {}
    for code in codes:
        try:
            _code, full_name = region_lookup(code)
            province = region_lookup(code[:PROVINCE_DIGITS])[1]
        except FormatError:
            names[code] = code
            continue
        own = full_name.removeprefix(province) if len(code) > PROVINCE_DIGITS else full_name
        names[code] = province if not own or own in PLACEHOLDER_CITIES else own
    return names


def arrival_stats(*, viewer: Any, date_from: dt.date, date_to: dt.date) -> dict[str, Any]:
    """The HQ view: arrivals by origin province, by origin prefecture (top ten each), by
    arrival day and by risk level, in the viewer's scope. Aggregate queries only."""
    qs = _scope(TravelRegistration.objects.all(), viewer=viewer).filter(
        arrived_on__gte=date_from, arrived_on__lte=date_to
    )
    total = qs.count()
    by_province = list(
        qs.filter(from_abroad=False)
        .annotate(code=Substr("origin_code", 1, PROVINCE_DIGITS))
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")[:TOP_ORIGINS]
    )
    by_city = list(
        qs.filter(from_abroad=False)
        .annotate(code_length=Length("origin_code"))
        .filter(code_length__gte=CITY_DIGITS)
        .annotate(code=Substr("origin_code", 1, CITY_DIGITS))
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")[:TOP_ORIGINS]
    )
    abroad = qs.filter(from_abroad=True).count()
    names = _region_names([r["code"] for r in (*by_province, *by_city) if r["code"]])
    per_day = dict(qs.values("arrived_on").annotate(n=Count("pk")).values_list("arrived_on", "n"))
    risky_per_day = dict(
        qs.exclude(risk_level="")
        .values("arrived_on")
        .annotate(n=Count("pk"))
        .values_list("arrived_on", "n")
    )
    days = []
    day = date_from
    while day <= date_to:
        days.append(
            {"day": day.isoformat(), "n": per_day.get(day, 0), "risky": risky_per_day.get(day, 0)}
        )
        day += dt.timedelta(days=1)
    by_level = dict(qs.values("risk_level").annotate(n=Count("pk")).values_list("risk_level", "n"))
    return {
        "total": total,
        "abroad": abroad,
        "by_province": [
            {"code": r["code"], "name": names.get(r["code"], r["code"]), "n": r["n"]}
            for r in by_province
        ],
        "by_city": [
            {"code": r["code"], "name": names.get(r["code"], r["code"]), "n": r["n"]}
            for r in by_city
        ],
        "by_day": days,
        "by_level": {
            "high": by_level.get("high", 0),
            "medium": by_level.get("medium", 0),
            "low": by_level.get("low", 0),
            "none": by_level.get("", 0),
        },
    }


# --- assist requests -------------------------------------------------------------------------


def can_read_assist(*, viewer: Any) -> bool:
    """Viewers whose jurisdiction is the whole county (HQ, leaders, epidemiologists)."""
    codes = viewer_codes(viewer)
    if codes is None:
        return True
    root = county_root()
    return root is not None and code_in_scope(viewer=viewer, code=root.code)


def assist_request_list(
    *, viewer: Any, direction: str | None = None, status: str | None = None
) -> QuerySet[AssistRequest]:
    if not can_read_assist(viewer=viewer):
        return AssistRequest.objects.none()
    qs = AssistRequest.objects.annotate(
        entry_count=Count("entries", distinct=True),
        arrival_count=Count("arrivals", distinct=True),
    )
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-dated", "-pk")


def access_assist_request_by_id(*, viewer: Any, request_id: Any) -> AssistRequest:
    try:
        return assist_request_list(viewer=viewer).get(pk=request_id)
    except (AssistRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("协查函不存在。")) from None


def assist_entries(*, assist_request: AssistRequest) -> QuerySet[AssistRequestEntry]:
    return assist_request.entries.select_related("person", "person__division", "arrival").order_by(
        "pk"
    )


def outgoing_request_id_for(*, arrival: TravelRegistration) -> int | None:
    """The outgoing letter an arrival bound outside the county was listed on."""
    return (
        AssistRequestEntry.objects.filter(arrival=arrival)
        .order_by("pk")
        .values_list("request_id", flat=True)
        .first()
    )


def access_assist_entry_by_id(
    *, viewer: Any, assist_request: AssistRequest, entry_id: Any
) -> AssistRequestEntry:
    try:
        return assist_entries(assist_request=assist_request).get(pk=entry_id)
    except (AssistRequestEntry.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("协查人员不存在。")) from None


# --- divisions for the forms and the QR posters ----------------------------------------------


def qr_divisions(*, viewer: Any) -> list[Division]:
    """The divisions that get a QR poster: the county (viewers county-wide) and its villages
    in the viewer's scope."""
    villages = Division.objects.filter(level=Division.Level.VILLAGE)
    q = scope_q(viewer=viewer, field="code")
    if q is not None:
        # A grid worker's scope is their grids: their village's poster is theirs too.
        parents = [c[:12] for c in (viewer_codes(viewer) or []) if len(c) > 12]
        villages = villages.filter(q | Q(code__in=parents))
    result = list(villages.order_by("code"))
    root = county_root()
    if root is not None and code_in_scope(viewer=viewer, code=root.code):
        result.insert(0, root)
    return result


def access_qr_division(*, viewer: Any, code: str) -> Division:
    for division in qr_divisions(viewer=viewer):
        if division.code == code:
            return division
    raise NotFound(_("区划不存在。"))


def public_division(*, code: str) -> Division:
    """The division of a public QR link: the county or one of its villages (no login)."""
    division = division_cached(code)
    if division is None or division.level not in (Division.Level.COUNTY, Division.Level.VILLAGE):
        raise NotFound(_("二维码无效或已停用。"))
    return division


def grids_under(*, code: str) -> list[Division]:
    """The small grids under a division, in code order (one query)."""
    return list(
        Division.objects.filter(subtree_q("code", code), level=Division.Level.GRID).order_by("code")
    )


def villages_under(*, code: str) -> dict[str, Division]:
    return {
        d.code: d
        for d in Division.objects.filter(subtree_q("code", code), level=Division.Level.VILLAGE)
    }


def self_report_queue(*, viewer: Any, limit: int = 50) -> dict[str, Any] | None:
    """For county-wide viewers: self-reports still waiting for the task worker, and those it
    could not register (with the reason, which names fields, never what was typed). None for
    others: a submission has no grid until it is registered."""
    if not policy_for(viewer).county_wide:
        return None
    pending = SelfReport.objects.filter(status=SelfReport.Status.PENDING)
    failed = SelfReport.objects.filter(status=SelfReport.Status.FAILED).order_by("-pk")
    passages = CheckpointPassage.objects.filter(handover=CheckpointPassage.Handover.PENDING)
    passages_failed = CheckpointPassage.objects.filter(
        handover=CheckpointPassage.Handover.FAILED
    ).order_by("-pk")
    return {
        "pending": pending.count(),
        "oldest_pending": pending.order_by("pk").values_list("submitted_at", flat=True).first(),
        "failed_count": failed.count(),
        "failed": list(failed.values("receipt_code", "submitted_at", "error")[:limit]),
        # Checkpoint passages whose flagged occupants wait for the worker (services_passages).
        "passages_pending": passages.count(),
        "passages_failed_count": passages_failed.count(),
        "passages_failed": list(
            passages_failed.values("pk", "checkpoint__name", "passed_at", "handover_error")[:limit]
        ),
    }
