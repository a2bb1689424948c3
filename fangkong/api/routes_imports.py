"""API: import jobs (upload a roster, follow it, fetch its bad rows, resume, roll back) and the
.xlsx exports of the people and household lists.

These live in the top layer because an upload needs the engine (imports) and an export the
people app. The upload is multipart/form-data, read by the same form as the web page (and the
same upload handler: a file over IMPORT_MAX_BYTES is refused as it streams in).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.imports import selectors as import_selectors
from fangkong.imports import services as import_services
from fangkong.imports.contracts import importer_for
from fangkong.imports.forms import ImportForm, kind_choices, limit_uploads, may_import
from fangkong.imports.models import ImportJob, ImportRowError
from fangkong.imports.presenters import error_filename, job_display, row_error_rows
from fangkong.people import exports

router = Router(tags=["导入与导出"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CODE_PATTERN = r"^[0-9]{6,15}$"
ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
XLSX_RESPONSE = {
    200: {
        "description": "Excel 文件（.xlsx），文件名见 Content-Disposition",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}
EXPORT_RESPONSES = {
    **XLSX_RESPONSE,
    403: {"description": "带理由导出完整信息，但角色不能查看完整信息", "content": ERROR_REF},
}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["kind", "file"],
                "properties": {
                    "kind": {
                        "type": "string",
                        "description": "导入内容：people 人员，households 住户（按户号分户），"
                        "divisions 区划",
                    },
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": ".xlsx、.xls、.ods 或 .csv（UTF-8、GB18030）",
                    },
                    "division": {
                        "type": "string",
                        "pattern": CODE_PATTERN,
                        "description": "可选：区划代码；没有填写网格或镇村的行归入此区划，"
                        "落在其外的行作为错误行",
                    },
                    "dry_run": {
                        "type": "boolean",
                        "default": False,
                        "description": "试运行：按全部规则检查并统计，不保存",
                    },
                },
            }
        }
    },
}


# ---------------------------------------------------------------------------------------------
# Schemas


class ImportJobOut(Schema):
    id: int
    kind: str = Field(..., description="导入内容：people / households / divisions")
    kind_label: str
    filename: str = Field(..., description="上传的文件名")
    size: int = Field(..., description="文件大小（字节）")
    actor: str = Field(..., description="导入人账号（命令行导入为空）")
    division: str = Field(..., description="导入到的区划代码（未指定为空）")
    dry_run: bool = Field(..., description="是否为试运行（不保存）")
    status: str = Field(
        ...,
        description="pending 等待，running 运行中，done 完成，failed 失败，"
        "interrupted 中断（可继续），rolled_back 已撤销",
    )
    status_label: str
    total_rows: int = Field(..., description="数据行数")
    processed: int = Field(..., description="已提交的行数（继续导入时从此处开始）")
    percent: int = Field(..., description="进度百分比")
    rows_per_s: float = Field(..., description="每秒处理行数")
    seconds: float = Field(..., description="已用秒数")
    created: int = Field(..., description="新增")
    updated: int = Field(..., description="更新")
    unchanged: int = Field(..., description="无变化")
    error_rows: int = Field(..., description="错误行（含冲突）")
    conflicts: int = Field(..., description="冲突行：同一证件号码姓名不同等，待人工核对")
    no_change: bool = Field(..., description="文件与系统数据一致，此次导入无变化")
    unknown_columns: list[str] = Field(..., description="未能识别、没有导入的列")
    summary: str = Field(..., description="一句话结果")
    message: str = Field(..., description="失败或中断的原因")
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class CellOut(Schema):
    header: str = Field(..., description="表头")
    value: str = Field(..., description="原始内容（无权查看完整信息的角色为脱敏值）")


class RowErrorOut(Schema):
    row_number: int = Field(..., description="行号（与 Excel 中看到的一致）")
    kind: str = Field(..., description="invalid 数据有误，conflict 冲突")
    errors: dict[str, list[str]] = Field(..., description="列 -> 原因")
    reasons: list[str] = Field(..., description="原因，带列名")
    cells: list[CellOut] = Field(..., description="该行原始内容")
    masked: bool


class ExportFilters(Schema):
    q: str | None = Field(None, description="与列表相同的搜索条件")
    division: str | None = Field(None, pattern=CODE_PATTERN, description="区划代码")
    reason: str | None = Field(
        None,
        description="导出完整信息的理由（可选）；填写后导出未脱敏的信息，"
        "只有可查看完整信息的角色可用，记入审计",
    )


# ---------------------------------------------------------------------------------------------
# Helpers


def _job(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    display = job_display(job=job)
    return {
        **{key: display[key] for key in ImportJobOut.model_fields if key in display},
        "actor": display["actor_username"],
    }


def _row_error(request: HttpRequest, error: ImportRowError) -> dict[str, Any]:
    return row_error_rows(job=error.job, row_errors=[error], viewer=request.auth)[0]


def _require_kind(request: HttpRequest, kind: str) -> None:
    if not may_import(request.auth, kind):
        raise Forbidden(_("您的角色不能导入此类数据。"))


def _access(request: HttpRequest, job_id: int) -> ImportJob:
    return import_selectors.access_import_job_by_id(viewer=request.auth, job_id=job_id)


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(content))
    return response


def _form_errors(form: ImportForm) -> dict[str, list[str]]:
    return {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }


# ---------------------------------------------------------------------------------------------
# Import jobs


@router.post(
    "/imports",
    response={201: ImportJobOut},
    summary="上传并导入",
    description=(
        "multipart/form-data：kind、file，可选 division、dry_run。"
        "不超过 IMPORT_INLINE_MAX_ROWS 行的文件当即导入完毕，更大的文件在后台导入"
        "（status 为 pending/running，用 GET /imports/{id} 查看进度）。"
        "文件不是表格、为空、没有姓名或证件号码列、含公式、列数或大小超限时返回 400，"
        "不写入任何数据。无权导入此类数据的角色返回 403。"
    ),
    openapi_extra={"requestBody": UPLOAD_BODY},
)
def create_import(request: HttpRequest) -> Any:
    limit_uploads(request)
    kinds = kind_choices(request.auth)
    kind = request.POST.get("kind", "")
    if importer_for(kind) is not None or not kinds:
        _require_kind(request, kind)
    form = ImportForm(
        request.POST,
        request.FILES,
        kinds=kinds,
        too_large=getattr(request, "upload_too_large", False),
    )
    if not form.is_valid():
        raise ValidationFailed(_form_errors(form))
    upload = form.cleaned_data["file"]
    job = import_services.import_job_start(
        actor=request.auth,
        kind=form.cleaned_data["kind"],
        upload=upload,
        filename=upload.name,
        options=form.options(),
        dry_run=form.cleaned_data["dry_run"],
    )
    return Status(201, _job(request, job))


@router.get(
    "/imports",
    response=list[ImportJobOut],
    summary="导入记录",
    description="本人的导入任务，新的在前；系统管理员看到全部账号的。",
)
@paginate(present=_job)
def list_imports(request: HttpRequest) -> Any:
    return import_selectors.import_job_list(viewer=request.auth).select_related("actor")


@router.get(
    "/imports/{job_id}",
    response=ImportJobOut,
    summary="导入任务详情与进度",
    description="他人的导入任务按不存在处理（404）。",
)
def get_import(request: HttpRequest, job_id: int) -> Any:
    return _job(request, _access(request, job_id))


@router.get(
    "/imports/{job_id}/errors",
    response=list[RowErrorOut],
    summary="导入错误行",
    description="每个有问题的行：行号、原因、原始内容（无权查看完整信息的角色为脱敏值）。",
)
@paginate(present=_row_error)
def list_import_errors(request: HttpRequest, job_id: int) -> Any:
    job = _access(request, job_id)
    return job.row_errors.select_related("job").order_by("row_number")


@router.get(
    "/imports/{job_id}/errors.xlsx",
    summary="下载错误行（Excel）",
    description=(
        "原表头和有问题的行（原样），最后一列“错误原因”。改好后可原样重新上传。"
        "下载记入审计（imports.job.errors_export）。"
    ),
    openapi_extra={"responses": XLSX_RESPONSE},
)
def download_import_errors(request: HttpRequest, job_id: int) -> Any:
    job = _access(request, job_id)
    content = import_services.import_job_errors_export(actor=request.auth, job=job)
    return _xlsx(content, error_filename(job))


@router.post(
    "/imports/{job_id}/resume",
    response=ImportJobOut,
    summary="继续导入",
    description="中断或失败的任务重新排队，从已提交的行之后继续。其他状态返回 409。",
)
def resume_import(request: HttpRequest, job_id: int) -> Any:
    job = _access(request, job_id)
    _require_kind(request, job.kind)
    if job.status not in (ImportJob.Status.INTERRUPTED, ImportJob.Status.FAILED):
        raise Conflict(_("只有中断或失败的导入任务可以继续。"), code="not_resumable")
    job = import_services.import_job_enqueue(actor=request.auth, job=job)
    return _job(request, _access(request, job.pk))


@router.post(
    "/imports/{job_id}/rollback",
    response=ImportJobOut,
    summary="撤销导入",
    description="删除此次新增的记录，把此次更新的记录恢复为导入前的内容；状态变为 rolled_back。",
)
def rollback_import(request: HttpRequest, job_id: int) -> Any:
    job = _access(request, job_id)
    _require_kind(request, job.kind)
    job = import_services.import_job_rollback(actor=request.auth, job=job)
    return _job(request, job)


# ---------------------------------------------------------------------------------------------
# Exports


def _export(request: HttpRequest, export: Any, filters: ExportFilters) -> HttpResponse:
    reason = (filters.reason or "").strip() or None
    if reason is not None and not getattr(request.auth.policy, "can_reveal", False):
        raise Forbidden(_("您的角色不能导出完整个人信息。"))
    file = export(actor=request.auth, q=filters.q, division=filters.division, reason=reason)
    return _xlsx(file.content, file.filename)


@router.get(
    "/people/export.xlsx",
    summary="导出人员（Excel）",
    description=(
        "您管辖范围内的人员（?q、?division 与列表相同），列与导入模板一致，可原样重新导入。"
        "默认按角色脱敏；带 ?reason= 时导出完整信息（只限可查看完整信息的角色，否则 403）。"
        "每次导出都记入审计。"
    ),
    openapi_extra={"responses": EXPORT_RESPONSES},
)
def export_people(request: HttpRequest, filters: Query[ExportFilters]) -> Any:
    return _export(request, exports.people_export, filters)


@router.get(
    "/households/export.xlsx",
    summary="导出住户（Excel）",
    description=(
        "您管辖范围内的住户及成员（?q 地址包含、?division），列与导入模板一致。"
        "默认按角色脱敏；带 ?reason= 时导出完整信息（只限可查看完整信息的角色）。每次导出都记入审计。"
    ),
    openapi_extra={"responses": EXPORT_RESPONSES},
)
def export_households(request: HttpRequest, filters: Query[ExportFilters]) -> Any:
    return _export(request, exports.household_export, filters)
