"""Staff pages of a case's contacts (/tracing/contacts/): the contacts section of the case page.

`case_contacts` is both an htmx partial (loaded into the case page's #contacts-section) and a
full page. Every action (refresh the candidates, decide, add by hand, declare co-workers,
propose secondary contacts) is a POST answered by htmx with the section re-rendered (with the
outcome or the errors at the top), or by a redirect to the full page without htmx.

Each view parses, reads through a selector, calls one service, renders. Out-of-scope ids are
404 like missing ones; a role that may not write gets the 403 page on a POST.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.people.models import IdType

from . import selectors, selectors_contacts, services_contacts
from .models import Case, Contact
from .permissions import can_write


def _require_write(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied(_("您的角色不能判定接触者。"))


def _when(value: str | None) -> tuple[dt.datetime | None, bool]:
    """A datetime-local field: (value, ok). Naive values are local time."""
    text = (value or "").strip()
    if not text:
        return None, True
    parsed = parse_datetime(text)
    if parsed is None:
        return None, False
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed, True


def _section(
    request: HttpRequest,
    case: Case,
    *,
    notice: str = "",
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    contacts = list(selectors_contacts.contact_list(viewer=request.user, case=case))
    rows = selectors_contacts.contact_rows(viewer=request.user, contacts=contacts)
    groups = {s: [r for r in rows if r["status"] == s] for s in Contact.Status.values}
    context = {
        "case": case,
        "rows": rows,
        "candidates": groups[Contact.Status.CANDIDATE],
        "decided": [
            (label, groups[value])
            for value, label in Contact.Status.choices
            if value != Contact.Status.CANDIDATE
        ],
        "can_write": can_write(request.user),
        "notice": notice,
        "errors": errors or {},
        "form": form or {},
        "statuses": [c for c in Contact.Status.choices if c[0] != Contact.Status.CANDIDATE],
        "settings": Contact.Setting.choices,
        "id_types": [c for c in IdType.choices if c[0] != IdType.NONE],
    }
    if request.headers.get("HX-Request"):
        return render(request, "tracing/contacts_section.html", context, status=status)
    return render(request, "tracing/contacts_page.html", context, status=status)


def _after_post(
    request: HttpRequest,
    case: Case,
    *,
    notice: str = "",
    errors: dict[str, list[str]] | None = None,
    form: dict[str, Any] | None = None,
) -> HttpResponse:
    if request.headers.get("HX-Request") or errors:
        return _section(
            request, case, notice=notice, errors=errors, form=form, status=400 if errors else 200
        )
    return redirect("contacts:case", case_id=case.pk)


def _error_dict(exc: ValidationFailed | Conflict) -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in exc.errors.items()} or {
        "__all__": [str(exc.message)]
    }


@_page
@require_GET
def case_contacts(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    return _section(request, case)


@_page
@require_POST
def refresh(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    counts = services_contacts.candidates_refresh(actor=request.user, case=case)
    notice = _("已查找候选接触者：找到 %(found)d 人，新增 %(added)d 人。") % counts
    return _after_post(request, case, notice=notice)


@_page
@require_POST
def add(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    form = {k: request.POST.get(k, "").strip() for k in request.POST if k != "csrfmiddlewaretoken"}
    exposure, ok = _when(form.get("last_exposure_at"))
    if not ok:
        return _after_post(
            request,
            case,
            errors={"last_exposure_at": [_("末次暴露时间格式有误。")]},
            form=form,
        )
    try:
        services_contacts.contact_add_manual(
            actor=request.user,
            case=case,
            name=form.get("name", ""),
            id_type=form.get("id_type", "resident_id"),
            id_number=form.get("id_number", ""),
            phone=form.get("phone", ""),
            setting=form.get("setting") or Contact.Setting.OTHER,
            last_exposure_at=exposure,
            status=form.get("status") or Contact.Status.CANDIDATE,
            reason=form.get("reason", ""),
            division_code=form.get("division_code", ""),
            outside_code=form.get("outside_code", ""),
        )
    except (ValidationFailed, Conflict) as exc:
        return _after_post(request, case, errors=_error_dict(exc), form=form)
    return _after_post(request, case, notice=_("已添加接触者。"))


@_page
@require_POST
def decide(request: HttpRequest, contact_id: int) -> HttpResponse:
    _require_write(request)
    contact = selectors.access_contact_by_id(viewer=request.user, contact_id=contact_id)
    case = selectors.access_case_by_id(viewer=request.user, case_id=contact.case_id)
    exposure, ok = _when(request.POST.get("last_exposure_at"))
    if not ok:
        return _after_post(
            request, case, errors={"last_exposure_at": [_("末次暴露时间格式有误。")]}
        )
    try:
        decided = services_contacts.contact_decide(
            actor=request.user,
            contact=contact,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            setting=request.POST.get("setting") or None,
            last_exposure_at=exposure,
            division_code=request.POST.get("division_code", "").strip(),
            outside_code=request.POST.get("outside_code", "").strip(),
        )
    except (ValidationFailed, Conflict) as exc:
        return _after_post(request, case, errors=_error_dict(exc))
    notice = _("已判定为“%(status)s”。") % {"status": decided.get_status_display()}
    if decided.order_id:
        notice += _("已提出管控措施并下发网格员待办。")
    elif decided.assist_entry_id:
        notice += _("已列入县外协查函。")
    return _after_post(request, case, notice=notice)


@_page
@require_POST
def coworkers(request: HttpRequest, contact_id: int) -> HttpResponse:
    _require_write(request)
    contact = selectors.access_contact_by_id(viewer=request.user, contact_id=contact_id)
    case = selectors.access_case_by_id(viewer=request.user, case_id=contact.case_id)
    names = request.POST.getlist("name")
    numbers = request.POST.getlist("id_number")
    phones = request.POST.getlist("phone")
    rows = [
        {"name": n, "id_number": i, "phone": phones[k] if k < len(phones) else ""}
        for k, (n, i) in enumerate(zip(names, numbers, strict=False))
        if n.strip() or i.strip()
    ]
    try:
        added = services_contacts.coworker_declare(actor=request.user, contact=contact, rows=rows)
    except (ValidationFailed, Conflict) as exc:
        return _after_post(request, case, errors=_error_dict(exc))
    return _after_post(request, case, notice=_("已登记申报同事 %(n)d 人。") % {"n": len(added)})


@_page
@require_POST
def secondaries(request: HttpRequest, contact_id: int) -> HttpResponse:
    _require_write(request)
    contact = selectors.access_contact_by_id(viewer=request.user, contact_id=contact_id)
    case = selectors.access_case_by_id(viewer=request.user, case_id=contact.case_id)
    try:
        new = services_contacts.secondaries_propose(actor=request.user, contact=contact)
    except (ValidationFailed, Conflict) as exc:
        return _after_post(request, case, errors=_error_dict(exc))
    return _after_post(request, case, notice=_("已推送密接的密接候选 %(n)d 人。") % {"n": len(new)})
