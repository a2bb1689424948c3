"""Forms of the arrival pages: they collect what was typed; the rules are the services'.

Every field is taken as text and handed to the service, which validates it with
`validation.clean_arrival` (the rule set of the API and the importers too); its
ValidationFailed is put back next to each field (`apply_domain_error`), the inputs kept.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.people.forms import BootstrapForm, apply_domain_error
from fangkong.people.models import IdType

from .models import Transport
from .validation import ARRIVAL_ID_TYPES

__all__ = [
    "ArrivalForm",
    "AssistFeedbackForm",
    "AssistImportForm",
    "AssistRequestForm",
    "ReasonForm",
    "SelfReportForm",
    "apply_domain_error",
]

ARRIVAL_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "phone",
    "from_abroad",
    "origin_country",
    "origin_code",
    "origin_address",
    "left_on",
    "arrived_on",
    "transport",
    "vehicle_no",
    "seat",
    "outside_county",
    "outside_code",
    "destination_code",
    "destination_address",
    "symptoms",
)
ID_TYPE_CHOICES = [(v, label) for v, label in IdType.choices if v in ARRIVAL_ID_TYPES]
SYMPTOM_CHOICES = [
    ("发热", gettext_lazy("发热")),
    ("咳嗽", gettext_lazy("咳嗽")),
    ("乏力", gettext_lazy("乏力")),
    ("咽痛", gettext_lazy("咽痛")),
    ("嗅（味）觉减退", gettext_lazy("嗅（味）觉减退")),
    ("腹泻", gettext_lazy("腹泻")),
    ("其他不适", gettext_lazy("其他不适")),
]


def _text(**kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, strip=True, **kwargs)


def _date(label: Any) -> forms.CharField:
    return _text(label=label, widget=forms.DateInput(attrs={"type": "date"}))


class _ArrivalFields(BootstrapForm):
    name = _text(
        label=gettext_lazy("姓名"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": 50}),
    )
    id_type = _text(
        label=gettext_lazy("证件类型"),
        initial=IdType.RESIDENT_ID,
        widget=forms.Select(choices=ID_TYPE_CHOICES),
    )
    id_number = _text(
        label=gettext_lazy("证件号码"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 32}),
    )
    phone = _text(
        label=gettext_lazy("手机号"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    from_abroad = forms.BooleanField(
        required=False,
        label=gettext_lazy("从境外来返"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    origin_country = _text(
        label=gettext_lazy("出发国家（地区）"), widget=forms.TextInput(attrs={"maxlength": 60})
    )
    origin_code = _text(
        label=gettext_lazy("出发地区划代码"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "6 位县级代码，如 110105（北京市朝阳区）；只知省、市时可填 2 位或 4 位。"
        ),
    )
    origin_address = _text(
        label=gettext_lazy("出发地详细地址（街道、小区）"),
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    left_on = _date(gettext_lazy("离开出发地日期"))
    arrived_on = _date(gettext_lazy("抵达日期"))
    transport = _text(
        label=gettext_lazy("交通方式"),
        widget=forms.Select(choices=[("", gettext_lazy("请选择")), *Transport.choices]),
    )
    vehicle_no = _text(
        label=gettext_lazy("车牌号/车次/航班号"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 20}),
        help_text=gettext_lazy(
            "自驾填车牌（如 陕C12345、新能源 陕CD12345），火车填车次，飞机填航班号。"
        ),
    )
    seat = _text(label=gettext_lazy("座位号"), widget=forms.TextInput(attrs={"maxlength": 20}))
    destination_code = _text(label=gettext_lazy("到达后所在网格"), widget=forms.Select())
    destination_address = _text(
        label=gettext_lazy("到达后居住地址"), widget=forms.TextInput(attrs={"maxlength": 200})
    )

    def __init__(self, *args: Any, grid_choices: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_grid_choices(grid_choices)

    def set_grid_choices(self, grid_choices: list[Any]) -> None:
        self.fields["destination_code"].widget.choices = [("", _("请选择网格")), *grid_choices]

    def arrival_data(self) -> dict[str, Any]:
        """What the service is called with: the fields as typed."""
        data = {f: self.cleaned_data.get(f, "") for f in ARRIVAL_FIELDS if f in self.fields}
        symptoms = data.get("symptoms")
        if isinstance(symptoms, list):
            data["symptoms"] = "、".join(symptoms)
        return data


class ArrivalForm(_ArrivalFields):
    """Entry by a grid worker, a village officer, a checkpoint or the HQ."""

    outside_county = forms.BooleanField(
        required=False,
        label=gettext_lazy("目的地在县外（转协查函）"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    outside_code = _text(
        label=gettext_lazy("县外目的地区划代码"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    symptoms = _text(
        label=gettext_lazy("症状"),
        widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": gettext_lazy("无")}),
    )


class SelfReportForm(_ArrivalFields):
    """The public page: large inputs for a phone, symptoms as boxes to tick."""

    symptoms = forms.MultipleChoiceField(
        required=False,
        label=gettext_lazy("近14天是否有以下症状（没有则不勾选）"),
        choices=SYMPTOM_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            classes = widget.attrs.get("class", "")
            if "form-control" in classes or "form-select" in classes:
                size = "form-select-lg" if "form-select" in classes else "form-control-lg"
                widget.attrs["class"] = f"{classes} {size}"

    @classmethod
    def data_from(cls, post: Any) -> dict[str, Any]:
        """The fields as typed, read from a POST without building the form (a form is built
        only when it must be shown again, with its errors): the public page's hot path. The
        same values as `arrival_data()` after `is_valid()`; the service validates them."""
        data: dict[str, Any] = {}
        for name in ARRIVAL_FIELDS:
            field = cls.base_fields.get(name)
            if field is None:
                continue
            try:
                data[name] = field.clean(field.widget.value_from_datadict(post, {}, name))
            except forms.ValidationError:
                data[name] = ""
        symptoms = data.get("symptoms")
        if isinstance(symptoms, list):
            data["symptoms"] = "、".join(symptoms)
        return data


class AssistRequestForm(BootstrapForm):
    number = _text(label=gettext_lazy("函号"), widget=forms.TextInput(attrs={"maxlength": 60}))
    counterpart = _text(
        label=gettext_lazy("来函单位"), widget=forms.TextInput(attrs={"maxlength": 200})
    )
    counterpart_code = _text(
        label=gettext_lazy("来函单位区划代码"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    subject = _text(label=gettext_lazy("事由"), widget=forms.TextInput(attrs={"maxlength": 300}))
    dated = _date(gettext_lazy("来函日期"))


class AssistImportForm(AssistRequestForm):
    """An incoming list (协查名单): the letter's particulars and the spreadsheet."""

    file = forms.FileField(label=gettext_lazy("协查名单（Excel 或 CSV）"))
    grid = _text(
        label=gettext_lazy("默认网格"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=gettext_lazy("名单未写明村（社区）或网格时归入此小网格（区划代码）。"),
    )


class AssistFeedbackForm(BootstrapForm):
    feedback = _text(
        label=gettext_lazy("核查反馈"), widget=forms.TextInput(attrs={"maxlength": 300})
    )


class ReasonForm(BootstrapForm):
    reason = _text(label=gettext_lazy("情况说明"), widget=forms.TextInput(attrs={"maxlength": 200}))
