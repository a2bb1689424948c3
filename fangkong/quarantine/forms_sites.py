"""Forms of the site pages: they render the fields; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.accounts.models import User
from fangkong.geo.models import Division

from .models import QuarantineSettings, Site, SiteStaff


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


def _division_choices() -> list[tuple[str, str]]:
    """County, towns and villages (a site sits in one of them; grids are too fine)."""
    rows = Division.objects.filter(level__lte=Division.Level.VILLAGE).order_by("code")
    return [("", "—")] + [(d.code, f"{d.name}（{d.code}）") for d in rows.only("code", "name")]


class SiteForm(forms.Form):
    name = forms.CharField(
        label=_("名称"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        required=False,
        choices=Site.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    division_code = forms.ChoiceField(
        label=_("所在区划"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    address = forms.CharField(
        label=_("地址"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    manager_name = forms.CharField(
        label=_("负责人"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    manager_phone = forms.CharField(
        label=_("负责人电话"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}),
    )
    note = forms.CharField(
        label=_("备注"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    active = forms.BooleanField(
        label=_("启用"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, with_active: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = _division_choices()
        if not with_active:
            del self.fields["active"]

    def data_for_service(self) -> dict[str, Any]:
        """The submitted text as the service reads it (the service validates)."""
        data = {key: self.data.get(key, "") for key in SITE_TEXT_FIELDS}
        if "active" in self.fields:
            data["active"] = bool(self.data.get("active"))
        return data


SITE_TEXT_FIELDS = (
    "name",
    "kind",
    "division_code",
    "address",
    "manager_name",
    "manager_phone",
    "note",
)


class RoomsAddForm(forms.Form):
    floor_from = forms.CharField(
        label=_("起始楼层"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    floor_to = forms.CharField(
        label=_("结束楼层"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    room_from = forms.CharField(
        label=_("起始房号"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    room_to = forms.CharField(
        label=_("结束房号"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    numbers = forms.CharField(
        label=_("或填写房间号（逗号分隔）"),
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": "101, 102, 105"}
        ),
    )
    floor = forms.CharField(
        label=_("所在楼层（按房间号添加时）"),
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
    capacity = forms.CharField(
        label=_("每间床位"),
        required=False,
        initial="1",
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )

    def data_for_service(self) -> dict[str, Any]:
        return {key: self.data.get(key, "") for key in self.base_fields}


class StaffAddForm(forms.Form):
    username = forms.CharField(
        label=_("账号（用户名）"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    duty = forms.ChoiceField(
        label=_("岗位"),
        required=False,
        choices=SiteStaff.Duty.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def user_id(self) -> int | None:
        """The active account with this username; the service checks its role."""
        username = str(self.data.get("username") or "").strip()
        if not username:
            return None
        return (
            User.objects.filter(username=username, is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
