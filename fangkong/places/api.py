"""API: the place registry (重点场所) and its venue-code posters, and the county's stay rules.

Places: COMMANDER/ADMIN, TOWN_OFFICER, VILLAGE_OFFICER and INSPECTOR register and edit them within
their scope (403 for other roles); everyone reads the places in their scope; out of scope is 404.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from . import posters
from .models import PlaceKind
from .presenters import place_display
from .selectors_places import access_place_by_id, place_list, stay_rule_table
from .services_places import place_close, place_create, place_reopen, place_update, stay_rules_set

router = Router(tags=["重点场所"])

CODE_PATTERN = r"^[0-9]{6,15}$"
KIND_HELP = "场所类型：" + "，".join(f"{v} {label}" for v, label in PlaceKind.choices)


class PlaceOut(Schema):
    id: int
    code: str = Field(
        ..., description="场所码（8 位，印在海报上，扫码打开公开登记页 /v/<场所码>/）"
    )
    name: str = Field(..., description="场所名称")
    kind: str = Field(..., description=KIND_HELP)
    kind_label: str
    division_code: str = Field(..., description="所属区划代码")
    division_name: str
    address: str = Field(..., description="地址")
    person_in_charge: str = Field(..., description="负责人（无登记修改权限的角色看到脱敏姓名）")
    contact_phone: str = Field(..., description="联系电话（无登记修改权限的角色看到脱敏号码）")
    active: bool = Field(..., description="营业中；已关闭的场所拒绝扫码登记")
    created_at: dt.datetime
    updated_at: dt.datetime


class PlaceIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"required": ["name", "kind", "division_code", "address"]},
    )

    name: str = Field("", description="场所名称（必填，2–200 字）")
    kind: str = Field("", description=KIND_HELP, json_schema_extra={"enum": PlaceKind.values})
    division_code: str = Field("", description="所属区划代码（必填，须在管辖范围内）")
    address: str = Field("", description="地址（必填）")
    person_in_charge: str = Field("", description="负责人")
    contact_phone: str = Field("", description="联系电话：11 位手机号或带区号的固定电话")


class PlacePatch(Schema):
    """Only the fields sent are changed; the venue code never changes."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="场所名称")
    kind: str | None = Field(None, description=KIND_HELP)
    division_code: str | None = Field(None, description="所属区划代码")
    address: str | None = Field(None, description="地址")
    person_in_charge: str | None = Field(None, description="负责人")
    contact_phone: str | None = Field(None, description="联系电话；空字符串表示清除")


class PlaceFilters(Schema):
    q: str | None = Field(None, description="名称或地址包含，或场所码")
    kind: PlaceKind | None = Field(None, description="场所类型")
    division: str | None = Field(
        None, pattern=CODE_PATTERN, description="只列出此区划子树内的场所（区划代码）"
    )
    active: bool | None = Field(None, description="true 只列营业中，false 只列已关闭")


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", description="关闭原因（可选，记入审计）")
    reopen: bool = Field(False, description="true：恢复营业（重新接受扫码登记）")


class StayRuleOut(Schema):
    kind: str = Field(..., description="场所类型")
    kind_label: str
    stay_minutes: int = Field(..., description="默认停留（分钟）：未扫码离开时按此推定离开时间")
    cap_minutes: int = Field(..., description="最长推定停留（分钟）")
    default_stay_minutes: int = Field(..., description="系统默认的停留")
    default_cap_minutes: int = Field(..., description="系统默认的最长推定停留")
    is_default: bool = Field(..., description="未经本县调整，使用系统默认值")
    updated_at: dt.datetime | None = None


class StayRuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: PlaceKind = Field(..., description="场所类型")
    stay_minutes: int = Field(..., description="默认停留（分钟，1–10080）")
    cap_minutes: int = Field(..., description="最长推定停留（分钟，不短于默认停留，最长 10080）")


def _place(request: HttpRequest, place: Any) -> dict[str, Any]:
    return place_display(viewer=request.auth, place=place)


