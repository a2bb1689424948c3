"""Forms of the case pages: they render the fields and hand the raw values to the services,
which validate (one set of rules for pages and API). `apply_errors` puts a service's field
errors back on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.exceptions import DomainError
from fangkong.people.models import IdType

from .models import CaseSource, Classification, Cluster

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


def apply_errors(form: forms.Form, exc: DomainError) -> None:
    """Field errors of a DomainError onto the form (unknown fields: the form's own error)."""
    if not exc.errors:
        form.add_error(None, str(exc.message))
    for field, messages in exc.errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, str(message))


class _Raw(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def raw(self) -> dict[str, Any]:
        """The submitted values as strings, for the services to validate."""
        return {name: self.data.get(self.add_prefix(name), "") for name in self.fields}


class CaseForm(_Raw):
    name = forms.CharField(label=_("姓名"), required=False, max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, required=False)
    id_number = forms.CharField(label=_("证件号码"), required=False, max_length=32)
    phone = forms.CharField(label=_("手机号"), required=False, max_length=20)
    division_code = forms.ChoiceField(
        label=_("居住小网格（新建人员时必选）"), required=False, choices=()
    )
    classification = forms.ChoiceField(
        label=_("分类"), choices=[("", "---"), *Classification.choices], required=False
    )
    source = forms.ChoiceField(label=_("来源"), choices=CaseSource.choices, required=False)
    onset_date = forms.CharField(label=_("发病日期"), required=False, widget=DATE)
    sampling_date = forms.CharField(label=_("采样日期"), required=False, widget=DATE)
    report_date = forms.CharField(label=_("报告日期"), required=False, widget=DATE)
    last_negative_on = forms.CharField(label=_("末次阴性采样日期"), required=False, widget=DATE)
    isolated_on = forms.CharField(label=_("隔离管控日期"), required=False, widget=DATE)
    treated_at = forms.CharField(label=_("救治地点"), required=False, max_length=100)
    cluster_id = forms.ChoiceField(label=_("聚集性疫情"), required=False, choices=())
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, grids: Any = (), clusters: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division_code"].choices = [("", "---"), *grids]
        self.fields["cluster_id"].choices = [("", "---"), *clusters]


class ReclassifyForm(_Raw):
    classification = forms.ChoiceField(label=_("新分类"), choices=Classification.choices)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class AssignForm(_Raw):
    team = forms.ChoiceField(label=_("流调小组"), required=False, choices=())
    investigator = forms.ChoiceField(label=_("流调人员"), required=False, choices=())

    def __init__(self, *args: Any, teams: Any = (), investigators: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "---"), *teams]
        self.fields["investigator"].choices = [("", "---"), *investigators]


class ConcludeForm(_Raw):
    conclusions = forms.CharField(
        label=_("流调结论"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    close = forms.BooleanField(label=_("流调完成"), required=False, initial=True)


class TimelineForm(_Raw):
    starts_at = forms.CharField(label=_("开始时间"), required=False, widget=DATETIME)
    ends_at = forms.CharField(label=_("结束时间"), required=False, widget=DATETIME)
    place_id = forms.CharField(label=_("场所编号"), required=False)
    location = forms.CharField(label=_("地点"), required=False, max_length=200)
    activity = forms.CharField(label=_("活动"), required=False, max_length=200)
    people_met = forms.CharField(label=_("接触人员"), required=False, max_length=500)


class ClusterForm(_Raw):
    name = forms.CharField(label=_("名称"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Cluster.Kind.choices, required=False)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TeamForm(_Raw):
    name = forms.CharField(label=_("小组名称"), required=False, max_length=100)
    leader_id = forms.ChoiceField(label=_("组长"), required=False, choices=())
    member_ids = forms.MultipleChoiceField(label=_("组员"), required=False, choices=())

    def __init__(self, *args: Any, investigators: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader_id"].choices = [("", "---"), *investigators]
        self.fields["member_ids"].choices = list(investigators)

    def raw(self) -> dict[str, Any]:
        out = super().raw()
        out["member_ids"] = self.data.getlist("member_ids") if hasattr(self.data, "getlist") else []
        return out
