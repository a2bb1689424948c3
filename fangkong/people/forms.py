"""Forms for the people and household pages.

Every field is taken as text and checked by the same rules the services apply
(`people.validation.clean_person_fields`), so a form, the API and an import report the same
message for the same mistake. What only a service can decide (scope, duplicates) comes back as
a DomainError and is put next to its field with `apply_domain_error`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.exceptions import DomainError

from .models import IdType, Person, Relation, Sex
from .validation import PERSON_FIELDS, clean_person_fields

PERSON_FORM_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "division_code",
    "household_id",
    "relation_to_head",
    "address",
    "notes",
)

# Fields whose current value is masked on screen: an edit form leaves them empty
# ("empty = unchanged") instead of putting the full value in the page.
SENSITIVE_FIELDS = ("id_number", "phone", "birth_date")


class BootstrapForm(forms.Form):
    """Bootstrap classes on every widget, and `is-invalid` on every field that has an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput | forms.HiddenInput):
                continue
            base = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {base}".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        names = list(error) if isinstance(error, dict) else [field]
        for name in names:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


def apply_domain_error(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None):
    """Put a service's {field: [messages]} next to the form's fields; the rest on top."""
    aliases = aliases or {}
    placed = False
    for field, messages in exc.errors.items():
        name = aliases.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, str(message))
            placed = True
    if not placed or exc.status == 409:
        form.add_error(None, str(exc.message))


def _text(**kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, strip=True, **kwargs)


def _int_or_error(form: forms.Form, field: str, value: str, message: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip().lstrip("#"))
    except ValueError:
        form.add_error(field, message)
        return None
    if number <= 0:
        form.add_error(field, message)
        return None
    return number


def _check_grid(form: forms.Form, code: str) -> None:
    """The grid must be one the form offered: the small grids of the viewer's scope."""
    if not code:
        form.add_error("division_code", _("请选择所属网格"))
    elif code not in {value for value, _label in form.fields["division_code"].widget.choices}:
        form.add_error("division_code", _("区划代码不存在或不在您的管辖范围内"))


