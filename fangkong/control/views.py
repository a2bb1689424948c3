"""Loop and order pages: the grid worker's inbox (a phone page), the overview per division,
the order list and detail with their actions, and the county's clocks.

Each view parses, fetches through access_/selectors, calls one service and renders. Out-of-scope
ids answer 404 like missing ones; a role that may not act gets the 403 page. People are shown
through people.presenters.person_display (masked by role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, DomainError, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.selectors import division_list
from fangkong.people.forms import apply_domain_error
from fangkong.people.presenters import person_display

from . import selectors, services
from .choices import VisitOutcome
from .forms import (
    LoopSettingsForm,
    OrderCancelForm,
    OrderChangeForm,
    OrderConfirmForm,
    OrderFilterForm,
    OrderReleaseForm,
    OrderTransferForm,
    StepCompleteForm,
)
from .models import ACTIVE_STATUSES, OPEN_STATUSES, ControlOrder, Escalation, OrderStatus
from .permissions import (
    can_change_settings,
    can_complete_steps,
    can_write_orders,
    escalation_level_for,
)
from .presenters import event_display, order_display, step_display, task_display

FILTER_CHOICES_MAX = 300


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _error_text(exc: DomainError) -> str:
    details = [str(m) for msgs in exc.errors.values() for m in msgs]
    if exc.status == 409 or not details:
        return str(exc.message)
    return "；".join(details)


# --- inbox -----------------------------------------------------------------------------------


def _card_context(
    request: HttpRequest,
    task: Any,
    now: Any,
    *,
    form: StepCompleteForm | None = None,
    error: str = "",
    done_message: str = "",
) -> dict[str, Any]:
    return {
        "t": task_display(viewer=request.user, task=task, now=now),
        "can_act": can_complete_steps(request.user),
        "can_change": can_write_orders(request.user),
        "form": form or StepCompleteForm(),
        "outcomes": VisitOutcome.choices,
        "error": error,
        "done_message": done_message,
    }


@_page
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    now = timeutils.now()
    tasks = selectors.inbox(viewer=request.user, now=now)
    page = paginate(tasks, page=request.GET.get("page"), page_size=20)
    cards = [_card_context(request, task, now) for task in page.items]
    context = {
        "page": page,
        "cards": cards,
        "overdue_count": sum(1 for c in cards if c["t"]["overdue"]),
        "now": now,
    }
    return render(request, "control/inbox.html", context)


@_page
@require_POST
def step_complete(request: HttpRequest, step_id: int) -> HttpResponse:
    step = selectors.access_step_by_id(viewer=request.user, step_id=step_id)
    if not can_complete_steps(request.user):
        raise PermissionDenied(_("您的角色不能办理闭环任务。"))
    form = StepCompleteForm(request.POST)
    error = ""
    done_message = ""
    if form.is_valid():
        try:
            done = services.loop_step_complete(
                actor=request.user,
                step=step,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc)
            error = _error_text(exc)
        else:
            form = StepCompleteForm()
            if done.done_at is None:
                done_message = _("已记录情况，任务继续办理，村（社区）已收到提醒。")
            else:
                done_message = _("“%(step)s”已完成。") % {"step": done.get_kind_display()}
    else:
        error = _("输入有误，请检查标出的字段。")
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done_message)
        return redirect("control:inbox")
    task = selectors.access_task_by_id(viewer=request.user, task_id=step.task_id)
    context = _card_context(
        request, task, timeutils.now(), form=form, error=error, done_message=done_message
    )
    response = render(request, "control/_task_card.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- overview --------------------------------------------------------------------------------


@_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    now = timeutils.now()
    code = request.GET.get("division", "").strip() or None
    data = selectors.loop_overview(viewer=request.user, division=code, now=now)
    level = escalation_level_for(request.user)
    supervise = []
    supervise_count = 0
    if level is not None:
        steps = selectors.escalated_steps(
            viewer=request.user,
            level=level,
            division=data.division.code if data.division else None,
        )
        page = paginate(steps, page=request.GET.get("page"), page_size=50)
        supervise_count = page.count
        supervise = [
            {
                "step": step_display(step, now=now),
                "task": step.task,
                "division_name": step.task.division.full_name or step.task.division.name,
                "person": person_display(viewer=request.user, person=step.task.person),
            }
            for step in page.items
        ]
    context = {
        "data": data,
        "level": level,
        "level_label": dict(Escalation.choices).get(level, "") if level else "",
        "supervise": supervise,
        "supervise_count": supervise_count,
        "now": now,
    }
    return render(request, "control/overview.html", context)


# --- orders ----------------------------------------------------------------------------------


def _division_choices(request: HttpRequest, selected: str) -> list[dict[str, Any]]:
    divisions = division_list(viewer=request.user)
    if divisions.count() > FILTER_CHOICES_MAX:
        divisions = divisions.filter(level__lte=2)
    rows = [{"code": d.code, "label": d.full_name or d.name} for d in divisions]
    if selected and selected not in {r["code"] for r in rows}:
        rows.insert(0, {"code": selected, "label": selected})
    return rows


@_page
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET)
    filters = form.filters()
    orders = selectors.order_list(viewer=request.user, **filters)
    page = paginate(orders, page=request.GET.get("page"))
    today = timeutils.local_today()
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": [order_display(viewer=request.user, order=o, today=today) for o in page.items],
        "division_choices": _division_choices(request, filters["division"] or ""),
        "status_choices": form.fields["status"].choices,
        "category_choices": form.fields["category"].choices,
    }
    return render(request, "control/order_list.html", context)


def _order_forms(order: ControlOrder, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    forms = {
        "confirm": OrderConfirmForm(prefix="confirm"),
        "change": OrderChangeForm(prefix="change"),
        "cancel": OrderCancelForm(prefix="cancel"),
        "transfer": OrderTransferForm(prefix="transfer"),
        "release": OrderReleaseForm(prefix="release"),
    }
    forms.update(bound or {})
    return forms


def _render_order(
    request: HttpRequest,
    order: ControlOrder,
    *,
    bound: dict[str, Any] | None = None,
    open_action: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    today = timeutils.local_today()
    now = timeutils.now()
    can_write = can_write_orders(request.user)
    is_open = order.status in OPEN_STATUSES
    is_active = order.status in ACTIVE_STATUSES
    o = order_display(viewer=request.user, order=order, today=today)
    following = order.current_phase + 1
    context = {
        "order": order,
        "o": o,
        "next_phase": o["phases"][following] if following < len(o["phases"]) else None,
        "events": [event_display(e) for e in selectors.order_events(order=order)],
        "tasks": [
            {"task": t, "steps": [step_display(s, now=now) for s in t.steps.all()]}
            for t in selectors.order_tasks(order=order)
        ],
        "forms": _order_forms(order, bound),
        "open_action": open_action,
        "error": error,
        "actions": {
            "confirm": can_write and order.status == OrderStatus.PROPOSED,
            "change": can_write and is_open,
            "cancel": can_write and is_open,
            "transfer": can_write and is_open,
            "advance": can_write and is_active and order.current_phase + 1 < len(order.phases),
            "release": can_write and is_active,
        },
        "can_write": can_write,
    }
    return render(request, "control/order_detail.html", context, status=status)


@_page
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.access_order_by_id(viewer=request.user, order_id=order_id)
    return _render_order(request, order, open_action=request.GET.get("action", ""))


def _order_action(
    request: HttpRequest,
    order_id: int,
    *,
    name: str,
    form_class: type,
    call: Callable[[ControlOrder, dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    order = selectors.access_order_by_id(viewer=request.user, order_id=order_id)
    if not can_write_orders(request.user):
        raise PermissionDenied(_("您的角色不能办理管控措施。"))
    form = form_class(request.POST, prefix=name)
    if form.is_valid():
        try:
            call(order, form.cleaned_data)
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc)
            return _render_order(
                request,
                selectors.access_order_by_id(viewer=request.user, order_id=order_id),
                bound={name: form},
                open_action=name,
                error=_error_text(exc),
                status=409 if exc.status == 409 else 400,
            )
        messages.success(request, success)
        return redirect("control:order_detail", order_id=order.pk)
    return _render_order(request, order, bound={name: form}, open_action=name, status=400)


@_page
@require_POST
def order_confirm(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(
        request,
        order_id,
        name="confirm",
        form_class=OrderConfirmForm,
        call=lambda order, data: services.order_confirm(
            actor=request.user,
            order=order,
            reason=data["reason"],
            category=data["category"] or None,
            anchor_date=data["anchor_date"],
        ),
        success=_("措施已确认，开始执行。"),
    )


@_page
@require_POST
def order_change(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(
        request,
        order_id,
        name="change",
        form_class=OrderChangeForm,
        call=lambda order, data: services.order_change(
            actor=request.user,
            order=order,
            reason=data["reason"],
            category=data["category"] or None,
            anchor_date=data["anchor_date"],
        ),
        success=_("措施已调整。"),
    )


@_page
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(
        request,
        order_id,
        name="cancel",
        form_class=OrderCancelForm,
        call=lambda order, data: services.order_cancel(
            actor=request.user, order=order, reason=data["reason"]
        ),
        success=_("措施已撤销。"),
    )


@_page
@require_POST
def order_transfer(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(
        request,
        order_id,
        name="transfer",
        form_class=OrderTransferForm,
        call=lambda order, data: services.order_transfer_out(
            actor=request.user,
            order=order,
            reason=data["reason"],
            destination=data["destination"],
        ),
        success=_("措施已转出。"),
    )


@_page
@require_POST
def order_release(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(
        request,
        order_id,
        name="release",
        form_class=OrderReleaseForm,
        call=lambda order, data: services.order_release(
            actor=request.user, order=order, reason=data["reason"]
        ),
        success=_("措施已解除。"),
    )


@_page
@require_POST
def order_advance(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.access_order_by_id(viewer=request.user, order_id=order_id)
    if not can_write_orders(request.user):
        raise PermissionDenied(_("您的角色不能办理管控措施。"))
    try:
        services.order_advance_phase(actor=request.user, order=order)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("已转入下一分段。"))
    return redirect("control:order_detail", order_id=order.pk)


# --- settings --------------------------------------------------------------------------------


@_page
@require_http_methods(["GET", "POST"])
def loop_settings(request: HttpRequest) -> HttpResponse:
    current = selectors.loop_settings_current()
    may_edit = can_change_settings(request.user)
    fields = list(LoopSettingsForm.base_fields)
    initial = {f: getattr(current, f) for f in fields}
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("只有县指挥部和系统管理员可以修改闭环时限。"))
        form = LoopSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.loop_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("闭环时限已保存，新的下发任务按新时限计时。"))
                return redirect(reverse("control:settings"))
    else:
        form = LoopSettingsForm(initial=initial)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "may_edit": may_edit, "current": current}
    return render(request, "control/settings.html", context)
