"""Risk-area pages: the list with the downgrade each area inside the county may have, the
declare / change / end / confirm-downgrade forms, what a sweep found, and the list imports.

Each view: parse, access/selector, one service, render. Everyone logged in reads risk areas and
sweep counts; the people a sweep found are listed within the viewer's scope, masked by role
(people.presenters.person_display). COMMANDER and ADMIN write; anyone else gets the 403 page.
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
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.exceptions import Conflict, DomainError, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.core.timeutils import local_today
from fangkong.geo.regions import regions_tree_json
from fangkong.geo.selectors import division_list
from fangkong.people.forms import apply_domain_error
from fangkong.people.presenters import person_display
from fangkong.policy import services as policy_services
from fangkong.policy.models import RiskArea, RiskLevel
from fangkong.policy.selectors import access_risk_area_by_id, downgrade_for, risk_area_list

from .importers_risk import risk_list_import
from .models import SweepHit, SweepRun
from .sweep import (
    access_sweep_by_id,
    may_manage_risk_areas,
    risk_area_change,
    risk_area_declare,
    sweep_hit_list,
    sweep_list,
)

OUTCOME_LABELS = dict(SweepHit.Outcome.choices)
LEVEL_LABELS = dict(RiskLevel.choices)
UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def _require_manage(request: HttpRequest) -> None:
    if not may_manage_risk_areas(request.user):
        raise PermissionDenied(_("只有县指挥部和系统管理员可以发布、调整和导入风险地区。"))


# --- forms -----------------------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def _text(label: Any, *, required: bool = False, max_length: int = 300, **kw: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control", **kw.pop("attrs", {})}),
        **kw,
    )


def _date(label: Any, *, required: bool = False, **kw: Any) -> Any:
    return forms.DateField(label=label, required=required, widget=DATE, **kw)


class RiskAreaForm(forms.Form):
    level = forms.ChoiceField(
        label=gettext_lazy("风险等级"),
        choices=RiskLevel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    region_code = _text(
        gettext_lazy("区划代码"),
        required=True,
        max_length=20,
        help_text=gettext_lazy(
            "用上面的省、市、县选择，或直接填写：6 位县级代码（省 2 位、市 4 位亦可），"
            "9、12 位乡镇、村级代码，或本县的镇、村、网格代码"
        ),
        attrs={"inputmode": "numeric", "autocomplete": "off", "list": "own-divisions"},
    )
    region_name = _text(
        gettext_lazy("地区名称"),
        max_length=200,
        help_text=gettext_lazy("留空则按区划代码自动填写"),
    )
    detail = _text(
        gettext_lazy("具体范围"),
        help_text=gettext_lazy(
            "小区、楼栋、单元（如“松榆里社区”“5号楼2单元”）；留空表示整个区划。"
            "来返人员的出发地地址包含此文字时才算来自该风险地区"
        ),
    )
    start_date = _date(gettext_lazy("起始日期"), required=True)
    end_date = _date(gettext_lazy("截止日期"), help_text=gettext_lazy("留空表示尚未解除"))
    notice = _text(gettext_lazy("依据通告"))
    last_case_on = _date(
        gettext_lazy("最近新增感染日期"),
        help_text=gettext_lazy("本县风险地区降级从这一天起算；留空则从起始日期起算"),
    )

    FIELDS = (
        "level",
        "region_code",
        "region_name",
        "detail",
        "start_date",
        "end_date",
        "notice",
        "last_case_on",
    )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in self.FIELDS}

    def changes(self, area: RiskArea) -> dict[str, Any]:
        """The fields whose value differs from the area's."""
        found = {}
        for name, value in self.values().items():
            current = getattr(area, name)
            if (value or None) != (current or None):
                found[name] = value
        return found


class EndForm(forms.Form):
    end_date = _date(gettext_lazy("截止日期"), required=True)
    reason = _text(gettext_lazy("理由"), required=True, max_length=300)


class DowngradeForm(forms.Form):
    on = _date(gettext_lazy("降级（解除）日期"), required=True)
    reason = _text(gettext_lazy("理由"), max_length=300)


class ListUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("名单文件（国务院客户端 JSON 或通报文本 .txt）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".json,.txt"}),
    )
    start_date = _date(gettext_lazy("起始日期"), required=True)
    end_date = _date(gettext_lazy("截止日期"))
    notice = _text(gettext_lazy("依据通告"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("文件不能超过 20 MB"))
        return upload


# --- presenting ------------------------------------------------------------------------------


def _area_row(area: RiskArea, today: dt.date, *, with_downgrade: bool = True) -> dict[str, Any]:
    in_force = area.start_date <= today and (area.end_date is None or area.end_date >= today)
    proposal = (
        downgrade_for(area=area, today=today)
        if with_downgrade and in_force and area.division_id
        else None
    )
    return {
        "area": area,
        "level_label": LEVEL_LABELS.get(area.level, area.level),
        "in_force": in_force,
        "ended": area.end_date is not None and area.end_date < today,
        "inside": area.division_id is not None,
        "downgrade": proposal,
        "downgrade_to": LEVEL_LABELS.get(proposal.to_level, "") if proposal else "",
    }


def _hit_row(viewer: Any, hit: SweepHit) -> dict[str, Any]:
    arrival = hit.arrival
    return {
        "hit": hit,
        "person": person_display(viewer=viewer, person=arrival.person),
        "arrival": arrival,
        "outcome_label": OUTCOME_LABELS.get(hit.outcome, hit.outcome),
        "visit_only": hit.outcome == SweepHit.Outcome.PROPOSED and hit.order_id is None,
        "order": hit.order,
    }


def _sweep_summary(sweep: SweepRun) -> dict[str, Any]:
    expired = sweep.found - sweep.orders_proposed - sweep.already_covered - sweep.outside_county
    return {"sweep": sweep, "expired": max(expired, 0)}


# --- list and detail -------------------------------------------------------------------------


@_page
@require_GET
def risk_area_list_view(request: HttpRequest) -> HttpResponse:
    today = local_today()
    level = request.GET.get("level", "").strip()
    status = request.GET.get("status", "active").strip()
    inside = request.GET.get("inside", "").strip()
    q = request.GET.get("q", "").strip()
    areas = risk_area_list(
        viewer=request.user,
        level=level if level in RiskLevel.values else None,
        active_on=today if status == "active" else None,
        inside_county={"1": True, "0": False}.get(inside),
        q=q or None,
    )
    if status == "ended":
        areas = areas.filter(end_date__lt=today)
    page = paginate(areas, page=request.GET.get("page"))
    context = {
        "page": page,
        "rows": [_area_row(area, today) for area in page.items],
        "level": level,
        "status": status,
        "inside": inside,
        "q": q,
        "levels": RiskLevel.choices,
        "filtered": bool(level or inside or q or status != "active"),
        "can_manage": may_manage_risk_areas(request.user),
        "today": today,
    }
    return render(request, "travel/risk_list.html", context)


def _render_detail(
    request: HttpRequest,
    area: RiskArea,
    *,
    end_form: EndForm | None = None,
    downgrade_form: DowngradeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = local_today()
    row = _area_row(area, today)
    context = {
        **row,
        "sweeps": [_sweep_summary(s) for s in sweep_list(viewer=request.user, area=area)[:20]],
        "can_manage": may_manage_risk_areas(request.user),
        "end_form": end_form or EndForm(initial={"end_date": today}),
        "downgrade_form": downgrade_form or DowngradeForm(initial={"on": today}),
        "today": today,
    }
    return render(request, "travel/risk_detail.html", context, status=status)


@_page
@require_GET
def risk_area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    area = access_risk_area_by_id(viewer=request.user, area_id=area_id)
    return _render_detail(request, area)


# --- declare and change ----------------------------------------------------------------------


def _own_divisions(request: HttpRequest) -> list[dict[str, str]]:
    return [
        {"code": d.code, "name": d.full_name or d.name}
        for d in division_list(viewer=request.user).filter(level__lte=2)
    ]


def _render_form(
    request: HttpRequest, form: RiskAreaForm, area: RiskArea | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "area": area,
        "creating": area is None,
        "regions": regions_tree_json(),
        "own_divisions": _own_divisions(request),
    }
    return render(request, "travel/risk_form.html", context, status=status)


def _after_write(area: RiskArea, sweep: SweepRun | None, request: HttpRequest) -> HttpResponse:
    if sweep is None:
        return redirect("risk:detail", area_id=area.pk)
    messages.success(
        request,
        _(
            "回溯排查完成：找到 %(found)s 人，新提出管控措施 %(proposed)s 人，"
            "已有同等或更严措施 %(covered)s 人，转县外协查 %(outside)s 人。"
        )
        % {
            "found": sweep.found,
            "proposed": sweep.orders_proposed,
            "covered": sweep.already_covered,
            "outside": sweep.outside_county,
        },
    )
    return redirect("risk:sweep", sweep_id=sweep.pk)


@_page
@require_http_methods(["GET", "POST"])
def risk_area_create_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    if request.method == "POST":
        form = RiskAreaForm(request.POST)
        if form.is_valid():
            try:
                area, sweep = risk_area_declare(actor=request.user, **form.values())
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已发布风险地区 #%(id)s。") % {"id": area.pk})
                return _after_write(area, sweep, request)
        return _render_form(request, form, None)
    form = RiskAreaForm(initial={"start_date": local_today(), "level": RiskLevel.HIGH})
    return _render_form(request, form, None)


@_page
@require_http_methods(["GET", "POST"])
def risk_area_edit_view(request: HttpRequest, area_id: int) -> HttpResponse:
    area = access_risk_area_by_id(viewer=request.user, area_id=area_id)
    _require_manage(request)
    if request.method == "POST":
        form = RiskAreaForm(request.POST)
        if form.is_valid():
            changes = form.changes(area)
            if not changes:
                messages.info(request, _("没有需要保存的修改。"))
                return redirect("risk:detail", area_id=area.pk)
            try:
                area, sweep = risk_area_change(actor=request.user, area=area, changes=changes)
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已保存修改。"))
                return _after_write(area, sweep, request)
        return _render_form(request, form, area)
    form = RiskAreaForm(initial={name: getattr(area, name) for name in RiskAreaForm.FIELDS})
    return _render_form(request, form, area)


@_page
@require_POST
def risk_area_end_view(request: HttpRequest, area_id: int) -> HttpResponse:
    area = access_risk_area_by_id(viewer=request.user, area_id=area_id)
    _require_manage(request)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            policy_services.risk_area_end(
                actor=request.user,
                area=area,
                end_date=form.cleaned_data["end_date"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("风险地区已解除。"))
            return redirect("risk:detail", area_id=area.pk)
    return _render_detail(request, area, end_form=form)


@_page
@require_POST
def risk_area_downgrade_view(request: HttpRequest, area_id: int) -> HttpResponse:
    area = access_risk_area_by_id(viewer=request.user, area_id=area_id)
    _require_manage(request)
    form = DowngradeForm(request.POST)
    if form.is_valid():
        try:
            lower = policy_services.risk_area_confirm_downgrade(
                actor=request.user,
                area=area,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc)
        else:
            if lower is None:
                messages.success(request, _("已确认解除风险地区。"))
                return redirect("risk:detail", area_id=area.pk)
            messages.success(
                request,
                _("已确认降级为%(level)s地区（#%(id)s）。")
                % {"level": LEVEL_LABELS.get(lower.level, lower.level), "id": lower.pk},
            )
            return redirect("risk:detail", area_id=lower.pk)
    return _render_detail(request, area, downgrade_form=form)


# --- sweeps ------------------------------------------------------------------------------------


@_page
@require_GET
def sweep_detail(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = access_sweep_by_id(viewer=request.user, sweep_id=sweep_id)
    outcome = request.GET.get("outcome", "").strip()
    hits = sweep_hit_list(
        viewer=request.user,
        sweep=sweep,
        outcome=outcome if outcome in SweepHit.Outcome.values else None,
    )
    page = paginate(hits, page=request.GET.get("page"))
    context = {
        **_sweep_summary(sweep),
        "area": sweep.risk_area,
        "level_label": LEVEL_LABELS.get(sweep.risk_area.level, sweep.risk_area.level),
        "page": page,
        "rows": [_hit_row(request.user, hit) for hit in page.items],
        "outcome": outcome,
        "outcomes": SweepHit.Outcome.choices,
    }
    return render(request, "travel/risk_sweep.html", context)


# --- imports -----------------------------------------------------------------------------------


@_page
@require_http_methods(["GET", "POST"])
def risk_import_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    result = None
    if request.method == "POST":
        form = ListUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = risk_list_import(
                    actor=request.user,
                    content=data["file"].read(),
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    notice=data["notice"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
    else:
        form = ListUploadForm(initial={"start_date": local_today()})
    context = {
        "form": form,
        "result": result,
        "tabular_url": f"{reverse('imports:new')}?{urlencode({'kind': 'risk_areas'})}",
        "template_url": reverse("imports:template", kwargs={"kind": "risk_areas"}),
    }
    return render(request, "travel/risk_import.html", context)
