"""Filter form of the audit log, and the words the log uses for its verbs and targets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

VERB_LABELS = {
    "accounts.user.create": _("新建账号"),
    "accounts.user.update": _("修改账号"),
    "accounts.user.set_password": _("设置密码"),
    "accounts.token.create": _("生成 API 令牌"),
    "accounts.token.revoke": _("吊销 API 令牌"),
    "accounts.grid_worker.create": _("新增网格员"),
    "accounts.grid_worker.assign": _("指派网格"),
    "accounts.responsibility.assign": _("登记包抓责任人"),
    "geo.division.create": _("新增区划"),
    "geo.division.update": _("修改区划"),
    "geo.division.import": _("导入区划"),
    "people.person.create": _("新增人员"),
    "people.person.update": _("修改人员"),
    "people.person.merge": _("合并人员"),
    "people.person.reveal": _("查看完整信息"),
    "people.person.export": _("导出人员"),
    "people.household.create": _("新增住户"),
    "people.household.add_member": _("添加住户成员"),
    "people.household.set_head": _("设置户主"),
    "people.household.export": _("导出住户"),
    "people.household.import": _("导入住户"),
    "people.person.import": _("导入人员"),
    "people.person.import_rollback": _("撤销导入的人员"),
    "geo.division.import_national": _("导入全国区划表"),
    "geo.division.import_rollback": _("撤销导入的区划"),
    "imports.job.create": _("上传导入文件"),
    "imports.job.enqueue": _("导入转入后台"),
    "imports.job.run": _("执行导入"),
    "imports.job.stop": _("导入中断"),
    "imports.job.rollback": _("撤销导入"),
    "imports.job.errors_export": _("下载导入错误行"),
    "demo.seed": _("生成演示数据"),
}

TARGET_LABELS = {
    "accounts.user": _("账号"),
    "accounts.apitoken": _("API 令牌"),
    "accounts.gridworker": _("网格员"),
    "accounts.responsibility": _("包抓责任人"),
    "geo.division": _("区划"),
    "people.person": _("人员"),
    "people.household": _("住户"),
    "imports.importjob": _("导入任务"),
}

_DATE = {"type": "date", "class": "form-control form-control-sm"}


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("操作人"),
        required=False,
        max_length=150,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": _("用户名或账号编号")}
        ),
    )
    verb = forms.ChoiceField(
        label=_("操作"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    target_type = forms.ChoiceField(
        label=_("对象类型"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    target_id = forms.CharField(
        label=_("对象编号"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )

    def __init__(
        self, *args: Any, verbs: list[str] = (), target_types: list[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        verb_choices: list[tuple[str, Any]] = [("", _("全部操作"))]
        for prefix in sorted({v.split(".", 1)[0] + "." for v in verbs}):
            verb_choices.append((prefix, _("%(app)s 全部") % {"app": prefix.rstrip(".")}))
        verb_choices += [(v, f"{VERB_LABELS.get(v, v)} ({v})") for v in verbs]
        self.fields["verb"].choices = verb_choices
        self.fields["target_type"].choices = [
            ("", _("全部对象")),
            *((t, f"{TARGET_LABELS.get(t, t)} ({t})") for t in target_types),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期"))
        return data
