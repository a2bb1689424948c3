"""Pages of quarantine sites: the overview with today's occupancy and the 14-day forecast, a
site's own page for its staff (rooms by floor, occupants masked by role, people awaiting a
room, assign / check out / disinfected), and the county's settings.

Each view parses, reads through a selector, calls one service, renders or redirects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.people.presenters import person_display

from . import selectors_sites as sel
from . import services_sites as svc
from .forms_sites import RoomsAddForm, SettingsForm, SiteForm, StaffAddForm
from .models import Room, Stay
from .permissions import can_admin_sites, can_read, can_work_at_sites
from .selectors_health import HOME_KINDS


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


def _detail_context(request: HttpRequest, site: Any, **extra: Any) -> dict[str, Any]:
    today = timeutils.local_today()
    rooms = sel.site_rooms(viewer=request.user, site=site)
    floors: dict[int, list] = {}
    for room in rooms:
        floors.setdefault(room.floor, []).append(room)
    can_work = can_work_at_sites(request.user)
    stays = [
        {
            "stay": s,
            "person": person_display(viewer=request.user, person=s.person),
            "end": sel.centralized_end(order=s.order, today=today),
            "home_next": _next_phase_is_home(s.order),
        }
        for s in sel.open_stays(viewer=request.user, site=site)
    ]
    awaiting = [
        {"order": o, "person": person_display(viewer=request.user, person=o.person)}
        for o in sel.awaiting_rooms(viewer=request.user, today=today, limit=200)
    ]
    free_rooms = [r for r in rooms if r.status in ("free", "occupied") and r.used < r.capacity]
    can_admin = can_admin_sites(request.user)
    context = {
        "site": site,
        "floors": sorted(floors.items()),
        "beds": sum(r.capacity for r in rooms),
        "used": sum(r.used for r in rooms),
        "stays": stays,
        "awaiting": awaiting,
        "free_rooms": free_rooms,
        "out_reasons": [c for c in Stay.OutReason.choices if c[0] != Stay.OutReason.TRANSFER],
        "can_work": can_work,
        "can_admin": can_admin,
        "transfer_targets": _transfer_targets(request, site, free_rooms)
        if stays and can_work
        else [],
        "rooms_form": RoomsAddForm() if can_admin else None,
    }
    context.update(extra)
    return context


def _next_phase_is_home(order: Any) -> bool:
    following = order.current_phase + 1
    phases = order.phases or []
    return following < len(phases) and phases[following].get("kind") in HOME_KINDS


def _transfer_targets(request: HttpRequest, site: Any, free_rooms: list) -> list[dict[str, Any]]:
    """Rooms with a free bed: this site's first, then the other active sites the viewer works at."""
    groups = [{"site": site, "rooms": free_rooms}]
    for room in sel.rooms_with_a_free_bed(viewer=request.user, exclude_site=site):
        if groups[-1]["site"].pk != room.site_id:
            groups.append({"site": room.site, "rooms": []})
        groups[-1]["rooms"].append(room)
    return groups


def _named_errors(exc: ValidationFailed | Conflict, labels: dict[str, str]) -> str:
    """Each message after the label of its field (“床位：须在 1 到 20 之间”)."""
    if not exc.errors:
        return str(exc.message)
    parts = []
    for field, msgs in exc.errors.items():
        label = labels.get(field, "")
        for m in msgs:
            parts.append(f"{label}：{m}" if label else str(m))
    return "；".join(parts)


def _form_errors(
    form: Any, exc: ValidationFailed, *, aliases: dict[str, str] | None = None
) -> None:
    for field, msgs in exc.errors.items():
        field = (aliases or {}).get(field, field)
        for m in msgs:
            form.add_error(field if field in form.fields else None, str(m))


@_page
@require_GET
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    return render(request, "quarantine/site_detail.html", _detail_context(request, site))


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


# --- sites, rooms and staff (site administrators) ---------------------------------------------


def _require_admin(request: HttpRequest) -> None:
    """After the lookup: out of scope is missing (404), in scope but not an admin is 403."""
    if not can_admin_sites(request.user):
        raise PermissionDenied(_("只有县指挥部或系统管理员可以管理隔离点。"))


@_page
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    if request.method == "POST":
        form = SiteForm(request.POST)
        form.is_valid()
        try:
            site = svc.site_create(actor=request.user, data=form.data_for_service())
        except ValidationFailed as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已新增隔离点 %(name)s。") % {"name": site.name})
            return redirect("quarantine_sites:detail", site_id=site.pk)
    else:
        form = SiteForm()
    return render(request, "quarantine/site_form.html", {"form": form, "site": None})


@_page
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    _require_admin(request)
    if request.method == "POST":
        form = SiteForm(request.POST, with_active=True)
        form.is_valid()
        try:
            svc.site_update(actor=request.user, site=site, data=form.data_for_service())
        except ValidationFailed as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("隔离点信息已保存。"))
            return redirect("quarantine_sites:detail", site_id=site.pk)
    else:
        initial = {key: getattr(site, key) for key in ("name", "kind", "address", "note")}
        initial |= {
            "division_code": site.division_id,
            "manager_name": site.manager_name,
            "manager_phone": site.manager_phone,
            "active": site.active,
        }
        form = SiteForm(initial=initial, with_active=True)
    return render(request, "quarantine/site_form.html", {"form": form, "site": site})


