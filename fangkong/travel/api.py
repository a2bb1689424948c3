"""API: arrivals (来返人员) and assist requests (协查函).

Registering answers with the registration and what the rules proposed: the category, the
phases with their dates and test days, or why no measure was proposed. People leave masked
for the viewer's role; the Word letter (full data) is for roles that may reveal, audited.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core import timeutils
from fangkong.people.api import PersonOut
from fangkong.people.models import IdType
from fangkong.policy.models import RiskLevel

from . import permissions, selectors, services
from .models import AssistRequest, Channel, Transport, TravelRegistration
from .presenters import arrival_display, assist_display, entry_display

router = Router(tags=["来返人员"])

CODE_PATTERN = r"^[0-9]{2,15}$"
DATE_HELP = "日期 YYYY-MM-DD"


# ---------------------------------------------------------------------------------------------
# Schemas


class ArrivalPhaseOut(Schema):
    kind: str = Field(..., description="措施类型：centralized 集中隔离，home_isolation 居家隔离 ……")
    kind_label: str
    days: int | None = Field(None, description="天数；空表示不定期")
    start: str | None = Field(None, description="开始日期")
    end: str | None = Field(None, description="结束日期")
    test_days: list[str] = Field(..., description="核酸检测日")


class ArrivalOrderOut(Schema):
    id: int
    status: str = Field(..., description="状态：proposed 待确认，active 执行中 ……")
    status_label: str
    category: str = Field(..., description="人员类别")
    category_label: str
    counts_from: str = Field(..., description="起算方式：left_area 离开风险地区，arrival 抵达 ……")
    counts_from_label: str
    anchor_date: str | None = Field(None, description="起算日期")
    start_date: str | None = None
    end_date: str | None = None
    phases: list[ArrivalPhaseOut]


class ArrivalOut(Schema):
    id: int
    person: PersonOut
    reported_name: str = Field(..., description="报备姓名（按角色脱敏）")
    reported_phone: str = Field(..., description="报备手机号（按角色脱敏）")
    identity_mismatch: bool = Field(..., description="报备姓名与该证件号码的人员档案不一致")
    channel: str = Field(..., description="报备渠道")
    channel_label: str
    origin_code: str = Field(..., description="出发地区划代码（2/4/6 位或更长）")
    origin_name: str
    origin_address: str
    from_abroad: bool
    origin_country: str
    left_on: str = Field(..., description="离开日期")
    arrived_on: str = Field(..., description="抵达日期")
    transport: str
    transport_label: str
    vehicle_no: str
    seat: str
    destination_code: str = Field(..., description="目的小网格代码（县外时为空）")
    destination_name: str
    destination_address: str = Field(..., description="目的地址（按角色脱敏）")
    outside_county: bool
    outside_code: str
    symptoms: str
    risk_level: str = Field(
        ..., description="离开当日出发地的风险等级：high/medium/low，空为非风险地区"
    )
    risk_level_label: str
    risk_area_id: int | None = None
    category: str = Field(..., description="人员类别；空为无需管控")
    category_label: str
    order_id: int | None = Field(None, description="管控措施编号（新提出的，或已有的更严措施）")
    order: ArrivalOrderOut | None = Field(None, description="管控措施：分段、日期与检测日")
    no_order_reason: str = Field(..., description="未提出新措施的原因（提出了措施时为空）")
    assist_request_id: int | None = None
    created_at: dt.datetime


class ArrivalCreatedOut(ArrivalOut):
    task_id: int | None = Field(None, description="下发到网格员待办的闭环任务编号")


class ArrivalIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "required": ["name", "id_number", "phone", "left_on", "arrived_on", "transport"]
        },
    )

    name: str = Field("", description="姓名（必填）")
    id_type: IdType = Field(IdType.RESIDENT_ID, description="证件类型，默认居民身份证")
    id_number: str = Field("", description="证件号码（必填）；居民身份证按 GB 11643 校验")
    phone: str = Field("", description="手机号（必填）：11 位")
    from_abroad: bool = Field(False, description="是否从境外来返")
    origin_country: str = Field("", description="出发国家（地区），境外来返时必填")
    origin_code: str = Field(
        "", description="出发地区划代码（GB/T 2260，6 位县级；省、市可写 2 位、4 位）"
    )
    origin_address: str = Field("", description="出发地详细地址（街道、小区）")
    left_on: str = Field("", description=f"离开出发地日期（{DATE_HELP}），不能晚于今天")
    arrived_on: str = Field(
        "", description=f"抵达日期（{DATE_HELP}），不能早于离开日期、不能晚于今天"
    )
    transport: str = Field(
        "", description="交通方式", json_schema_extra={"enum": list(Transport.values)}
    )
    vehicle_no: str = Field(
        "", description="车牌（GA 36，含新能源）/车次/航班号；自驾、火车、飞机必填"
    )
    seat: str = Field("", description="座位号")
    destination_code: str = Field("", description="目的小网格的区划代码（15 位；县外时不填）")
    destination_address: str = Field("", description="到达后居住地址（必填）")
    outside_county: bool = Field(
        False, description="目的地在县外：列入发出的协查函，不下发闭环任务"
    )
    outside_code: str = Field("", description="县外目的地区划代码（outside_county 时必填）")
    symptoms: str = Field("", description="症状（无则不填）")


class ArrivalFilters(Schema):
    arrived_from: dt.date | None = Field(None, description="抵达日期自")
    arrived_to: dt.date | None = Field(None, description="抵达日期至")
    origin: str | None = Field(None, description="出发地：区划代码前缀或名称包含")
    risk_level: str | None = Field(
        None,
        description="风险等级；none 为非风险地区",
        json_schema_extra={"enum": [*RiskLevel.values, "none"]},
    )
    channel: str | None = Field(
        None, description="报备渠道", json_schema_extra={"enum": list(Channel.values)}
    )
    division: str | None = Field(None, pattern=CODE_PATTERN, description="目的地区划子树")


class AssistOut(Schema):
    id: int
    direction: str = Field(..., description="incoming 收到的，outgoing 发出的")
    direction_label: str
    number: str = Field(..., description="函号")
    counterpart: str = Field(..., description="对方单位")
    counterpart_code: str
    subject: str
    dated: str
    status: str = Field(..., description="open 办理中，sent 已发出，closed 已办结")
    status_label: str
    entry_count: int | None = Field(None, description="发出的函：列明人数")
    arrival_count: int | None = Field(None, description="收到的函：已进入闭环的人数")
    created_at: dt.datetime


class EntryOut(Schema):
    id: int
    person: PersonOut
    arrival_id: int | None = None
    category: str
    category_label: str
    destination: str = Field(..., description="现住址/落地地址（按角色脱敏）")
    origin_name: str
    left_on: str | None = None
    arrived_on: str | None = None
    feedback: str = Field(..., description="对方核查反馈")


class AssistDetailOut(AssistOut):
    entries: list[EntryOut] = Field(..., description="发出的函：协查人员")
    arrival_ids: list[int] = Field(..., description="收到的函：名单中进入闭环的来返报备编号")


class AssistIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["counterpart"]})

    number: str = Field("", description="函号")
    counterpart: str = Field("", description="来函单位（必填）")
    counterpart_code: str = Field("", description="来函单位区划代码")
    subject: str = Field("", description="事由")
    dated: str | None = Field(None, description=f"来函日期（{DATE_HELP}），默认今天")


class AssistFilters(Schema):
    direction: str | None = Field(
        None, description="方向", json_schema_extra={"enum": list(AssistRequest.Direction.values)}
    )
    status: str | None = Field(
        None, description="状态", json_schema_extra={"enum": list(AssistRequest.Status.values)}
    )


# ---------------------------------------------------------------------------------------------
# Presenting


def _arrival(request: HttpRequest, reg: TravelRegistration) -> dict[str, Any]:
    return arrival_display(viewer=request.auth, reg=reg, today=timeutils.local_today())


# ---------------------------------------------------------------------------------------------
# Arrivals


@router.post(
    "/arrivals",
    response={201: ArrivalCreatedOut},
    summary="登记来返人员",
    description=(
        "匹配或新建人员档案，按离开当日出发地的风险等级和当日施行的防控方案提出管控措施，"
        "并下发到目的网格的网格员待办。返回登记结果与建议措施（类别、分段、日期、检测日），"
        "或未提出措施的原因。输入有误时返回 400 并列出每个有误的字段；目的网格须在管辖范围内。"
    ),
)
def create_arrival(request: HttpRequest, payload: ArrivalIn) -> Any:
    channel = Channel.CHECKPOINT if permissions.is_checkpoint(request.auth) else Channel.GRID_ENTRY
    result = services.arrival_register(
        actor=request.auth, data=payload.model_dump(), channel=channel
    )
    reg = selectors.access_arrival_by_id(viewer=request.auth, arrival_id=result.registration.pk)
    body = arrival_display(
        viewer=request.auth, reg=reg, outcome=result.outcome, today=timeutils.local_today()
    )
    body["task_id"] = result.outcome.task.pk if result.outcome and result.outcome.task else None
    return Status(201, body)


@router.get(
    "/arrivals",
    response=list[ArrivalOut],
    summary="来返人员列表",
    description="您管辖范围内（目的网格）的来返报备，抵达日期新的在前；人员信息按角色脱敏。",
)
@paginate(present=_arrival)
def list_arrivals(request: HttpRequest, filters: Query[ArrivalFilters]) -> Any:
    return selectors.arrival_list(
        viewer=request.auth,
        arrived_from=filters.arrived_from,
        arrived_to=filters.arrived_to,
        origin=filters.origin,
        risk_level=filters.risk_level,
        channel=filters.channel,
        division=filters.division,
    )


@router.get("/arrivals/{arrival_id}", response=ArrivalOut, summary="来返报备详情（脱敏）")
def get_arrival(request: HttpRequest, arrival_id: int) -> Any:
    return _arrival(
        request, selectors.access_arrival_by_id(viewer=request.auth, arrival_id=arrival_id)
    )


# ---------------------------------------------------------------------------------------------
# Assist requests


@router.get(
    "/assist-requests",
    response=list[AssistOut],
    summary="协查函列表",
    description="县指挥部等全县范围的账号可见；其他账号返回空列表。",
)
@paginate(present=lambda request, letter: assist_display(letter))
def list_assist_requests(request: HttpRequest, filters: Query[AssistFilters]) -> Any:
    return selectors.assist_request_list(
        viewer=request.auth, direction=filters.direction, status=filters.status
    )


@router.post(
    "/assist-requests",
    response={201: AssistOut},
    summary="登记收到的协查函",
    description="只有县指挥部（指挥部、系统管理员）可以登记；名单通过导入（assist_list）进入闭环。",
)
def create_assist_request(request: HttpRequest, payload: AssistIn) -> Any:
    letter = services.assist_request_create(
        actor=request.auth, direction=AssistRequest.Direction.INCOMING, **payload.model_dump()
    )
    letter = selectors.access_assist_request_by_id(viewer=request.auth, request_id=letter.pk)
    return Status(201, assist_display(letter))


@router.get("/assist-requests/{request_id}", response=AssistDetailOut, summary="协查函详情（脱敏）")
def get_assist_request(request: HttpRequest, request_id: int) -> Any:
    letter = selectors.access_assist_request_by_id(viewer=request.auth, request_id=request_id)
    entries = selectors.assist_entries(assist_request=letter)
    arrivals = selectors.arrival_list(viewer=request.auth, assist_request_id=letter.pk)
    return {
        **assist_display(letter),
        "entries": [entry_display(viewer=request.auth, entry=e) for e in entries],
        "arrival_ids": list(arrivals.values_list("pk", flat=True)),
    }


@router.get(
    "/assist-requests/{request_id}/letter.docx",
    summary="下载协查函（Word）",
    description=(
        "发出的协查函，含协查人员的完整信息：只有可查看完整信息的角色可以下载（否则 403），"
        "每次下载记入审计。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "Word 文件（.docx），文件名见 Content-Disposition",
                "content": {
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            },
            403: {
                "description": "角色不能查看完整信息",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        }
    },
)
def assist_request_letter(request: HttpRequest, request_id: int) -> HttpResponse:
    letter = selectors.access_assist_request_by_id(viewer=request.auth, request_id=request_id)
    file = services.assist_request_letter(actor=request.auth, assist_request=letter)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response
