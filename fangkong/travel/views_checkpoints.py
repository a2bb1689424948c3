"""Staff pages of checkpoints (/checkpoints/): the list, a checkpoint with its 48-hour duty
timeline and roster, entry and editing, and the coverage view (未来48小时无人值守的时段).

Each view parses, reads through a selector, calls one service, renders. Out-of-scope ids
answer 404 like missing ones; a role that may only read gets the 403 page on writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, DomainError, ValidationFailed
from fangkong.core.masking import mask_phone
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.selectors import division_list

from . import selectors_checkpoints as selectors
from . import services_checkpoints as services
from .models import Checkpoint, DutyShift

ROSTER_PATTERNS = {
    "3x8": ((0, 8), (8, 16), (16, 24)),
    "2x12": ((8, 20), (20, 32)),
}
ROSTER_SLOTS = 3


# --- forms (presentation only: the services check the values) -------------------------------


class CheckpointForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("卡口名称"), required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", "---------"), *Checkpoint.Kind.choices],
    )
    division_code = forms.ChoiceField(label=gettext_lazy("所在区划"), required=False)
    location = forms.CharField(label=gettext_lazy("位置"), required=False)
    responsible_unit = forms.CharField(label=gettext_lazy("责任单位"), required=False)
    leader_name = forms.CharField(label=gettext_lazy("责任领导"), required=False)
    leader_phone = forms.CharField(label=gettext_lazy("责任领导电话"), required=False)
    leader_id = forms.IntegerField(
        label=gettext_lazy("责任领导账号编号"),
        required=False,
        help_text=gettext_lazy("填写后，该账号在首页和值守缺口页看到本卡口的缺口提醒。"),
    )

    def __init__(self, *args: Any, division_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = [("", "---------"), *division_choices]
        for f in self.fields.values():
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", css)

    def data_for_service(self) -> dict[str, Any]:
        return {k: self.data.get(k, "") for k in self.fields}


class ShiftForm(forms.Form):
    starts_at = forms.CharField(
        label=gettext_lazy("开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.CharField(
        label=gettext_lazy("结束时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    staff_name = forms.CharField(label=gettext_lazy("值守人员"), required=False)
    staff_phone = forms.CharField(label=gettext_lazy("手机号"), required=False)
    post = forms.CharField(
        label=gettext_lazy("岗位"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如：党员先锋岗")}),
    )
    is_volunteer = forms.BooleanField(label=gettext_lazy("志愿者"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            f.widget.attrs.setdefault(
                "class", "form-check-input" if name == "is_volunteer" else "form-control"
            )

    def data_for_service(self) -> dict[str, Any]:
        data = {k: self.data.get(k, "") for k in self.fields}
        data["is_volunteer"] = self.data.get("is_volunteer") in ("on", "true", "1")
        return data


def _apply(form: forms.Form, exc: DomainError) -> None:
    """The service's {field: [messages]} next to the form's fields; the rest on top."""
    placed = False
    for key, msgs in exc.errors.items():
        for message in msgs:
            form.add_error(key if key in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _division_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [
        (d.code, d.full_name or d.name)
        for d in division_list(viewer=request.user).filter(level__lte=3)[:500]
    ]


def _phone_for(viewer: Any, value: str) -> str:
    return value if policy_for(viewer).phone == FULL else mask_phone(value)


def _require_manage(request: HttpRequest, checkpoint: Checkpoint | None = None) -> None:
    allowed = (
        selectors.can_manage_checkpoint(viewer=request.user, checkpoint=checkpoint)
        if checkpoint is not None
        else selectors.can_manage_checkpoints(viewer=request.user)
    )
    if not allowed:
        raise PermissionDenied(_("您的角色不能维护卡口和值守排班。"))


# --- the list --------------------------------------------------------------------------------


@_page
@require_GET
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("kind", "division", "q", "closed")}
    qs = selectors.checkpoint_list(
        viewer=request.user,
        kind=params["kind"] or None,
        division=params["division"] if params["division"].isdigit() else None,
        active=None if params["closed"] == "1" else True,
        text=params["q"] or None,
    )
    page = paginate(qs, page=request.GET.get("page"))
    active = [c for c in page.items if c.active]
    coverage = {c.checkpoint.pk: c for c in selectors.coverage_for(checkpoints=active)}
    rows = [{"c": c, "coverage": coverage.get(c.pk)} for c in page.items]
    context = {
        "params": params,
        "page": page,
        "rows": rows,
        "kind_choices": Checkpoint.Kind.choices,
        "division_choices": _division_choices(request),
        "can_manage": selectors.can_manage_checkpoints(viewer=request.user),
        "my_gaps": len(selectors.gaps_for_leader(user=request.user)),
        "query": request.GET.urlencode(),
    }
    return render(request, "travel/checkpoint_list.html", context)


# --- create and edit -------------------------------------------------------------------------


@_page
@require_http_methods(["GET", "POST"])
def checkpoint_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    choices = _division_choices(request)
    if request.method == "POST":
        form = CheckpointForm(request.POST, division_choices=choices)
        form.is_valid()
        try:
            checkpoint = services.checkpoint_create(
                actor=request.user, data=form.data_for_service()
            )
        except ValidationFailed as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("已登记卡口，请安排值守班次。"))
            return redirect("checkpoints:detail", checkpoint_id=checkpoint.pk)
    else:
        form = CheckpointForm(division_choices=choices)
    return render(request, "travel/checkpoint_form.html", {"form": form, "checkpoint": None})


@_page
@require_http_methods(["GET", "POST"])
def checkpoint_edit(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    _require_manage(request, checkpoint)
    choices = _division_choices(request)
    if request.method == "POST":
        form = CheckpointForm(request.POST, division_choices=choices)
        form.is_valid()
        try:
            services.checkpoint_update(
                actor=request.user, checkpoint=checkpoint, data=form.data_for_service()
            )
        except ValidationFailed as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("已保存卡口信息。"))
            return redirect("checkpoints:detail", checkpoint_id=checkpoint.pk)
    else:
        form = CheckpointForm(
            division_choices=choices,
            initial={
                "name": checkpoint.name,
                "kind": checkpoint.kind,
                "division_code": checkpoint.division_id,
                "location": checkpoint.location,
                "responsible_unit": checkpoint.responsible_unit,
                "leader_name": checkpoint.leader_name,
                "leader_phone": checkpoint.leader_phone,
                "leader_id": checkpoint.leader_id,
            },
        )
    context = {"form": form, "checkpoint": checkpoint}
    return render(request, "travel/checkpoint_form.html", context)


@_page
@require_POST
def checkpoint_deactivate(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    _require_manage(request, checkpoint)
    try:
        services.checkpoint_deactivate(
            actor=request.user, checkpoint=checkpoint, reason=request.POST.get("reason", "")
        )
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("卡口已撤除，不再列入值守缺口。"))
    return redirect("checkpoints:detail", checkpoint_id=checkpoint.pk)


# --- detail: timeline and roster -------------------------------------------------------------


def _shift_rows(viewer: Any, shifts: list[DutyShift], now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "s": s,
            "phone": _phone_for(viewer, s.staff_phone),
            "running": s.starts_at <= now < s.ends_at,
            "over": s.ends_at <= now,
        }
        for s in shifts
    ]


def _detail_context(
    request: HttpRequest,
    checkpoint: Checkpoint,
    *,
    form: ShiftForm | None = None,
    roster_errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    now = timeutils.now()
    coverage = selectors.coverage_for(checkpoints=[checkpoint], now=now)[0]
    shifts = list(
        selectors.shifts_for(
            checkpoint=checkpoint,
            starts=now - dt.timedelta(hours=24),
            ends=now + dt.timedelta(days=7),
        )
    )
    local = timezone.localtime(now)
    if form is None:
        start = local.replace(minute=0, second=0, microsecond=0)
        form = ShiftForm(
            initial={
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
            }
        )
    return {
        "checkpoint": checkpoint,
        "coverage": coverage,
        "timeline": coverage.timeline() if checkpoint.active else [],
        "shifts": _shift_rows(request.user, shifts, now),
        "leader_phone": _phone_for(request.user, checkpoint.leader_phone),
        "can_manage": selectors.can_manage_checkpoint(viewer=request.user, checkpoint=checkpoint),
        "is_leader": checkpoint.leader_id is not None and checkpoint.leader_id == request.user.pk,
        "form": form,
        "roster_day": (local + dt.timedelta(days=1)).date().isoformat(),
        "roster_slots": range(1, ROSTER_SLOTS + 1),
        "roster_errors": roster_errors or {},
    }


@_page
@require_GET
def checkpoint_detail(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    return render(request, "travel/checkpoint_detail.html", _detail_context(request, checkpoint))


@_page
@require_POST
def shift_create(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    _require_manage(request, checkpoint)
    form = ShiftForm(request.POST)
    form.is_valid()
    try:
        services.duty_shift_create(
            actor=request.user, checkpoint=checkpoint, data=form.data_for_service()
        )
    except (ValidationFailed, Conflict) as exc:
        _apply(form, exc)
        context = _detail_context(request, checkpoint, form=form)
        return render(request, "travel/checkpoint_detail.html", context, status=400)
    messages.success(request, _("已添加值守班次。"))
    return redirect(f"{reverse('checkpoints:detail', args=[checkpoint.pk])}#roster")


@_page
@require_POST
def roster_create(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    """A day's roster: a pattern (three 8-hour or two 12-hour shifts) and who takes each."""
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    _require_manage(request, checkpoint)
    pattern = ROSTER_PATTERNS.get(request.POST.get("pattern", ""), ROSTER_PATTERNS["3x8"])
    errors: dict[str, list[str]] = {}
    try:
        day = dt.date.fromisoformat(request.POST.get("day", "").strip())
    except ValueError:
        day = None
        errors["day"] = [_("请选择排班日期。")]
    rows = []
    if day is not None:
        midnight = dt.datetime.combine(day, dt.time())
        for index, (start_h, end_h) in enumerate(pattern, start=1):
            name = request.POST.get(f"staff_name_{index}", "").strip()
            if not name:
                continue
            rows.append(
                {
                    "starts_at": midnight + dt.timedelta(hours=start_h),
                    "ends_at": midnight + dt.timedelta(hours=end_h),
                    "staff_name": name,
                    "staff_phone": request.POST.get(f"staff_phone_{index}", ""),
                    "post": request.POST.get(f"post_{index}", ""),
                    "is_volunteer": request.POST.get(f"is_volunteer_{index}") == "on",
                }
            )
    if not errors:
        try:
            shifts = services.duty_roster_create(
                actor=request.user, checkpoint=checkpoint, rows=rows
            )
        except (ValidationFailed, Conflict) as exc:
            errors = exc.errors or {"rows": [str(exc.message)]}
        else:
            messages.success(request, _("已排班 %(n)s 个班次。") % {"n": len(shifts)})
            return redirect(f"{reverse('checkpoints:detail', args=[checkpoint.pk])}#roster")
    context = _detail_context(request, checkpoint, roster_errors=errors)
    context["roster_messages"] = [str(m) for msgs in errors.values() for m in msgs]
    return render(request, "travel/checkpoint_detail.html", context, status=400)


