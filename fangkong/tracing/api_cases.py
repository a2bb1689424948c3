"""API: cases, clusters, timelines and the Word investigation report (病例与流调).

Cases are read through the scoped selectors (out of scope answers 404 like missing); the
person leaves masked for the viewer's role (people.presenters). Writes go through
services_cases, which check the role and validate field by field (400 with `errors`).
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core.exceptions import ValidationFailed
from fangkong.people.api import PersonOut
from fangkong.people.models import IdType
from fangkong.people.presenters import person_display

from . import report, selectors, selectors_cases, services_cases
from .models import Case, CaseSource, Classification, Cluster, Outcome, TimelineEntry

router = Router(tags=["病例与流调"])

DATE_HELP = "日期 YYYY-MM-DD"


# ---------------------------------------------------------------------------------------------
# Schemas


class CaseOut(Schema):
    id: int
    code: str = Field(..., description="病例编号，如 眉病〔2026〕1号")
    person: PersonOut
    classification: str = Field(
        ..., description="分类：suspected 疑似，confirmed 确诊，asymptomatic 无症状"
    )
    classification_label: str
    onset_date: dt.date | None = None
    sampling_date: dt.date | None = None
    report_date: dt.date
    last_negative_on: dt.date | None = Field(None, description="末次阴性采样日期")
    isolated_on: dt.date | None = None
    source: str
    source_label: str
    treated_at: str
    outcome: str
    outcome_label: str
    cluster_id: int | None = None
    infected_by_id: int | None = None
    notes: str
    investigation_id: int
    investigation_status: str = Field(..., description="流调状态：open 进行中，closed 已完成")
    team_id: int | None = None
    investigator_id: int | None = None
    conclusions: str


class CaseIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["classification", "report_date"]}
    )

    person_id: int | None = Field(None, description="已有人员档案编号（与证件号码二选一）")
    name: str = Field("", description="姓名（按证件号码登记时必填）")
    id_type: IdType = Field(IdType.RESIDENT_ID, description="证件类型")
    id_number: str = Field("", description="证件号码：找到已有档案，或在 division_code 网格新建")
    phone: str = Field("", description="手机号")
    division_code: str = Field("", description="新建人员时所属小网格代码")
    classification: str = Field(
        "", description="分类", json_schema_extra={"enum": list(Classification.values)}
    )
    source: str = Field(
        CaseSource.LOCAL, description="来源", json_schema_extra={"enum": list(CaseSource.values)}
    )
    report_date: str = Field("", description=f"报告日期（{DATE_HELP}），不能晚于今天")
    onset_date: str = Field("", description=f"发病日期（{DATE_HELP}），不能晚于报告日期")
    sampling_date: str = Field("", description=f"采样日期（{DATE_HELP}）")
    last_negative_on: str = Field("", description=f"末次阴性采样日期（{DATE_HELP}）")
    isolated_on: str = Field("", description=f"隔离管控日期（{DATE_HELP}）")
    treated_at: str = Field("", description="救治地点")
    cluster_id: int | None = Field(None, description="聚集性疫情编号")
    infected_by_id: int | None = Field(None, description="传染来源病例编号")
    notes: str = Field("", description="备注")


class CasePatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    onset_date: str | None = Field(None, description=DATE_HELP)
    sampling_date: str | None = Field(None, description=DATE_HELP)
    report_date: str | None = Field(None, description=DATE_HELP)
    last_negative_on: str | None = Field(None, description=DATE_HELP)
    isolated_on: str | None = Field(None, description=DATE_HELP)
    source: str | None = Field(None, json_schema_extra={"enum": list(CaseSource.values)})
    outcome: str | None = Field(None, json_schema_extra={"enum": list(Outcome.values)})
    treated_at: str | None = None
    notes: str | None = None
    infected_by_id: int | None = Field(None, description="传染来源病例编号")


class CaseReclassifyIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["classification", "reason"]}
    )

    classification: str = Field(
        "", description="新分类", json_schema_extra={"enum": list(Classification.values)}
    )
    reason: str = Field("", description="订正原因（必填）")


class CaseFilters(Schema):
    classification: str | None = Field(
        None, description="分类", json_schema_extra={"enum": list(Classification.values)}
    )
    cluster: int | None = Field(None, description="聚集性疫情编号")
    date_from: dt.date | None = Field(None, description="报告日期自")
    date_to: dt.date | None = Field(None, description="报告日期至")
    q: str | None = Field(None, description="病例编号、姓名（前缀）或证件号码")


class ClusterOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    description: str
    division_code: str | None = None
    case_count: int = Field(..., description="您可见的病例数")


class ClusterIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["name"]})

    name: str = Field("", description="名称（必填）")
    kind: str = Field(
        Cluster.Kind.OTHER,
        description="类型",
        json_schema_extra={"enum": list(Cluster.Kind.values)},
    )
    description: str = ""
    division_code: str = Field("", description="所在区划代码")


class ClusterPatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="名称")
    kind: str | None = Field(None, json_schema_extra={"enum": list(Cluster.Kind.values)})
    description: str | None = None
    division_code: str | None = Field(None, description="所在区划代码")


class CaseClusterIn(Schema):
    model_config = ConfigDict(extra="forbid")

    cluster_id: int | None = Field(None, description="聚集性疫情编号；null 表示移出聚集性疫情")


class CaseInvestigationOut(Schema):
    id: int
    case_id: int
    team_id: int | None = None
    team_name: str
    investigator_id: int | None = None
    investigator_name: str
    status: str = Field(..., description="open 进行中，closed 已完成")
    conclusions: str
    closed_at: dt.datetime | None = None


class CaseInvestigationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    team_id: int | None = Field(None, description="流调小组编号（与 investigator_id 一起指派）")
    investigator_id: int | None = Field(None, description="流调人员账号编号")
    conclusions: str | None = Field(None, description="流调结论；填写后与 close 一起保存")
    close: bool = Field(True, description="填写结论时：true 完成流调，false 保持进行中")


class CaseTeamOut(Schema):
    id: int
    name: str
    leader_id: int | None = None
    member_ids: list[int]
    active: bool


class CaseTeamIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["name"]})

    name: str = Field("", description="小组名称（必填）")
    leader_id: int | None = Field(None, description="组长账号编号")
    member_ids: list[int] = Field(default_factory=list, description="组员账号编号")


class TimelineOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    place_id: int | None = None
    location: str
    activity: str
    people_met: str
    source: str = Field(
        ..., description="reported 本人自述，checkin 场所码，passage 过卡，arrival 来返报备"
    )
    source_label: str
    checkin_id: int | None = None
    passage_id: int | None = None
    arrival_id: int | None = None


class TimelineIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["starts_at"]})

    starts_at: str = Field("", description="开始时间（ISO 8601），不能晚于现在")
    ends_at: str = Field("", description="结束时间（ISO 8601）")
    place_id: int | None = Field(None, description="场所编号")
    location: str = Field("", description="地点（未选场所时必填）")
    activity: str = ""
    people_met: str = Field("", description="接触人员")


class TimelineImportOut(Schema):
    added: int = Field(..., description="新加入的记录条数（已在轨迹中的记录不重复加入）")


# ---------------------------------------------------------------------------------------------
# Presenting


def _case(request: HttpRequest, case: Case) -> dict[str, Any]:
    investigation = case.investigation
    return {
        "id": case.pk,
        "code": case.code,
        "person": person_display(viewer=request.auth, person=case.person),
        "classification": case.classification,
        "classification_label": case.get_classification_display(),
        "onset_date": case.onset_date,
        "sampling_date": case.sampling_date,
        "report_date": case.report_date,
        "last_negative_on": case.last_negative_on,
        "isolated_on": case.isolated_on,
        "source": case.source,
        "source_label": case.get_source_display(),
        "treated_at": case.treated_at,
        "outcome": case.outcome,
        "outcome_label": case.get_outcome_display(),
        "cluster_id": case.cluster_id,
        "infected_by_id": case.infected_by_id,
        "notes": case.notes,
        "investigation_id": investigation.pk,
        "investigation_status": investigation.status,
        "team_id": investigation.team_id,
        "investigator_id": investigation.investigator_id,
        "conclusions": investigation.conclusions,
    }


def _cluster(cluster: Cluster, count: int) -> dict[str, Any]:
    return {
        "id": cluster.pk,
        "code": cluster.code,
        "name": cluster.name,
        "kind": cluster.kind,
        "kind_label": cluster.get_kind_display(),
        "description": cluster.description,
        "division_code": cluster.division_id,
        "case_count": count,
    }


def _entry(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "starts_at": entry.starts_at,
        "ends_at": entry.ends_at,
        "place_id": entry.place_id,
        "location": entry.location,
        "activity": entry.activity,
        "people_met": entry.people_met,
        "source": entry.source,
        "source_label": entry.get_source_display(),
        "checkin_id": entry.checkin_id,
        "passage_id": entry.passage_id,
        "arrival_id": entry.arrival_id,
    }


def _reload(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    return _case(request, case)


# ---------------------------------------------------------------------------------------------
# Cases


@router.post("/cases", response={201: CaseOut}, summary="登记病例（自动编号，建立流调）")
def create_case(request: HttpRequest, payload: CaseIn) -> Any:
    case = services_cases.case_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _reload(request, case.pk))


@router.get("/cases", response=list[CaseOut], summary="病例列表（分页、筛选、按角色脱敏）")
@paginate(present=_case)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> Any:
    return selectors_cases.case_list(
        viewer=request.auth,
        classification=filters.classification,
        cluster_id=filters.cluster,
        date_from=filters.date_from,
        date_to=filters.date_to,
        q=filters.q,
    )


@router.get("/cases/{case_id}", response=CaseOut, summary="病例详情（按角色脱敏）")
def get_case(request: HttpRequest, case_id: int) -> Any:
    return _reload(request, case_id)


@router.patch("/cases/{case_id}", response=CaseOut, summary="修改病例（日期、来源、转归等）")
def update_case(request: HttpRequest, case_id: int, payload: CasePatchIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    services_cases.case_update(
        actor=request.auth, case=case, changes=payload.model_dump(exclude_unset=True)
    )
    return _reload(request, case_id)


@router.post(
    "/cases/{case_id}/reclassify", response=CaseOut, summary="订正病例分类（保留历史，须填原因）"
)
def reclassify_case(request: HttpRequest, case_id: int, payload: CaseReclassifyIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    services_cases.case_reclassify(
        actor=request.auth,
        case=case,
        classification=payload.classification,
        reason=payload.reason,
    )
    return _reload(request, case_id)


# ---------------------------------------------------------------------------------------------
# Clusters


@router.get("/clusters", response=list[ClusterOut], summary="聚集性疫情列表")
@paginate(present=lambda request, c: _cluster(c, c.case_count))
def list_clusters(request: HttpRequest) -> Any:
    return selectors_cases.cluster_list(viewer=request.auth)


@router.post("/clusters", response={201: ClusterOut}, summary="登记聚集性疫情")
def create_cluster(request: HttpRequest, payload: ClusterIn) -> Any:
    cluster = services_cases.cluster_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _cluster(cluster, 0))


@router.get("/clusters/{cluster_id}", response=ClusterOut, summary="聚集性疫情详情")
def get_cluster(request: HttpRequest, cluster_id: int) -> Any:
    cluster = selectors.access_cluster_by_id(viewer=request.auth, cluster_id=cluster_id)
    count = selectors_cases.case_list(viewer=request.auth, cluster_id=cluster.pk).count()
    return _cluster(cluster, count)


@router.patch("/clusters/{cluster_id}", response=ClusterOut, summary="修改聚集性疫情")
def update_cluster(request: HttpRequest, cluster_id: int, payload: ClusterPatchIn) -> Any:
    cluster = selectors.access_cluster_by_id(viewer=request.auth, cluster_id=cluster_id)
    services_cases.cluster_update(
        actor=request.auth, cluster=cluster, changes=payload.model_dump(exclude_unset=True)
    )
    return get_cluster(request, cluster_id)


@router.put("/cases/{case_id}/cluster", response=CaseOut, summary="将病例归入（或移出）聚集性疫情")
def set_case_cluster(request: HttpRequest, case_id: int, payload: CaseClusterIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    cluster = (
        selectors.access_cluster_by_id(viewer=request.auth, cluster_id=payload.cluster_id)
        if payload.cluster_id is not None
        else None
    )
    services_cases.case_set_cluster(actor=request.auth, case=case, cluster=cluster)
    return _reload(request, case_id)


# ---------------------------------------------------------------------------------------------
# Investigations and teams


def _investigation(investigation: Any) -> dict[str, Any]:
    return {
        "id": investigation.pk,
        "case_id": investigation.case_id,
        "team_id": investigation.team_id,
        "team_name": investigation.team.name if investigation.team_id else "",
        "investigator_id": investigation.investigator_id,
        "investigator_name": (
            (investigation.investigator.display_name or investigation.investigator.username)
            if investigation.investigator_id
            else ""
        ),
        "status": investigation.status,
        "conclusions": investigation.conclusions,
        "closed_at": investigation.closed_at,
    }


@router.get("/cases/{case_id}/investigation", response=CaseInvestigationOut, summary="病例的流调")
def get_investigation(request: HttpRequest, case_id: int) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    return _investigation(selectors_cases.investigation_of(case=case))


@router.post(
    "/cases/{case_id}/investigation",
    response=CaseInvestigationOut,
    summary="指派流调小组和流调人员、填写流调结论",
    description="给出 team_id / investigator_id 时指派；给出 conclusions 时保存结论（close 为 true "
    "则完成流调）。两者可同时提交。",
)
def update_investigation(request: HttpRequest, case_id: int, payload: CaseInvestigationIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    investigation = selectors_cases.investigation_of(case=case)
    fields = payload.model_dump(exclude_unset=True)
    if "team_id" in fields or "investigator_id" in fields:
        team = (
            selectors_cases.team_list(viewer=request.auth).filter(pk=payload.team_id).first()
            if payload.team_id
            else None
        )
        if payload.team_id and team is None:
            raise ValidationFailed({"team_id": [_("流调小组不存在")]})
        services_cases.investigation_assign(
            actor=request.auth,
            investigation=investigation,
            team=team,
            investigator_id=payload.investigator_id,
        )
    if "conclusions" in fields:
        services_cases.investigation_conclude(
            actor=request.auth,
            investigation=investigation,
            conclusions=payload.conclusions or "",
            close=payload.close,
        )
    return _investigation(selectors_cases.investigation_of(case=case))


def _team(team: Any) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "leader_id": team.leader_id,
        "member_ids": sorted(m.pk for m in team.members.all()),
        "active": team.active,
    }


@router.get("/teams", response=list[CaseTeamOut], summary="流调小组")
@paginate(present=lambda request, team: _team(team))
def list_teams(request: HttpRequest) -> Any:
    return selectors_cases.team_list(viewer=request.auth).order_by("name", "pk")


@router.post("/teams", response={201: CaseTeamOut}, summary="建立流调小组")
def create_team(request: HttpRequest, payload: CaseTeamIn) -> Any:
    team = services_cases.team_create(
        actor=request.auth,
        name=payload.name,
        leader_id=payload.leader_id,
        member_ids=payload.member_ids,
    )
    return Status(201, _team(team))


# ---------------------------------------------------------------------------------------------
# Timeline and report


@router.get(
    "/cases/{case_id}/timeline", response=list[TimelineOut], summary="病例活动轨迹（按时间）"
)
def get_timeline(request: HttpRequest, case_id: int) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    return [_entry(e) for e in selectors_cases.case_timeline(case=case)]


@router.post(
    "/cases/{case_id}/timeline",
    response={201: TimelineOut},
    summary="添加一条活动轨迹（本人自述，可关联场所）",
)
def add_timeline(request: HttpRequest, case_id: int, payload: TimelineIn) -> Any:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    entry = services_cases.timeline_add(
        actor=request.auth, investigation=case.investigation, data=payload.model_dump()
    )
    return Status(201, _entry(entry))


@router.get(
    "/cases/{case_id}/report.docx",
    summary="下载流调报告（Word）",
    description="病例概况、活动轨迹、按判定分组的接触者（证件号码脱敏）和流调结论；每次下载记入审计。",
    openapi_extra={
        "responses": {
            200: {
                "description": "Word 文件（.docx），文件名见 Content-Disposition",
                "content": {
                    report.DOCX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
                },
            },
        }
    },
)
def case_report(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case_by_id(viewer=request.auth, case_id=case_id)
    file = report.case_report(actor=request.auth, case=case)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response
