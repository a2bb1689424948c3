"""API: the contacts of a case (密切接触者): candidates with evidence, decisions, secondaries.

* GET  /cases/{id}/contact-candidates  runs the candidate engine first (writers: epidemiologist,
  HQ, admin; a leader gets the stored candidates without a refresh), then lists the candidates.
* POST /cases/{id}/contacts            one endpoint, two shapes:
    - without `contact_id`: add a contact by hand (name, id_type, id_number required; with a
      decided `status` it is decided at once and needs `reason`) -> 201;
    - with `contact_id` (a contact of this case): decide it (`status` close / general /
      not_contact, `reason` required) -> 200. Deciding again -> 409 "已判定".
  A close decision puts the person into the loop: a control order for a person living in a
  small grid of the county, or an entry on the outgoing assist letter (`outside_code`).
* GET  /cases/{id}/contacts            every contact of the case (optional `status` filter).
* POST /contacts/{id}/coworkers        co-workers declared by a close contact.
* POST /contacts/{id}/secondaries      propose the close contact's household and co-workers as
  secondary contacts (only under editions that have them; otherwise 409 with the reason).

People leave masked for the viewer's role (ID numbers always masked); evidence holds ids and
times plus the same evidence in words.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from fangkong.core.exceptions import NotFound
from fangkong.core.masking import mask_id_number

from . import selectors, selectors_contacts, services_contacts
from .models import Contact
from .permissions import can_write

router = Router(tags=["密切接触者"])


class ContactOut(Schema):
    id: int
    name: str = Field(..., description="姓名（按角色脱敏）")
    id_type: str
    id_number: str = Field(..., description="证件号码（脱敏）")
    phone: str = Field(..., description="手机号（按角色脱敏）")
    degree: int = Field(..., description="1 接触者；2 密接的密接")
    via_id: int | None = Field(None, description="经由的密接（degree 2）")
    status: str = Field(
        ..., description="candidate 待判定，close 密接，general 一般接触者，not_contact 非接触者"
    )
    status_label: str
    evidence_kind: str = Field(
        ..., description="最强的依据：household/checkin/vehicle/transport/coworker/manual"
    )
    evidence_label: str
    evidence_words: list[str] = Field(
        ..., description="依据（文字：场所和时段、车牌、车次航班和座位）"
    )
    evidence: dict[str, Any] = Field(..., description="依据详情（只含编号和时间）")
    setting: str
    setting_label: str
    last_exposure_at: str | None = Field(None, description="末次暴露时间")
    reason: str
    decided_at: str | None = None
    order_id: int | None = Field(None, description="管控措施（县内）")
    assist_entry_id: int | None = Field(None, description="协查函条目（县外）")
    assist_request_id: int | None = Field(None, description="协查函")
    outside_code: str
    division_code: str


class ContactCandidatesOut(Schema):
    refreshed: bool = Field(..., description="本次是否重新查找")
    found: int | None = None
    added: int | None = None
    items: list[ContactOut]


class ContactIn(Schema):
    contact_id: int | None = Field(None, description="填写时为判定该接触者；不填为人工添加")
    status: str = Field("candidate", description="candidate / close / general / not_contact")
    reason: str = Field("", description="判定理由（判定时必填）")
    name: str = Field("", description="姓名（人工添加时必填）")
    id_type: str = Field("resident_id", description="证件类型")
    id_number: str = Field("", description="证件号码（人工添加时必填）")
    phone: str = ""
    setting: str | None = Field(None, description="接触场景")
    last_exposure_at: dt.datetime | None = Field(None, description="末次暴露时间（ISO 8601）")
    division_code: str = Field("", description="现住小网格代码（未登记人员）")
    outside_code: str = Field("", description="县外住址区划代码（县外人员）")


class ContactFilters(Schema):
    status: str | None = None


class ContactCoworkerIn(Schema):
    name: str
    id_type: str = "resident_id"
    id_number: str
    phone: str = ""


class ContactCoworkersIn(Schema):
    rows: list[ContactCoworkerIn]


class ContactCoworkerOut(Schema):
    id: int
    name: str
    id_number: str = Field(..., description="证件号码（脱敏）")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _out(viewer: Any, contacts: list[Contact]) -> list[dict[str, Any]]:
    rows = selectors_contacts.contact_rows(viewer=viewer, contacts=contacts)
    for row, contact in zip(rows, contacts, strict=True):
        row["evidence"] = contact.evidence or {}
    return rows


def _one(viewer: Any, contact_id: int) -> dict[str, Any]:
    contact = selectors.access_contact_by_id(viewer=viewer, contact_id=contact_id)
    qs = selectors_contacts.contact_list(viewer=viewer, case=contact.case).filter(pk=contact.pk)
    return _out(viewer, list(qs))[0]


@router.get(
    "/cases/{case_id}/contact-candidates",
    response=ContactCandidatesOut,
    summary="查找并列出候选接触者",
    description="按病例的追溯期重新查找（同住、场所码同时段、同车过卡、同乘交通工具），"
    "新增候选、刷新依据（已判定的不改判定），然后列出待判定的候选及其依据。"
    "县领导只读：不重新查找。",
)
def contact_candidates(request: HttpRequest, case_id: int) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    counts = None
    if can_write(request.auth):
        counts = services_contacts.candidates_refresh(actor=request.auth, case=case)
    qs = selectors_contacts.contact_list(
        viewer=request.auth, case=case, status=Contact.Status.CANDIDATE
    )
    return {
        "refreshed": counts is not None,
        "found": counts["found"] if counts else None,
        "added": counts["added"] if counts else None,
        "items": _out(request.auth, list(qs)),
    }


@router.post(
    "/cases/{case_id}/contacts",
    response={200: ContactOut, 201: ContactOut},
    summary="人工添加或判定接触者",
    description="不带 contact_id：人工添加（姓名、证件必填；status 为判定结果时同时判定，须填理由），"
    "返回 201。带 contact_id：判定该接触者（status 为 close/general/not_contact，reason 必填），"
    "返回 200；已判定的再判定返回 409。判定为密接：县内人员提出管控措施并下发网格员，"
    "县外人员（outside_code）列入协查函。",
)
def contact_add_or_decide(request: HttpRequest, case_id: int, payload: ContactIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    exposure = _aware(payload.last_exposure_at)
    if payload.contact_id is not None:
        contact = selectors.access_contact_by_id(viewer=request.auth, contact_id=payload.contact_id)
        if contact.case_id != case.pk:
            raise NotFound(_("接触者不存在。"))
        decided = services_contacts.contact_decide(
            actor=request.auth,
            contact=contact,
            status=payload.status,
            reason=payload.reason,
            setting=payload.setting,
            last_exposure_at=exposure,
            division_code=payload.division_code.strip(),
            outside_code=payload.outside_code.strip(),
        )
        return Status(200, _one(request.auth, decided.pk))
    created = services_contacts.contact_add_manual(
        actor=request.auth,
        case=case,
        name=payload.name,
        id_type=payload.id_type,
        id_number=payload.id_number,
        phone=payload.phone,
        setting=payload.setting or Contact.Setting.OTHER,
        last_exposure_at=exposure,
        status=payload.status,
        reason=payload.reason,
        division_code=payload.division_code.strip(),
        outside_code=payload.outside_code.strip(),
    )
    return Status(201, _one(request.auth, created.pk))


@router.get(
    "/cases/{case_id}/contacts",
    response=list[ContactOut],
    summary="病例的接触者",
    description="病例的全部接触者（候选、密接、一般接触者、非接触者、密接的密接），可按 status 筛选。",
)
def contact_list(request: HttpRequest, case_id: int, filters: Query[ContactFilters]) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    qs = selectors_contacts.contact_list(viewer=request.auth, case=case, status=filters.status)
    return _out(request.auth, list(qs))


@router.post(
    "/contacts/{contact_id}/coworkers",
    response={201: list[ContactCoworkerOut]},
    summary="登记密接申报的同事",
    description="只有已判定的密接可以申报；有误的行按 rows.<行号>.<字段> 列出，全部不登记。",
)
def contact_coworkers(request: HttpRequest, contact_id: int, payload: ContactCoworkersIn) -> Any:
    contact = selectors.access_contact_by_id(viewer=request.auth, contact_id=contact_id)
    added = services_contacts.coworker_declare(
        actor=request.auth, contact=contact, rows=[r.model_dump() for r in payload.rows]
    )
    return Status(
        201,
        [{"id": w.pk, "name": w.name, "id_number": mask_id_number(w.id_number)} for w in added],
    )


@router.post(
    "/contacts/{contact_id}/secondaries",
    response={201: list[ContactOut]},
    summary="推送密接的密接",
    description="把密接的同住家庭成员和申报的同事作为密接的密接候选；只在有该类别的防控方案下"
    "（以密接末次暴露日施行的方案为准），否则返回 409 并说明原因。",
)
def contact_secondaries(request: HttpRequest, contact_id: int) -> Any:
    contact = selectors.access_contact_by_id(viewer=request.auth, contact_id=contact_id)
    new = services_contacts.secondaries_propose(actor=request.auth, contact=contact)
    qs = selectors_contacts.contact_list(viewer=request.auth, case=contact.case).filter(
        pk__in=[c.pk for c in new]
    )
    return Status(201, _out(request.auth, list(qs)))
