"""Back office for the division tree: adds and edits go through geo.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from fangkong.core.admin import BackOfficeAdmin, adopt

from .models import Division, Region
from .selectors import access_division_by_code, division_list
from .services import division_create, division_update


@admin.register(Division)
class DivisionAdmin(BackOfficeAdmin):
    allow_add = True
    allow_change = True
    service_field_map = {"parent_code": "parent"}
    list_display = ["code", "name", "level", "kind", "parent", "updated_at"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name", "full_name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    ordering = ["code"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Division]:
        return division_list(viewer=request.user).select_related("parent")

    def get_fields(self, request: HttpRequest, obj: Division | None = None) -> list[str]:
        if obj is None:
            return ["code", "name", "parent", "kind", "boundary"]
        return ["code", "name", "level", "parent", "kind", "full_name", "boundary", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Division | None = None) -> list[str]:
        if obj is None:
            return []
        return ["code", "level", "parent", "full_name", "updated_at"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        policy = getattr(request.user, "policy", None)
        return super().has_add_permission(request) and bool(policy and policy.can_edit_divisions)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        policy = getattr(request.user, "policy", None)
        return super().has_change_permission(request, obj) and bool(
            policy and policy.can_edit_divisions
        )

    def save_model(self, request: HttpRequest, obj: Division, form: Any, change: bool) -> None:
        if change:
            current = access_division_by_code(viewer=request.user, code=obj.pk)
            saved = division_update(
                actor=request.user,
                division=current,
                name=obj.name,
                kind=obj.kind,
                boundary=obj.boundary if "boundary" in form.changed_data else None,
            )
        else:
            saved = division_create(
                actor=request.user,
                code=obj.code,
                name=obj.name,
                parent_code=obj.parent_id,
                kind=obj.kind or None,
                boundary=obj.boundary,
            )
        adopt(obj, saved)


@admin.register(Region)
class RegionAdmin(BackOfficeAdmin):
    """The GB/T 2260 table (loaded by a migration): read-only reference data."""

    list_display = ["code", "name", "full_name", "level", "parent_code"]
    list_filter = ["level"]
    search_fields = ["code", "name", "full_name"]
    fields = ["code", "name", "full_name", "level", "parent_code"]
    readonly_fields = fields
    show_full_result_count = False
