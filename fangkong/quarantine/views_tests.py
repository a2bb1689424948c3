"""Staff pages of the test schedules (/quarantine/tests/): today's tasks and the overdue ones in
the viewer's scope (a site's staff: their sites), entering "sampled" and results; an order's
release page (the missing conditions shown when refused) and the PDF downloads.

Each view parses, reads through a selector, calls one service, renders or redirects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.people.presenters import person_display

from . import certificates, selectors_tests, services_tests
from .models import SamplingTask
from .release import release_conditions


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _rows(request: HttpRequest, tasks: Any) -> list[dict[str, Any]]:
    return [
        {"task": t, "person": person_display(viewer=request.user, person=t.person)} for t in tasks
    ]


def _list_page(
    request: HttpRequest,
    *,
    errors: dict[str, list[str]] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    today = timeutils.local_today()
    day = _date(request.GET.get("date")) or today
    tasks = selectors_tests.tasks_list(viewer=request.user, day=day)
    overdue = selectors_tests.tasks_overdue(viewer=request.user, today=today)[:200]
    return render(
        request,
        "quarantine/tests_list.html",
        {
            "day": day,
            "today": today,
            "rows": _rows(request, tasks),
            "overdue": _rows(request, overdue),
            "errors": errors or {},
            "notice": notice,
            "results": SamplingTask.Result.choices,
        },
        status=status,
    )


@_page
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(request.POST.get("next") or reverse("quarantine_tests:list"))


@_page
@require_POST
def task_sampled(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors_tests.task_get(viewer=request.user, task_id=task_id)
    try:
        services_tests.sampling_mark_sampled(
            actor=request.user, task=task, tube_code=request.POST.get("tube_code", "")
        )
    except ValidationFailed as exc:
        return _list_page(request, errors=exc.errors, status=400)
    except Conflict as exc:
        return _list_page(request, errors={"status": [str(exc.message)]}, status=409)
    return _back(request)


@_page
@require_POST
def task_result(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors_tests.task_get(viewer=request.user, task_id=task_id)
    ct: dict[str, str] = {}
    for gene in ("ORF1ab", "N"):
        value = request.POST.get(f"ct_{gene}", "").strip()
        if value:
            ct[gene] = value
    try:
        services_tests.sampling_result_record(
            actor=request.user,
            task=task,
            result=request.POST.get("result", ""),
            result_2=request.POST.get("result_2", ""),
            ct_values=ct,
        )
    except ValidationFailed as exc:
        return _list_page(request, errors=exc.errors, status=400)
    except Conflict as exc:
        return _list_page(request, errors={"status": [str(exc.message)]}, status=409)
    return _back(request)


def _release_page(
    request: HttpRequest,
    order: Any,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    certificate = selectors_tests.certificate_for_order(order=order)
    missing = {}
    if certificate is None and errors is None:
        missing = release_conditions(order=order, today=timeutils.local_today())
    return render(
        request,
        "quarantine/tests_release.html",
        {
            "order": order,
            "person": person_display(viewer=request.user, person=order.person),
            "tasks": selectors_tests.order_tasks(order=order),
            "stay": selectors_tests.order_open_stay(order=order),
            "certificate": certificate,
            "missing": missing,
            "errors": errors or {},
        },
        status=status,
    )


@_page
def order_release(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_tests.order_get(viewer=request.user, order_id=order_id)
    if request.method != "POST":
        return _release_page(request, order)
    try:
        services_tests.order_release_certify(
            actor=request.user, order=order, reason=request.POST.get("reason", "")
        )
    except ValidationFailed as exc:
        return _release_page(request, order, errors=exc.errors, status=400)
    except Conflict as exc:
        return _release_page(request, order, errors={"status": [str(exc.message)]}, status=409)
    return redirect("quarantine_tests:release", order_id=order.pk)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def verify_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("quarantine_verify:verify", args=[code]))


@_page
@require_GET
def certificate_pdf(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = selectors_tests.certificate_get(
        viewer=request.user, certificate_id=certificate_id
    )
    order = selectors_tests.order_get(viewer=request.user, order_id=certificate.order_id)
    services_tests.document_download_audit(
        actor=request.user, kind="certificate", order_id=order.pk, object_id=certificate.pk
    )
    content = certificates.certificate_pdf(
        certificate=certificate,
        person=person_display(viewer=request.user, person=order.person),
        url=verify_url(request, certificate.verify_code),
    )
    return _pdf_response(content, f"certificate-{certificate.pk}.pdf")


@_page
@require_GET
def notice_pdf(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_tests.order_get(viewer=request.user, order_id=order_id)
    services_tests.document_download_audit(actor=request.user, kind="notice", order_id=order.pk)
    content = certificates.notice_pdf(
        order=order,
        person=person_display(viewer=request.user, person=order.person),
        stay=selectors_tests.order_open_stay(order=order),
    )
    return _pdf_response(content, f"notice-{order.pk}.pdf")