def _file_responses(content_type: str, text: str) -> dict[str, Any]:
    return {
        "responses": {
            200: {
                "description": text,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


@router.get(
    "/places",
    response=list[PlaceOut],
    summary="重点场所列表",
    description="您管辖范围内的重点场所；可按类型、区划、状态筛选，?q= 按名称、地址或场所码查找。",
)
@paginate(present=_place)
def list_places(request: HttpRequest, filters: Query[PlaceFilters]) -> Any:
    return place_list(
        viewer=request.auth,
        kind=filters.kind,
        division=filters.division,
        q=filters.q,
        active=filters.active,
    )


@router.post(
    "/places",
    response={201: PlaceOut},
    summary="登记重点场所",
    description="生成 8 位场所码。输入有误时返回 400 并列出每个有误的字段；无权登记的角色返回 403。",
)
def create_place(request: HttpRequest, payload: PlaceIn) -> Any:
    place = place_create(actor=request.auth, **payload.model_dump())
    return Status(201, _place(request, place))


@router.get(
    "/places/stay-rules",
    response=list[StayRuleOut],
    summary="停留时长规则",
    description="每种场所的推定停留与上限（分钟）：本县调整过的规则，未调整的为系统默认值。",
)
def get_stay_rules(request: HttpRequest) -> Any:
    return stay_rule_table()


@router.put(
    "/places/stay-rules",
    response=list[StayRuleOut],
    summary="修改停留时长规则",
    description=(
        "只有县指挥部和系统管理员可以修改（否则 403）。给出的规则一起保存；"
        "任一条有误时全部不保存，错误键为“场所类型.字段”。"
    ),
)
def put_stay_rules(request: HttpRequest, payload: list[StayRuleIn]) -> Any:
    stay_rules_set(actor=request.auth, rules=[r.model_dump(mode="json") for r in payload])
    return stay_rule_table()


@router.get("/places/{place_id}", response=PlaceOut, summary="重点场所详情")
def get_place(request: HttpRequest, place_id: int) -> Any:
    return _place(request, access_place_by_id(viewer=request.auth, place_id=place_id))


@router.patch(
    "/places/{place_id}",
    response=PlaceOut,
    summary="修改重点场所",
    description="只修改请求中给出的字段；场所码不变（已张贴的海报继续有效）。",
)
def update_place(request: HttpRequest, place_id: int, payload: PlacePatch) -> Any:
    place = access_place_by_id(viewer=request.auth, place_id=place_id)
    changes = payload.model_dump(exclude_unset=True)
    place_update(actor=request.auth, place=place, changes=changes)
    return _place(request, access_place_by_id(viewer=request.auth, place_id=place_id))


@router.post(
    "/places/{place_id}/close",
    response=PlaceOut,
    summary="关闭（或恢复）重点场所",
    description="关闭后该场所的扫码登记被拒绝；reopen=true 恢复营业。",
)
def close_place(request: HttpRequest, place_id: int, payload: CloseIn) -> Any:
    place = access_place_by_id(viewer=request.auth, place_id=place_id)
    if payload.reopen:
        place_reopen(actor=request.auth, place=place, reason=payload.reason)
    else:
        place_close(actor=request.auth, place=place, reason=payload.reason)
    return _place(request, access_place_by_id(viewer=request.auth, place_id=place_id))


@router.get(
    "/places/{place_id}/poster.pdf",
    summary="场所码海报（PDF）",
    description="A4 海报：场所名称、场所码二维码（打开公开登记页）与扫码说明。",
    openapi_extra=_file_responses("application/pdf", "PDF 文件，文件名见 Content-Disposition"),
)
def place_poster_pdf(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place_by_id(viewer=request.auth, place_id=place_id)
    url = posters.checkin_url(code=place.code, request=request)
    response = HttpResponse(posters.poster_pdf(place, url=url), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, posters.poster_filename(place, "pdf")
    )
    return response


@router.get(
    "/places/{place_id}/poster.png",
    summary="场所码海报（PNG）",
    description="与 PDF 相同内容的图片（A4，150 dpi），便于在手机和工作群中转发。",
    openapi_extra=_file_responses("image/png", "PNG 图片，文件名见 Content-Disposition"),
)
def place_poster_png(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place_by_id(viewer=request.auth, place_id=place_id)
    url = posters.checkin_url(code=place.code, request=request)
    response = HttpResponse(posters.poster_png(place, url=url), content_type="image/png")
    response["Content-Disposition"] = content_disposition_header(
        True, posters.poster_filename(place, "png")
    )
    return response
