"""The error spreadsheet: the header as read, the bad rows exactly as read, and a last column
错误原因. The engine ignores a column headed 错误原因 when reading, so the user fixes the rows
in this file and uploads it as it is."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from .contracts import Column
from .models import ImportJob, ImportRowError

ERROR_COLUMN = "错误原因"


def reasons_text(
    row_error: ImportRowError, labels: dict[str, str], *, with_row: bool = True
) -> str:
    """'原第 12 行；身份证号：校验码错误；手机号：…' (field keys shown by their column label)."""
    parts = []
    if with_row:
        parts.append(_("原第 %(n)s 行") % {"n": row_error.row_number})
    if row_error.kind == ImportRowError.Kind.CONFLICT:
        parts.append(_("冲突，需人工核对"))
    for key, messages in (row_error.errors or {}).items():
        text = "，".join(str(m) for m in messages)
        label = labels.get(key)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


def _write_cell(sheet: Any, row: int, col: int, value: Any, text_format: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    else:  # never write(): a text starting with "=" would become a formula
        sheet.write_string(row, col, str(value), text_format)


def build_error_workbook(*, job: ImportJob, columns: tuple[Column, ...]) -> bytes:
    layout = job.options.get("layout") or {}
    header: list[str] = list(layout.get("labels") or [])
    keys: list[str | None] = list(layout.get("keys") or [None] * len(header))
    kinds = {c.key: c.kind for c in columns}
    labels = {c.key: str(c.label) for c in columns}

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    error_header = book.add_format({"bold": True, "font_color": "#C00000", "border": 1})
    text = book.add_format({"num_format": "@"})
    error_text = book.add_format({"font_color": "#C00000", "text_wrap": False})
    sheet = book.add_worksheet(_("错误行"))
    # ID numbers, phones and codes stay text when the user types the fixes in.
    for index, key in enumerate(keys):
        if key and kinds.get(key) == "number_text":
            sheet.set_column(index, index, 20, text)
        else:
            sheet.set_column(index, index, 14)
    sheet.set_column(len(header), len(header), 60)
    for index, label in enumerate(header):
        sheet.write_string(0, index, label, bold)
    sheet.write_string(0, len(header), ERROR_COLUMN, error_header)
    sheet.freeze_panes(1, 0)
    row = 1
    for row_error in job.row_errors.order_by("row_number").iterator(chunk_size=2000):
        original = list(row_error.original or [])
        for index in range(len(header)):
            value = original[index] if index < len(original) else None
            key = keys[index] if index < len(keys) else None
            _write_cell(sheet, row, index, value, text if key else None)
        sheet.write_string(row, len(header), reasons_text(row_error, labels), error_text)
        row += 1
    book.close()
    return output.getvalue()
