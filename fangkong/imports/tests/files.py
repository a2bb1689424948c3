"""Real spreadsheet files for the tests, written into tmp_path."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from django.core.files import File

DATA = Path(__file__).parent / "data"


def write_xlsx(
    path: Path,
    rows: list[list[Any]],
    *,
    merges: list[tuple[int, int, int, int, Any]] = (),
    formulas: dict[tuple[int, int], str] | None = None,
    sheets_before: list[tuple[str, list[list[Any]]]] = (),
    hidden_first: bool = False,
) -> Path:
    """rows[i][j] at row i, column j (0-based); None leaves the cell empty; dates become date
    cells. merges: (first_row, first_col, last_row, last_col, value)."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, other_rows in sheets_before:
        other = book.add_worksheet(name)
        for r, row in enumerate(other_rows):
            for c, value in enumerate(row):
                if value is not None:
                    other.write(r, c, value)
        if hidden_first:
            other.hide()
    sheet = book.add_worksheet("名册")
    if hidden_first:
        sheet.activate()
    for first_row, first_col, last_row, last_col, value in merges:
        sheet.merge_range(first_row, first_col, last_row, last_col, value)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    for (r, c), formula in (formulas or {}).items():
        sheet.write_formula(r, c, formula, None, 3)
    book.close()
    return path


def write_csv(
    path: Path, rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_ods(
    path: Path, rows: list[list[Any]], *, formula_at: tuple[int, int] | None = None
) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice/WPS save as .ods)."""
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            formula = ' table:formula="of:=1+2"' if formula_at == (r, c) else ""
            if value is None:
                cells.append("<table:table-cell/>")
            elif isinstance(value, int | float):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}"{formula}>'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
            else:
                cells.append(
                    f'<table:table-cell office:value-type="string"{formula}>'
                    f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
                )
        body.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="名册">'
        + "".join(body)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def upload(path: Path) -> File:
    """The file as a view or the command line hands it to the engine (open it in a with)."""
    return File(path.open("rb"), name=path.name)
