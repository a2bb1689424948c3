"""Staff pages of arrivals: the list, entry, detail, the HQ view, the QR posters and the assist
requests (协查函). Each view parses, reads through a selector, calls one service, renders.

Out-of-scope ids answer 404 like missing ones; a role that may not act gets the 403 page.
People are masked by their role (presenters); the Word letter (full data) is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.roles import policy_for
from fangkong.control.selectors import task_list
from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.models import Division
from fangkong.geo.selectors import division_list
from fangkong.imports.services import import_job_start
from fangkong.policy.models import RiskLevel
from fangkong.policy.selectors import county_root

from . import permissions, qrcodes, selectors, services
from .forms import (
    ArrivalForm,
    AssistFeedbackForm,
    AssistImportForm,
    AssistRequestForm,
    ReasonForm,
    apply_domain_error,
)
from .models import AssistRequest, Channel
from .presenters import arrival_display, assist_display, entry_display

HQ_DEFAULT_DAYS = 14
HQ_MAX_DAYS = 92


def _require_register(request: HttpRequest) -> None:
    if not permissions.can_register(request.user):
        raise PermissionDenied(_("您的角色不能登记来返人员。"))


def _require_assist_read(request: HttpRequest) -> None:
    if not selectors.can_read_assist(viewer=request.user):
        raise Http404(_("协查函不存在。"))


def _date_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


# --- the list --------------------------------------------------------------------------------


@_page
@require_GET
def arrival_list(request: HttpRequest) -> HttpResponse:
    params = {
        k: request.GET.get(k, "").strip()
        for k in ("arrived_from", "arrived_to", "origin", "risk_level", "channel", "division")
    }
    qs = selectors.arrival_list(
        viewer=request.user,
        arrived_from=_date_param(params["arrived_from"]),
        arrived_to=_date_param(params["arrived_to"]),
        origin=params["origin"] or None,
        risk_level=params["risk_level"] or None,
        channel=params["channel"] or None,
        division=params["division"] if params["division"].isdigit() else None,
    )
    page = paginate(qs, page=request.GET.get("page"))
    today = timeutils.local_today()
    context = {
        "params": params,
        "page": page,
        "rows": [arrival_display(viewer=request.user, reg=r, today=today) for r in page.items],
        "filtered": any(params.values()),
        "risk_choices": [*RiskLevel.choices, ("none", _("非风险地区"))],
        "channel_choices": Channel.choices,
        "division_choices": [
            (d.code, d.full_name or d.name)
            for d in division_list(viewer=request.user).filter(level__lte=2)[:300]
        ],
        "can_register": permissions.can_register(request.user),
        "can_read_assist": selectors.can_read_assist(viewer=request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "travel/arrival_list.html", context)


# --- entry -----------------------------------------------------------------------------------


def _grid_choices(request: HttpRequest) -> list[tuple[str, str]]:
    """The grids this registrant may choose: the county's for county-wide roles, else the
    small grids of their jurisdiction."""
    if permissions.registers_county_wide(request.user):
        grids = Division.objects.filter(level=Division.Level.GRID).order_by("code")
    else:
        grids = division_list(viewer=request.user, level=Division.Level.GRID)
    return [(g.code, g.full_name or g.name) for g in grids]


@_page
@require_http_methods(["GET", "POST"])
def arrival_create(request: HttpRequest) -> HttpResponse:
    _require_register(request)
    grids = _grid_choices(request)
    if request.method == "POST":
        form = ArrivalForm(request.POST, grid_choices=grids)
        form.is_valid()
        channel = (
            Channel.CHECKPOINT if permissions.is_checkpoint(request.user) else Channel.GRID_ENTRY
        )
        try:
            result = services.arrival_register(
                actor=request.user, data=form.arrival_data(), channel=channel
            )
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已登记来返人员（报备编号 %(id)s），建议措施见下方。")
                % {"id": result.registration.pk},
            )
            return redirect(f"{reverse('travel:detail', args=[result.registration.pk])}?new=1")
    else:
        form = ArrivalForm(
            grid_choices=grids, initial={"arrived_on": timeutils.local_today().isoformat()}
        )
        if len(grids) == 1:
            form.initial["destination_code"] = grids[0][0]
    return render(request, "travel/arrival_form.html", {"form": form})


# --- detail ----------------------------------------------------------------------------------


@_page
@require_GET
def arrival_detail(request: HttpRequest, arrival_id: int) -> HttpResponse:
    reg = selectors.access_arrival_by_id(viewer=request.user, arrival_id=arrival_id)
    tasks = task_list(viewer=request.user).filter(source_type="arrival", source_id=str(reg.pk))
    context = {
        "reg": reg,
        "a": arrival_display(viewer=request.user, reg=reg, today=timeutils.local_today()),
        "tasks": list(tasks),
        "new": request.GET.get("new") == "1",
        "can_read_assist": selectors.can_read_assist(viewer=request.user),
        "assist_request_id": (
            selectors.outgoing_request_id_for(arrival=reg)
            if reg.outside_county
            else reg.assist_request_id
        ),
    }
    return render(request, "travel/arrival_detail.html", context)


# --- the HQ view -----------------------------------------------------------------------------


@_page
@require_GET
def arrival_hq(request: HttpRequest) -> HttpResponse:
    today = timeutils.local_today()
    date_to = _date_param(request.GET.get("to")) or today
    date_from = _date_param(request.GET.get("from")) or date_to - dt.timedelta(
        days=HQ_DEFAULT_DAYS - 1
    )
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days >= HQ_MAX_DAYS:
        date_from = date_to - dt.timedelta(days=HQ_MAX_DAYS - 1)
    stats = selectors.arrival_stats(viewer=request.user, date_from=date_from, date_to=date_to)
    context = {
        "stats": stats,
        "date_from": date_from,
        "date_to": date_to,
        "queue": selectors.self_report_queue(viewer=request.user),
    }
    return render(request, "travel/arrival_hq.html", context)


# --- QR posters ------------------------------------------------------------------------------


def _public_url(request: HttpRequest, code: str) -> str:
    path = reverse("selfreport:form", args=[code])
    base = str(settings.FANGKONG.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _short_name(county: Division | None) -> str:
    """眉县 -> 眉: the one-character name used in "返（来）眉人员"."""
    name = county.name if county else ""
    for suffix in ("自治县", "县", "市", "区", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@_page
@require_GET
def qr_list(request: HttpRequest) -> HttpResponse:
    _require_register(request)
    rows = []
    for division in selectors.qr_divisions(viewer=request.user):
        url = _public_url(request, division.code)
        rows.append({"division": division, "url": url, "svg": qrcodes.qr_svg(url, scale=2)})
    return render(request, "travel/qr_list.html", {"rows": rows})


@_page
@require_GET
def qr_poster(request: HttpRequest, code: str) -> HttpResponse:
    _require_register(request)
    division = selectors.access_qr_division(viewer=request.user, code=code)
    url = _public_url(request, division.code)
    context = {
        "division": division,
        "url": url,
        "svg": qrcodes.qr_svg(url, scale=8, fluid=True),
        "title": _("返（来）%(short)s人员扫码报备") % {"short": _short_name(county_root())},
    }
    return render(request, "travel/qr_poster.html", context)


@_page
@require_GET
def qr_png(request: HttpRequest, code: str) -> HttpResponse:
    _require_register(request)
    division = selectors.access_qr_division(viewer=request.user, code=code)
    response = HttpResponse(
        qrcodes.qr_png(_public_url(request, division.code)), content_type="image/png"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"扫码报备_{division.name}_{division.code}.png"
    )
    return response


# --- assist requests -------------------------------------------------------------------------


@_page
@require_GET
def assist_list(request: HttpRequest) -> HttpResponse:
    _require_assist_read(request)
    direction = request.GET.get("direction", "").strip()
    status = request.GET.get("status", "").strip()
    qs = selectors.assist_request_list(
        viewer=request.user,
        direction=direction if direction in AssistRequest.Direction.values else None,
        status=status if status in AssistRequest.Status.values else None,
    )
    page = paginate(qs, page=request.GET.get("page"))
    context = {
        "page": page,
        "rows": [assist_display(r) for r in page.items],
        "direction": direction,
        "status": status,
        "directions": AssistRequest.Direction.choices,
        "statuses": AssistRequest.Status.choices,
        "can_write": permissions.can_write_assist(request.user),
    }
    return render(request, "travel/assist_list.html", context)


def _assist_kwargs(form: AssistRequestForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "number": data.get("number", ""),
        "counterpart": data.get("counterpart", ""),
        "counterpart_code": data.get("counterpart_code", ""),
        "subject": data.get("subject", ""),
        "dated": data.get("dated") or None,
    }


@_page
@require_http_methods(["GET", "POST"])
def assist_create(request: HttpRequest) -> HttpResponse:
    """Record an incoming letter (its people are then imported or registered one by one)."""
    _require_assist_read(request)
    if not permissions.can_write_assist(request.user):
        raise PermissionDenied(_("只有县指挥部可以办理协查函。"))
    if request.method == "POST":
        form = AssistRequestForm(request.POST)
        form.is_valid()
        try:
            letter = services.assist_request_create(
                actor=request.user,
                direction=AssistRequest.Direction.INCOMING,
                **_assist_kwargs(form),
            )
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已登记来函。"))
            return redirect("travel:assist_detail", request_id=letter.pk)
    else:
        form = AssistRequestForm(initial={"dated": timeutils.local_today().isoformat()})
    return render(request, "travel/assist_form.html", {"form": form, "importing": False})


@_page
@require_http_methods(["GET", "POST"])
def assist_import(request: HttpRequest) -> HttpResponse:
    """An incoming list (协查名单): every listed person becomes an arrival in the loop,
    through the import engine (kind "assist_list"). The letter is an existing incoming one
    (?request=ID) or is recorded from the form's particulars."""
    _require_assist_read(request)
    if not permissions.can_write_assist(request.user):
        raise PermissionDenied(_("只有县指挥部可以办理协查函。"))
    letter = None
    letter_id = request.GET.get("request") or request.POST.get("assist_request")
    if letter_id:
        letter = selectors.access_assist_request_by_id(viewer=request.user, request_id=letter_id)
        if letter.direction != AssistRequest.Direction.INCOMING:
            raise Http404(_("只能为收到的协查函导入名单。"))
    if request.method == "POST":
        form = AssistImportForm(request.POST, request.FILES)
        if form.is_valid():
            if letter is not None:
                options: dict[str, str] = {"assist_request": str(letter.pk)}
            else:
                options = {k: str(v) for k, v in _assist_kwargs(form).items() if v}
            if form.cleaned_data.get("grid"):
                options["division"] = form.cleaned_data["grid"]
            upload = form.cleaned_data["file"]
            try:
                job = import_job_start(
                    actor=request.user,
                    kind="assist_list",
                    upload=upload,
                    filename=upload.name,
                    options=options,
                )
            except ValidationFailed as exc:
                apply_domain_error(form, exc, aliases={"division": "grid"})
            else:
                return redirect("imports:detail", job_id=job.pk)
    else:
        form = AssistImportForm(initial={"dated": timeutils.local_today().isoformat()})
    context = {"form": form, "importing": True, "letter": letter}
    return render(request, "travel/assist_form.html", context)


