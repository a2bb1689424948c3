"""Back office view of editions, activations and risk areas: read-only.

Editions are activated and adjusted on the editions pages (with the national ceilings), and
risk areas are declared on the risk-area pages (which sweep arrivals); here an administrator
only looks.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from fangkong.core.admin import BackOfficeAdmin

from .models import EditionActivation, PolicyEdition, RiskArea
from .presenters import CATEGORY_ORDER, category_label, describe_rule


@admin.register(PolicyEdition)
class PolicyEditionAdmin(BackOfficeAdmin):
    list_display = ["code", "short_name", "kind", "issued_on", "base", "lookback_days"]
    list_filter = ["kind"]
    list_select_related = ["base"]
    search_fields = ["code", "name", "short_name"]
    fields = [
        "code",
        "name",
        "short_name",
        "document",
        "issued_on",
        "kind",
        "base",
        "jurisdiction",
        "lookback_days",
        "risk_levels",
        "downgrade_rules",
        "rules_summary",
        "rules",
        "ceilings",
        "notes",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    @display(description=_("各类人员的措施"))
    def rules_summary(self, obj: PolicyEdition) -> str:
        rules = obj.rules or {}
        lines = [
            f"{category_label(c)}：{describe_rule(rules[c])}" for c in CATEGORY_ORDER if c in rules
        ]
        return "\n".join(lines) or "—"


@admin.register(EditionActivation)
class EditionActivationAdmin(BackOfficeAdmin):
    list_display = ["effective_from", "edition", "jurisdiction", "reason", "activated_by"]
    list_select_related = ["edition", "jurisdiction", "activated_by"]
    fields = ["edition", "jurisdiction", "effective_from", "reason", "activated_by", "activated_at"]
    readonly_fields = fields


@admin.register(RiskArea)
class RiskAreaAdmin(BackOfficeAdmin):
    list_display = [
        "id",
        "level",
        "region_code",
        "region_name",
        "detail",
        "start_date",
        "end_date",
        "source",
    ]
    list_filter = ["level", "source"]
    search_fields = ["region_code", "region_name", "detail", "notice"]
    date_hierarchy = "start_date"
    fields = [
        "level",
        "region_code",
        "region_name",
        "detail",
        "division",
        "start_date",
        "end_date",
        "notice",
        "last_case_on",
        "source",
        "previous",
        "import_job",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    show_full_result_count = False
