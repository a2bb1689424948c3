"""People and household pages. Each view: parse, access/selector, one service, render.

Out-of-scope ids answer 404 like missing ones (access_* functions); a role that may not do
something gets the 403 page. Personal data is masked by `presenters.person_display`; the full
record is shown only in the response to an audited reveal.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core.exceptions import Conflict, NotFound, ValidationFailed
from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from fangkong.core.pages import staff_page as _page
from fangkong.core.pagination import paginate
from fangkong.geo.selectors import division_list

from . import exports, selectors, services
from .forms import (
    AddMemberForm,
    HouseholdForm,
    MergeForm,
    PersonEditForm,
    PersonForm,
    RevealForm,
    apply_domain_error,
)
from .models import IdType, Person, Relation, Sex
from .presenters import household_display, person_display

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CANDIDATE_LIMIT = 20
# Above this many divisions in scope, the list filter offers towns and villages only.
FILTER_CHOICES_MAX = 300


def _require_edit(request: HttpRequest) -> None:
    if not policy_for(request.user).can_edit_people:
        raise PermissionDenied(_("您的角色只能查看，不能新增或修改人员和住户。"))


def _is_partial(request: HttpRequest) -> bool:
    """An htmx request for the results only (not a history restore, which wants the page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    use_partial = partial is not None and _is_partial(request)
    response = render(request, partial if use_partial else template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _grid_choices(request: HttpRequest, current: str | None = None) -> list[tuple[str, str]]:
    """The small grids of the viewer's scope, labelled with their full names."""
    choices = [(d.code, d.full_name or d.name) for d in division_list(viewer=request.user, level=3)]
    if current and current not in {code for code, _label in choices}:
        choices.insert(0, (current, current))
    return choices


def _filter_division_choices(request: HttpRequest, selected: str) -> list[dict[str, Any]]:
    divisions = division_list(viewer=request.user)
    if divisions.count() > FILTER_CHOICES_MAX:
        divisions = divisions.filter(level__lte=2)
    rows = [{"code": d.code, "label": d.full_name or d.name, "level": d.level} for d in divisions]
    if selected and selected not in {r["code"] for r in rows}:
        rows.insert(0, {"code": selected, "label": selected, "level": 0})
    return rows


# --- people ----------------------------------------------------------------------------------


@_page
@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    division = request.GET.get("division", "").strip()
    address = request.GET.get("address", "").strip()
    people = selectors.person_list(
        viewer=request.user, q=q or None, division=division or None, address=address or None
    )
    page = paginate(people, page=request.GET.get("page"))
    context = {
        "q": q,
        "division": division,
        "address": address,
        "page": page,
        "rows": [person_display(viewer=request.user, person=p) for p in page.items],
        "filtered": bool(q or division or address),
        "can_edit": policy_for(request.user).can_edit_people,
        "can_reveal": policy_for(request.user).can_reveal,
        "export_url": "people:export",
    }
    if not _is_partial(request):
        context["division_choices"] = _filter_division_choices(request, division)
    return _render(request, "people/person_list.html", context, "people/_person_results.html")


_HISTORY_VERBS = {"update": gettext_lazy("修改"), "merge": gettext_lazy("合并")}


def _field_label(field: str) -> str:
    names = {
        "division_id": _("所属网格"),
        "household_id": _("住户"),
        "merged_id": _("并入的记录"),
    }
    if field in names:
        return names[field]
    try:
        return str(Person._meta.get_field(field).verbose_name)
    except LookupError:
        return field


def _old_value(field: str, value: Any, *, policy: Any, revealed: bool) -> str:
    """An old value as this viewer may see it: masked like the live record unless revealed."""
    if value in (None, ""):
        return "—"
    text = str(value)
    if field == "id_type":
        return str(IdType(text).label) if text in IdType.values else text
    if field == "sex":
        return str(Sex(text).label) if text in Sex.values else text
    if field == "relation_to_head":
        return str(Relation(text).label) if text in Relation.values else text
    if field in ("household_id", "merged_id"):
        return f"#{text}"
    if revealed:
        return text
    if field == "id_number":
        return mask_id_number(text)
    if field == "phone":
        return text if policy.phone == FULL else mask_phone(text)
    if field == "name":
        return text if policy.name == FULL else mask_name(text)
    if field == "address":
        return text if policy.address == FULL else mask_address(text)
    if field == "birth_date":
        return text[:4] + "-**-**"
    return text


def _history_rows(request: HttpRequest, person: Person, revealed: bool) -> list[dict[str, Any]]:
    policy = policy_for(request.user)
    rows = []
    for revision in selectors.person_history(person=person).select_related("actor"):
        fields = [
            {
                "label": _field_label(field),
                "old": _old_value(field, value, policy=policy, revealed=revealed)
                if policy.can_reveal
                else None,
            }
            for field, value in revision.before.items()
        ]
        rows.append(
            {
                "verb": _HISTORY_VERBS.get(revision.verb, revision.verb),
                "actor": str(revision.actor) if revision.actor else _("系统"),
                "at": revision.at,
                "fields": fields,
                "other_record": revision.person_id != person.pk,
                "person_id": revision.person_id,
            }
        )
    return rows


def _render_detail(
    request: HttpRequest,
    person: Person,
    *,
    revealed: bool,
    reveal_form: RevealForm | None,
    status: int = 200,
) -> HttpResponse:
    viewer = request.user
    policy = policy_for(viewer)
    merged = selectors.person_list(viewer=viewer, include_merged=True).filter(merged_into=person)
    context = {
        "person": person,
        "p": person_display(viewer=viewer, person=person, revealed=revealed),
        "revealed": revealed,
        "household": (
            household_display(viewer=viewer, household=person.household)
            if person.household_id
            else None
        ),
        "division_full_name": person.division.full_name or person.division.name,
        "history": _history_rows(request, person, revealed),
        "merged": [person_display(viewer=viewer, person=m) for m in merged],
        "can_reveal": policy.can_reveal,
        "can_edit": policy.can_edit_people,
        "reveal_form": reveal_form,
    }
    return render(request, "people/person_detail.html", context, status=status)


@_page
@require_GET
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.access_person_by_id(
        viewer=request.user, person_id=person_id, include_merged=True
    )
    if person.merged_into_id is not None:
        messages.info(
            request,
            _("人员 #%(old)s 已合并到本记录。") % {"old": person.pk},
        )
        return redirect("people:detail", person_id=person.merged_into_id)
    return _render_detail(request, person, revealed=False, reveal_form=RevealForm())


@_page
@require_POST
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.access_person_by_id(viewer=request.user, person_id=person_id)
    if not policy_for(request.user).can_reveal:
        raise PermissionDenied(_("您的角色不能查看完整个人信息。"))
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            services.person_reveal(
                actor=request.user, person=person, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        else:
            return _render_detail(request, person, revealed=True, reveal_form=None)
    return _render_detail(request, person, revealed=False, reveal_form=form)


def _person_create_kwargs(form: PersonForm) -> dict[str, Any]:
    data = form.person_data()
    return {
        "name": data["name"],
        "division_code": data["division_code"],
        "id_type": data["id_type"] or None,
        "id_number": data["id_number"] or None,
        "phone": data["phone"],
        "address": data["address"],
        "sex": data["sex"] or None,
        "birth_date": data["birth_date"] or None,
        "household_id": form.cleaned_data.get("household_pk"),
        "relation_to_head": data["relation_to_head"],
        "notes": data["notes"],
    }


@_page
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    _require_edit(request)
    household = None
    household_param = request.GET.get("household", "").strip()
    if household_param:
        household = selectors.access_household_by_id(
            viewer=request.user, household_id=household_param
        )
    grids = _grid_choices(request)
    if request.method == "POST":
        form = PersonForm(request.POST, grid_choices=grids)
        if form.is_valid():
            try:
                person = services.person_create(actor=request.user, **_person_create_kwargs(form))
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已新增人员 #%(id)s。") % {"id": person.pk})
                return redirect("people:detail", person_id=person.pk)
    else:
        initial = {}
        if household is not None:
            initial = {
                "household_id": str(household.pk),
                "division_code": household.division_id,
                "address": household.address,
            }
        form = PersonForm(initial=initial, grid_choices=grids)
    context = {"form": form, "creating": True, "household": household}
    return render(request, "people/person_form.html", context)


@_page
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.access_person_by_id(viewer=request.user, person_id=person_id)
    _require_edit(request)
    policy = policy_for(request.user)
    form_kwargs = {
        "person": person,
        "display": person_display(viewer=request.user, person=person),
        "full_phone": policy.phone == FULL,
        "grid_choices": _grid_choices(request, current=person.division_id),
    }
    if request.method == "POST":
        form = PersonEditForm(request.POST, **form_kwargs)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, _("没有需要保存的修改。"))
                return redirect("people:detail", person_id=person.pk)
            try:
                services.person_update(actor=request.user, person=person, changes=changes)
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已保存修改。"))
                return redirect("people:detail", person_id=person.pk)
    else:
        form = PersonEditForm(**form_kwargs)
    context = {"form": form, "creating": False, "person": person, "p": form_kwargs["display"]}
    return render(request, "people/person_form.html", context)


def _candidates(request: HttpRequest, q: str, **exclude: Any) -> list[dict[str, Any]]:
    if not q:
        return []
    people = selectors.person_list(viewer=request.user, q=q).exclude(**exclude)
    return [person_display(viewer=request.user, person=p) for p in people[:CANDIDATE_LIMIT]]


@_page
@require_http_methods(["GET", "POST"])
def person_merge(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.access_person_by_id(viewer=request.user, person_id=person_id)
    _require_edit(request)
    q = request.GET.get("q", "").strip()
    candidates = _candidates(request, q, pk=person.pk)
    if _is_partial(request):
        return _render(
            request,
            "people/_merge_candidates.html",
            {"person": person, "candidates": candidates, "q": q},
        )
    data = request.POST if request.method == "POST" else None
    if data is None and request.GET.get("person_id"):
        data = request.GET
    form = MergeForm(data)
    other = None
    if form.is_bound and form.is_valid():
        other_id = form.cleaned_data["person_id"]
        if other_id == person.pk:
            form.add_error("person_id", _("不能与自身合并"))
        else:
            try:
                other = selectors.access_person_by_id(viewer=request.user, person_id=other_id)
            except NotFound:
                form.add_error("person_id", _("人员不存在"))
    if request.method == "POST" and other is not None:
        try:
            services.person_merge(actor=request.user, keep=person, merge=other)
        except (ValidationFailed, Conflict) as exc:
            apply_domain_error(form, exc, aliases={"merge_id": "person_id"})
        else:
            messages.success(request, _("已将人员 #%(old)s 并入本记录。") % {"old": other.pk})
            return redirect("people:detail", person_id=person.pk)
    context = {
        "person": person,
        "p": person_display(viewer=request.user, person=person),
        "other": other,
        "o": person_display(viewer=request.user, person=other) if other else None,
        "form": form,
        "q": q,
        "candidates": candidates,
    }
    return render(request, "people/person_merge.html", context)


# --- households ------------------------------------------------------------------------------


@_page
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    division = request.GET.get("division", "").strip()
    households = selectors.household_list(
        viewer=request.user, division=division or None, q=q or None
    )
    page = paginate(households, page=request.GET.get("page"))
    context = {
        "q": q,
        "division": division,
        "page": page,
        "rows": [household_display(viewer=request.user, household=h) for h in page.items],
        "filtered": bool(q or division),
        "can_edit": policy_for(request.user).can_edit_people,
        "can_reveal": policy_for(request.user).can_reveal,
        "export_url": "people:household_export",
    }
    if not _is_partial(request):
        context["division_choices"] = _filter_division_choices(request, division)
    return _render(request, "people/household_list.html", context, "people/_household_results.html")


@_page
@require_GET
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.access_household_by_id(viewer=request.user, household_id=household_id)
    members = selectors.household_members(household=household).select_related("division")
    context = {
        "household": household,
        "h": household_display(viewer=request.user, household=household),
        "division_full_name": household.division.full_name or household.division.name,
        "members": [person_display(viewer=request.user, person=m) for m in members],
        "can_edit": policy_for(request.user).can_edit_people,
    }
    return render(request, "people/household_detail.html", context)


@_page
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    _require_edit(request)
    grids = _grid_choices(request)
    if request.method == "POST":
        form = HouseholdForm(request.POST, grid_choices=grids)
        if form.is_valid():
            try:
                household = services.household_create(
                    actor=request.user,
                    address=form.cleaned_data["address"],
                    division_code=form.cleaned_data["division_code"],
                    head_id=form.cleaned_data["head_pk"],
                )
            except (ValidationFailed, Conflict) as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已新建住户 #%(id)s。") % {"id": household.pk})
                return redirect("people:household_detail", household_id=household.pk)
    else:
        initial = {}
        head_param = request.GET.get("head", "").strip()
        if head_param:
            head = selectors.access_person_by_id(viewer=request.user, person_id=head_param)
            initial = {
                "head_id": str(head.pk),
                "division_code": head.division_id,
                "address": head.address,
            }
        form = HouseholdForm(initial=initial, grid_choices=grids)
    return render(request, "people/household_form.html", {"form": form})


@_page
@require_http_methods(["GET", "POST"])
def household_add_member(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.access_household_by_id(viewer=request.user, household_id=household_id)
    _require_edit(request)
    q = request.GET.get("q", "").strip()
    candidates = _candidates(request, q, household_id=household.pk)
    if _is_partial(request):
        return _render(
            request,
            "people/_member_candidates.html",
            {"candidates": candidates, "q": q, "selected": ""},
        )
    if request.method == "POST":
        form = AddMemberForm(request.POST)
        if form.is_valid():
            try:
                person = selectors.access_person_by_id(
                    viewer=request.user, person_id=form.cleaned_data["person_id"]
                )
            except NotFound:
                form.add_error("person_id", _("人员不存在"))
            else:
                try:
                    services.household_add_member(
                        actor=request.user,
                        household=household,
                        person=person,
                        relation=form.cleaned_data["relation"],
                    )
                except (ValidationFailed, Conflict) as exc:
                    apply_domain_error(
                        form, exc, aliases={"relation_to_head": "relation", "household_id": None}
                    )
                else:
                    messages.success(request, _("已添加住户成员。"))
                    return redirect("people:household_detail", household_id=household.pk)
    else:
        form = AddMemberForm()
    context = {
        "household": household,
        "h": household_display(viewer=request.user, household=household),
        "form": form,
        "q": q,
        "candidates": candidates,
        "selected": str(form.data.get("person_id", "")) if form.is_bound else "",
    }
    return render(request, "people/household_add_member.html", context)


# --- exports ---------------------------------------------------------------------------------


def _export(
    request: HttpRequest, export: Callable[..., exports.ExportFile], list_url: str
) -> HttpResponse:
    """GET: the list as the viewer sees it (masked by role). POST with a reason: the full
    values, for roles that may reveal. Both audited by the export service."""
    data = request.POST if request.method == "POST" else request.GET
    filters = {
        name: data.get(name, "").strip()
        for name in ("q", "division", "address")
        if data.get(name, "").strip()
    }
    kwargs: dict[str, Any] = {"q": filters.get("q"), "division": filters.get("division")}
    if "address" in filters and "address" in inspect.signature(export).parameters:
        kwargs["address"] = filters["address"]
    if request.method == "POST":
        if not policy_for(request.user).can_reveal:
            raise PermissionDenied(_("您的角色不能导出完整个人信息。"))
        kwargs["reason"] = data.get("reason", "").strip()
        if not kwargs["reason"]:
            messages.error(request, _("导出完整信息须填写理由。"))
            return redirect(_list_url(list_url, filters))
    try:
        file = export(actor=request.user, **kwargs)
    except ValidationFailed as exc:
        messages.error(request, " ".join(_messages(exc)) or str(exc.message))
        return redirect(_list_url(list_url, filters))
    response = HttpResponse(file.content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    response["Content-Length"] = str(len(file.content))
    return response


def _messages(exc: ValidationFailed) -> list[str]:
    return [str(m) for messages_ in exc.errors.values() for m in messages_]


def _list_url(name: str, filters: dict[str, str]) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(filters)}" if filters else url


@_page
@require_http_methods(["GET", "POST"])
def person_export(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.people_export, "people:list")


@_page
@require_http_methods(["GET", "POST"])
def household_export(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.household_export, "people:household_list")
