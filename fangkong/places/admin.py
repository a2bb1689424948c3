"""Back office view of places and stay rules: read-only. Places are registered and edited on the
place pages and through the API (services: validation, scope, audit); the person in charge and
the contact phone are masked here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from fangkong.core.admin import BackOfficeAdmin
from fangkong.core.masking import mask_name, mask_phone

from .models import Place, StayRule


@admin.register(Place)
class PlaceAdmin(BackOfficeAdmin):
    list_display = ["code", "name", "kind", "division", "masked_person", "masked_phone", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["division"]
    exclude = ["person_in_charge", "contact_phone"]

    @display(description=_("负责人"))
    def masked_person(self, obj: Place) -> str:
        return mask_name(obj.person_in_charge)

    @display(description=_("联系电话"))
    def masked_phone(self, obj: Place) -> str:
        return mask_phone(obj.contact_phone)


@admin.register(StayRule)
class StayRuleAdmin(BackOfficeAdmin):
    list_display = ["kind", "stay_minutes", "cap_minutes", "updated_at"]
