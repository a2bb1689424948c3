"""API: sampling tasks, results, release with certificate, PDFs and public verification
(检测与解除). Reads go through the scoped selectors (out of scope: 404 like missing); writes
through services_tests (400 names the field; each missing release condition is named)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from fangkong.core.exceptions import NotFound
from fangkong.people.presenters import person_display

from . import certificates, selectors_tests, services_tests
from .models import Certificate, SamplingTask

router = Router(tags=["检测与解除"])

PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "PDF 文件，文件名见 Content-Disposition",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


class QTestTaskOut(Schema):
    id: int
    order_id: int = Field(..., description="管控措施编号")
    person_id: int = Field(..., description="人员编号")
    person_name: str = Field(..., description="姓名（按角色脱敏）")
    due_date: dt.date = Field(..., description="检测日")
    phase_index: int = Field(..., description="分段序号（从 0 起）")
    phase_kind: str = Field(..., description="分段类型，如 centralized 集中隔离")
    site_id: int | None = Field(None, description="隔离点编号（居家为空）")
    division_code: str = Field(..., description="所属小网格代码")
    required_results: int = Field(..., description="需检测份数：2 为双采双检")
    status: str = Field(
        ..., description="pending 待采样，sampled 已采样，resulted 已出结果，cancelled 已取消"
    )
    result: str = Field(..., description="结果：negative 阴性，positive 阳性，空为未出")
    result_2: str = Field(..., description="第二份结果（双采双检）")
    ct_values: dict[str, float] = Field(..., description="各基因 Ct 值")
    tube_code: str = Field(..., description="采样管号")
    sampled_at: dt.datetime | None = Field(None, description="采样时间")
    resulted_at: dt.datetime | None = Field(None, description="出结果时间")


class QTestSampledIn(Schema):
    model_config = ConfigDict(extra="forbid")
    tube_code: str = Field("", description="采样管号（可空）")


class QTestResultIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["result"]})
    result: str = Field("", description="结果：negative 阴性，positive 阳性")
    result_2: str = Field("", description="第二份结果，仅双采双检时填写")
    ct_values: dict[str, Any] | None = Field(None, description='各基因 Ct 值（0-45），如 {"N": 36}')


class QTestReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", description="备注（可空，至多 300 字）")


class QTestCertificateOut(Schema):
    id: int
    order_id: int = Field(..., description="管控措施编号")
    number: str = Field(..., description="证明编号，如 眉解隔〔2022〕1号")
    start_date: dt.date = Field(..., description="管控开始日期")
    end_date: dt.date = Field(..., description="解除日期")
    issued_at: dt.datetime = Field(..., description="签发时间")
    verify_url: str = Field(..., description="公开核验页地址（二维码内容）")


class QTestVerifyOut(Schema):
    valid: bool = Field(..., description="证明真实有效")
    number: str = Field(..., description="证明编号")
    start_date: dt.date = Field(..., description="管控开始日期")
    end_date: dt.date = Field(..., description="解除日期")


class QTestTaskFilter(Schema):
    date: dt.date | None = Field(None, description="检测日 YYYY-MM-DD（默认不限）")
    site_id: int | None = Field(None, description="隔离点编号")
    status: str = Field("", description="状态：pending、sampled、resulted、cancelled")


def _task_out(request: HttpRequest, task: SamplingTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "order_id": task.order_id,
        "person_id": task.person_id,
        "person_name": person_display(viewer=request.auth, person=task.person)["name"],
        "due_date": task.due_date,
        "phase_index": task.phase_index,
        "phase_kind": task.phase_kind,
        "site_id": task.site_id,
        "division_code": task.division_id,
        "required_results": task.required_results,
        "status": task.status,
        "result": task.result,
        "result_2": task.result_2,
        "ct_values": task.ct_values or {},
        "tube_code": task.tube_code,
        "sampled_at": task.sampled_at,
        "resulted_at": task.resulted_at,
    }


def _verify_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("quarantine_verify:verify", args=[code]))


def _certificate_out(request: HttpRequest, certificate: Certificate) -> dict[str, Any]:
    return {
        "id": certificate.pk,
        "order_id": certificate.order_id,
        "number": certificate.number,
        "start_date": certificate.start_date,
        "end_date": certificate.end_date,
        "issued_at": certificate.issued_at,
        "verify_url": _verify_url(request, certificate.verify_code),
    }


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@router.get("/sampling-tasks", response=list[QTestTaskOut], summary="检测任务列表（按范围）")
def task_list(request: HttpRequest, filters: Query[QTestTaskFilter]) -> list[dict[str, Any]]:
    tasks = selectors_tests.tasks_list(
        viewer=request.auth, day=filters.date, site_id=filters.site_id, status=filters.status
    )[:1000]
    return [_task_out(request, t) for t in tasks]


@router.post("/sampling-tasks/{task_id}/sampled", response=QTestTaskOut, summary="登记已采样")
def task_sampled(request: HttpRequest, task_id: int, payload: QTestSampledIn) -> dict[str, Any]:
    task = selectors_tests.task_get(viewer=request.auth, task_id=task_id)
    task = services_tests.sampling_mark_sampled(
        actor=request.auth, task=task, tube_code=payload.tube_code
    )
    return _task_out(request, selectors_tests.task_get(viewer=request.auth, task_id=task.pk))


@router.post("/sampling-tasks/{task_id}/result", response=QTestTaskOut, summary="录入检测结果")
def task_result(request: HttpRequest, task_id: int, payload: QTestResultIn) -> dict[str, Any]:
    task = selectors_tests.task_get(viewer=request.auth, task_id=task_id)
    services_tests.sampling_result_record(
        actor=request.auth,
        task=task,
        result=payload.result,
        result_2=payload.result_2,
        ct_values=payload.ct_values,
    )
    return _task_out(request, selectors_tests.task_get(viewer=request.auth, task_id=task.pk))


@router.post(
    "/control-orders/{order_id}/release-certify",
    response={201: QTestCertificateOut},
    summary="解除隔离并签发证明（未满足的条件逐条列出）",
)
def release_certify(
    request: HttpRequest, order_id: int, payload: QTestReleaseIn
) -> tuple[int, dict[str, Any]]:
    order = selectors_tests.order_get(viewer=request.auth, order_id=order_id)
    certificate = services_tests.order_release_certify(
        actor=request.auth, order=order, reason=payload.reason
    )
    return 201, _certificate_out(request, certificate)


@router.get("/certificates/{certificate_id}", response=QTestCertificateOut, summary="解除隔离证明")
def certificate_detail(request: HttpRequest, certificate_id: int) -> dict[str, Any]:
    certificate = selectors_tests.certificate_get(
        viewer=request.auth, certificate_id=certificate_id
    )
    return _certificate_out(request, certificate)


@router.get(
    "/certificates/{certificate_id}/pdf",
    summary="下载解除隔离证明（PDF，记入审计）",
    openapi_extra=PDF_RESPONSE,
)
def certificate_pdf(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = selectors_tests.certificate_get(
        viewer=request.auth, certificate_id=certificate_id
    )
    order = selectors_tests.order_get(viewer=request.auth, order_id=certificate.order_id)
    services_tests.document_download_audit(
        actor=request.auth, kind="certificate", order_id=order.pk, object_id=certificate.pk
    )
    content = certificates.certificate_pdf(
        certificate=certificate,
        person=person_display(viewer=request.auth, person=order.person),
        url=_verify_url(request, certificate.verify_code),
    )
    return _pdf(content, f"certificate-{certificate.pk}.pdf")


@router.get(
    "/control-orders/{order_id}/notice.pdf",
    summary="下载隔离医学观察告知书（PDF，记入审计）",
    openapi_extra=PDF_RESPONSE,
)
def notice_pdf(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_tests.order_get(viewer=request.auth, order_id=order_id)
    services_tests.document_download_audit(actor=request.auth, kind="notice", order_id=order.pk)
    content = certificates.notice_pdf(
        order=order,
        person=person_display(viewer=request.auth, person=order.person),
        stay=selectors_tests.order_open_stay(order=order),
    )
    return _pdf(content, f"notice-{order.pk}.pdf")


@router.get(
    "/certificates/verify/{code}",
    response=QTestVerifyOut,
    auth=None,
    summary="公开核验解除隔离证明（无需登录，不含姓名和证件号码）",
)
def certificate_verify(request: HttpRequest, code: str) -> dict[str, Any]:
    certificate = selectors_tests.certificate_by_code(code=code)
    if certificate is None:
        raise NotFound(_("未找到该证明"))
    return {
        "valid": True,
        "number": certificate.number,
        "start_date": certificate.start_date,
        "end_date": certificate.end_date,
    }
