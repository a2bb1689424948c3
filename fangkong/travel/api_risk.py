"""API: risk areas and the retroactive sweeps they start.

Everyone logged in reads risk areas and sweep counts; the people a sweep found are listed
within the viewer's scope and masked by role. COMMANDER and ADMIN declare, change, end and
downgrade (others get 403). Declaring an area, or widening one, sweeps past arrivals at once:
the answer carries the sweep's counts.
"""

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core.pagination import paginate as paginate_qs
from fangkong.core.timeutils import local_today
from fangkong.people.presenters import person_display
from fangkong.policy import services as policy_services
from fangkong.policy.models import RiskArea, RiskLevel
from fangkong.policy.selectors import access_risk_area_by_id, downgrade_for, risk_area_list

from .models import SweepHit, SweepRun
from .sweep import (
    access_sweep_by_id,
    risk_area_change,
    risk_area_declare,
    sweep_hit_list,
    sweep_list,
)

router = Router(tags=["风险地区"])

LEVEL_LABELS = dict(RiskLevel.choices)
SOURCE_LABELS = dict(RiskArea.Source.choices)
OUTCOME_LABELS = dict(SweepHit.Outcome.choices)
CODE_HELP = (
    "区划代码：6 位县级代码（省 2 位、市 4 位，或 110000/110100 形式），9、12、15 位乡镇、"
    "村、小区代码（前 6 位须为已知县级区划），或本县的镇、村、网格代码"
)


# ---------------------------------------------------------------------------------------------
# Schemas


class RiskAreaDowngradeOut(Schema):
    from_level: str = Field(..., description="现等级")
    to_level: str | None = Field(None, description="可降到的等级；null 表示解除")
    earliest_on: dt.date = Field(..., description="现行方案允许的最早降级（解除）日期")
    days: int = Field(..., description="须连续无新增感染的天数")
    needs_screening: bool = Field(..., description="是否还须当日区域内全员核酸筛查阴性")


class RiskAreaOut(Schema):
    id: int
    level: str = Field(..., description="风险等级：high / medium / low")
    level_label: str
    region_code: str = Field(..., description="区划代码（短形式：省 2 位、市 4 位、县 6 位……）")
    region_name: str
    detail: str = Field(..., description="具体范围（小区、楼栋）；空表示整个区划")
    division_code: str | None = Field(None, description="本县区划代码（县内风险地区）")
    inside_county: bool
    start_date: dt.date
    end_date: dt.date | None = None
    in_force: bool = Field(..., description="今天是否有效")
    notice: str
    last_case_on: dt.date | None = Field(None, description="最近新增感染日期")
    source: str = Field(..., description="来源：manual / import / downgrade")
    source_label: str
    previous_id: int | None = Field(None, description="降级前的风险地区编号")


class RiskAreaDetailOut(RiskAreaOut):
    downgrade: RiskAreaDowngradeOut | None = Field(
        None, description="县内、今天有效的风险地区：现行方案允许的降级；其他为 null"
    )


class SweepOut(Schema):
    id: int
    risk_area_id: int
    window_from: dt.date = Field(..., description="回溯：离开日期自")
    window_to: dt.date = Field(..., description="回溯：离开日期至")
    found: int = Field(..., description="找到的来返人员")
    orders_proposed: int = Field(..., description="新提出管控措施（或上门核实任务）")
    already_covered: int = Field(..., description="已有同等或更严措施")
    outside_county: int = Field(..., description="目的地在县外，转协查")
    expired: int = Field(..., description="管控期已满")
    seconds: float = Field(..., description="用时（秒）")
    started_at: dt.datetime


class RiskAreaWrittenOut(RiskAreaDetailOut):
    sweep: SweepOut | None = Field(None, description="本次回溯排查的结果；没有回溯时为 null")


class RiskAreaIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"required": ["level", "region_code", "start_date"]},
    )

    level: str = Field("", description="风险等级：high / medium / low（必填）")
    region_code: str = Field("", description=CODE_HELP + "（必填）")
    region_name: str = Field("", description="地区名称；空则按代码自动填写")
    detail: str = Field("", description="具体范围（小区、楼栋、单元）；空表示整个区划")
    start_date: dt.date | None = Field(None, description="起始日期（必填，不能晚于今天）")
    end_date: dt.date | None = Field(None, description="截止日期；空表示尚未解除")
    notice: str = Field("", description="依据通告")
    last_case_on: dt.date | None = Field(None, description="最近新增感染日期（降级从此起算）")


class RiskAreaPatch(Schema):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    level: str | None = Field(None, description="风险等级")
    region_code: str | None = Field(None, description=CODE_HELP)
    region_name: str | None = Field(None, description="地区名称")
    detail: str | None = Field(None, description="具体范围；空字符串表示整个区划（扩大）")
    start_date: dt.date | None = Field(None, description="起始日期；提前会重新回溯排查")
    end_date: dt.date | None = Field(None, description="截止日期")
    notice: str | None = Field(None, description="依据通告")
    last_case_on: dt.date | None = Field(None, description="最近新增感染日期")


class EndIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["end_date", "reason"]}
    )

    end_date: dt.date | None = Field(None, description="截止日期（该日仍有效）")
    reason: str = Field("", description="理由（必填）")


class DowngradeIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["on"]})

    on: dt.date | None = Field(None, description="降级（解除）日期：不能早于方案允许的日期")
    reason: str = Field("", description="理由")


class DowngradeResultOut(Schema):
    ended: RiskAreaDetailOut = Field(..., description="原风险地区（截止于降级日前一天）")
    created: RiskAreaDetailOut | None = Field(None, description="降级后的风险地区；解除时为 null")


class RiskAreaFilters(Schema):
    level: RiskLevel | None = Field(None, description="风险等级")
    status: str = Field(
        "all",
        pattern="^(all|active|ended)$",
        description="all 全部，active 今天有效，ended 已解除",
    )
    active_on: dt.date | None = Field(None, description="只列出这一天有效的风险地区")
    inside_county: bool | None = Field(None, description="true 本县，false 县外")
    q: str | None = Field(None, description="区划代码开头，或名称、范围、通告包含")


class HitPersonOut(Schema):
    id: int
    name: str = Field(..., description="姓名（按角色脱敏）")
    id_number: str = Field(..., description="证件号码（脱敏）")
    phone: str = Field(..., description="手机号（按角色脱敏）")
    masked: bool


class HitOut(Schema):
    id: int
    arrival_id: int
    outcome: str = Field(..., description="proposed / covered / expired / outside")
    outcome_label: str
    order_id: int | None = Field(None, description="提出或覆盖它的管控措施编号")
    person: HitPersonOut
    channel: str = Field(..., description="报备渠道")
    left_on: dt.date
    arrived_on: dt.date
    destination_code: str | None = Field(None, description="目的网格代码；县外为 null")
    outside_county: bool


class HitPageOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[HitOut]


class SweepDetailOut(SweepOut):
    hits: HitPageOut = Field(..., description="找到的人员（您管辖范围内，分页）")


class SweepFilters(Schema):
    risk_area: int | None = Field(None, ge=1, description="只列出这个风险地区的回溯排查")


class HitFilters(Schema):
    outcome: str | None = Field(
        None, pattern="^(proposed|covered|expired|outside)$", description="只列出这种结果"
    )
    page: int = Field(1, ge=1, description="找到人员的页码")
    page_size: int | None = Field(None, ge=1, description="每页条数")


# ---------------------------------------------------------------------------------------------
# Presenting


def _area(area: RiskArea, today: dt.date | None = None) -> dict[str, Any]:
    today = today or local_today()
    return {
        "id": area.pk,
        "level": area.level,
        "level_label": str(LEVEL_LABELS.get(area.level, area.level)),
        "region_code": area.region_code,
        "region_name": area.region_name,
        "detail": area.detail,
        "division_code": area.division_id,
        "inside_county": area.division_id is not None,
        "start_date": area.start_date,
        "end_date": area.end_date,
        "in_force": area.start_date <= today and (area.end_date is None or area.end_date >= today),
        "notice": area.notice,
        "last_case_on": area.last_case_on,
        "source": area.source,
        "source_label": str(SOURCE_LABELS.get(area.source, area.source)),
        "previous_id": area.previous_id,
    }


def _area_detail(area: RiskArea) -> dict[str, Any]:
    today = local_today()
    proposal = downgrade_for(area=area, today=today)
    return {**_area(area, today), "downgrade": asdict(proposal) if proposal else None}


def _list_area(request: HttpRequest, area: RiskArea) -> dict[str, Any]:
    return _area(area)


def _sweep(sweep: SweepRun) -> dict[str, Any]:
    expired = sweep.found - sweep.orders_proposed - sweep.already_covered - sweep.outside_county
    return {
        "id": sweep.pk,
        "risk_area_id": sweep.risk_area_id,
        "window_from": sweep.window_from,
        "window_to": sweep.window_to,
        "found": sweep.found,
        "orders_proposed": sweep.orders_proposed,
        "already_covered": sweep.already_covered,
        "outside_county": sweep.outside_county,
        "expired": max(expired, 0),
        "seconds": sweep.seconds,
        "started_at": sweep.started_at,
    }


def _list_sweep(request: HttpRequest, sweep: SweepRun) -> dict[str, Any]:
    return _sweep(sweep)


def _written(area: RiskArea, sweep: SweepRun | None) -> dict[str, Any]:
    return {**_area_detail(area), "sweep": _sweep(sweep) if sweep is not None else None}


def _hit(viewer: Any, hit: SweepHit) -> dict[str, Any]:
    arrival = hit.arrival
    person = person_display(viewer=viewer, person=arrival.person)
    return {
        "id": hit.pk,
        "arrival_id": arrival.pk,
        "outcome": hit.outcome,
        "outcome_label": str(OUTCOME_LABELS.get(hit.outcome, hit.outcome)),
        "order_id": hit.order_id,
        "person": {k: person[k] for k in ("id", "name", "id_number", "phone", "masked")},
        "channel": arrival.channel,
        "left_on": arrival.left_on,
        "arrived_on": arrival.arrived_on,
        "destination_code": arrival.destination_division_id,
        "outside_county": arrival.outside_county,
    }


