"""Forms of the division pages. Division lists are imported through the import engine."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from .models import Division

_TEXT = {"class": "form-control"}


class DivisionCreateForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("区划代码"),
        max_length=20,
        widget=forms.TextInput(attrs={**_TEXT, "inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=gettext_lazy("名称"), max_length=100, widget=forms.TextInput(attrs=_TEXT)
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("城乡类型"),
        required=False,
        choices=[("", gettext_lazy("按代码自动判断")), *Division.Kind.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class DivisionEditForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"), max_length=100, widget=forms.TextInput(attrs=_TEXT)
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("城乡类型"),
        choices=Division.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
