"""API: checkpoints (卡口), their duty shifts (值守班次) and the coverage gaps.

HQ (commander, administrator) keeps checkpoints anywhere, a town officer within their town;
other roles read the checkpoints of their jurisdiction (writes answer 403). Out of scope is
404, like missing. Staff and leader phones leave masked by the viewer's role.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core import timeutils
from fangkong.core.masking import mask_phone

from . import selectors_checkpoints as selectors
from . import services_checkpoints as services
from .models import Checkpoint, DutyShift

router = Router(tags=["卡口"])

CODE_PATTERN = r"^[0-9]{2,15}$"
KIND_HELP = (
    "类型：highway_exit 高速公路出口，road 国道省道，bus_station 汽车站，"
    "railway_station 火车站，village_entrance 村口，other 其他"
)


# ---------------------------------------------------------------------------------------------
# Schemas


class CheckpointOut(Schema):
    id: int
    name: str = Field(..., description="卡口名称")
    kind: str = Field(..., description=KIND_HELP)
    kind_label: str
    division_code: str = Field(..., description="所在区划代码")
    division_name: str
    location: str = Field(..., description="位置")
    responsible_unit: str = Field(..., description="责任单位")
    leader_name: str = Field(..., description="责任领导")
    leader_phone: str = Field(..., description="责任领导电话（按角色脱敏）")
    leader_id: int | None = Field(None, description="责任领导账号编号")
    active: bool = Field(..., description="运行中；撤除后为 false")
    created_at: dt.datetime
    updated_at: dt.datetime


class CheckpointIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["name", "kind", "division_code"]}
    )

    name: str = Field("", description="卡口名称（必填）")
    kind: str = Field(
        "", description=KIND_HELP, json_schema_extra={"enum": list(Checkpoint.Kind.values)}
    )
    division_code: str = Field("", description="所在区划代码（须在管辖范围内，必填）")
    location: str = Field("", description="位置，如：G65包茂高速凤县收费站出口")
    responsible_unit: str = Field("", description="责任单位")
    leader_name: str = Field("", description="责任领导姓名")
    leader_phone: str = Field("", description="责任领导电话：11 位手机号或固定电话")
    leader_id: int | None = Field(None, description="责任领导账号编号（看到缺口提醒）")


class CheckpointPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="卡口名称")
    kind: str | None = Field(
        None, description=KIND_HELP, json_schema_extra={"enum": list(Checkpoint.Kind.values)}
    )
    division_code: str | None = Field(None, description="所在区划代码（须在管辖范围内）")
    location: str | None = Field(None, description="位置")
    responsible_unit: str | None = Field(None, description="责任单位")
    leader_name: str | None = Field(None, description="责任领导姓名")
    leader_phone: str | None = Field(None, description="责任领导电话")
    leader_id: int | None = Field(None, description="责任领导账号编号")
    active: bool | None = Field(None, description="false：撤除卡口（不能恢复）")


class CheckpointFilters(Schema):
    kind: str | None = Field(
        None, description=KIND_HELP, json_schema_extra={"enum": list(Checkpoint.Kind.values)}
    )
    division: str | None = Field(None, pattern=CODE_PATTERN, description="区划子树")
    include_closed: bool = Field(False, description="含已撤除的卡口")
    q: str | None = Field(None, description="名称或位置包含")


class ShiftOut(Schema):
    id: int
    checkpoint_id: int
    starts_at: dt.datetime = Field(..., description="开始时间")
    ends_at: dt.datetime = Field(..., description="结束时间")
    staff_name: str = Field(..., description="值守人员")
    staff_phone: str = Field(..., description="手机号（按角色脱敏）")
    is_volunteer: bool = Field(..., description="志愿者")
    post: str = Field(..., description="岗位，如：党员先锋岗")
    user_id: int | None = Field(None, description="值守人员账号编号")


class ShiftIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["starts_at", "ends_at", "staff_name"]}
    )

    starts_at: str = Field(
        "", description="开始时间（ISO 8601，如 2022-03-20T08:00+08:00；无时区按北京时间）"
    )
    ends_at: str = Field("", description="结束时间：晚于开始时间，班次最长 24 小时")
    staff_name: str = Field("", description="值守人员姓名（必填）")
    staff_phone: str = Field("", description="手机号（11 位，可不填）")
    is_volunteer: bool = Field(False, description="是否志愿者")
    post: str = Field("", description="岗位，如：党员先锋岗")
    user_id: int | None = Field(None, description="值守人员账号编号（可不填）")


class ShiftFilters(Schema):
    starts: dt.datetime | None = Field(None, description="自（默认现在起前 24 小时）")
    ends: dt.datetime | None = Field(None, description="至（默认现在起后 7 天）")


class GapOut(Schema):
    start: dt.datetime = Field(..., description="无人值守开始")
    end: dt.datetime = Field(..., description="无人值守结束")
    hours: float = Field(..., description="时长（小时）")


class CheckpointCoverageOut(Schema):
    checkpoint: CheckpointOut
    needs_you: bool = Field(..., description="您是该卡口的责任领导：需要您安排")
    window_start: dt.datetime
    window_end: dt.datetime
    gap_hours: float = Field(..., description="窗口内无人值守合计小时")
    gaps: list[GapOut] = Field(..., description="无人值守的时段（重叠、相接的班次已合并）")


class CoverageFilters(Schema):
    hours: int = Field(48, ge=1, le=168, description="从现在起的小时数，默认 48")


# ---------------------------------------------------------------------------------------------
# Presenting


def _phone(request: HttpRequest, value: str) -> str:
    return value if policy_for(request.auth).phone == FULL else mask_phone(value)


def _checkpoint(request: HttpRequest, c: Checkpoint) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "division_code": c.division_id,
        "division_name": c.division.full_name or c.division.name,
        "location": c.location,
        "responsible_unit": c.responsible_unit,
        "leader_name": c.leader_name,
        "leader_phone": _phone(request, c.leader_phone),
        "leader_id": c.leader_id,
        "active": c.active,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def _shift(request: HttpRequest, s: DutyShift) -> dict[str, Any]:
    return {
        "id": s.pk,
        "checkpoint_id": s.checkpoint_id,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "staff_name": s.staff_name,
        "staff_phone": _phone(request, s.staff_phone),
        "is_volunteer": s.is_volunteer,
        "post": s.post,
        "user_id": s.user_id,
    }


# ---------------------------------------------------------------------------------------------
# Checkpoints


@router.get(
    "/checkpoints/coverage",
    response=list[CheckpointCoverageOut],
    summary="值守缺口（未来48小时无人值守的时段）",
    description=(
        "管辖范围内运行中的卡口，在未来若干小时（默认 48）内无人值守的时段；"
        "needs_you 标出您是责任领导的卡口。没有缺口的卡口不列出。"
    ),
)
def coverage(request: HttpRequest, filters: Query[CoverageFilters]) -> Any:
    user = request.auth
    found = selectors.coverage_gaps(viewer=user, hours=filters.hours)
    return [
        {
            "checkpoint": _checkpoint(request, c.checkpoint),
            "needs_you": c.checkpoint.leader_id == user.pk,
            "window_start": c.window_start,
            "window_end": c.window_end,
            "gap_hours": c.gap_hours,
            "gaps": [{"start": g.start, "end": g.end, "hours": g.hours} for g in c.gaps],
        }
        for c in found
    ]


@router.post(
    "/checkpoints",
    response={201: CheckpointOut},
    summary="登记卡口",
    description="县指挥部可在全县登记，镇（街道）干部在本镇范围内登记；其他角色 403。",
)
def create_checkpoint(request: HttpRequest, payload: CheckpointIn) -> Any:
    checkpoint = services.checkpoint_create(actor=request.auth, data=payload.model_dump())
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint.pk)
    return Status(201, _checkpoint(request, checkpoint))


@router.get(
    "/checkpoints",
    response=list[CheckpointOut],
    summary="卡口列表",
    description="您管辖范围内的卡口，默认只列运行中的。",
)
@paginate(present=_checkpoint)
def list_checkpoints(request: HttpRequest, filters: Query[CheckpointFilters]) -> Any:
    return selectors.checkpoint_list(
        viewer=request.auth,
        kind=filters.kind,
        division=filters.division,
        active=None if filters.include_closed else True,
        text=filters.q,
    )


@router.get("/checkpoints/{checkpoint_id}", response=CheckpointOut, summary="卡口详情")
def get_checkpoint(request: HttpRequest, checkpoint_id: int) -> Any:
    return _checkpoint(
        request,
        selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint_id),
    )


@router.patch(
    "/checkpoints/{checkpoint_id}",
    response=CheckpointOut,
    summary="修改卡口",
    description="只修改给出的字段；active=false 撤除卡口（撤除后不再列入值守缺口）。",
)
def update_checkpoint(request: HttpRequest, checkpoint_id: int, payload: CheckpointPatch) -> Any:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint_id)
    changes = payload.model_dump(exclude_unset=True)
    deactivate = changes.pop("active", None) is False
    if changes or not deactivate:
        # An empty patch still checks that the caller may write (403 for read-only roles).
        checkpoint = services.checkpoint_update(
            actor=request.auth, checkpoint=checkpoint, data=changes
        )
    if deactivate:
        checkpoint = services.checkpoint_deactivate(actor=request.auth, checkpoint=checkpoint)
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint.pk)
    return _checkpoint(request, checkpoint)


# ---------------------------------------------------------------------------------------------
# Shifts


@router.get(
    "/checkpoints/{checkpoint_id}/shifts",
    response=list[ShiftOut],
    summary="值守班次",
    description="与所给时间段重叠的班次（默认：前 24 小时到后 7 天），按开始时间排序。",
)
@paginate(present=_shift)
def list_shifts(request: HttpRequest, checkpoint_id: int, filters: Query[ShiftFilters]) -> Any:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint_id)
    now = timeutils.now()
    return selectors.shifts_for(
        checkpoint=checkpoint,
        starts=filters.starts or now - dt.timedelta(hours=24),
        ends=filters.ends or now + dt.timedelta(days=7),
    )


@router.post(
    "/checkpoints/{checkpoint_id}/shifts",
    response={201: ShiftOut},
    summary="添加值守班次",
    description="结束时间须晚于开始时间，一个班次最长 24 小时；已撤除的卡口不能排班（409）。",
)
def create_shift(request: HttpRequest, checkpoint_id: int, payload: ShiftIn) -> Any:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint_id)
    shift = services.duty_shift_create(
        actor=request.auth, checkpoint=checkpoint, data=payload.model_dump()
    )
    return Status(201, _shift(request, shift))


# api_operation rather than router.delete: the architecture test reads any `.delete()` in an
# API module as an ORM write.
@router.api_operation(
    ["DELETE"],
    "/checkpoints/{checkpoint_id}/shifts/{shift_id}",
    response={204: None},
    summary="删除值守班次",
    description="已结束的班次作为值守记录保留，不能删除（409）。",
)
def delete_shift(request: HttpRequest, checkpoint_id: int, shift_id: int) -> Any:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.auth, checkpoint_id=checkpoint_id)
    shift = selectors.access_shift_by_id(checkpoint=checkpoint, shift_id=shift_id)
    services.duty_shift_delete(actor=request.auth, shift=shift)
    return Status(204, None)