@_page
@require_POST
def rooms_add(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    _require_admin(request)
    form = RoomsAddForm(request.POST)
    form.is_valid()
    try:
        rooms = svc.rooms_add(actor=request.user, site=site, data=form.data_for_service())
    except ValidationFailed as exc:
        _form_errors(form, exc)
        context = _detail_context(request, site, rooms_form=form)
        return render(request, "quarantine/site_detail.html", context, status=400)
    messages.success(request, _("已添加 %(n)s 间房。") % {"n": len(rooms)})
    return redirect("quarantine_sites:detail", site_id=site.pk)


@_page
@require_GET
def site_rooms(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    _require_admin(request)
    rooms = sel.site_rooms(viewer=request.user, site=site)
    statuses = [c for c in Room.Status.choices if c[0] != Room.Status.OCCUPIED]
    return render(
        request,
        "quarantine/site_rooms.html",
        {"site": site, "rooms": rooms, "statuses": statuses},
    )


ROOM_LABELS = {"status": _lazy("状态"), "capacity": _lazy("床位"), "note": _lazy("备注")}


@_page
@require_POST
def room_update(request: HttpRequest, room_id: int) -> HttpResponse:
    room = sel.access_room_by_id(viewer=request.user, room_id=room_id)
    _require_admin(request)
    data = {key: request.POST.get(key) for key in ("status", "capacity", "note")}
    if data["status"] == room.status:
        data["status"] = None  # unchanged: an occupied room can still get more beds
    try:
        svc.room_update(actor=request.user, room=room, data=data)
    except (ValidationFailed, Conflict) as exc:
        messages.error(
            request,
            _("房间 %(room)s：%(errors)s")
            % {"room": room.number, "errors": _named_errors(exc, ROOM_LABELS)},
        )
    else:
        messages.success(request, _("房间 %(room)s 已保存。") % {"room": room.number})
    return redirect("quarantine_sites:rooms", site_id=room.site_id)


@_page
@require_http_methods(["GET", "POST"])
def site_staff(request: HttpRequest, site_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    _require_admin(request)
    status = 200
    if request.method == "POST":
        form = StaffAddForm(request.POST)
        form.is_valid()
        try:
            svc.staff_add(
                actor=request.user,
                site=site,
                user_id=form.user_id(),
                duty=str(request.POST.get("duty", "")),
            )
        except ValidationFailed as exc:
            _form_errors(form, exc, aliases={"user_id": "username"})
            status = 400
        else:
            messages.success(request, _("已添加工作人员。"))
            return redirect("quarantine_sites:staff", site_id=site.pk)
    else:
        form = StaffAddForm()
    staff = sel.site_staff(viewer=request.user, site=site)
    return render(
        request,
        "quarantine/site_staff.html",
        {"site": site, "staff": staff, "form": form},
        status=status,
    )


@_page
@require_POST
def staff_remove(request: HttpRequest, site_id: int, user_id: int) -> HttpResponse:
    site = sel.access_site_by_id(viewer=request.user, site_id=site_id)
    _require_admin(request)
    svc.staff_remove(actor=request.user, site=site, user_id=user_id)
    messages.success(request, _("已移出工作人员。"))
    return redirect("quarantine_sites:staff", site_id=site.pk)


# --- stays: transfer and moving home (staff of the site) ---------------------------------------


TRANSFER_LABELS = {"room_id": _lazy("目标房间"), "reason": _lazy("原因")}
MOVE_LABELS = {
    "escort": _lazy("转运负责人"),
    "vehicle_plate": _lazy("车牌号"),
    "handed_to": _lazy("交接人"),
    "phase": _lazy("分段"),
}


@_page
@require_POST
def transfer(request: HttpRequest, stay_id: int) -> HttpResponse:
    stay = sel.access_stay_by_id(viewer=request.user, stay_id=stay_id)
    try:
        room_id = int(request.POST.get("room_id", "") or 0)
    except ValueError:
        room_id = 0
    try:
        if not room_id:
            raise ValidationFailed({"room_id": [_("请选择另一间房")]})
        room = sel.access_room_by_id(viewer=request.user, room_id=room_id)
        new = svc.stay_transfer(
            actor=request.user, stay=stay, room=room, reason=request.POST.get("reason", "")
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _named_errors(exc, TRANSFER_LABELS))
    else:
        messages.success(
            request,
            _("已转入 %(site)s %(room)s。") % {"site": new.site.name, "room": new.room.number},
        )
    return redirect("quarantine_sites:detail", site_id=stay.site_id)


@_page
@require_POST
def move_home(request: HttpRequest, stay_id: int) -> HttpResponse:
    stay = sel.access_stay_by_id(viewer=request.user, stay_id=stay_id)
    if stay.checked_out_at is not None:
        messages.error(request, _("该人员已离开，不能再办理。"))
        return redirect("quarantine_sites:detail", site_id=stay.site_id)
    order = sel.access_order_by_id(viewer=request.user, order_id=stay.order_id)
    try:
        svc.order_move_home(
            actor=request.user,
            order=order,
            escort=request.POST.get("escort", ""),
            vehicle_plate=request.POST.get("vehicle_plate", ""),
            handed_to=request.POST.get("handed_to", ""),
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _named_errors(exc, MOVE_LABELS))
    else:
        messages.success(request, _("已办理转居家，房间待消杀。"))
    return redirect("quarantine_sites:detail", site_id=stay.site_id)
