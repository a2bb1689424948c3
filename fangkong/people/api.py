"""API: people and households. Everything leaves masked for the viewer's role (person_display);
the only unmasked answer is POST /people/{id}/reveal, which needs a reason and is audited."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core.exceptions import NotFound, ValidationFailed

from .models import Household, IdType, Person, PersonRevision, Relation
from .presenters import household_display, person_display
from .selectors import (
    access_household_by_id,
    access_person_by_id,
    household_list,
    household_members,
    person_history,
    person_list,
)
from .services import (
    household_add_member,
    household_create,
    person_create,
    person_reveal,
    person_update,
)

router = Router(tags=["人员与住户"])

CODE_PATTERN = r"^[0-9]{6,15}$"
SEX_HELP = "性别：M 男，F 女，U 未知（也接受“男”“女”）；有身份证号时由号码推出，填写须一致"
BIRTH_HELP = "出生日期 YYYY-MM-DD；有身份证号时由号码推出，填写须一致"


# ---------------------------------------------------------------------------------------------
# Schemas


class PersonOut(Schema):
    id: int
    name: str = Field(..., description="姓名（按角色脱敏，如 张**）")
    id_type: str = Field(..., description="证件类型")
    id_type_label: str
    id_number: str = Field(..., description="证件号码（脱敏，如 610326**********1X）")
    sex: str = Field(..., description="性别：M/F/U")
    sex_label: str
    birth_year: int | None = Field(None, description="出生年份")
    birth_date: str | None = Field(None, description="出生日期：只在查看完整信息后给出")
    phone: str = Field(..., description="手机号（按角色脱敏，如 138****1234）")
    address: str = Field(..., description="现住址（按角色脱敏）")
    division_code: str = Field(..., description="所属网格代码")
    division_name: str
    household_id: int | None = None
    relation_to_head: str = Field(..., description="与户主关系")
    relation_label: str
    notes: str
    masked: bool = Field(..., description="是否为脱敏后的信息")
    merged_into_id: int | None = None


class PersonIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["name", "division_code"]}
    )

    name: str = Field("", description="姓名（必填）")
    id_type: IdType = Field(IdType.RESIDENT_ID, description="证件类型，默认居民身份证")
    id_number: str | None = Field(
        None, description="证件号码；居民身份证按 GB 11643 校验，15 位旧号自动升级为 18 位"
    )
    phone: str | None = Field(None, description="手机号：11 位，+86/0086 会被去掉")
    division_code: str = Field("", description="所属网格的区划代码（必填，须在管辖范围内）")
    address: str = Field("", description="现住址")
    sex: str | None = Field(None, description=SEX_HELP)
    birth_date: str | None = Field(
        None, description=BIRTH_HELP, json_schema_extra={"format": "date"}
    )
    household_id: int | None = Field(None, description="所属住户编号")
    relation_to_head: str = Field(
        "", description="与户主关系", json_schema_extra={"enum": ["", *Relation.values]}
    )
    notes: str = Field("", description="备注")


class PersonPatch(Schema):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="姓名")
    id_type: IdType | None = Field(None, description="证件类型")
    id_number: str | None = Field(None, description="证件号码")
    phone: str | None = Field(None, description="手机号；空字符串表示清除")
    division_code: str | None = Field(None, description="所属网格的区划代码")
    address: str | None = Field(None, description="现住址")
    sex: str | None = Field(None, description=SEX_HELP)
    birth_date: str | None = Field(
        None, description=BIRTH_HELP, json_schema_extra={"format": "date"}
    )
    household_id: int | None = Field(None, description="所属住户编号；null 表示移出住户")
    relation_to_head: str | None = Field(
        None, description="与户主关系", json_schema_extra={"enum": ["", *Relation.values]}
    )
    notes: str | None = Field(None, description="备注")


class PersonFilters(Schema):
    q: str | None = Field(None, description="姓名开头、证件号码或手机号")
    division: str | None = Field(
        None, pattern=CODE_PATTERN, description="只列出此区划子树内的人员（区划代码）"
    )
    household: int | None = Field(None, ge=1, description="只列出此住户的成员（住户编号）")


class RevealIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["reason"]})

    reason: str = Field("", description="查看完整信息的理由（必填，2–200 字，记入审计）")


class RevisionOut(Schema):
    verb: str = Field(..., description="操作：update 修改，merge 合并")
    verb_label: str
    at: dt.datetime = Field(..., description="时间")
    fields: list[str] = Field(..., description="改动的字段名（不含旧值）")
    merged_id: int | None = Field(None, description="合并时：被并入的人员编号")


class HouseholdOut(Schema):
    id: int
    address: str = Field(..., description="地址（按角色脱敏）")
    division_code: str
    division_name: str
    head_id: int | None = None
    head_name: str = Field(..., description="户主姓名（按角色脱敏）")


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut]


class HouseholdIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["address", "division_code"]}
    )

    address: str = Field("", description="地址（必填）")
    division_code: str = Field("", description="所属小网格的区划代码（必填）")
    head_id: int | None = Field(None, description="户主的人员编号")


class HouseholdFilters(Schema):
    division: str | None = Field(
        None, pattern=CODE_PATTERN, description="只列出此区划子树内的住户（区划代码）"
    )
    q: str | None = Field(None, description="地址包含")


class MemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    person_id: int = Field(..., description="人员编号")
    relation: Relation = Field(..., description="与户主关系")


# ---------------------------------------------------------------------------------------------
# Presenting


def _person(request: HttpRequest, person: Person) -> dict[str, Any]:
    return person_display(viewer=request.auth, person=person)


def _household(request: HttpRequest, household: Household) -> dict[str, Any]:
    return household_display(viewer=request.auth, household=household)


def _household_detail(request: HttpRequest, household: Household) -> dict[str, Any]:
    members = household_members(household=household).select_related("division")
    return {**_household(request, household), "members": [_person(request, p) for p in members]}


_API_FIELD = {"division_id": "division_code"}  # revision keys are model fields


def _revision(request: HttpRequest, revision: PersonRevision) -> dict[str, Any]:
    before = revision.before or {}
    return {
        "verb": revision.verb,
        "verb_label": {"update": _("修改"), "merge": _("合并")}.get(revision.verb, revision.verb),
        "at": revision.at,
        "fields": sorted(_API_FIELD.get(k, k) for k in before if k != "merged_id"),
        "merged_id": before.get("merged_id"),
    }


# ---------------------------------------------------------------------------------------------
# People


@router.get(
    "/people",
    response=list[PersonOut],
    summary="人员列表与搜索",
    description="您管辖范围内的人员（按角色脱敏）。?q= 按姓名开头、证件号码或手机号搜索。",
)
@paginate(present=_person)
def list_people(request: HttpRequest, filters: Query[PersonFilters]) -> Any:
    return person_list(
        viewer=request.auth,
        q=filters.q,
        division=filters.division,
        household_id=filters.household,
    )


@router.post(
    "/people",
    response={201: PersonOut},
    summary="登记人员",
    description="证件号码重复时返回 409；输入有误时返回 400 并列出每个有误的字段。",
)
def create_person(request: HttpRequest, payload: PersonIn) -> Any:
    person = person_create(actor=request.auth, **payload.model_dump())
    return Status(201, _person(request, person))


@router.get("/people/{person_id}", response=PersonOut, summary="人员详情（脱敏）")
def get_person(request: HttpRequest, person_id: int) -> Any:
    return _person(request, access_person_by_id(viewer=request.auth, person_id=person_id))


@router.patch(
    "/people/{person_id}",
    response=PersonOut,
    summary="修改人员",
    description="只修改请求中给出的字段；旧值记入人员修改记录，审计只记字段名。",
)
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> Any:
    person = access_person_by_id(viewer=request.auth, person_id=person_id)
    changes = payload.model_dump(exclude_unset=True)
    person = person_update(actor=request.auth, person=person, changes=changes)
    return _person(request, access_person_by_id(viewer=request.auth, person_id=person.pk))


@router.post(
    "/people/{person_id}/reveal",
    response=PersonOut,
    summary="查看完整信息",
    description="返回未脱敏的人员信息。须填写理由；每次查看都记入审计日志。无权查看的角色返回 403。",
)
def reveal_person(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    person = access_person_by_id(viewer=request.auth, person_id=person_id)
    person = person_reveal(actor=request.auth, person=person, reason=payload.reason)
    return person_display(viewer=request.auth, person=person, revealed=True)


@router.get(
    "/people/{person_id}/history",
    response=list[RevisionOut],
    summary="人员修改记录",
    description="每次修改或合并的操作、时间和改动的字段名（不返回旧值）。",
)
@paginate(present=_revision)
def person_revisions(request: HttpRequest, person_id: int) -> Any:
    person = access_person_by_id(viewer=request.auth, person_id=person_id)
    return person_history(person=person)


# ---------------------------------------------------------------------------------------------
# Households


@router.get(
    "/households",
    response=list[HouseholdOut],
    summary="住户列表",
    description="您管辖范围内的住户（地址与户主姓名按角色脱敏）。",
)
@paginate(present=_household)
def list_households(request: HttpRequest, filters: Query[HouseholdFilters]) -> Any:
    return household_list(viewer=request.auth, division=filters.division, q=filters.q)


@router.post("/households", response={201: HouseholdOut}, summary="登记住户")
def create_household(request: HttpRequest, payload: HouseholdIn) -> Any:
    household = household_create(actor=request.auth, **payload.model_dump())
    return Status(201, _household(request, household))


@router.get(
    "/households/{household_id}", response=HouseholdDetailOut, summary="住户详情及成员（脱敏）"
)
def get_household(request: HttpRequest, household_id: int) -> Any:
    household = access_household_by_id(viewer=request.auth, household_id=household_id)
    return _household_detail(request, household)


@router.post(
    "/households/{household_id}/members",
    response=HouseholdDetailOut,
    summary="加入住户",
    description="把人员加入住户并写明与户主关系；relation 为 head 时此人成为户主。",
)
def add_household_member(request: HttpRequest, household_id: int, payload: MemberIn) -> Any:
    household = access_household_by_id(viewer=request.auth, household_id=household_id)
    try:
        person = access_person_by_id(viewer=request.auth, person_id=payload.person_id)
    except NotFound:
        raise ValidationFailed({"person_id": [_("人员不存在")]}) from None
    household_add_member(
        actor=request.auth, household=household, person=person, relation=payload.relation
    )
    household = access_household_by_id(viewer=request.auth, household_id=household_id)
    return _household_detail(request, household)
