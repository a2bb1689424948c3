"""How arrivals and assist requests are shown, on the pages and in the API alike.

The person goes through people.presenters.person_display (masked by the viewer's role); what
the reporter typed (name, phone, destination address) is masked by the same rules. The
proposed measure goes through control.presenters.phases_display.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from fangkong.accounts.roles import FULL, policy_for
from fangkong.control.contracts import OrderOutcome
from fangkong.control.models import OrderStatus
from fangkong.control.presenters import phases_display
from fangkong.core.masking import mask_address, mask_name, mask_phone
from fangkong.people.presenters import person_display
from fangkong.policy.models import Category, CountsFrom, RiskLevel

from .models import AssistRequest, AssistRequestEntry, Channel, Transport, TravelRegistration

CHANNEL_LABELS = dict(Channel.choices)
TRANSPORT_LABELS = dict(Transport.choices)
RISK_LABELS = dict(RiskLevel.choices)
CATEGORY_LABELS = dict(Category.choices)
COUNTS_FROM_LABELS = dict(CountsFrom.choices)
ORDER_STATUS_LABELS = dict(OrderStatus.choices)
DIRECTION_LABELS = dict(AssistRequest.Direction.choices)
ASSIST_STATUS_LABELS = dict(AssistRequest.Status.choices)


def _label(labels: dict[Any, Any], value: Any) -> str:
    return str(labels.get(value, value or ""))


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def order_summary(order: Any, *, today: dt.date | None = None) -> dict[str, Any] | None:
    """The measure an arrival led to: category, dates, phases with their test days."""
    if order is None:
        return None
    return {
        "id": order.pk,
        "status": order.status,
        "status_label": _label(ORDER_STATUS_LABELS, order.status),
        "category": order.category,
        "category_label": _label(CATEGORY_LABELS, order.category),
        "counts_from": order.counts_from,
        "counts_from_label": _label(COUNTS_FROM_LABELS, order.counts_from),
        "anchor_date": _iso(order.anchor_date),
        "start_date": _iso(order.start_date),
        "end_date": _iso(order.end_date),
        "phases": [
            {
                "kind": p["kind"],
                "kind_label": p["kind_label"],
                "days": p["days"],
                "start": p["start"],
                "end": p["end"],
                "test_days": p["test_days"],
            }
            for p in phases_display(order, today=today)
        ],
    }


def why_no_order(reg: TravelRegistration, outcome: OrderOutcome | None) -> str:
    """Why an arrival has no new measure, in one sentence ("" when one was proposed)."""
    if reg.outside_county:
        return _("目的地在县外，已列入发往对方的协查函，本县不下发闭环任务。")
    if outcome is not None and outcome.order is not None:
        return ""
    if outcome is not None and outcome.covered_by is not None:
        return _("该人员已有同等或更严的管控措施（措施编号 %(id)s），未再提出新措施。") % {
            "id": outcome.covered_by.pk
        }
    if outcome is not None and outcome.expired:
        return _("按离开（抵达）日期计算，管控期已满，无需再采取措施。")
    if outcome is None and reg.order_id is not None:
        return ""
    if reg.risk_level:
        return _("所执行的防控方案对%(level)s地区来返人员不要求管控措施。") % {
            "level": _label(RISK_LABELS, reg.risk_level)
        }
    return _(
        "出发地在离开当日不属于风险地区，所执行的防控方案不要求管控措施；网格员仍须签收并上门核实。"
    )


def arrival_display(
    *,
    viewer: Any,
    reg: TravelRegistration,
    outcome: OrderOutcome | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    policy = policy_for(viewer)
    division = reg.destination_division
    order = reg.order
    if outcome is not None:
        order = outcome.order or outcome.covered_by or order
    return {
        "id": reg.pk,
        "person": person_display(viewer=viewer, person=reg.person),
        "reported_name": reg.reported_name if policy.name == FULL else mask_name(reg.reported_name),
        "reported_phone": (
            reg.reported_phone if policy.phone == FULL else mask_phone(reg.reported_phone)
        ),
        "identity_mismatch": reg.identity_mismatch,
        "channel": reg.channel,
        "channel_label": _label(CHANNEL_LABELS, reg.channel),
        "origin_code": reg.origin_code,
        "origin_name": reg.origin_name,
        "origin_address": reg.origin_address,
        "from_abroad": reg.from_abroad,
        "origin_country": reg.origin_country,
        "left_on": _iso(reg.left_on),
        "arrived_on": _iso(reg.arrived_on),
        "transport": reg.transport,
        "transport_label": _label(TRANSPORT_LABELS, reg.transport),
        "vehicle_no": reg.vehicle_no,
        "seat": reg.seat,
        "destination_code": reg.destination_division_id or "",
        "destination_name": (division.full_name or division.name) if division else "",
        "destination_address": (
            reg.destination_address
            if policy.address == FULL
            else mask_address(reg.destination_address)
        ),
        "outside_county": reg.outside_county,
        "outside_code": reg.outside_code,
        "symptoms": reg.symptoms,
        "risk_level": reg.risk_level,
        "risk_level_label": _label(RISK_LABELS, reg.risk_level) if reg.risk_level else "",
        "risk_area_id": reg.risk_area_id,
        "category": reg.category,
        "category_label": _label(CATEGORY_LABELS, reg.category) if reg.category else "",
        "order_id": order.pk if order is not None else None,
        "order": order_summary(order, today=today),
        "no_order_reason": why_no_order(reg, outcome),
        "assist_request_id": reg.assist_request_id,
        "created_at": reg.created_at,
    }


def assist_display(assist_request: AssistRequest) -> dict[str, Any]:
    return {
        "id": assist_request.pk,
        "direction": assist_request.direction,
        "direction_label": _label(DIRECTION_LABELS, assist_request.direction),
        "number": assist_request.number,
        "counterpart": assist_request.counterpart,
        "counterpart_code": assist_request.counterpart_code,
        "subject": assist_request.subject,
        "dated": _iso(assist_request.dated),
        "status": assist_request.status,
        "status_label": _label(ASSIST_STATUS_LABELS, assist_request.status),
        "entry_count": getattr(assist_request, "entry_count", None),
        "arrival_count": getattr(assist_request, "arrival_count", None),
        "created_at": assist_request.created_at,
    }


def entry_display(*, viewer: Any, entry: AssistRequestEntry) -> dict[str, Any]:
    arrival = entry.arrival
    policy = policy_for(viewer)
    return {
        "id": entry.pk,
        "person": person_display(viewer=viewer, person=entry.person),
        "arrival_id": entry.arrival_id,
        "category": entry.category,
        "category_label": _label(CATEGORY_LABELS, entry.category) if entry.category else "",
        "destination": (
            entry.destination if policy.address == FULL else mask_address(entry.destination)
        ),
        "origin_name": arrival.origin_name if arrival else "",
        "left_on": _iso(arrival.left_on) if arrival else None,
        "arrived_on": _iso(arrival.arrived_on) if arrival else None,
        "feedback": entry.feedback,
    }
