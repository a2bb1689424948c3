"""API: measures on people (control orders) and the closed loop (inbox, steps, overview, clocks).

People inside orders and tasks are masked by the caller's role (people.presenters); out of
scope answers 404 like missing. Writes go through control.services, which check the role.
"""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from fangkong.core import timeutils
from fangkong.core.exceptions import Forbidden
from fangkong.people.api import PersonOut
from fangkong.policy.models import Category

from .choices import VisitOutcome
from .models import ControlOrder, LoopTask
from .permissions import can_change_settings
from .presenters import event_display, order_display, step_display, task_display
from .selectors import (
    access_order_by_id,
    access_step_by_id,
    access_task_by_id,
    inbox,
    loop_overview,
    loop_settings_current,
    order_events,
    order_list,
    order_tasks,
)
from .services import (
    loop_settings_update,
    loop_step_complete,
    order_advance_phase,
    order_cancel,
    order_change,
    order_confirm,
    order_release,
    order_transfer_out,
)

router = Router(tags=["管控措施与闭环"])

CODE_PATTERN = r"^[0-9]{6,15}$"


# ---------------------------------------------------------------------------------------------
# Schemas


class PhaseOut(Schema):
    index: int = Field(..., description="分段序号，从 0 开始")
    kind: str = Field(
        ...,
        description="措施类型：centralized 集中隔离，home_isolation 居家隔离，"
        "home_monitoring 居家健康监测，tests_only 落地检测，hospital 定点医院",
    )
    kind_label: str
    days: int | None = Field(None, description="天数；null 表示不定期")
    start: str = Field(..., description="开始日期 YYYY-MM-DD")
    end: str | None = Field(None, description="结束日期 YYYY-MM-DD；null 表示不定期")
    test_days: list[str] = Field(..., description="本分段的核酸检测日")
    current: bool = Field(..., description="是否为当前分段")


class OrderOut(Schema):
    id: int
    status: str = Field(
        ...,
        description="状态：proposed 待确认，active 执行中，phase_changed 已转段，"
        "released 已解除，cancelled 已撤销，transferred_out 已转出，superseded 已被替代",
    )
    status_label: str
    category: str = Field(..., description="人员类别")
    category_label: str
    edition_code: str = Field(..., description="依据的防控方案版本代码")
    edition_name: str
    counts_from: str = Field(..., description="起算方式")
    counts_from_label: str
    anchor_date: dt.date = Field(..., description="起算日期")
    start_date: dt.date = Field(..., description="开始日期")
    end_date: dt.date | None = Field(None, description="结束日期；null 表示不定期")
    current_phase: int = Field(..., description="当前分段序号")
    phases: list[PhaseOut]
    test_days: list[str] = Field(..., description="全部核酸检测日")
    division_code: str = Field(..., description="责任网格代码")
    division_name: str
    source_type: str = Field(
        ..., description="来源：arrival 来返报备，sweep 回溯排查，contact 密接判定 …"
    )
    source_label: str
    source_id: str = Field(..., description="来源记录编号")
    confirmed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    superseded_by_id: int | None = Field(None, description="替代本措施的更严措施编号")
    person: PersonOut


class EventOut(Schema):
    verb: str = Field(
        ...,
        description="操作：propose、confirm、change、cancel、transfer_out、"
        "release、advance_phase、supersede",
    )
    verb_label: str
    from_status: str
    to_status: str
    actor: str = Field(..., description="操作人")
    at: dt.datetime
    reason: str
    data: dict[str, Any] = Field(..., description="变更内容（只含代码和日期）")


class StepOut(Schema):
    id: int
    kind: str = Field(..., description="环节：ack 签收，visit 上门核实，in_place 措施落实")
    kind_label: str
    seq: int
    due_at: dt.datetime = Field(..., description="时限")
    done: bool
    done_at: dt.datetime | None = None
    outcome: str = Field(
        ..., description="上门核实结果：verified、not_found、moved_away、wrong_address"
    )
    outcome_label: str
    note: str
    overdue: bool = Field(..., description="未完成且已超过时限")
    seconds_left: int = Field(..., description="距时限的秒数（负数为已超时）")
    escalation: int = Field(..., description="已上报层级：0 未上报，1 村，2 镇，3 县")
    escalation_label: str