@_page
@require_GET
def assist_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    letter = selectors.access_assist_request_by_id(viewer=request.user, request_id=request_id)
    entries = selectors.assist_entries(assist_request=letter)
    arrivals = selectors.arrival_list(viewer=request.user, assist_request_id=letter.pk)
    today = timeutils.local_today()
    context = {
        "letter": letter,
        "l": assist_display(letter),
        "entries": [entry_display(viewer=request.user, entry=e) for e in entries],
        "arrivals": [arrival_display(viewer=request.user, reg=r, today=today) for r in arrivals],
        "can_write": permissions.can_write_assist(request.user),
        "can_letter": policy_for(request.user).can_reveal
        and letter.direction == AssistRequest.Direction.OUTGOING,
        "feedback_form": AssistFeedbackForm(),
        "close_form": ReasonForm(),
    }
    return render(request, "travel/assist_detail.html", context)


@_page
@require_GET
def assist_letter(request: HttpRequest, request_id: int) -> HttpResponse:
    letter = selectors.access_assist_request_by_id(viewer=request.user, request_id=request_id)
    file = services.assist_request_letter(actor=request.user, assist_request=letter)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    response["Content-Length"] = str(len(file.content))
    return response


def _assist_action(
    request: HttpRequest, request_id: int, action: Callable[[AssistRequest], Any], done: str
) -> HttpResponse:
    letter = selectors.access_assist_request_by_id(viewer=request.user, request_id=request_id)
    try:
        action(letter)
    except ValidationFailed as exc:
        for messages_ in exc.errors.values():
            for message in messages_:
                messages.error(request, str(message))
    else:
        messages.success(request, done)
    return redirect("travel:assist_detail", request_id=letter.pk)