@_page
@require_POST
def shift_delete(request: HttpRequest, checkpoint_id: int, shift_id: int) -> HttpResponse:
    checkpoint = selectors.access_checkpoint_by_id(viewer=request.user, checkpoint_id=checkpoint_id)
    _require_manage(request, checkpoint)
    shift = selectors.access_shift_by_id(checkpoint=checkpoint, shift_id=shift_id)
    try:
        services.duty_shift_delete(actor=request.user, shift=shift)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已删除值守班次。"))
    return redirect(f"{reverse('checkpoints:detail', args=[checkpoint.pk])}#roster")


# --- the coverage view -----------------------------------------------------------------------


@_page
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """未来48小时无人值守的时段: the viewer's checkpoints with a gap; those the viewer leads
    first, marked 需要您安排."""
    now = timeutils.now()
    found = selectors.coverage_gaps(viewer=request.user, now=now)
    seen = {c.checkpoint.pk for c in found}
    # A leader may lead a checkpoint outside their jurisdiction: their own come in as well.
    found += [
        c
        for c in selectors.gaps_for_leader(user=request.user, now=now)
        if c.checkpoint.pk not in seen and c.checkpoint.leader_id == request.user.pk
    ]
    mine = [c for c in found if c.checkpoint.leader_id == request.user.pk]
    others = [c for c in found if c.checkpoint.leader_id != request.user.pk]
    context = {
        "mine": mine,
        "others": others,
        "now": now,
        "can_manage": selectors.can_manage_checkpoints(viewer=request.user),
    }
    return render(request, "travel/checkpoint_coverage.html", context)
