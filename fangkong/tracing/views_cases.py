"""Staff pages of cases (/tracing/): the list with the HQ counts, registering a case, the case
page (case panel, reclassify, investigation, timeline, contacts loaded by htmx from the
contacts pages, a link to the chain graph), the Word report, clusters and teams.

Each view parses, reads through a selector, calls one service, renders. Out-of-scope ids are
404 like missing ones; a role that may not write gets the 403 page on a POST.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.models import Division
from fangkong.people.presenters import person_display

from . import report, selectors, selectors_cases, services_cases
from .forms import (
    AssignForm,
    CaseForm,
    ClusterForm,
    ConcludeForm,
    ReclassifyForm,
    TeamForm,
    TimelineForm,
    apply_errors,
)
from .models import Case, Classification, InvestigationTeam
from .permissions import can_write


def _require_write(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied(_("您的角色不能登记或修改病例和流调信息。"))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _person_label(viewer: Any, case: Case) -> dict[str, Any]:
    """The case's person as the viewer's role may see it (people.presenters)."""
    return person_display(viewer=viewer, person=case.person)


def _cluster_choices(viewer: Any) -> list[tuple[str, str]]:
    return [(str(c.pk), str(c)) for c in selectors.cluster_queryset(viewer=viewer)[:300]]


# --- list and registering --------------------------------------------------------------------


@_page
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    params = {
        k: request.GET.get(k, "").strip() for k in ("classification", "cluster", "from", "to", "q")
    }
    qs = selectors_cases.case_list(
        viewer=request.user,
        classification=params["classification"] or None,
        cluster_id=int(params["cluster"]) if params["cluster"].isdigit() else None,
        date_from=_date(params["from"]),
        date_to=_date(params["to"]),
        q=params["q"] or None,
    )
    page = paginate(qs, page=request.GET.get("page"))
    context = {
        "params": params,
        "page": page,
        "rows": [{"case": c, "person": _person_label(request.user, c)} for c in page.items],
        "counts": selectors_cases.case_counts(viewer=request.user),
        "classification_choices": Classification.choices,
        "cluster_choices": _cluster_choices(request.user),
        "can_write": can_write(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "tracing/case_list.html", context)


@_page
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    grids = [
        (g.code, g.full_name or g.name)
        for g in Division.objects.filter(level=Division.Level.GRID).order_by("code")[:2000]
    ]
    clusters = _cluster_choices(request.user)
    if request.method == "POST":
        form = CaseForm(request.POST, grids=grids, clusters=clusters)
        form.is_valid()
        try:
            case = services_cases.case_create(actor=request.user, data=form.raw())
        except (ValidationFailed, Conflict) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记病例 %(code)s。") % {"code": case.code})
            return redirect("tracing:detail", case_id=case.pk)
    else:
        form = CaseForm(grids=grids, clusters=clusters)
    return render(request, "tracing/case_form.html", {"form": form})


# --- the case page ---------------------------------------------------------------------------


def _detail_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    investigation = selectors_cases.investigation_of(case=case)
    teams = selectors_cases.team_list(viewer=request.user, active_only=True)
    investigators = [
        (str(u.pk), u.display_name or u.username)
        for u in selectors_cases.investigator_list(viewer=request.user)
    ]
    return {
        "case": case,
        "person": _person_label(request.user, case),
        "investigation": investigation,
        "events": list(selectors_cases.case_events(case=case)),
        "timeline": list(selectors_cases.case_timeline(case=case)),
        "can_write": can_write(request.user),
        "reclassify_form": forms.get("reclassify_form") or ReclassifyForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(
            teams=[(str(t.pk), t.name) for t in teams],
            investigators=investigators,
            initial={
                "team": investigation.team_id or "",
                "investigator": investigation.investigator_id or "",
            },
        ),
        "conclude_form": forms.get("conclude_form")
        or ConcludeForm(initial={"conclusions": investigation.conclusions, "close": True}),
        "timeline_form": forms.get("timeline_form") or TimelineForm(),
        "cluster_choices": _cluster_choices(request.user),
    }


@_page
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    return render(request, "tracing/case_detail.html", _detail_context(request, case))


def _case_post(
    request: HttpRequest, case_id: int, form_name: str, form: Any, action: Any, done: str
) -> HttpResponse:
    """Run one service for the case page's forms: back to the page, or the page with errors."""
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    form.is_valid()
    try:
        action(case, form.raw())
    except (ValidationFailed, Conflict) as exc:
        apply_errors(form, exc)
        context = _detail_context(request, case, **{form_name: form})
        return render(request, "tracing/case_detail.html", context, status=400)
    messages.success(request, done)
    return redirect("tracing:detail", case_id=case.pk)


@_page
@require_POST
def case_reclassify(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        "reclassify_form",
        ReclassifyForm(request.POST),
        lambda case, raw: services_cases.case_reclassify(
            actor=request.user,
            case=case,
            classification=raw["classification"],
            reason=raw["reason"],
        ),
        _("已订正病例分类。"),
    )