@_page
@require_POST
def assist_send(request: HttpRequest, request_id: int) -> HttpResponse:
    return _assist_action(
        request,
        request_id,
        lambda letter: services.assist_request_mark_sent(actor=request.user, assist_request=letter),
        _("已标记为已发出；此后的县外来返人员将列入新的协查函。"),
    )


@_page
@require_POST
def assist_close(request: HttpRequest, request_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    form.is_valid()
    return _assist_action(
        request,
        request_id,
        lambda letter: services.assist_request_close(
            actor=request.user, assist_request=letter, reason=form.cleaned_data.get("reason", "")
        ),
        _("协查函已办结。"),
    )


@_page
@require_POST
def assist_feedback(request: HttpRequest, request_id: int, entry_id: int) -> HttpResponse:
    letter = selectors.access_assist_request_by_id(viewer=request.user, request_id=request_id)
    entry = selectors.access_assist_entry_by_id(
        viewer=request.user, assist_request=letter, entry_id=entry_id
    )
    form = AssistFeedbackForm(request.POST)
    form.is_valid()
    return _assist_action(
        request,
        request_id,
        lambda _letter: services.assist_entry_feedback(
            actor=request.user, entry=entry, feedback=form.cleaned_data.get("feedback", "")
        ),
        _("已记录核查反馈。"),
    )
