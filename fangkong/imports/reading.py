"""Reading an uploaded roster: file type, header row, rows.

* The type comes from the content (zip: xlsx/xlsm/xlsb/ods; OLE: xls; text: CSV), not only
  from the extension; pictures, PDFs, HTML pretending to be .xls and random bytes are refused.
* Spreadsheets are read with python-calamine (first visible worksheet with data). CSV is
  decoded as UTF-8 (with or without BOM) or else GB18030, and its delimiter (comma, tab,
  semicolon) is sniffed.
* The header is the row among the first HEADER_SCAN_ROWS that names the most known columns,
  so title rows ("XX村人口信息登记表") and info rows ("填报单位：… 填报日期：…") above it are
  skipped. A two-row header (a merged group cell above its leaf headers) is joined when the
  joined text is a known column ("户主" + "姓名" -> 户主姓名), else the leaf is used, and a
  leaf merged down from the first row keeps the first row's text.
* Columns headed 错误原因/错误 (from the error file) and 序号 are ignored; other columns that
  no importer column matches are reported as unknown, never silently dropped.
* Empty rows and footer rows (合计…, 填表人…) are skipped, but row numbers stay the sheet's.
* Formula cells are refused (the value a formula shows is not data anyone typed).

`inspect` reads the whole file once (refusals, the header, the number of data rows) and returns
a Layout, stored on the job, so that a resumed run reads the same columns. `iter_source_rows`
then streams SourceRows with cleaned values.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any
from xml.etree import ElementTree

from django.utils.translation import gettext as _

from fangkong.core.exceptions import ValidationFailed

from .cleaning import cleaner_for, normalize_header, text_needs_cleaning
from .contracts import Column, SourceRow

HEADER_SCAN_ROWS = 15
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
CSV_DELIMITERS = (",", "\t", ";")
IGNORED_HEADERS = frozenset({"错误原因", "错误", "序号", "行号", "no", "no."})
ERROR_HEADERS = frozenset({"错误原因", "错误"})
_FOOTER = re.compile(r"^(合计|总计|小计|填表人|填报人|制表人|审核人|负责人签字)")

XLSX, XLSB, XLS, ODS, CSV = "xlsx", "xlsb", "xls", "ods", "csv"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"BM",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x7fELF",
    b"MZ",
)


def refuse(message: Any) -> ValidationFailed:
    return ValidationFailed({"file": [str(message)]}, message=message)


@dataclass
class Layout:
    """Where the data is in a file, as found by `inspect` (stored in job.options["layout"])."""

    format: str
    header_row: int  # 0-based index of the (first) header row in the sheet
    header_height: int  # 1, or 2 for a two-row header
    labels: list[str]  # per kept column: the header as the error file writes it
    keys: list[str | None]  # per kept column: the importer's column key (None: unknown)
    positions: list[int]  # per kept column: its index in the rows as read
    unknown: list[str] = field(default_factory=list)
    # Other worksheets with a header of known columns: not read (one sheet per upload).
    other_sheets: list[str] = field(default_factory=list)
    total_rows: int = 0
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        return cls(**data)


# --- file type ------------------------------------------------------------------------------


def sniff_format(head: bytes) -> str:
    """The format by content. Raises the refusal for anything that is not a spreadsheet."""
    if not head:
        raise refuse(_("文件是空的。"))
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return XLS
    if head.startswith(_OTHER_MAGIC):
        raise refuse(
            _("这不是表格文件（像是图片、PDF或压缩包），请上传 Excel（.xlsx/.xls）或 CSV 文件。")
        )
    lowered = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        raise refuse(
            _(
                "这是网页（HTML/XML）格式的文件，不是真正的 Excel 表格。请用 Excel 打开后另存为 .xlsx 再上传。"
            )
        )
    if b"\x00" in head:
        raise refuse(_("这不是表格文件，请上传 Excel（.xlsx/.xls）或 CSV 文件。"))
    return CSV


def _zip_format(file: IO[bytes]) -> str:
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return XLSX
            if "xl/workbook.bin" in names:
                return XLSB
            if "content.xml" in names and "mimetype" in names:
                mimetype = archive.read("mimetype")[:100]
                if b"spreadsheet" in mimetype:
                    return ODS
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise refuse(_("文件已损坏，无法作为表格打开。")) from exc
    raise refuse(
        _("这不是表格文件（像是 Word 文档或压缩包），请上传 Excel（.xlsx/.xls）或 CSV 文件。")
    )


def detect_format(file: IO[bytes]) -> str:
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    fmt = sniff_format(head)
    if fmt == "zip":
        fmt = _zip_format(file)
        file.seek(0)
    return fmt


# --- formulas -------------------------------------------------------------------------------

_XLSX_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?=[\s>/])")
# Every match of _XLSX_FORMULA holds "<f" or (with a namespace prefix) ":f".
_XLSX_FORMULA_NEEDLES = (b"<f", b":f")
_XLSX_CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br="([A-Z]+)(\d+)"')
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _xlsx_sheet_part(archive: zipfile.ZipFile, sheet_name: str | None) -> str | None:
    """The zip member of the worksheet called `sheet_name` (workbook.xml + its rels)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG_REL}Relationship")}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        if sheet.get("name") == sheet_name:
            target = targets.get(sheet.get(f"{_NS_REL}id"), "")
            if target.startswith("/"):
                return target.lstrip("/")
            return "xl/" + target if not target.startswith("xl/") else target
    return None


