"""Pages of quarantine sites: the overview with today's occupancy and the 14-day forecast, a
site's own page for its staff (rooms by floor, occupants masked by role, people awaiting a
room, assign / check out / disinfected), and the county's settings.

Each view parses, reads through a selector, calls one service, renders or redirects.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.people.presenters import person_display

from . import selectors_sites as sel
from . import services_sites as svc
from .forms_sites import SettingsForm
from .models import Stay
from .permissions import can_admin_sites, can_read, can_work_at_sites


def _require_read(request: HttpRequest) -> None:
    if not can_read(request.user):
        raise PermissionDenied(_("您的角色不能查看集中隔离信息。"))


def _error_text(exc: ValidationFailed | Conflict) -> str:
    if exc.errors:
        return "；".join(str(m) for msgs in exc.errors.values() for m in msgs)
    return str(exc.message)


@_page
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    _require_read(request)
    today = timeutils.local_today()
    occ = sel.occupancy(viewer=request.user, start=today, days=1)
    fc = sel.forecast(viewer=request.user, today=today)
    context = {
        "rows": occ["sites"],
        "totals": occ["totals"],
        "forecast": fc,
        "chart": {
            "days": [d["day"].isoformat() for d in fc["days"]],
            "needed": [d["rooms_needed"] for d in fc["days"]],
            "rooms": [d["rooms"] for d in fc["days"]],
        },
        "can_admin": can_admin_sites(request.user),
    }
    return render(request, "quarantine/site_list.html", context)


@_page
@require_GET
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    today = timeutils.local_today()
    rooms = sel.site_rooms(viewer=request.user, site=site)
    floors: dict[int, list] = {}
    for room in rooms:
        floors.setdefault(room.floor, []).append(room)
    stays = [
        {
            "stay": s,
            "person": person_display(viewer=request.user, person=s.person),
            "end": sel.centralized_end(order=s.order, today=today),
        }
        for s in sel.open_stays(viewer=request.user, site=site)
    ]
    awaiting = [
        {"order": o, "person": person_display(viewer=request.user, person=o.person)}
        for o in sel.awaiting_rooms(viewer=request.user, today=today, limit=200)
    ]
    free_rooms = [r for r in rooms if r.status in ("free", "occupied") and r.used < r.capacity]
    context = {
        "site": site,
        "floors": sorted(floors.items()),
        "beds": sum(r.capacity for r in rooms),
        "used": sum(r.used for r in rooms),
        "stays": stays,
        "awaiting": awaiting,
        "free_rooms": free_rooms,
        "out_reasons": [c for c in Stay.OutReason.choices if c[0] != Stay.OutReason.TRANSFER],
        "can_work": can_work_at_sites(request.user),
    }
    return render(request, "quarantine/site_detail.html", context)


@_page
@require_POST
def assign(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    try:
        order = sel.access_order_by_id(
            viewer=request.user, order_id=int(request.POST.get("order_id", "0") or 0)
        )
        room = sel.access_room_by_id(
            viewer=request.user, room_id=int(request.POST.get("room_id", "0") or 0)
        )
        svc.stay_assign(actor=request.user, order=order, room=room)
    except ValueError:
        messages.error(request, _("请选择人员和房间。"))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已安排入住 %(room)s。") % {"room": room.number})
    return redirect("quarantine_sites:detail", site_id=site.pk)


@_page
@require_POST
def checkout(request: HttpRequest, stay_id: int) -> HttpResponse:
    stay = sel.access_stay_by_id(viewer=request.user, stay_id=stay_id)
    try:
        svc.stay_checkout(
            actor=request.user,
            stay=stay,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已办理离开，房间待消杀。"))
    return redirect("quarantine_sites:detail", site_id=stay.site_id)


@_page
@require_POST
def disinfected(request: HttpRequest, room_id: int) -> HttpResponse:
    room = sel.access_room_by_id(viewer=request.user, room_id=room_id)
    try:
        svc.room_disinfected(actor=request.user, room=room)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("房间 %(room)s 已消杀，可以入住。") % {"room": room.number})
    return redirect("quarantine_sites:detail", site_id=room.site_id)


@_page
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if not can_admin_sites(request.user):
        raise PermissionDenied(_("只有县指挥部或系统管理员可以修改设置。"))
    row = sel.settings_get(viewer=request.user)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        form.is_valid()
        try:
            svc.settings_update(actor=request.user, data=request.POST.dict())
        except ValidationFailed as exc:
            for field, msgs in exc.errors.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, str(m))
        else:
            messages.success(request, _("设置已保存。"))
            return redirect("quarantine_sites:settings")
    else:
        form = SettingsForm(initial={name: getattr(row, name) for name in SettingsForm.base_fields})
    return render(request, "quarantine/settings.html", {"form": form})
