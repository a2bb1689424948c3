"""The editions pages: the national editions side by side, one edition in detail, activating an
edition from a date, and a local adjustment checked against the national ceilings.

Everyone logged in reads; county HQ and administrators activate and adjust (403 for others).
Each view: parse, selector, one service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.pages import staff_page as _page
from fangkong.core.timeutils import local_today

from . import selectors, services
from .forms import ActivateForm, AdjustForm, apply_domain_error
from .models import PolicyEdition
from .presenters import (
    CATEGORY_ORDER,
    category_label,
    counts_from_label,
    describe_downgrade,
    describe_levels,
    describe_phase,
    describe_release,
    edition_rows,
)

ACTIVATIONS_SHOWN = 50


def _require_manager(request: HttpRequest) -> None:
    if not selectors.can_manage_policy(user=request.user):
        raise PermissionDenied(_("只有县指挥部和系统管理员可以启用或调整防控方案。"))


def _in_force_context() -> dict[str, Any]:
    today = local_today()
    return {
        "today": today,
        "in_force": selectors.edition_in_force(on=today),
        "in_force_activation": selectors.activation_in_force(on=today),
    }


@_page
@require_GET
def edition_list(request: HttpRequest) -> HttpResponse:
    """The national editions side by side, the county's adjustments and activation history."""
    editions = list(selectors.edition_list(viewer=request.user))
    national = [e for e in editions if e.kind == PolicyEdition.Kind.NATIONAL]
    local = [e for e in editions if e.kind == PolicyEdition.Kind.LOCAL]
    context = {
        **_in_force_context(),
        "national": national,
        "local": local,
        "rows": edition_rows(national),
        "activations": list(selectors.activation_list(viewer=request.user)[:ACTIVATIONS_SHOWN]),
        "can_manage": selectors.can_manage_policy(user=request.user),
    }
    return render(request, "policy/edition_list.html", context)


def _rule_rows(edition: PolicyEdition) -> list[dict[str, Any]]:
    rows = []
    rules = edition.rules or {}
    base_rules = (edition.base.rules or {}) if edition.base_id else {}
    for category in CATEGORY_ORDER:
        rule = rules.get(category)
        rows.append(
            {
                "label": category_label(category),
                "determined": rule is not None,
                "phases": [describe_phase(p) for p in (rule or {}).get("phases") or []],
                "counts_from": counts_from_label((rule or {}).get("counts_from")),
                "release": describe_release(rule),
                "note": (rule or {}).get("note", ""),
                "changed": bool(edition.base_id) and rule != base_rules.get(category),
            }
        )
    return rows


@_page
@require_GET
def edition_detail(request: HttpRequest, code: str) -> HttpResponse:
    edition = selectors.access_edition_by_code(viewer=request.user, code=code)
    activations = [
        a
        for a in selectors.activation_list(viewer=request.user)[:ACTIVATIONS_SHOWN]
        if a.edition_id == edition.pk
    ]
    context = {
        **_in_force_context(),
        "edition": edition,
        "rule_rows": _rule_rows(edition),
        "levels": describe_levels(edition.risk_levels or []),
        "downgrades": [describe_downgrade(r) for r in edition.downgrade_rules or []],
        "lookback_max": (edition.ceilings or {}).get("lookback_days_max", edition.lookback_days),
        "activations": activations,
        "can_manage": selectors.can_manage_policy(user=request.user),
    }
    return render(request, "policy/edition_detail.html", context)


@_page
@require_http_methods(["GET", "POST"])
def edition_activate(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    editions = list(selectors.edition_list(viewer=request.user))
    if request.method == "POST":
        form = ActivateForm(request.POST, editions=editions)
        if form.is_valid():
            edition = selectors.access_edition_by_code(
                viewer=request.user, code=form.cleaned_data["edition"]
            )
            try:
                activation = services.edition_activate(
                    actor=request.user,
                    edition=edition,
                    effective_from=form.cleaned_data["effective_from"],
                    reason=form.cleaned_data["reason"],
                )
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已启用 %(edition)s，自 %(date)s 起适用。")
                    % {
                        "edition": edition.short_name,
                        "date": activation.effective_from.isoformat(),
                    },
                )
                return redirect("policy:list")
    else:
        initial = {"effective_from": local_today()}
        if request.GET.get("edition"):
            initial["edition"] = request.GET["edition"]
        form = ActivateForm(initial=initial, editions=editions)
    return render(request, "policy/edition_activate.html", {"form": form, **_in_force_context()})


@_page
@require_http_methods(["GET", "POST"])
def edition_adjust(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    bases = list(selectors.edition_list(viewer=request.user, kind=PolicyEdition.Kind.NATIONAL))
    if not bases:
        raise Http404(_("没有国家方案。"))
    wanted = request.POST.get("base") or request.GET.get("base") or ""
    if not wanted:
        in_force = selectors.edition_in_force(on=local_today())
        if in_force is not None:
            wanted = (in_force.base or in_force).code
    base = next((e for e in bases if e.code == wanted), bases[-1])
    if request.method == "POST":
        form = AdjustForm(request.POST, base=base, bases=bases)
        if form.is_valid():
            try:
                edition = services.edition_adjust(
                    actor=request.user,
                    base=base,
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                    rules_changes=form.changes,
                    lookback_days=form.cleaned_data["lookback_days"],
                    notes=form.cleaned_data["notes"],
                )
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已保存本县调整 %(name)s。启用后自生效日期起适用。") % {"name": edition.name},
                )
                return redirect("policy:detail", code=edition.code)
    else:
        form = AdjustForm(
            initial={
                "code": f"{base.code}-local",
                "name": _("%(base)s（本县调整）") % {"base": base.short_name},
            },
            base=base,
            bases=bases,
        )
    context = {"form": form, "base": base, "bases": bases, "blocks": form.bound_blocks()}
    return render(request, "policy/edition_adjust.html", context)