class TaskOrderOut(Schema):
    id: int
    status: str
    status_label: str
    category: str
    category_label: str
    start_date: dt.date
    end_date: dt.date | None = None
    phases: list[PhaseOut]


class TaskOut(Schema):
    id: int
    kind: str = Field(..., description="类型：arrival 来返人员，order 管控措施")
    kind_label: str
    title: str
    status: str = Field(..., description="open 办理中，done 已办结，cancelled 已撤销")
    status_label: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    division_code: str
    division_name: str
    source_type: str
    source_id: str
    overdue: bool
    escalated: int = Field(..., description="未完成环节的最高上报层级")
    person: PersonOut
    order: TaskOrderOut | None = None
    steps: list[StepOut]


class TaskInOrderOut(Schema):
    id: int
    status: str
    title: str
    steps: list[StepOut]


class OrderDetailOut(OrderOut):
    note: str = Field(..., description="备注")
    history: list[EventOut]
    tasks: list[TaskInOrderOut]


StatusFilter = Literal[
    "open",
    "proposed",
    "active",
    "phase_changed",
    "released",
    "cancelled",
    "transferred_out",
    "superseded",
]


class OrderFilters(Schema):
    status: StatusFilter | None = Field(None, description="状态；open 表示未结束（待确认+执行中）")
    category: Category | None = Field(None, description="人员类别")
    division: str | None = Field(None, pattern=CODE_PATTERN, description="区划子树（区划代码）")
    person_id: int | None = Field(None, ge=1, description="人员编号")


class ConfirmIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", description="理由；调整类别或起算日期时必填")
    category: Category | None = Field(None, description="调整后的人员类别（不填为不变）")
    anchor_date: dt.date | None = Field(None, description="调整后的起算日期（不填为不变）")


class ChangeIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})

    reason: str = Field("", description="调整理由（必填）")
    category: Category | None = Field(None, description="新的人员类别")
    anchor_date: dt.date | None = Field(None, description="新的起算日期")


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})

    reason: str = Field("", description="理由（必填）")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})

    reason: str = Field("", description="转出理由（必填）")
    destination: str = Field("", description="转往地区的名称或区划代码")


class ReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", description="备注")


class StepCompleteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(
        "",
        description="上门核实结果（仅上门核实环节）",
        json_schema_extra={"enum": ["", *VisitOutcome.values]},
    )
    note: str = Field("", description="情况说明；核实结果不是 verified 时必填")


class OverviewFilters(Schema):
    division: str | None = Field(
        None, pattern=CODE_PATTERN, description="统计此区划的各直接下级；默认为您管辖范围的顶层"
    )


class OverviewRowOut(Schema):
    code: str
    name: str
    open_tasks: int = Field(..., description="办理中任务")
    overdue_ack: int = Field(..., description="超时未签收")
    overdue_visit: int = Field(..., description="超时未上门核实")
    overdue_in_place: int = Field(..., description="超时未落实措施")
    escalated_village: int = Field(..., description="当前上报到村的未完成环节")
    escalated_town: int = Field(..., description="当前上报到镇的未完成环节")
    escalated_county: int = Field(..., description="当前上报到县的未完成环节")


class OverviewOut(Schema):
    division_code: str | None = None
    division_name: str | None = None
    at: dt.datetime
    rows: list[OverviewRowOut]
    total: OverviewRowOut


class SettingsIO(Schema):
    model_config = ConfigDict(extra="forbid")

    ack_hours: int = Field(..., description="签收时限（小时）")
    visit_hours: int = Field(..., description="上门核实时限（小时）")
    in_place_hours: int = Field(..., description="措施落实时限（小时）")
    town_after_hours: int = Field(..., description="逾期多久上报镇（小时）")
    county_after_hours: int = Field(..., description="逾期多久上报县（小时）")


