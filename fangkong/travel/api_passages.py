"""API: 过卡登记 (checkpoint passages).

Registering answers 201 with the passage, each occupant (masked by role) and, for flagged
ones, what to do; sending the same idempotency key again answers 200 with the same body and
writes nothing. Lists are scoped by the checkpoint's division and paginated.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict

from fangkong.core import timeutils
from fangkong.core.exceptions import ValidationFailed
from fangkong.people.api import PersonOut
from fangkong.people.models import IdType

from . import passage_rules, selectors_passages, services_passages
from .models import CheckpointPassage
from .presenters_passages import passage_display

router = Router(tags=["过卡登记"])

# The passage schemas are plain pydantic models, not ninja Schemas: a Schema reads every value
# through Django's attribute resolution (DjangoGetter), which cost a barrier registration more
# than its SQL. They are given and return dicts, so nothing needs resolving.


class PassageOccupantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="姓名（必填）")
    id_type: IdType = Field(IdType.RESIDENT_ID, description="证件类型，默认居民身份证")
    id_number: str = Field("", description="证件号码（必填）；居民身份证按 GB 11643 校验")
    phone: str = Field("", description="手机号（必填）：11 位")
    temperature: str = Field("", description="体温（℃，34–43），如 36.5；≥37.3 为发热")


class PassageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: str = Field(
        "in",
        description="方向：in 进入，out 离开",
        json_schema_extra={"enum": list(CheckpointPassage.Direction.values)},
    )
    plate: str = Field("", description="车牌号（GA 36，含新能源号牌）；车辆类型为“步行”时不填")
    vehicle_type: str = Field(
        "",
        description="车辆类型",
        json_schema_extra={"enum": list(passage_rules.VEHICLE_TYPES)},
    )
    origin_code: str = Field("", description="来源地区划代码（GB/T 2260）；进入时必填")
    destination_code: str = Field("", description="目的小网格代码（15 位）；离开或过境时不填")
    destination_address: str = Field("", description="目的地址；填写目的网格时必填")
    purpose: str = Field("", description="事由")
    occupants: list[PassageOccupantIn] = Field(..., description="驾乘人员，至少一人")
    idempotency_key: str = Field(
        "",
        description="幂等键（每次登记唯一，如 UUID）；也可放在 Idempotency-Key 请求头。"
        "重发同一键返回首次的登记结果，不重复登记",
    )


class PassageOccupantOut(BaseModel):
    seq: int = Field(..., description="序号")
    name: str = Field(..., description="姓名（按角色脱敏）")
    id_type: str
    id_number: str = Field(..., description="证件号码（脱敏）")
    phone: str = Field(..., description="手机号（按角色脱敏）")
    temperature: str = Field(..., description="体温（℃）")
    risk_level: str = Field(
        ..., description="来源地过卡当日风险等级：high/medium/low，空为非风险地区"
    )
    flag: str = Field(
        ..., description="提示：risk_area 来自风险地区，fever 发热，both 两者皆有，空为无"
    )
    flag_label: str
    actions: list[str] = Field(..., description="处置要求")
    person: PersonOut | None = Field(None, description="匹配到的人员档案（按角色脱敏）")
    arrival_id: int | None = Field(None, description="自动生成的来返报备编号（推送目的网格）")


class PassageOut(BaseModel):
    id: int
    checkpoint_id: int
    checkpoint_name: str
    direction: str
    direction_label: str
    plate: str
    vehicle_type: str
    origin_code: str
    origin_name: str
    destination_code: str
    destination_name: str
    destination_address: str = Field(..., description="目的地址（按角色脱敏）")
    purpose: str
    passed_at: dt.datetime
    flagged: bool = Field(..., description="有需处置人员")
    handover: str = Field(
        ...,
        description="需处置人员转入闭环：pending 待转入（闭环后台约一秒内完成），done 已转入，"
        "failed 转入失败（见 handover_error），空为无需转入",
    )
    handover_label: str
    handover_error: str = Field(..., description="转入失败的原因")
    occupants: list[PassageOccupantOut]


class PassageFilters(Schema):
    checkpoint_id: int | None = Field(None, description="卡口编号")
    date: dt.date | None = Field(None, description="过卡日期 YYYY-MM-DD（县所在时区）")
    flagged: bool | None = Field(None, description="true 只看有需处置人员的登记")


class PassageCountRowOut(Schema):
    checkpoint_id: int
    name: str = Field(..., description="卡口名称")
    counts: list[int] = Field(..., description="0–23 时各小时的过卡车次")
    people: int = Field(..., description="人数")
    flagged: int = Field(..., description="有需处置人员的车次")
    total: int


class PassageCountsOut(Schema):
    date: dt.date
    hours: list[int]
    rows: list[PassageCountRowOut]
    totals: list[int] = Field(..., description="各小时合计")
    total: int


def _present(request: HttpRequest, passage: CheckpointPassage) -> dict[str, Any]:
    return passage_display(viewer=request.auth, passage=passage)


@router.post(
    "/checkpoints/{checkpoint_id}/passages",
    response={200: PassageOut, 201: PassageOut},
    summary="过卡登记",
    description=(
        "登记一辆车（或步行人员）及其驾乘人员。来自风险地区（过卡当日）或体温≥37.3℃的人员"
        "标红并给出处置要求；进入且填写目的网格的，由闭环后台（约一秒内）自动生成来返报备并"
        "推送目的网格网格员待办（handover 字段示其状态，arrival_id 在转入后可见）。"
        "新登记返回 201；以同一幂等键重发返回 200 与首次相同的内容，不重复登记。"
        "输入有误时返回 400，字段路径如 occupants[1].temperature。"
    ),
)
def register_passage(request: HttpRequest, checkpoint_id: int, payload: PassageIn) -> Any:
    checkpoint = selectors_passages.access_checkpoint_for_passages(
        viewer=request.auth, checkpoint_id=checkpoint_id
    )
    data = payload.model_dump()
    header = request.headers.get("Idempotency-Key", "")
    body_key = data.pop("idempotency_key", "")
    if header and body_key and header != body_key:
        raise ValidationFailed({"idempotency_key": [_("请求头与请求体中的幂等键不一致")]})
    result = services_passages.passage_register(
        actor=request.auth,
        checkpoint=checkpoint,
        data=data,
        idempotency_key=body_key or header,
    )
    if result.created:  # drawn from what was just written: no second read
        body = passage_display(
            viewer=request.auth, passage=result.passage, occupants=result.occupants
        )
        return Status(201, body)
    passage = selectors_passages.access_passage_by_id(
        viewer=request.auth, passage_id=result.passage.pk
    )
    return Status(200, _present(request, passage))


@router.get(
    "/passages",
    response=list[PassageOut],
    summary="过卡登记列表",
    description="您管辖范围内卡口的过卡登记，新的在前；人员信息按角色脱敏。",
)
@paginate(present=_present)
def list_passages(request: HttpRequest, filters: Query[PassageFilters]) -> Any:
    return selectors_passages.passage_list(
        viewer=request.auth,
        checkpoint_id=filters.checkpoint_id,
        date=filters.date,
        flagged=filters.flagged,
    )


@router.get(
    "/passages/counts",
    response=PassageCountsOut,
    summary="各卡口分时段过卡车次",
    description="某日（默认今天）各卡口每小时的过卡车次、人数与需处置车次。",
)
def passage_counts(
    request: HttpRequest, date: dt.date | None = None, checkpoint_id: int | None = None
) -> Any:
    return selectors_passages.passage_counts(
        viewer=request.auth, date=date or timeutils.local_today(), checkpoint_id=checkpoint_id
    )


@router.get("/passages/{passage_id}", response=PassageOut, summary="过卡登记详情（脱敏）")
def get_passage(request: HttpRequest, passage_id: int) -> Any:
    return _present(
        request, selectors_passages.access_passage_by_id(viewer=request.auth, passage_id=passage_id)
    )