@_page
@require_POST
def case_set_cluster(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    raw = request.POST.get("cluster", "").strip()
    cluster = selectors.access_cluster_by_id(viewer=request.user, cluster_id=raw) if raw else None
    services_cases.case_set_cluster(actor=request.user, case=case, cluster=cluster)
    messages.success(request, _("已更新所属聚集性疫情。"))
    return redirect("tracing:detail", case_id=case.pk)


def _team(request: HttpRequest, value: str) -> InvestigationTeam | None:
    if not value:
        return None
    return selectors_cases.team_list(viewer=request.user).filter(pk=int(value)).first()


@_page
@require_POST
def investigation_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    form = AssignForm(request.POST)

    def action(case: Case, raw: dict[str, Any]) -> None:
        team = _team(request, raw["team"]) if str(raw["team"]).isdigit() else None
        investigator = int(raw["investigator"]) if str(raw["investigator"]).isdigit() else None
        services_cases.investigation_assign(
            actor=request.user,
            investigation=case.investigation,
            team=team,
            investigator_id=investigator,
        )

    return _case_post(request, case_id, "assign_form", form, action, _("已分配流调小组。"))


@_page
@require_POST
def investigation_conclude(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        "conclude_form",
        ConcludeForm(request.POST),
        lambda case, raw: services_cases.investigation_conclude(
            actor=request.user,
            investigation=case.investigation,
            conclusions=raw["conclusions"],
            close=bool(request.POST.get("close")),
        ),
        _("已保存流调结论。"),
    )


@_page
@require_POST
def timeline_add(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_post(
        request,
        case_id,
        "timeline_form",
        TimelineForm(request.POST),
        lambda case, raw: services_cases.timeline_add(
            actor=request.user, investigation=case.investigation, data=raw
        ),
        _("已添加活动轨迹。"),
    )


@_page
@require_POST
def timeline_remove(request: HttpRequest, case_id: int, entry_id: int) -> HttpResponse:
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    entry = selectors_cases.case_timeline(case=case).filter(pk=entry_id).first()
    if entry is not None:
        services_cases.timeline_remove(actor=request.user, entry=entry)
        messages.success(request, _("已删除该条活动轨迹。"))
    return redirect("tracing:detail", case_id=case.pk)


@_page
@require_POST
def timeline_import(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_write(request)
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    added = services_cases.timeline_from_records(
        actor=request.user, investigation=case.investigation
    )
    messages.success(
        request, _("已从场所码、过卡和来返报备记录导入 %(n)s 条活动轨迹。") % {"n": added}
    )
    return redirect("tracing:detail", case_id=case.pk)


@_page
@require_GET
def case_report(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case_by_id(viewer=request.user, case_id=case_id)
    file = report.case_report(actor=request.user, case=case)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response


# --- clusters and teams ----------------------------------------------------------------------


@_page
@require_http_methods(["GET", "POST"])
def cluster_list(request: HttpRequest) -> HttpResponse:
    form = ClusterForm()
    if request.method == "POST":
        _require_write(request)
        form = ClusterForm(request.POST)
        form.is_valid()
        try:
            cluster = services_cases.cluster_create(actor=request.user, data=form.raw())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记聚集性疫情 %(code)s。") % {"code": cluster.code})
            return redirect("tracing:cluster_detail", cluster_id=cluster.pk)
    context = {
        "clusters": list(selectors_cases.cluster_list(viewer=request.user)[:500]),
        "form": form,
        "can_write": can_write(request.user),
    }
    return render(request, "tracing/cluster_list.html", context)


@_page
@require_GET
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = selectors.access_cluster_by_id(viewer=request.user, cluster_id=cluster_id)
    cases = selectors_cases.case_list(viewer=request.user, cluster_id=cluster.pk)
    context = {
        "cluster": cluster,
        "rows": [{"case": c, "person": _person_label(request.user, c)} for c in cases[:500]],
    }
    return render(request, "tracing/cluster_detail.html", context)


@_page
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    investigators = [
        (str(u.pk), u.display_name or u.username)
        for u in selectors_cases.investigator_list(viewer=request.user)
    ]
    form = TeamForm(investigators=investigators)
    if request.method == "POST":
        _require_write(request)
        form = TeamForm(request.POST, investigators=investigators)
        form.is_valid()
        raw = form.raw()
        try:
            services_cases.team_create(
                actor=request.user,
                name=raw["name"],
                leader_id=int(raw["leader_id"]) if str(raw["leader_id"]).isdigit() else None,
                member_ids=[int(i) for i in raw["member_ids"] if str(i).isdigit()],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已创建流调小组。"))
            return redirect("tracing:teams")
    context = {
        "teams": list(selectors_cases.team_list(viewer=request.user)),
        "form": form,
        "can_write": can_write(request.user),
    }
    return render(request, "tracing/team_list.html", context)
