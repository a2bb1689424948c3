"""Forms of the place pages. Fields are taken as text; the service checks them with the same
rules as the API, and its {field: [messages]} are put back next to the fields
(`apply_domain_error`), the inputs kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from fangkong.geo.selectors import division_list
from fangkong.people.forms import BootstrapForm, apply_domain_error

from .models import Place, PlaceKind

__all__ = ["PlaceFilterForm", "PlaceForm", "ReasonForm", "apply_domain_error", "division_choices"]


def division_choices(viewer: Any) -> list[tuple[str, str]]:
    """Towns and villages (communities) in the viewer's scope, for the division select."""
    rows = (
        division_list(viewer=viewer).filter(level__in=(1, 2)).values_list("code", "name", "level")
    )
    return [(code, f"{'　' if level == 2 else ''}{name}（{code}）") for code, name, level in rows]


def _text(**kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, strip=True, **kwargs)


class PlaceForm(BootstrapForm):
    name = _text(label=gettext_lazy("场所名称"), max_length=200)
    kind = _text(label=gettext_lazy("场所类型"), widget=forms.Select())
    division_code = _text(label=gettext_lazy("所属镇（街道）或村（社区）"), widget=forms.Select())
    address = _text(label=gettext_lazy("地址"), max_length=200)
    person_in_charge = _text(label=gettext_lazy("负责人"), max_length=50)
    contact_phone = _text(
        label=gettext_lazy("联系电话"),
        max_length=20,
        help_text=gettext_lazy("手机号或带区号的固定电话"),
    )

    def __init__(self, *args: Any, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.choices = [("", "——"), *PlaceKind.choices]
        self.fields["division_code"].widget.choices = [("", "——"), *division_choices(viewer)]
        self.fields["contact_phone"].widget.attrs.update(inputmode="tel", autocomplete="off")

    @staticmethod
    def initial_for(place: Place) -> dict[str, Any]:
        return {
            "name": place.name,
            "kind": place.kind,
            "division_code": place.division_id,
            "address": place.address,
            "person_in_charge": place.person_in_charge,
            "contact_phone": place.contact_phone,
        }


class PlaceFilterForm(forms.Form):
    q = _text(label=gettext_lazy("名称、地址或场所码"))
    kind = _text(label=gettext_lazy("场所类型"))
    division = _text(label=gettext_lazy("区划"))
    active = _text(label=gettext_lazy("状态"))


class ReasonForm(BootstrapForm):
    reason = _text(label=gettext_lazy("原因"), max_length=200)
