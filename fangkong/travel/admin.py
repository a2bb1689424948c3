"""Back office view of arrivals, assist requests and sweeps: read-only and masked.

Arrivals are registered on the arrival pages, the public QR page, the API and the importers
(validation, rule lookup, loop task); here an administrator can only look.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from fangkong.core.admin import BackOfficeAdmin
from fangkong.core.masking import mask_address, mask_name, mask_phone
from fangkong.core.scope import scope_by_division

from .models import AssistRequest, AssistRequestEntry, SweepHit, SweepRun, TravelRegistration


@admin.register(TravelRegistration)
class TravelRegistrationAdmin(BackOfficeAdmin):
    list_display = [
        "id",
        "arrived_on",
        "masked_name",
        "channel",
        "origin_name",
        "risk_level",
        "category",
        "destination_division",
        "outside_county",
        "identity_mismatch",
    ]
    list_filter = ["channel", "risk_level", "category", "transport", "outside_county"]
    list_select_related = ["destination_division"]
    search_fields = ["origin_code", "origin_name", "receipt_code"]
    date_hierarchy = "arrived_on"
    show_full_result_count = False
    fields = [
        "person",
        "masked_name",
        "masked_phone",
        "identity_mismatch",
        "channel",
        "origin_code",
        "origin_name",
        "origin_address",
        "from_abroad",
        "origin_country",
        "left_on",
        "arrived_on",
        "transport",
        "vehicle_no",
        "seat",
        "destination_division",
        "masked_destination_address",
        "outside_county",
        "outside_code",
        "symptoms",
        "risk_level",
        "risk_area",
        "category",
        "order",
        "assist_request",
        "receipt_code",
        "import_job",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    @display(description=_("报备姓名"))
    def masked_name(self, obj: TravelRegistration) -> str:
        return mask_name(obj.reported_name)

    @display(description=_("报备手机号"))
    def masked_phone(self, obj: TravelRegistration) -> str:
        return mask_phone(obj.reported_phone)

    @display(description=_("目的地址"))
    def masked_destination_address(self, obj: TravelRegistration) -> str:
        return mask_address(obj.destination_address)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TravelRegistration]:
        qs = super().get_queryset(request)
        return scope_by_division(qs, viewer=request.user, field="destination_division_id")


class AssistEntryInline(admin.TabularInline):
    model = AssistRequestEntry
    extra = 0
    can_delete = False
    fields = ["person", "arrival", "category", "feedback"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssistRequest)
class AssistRequestAdmin(BackOfficeAdmin):
    list_display = ["id", "dated", "direction", "number", "counterpart", "status"]
    list_filter = ["direction", "status"]
    search_fields = ["number", "counterpart", "counterpart_code"]
    fields = [
        "direction",
        "number",
        "counterpart",
        "counterpart_code",
        "subject",
        "dated",
        "status",
        "import_job",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [AssistEntryInline]


@admin.register(SweepRun)
class SweepRunAdmin(BackOfficeAdmin):
    list_display = [
        "id",
        "started_at",
        "risk_area",
        "window_from",
        "window_to",
        "found",
        "orders_proposed",
        "already_covered",
        "outside_county",
        "seconds",
    ]
    fields = [*list_display[1:], "actor"]
    readonly_fields = fields


@admin.register(SweepHit)
class SweepHitAdmin(BackOfficeAdmin):
    list_display = ["id", "sweep", "arrival", "outcome", "order"]
    list_filter = ["outcome"]
    fields = ["sweep", "arrival", "outcome", "order"]
    readonly_fields = fields