# ---------------------------------------------------------------------------------------------
# Risk areas


@router.post(
    "/risk-areas",
    response={201: RiskAreaWrittenOut},
    summary="发布风险地区（并回溯排查）",
    description=(
        "县指挥部、系统管理员。保存后立即回溯排查起始日期以来离开该地区、已来到本县的人员"
        "（扫码报备、网格员登记、卡口、推送名单、协查函），按现行方案提出管控措施并推送到网格员"
        "待办；回答中的 sweep 为排查结果。"
    ),
)
def create_risk_area(request: HttpRequest, payload: RiskAreaIn) -> Any:
    area, sweep = risk_area_declare(actor=request.auth, **payload.model_dump())
    return Status(201, _written(area, sweep))


@router.get(
    "/risk-areas",
    response=list[RiskAreaOut],
    summary="风险地区列表",
    description="按等级、是否有效、县内外、关键字筛选；最新起始的在前。",
)
@paginate(present=_list_area)
def list_risk_areas(request: HttpRequest, filters: Query[RiskAreaFilters]) -> Any:
    today = local_today()
    active_on = filters.active_on or (today if filters.status == "active" else None)
    areas = risk_area_list(
        viewer=request.auth,
        level=filters.level,
        active_on=active_on,
        inside_county=filters.inside_county,
        q=filters.q,
    )
    if filters.status == "ended":
        areas = areas.filter(end_date__lt=today)
    return areas


@router.get(
    "/risk-areas/{area_id}",
    response=RiskAreaDetailOut,
    summary="风险地区详情（含降级建议）",
)
def get_risk_area(request: HttpRequest, area_id: int) -> Any:
    return _area_detail(access_risk_area_by_id(viewer=request.auth, area_id=area_id))


@router.patch(
    "/risk-areas/{area_id}",
    response=RiskAreaWrittenOut,
    summary="修改风险地区",
    description="只修改请求中给出的字段。扩大（提前起始、提高等级、扩大区划、清空具体范围）时重新回溯排查。",
)
def update_risk_area(request: HttpRequest, area_id: int, payload: RiskAreaPatch) -> Any:
    area = access_risk_area_by_id(viewer=request.auth, area_id=area_id)
    changes = payload.model_dump(exclude_unset=True)
    area, sweep = risk_area_change(actor=request.auth, area=area, changes=changes)
    return _written(area, sweep)


@router.post(
    "/risk-areas/{area_id}/end",
    response=RiskAreaDetailOut,
    summary="解除风险地区",
)
def end_risk_area(request: HttpRequest, area_id: int, payload: EndIn) -> Any:
    area = access_risk_area_by_id(viewer=request.auth, area_id=area_id)
    area = policy_services.risk_area_end(
        actor=request.auth, area=area, end_date=payload.end_date, reason=payload.reason
    )
    return _area_detail(area)


@router.post(
    "/risk-areas/{area_id}/confirm-downgrade",
    response=DowngradeResultOut,
    summary="确认降级",
    description=(
        "县内风险地区：原地区截止于降级日前一天，并从降级日起登记低一级的地区（方案规定解除时"
        "不登记）。早于方案允许日期的降级被拒绝。"
    ),
)
def confirm_downgrade(request: HttpRequest, area_id: int, payload: DowngradeIn) -> Any:
    area = access_risk_area_by_id(viewer=request.auth, area_id=area_id)
    created = policy_services.risk_area_confirm_downgrade(
        actor=request.auth, area=area, on=payload.on, reason=payload.reason
    )
    ended = access_risk_area_by_id(viewer=request.auth, area_id=area_id)
    return {
        "ended": _area_detail(ended),
        "created": _area_detail(created) if created is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# Sweeps


@router.get(
    "/sweeps",
    response=list[SweepOut],
    summary="回溯排查记录",
    description="每次回溯排查的范围和计数（不含个人信息）。",
)
@paginate(present=_list_sweep)
def list_sweeps(request: HttpRequest, filters: Query[SweepFilters]) -> Any:
    area = None
    if filters.risk_area is not None:
        area = access_risk_area_by_id(viewer=request.auth, area_id=filters.risk_area)
    return sweep_list(viewer=request.auth, area=area)


@router.get(
    "/sweeps/{sweep_id}",
    response=SweepDetailOut,
    summary="回溯排查结果",
    description="计数，以及您管辖范围内找到的人员（按角色脱敏，?page=&page_size= 分页）。",
)
def get_sweep(request: HttpRequest, sweep_id: int, filters: Query[HitFilters]) -> Any:
    sweep = access_sweep_by_id(viewer=request.auth, sweep_id=sweep_id)
    hits = sweep_hit_list(viewer=request.auth, sweep=sweep, outcome=filters.outcome)
    page = paginate_qs(hits, page=filters.page, page_size=filters.page_size)
    return {
        **_sweep(sweep),
        "hits": {
            "count": page.count,
            "page": page.page,
            "page_size": page.page_size,
            "pages": page.pages,
            "results": [_hit(request.auth, hit) for hit in page.items],
        },
    }
