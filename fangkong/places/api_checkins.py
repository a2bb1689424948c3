"""API: venue-code check-ins. The venue-code platform posts them (single or in batches of up
to 1,000) with the API token of a COMMANDER/ADMIN account; COMMANDER, EPIDEMIOLOGIST and ADMIN
read them (whereabouts are sensitive), scoped by the place's division, masked by role."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.masking import mask_id_number, mask_name, mask_phone

from .models import CheckIn
from .selectors_checkins import access_checkin_by_id, can_record_checkins, checkin_list
from .services_checkins import MAX_BATCH, checkin_checkout, checkin_record_bulk

router = Router(tags=["场所码登记"])


# The two request bodies are plain pydantic models, not ninja Schemas: a Schema runs a Python
# validator (ninja's DjangoGetter wrap) for every item, which was most of the cost of parsing a
# batch of 1,000; these are validated in pydantic-core alone. Same fields, same errors.
class CheckInIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["place_code", "name", "id_number"]}
    )

    place_code: str = Field("", description="场所码（必填）")
    name: str = Field("", description="姓名（必填）")
    id_type: str = Field("resident_id", description="证件类型，默认 resident_id 居民身份证")
    id_number: str = Field("", description="证件号码（必填）；居民身份证按 GB 11643 校验")
    phone: str | None = Field(None, description="手机号（可选）")
    checked_in_at: str | None = Field(None, description="进入时间（ISO 8601），默认当前时间")
    checked_out_at: str | None = Field(
        None, description="离开时间（可选，不得早于进入时间）；不填则按场所类型推定"
    )
    idempotency_key: str | None = Field(
        None, max_length=64, description="幂等键（可选）：重试时带同一值不会重复登记"
    )
    room: str | None = Field(None, description="房间号（旅店住宿登记）")
    source: str = Field("api", description="来源：api 扫码平台推送，hotel 旅店住宿登记")


class CheckInBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CheckInIn] = Field(..., description=f"登记记录，一次最多 {MAX_BATCH} 条")


class CheckInRowErrorOut(Schema):
    index: int = Field(..., description="出错记录在 items 中的序号（从 0 起）")
    errors: dict[str, list[str]] = Field(..., description="字段 -> 错误说明")


class BulkOut(Schema):
    created: int = Field(..., description="新登记条数")
    duplicates: int = Field(..., description="已登记过（幂等键相同）的条数")
    errors: list[CheckInRowErrorOut] = Field(..., description="有误的记录（未保存）")


class CheckInOut(Schema):
    id: int
    place_id: int
    place_code: str
    place_name: str
    name: str = Field(..., description="姓名（按角色脱敏）")
    id_type: str
    id_number: str = Field(..., description="证件号码（脱敏）")
    phone: str = Field(..., description="手机号（按角色脱敏）")
    person_id: int | None = Field(None, description="已匹配的人员编号")
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime
    out_imputed: bool = Field(..., description="离开时间是否为推定")
    source: str
    room: str


class CheckInFilters(Schema):
    place_id: int | None = Field(None, ge=1, description="场所编号")
    id_number: str | None = Field(None, description="证件号码（完整号码）")
    since: dt.datetime | None = Field(None, alias="from", description="时段开始（与之重叠的停留）")
    until: dt.datetime | None = Field(None, alias="to", description="时段结束")


class CheckoutIn(Schema):
    model_config = ConfigDict(extra="forbid")

    checked_out_at: str | None = Field(None, description="离开时间（ISO 8601），默认当前时间")


def _checkin(request: HttpRequest, checkin: CheckIn) -> dict[str, Any]:
    policy = policy_for(request.auth)
    return {
        "id": checkin.pk,
        "place_id": checkin.place_id,
        "place_code": checkin.place.code,
        "place_name": checkin.place.name,
        "name": checkin.name if policy.name == FULL else mask_name(checkin.name),
        "id_type": checkin.id_type,
        "id_number": mask_id_number(checkin.id_number),
        "phone": checkin.phone if policy.phone == FULL else mask_phone(checkin.phone),
        "person_id": checkin.person_id,
        "checked_in_at": checkin.checked_in_at,
        "checked_out_at": checkin.checked_out_at,
        "out_imputed": checkin.out_imputed,
        "source": checkin.source,
        "room": checkin.room,
    }


def _require_writer(request: HttpRequest) -> None:
    if not can_record_checkins(viewer=request.auth):
        raise Forbidden(_("只有县指挥部和系统管理员的账号可以提交场所码登记"))


@router.post(
    "/checkins",
    response={200: BulkOut, 201: BulkOut},
    summary="提交场所码登记（单条或批量）",
    description='单条对象，或 {"items": [...]} 批量（最多 1000 条）。好的记录保存，有误的记录'
    "按序号列出；有新登记时返回 201。单条有误时返回 400。",
)
def create_checkins(request: HttpRequest, payload: CheckInBatchIn | CheckInIn) -> Any:
    _require_writer(request)
    single = isinstance(payload, CheckInIn)
    rows = [payload.model_dump()] if single else payload.model_dump()["items"]
    outcome = checkin_record_bulk(actor=request.auth, rows=rows, source="api")
    if single and outcome.errors:
        raise ValidationFailed(outcome.errors[0][1])
    body = {
        "created": outcome.created,
        "duplicates": outcome.duplicates,
        "errors": [{"index": i, "errors": e} for i, e in outcome.errors],
    }
    return (201 if outcome.created else 200), body


@router.get(
    "/checkins",
    response=list[CheckInOut],
    summary="场所码登记记录（指挥部、流调人员、管理员）",
)
@paginate(present=_checkin)
def list_checkins(request: HttpRequest, filters: Query[CheckInFilters]) -> Any:
    return checkin_list(
        viewer=request.auth,
        place_id=filters.place_id,
        id_number=filters.id_number,
        since=filters.since,
        until=filters.until,
    )


@router.post(
    "/checkins/{checkin_id}/checkout",
    response=CheckInOut,
    summary="登记离开（扫码离场）",
    description='请求体 {} 表示现在离开，或 {"checked_out_at": "..."}。',
)
def checkout_checkin(request: HttpRequest, checkin_id: int, payload: CheckoutIn) -> Any:
    _require_writer(request)
    checkin = access_checkin_by_id(viewer=request.auth, checkin_id=checkin_id)
    checkin = checkin_checkout(actor=request.auth, checkin=checkin, at=payload.checked_out_at)
    return _checkin(request, checkin)
