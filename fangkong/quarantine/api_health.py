"""API: health checks, personal links, the home list, door visits and alerts (健康监测).

Reads go through selectors_health (out of scope answers 404 like missing); writes through
services_health (400 naming the field, 409 for a duplicate check)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Body, Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import ValidationError as PydanticError

from fangkong.core import timeutils
from fangkong.core.exceptions import ValidationFailed

from . import selectors_health, services_health
from .models import Alert, DoorVisit, HealthCheck

router = Router(tags=["健康监测"])
CHECK_BODY = Body(
    ...,
    description="单条记录（order_id, day, slot, temperature, symptoms, note），或 {items: [...]}",
)
PHOTO_FILE = File(None, description="门磁/封条照片（JPEG 或 PNG，≤5 MB）")


class QHealthCheckIn(Schema):
    order_id: int = Field(..., description="管控措施编号")
    day: str = Field("", description="日期 YYYY-MM-DD（默认今天）")
    slot: str = Field(..., description="时段：am 上午，pm 下午")
    temperature: Any = Field(..., description="体温（℃），34-43")
    symptoms: list[str] = Field(default_factory=list, description="症状代码列表")
    note: str = Field("", description="备注")


class QHealthCheckBatchIn(Schema):
    items: list[dict[str, Any]] = Field(..., description="多条记录（最多 1000 条）")


class QHealthCheckOut(Schema):
    id: int
    order_id: int
    day: dt.date
    slot: str = Field(..., description="am 上午，pm 下午")
    temperature: str = Field(..., description="体温（℃）")
    symptoms: list[str] = Field(..., description="症状代码")
    abnormal: bool = Field(..., description="发热或有症状")
    source: str = Field(..., description="来源")


class QHealthBatchOut(Schema):
    created: int = Field(..., description="新记录条数")
    created_ids: list[int] = Field(..., description="新记录编号")
    duplicates: int = Field(..., description="重复（同一时段已报告）条数")
    errors: dict[str, dict[str, list[str]]] = Field(..., description="出错记录：序号 -> 字段错误")


class QHealthLinkOut(Schema):
    order_id: int
    url: str = Field(..., description="个人健康申报链接（无需登录）")


class QHomeRowOut(Schema):
    order_id: int
    person_id: int
    name: str = Field(..., description="姓名（按角色脱敏）")
    division_code: str
    category: str
    category_label: str
    phase_kind: str = Field(..., description="当天所处分段类型")
    phase_end: str | None = Field(None, description="分段结束日期")
    am: str | None = Field(None, description="上午体温（未报为空）")
    pm: str | None = Field(None, description="下午体温（未报为空）")
    test_due: bool = Field(..., description="当天有检测任务")
    last_visit: dt.datetime | None = Field(None, description="最近一次上门查访")
    open_alerts: int = Field(..., description="未处置预警数")
    has_link: bool = Field(..., description="已生成个人申报链接")


class QDoorVisitOut(Schema):
    id: int
    order_id: int
    outcome: str
    visited_at: dt.datetime
    has_photo: bool


class QAlertOut(Schema):
    id: int
    kind: str = Field(..., description="类型")
    kind_label: str
    order_id: int
    division_code: str
    site_id: int | None = None
    day: dt.date
    slot: str
    level: int = Field(..., description="0 网格员/隔离点，1 村，2 镇，3 县")
    raised_at: dt.datetime
    handed_over_at: dt.datetime | None = Field(None, description="转发热门诊时间")
    resolved_at: dt.datetime | None = None
    resolution: str


class QAlertResolveIn(Schema):
    resolution: str = Field("", description="处置情况（必填）")


def _check(c: HealthCheck) -> dict[str, Any]:
    return {
        "id": c.pk,
        "order_id": c.order_id,
        "day": c.day,
        "slot": c.slot,
        "temperature": str(c.temperature),
        "symptoms": list(c.symptoms or []),
        "abnormal": c.abnormal,
        "source": c.source,
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "order_id": a.order_id,
        "division_code": a.division_id,
        "site_id": a.site_id,
        "day": a.day,
        "slot": a.slot,
        "level": a.level,
        "raised_at": a.raised_at,
        "handed_over_at": a.handed_over_at,
        "resolved_at": a.resolved_at,
        "resolution": a.resolution,
    }


@router.post(
    "/health-checks",
    response={201: QHealthCheckOut, 200: QHealthBatchOut},
    summary="录入健康监测（单条，或 {items: [...]} 批量）",
)
def health_checks_post(request: HttpRequest, payload: dict[str, Any] = CHECK_BODY):
    if isinstance(payload.get("items"), list):
        result = services_health.health_checks_record_bulk(
            actor=request.auth, rows=payload["items"]
        )
        return Status(
            200,
            {
                "created": len(result["created"]),
                "created_ids": result["created"],
                "duplicates": result["duplicates"],
                "errors": {str(k): v for k, v in result["errors"].items()},
            },
        )
    try:
        data = QHealthCheckIn(**payload)
    except PydanticError as exc:
        raise ValidationFailed(
            {
                str(e["loc"][0]) if e["loc"] else "body": [_("缺少或格式有误。")]
                for e in exc.errors()
            }
        ) from None
    order = selectors_health.access_order_by_id(viewer=request.auth, order_id=data.order_id)
    check = services_health.health_check_record(
        actor=request.auth,
        order=order,
        day=data.day or timeutils.local_today(),
        slot=data.slot,
        temperature=data.temperature,
        symptoms=data.symptoms,
        note=data.note,
    )
    return Status(201, _check(check))


@router.get("/health-checks", response=list[QHealthCheckOut], summary="健康监测记录")
def health_checks_get(
    request: HttpRequest, order_id: int | None = None, day: dt.date | None = None
):
    rows = selectors_health.health_check_list(viewer=request.auth, order_id=order_id, day=day)
    return [_check(c) for c in rows[:500]]


@router.post(
    "/control-orders/{order_id}/health-link",
    response={201: QHealthLinkOut},
    summary="生成个人健康申报链接（旧链接作废）",
)
def health_link_post(request: HttpRequest, order_id: int):
    order = selectors_health.access_order_by_id(viewer=request.auth, order_id=order_id)
    link = services_health.health_link_create(actor=request.auth, order=order)
    url = request.build_absolute_uri(reverse("quarantine_self:page", args=[link.token]))
    return Status(201, {"order_id": order.pk, "url": url})


@router.api_operation(
    ["DELETE"],
    "/control-orders/{order_id}/health-link",
    response={204: None},
    summary="作废个人申报链接",
)
def health_link_delete(request: HttpRequest, order_id: int):
    order = selectors_health.access_order_by_id(viewer=request.auth, order_id=order_id)
    services_health.health_link_revoke(actor=request.auth, order=order)
    return Status(204, None)


@router.get("/quarantine/home-list", response=list[QHomeRowOut], summary="居家人员日清单")
def home_list_get(request: HttpRequest, day: dt.date | None = None):
    rows = selectors_health.home_list(viewer=request.auth, day=day or timeutils.local_today())
    return [
        {
            **r,
            "am": None if r["am"] is None else str(r["am"]),
            "pm": None if r["pm"] is None else str(r["pm"]),
        }
        for r in rows
    ]


@router.post("/door-visits", response={201: QDoorVisitOut}, summary="登记上门查访（可附门磁照片）")
def door_visit_post(
    request: HttpRequest,
    order_id: int = Form(..., description="管控措施编号"),
    outcome: str = Form(..., description="情况：" + "，".join(DoorVisit.Outcome.values)),
    note: str = Form("", description="说明"),
    photo: UploadedFile | None = PHOTO_FILE,
):
    order = selectors_health.access_order_by_id(viewer=request.auth, order_id=order_id)
    visit = services_health.door_visit_record(
        actor=request.auth, order=order, outcome=outcome, note=note, photo=photo
    )
    return Status(
        201,
        {
            "id": visit.pk,
            "order_id": visit.order_id,
            "outcome": visit.outcome,
            "visited_at": visit.visited_at,
            "has_photo": bool(visit.photo),
        },
    )


@router.get("/quarantine/alerts", response=list[QAlertOut], summary="未处置的健康预警")
def alerts_get(request: HttpRequest):
    return [_alert(a) for a in selectors_health.alert_list(viewer=request.auth)[:500]]


@router.post("/quarantine/alerts/{alert_id}/resolve", response=QAlertOut, summary="处置健康预警")
def alert_resolve_post(request: HttpRequest, alert_id: int, payload: QAlertResolveIn):
    alert = selectors_health.access_alert_by_id(viewer=request.auth, alert_id=alert_id)
    alert = services_health.alert_resolve(
        actor=request.auth, alert=alert, resolution=payload.resolution
    )
    return _alert(alert)
