"""Staff pages of home measures (/quarantine/home/): the grid worker's daily list, recording a
check or a door visit, the personal link as a QR code, alerts and their resolution, a door
visit's photo (scoped and audited, never a public media URL) and a site's check entry.

Each view parses, reads through selectors_health, calls one service, renders or redirects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page
from fangkong.travel.qrcodes import qr_svg

from . import selectors_health, services_health
from .models import DoorVisit, Slot, Symptom


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return timeutils.local_today()


def _errors_text(exc: Any) -> str:
    parts = [str(m) for msgs in exc.errors.values() for m in msgs]
    return "；".join(parts) or str(exc.message)


@staff_page
@require_GET
def home_list(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("day"))
    rows = selectors_health.home_list(viewer=request.user, day=day)
    return render(
        request,
        "quarantine/home_list.html",
        {
            "rows": rows,
            "day": day,
            "symptoms": Symptom.choices,
            "outcomes": DoorVisit.Outcome.choices,
        },
    )


@staff_page
@require_POST
def check_record(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_health.access_order_by_id(viewer=request.user, order_id=order_id)
    try:
        services_health.health_check_record(
            actor=request.user,
            order=order,
            day=_day(request.POST.get("day")),
            slot=request.POST.get("slot", ""),
            temperature=request.POST.get("temperature", ""),
            symptoms=request.POST.getlist("symptoms"),
            note=request.POST.get("note", ""),
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, _("体温已记录。"))
    return redirect(request.POST.get("next") or reverse("quarantine_health:home"))


@staff_page
@require_POST
def visit_record(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_health.access_order_by_id(viewer=request.user, order_id=order_id)
    try:
        services_health.door_visit_record(
            actor=request.user,
            order=order,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
        )
    except ValidationFailed as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, _("上门查访已登记。"))
    return redirect(reverse("quarantine_health:home"))


@staff_page
@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors_health.access_order_by_id(viewer=request.user, order_id=order_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services_health.health_link_revoke(actor=request.user, order=order)
            else:
                services_health.health_link_create(actor=request.user, order=order)
        except ValidationFailed as exc:
            messages.error(request, _errors_text(exc))
        return redirect(reverse("quarantine_health:link", args=[order.pk]))
    link = selectors_health.link_for_order(order=order)
    url = (
        request.build_absolute_uri(reverse("quarantine_self:page", args=[link.token]))
        if link
        else ""
    )
    return render(
        request,
        "quarantine/home_link.html",
        {"order": order, "url": url, "qr": qr_svg(url, scale=5) if url else ""},
    )


@staff_page
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = list(selectors_health.alert_list(viewer=request.user)[:300])
    for a in alerts:
        a.display_name = selectors_health.masked_name(viewer=request.user, name=a.person.name)
    return render(request, "quarantine/alert_list.html", {"alerts": alerts})


@staff_page
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors_health.access_alert_by_id(viewer=request.user, alert_id=alert_id)
    try:
        services_health.alert_resolve(
            actor=request.user, alert=alert, resolution=request.POST.get("resolution", "")
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, _("预警已处置。"))
    return redirect(reverse("quarantine_health:alerts"))


@staff_page
@require_GET
def visit_photo(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors_health.access_visit_by_id(viewer=request.user, visit_id=visit_id)
    if not visit.photo:
        return render(request, "404.html", status=404)
    audit_record(
        actor=request.user,
        verb="door_visit.photo_view",
        target=visit,
        data={"order_id": visit.order_id},
    )
    content_type = "image/png" if visit.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(visit.photo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@staff_page
@require_http_methods(["GET", "POST"])
def site_checks(request: HttpRequest, site_id: int) -> HttpResponse:
    day = timeutils.local_today()
    rows = selectors_health.site_occupants(viewer=request.user, site_id=site_id, day=day)
    slot = request.POST.get("slot") or request.GET.get("slot") or Slot.MORNING
    if request.method == "POST":
        items = [
            {
                "order_id": r["order_id"],
                "day": day.isoformat(),
                "slot": slot,
                "temperature": request.POST.get(f"t-{r['order_id']}", "").strip(),
                "symptoms": request.POST.getlist(f"s-{r['order_id']}"),
            }
            for r in rows
        ]
        items = [i for i in items if i["temperature"]]
        if items:
            result = services_health.health_checks_record_bulk(actor=request.user, rows=items)
            messages.success(
                request,
                _("已记录 %(n)s 人，重复 %(d)s 人，有误 %(e)s 人。")
                % {
                    "n": len(result["created"]),
                    "d": result["duplicates"],
                    "e": len(result["errors"]),
                },
            )
        return redirect(reverse("quarantine_health:site_checks", args=[site_id]) + f"?slot={slot}")
    return render(
        request,
        "quarantine/health_site_checks.html",
        {"rows": rows, "day": day, "slot": slot, "slots": Slot.choices, "site_id": site_id},
    )