class SettingsOut(SettingsIO):
    division_code: str
    updated_at: dt.datetime | None = None


# ---------------------------------------------------------------------------------------------
# Presenting


def _order(request: HttpRequest, order: ControlOrder) -> dict[str, Any]:
    return order_display(viewer=request.auth, order=order)


def _order_detail(request: HttpRequest, order: ControlOrder) -> dict[str, Any]:
    now = timeutils.now()
    return {
        **_order(request, order),
        "history": [event_display(e) for e in order_events(order=order)],
        "tasks": [
            {
                "id": t.pk,
                "status": t.status,
                "title": t.title,
                "steps": [step_display(s, now=now) for s in t.steps.all()],
            }
            for t in order_tasks(order=order)
        ],
    }


def _task(request: HttpRequest, task: LoopTask) -> dict[str, Any]:
    return task_display(viewer=request.auth, task=task, now=timeutils.now())


def _settings(row: Any) -> dict[str, Any]:
    return {
        "division_code": row.division_id,
        "ack_hours": row.ack_hours,
        "visit_hours": row.visit_hours,
        "in_place_hours": row.in_place_hours,
        "town_after_hours": row.town_after_hours,
        "county_after_hours": row.county_after_hours,
        "updated_at": row.updated_at,
    }


def _fresh(request: HttpRequest, order: ControlOrder) -> dict[str, Any]:
    return _order_detail(request, access_order_by_id(viewer=request.auth, order_id=order.pk))


# ---------------------------------------------------------------------------------------------
# Orders


@router.get(
    "/control-orders",
    response=list[OrderOut],
    summary="管控措施列表",
    description="您管辖范围内的管控措施，新的在前（人员信息按角色脱敏）。",
)
@paginate(present=_order)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> Any:
    return order_list(
        viewer=request.auth,
        status=filters.status,
        category=filters.category,
        division=filters.division,
        person_id=filters.person_id,
    )


@router.get(
    "/control-orders/{order_id}",
    response=OrderDetailOut,
    summary="管控措施详情",
    description="分段及日期、核酸检测日、变更记录和闭环任务。",
)
def get_order(request: HttpRequest, order_id: int) -> Any:
    return _order_detail(request, access_order_by_id(viewer=request.auth, order_id=order_id))


@router.post(
    "/control-orders/{order_id}/confirm",
    response=OrderDetailOut,
    summary="确认措施",
    description="待确认 → 执行中。调整类别或起算日期须填理由，按本措施所依据的方案重新计算。"
    "该人员已有同等或更严的执行中措施时返回 409；更严的措施替代较轻的执行中措施。",
)
def confirm_order(request: HttpRequest, order_id: int, payload: ConfirmIn) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_confirm(
        actor=request.auth,
        order=order,
        reason=payload.reason,
        category=payload.category,
        anchor_date=payload.anchor_date,
    )
    return _fresh(request, order)


@router.post(
    "/control-orders/{order_id}/change",
    response=OrderDetailOut,
    summary="调整措施",
    description="调整人员类别或起算日期（须填理由），按本措施所依据的方案重新计算，状态不变。",
)
def change_order(request: HttpRequest, order_id: int, payload: ChangeIn) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_change(
        actor=request.auth,
        order=order,
        reason=payload.reason,
        category=payload.category,
        anchor_date=payload.anchor_date,
    )
    return _fresh(request, order)


@router.post("/control-orders/{order_id}/cancel", response=OrderDetailOut, summary="撤销措施")
def cancel_order(request: HttpRequest, order_id: int, payload: ReasonIn) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_cancel(actor=request.auth, order=order, reason=payload.reason)
    return _fresh(request, order)


