"""The public personal health-check page (/h/<token>/): no login, phone-first.

It shows only whether today's morning and evening checks are in, and a form for the
temperature and symptoms. An unknown or revoked token or a closed order answers the same
"链接无效或已失效" page (404). Submissions are rate-limited per client (travel.ratelimit),
counted before anything else. The page never shows a name, ID number or phone.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.middleware import client_ip
from fangkong.travel.ratelimit import RateLimited, rate_limit_hit

from . import selectors_health, selectors_sites, services_health
from .models import HealthCheck, Slot, Symptom


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "quarantine/self_invalid.html", status=404)


def _page(request, link, *, errors=None, values=None, done=False, status=200) -> HttpResponse:
    today = timeutils.local_today()
    slot = _slot_now()
    slots = selectors_health.slots_done(order_id=link.order_id, day=today)
    return render(
        request,
        "quarantine/self_page.html",
        {
            "am_done": Slot.MORNING in slots,
            "pm_done": Slot.EVENING in slots,
            "slot": slot,
            "slot_label": Slot(slot).label,
            "slot_done": slot in slots,
            "symptoms": Symptom.choices,
            "errors": errors or {},
            "values": values or {},
            "done": done,
        },
        status=status,
    )


def _slot_now() -> str:
    """The slot a report made now counts for: the morning until the county's morning due hour
    (QuarantineSettings.morning_due_hour, 12 by default), the evening after it."""
    due = selectors_sites.settings_get().morning_due_hour
    return Slot.MORNING if timezone.localtime().hour < due else Slot.EVENING


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def self_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:  # counted first, on its own: refused and invalid submissions count too
            rate_limit_hit(scope="health_self", key=client_ip(request) or "")
        except RateLimited as exc:
            response = render(
                request, "travel/public_429.html", {"message": str(exc.message)}, status=429
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
    link = selectors_health.link_by_token(token=token)
    if link is None:
        return _invalid(request)
    if request.method == "GET":
        return _page(request, link)
    values = {
        "temperature": request.POST.get("temperature", "").strip(),
        "symptoms": request.POST.getlist("symptoms"),
    }
    slot = _slot_now()
    try:
        services_health.health_check_record(
            actor=None,
            order=link.order,
            day=timeutils.local_today(),
            slot=slot,
            temperature=values["temperature"],
            symptoms=values["symptoms"],
            source=HealthCheck.Source.SELF,
        )
    except ValidationFailed as exc:
        return _page(request, link, errors=exc.errors, values=values, status=400)
    except Conflict as exc:
        return _page(request, link, errors={"general": [str(exc.message)]}, status=409)
    return _page(request, link, done=True)
