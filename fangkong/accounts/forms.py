"""Forms of the account pages: log in, create an API token."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确（区分大小写）。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update(
            {"class": "form-control form-control-lg", "autocapitalize": "none"}
        )
        self.fields["password"].widget.attrs.update({"class": "form-control form-control-lg"})


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("用途"),
        max_length=100,
        required=False,
        help_text=_("例如：数据对接、统计脚本。便于日后识别和吊销。"),
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("令牌用途")}),
    )
