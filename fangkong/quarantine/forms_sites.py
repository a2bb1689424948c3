"""Forms of the site pages: they render the fields; the services validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import QuarantineSettings


class SettingsForm(forms.Form):
    sharing = forms.ChoiceField(
        label=_("同住规则"),
        choices=QuarantineSettings.Sharing.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    morning_due_hour = forms.CharField(
        label=_("上午体温报告截止（时）"), widget=forms.NumberInput(attrs={"class": "form-control"})
    )
    evening_due_hour = forms.CharField(
        label=_("下午体温报告截止（时）"), widget=forms.NumberInput(attrs={"class": "form-control"})
    )
    fever_threshold = forms.CharField(
        label=_("发热阈值（℃）"), widget=forms.TextInput(attrs={"class": "form-control"})
    )
    village_after_hours = forms.CharField(
        label=_("未处置多久上报村（小时）"),
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    town_after_hours = forms.CharField(
        label=_("未处置多久上报镇（小时）"),
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    county_after_hours = forms.CharField(
        label=_("未处置多久上报县（小时）"),
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
