"""Import pages: upload a roster, watch the job, download its bad rows, resume or roll back.

Each view: parse, access/selector, one service, render. Another user's job (or a missing one)
is a 404 (access_import_job_by_id); a role that may not import a kind gets the 403 page before
any service is called. This app sits below accounts, so the viewer's role policy is reached
as `request.user.policy` (what the context processor shows templates as `viewer_policy`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.exceptions import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from fangkong.core.pagination import paginate

from . import selectors, services
from .contracts import Column, Importer, importer_for
from .forms import (
    ImportForm,
    apply_domain_error,
    importable,
    kind_choices,
    limit_uploads,
    max_bytes,
    may_import,
    size_label,
)
from .models import ImportJob
from .presenters import error_filename, job_display, row_error_rows

IGNORED_PREFIX = "ignored"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# htmx stops polling an element whose response has this status (and still swaps it in).
HTMX_STOP_POLLING = 286


def _page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, never cached (file names and rows are personal data), domain errors as
    the 404/403 pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from None
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from None

    return login_required(never_cache(wrapper))


def _require_kind(request: HttpRequest, kind: str) -> None:
    if not may_import(request.user, kind):
        raise PermissionDenied(_("您的角色不能导入此类数据。"))


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    return selectors.access_import_job_by_id(viewer=request.user, job_id=job_id)


def attachment(content: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    """A download; the name as RFC 6266/5987 `filename*` (Chinese names survive)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(content))
    return response


# --- upload ----------------------------------------------------------------------------------


def template_columns(importer: type[Importer]) -> list[Column]:
    """The columns a template offers: those the importer stores. Columns it only recognises
    so as not to report them as unknown (民族, 年龄 ...: keys starting with "ignored") are
    listed as such on the page but left out of the template."""
    return [c for c in importer.columns if not c.key.startswith(IGNORED_PREFIX)]


def _importer_help(user: Any) -> list[dict[str, Any]]:
    rows = []
    for cls in importable(user):
        labels = {c.key: c.label for c in cls.columns}
        required = [
            "、".join(str(labels.get(key, key)) for key in group) for group in cls.required_any
        ]
        rows.append(
            {
                "kind": cls.kind,
                "label": str(cls.label),
                "columns": [
                    {"label": c.label, "aliases": [a for a in c.aliases if a != c.label]}
                    for c in template_columns(cls)
                ],
                "ignored": [str(c.label) for c in cls.columns if c.key.startswith(IGNORED_PREFIX)],
                "required": required,
            }
        )
    return rows


def _render_new(request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "importers": _importer_help(request.user),
        "max_size": size_label(max_bytes()),
        "inline_rows": settings.FANGKONG["IMPORT_INLINE_MAX_ROWS"],
    }
    return render(request, "imports/job_new.html", context, status=status)


@csrf_exempt  # the check runs in _job_new, after our upload handler is in place
def job_new(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.method == "POST":
        limit_uploads(request)
    return _job_new(request, *args, **kwargs)


@_page
@csrf_protect
@require_http_methods(["GET", "POST"])
def _job_new(request: HttpRequest) -> HttpResponse:
    kinds = kind_choices(request.user)
    if not kinds:
        raise PermissionDenied(_("您的角色不能导入数据。"))
    if request.method != "POST":
        form = ImportForm(initial={"kind": request.GET.get("kind", "")}, kinds=kinds)
        return _render_new(request, form)
    form = ImportForm(
        request.POST,
        request.FILES,
        kinds=kinds,
        too_large=getattr(request, "upload_too_large", False),
    )
    kind = request.POST.get("kind", "")
    if importer_for(kind) is not None:
        _require_kind(request, kind)
    if not form.is_valid():
        return _render_new(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        job = services.import_job_start(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            upload=upload,
            filename=upload.name,
            options=form.options(),
            dry_run=form.cleaned_data["dry_run"],
        )
    except ValidationFailed as exc:
        apply_domain_error(form, exc)
        return _render_new(request, form, status=400)
    return redirect("imports:detail", job_id=job.pk)


@_page
@require_GET
def kind_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty .xlsx with exactly the importer's column labels; ID and phone columns are text
    cells, so Excel keeps all 18 digits."""
    importer = importer_for(kind)
    if importer is None:
        raise Http404
    _require_kind(request, kind)
    return attachment(
        _template_workbook(importer), _("%(label)s导入模板.xlsx") % {"label": importer.label}
    )


def _template_workbook(importer: type[Importer]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(str(importer.label)[:31])
    head = book.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    text = book.add_format({"num_format": "@"})
    for col, column in enumerate(template_columns(importer)):
        sheet.write_string(0, col, str(column.label), head)
        width = max(10, len(str(column.label)) * 2 + 2)
        if column.kind == "number_text":
            sheet.set_column(col, col, max(width, 20), text)
        elif column.kind == "date":
            sheet.set_column(col, col, max(width, 12), text)
        else:
            sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


# --- one job ---------------------------------------------------------------------------------

ERROR_ROWS_SHOWN = 50


def _status_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    shown = job.row_errors.order_by("row_number")[:ERROR_ROWS_SHOWN]
    display = job_display(job=job)
    return {
        "job": job,
        "j": display,
        "bad_rows": row_error_rows(job=job, row_errors=list(shown), viewer=request.user),
        "bad_rows_more": max(0, display["bad_rows"] - ERROR_ROWS_SHOWN),
        "may_change": may_import(request.user, job.kind),
    }


@_page
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    return render(request, "imports/job_detail.html", _status_context(request, job))


@_page
@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The status block alone, for htmx polling. Once the job has stopped the block comes
    back without its trigger and with status 286, and the polling ends."""
    job = _job(request, job_id)
    context = _status_context(request, job)
    status = 200 if context["j"]["active"] else HTMX_STOP_POLLING
    return render(request, "imports/_job_status.html", context, status=status)


@_page
@require_GET
def job_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    content = services.import_job_errors_export(actor=request.user, job=job)
    return attachment(content, error_filename(job))


@_page
@require_POST
def job_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    _require_kind(request, job.kind)
    if (
        job.status not in (ImportJob.Status.INTERRUPTED, ImportJob.Status.FAILED)
        and not job.is_stale
    ):
        messages.info(request, _("此导入任务不需要继续。"))
        return redirect("imports:detail", job_id=job.pk)
    try:
        services.import_job_enqueue(actor=request.user, job=job)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("已重新排队，将从第 %(row)s 行之后继续。") % {"row": job.next_row}
        )
    return redirect("imports:detail", job_id=job.pk)


@_page
@require_POST
def job_rollback(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    _require_kind(request, job.kind)
    try:
        job = services.import_job_rollback(actor=request.user, job=job)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已撤销此次导入。"))
    return redirect("imports:detail", job_id=job.pk)


# --- history ---------------------------------------------------------------------------------


@_page
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.import_job_list(viewer=request.user).select_related("actor")
    page = paginate(jobs, page=request.GET.get("page"))
    context = {
        "page": page,
        "rows": [job_display(job=job) for job in page.items],
        "all_users": bool(getattr(request.user.policy, "can_view_audit", False)),
        "can_import": bool(kind_choices(request.user)),
    }
    return render(request, "imports/job_list.html", context)
