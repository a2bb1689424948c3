"""Staff pages of the place registry: the list, registration, the detail with its venue-code
poster (preview, PNG and PDF), editing, closing and reopening, and the county's stay rules.

Each view parses, reads through a selector, calls one service, renders. Out-of-scope ids answer
404 like missing ones; a role that may not act gets the 403 page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.roles import policy_for
from fangkong.core.exceptions import ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate

from . import posters
from .forms import PlaceFilterForm, PlaceForm, ReasonForm, apply_domain_error, division_choices
from .models import PlaceKind
from .presenters import place_display
from .selectors_places import (
    access_place_by_id,
    can_manage_places,
    can_set_stay_rules,
    place_list,
    stay_rule_table,
)
from .services_places import place_close, place_create, place_reopen, place_update, stay_rules_set

ACTIVE_PARAM = {"1": True, "0": False}


def _require_manage(request: HttpRequest) -> None:
    if not can_manage_places(viewer=request.user):
        raise PermissionDenied(_("您的角色不能登记或修改重点场所。"))


@_page
@require_GET
def place_list_view(request: HttpRequest) -> HttpResponse:
    filters = PlaceFilterForm(request.GET)
    filters.is_valid()
    params = filters.cleaned_data
    qs = place_list(
        viewer=request.user,
        kind=params.get("kind") if params.get("kind") in PlaceKind.values else None,
        division=params.get("division") or None,
        q=params.get("q") or None,
        active=ACTIVE_PARAM.get(params.get("active", "")),
    )
    page = paginate(qs, page=request.GET.get("page"), page_size=request.GET.get("page_size"))
    policy = policy_for(request.user)
    rows = [place_display(viewer=request.user, place=p, policy=policy) for p in page.items]
    context = {
        "page": page,
        "rows": rows,
        "params": params,
        "kinds": PlaceKind.choices,
        "divisions": division_choices(request.user),
        "can_manage": can_manage_places(viewer=request.user),
        "can_rules": can_set_stay_rules(viewer=request.user),
    }
    return render(request, "places/place_list.html", context)


@_page
@require_http_methods(["GET", "POST"])
def place_new(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = PlaceForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            place = place_create(actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, _("已登记，场所码 %(code)s。请下载场所码海报张贴。") % {"code": place.code}
            )
            return redirect("places:detail", place.pk)
    return render(request, "places/place_form.html", {"form": form, "creating": True})


@_page
@require_http_methods(["GET", "POST"])
def place_edit(request: HttpRequest, place_id: int) -> HttpResponse:
    _require_manage(request)
    place = access_place_by_id(viewer=request.user, place_id=place_id)
    if request.method == "POST":
        form = PlaceForm(request.POST, viewer=request.user)
        if form.is_valid():
            try:
                place_update(actor=request.user, place=place, changes=form.cleaned_data)
            except ValidationFailed as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("places:detail", place.pk)
    else:
        form = PlaceForm(initial=PlaceForm.initial_for(place), viewer=request.user)
    return render(
        request, "places/place_form.html", {"form": form, "creating": False, "place": place}
    )


@_page
@require_GET
def place_detail(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place_by_id(viewer=request.user, place_id=place_id)
    url = posters.checkin_url(code=place.code, request=request)
    context = {
        "place": place,
        "p": place_display(viewer=request.user, place=place),
        "url": url,
        "svg": posters.qr_svg(url),
        "poster": posters.poster_text(place),
        "can_manage": can_manage_places(viewer=request.user),
        "reason_form": ReasonForm(),
    }
    return render(request, "places/place_detail.html", context)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@_page
@require_GET
def place_poster_png(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place_by_id(viewer=request.user, place_id=place_id)
    url = posters.checkin_url(code=place.code, request=request)
    return _download(
        posters.poster_png(place, url=url), "image/png", posters.poster_filename(place, "png")
    )


@_page
@require_GET
def place_poster_pdf(request: HttpRequest, place_id: int) -> HttpResponse:
    place = access_place_by_id(viewer=request.user, place_id=place_id)
    url = posters.checkin_url(code=place.code, request=request)
    return _download(
        posters.poster_pdf(place, url=url),
        "application/pdf",
        posters.poster_filename(place, "pdf"),
    )


def _set_active(request: HttpRequest, place_id: int, *, active: bool) -> HttpResponse:
    _require_manage(request)
    place = access_place_by_id(viewer=request.user, place_id=place_id)
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    if active:
        place_reopen(actor=request.user, place=place, reason=reason)
        messages.success(request, _("场所已恢复，可以扫码登记。"))
    else:
        place_close(actor=request.user, place=place, reason=reason)
        messages.success(request, _("场所已关闭，扫码登记将被拒绝。"))
    return redirect("places:detail", place.pk)


@_page
@require_POST
def place_close_view(request: HttpRequest, place_id: int) -> HttpResponse:
    return _set_active(request, place_id, active=False)


@_page
@require_POST
def place_reopen_view(request: HttpRequest, place_id: int) -> HttpResponse:
    return _set_active(request, place_id, active=True)


@_page
@require_http_methods(["GET", "POST"])
def stay_rules(request: HttpRequest) -> HttpResponse:
    """Everyone logged in reads the rules; the commander and administrators change them. The
    rows changed are saved together, or none if one is wrong."""
    can_edit = can_set_stay_rules(viewer=request.user)
    errors: dict[str, list[str]] = {}
    submitted: dict[str, dict[str, str]] = {}
    table = stay_rule_table()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有县指挥部和系统管理员可以修改停留时长规则。"))
        changed = []
        for row in table:
            kind = row["kind"]
            stay = request.POST.get(f"{kind}-stay", "").strip()
            cap = request.POST.get(f"{kind}-cap", "").strip()
            submitted[kind] = {"stay": stay, "cap": cap}
            if stay != str(row["stay_minutes"]) or cap != str(row["cap_minutes"]):
                changed.append({"kind": kind, "stay_minutes": stay, "cap_minutes": cap})
        try:
            stay_rules_set(actor=request.user, rules=changed)
        except ValidationFailed as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.errors.items()}
            messages.error(request, _("规则未保存，请检查标出的行。"))
        else:
            messages.success(request, _("已保存 %(n)s 条规则。") % {"n": len(changed)})
            return redirect("places:stay_rules")
    rows = []
    for row in table:
        kind = row["kind"]
        typed = submitted.get(kind, {})
        rows.append(
            {
                **row,
                "stay_value": typed.get("stay", row["stay_minutes"]),
                "cap_value": typed.get("cap", row["cap_minutes"]),
                "errors": [
                    m for k, msgs in errors.items() if k.startswith(f"{kind}.") for m in msgs
                ],
                "stay_invalid": f"{kind}.stay_minutes" in errors,
                "cap_invalid": f"{kind}.cap_minutes" in errors,
            }
        )
    return render(request, "places/stay_rules.html", {"rows": rows, "can_edit": can_edit})