def _scan_member(
    archive: zipfile.ZipFile,
    member: str,
    pattern: re.Pattern[bytes],
    needles: tuple[bytes, ...] = (),
) -> bytes | None:
    """The text around the first match of `pattern` in a zip member, read in chunks.
    `needles`: byte strings one of which every match contains; a chunk holding none of
    them is passed over without the (slower) pattern search."""
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            data = tail + chunk
            if needles and not any(needle in data for needle in needles):
                tail = data[-4096:]
                continue
            match = pattern.search(data)
            if match:
                return data[max(0, match.start() - 4096) : match.end()]
            tail = data[-4096:]
    return None


def _xlsx_formula_cell(file: IO[bytes], sheet_name: str | None) -> str | None:
    """'C5' (or '?') if the worksheet has a formula cell, else None."""
    with zipfile.ZipFile(file) as archive:
        member = _xlsx_sheet_part(archive, sheet_name)
        members = (
            [member]
            if member and member in archive.namelist()
            else [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        )
        for name in members:
            found = _scan_member(archive, name, _XLSX_FORMULA, _XLSX_FORMULA_NEEDLES)
            if found is not None:
                refs = _XLSX_CELL_REF.findall(found)
                if refs:
                    column, row = refs[-1]
                    return f"{column.decode()}{row.decode()}"
                return "?"
    return None


def _ods_has_formula(file: IO[bytes]) -> bool:
    with zipfile.ZipFile(file) as archive:
        return _scan_member(archive, "content.xml", re.compile(rb"table:formula=")) is not None


def _xls_has_formula(file: IO[bytes], sheet_name: str | None) -> bool:
    from .xls import biff_has_formula

    file.seek(0)
    return biff_has_formula(file.read(), sheet_name)


def check_formulas(file: IO[bytes], fmt: str, sheet_name: str | None) -> None:
    """Refuse a sheet with formula cells (xlsx/xlsm, ods, xls; xlsb cannot be checked)."""
    where: str | None = None
    file.seek(0)
    if fmt == XLSX:
        where = _xlsx_formula_cell(file, sheet_name)
    elif fmt == ODS:
        where = "?" if _ods_has_formula(file) else None
    elif fmt == XLS:
        where = "?" if _xls_has_formula(file, sheet_name) else None
    file.seek(0)
    if where is None:
        return
    if where != "?":
        raise refuse(
            _(
                "单元格 %(cell)s 是公式。请先把公式转成数值（复制后“选择性粘贴—数值”）再上传，"
                "导入只接受填写的数据。"
            )
            % {"cell": where}
        )
    raise refuse(
        _(
            "表格中有公式单元格。请先把公式转成数值（复制后“选择性粘贴—数值”）再上传，导入只接受填写的数据。"
        )
    )


# --- raw rows -------------------------------------------------------------------------------


MAX_SHEETS = 30


def _workbook(file: IO[bytes]) -> Any:
    from python_calamine import CalamineError, CalamineWorkbook

    file.seek(0)
    try:
        return CalamineWorkbook.from_filelike(file)
    except (CalamineError, ValueError, OSError) as exc:
        raise refuse(_("文件已损坏或加了密码，无法作为表格打开。")) from exc


def _visible_sheet_names(workbook: Any) -> list[str]:
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    return [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
    ][:MAX_SHEETS]


def _sheet(workbook: Any, name: str) -> Any:
    from python_calamine import CalamineError

    try:
        return workbook.get_sheet_by_name(name)
    except (CalamineError, ValueError) as exc:
        raise refuse(_("文件已损坏，无法作为表格打开。")) from exc


def _excel_rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    # calamine yields rows from the top of the sheet (row 0), columns from the first used one.
    for index, cells in enumerate(sheet.iter_rows()):
        yield index + 1, cells


def _merged_ranges(sheet: Any) -> list[tuple[int, int, int, int]]:
    """Merged cells as (first row, first column, last row, last column), columns relative to
    the first used column (as iter_rows gives them)."""
    try:
        ranges = sheet.merged_cell_ranges or []
    except (AttributeError, ValueError):
        return []
    offset = sheet.start[1] if sheet.start else 0
    return [(r1, c1 - offset, r2, c2 - offset) for (r1, c1), (r2, c2) in ranges]


def _detect_encoding(file: IO[bytes]) -> str:
    """The first of CSV_ENCODINGS that decodes the whole file (read in chunks)."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        file.seek(0)
        return encoding
    file.seek(0)
    raise refuse(_("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK（GB18030）编码后再上传。"))


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits most sample lines into the same number (>1) of fields;
    on a tie the earlier of comma, tab, semicolon."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    best, best_score = ",", -1
    for delimiter in CSV_DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        counts: dict[int, int] = {}
        for width in widths:
            if width > 1:
                counts[width] = counts.get(width, 0) + 1
        score = max(counts.values(), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _text_stream(file: IO[bytes], encoding: str) -> io.TextIOWrapper:
    file.seek(0)
    return io.TextIOWrapper(file, encoding=encoding, newline="")


def _csv_rows(file: IO[bytes], encoding: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    stream = _text_stream(file, encoding)
    try:
        csv.field_size_limit(1 << 24)
        for index, cells in enumerate(csv.reader(stream, delimiter=delimiter)):
            yield index + 1, cells
    except csv.Error as exc:
        raise refuse(_("CSV 文件格式有误，无法读取。")) from exc
    finally:
        # Leave the file open for the caller; an abandoned reader may be finalised after the
        # caller closed it already.
        with contextlib.suppress(ValueError):
            stream.detach()


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _used_width(cells: list[Any]) -> int:
    for index in range(len(cells) - 1, -1, -1):
        cell = cells[index]
        if cell is None or cell == "":
            continue
        if cell.__class__ is str and cell.isspace():
            continue
        return index + 1
    return 0


# The first characters a footer row (_FOOTER) can start with: a row whose first cell is text
# starting with anything else, or a number, is data without a closer look.
_FOOTER_STARTS = frozenset("合总小填制审负")


def _not_footer(cells: list[Any]) -> bool:
    """True when the first cell alone shows the row is no footer (the usual data row)."""
    if not cells:
        return False
    first = cells[0]
    if first.__class__ is str:
        return bool(first) and first[0] not in _FOOTER_STARTS and not first[0].isspace()
    return first.__class__ is int or first.__class__ is float


def _is_footer(cells: list[Any]) -> bool:
    """合计：…, 填表人：… below the data: the first filled cell says so, and at most 3 cells
    are filled. (Called for every row: the usual row fails on its first cell.)"""
    for cell in cells:
        if cell is None or cell == "":
            continue
        if not (isinstance(cell, str) and _FOOTER.match(cell.strip())):
            return False
        return sum(1 for c in cells if not _is_blank(c)) <= 3
    return False


# --- header ---------------------------------------------------------------------------------


def column_lookup(columns: Iterable[Column]) -> dict[str, str]:
    """Normalised header text -> column key, for labels, aliases and keys."""
    lookup: dict[str, str] = {}
    for column in columns:
        for text in (column.key, str(column.label), *column.aliases):
            lookup.setdefault(normalize_header(text), column.key)
    return lookup


def _header_text(cell: Any) -> str:
    if _is_blank(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


@dataclass
class _Header:
    row: int  # 0-based
    height: int
    texts: list[str]  # per column: the header text to report and write
    keys: list[str | None]
    ignored: set[int]
    score: int


def _single_header(row: int, cells: list[Any], lookup: dict[str, str]) -> _Header:
    texts, keys, ignored, seen = [], [], set(), set()
    for index, cell in enumerate(cells):
        text = _header_text(cell)
        norm = normalize_header(text)
        key = lookup.get(norm)
        if norm in IGNORED_HEADERS and key is None:
            ignored.add(index)
        if key in seen:
            key = None  # a second column with the same meaning is reported, not used
        if key:
            seen.add(key)
        texts.append(text)
        keys.append(key)
    return _Header(row, 1, texts, keys, ignored, len(seen))


def _double_header(
    row: int,
    parents: list[Any],
    children: list[Any],
    lookup: dict[str, str],
    merged: list[tuple[int, int, int, int]],
) -> _Header:
    width = max(len(parents), len(children))
    parent_texts = [_header_text(parents[i]) if i < len(parents) else "" for i in range(width)]
    # A group cell merged across several columns holds its text in the first one only.
    for r1, c1, r2, c2 in merged:
        if r1 == row and r2 == row and 0 <= c1 < width:
            for column in range(c1 + 1, min(c2, width - 1) + 1):
                if not parent_texts[column]:
                    parent_texts[column] = parent_texts[c1]
    texts, keys, ignored, seen = [], [], set(), set()
    for index in range(width):
        parent = parent_texts[index]
        child = _header_text(children[index]) if index < len(children) else ""
        joined = parent + child
        key = None
        text = child or parent
        if parent and child and lookup.get(normalize_header(joined)):
            key, text = lookup[normalize_header(joined)], joined
        elif child:
            key = lookup.get(normalize_header(child))
            if key is None and parent:
                text = joined
        elif parent:
            key = lookup.get(normalize_header(parent))
        if key in seen:  # a second column with the same meaning: reported, not used
            key = None
            text = joined if parent and child else text
        norm = normalize_header(text)
        if key is None and (norm in IGNORED_HEADERS or normalize_header(child) in IGNORED_HEADERS):
            ignored.add(index)
        if key:
            seen.add(key)
        texts.append(text)
        keys.append(key)
    return _Header(row, 2, texts, keys, ignored, len(seen))


def find_header(
    rows: list[list[Any]], lookup: dict[str, str], merged: list[tuple[int, int, int, int]]
) -> _Header | None:
    """The best header among the first rows: most known columns; on a tie the earlier row,
    and one row before two."""
    best: _Header | None = None
    for index, cells in enumerate(rows):
        if not any(not _is_blank(c) for c in cells):
            continue
        candidates = [_single_header(index, cells, lookup)]
        if index + 1 < len(rows):
            candidates.append(_double_header(index, cells, rows[index + 1], lookup, merged))
        for candidate in candidates:
            if candidate.score and (best is None or candidate.score > best.score):
                best = candidate
    return best


def _missing_message(columns: tuple[Column, ...], required_any: tuple[tuple[str, ...], ...]) -> str:
    labels = {c.key: str(c.label) for c in columns}
    quoted = _("“%(label)s”")
    groups = [
        _("和").join(quoted % {"label": labels.get(key, key)} for key in group)
        for group in required_any
    ]
    return _("表头中缺少列：需要 %(groups)s 。请确认表头在前 %(n)s 行内（标题行之下）。") % {
        "groups": _(" 或 ").join(groups),
        "n": HEADER_SCAN_ROWS,
    }


# --- inspect and iterate --------------------------------------------------------------------


def _raw_rows(file: IO[bytes], layout: Layout) -> Iterator[tuple[int, list[Any]]]:
    if layout.format == CSV:
        yield from _csv_rows(file, layout.encoding or "utf-8-sig", layout.delimiter or ",")
    else:
        yield from _excel_rows(_sheet(_workbook(file), layout.sheet or ""))


def _head(rows: Iterable[tuple[int, list[Any]]]) -> list[list[Any]]:
    head: list[list[Any]] = []
    for _number, cells in rows:
        head.append(cells[: _used_width(cells)])
        if len(head) >= HEADER_SCAN_ROWS:
            break
    return head


def _choose_sheet(
    file: IO[bytes], lookup: dict[str, str]
) -> tuple[Any, _Header | None, bool, list[str]]:
    """The visible worksheet whose header names the most known columns (an instructions sheet
    before the roster is passed over; on a tie the first): (sheet, header, any sheet had
    data, the names of the other sheets that look like rosters too)."""
    workbook = _workbook(file)
    best: tuple[Any, _Header | None] = (None, None)
    rosters: list[str] = []
    had_data = False
    for name in _visible_sheet_names(workbook):
        sheet = _sheet(workbook, name)
        if not (sheet.height and sheet.width):
            continue
        had_data = True
        header = find_header(_head(_excel_rows(sheet)), lookup, _merged_ranges(sheet))
        if header is not None:
            rosters.append(name)
            if best[1] is None or header.score > best[1].score:
                best = (sheet, header)
        if best[0] is None:
            best = (sheet, None)
    others = [name for name in rosters if best[0] is None or name != best[0].name]
    return best[0], best[1], had_data, others


# A sheet parsed by `inspect` and kept for the run that follows in the same process (the
# command line, an inline web import, the benchmark), so that the file is parsed once. One
# entry at most; taken by iter_source_rows, dropped by forget_sheet.
_KEPT_SHEETS: dict[str, Any] = {}


def forget_sheet(key: str | None = None) -> None:
    if key is None:
        _KEPT_SHEETS.clear()
    else:
        _KEPT_SHEETS.pop(key, None)


def inspect(
    file: IO[bytes],
    *,
    columns: tuple[Column, ...],
    required_any: tuple[tuple[str, ...], ...],
    max_columns: int,
    keep_as: str | None = None,
) -> Layout:
    """Check the file and find its layout; refuses (ValidationFailed on "file") a file that is
    not a spreadsheet, is empty, has formulas, lacks the required columns, is too wide, or has
    no data rows."""
    fmt = detect_format(file)
    layout = Layout(format=fmt, header_row=0, header_height=1, labels=[], keys=[], positions=[])
    lookup = column_lookup(columns)
    if fmt == CSV:
        layout.encoding = _detect_encoding(file)
        stream = _text_stream(file, layout.encoding)
        try:
            sample = stream.read(64 * 1024)
        finally:
            stream.detach()
        layout.delimiter = _sniff_delimiter(sample)
        head = _head(_raw_rows(file, layout))
        if not any(head):
            raise refuse(_("表格是空的。"))
        header = find_header(head, lookup, [])
    else:
        sheet, header, had_data, layout.other_sheets = _choose_sheet(file, lookup)
        if not had_data:
            raise refuse(_("表格是空的。"))
        layout.sheet = sheet.name

    if header is None:
        raise refuse(_missing_message(columns, required_any or ((columns[0].key,),)))
    found = {key for key in header.keys if key}
    if required_any and not any(all(key in found for key in group) for group in required_any):
        raise refuse(_missing_message(columns, required_any))
    if fmt != CSV:
        check_formulas(file, fmt, layout.sheet)

    # The rest of the file: count data rows, find columns with data but no header.
    first_data = header.row + header.height  # 0-based index of the first data row
    total = 0
    data_width = 0
    rows = _raw_rows(file, layout) if fmt == CSV else _excel_rows(sheet)
    for number, cells in rows:
        width = len(cells)
        if width and (cells[-1] is None or cells[-1] == ""):
            width = _used_width(cells)
        if width > max_columns:
            raise refuse(
                _("第 %(row)s 行有 %(n)s 列，超过上限 %(max)s 列。请删去多余的列后再上传。")
                % {"row": number, "n": width, "max": max_columns}
            )
        if number <= first_data or not width or (not _not_footer(cells) and _is_footer(cells)):
            continue
        total += 1
        data_width = max(data_width, width)
    if not total:
        raise refuse(_("表格中没有数据行（表头下面是空的）。"))

    width = max(len(header.texts), data_width)
    for index in range(width):
        text = header.texts[index] if index < len(header.texts) else ""
        key = header.keys[index] if index < len(header.keys) else None
        if index in header.ignored:
            continue
        if not text and index >= data_width:
            continue  # an empty spacer column after the data
        if not text:
            text = _("第%(n)s列（无表头）") % {"n": index + 1}
        layout.labels.append(text)
        layout.keys.append(key)
        layout.positions.append(index)
        if key is None:
            layout.unknown.append(text)
    layout.header_row = header.row
    layout.header_height = header.height
    layout.total_rows = total
    file.seek(0)
    forget_sheet()
    if keep_as and fmt != CSV:
        _KEPT_SHEETS[keep_as] = sheet
    return layout


def json_cell(cell: Any) -> Any:
    """A cell as stored in ImportRowError.original (JSON) and written back to the error file."""
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        if cell.time() == dt.time():
            return cell.date().isoformat()
        return cell.isoformat(sep=" ", timespec="seconds")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return cell


def iter_source_rows(
    file: IO[bytes],
    layout: Layout,
    columns: tuple[Column, ...],
    *,
    skip: int = 0,
    kept_as: str | None = None,
) -> Iterator[SourceRow]:
    """Data rows as SourceRows (cleaned values by key), after the first `skip` data rows.
    `original` holds the kept columns as read (calamine's values: str, float, int, bool,
    dates); json_cell turns them into what ImportRowError stores."""
    by_key = {c.key: c for c in columns}
    # (position, key, cleaner, label, kind code): 1 text, 2 number_text, 0 other.
    codes = {"text": 1, "number_text": 2}
    mapped = [
        (
            position,
            key,
            cleaner_for(by_key[key].kind),
            str(by_key[key].label),
            codes.get(by_key[key].kind, 0),
        )
        for position, key in zip(layout.positions, layout.keys, strict=True)
        if key in by_key
    ]
    needs_cleaning = text_needs_cleaning
    positions = layout.positions
    count = len(positions)
    contiguous = positions == list(range(count))
    first_data = layout.header_row + layout.header_height
    sheet = _KEPT_SHEETS.pop(kept_as, None) if kept_as else None
    rows = _excel_rows(sheet) if sheet is not None else _raw_rows(file, layout)
    seen = 0
    for number, cells in rows:
        if number <= first_data:
            continue
        size = len(cells)
        last = cells[-1] if size else None
        if (last is None or last == "") and not _used_width(cells):
            continue
        if not _not_footer(cells) and _is_footer(cells):
            continue
        seen += 1
        if seen <= skip:
            continue
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for position, key, clean, label, code in mapped:
            cell = cells[position] if position < size else None
            if cell.__class__ is str:
                # The usual cells, without a call: plain text, and plain digits.
                if not cell:
                    values[key] = None
                    continue
                if code == 1 and not needs_cleaning(cell):
                    values[key] = cell
                    continue
                if code == 2 and cell.isdigit() and cell.isascii():
                    values[key] = cell
                    continue
            elif cell is None:
                values[key] = None
                continue
            value, error = clean(cell, label)
            values[key] = value
            if error:
                errors[key] = [error]
        if contiguous and size >= count:
            original = cells[:count]
        else:
            original = [cells[p] if p < size else "" for p in positions]
        yield SourceRow(number=number, values=values, original=original, errors=errors)
