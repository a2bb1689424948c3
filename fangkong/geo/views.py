"""Division management pages: add a child, rename, import a list. For roles whose policy
can_edit_divisions; everyone else (and anything outside the viewer's scope) gets 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.exceptions import DomainError, Forbidden, NotFound

from . import services
from .forms import DivisionCreateForm, DivisionEditForm
from .models import Division
from .selectors import access_division_by_code

FIELD_LABELS = {
    "code": gettext_lazy("区划代码"),
    "name": gettext_lazy("名称"),
    "parent_code": gettext_lazy("上级代码"),
}


def _require_editor(request: HttpRequest) -> None:
    policy = getattr(request.user, "policy", None)
    if not (policy and policy.can_edit_divisions):
        raise Http404(_("未找到。"))


def _editable_division(request: HttpRequest, code: str) -> Division:
    _require_editor(request)
    try:
        return access_division_by_code(viewer=request.user, code=code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None


def _show_errors(form: Any, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields (the rest above the form)."""
    for field, errors in exc.errors.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)
    if not exc.errors:
        form.add_error(None, str(exc.message))


@login_required
@require_http_methods(["GET", "POST"])
def division_create(request: HttpRequest, code: str) -> HttpResponse:
    parent = _editable_division(request, code)
    if parent.level >= Division.Level.GRID:
        raise Http404(_("小网格下不能再设下级。"))
    form = DivisionCreateForm(request.POST or None, initial={"code": parent.code})
    if request.method == "POST" and form.is_valid():
        try:
            child = services.division_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                parent_code=parent.code,
                kind=form.cleaned_data["kind"] or None,
            )
        except Forbidden:
            raise Http404(_("未找到。")) from None
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("已新增区划：%(name)s") % {"name": child.name})
            return redirect("reports:division", code=child.code)
    return render(
        request,
        "geo/division_form.html",
        {"form": form, "parent": parent, "division": None, "child_level": parent.level + 1},
    )


@login_required
@require_http_methods(["GET", "POST"])
def division_edit(request: HttpRequest, code: str) -> HttpResponse:
    division = _editable_division(request, code)
    form = DivisionEditForm(
        request.POST or None, initial={"name": division.name, "kind": division.kind}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.division_update(
                actor=request.user,
                division=division,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
            )
        except Forbidden:
            raise Http404(_("未找到。")) from None
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("reports:division", code=division.code)
    return render(
        request,
        "geo/division_form.html",
        {"form": form, "parent": division.parent, "division": division},
    )


@login_required
@require_GET
def division_import(request: HttpRequest) -> HttpResponse:
    """Division lists go through the one import engine: its upload page, kind "divisions"."""
    _require_editor(request)
    return redirect(f"{reverse('imports:new')}?kind=divisions")


@login_required
@require_GET
def division_import_template(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return redirect("imports:template", kind="divisions")