@router.post(
    "/control-orders/{order_id}/transfer-out",
    response=OrderDetailOut,
    summary="转出",
    description="人员离开本县，由转往地接管措施。",
)
def transfer_order(request: HttpRequest, order_id: int, payload: TransferIn) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_transfer_out(
        actor=request.auth, order=order, reason=payload.reason, destination=payload.destination
    )
    return _fresh(request, order)


@router.post(
    "/control-orders/{order_id}/release",
    response=OrderDetailOut,
    summary="解除措施",
    description="期满且检测日均已过后解除；否则返回 400 并逐项说明缺少的条件。",
)
def release_order(request: HttpRequest, order_id: int, payload: ReleaseIn) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_release(actor=request.auth, order=order, reason=payload.reason)
    return _fresh(request, order)


@router.post(
    "/control-orders/{order_id}/advance-phase",
    response=OrderDetailOut,
    summary="转入下一分段",
    description="如集中隔离期满转居家健康监测；不早于下一分段的开始日期。",
)
def advance_order(request: HttpRequest, order_id: int) -> Any:
    order = access_order_by_id(viewer=request.auth, order_id=order_id)
    order_advance_phase(actor=request.auth, order=order)
    return _fresh(request, order)


# ---------------------------------------------------------------------------------------------
# The loop


@router.get(
    "/loop/inbox",
    response=list[TaskOut],
    summary="待办（闭环任务）",
    description="网格员：所负责网格的办理中任务；干部：管辖范围内的办理中任务。最紧迫的在前。",
)
@paginate(present=_task)
def list_inbox(request: HttpRequest) -> Any:
    return inbox(viewer=request.auth)


@router.post(
    "/loop/steps/{step_id}/complete",
    response=TaskOut,
    summary="办理环节",
    description="按顺序办理：签收 → 上门核实 → 措施落实。上门核实须给出结果；not_found、"
    "moved_away 时任务继续办理并立即提醒村（社区）。措施落实即确认待确认的措施。",
)
def complete_step(request: HttpRequest, step_id: int, payload: StepCompleteIn) -> Any:
    step = access_step_by_id(viewer=request.auth, step_id=step_id)
    loop_step_complete(actor=request.auth, step=step, outcome=payload.outcome, note=payload.note)
    return _task(request, access_task_by_id(viewer=request.auth, task_id=step.task_id))


def _row(row: Any) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": str(row.name),
        "open_tasks": row.open_tasks,
        "overdue_ack": row.overdue_ack,
        "overdue_visit": row.overdue_visit,
        "overdue_in_place": row.overdue_in_place,
        "escalated_village": row.escalated_village,
        "escalated_town": row.escalated_town,
        "escalated_county": row.escalated_county,
    }


@router.get(
    "/loop/overview",
    response=OverviewOut,
    summary="闭环办理情况（按区划）",
    description="所选区划各直接下级的办理中任务、按环节的超时数、按层级的上报数。",
)
def get_overview(request: HttpRequest, filters: Query[OverviewFilters]) -> Any:
    data = loop_overview(viewer=request.auth, division=filters.division)
    return {
        "division_code": data.division.code if data.division else None,
        "division_name": data.division.name if data.division else None,
        "at": data.now,
        "rows": [_row(r) for r in data.rows],
        "total": _row(data.total),
    }


@router.get("/loop/settings", response=SettingsOut, summary="闭环时限")
def get_settings(request: HttpRequest) -> Any:
    return _settings(loop_settings_current())


@router.put(
    "/loop/settings",
    response=SettingsOut,
    summary="修改闭环时限",
    description="仅县指挥部和系统管理员。时限须依次不减（签收 ≤ 上门核实 ≤ 措施落实），"
    "上报县须晚于上报镇。",
)
def put_settings(request: HttpRequest, payload: SettingsIO) -> Any:
    if not can_change_settings(request.auth):
        raise Forbidden()
    return _settings(loop_settings_update(actor=request.auth, **payload.model_dump()))
