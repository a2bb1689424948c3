"""Back office view of people and households: read-only and masked.

People are created and edited on the people pages (with validation, duplicates, history and
audited reveals); here an administrator can only look, and sees ID numbers, phones and
addresses masked. Searching accepts a name prefix, a document number or a phone number.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from fangkong.core.admin import BackOfficeAdmin
from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from fangkong.core.scope import scope_by_division

from .models import Household, Person, PersonRevision
from .selectors import search_q


@admin.register(Person)
class PersonAdmin(BackOfficeAdmin):
    list_display = [
        "id",
        "masked_name",
        "id_type",
        "masked_id_number",
        "sex",
        "birth_year",
        "masked_phone",
        "division",
        "household_number",
        "merged",
    ]
    list_filter = ["id_type", "sex"]
    list_select_related = ["division"]
    search_fields = ["name"]  # replaced by search_q below; declared so the search box shows
    search_help_text = _("姓名（前几个字）、证件号码或手机号")
    show_full_result_count = False
    fields = [
        "masked_name",
        "id_type",
        "masked_id_number",
        "sex",
        "birth_year",
        "masked_phone",
        "masked_address",
        "division",
        "household",
        "relation_to_head",
        "merged_into",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @display(description=_("姓名"))
    def masked_name(self, obj: Person) -> str:
        return mask_name(obj.name)

    @display(description=_("证件号码"))
    def masked_id_number(self, obj: Person) -> str:
        return mask_id_number(obj.id_number)

    @display(description=_("手机号"))
    def masked_phone(self, obj: Person) -> str:
        return mask_phone(obj.phone)

    @display(description=_("现住址"))
    def masked_address(self, obj: Person) -> str:
        return mask_address(obj.address)

    @display(description=_("出生年份"))
    def birth_year(self, obj: Person) -> Any:
        return obj.birth_date.year if obj.birth_date else "—"

    @display(description=_("住户编号"), ordering="household_id")
    def household_number(self, obj: Person) -> Any:
        return obj.household_id or "—"

    @display(description=_("已合并"), boolean=True)
    def merged(self, obj: Person) -> bool:
        return obj.merged_into_id is not None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="division_id")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_q(search_term)), False


@admin.register(Household)
class HouseholdAdmin(BackOfficeAdmin):
    list_display = ["id", "masked_address", "division", "head_number", "created_at"]
    list_select_related = ["division"]
    search_fields = ["division__code", "division__name"]
    show_full_result_count = False
    fields = ["masked_address", "division", "head", "created_at", "updated_at"]
    readonly_fields = fields

    @display(description=_("地址"))
    def masked_address(self, obj: Household) -> str:
        return mask_address(obj.address)

    @display(description=_("户主人员编号"))
    def head_number(self, obj: Household) -> Any:
        return obj.head_id or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="division_id")


@admin.register(PersonRevision)
class PersonRevisionAdmin(BackOfficeAdmin):
    """Which fields a write changed, and who changed them; the old values stay out of sight."""

    list_display = ["at", "person_number", "verb", "actor", "changed_fields"]
    list_filter = ["verb"]
    list_select_related = ["actor"]
    search_fields = ["person__id"]
    fields = ["at", "person", "verb", "actor", "changed_fields"]
    readonly_fields = fields

    @display(description=_("人员编号"))
    def person_number(self, obj: PersonRevision) -> Any:
        return obj.person_id

    @display(description=_("修改的字段"))
    def changed_fields(self, obj: PersonRevision) -> str:
        before = obj.before if isinstance(obj.before, dict) else {}
        return "、".join(sorted(before)) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PersonRevision]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="person__division_id")
