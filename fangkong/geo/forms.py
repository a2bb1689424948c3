"""Forms of the division pages, and reading an uploaded division list (CSV or Excel)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from python_calamine import CalamineError, CalamineWorkbook

from .models import Division

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

# Column name (lower case, no spaces) -> field. Chinese headers as used in county spreadsheets.
HEADER_ALIASES = {
    "code": "code",
    "区划代码": "code",
    "代码": "code",
    "统计用区划代码": "code",
    "name": "name",
    "名称": "name",
    "区划名称": "name",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "上级代码": "parent_code",
    "上级区划代码": "parent_code",
}
REQUIRED_COLUMNS = {
    "code": gettext_lazy("区划代码"),
    "name": gettext_lazy("名称"),
    "parent_code": gettext_lazy("上级代码"),
}

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


class DivisionImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("区划文件"),
        help_text=gettext_lazy(
            "CSV 或 Excel（.xlsx/.xls/.ods），第一行为表头：区划代码、名称、上级代码"
            "（也可用 code、name、parent_code）。CSV 支持 UTF-8 和 GB18030 编码。"
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.xlsx,.xlsm,.xlsb,.xls,.ods"}
        ),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件不能超过 10 MB。"))
        self.rows = read_division_rows(upload)
        return upload


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode_csv(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.removeprefix("\ufeff")
    raise forms.ValidationError(_("无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV。"))


def _table(upload: UploadedFile) -> list[list[Any]]:
    data = upload.read()
    if not data:
        raise forms.ValidationError(_("文件是空的。"))
    name = (upload.name or "").lower()
    is_excel = name.endswith(EXCEL_SUFFIXES) or data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
    if not is_excel:
        return list(csv.reader(io.StringIO(_decode_csv(data), newline="")))
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CalamineError:
        raise forms.ValidationError(
            _("无法读取该 Excel 文件，请确认文件未损坏、未加密。")
        ) from None


def read_division_rows(upload: UploadedFile) -> list[tuple[int, dict[str, str]]]:
    """(row number in the file, {code, name, parent_code}) for every non-blank data row.

    The first row is the header; row numbers are what a spreadsheet shows (header = 1).
    """
    table = _table(upload)
    if not table:
        raise forms.ValidationError(_("文件是空的。"))
    header = [_cell(h).lower().replace(" ", "") for h in table[0]]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        field = HEADER_ALIASES.get(title)
        if field and field not in columns:
            columns[field] = index
    missing = [str(label) for field, label in REQUIRED_COLUMNS.items() if field not in columns]
    if missing:
        raise forms.ValidationError(
            _("表头缺少列：%(columns)s。第一行应为：区划代码、名称、上级代码。")
            % {"columns": _("、").join(missing)}
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(table[1:], start=2):
        values = {
            field: _cell(raw[index]) if index < len(raw) else "" for field, index in columns.items()
        }
        if not any(values.values()):
            continue
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            raise forms.ValidationError(_("一次最多导入 %(n)s 行，请分批导入。") % {"n": MAX_ROWS})
    if not rows:
        raise forms.ValidationError(_("文件中除表头外没有数据。"))
    return rows
