"""Forms of the loop and order pages. They only parse; the services decide (and their messages
are put next to the fields with `apply_domain_error`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.people.forms import BootstrapForm
from fangkong.policy.models import Category

from .choices import VisitOutcome
from .models import OrderStatus

CATEGORY_CHOICES = [("", _("（不变）")), *Category.choices]


def _reason(*, required: bool, label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("理由"),
        required=required,
        max_length=300,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写理由")},
    )


class StepCompleteForm(BootstrapForm):
    outcome = forms.ChoiceField(
        label=_("核实结果"), required=False, choices=[("", _("请选择")), *VisitOutcome.choices]
    )
    note = forms.CharField(
        label=_("情况说明"),
        required=False,
        max_length=300,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class _PlanForm(BootstrapForm):
    category = forms.ChoiceField(label=_("人员类别"), required=False, choices=CATEGORY_CHOICES)
    anchor_date = forms.DateField(
        label=_("起算日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD")},
    )


class OrderConfirmForm(_PlanForm):
    reason = _reason(required=False, label=_("理由（调整类别或起算日期时必填）"))


class OrderChangeForm(_PlanForm):
    reason = _reason(required=True)


class OrderCancelForm(BootstrapForm):
    reason = _reason(required=True)


class OrderTransferForm(BootstrapForm):
    destination = forms.CharField(
        label=_("转往地"),
        required=False,
        max_length=200,
        strip=True,
        help_text=_("接收地区的名称或区划代码"),
    )
    reason = _reason(required=True)


class OrderReleaseForm(BootstrapForm):
    reason = _reason(required=False, label=_("备注"))


class OrderFilterForm(forms.Form):
    """The order list's filters (GET); bad values are simply ignored."""

    status = forms.ChoiceField(
        required=False,
        choices=[("", _("全部状态")), ("open", _("未结束（待确认+执行中）")), *OrderStatus.choices],
    )
    category = forms.ChoiceField(required=False, choices=[("", _("全部类别")), *Category.choices])
    division = forms.RegexField(required=False, regex=r"^[0-9]{6,15}$")

    def filters(self) -> dict[str, str | None]:
        if not self.is_valid():
            return {"status": None, "category": None, "division": None}
        return {k: (self.cleaned_data.get(k) or None) for k in ("status", "category", "division")}


class LoopSettingsForm(BootstrapForm):
    ack_hours = forms.IntegerField(label=_("签收时限（小时）"), min_value=1, max_value=720)
    visit_hours = forms.IntegerField(label=_("上门核实时限（小时）"), min_value=1, max_value=720)
    in_place_hours = forms.IntegerField(label=_("措施落实时限（小时）"), min_value=1, max_value=720)
    town_after_hours = forms.IntegerField(
        label=_("逾期多久上报镇（小时）"), min_value=1, max_value=720
    )
    county_after_hours = forms.IntegerField(
        label=_("逾期多久上报县（小时）"), min_value=1, max_value=720
    )
