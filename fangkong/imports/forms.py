"""The upload form of the import page (and of the API's multipart upload), and the upload
handler that refuses an oversized file while it streams in.

The form only checks what it can see without reading the file: a kind the viewer may use, a
file no larger than settings.FANGKONG["IMPORT_MAX_BYTES"], a division code that looks like one.
Everything else (is it a spreadsheet, are the headers there, is the division in scope) is the
engine's job: its ValidationFailed is put next to the field it names (`apply_domain_error`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.exceptions import DomainError

from .contracts import REGISTRY, Importer, importer_for

# What a role must be allowed to edit to import a kind: the name of a flag of the viewer's
# role policy (accounts.roles.RolePolicy, reached as `user.policy`: this app sits below
# accounts). An importer may declare its own with a class attribute `permission`.
KIND_PERMISSIONS = {
    "people": "can_edit_people",
    "households": "can_edit_people",
    "divisions": "can_edit_divisions",
}
DEFAULT_PERMISSION = "can_edit_people"

# Room for the other form fields and the multipart boundaries next to the file itself.
BODY_SLACK = 64 * 1024


def may_import(user: Any, kind: str) -> bool:
    """Whether the viewer's role may import `kind` (an unknown kind: no)."""
    importer = importer_for(kind)
    if importer is None or not getattr(user, "is_authenticated", False):
        return False
    flag = getattr(importer, "permission", None) or KIND_PERMISSIONS.get(kind, DEFAULT_PERMISSION)
    return bool(getattr(getattr(user, "policy", None), flag, False))


def importable(user: Any) -> list[type[Importer]]:
    """The registered importers the viewer may use, in registration order."""
    return [cls for kind, cls in REGISTRY.items() if may_import(user, kind)]


def kind_choices(user: Any) -> list[tuple[str, str]]:
    return [(cls.kind, str(cls.label)) for cls in importable(user)]


def max_bytes() -> int:
    return int(settings.FANGKONG["IMPORT_MAX_BYTES"])


def size_label(size: int) -> str:
    """100 MB, 512 KB ... for messages."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} B"


def too_large_message() -> str:
    return _("文件过大：上传文件不能超过 %(limit)s。请按镇或村拆分后分别导入。") % {
        "limit": size_label(max_bytes())
    }


class UploadLimitHandler(FileUploadHandler):
    """First in request.upload_handlers: a file over the import limit is skipped as it streams
    (Django keeps none of it, not even in a temporary file) and the request is marked
    `upload_too_large`, so the form can say why the file is missing.

    A request whose whole body is already over the limit is refused at the first file without
    reading it into anything."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = max_bytes()
        self.body_too_large = False

    def _refuse(self) -> None:
        if self.request is not None:
            self.request.upload_too_large = True  # type: ignore[attr-defined]
        raise SkipFile()

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        self.body_too_large = content_length > self.limit + BODY_SLACK

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.body_too_large:
            self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_uploads(request: HttpRequest) -> None:
    """Put UploadLimitHandler first, unless the body has been read already (then the form's
    size check still refuses the file, after Django streamed it to a temporary file)."""
    # Django refuses (AttributeError) to change the handlers once the body has been parsed.
    with contextlib.suppress(AttributeError):
        request.upload_handlers = [UploadLimitHandler(request), *request.upload_handlers]


class ImportForm(forms.Form):
    """kind, file, division, dry_run. `kinds`: (kind, label) pairs the viewer may import."""

    kind = forms.ChoiceField(label=gettext_lazy("导入内容"))
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy("Excel（.xlsx、.xls）、WPS（.ods）或 CSV（UTF-8 或 GB18030）。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.xlsm,.ods,.csv,.txt"}),
        error_messages={
            "required": gettext_lazy("请选择要导入的文件"),
            "empty": gettext_lazy("文件是空的（0 字节）"),
            "invalid": gettext_lazy("没有收到文件，请重新选择"),
            "missing": gettext_lazy("没有收到文件，请重新选择"),
        },
    )
    division = forms.CharField(
        label=gettext_lazy("导入到区划（可选）"),
        required=False,
        strip=True,
        max_length=15,
        help_text=gettext_lazy(
            "区划代码，如 610326107（齐镇）。文件中没有填写网格或镇村的行归入此区划；"
            "落在此区划以外的行作为错误行列出。"
        ),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "placeholder": gettext_lazy("例：610326107"),
            }
        ),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("试运行（只检查并统计，不保存）"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, str]],
        too_large: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        if too_large:
            # The handler skipped the file: clean_file says why it is missing, rather than
            # "please choose a file".
            self.fields["file"].required = False
        self.fields["kind"].choices = kinds
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]
        self.fields["file"].widget.attrs["data-max-bytes"] = str(max_bytes())
        self.fields["file"].widget.attrs["data-too-large"] = too_large_message()
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"
            widget.attrs.setdefault("aria-describedby", f"id_{name}_help")

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if self.too_large or (upload is not None and upload.size > max_bytes()):
            raise forms.ValidationError(too_large_message())
        return upload

    def clean_division(self) -> str:
        code = self.cleaned_data.get("division", "")
        if code and not (code.isdigit() and 6 <= len(code) <= 15):
            raise forms.ValidationError(_("区划代码应为 6 至 15 位数字"))
        return code

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        names = list(error) if isinstance(error, dict) else [field]
        for name in names:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    def options(self) -> dict[str, str]:
        division = self.cleaned_data.get("division")
        return {"division": division} if division else {}


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """The engine's {field: [messages]} next to the form's fields; the rest above the form."""
    placed = False
    for field, messages in exc.errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))