class PersonForm(BootstrapForm):
    """Create a person. `grid_choices`: the small grids of the viewer's scope."""

    name = _text(
        label=gettext_lazy("姓名"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 50}),
    )
    id_type = _text(
        label=gettext_lazy("证件类型"),
        initial=IdType.RESIDENT_ID,
        widget=forms.Select(choices=IdType.choices),
    )
    id_number = _text(
        label=gettext_lazy("证件号码"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 32}),
        help_text=gettext_lazy("居民身份证 18 位（末位 X 可小写）；15 位旧号自动升位。"),
    )
    sex = _text(
        label=gettext_lazy("性别"),
        widget=forms.Select(choices=[("", gettext_lazy("由身份证号推导")), *Sex.choices]),
    )
    birth_date = _text(
        label=gettext_lazy("出生日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("有居民身份证号时可不填。"),
    )
    phone = _text(
        label=gettext_lazy("手机号"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    division_code = _text(label=gettext_lazy("所属网格"), widget=forms.Select())
    household_id = _text(
        label=gettext_lazy("住户编号"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy("可不填；加入已有住户时填写住户编号。"),
    )
    relation_to_head = _text(
        label=gettext_lazy("与户主关系"),
        widget=forms.Select(choices=[("", "—"), *Relation.choices]),
    )
    address = _text(label=gettext_lazy("现住址"), widget=forms.TextInput(attrs={"maxlength": 200}))
    notes = _text(label=gettext_lazy("备注"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, grid_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = list(grid_choices)
        if len(choices) != 1:
            choices.insert(0, ("", _("请选择网格")))
        self.fields["division_code"].widget.choices = choices

    def person_data(self) -> dict[str, Any]:
        """What the services are called with: the fields as typed."""
        return {f: self.cleaned_data.get(f, "") for f in PERSON_FORM_FIELDS}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        raw = {f: cleaned.get(f, "") for f in PERSON_FIELDS}
        _clean, errors = clean_person_fields(raw)
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        _check_grid(self, cleaned.get("division_code", ""))
        cleaned["household_pk"] = _int_or_error(
            self, "household_id", cleaned.get("household_id", ""), _("住户编号应为正整数")
        )
        return cleaned


class PersonEditForm(PersonForm):
    """Edit a person: only the fields the user changed are sent to person_update.

    The masked fields (ID number, phone for roles that see it masked, birth date) start empty;
    empty means "unchanged".
    """

    def __init__(
        self,
        *args: Any,
        person: Person,
        display: dict[str, Any],
        full_phone: bool,
        grid_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        self.person = person
        self.full_phone = full_phone
        initial = {
            "name": person.name,
            "id_type": person.id_type,
            "sex": person.sex,
            "division_code": person.division_id,
            "household_id": str(person.household_id or ""),
            "relation_to_head": person.relation_to_head,
            "address": person.address,
            "notes": person.notes,
        }
        if full_phone:
            initial["phone"] = person.phone
        super().__init__(*args, initial=initial, grid_choices=grid_choices, **kwargs)
        keep = _("留空表示不修改")
        if person.id_number:
            self.fields["id_number"].widget.attrs["placeholder"] = display["id_number"]
            self.fields["id_number"].help_text = keep
        if not full_phone:
            if person.phone:
                self.fields["phone"].widget.attrs["placeholder"] = display["phone"]
            self.fields["phone"].help_text = keep
        self.fields["birth_date"].help_text = keep
        self.fields["household_id"].help_text = _("清空表示移出住户。")
        self.fields["sex"].widget.choices = Sex.choices

    def changes(self) -> dict[str, Any]:
        """{field: typed value} for the fields that differ from the stored record."""
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        for field in (
            "name",
            "id_type",
            "sex",
            "address",
            "notes",
            "relation_to_head",
            "division_code",
            "household_id",
        ):
            if field in self.changed_data:
                changes[field] = data.get(field, "")
        if "phone" in self.changed_data and (self.full_phone or data.get("phone")):
            changes["phone"] = data.get("phone", "")
        if data.get("id_number"):
            changes["id_number"] = data["id_number"]
        elif "id_type" in changes:
            changes["id_number"] = None
        if data.get("birth_date"):
            changes["birth_date"] = data["birth_date"]
        if "household_id" in changes:
            changes["household_id"] = data.get("household_pk")
        return changes

    def clean(self) -> dict[str, Any]:
        cleaned = forms.Form.clean(self)
        cleaned["household_pk"] = _int_or_error(
            self, "household_id", cleaned.get("household_id", ""), _("住户编号应为正整数")
        )
        if self.errors:
            return cleaned
        changes = self.changes()
        payload = {k: v for k, v in changes.items() if k not in ("division_code", "household_id")}
        if "id_number" in payload and "id_type" not in payload:
            payload["id_type"] = self.person.id_type
        _clean, errors = clean_person_fields(payload, partial=True)
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        if "division_code" in changes:
            _check_grid(self, changes["division_code"])
        return cleaned


class RevealForm(BootstrapForm):
    reason = forms.CharField(
        label=gettext_lazy("查看理由"),
        max_length=200,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 200}),
        error_messages={
            "required": gettext_lazy("请填写查看完整信息的理由"),
            "max_length": gettext_lazy("理由不能超过200个字"),
        },
        help_text=gettext_lazy("例如：流调核实身份、通知核酸检测。理由会记入审计日志。"),
    )


class PickPersonForm(BootstrapForm):
    """Choose a person by their record number (人员编号)."""

    person_id = forms.CharField(
        label=gettext_lazy("人员编号"),
        strip=True,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("请选择或填写人员编号")},
    )

    def clean_person_id(self) -> int:
        text = self.cleaned_data["person_id"].lstrip("#")
        if not text.isdigit() or int(text) <= 0:
            raise forms.ValidationError(_("人员编号应为正整数"))
        return int(text)


class MergeForm(PickPersonForm):
    person_id = forms.CharField(
        label=gettext_lazy("要并入本记录的人员编号"),
        strip=True,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("请选择要合并的人员")},
    )


class AddMemberForm(PickPersonForm):
    relation = forms.CharField(
        label=gettext_lazy("与户主关系"),
        widget=forms.Select(choices=[("", "—"), *Relation.choices]),
        error_messages={"required": gettext_lazy("请选择与户主关系")},
    )

    def clean_relation(self) -> str:
        relation = self.cleaned_data["relation"]
        if relation not in Relation.values:
            raise forms.ValidationError(_("与户主关系无效"))
        return relation


class HouseholdForm(BootstrapForm):
    address = _text(label=gettext_lazy("地址"), widget=forms.TextInput(attrs={"maxlength": 200}))
    division_code = _text(label=gettext_lazy("所属网格"), widget=forms.Select())
    head_id = _text(
        label=gettext_lazy("户主人员编号"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy("可不填，建户后再添加成员。"),
    )

    def __init__(self, *args: Any, grid_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = list(grid_choices)
        if len(choices) != 1:
            choices.insert(0, ("", _("请选择网格")))
        self.fields["division_code"].widget.choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        address = cleaned.get("address", "")
        if not address:
            self.add_error("address", _("地址不能为空"))
        elif len(address) > 200:
            self.add_error("address", _("地址不能超过200个字符"))
        _check_grid(self, cleaned.get("division_code", ""))
        cleaned["head_pk"] = _int_or_error(
            self, "head_id", cleaned.get("head_id", ""), _("户主人员编号应为正整数")
        )
        return cleaned
