"""Forms of the editions pages: activate an edition, adjust a national edition locally.

The adjustment form has one block per category of person and one row per phase (kind, days,
test days typed as "1,2,3"). It only parses what was typed; the ceilings are the service's
(policy.services.edition_adjust), whose errors come back keyed "rules.<category>..." and are
put next to the category or the phase row they name (`apply_domain_error`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.exceptions import DomainError

from .models import PhaseKind, PolicyEdition
from .presenters import CATEGORY_ORDER, category_label, describe_rule

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}
_DAY_SPLIT = re.compile(r"[,，、;；\s]+")
_PHASE_PATH = re.compile(r"^rules\.(?P<cat>[a-z_]+)\.phases\[(?P<i>\d+)\]\.(?P<field>\w+)")


class ActivateForm(forms.Form):
    edition = forms.ChoiceField(label=gettext_lazy("方案版本"), widget=forms.Select(attrs=_SELECT))
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        help_text=gettext_lazy("可以是过去的日期：自该日起适用；已下达的措施保留原有分段。"),
        widget=forms.DateInput(attrs={**_TEXT, "type": "date"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("依据"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("如：县指挥部〔2022〕12 号通知"),
        widget=forms.TextInput(attrs=_TEXT),
    )

    def __init__(self, *args: Any, editions: list[PolicyEdition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["edition"].choices = [
            (
                e.code,
                f"{e.short_name}（{e.issued_on:%Y-%m-%d}）"
                if e.kind == "national"
                else f"{e.short_name}（{_('本县调整')}）",
            )
            for e in editions
        ]


def _parse_days(text: str) -> list[int]:
    """ "1, 2、3" -> [1, 2, 3]; ValueError when a part is not a whole number."""
    parts = [p for p in _DAY_SPLIT.split(text.strip()) if p]
    return [int(p) for p in parts]


class AdjustForm(forms.Form):
    """Local adjustment of `base`: every category, each with the base's phase rows plus one."""

    base = forms.ChoiceField(label=gettext_lazy("所依据的国家方案"), widget=forms.HiddenInput)
    code = forms.CharField(
        label=gettext_lazy("代码"),
        max_length=40,
        help_text=gettext_lazy("小写字母、数字或连字符，如 v9-meixian"),
        widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=100,
        widget=forms.TextInput(attrs=_TEXT),
    )
    lookback_days = forms.IntegerField(
        label=gettext_lazy("密接追溯天数"),
        min_value=1,
        widget=forms.NumberInput(attrs=_TEXT),
    )
    notes = forms.CharField(
        label=gettext_lazy("说明与依据"),
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )

    def __init__(
        self, *args: Any, base: PolicyEdition, bases: list[PolicyEdition], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.base_edition = base
        self.fields["base"].choices = [(e.code, e.short_name) for e in bases]
        self.fields["base"].initial = base.code
        self.fields["lookback_days"].initial = base.lookback_days
        maximum = (base.ceilings or {}).get("lookback_days_max", base.lookback_days)
        self.fields["lookback_days"].help_text = _("国家方案 %(days)s 天，上限 %(max)s 天") % {
            "days": base.lookback_days,
            "max": maximum,
        }
        kinds = [("", "—"), *PhaseKind.choices]
        self.blocks: list[dict[str, Any]] = []
        for category in CATEGORY_ORDER:
            rule = (base.rules or {}).get(category)
            phases = (rule or {}).get("phases") or []
            apply_name = f"{category}-apply"
            self.fields[apply_name] = forms.BooleanField(
                label=gettext_lazy("本县对此类人员采取措施"),
                required=False,
                initial=rule is not None,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
            rows = []
            for index in range(max(len(phases), 1) + 1):
                phase = phases[index] if index < len(phases) else {}
                names = {
                    "kind": f"{category}-{index}-kind",
                    "days": f"{category}-{index}-days",
                    "tests": f"{category}-{index}-tests",
                }
                self.fields[names["kind"]] = forms.ChoiceField(
                    label=gettext_lazy("措施"),
                    required=False,
                    choices=kinds,
                    initial=phase.get("kind", ""),
                    widget=forms.Select(attrs={**_SELECT, "class": "form-select form-select-sm"}),
                )
                self.fields[names["days"]] = forms.CharField(
                    label=gettext_lazy("天数"),
                    required=False,
                    initial="" if phase.get("days") is None else str(phase.get("days")),
                    widget=forms.TextInput(
                        attrs={"class": "form-control form-control-sm", "inputmode": "numeric"}
                    ),
                )
                self.fields[names["tests"]] = forms.CharField(
                    label=gettext_lazy("检测日"),
                    required=False,
                    initial=",".join(str(d) for d in phase.get("test_days") or []),
                    widget=forms.TextInput(
                        attrs={"class": "form-control form-control-sm", "placeholder": "1,2,3"}
                    ),
                )
                rows.append(names)
            self.blocks.append(
                {
                    "category": category,
                    "label": category_label(category),
                    "in_base": rule is not None,
                    "base_summary": describe_rule(rule),
                    "apply": apply_name,
                    "rows": rows,
                }
            )

    def bound_blocks(self) -> list[dict[str, Any]]:
        """The blocks with bound fields, for the template."""
        return [
            {
                **block,
                "apply_field": self[block["apply"]],
                "rows": [{k: self[v] for k, v in row.items()} for row in block["rows"]],
            }
            for block in self.blocks
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.changes: dict[str, Any] = {}
        for block in self.blocks:
            category = block["category"]
            if not cleaned.get(block["apply"]):
                if block["in_base"]:
                    self.changes[category] = None
                continue
            phases = []
            for row in block["rows"]:
                kind = cleaned.get(row["kind"]) or ""
                days_text = (cleaned.get(row["days"]) or "").strip()
                tests_text = (cleaned.get(row["tests"]) or "").strip()
                if not kind:
                    if days_text or tests_text:
                        self.add_error(row["kind"], _("请选择措施类型"))
                    continue
                days = None
                if days_text:
                    if not days_text.isdigit() or int(days_text) < 1:
                        self.add_error(row["days"], _("天数须为正整数（留空表示至解除）"))
                        continue
                    days = int(days_text)
                try:
                    tests = _parse_days(tests_text)
                except ValueError:
                    self.add_error(row["tests"], _("检测日须为用逗号分隔的天数，如 1,2,3"))
                    continue
                phases.append({"kind": kind, "days": days, "test_days": tests})
            if not phases:
                self.add_error(
                    block["apply"],
                    _("%(category)s：至少填写一段措施") % {"category": block["label"]},
                )
                continue
            base_rule = (self.base_edition.rules or {}).get(category)
            if base_rule is None or base_rule.get("phases") != phases:
                self.changes[category] = {"phases": phases}
        return cleaned

    def field_for_error(self, key: str) -> str | None:
        """The form field a service error key names ("rules.case.phases[0].days" ->
        "case-0-days"), or None for the top of the form."""
        if key in self.fields:
            return key
        match = _PHASE_PATH.match(key)
        if match:
            field = {"kind": "kind", "days": "days"}.get(match["field"], "tests")
            name = f"{match['cat']}-{match['i']}-{field}"
            if name in self.fields:
                return name
        if key.startswith("rules."):
            category = key.split(".")[1].split("[")[0]
            if f"{category}-apply" in self.fields:
                return f"{category}-apply"
        return None


def apply_domain_error(form: Any, exc: DomainError) -> None:
    """Put a service's {field: [messages]} next to the form's fields; the rest on top."""
    placed = False
    for key, messages in exc.errors.items():
        field = (
            form.field_for_error(key)
            if hasattr(form, "field_for_error")
            else (key if key in form.fields else None)
        )
        for message in messages:
            form.add_error(field, str(message))
            placed = True
    if not placed or exc.status == 409:
        form.add_error(None, str(exc.message))
