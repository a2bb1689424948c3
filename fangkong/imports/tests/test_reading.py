"""Reading real files: formats, encodings, header rows, unknown columns, refusals."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile

import pytest

from fangkong.core.exceptions import ValidationFailed
from fangkong.imports.contracts import Column
from fangkong.imports.reading import inspect, iter_source_rows

from .files import DATA, write_csv, write_ods, write_xlsx

COLUMNS = (
    Column("name", "姓名"),
    Column("id_number", "身份证号", ("证件号码", "公民身份号码"), "number_text"),
    Column("phone", "手机号", ("联系电话", "联系方式"), "number_text"),
    Column("birth_date", "出生日期", ("出生年月日",), "date"),
    Column("address", "现住址", ("住址", "家庭住址")),
    Column("head_name", "户主姓名"),
    Column("relation", "与户主关系"),
    Column("household_no", "户号", (), "number_text"),
)
REQUIRED = (("name",), ("id_number",))
ID_1 = "34052419800101001X"
ID_2 = "340524198203050028"

HEADER = ["序号", "姓名", "身份证号", "联系电话", "出生日期", "现住址"]
ROWS = [
    [1, "张某某", ID_1, "13800000001", "1980-01-01", "3组12号"],
    [2, "李某某", ID_2, "13800000002", "19820305", "3组12号"],
]


def _read(path, columns=COLUMNS, required=REQUIRED, max_columns=200):
    with path.open("rb") as handle:
        layout = inspect(handle, columns=columns, required_any=required, max_columns=max_columns)
        rows = list(iter_source_rows(handle, layout, columns))
    return layout, rows


def _refusal(path, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as caught:
        _read(path, **kwargs)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"][0]


def _expected(rows):
    return [
        (r.values["name"], r.values["id_number"], r.values["phone"], r.values["birth_date"])
        for r in rows
    ]


EXPECTED = [
    ("张某某", ID_1, "13800000001", dt.date(1980, 1, 1)),
    ("李某某", ID_2, "13800000002", dt.date(1982, 3, 5)),
]


def test_xlsx_is_read_with_cleaned_values(tmp_path):
    layout, rows = _read(write_xlsx(tmp_path / "r.xlsx", [HEADER, *ROWS]))
    assert layout.format == "xlsx"
    assert layout.total_rows == 2
    assert _expected(rows) == EXPECTED
    assert [r.number for r in rows] == [2, 3]
    assert rows[0].original == ["张某某", ID_1, "13800000001", "1980-01-01", "3组12号"]
    assert rows[0].values["address"] == "3组12号"
    assert "head_name" not in rows[0].values  # the file has no such column


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_each_encoding(tmp_path, encoding):
    layout, rows = _read(write_csv(tmp_path / "r.csv", [HEADER, *ROWS], encoding=encoding))
    assert layout.format == "csv"
    assert _expected(rows) == EXPECTED
    assert layout.labels[0] == "姓名"  # no BOM left in the first header


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [[*r[:5], "陕西省眉县齐镇3组12号, 东院"] for r in ROWS]  # a comma inside a value
    path = write_csv(tmp_path / "r.csv", [HEADER, *rows], delimiter=delimiter)
    _layout, read = _read(path)
    assert _expected(read) == EXPECTED
    assert read[0].values["address"] == "陕西省眉县齐镇3组12号, 东院"


def test_csv_whose_every_cell_ends_with_a_tab(tmp_path):
    """The Yiwu platform's CSV export appends a TAB to every cell, headers included."""
    lines = [",".join(f"{c}\t" for c in row) for row in [HEADER, *ROWS]]
    path = tmp_path / "ldrk.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(map(str, lines)) + "\r\n").encode("utf-8"))
    layout, rows = _read(path)
    assert _expected(rows) == EXPECTED
    assert layout.unknown == []


def test_xls_is_read(tmp_path):
    columns = (
        Column("code", "区划代码", (), "number_text"),
        Column("name", "名称"),
        Column("parent_code", "上级代码", (), "number_text"),
        Column("founded", "成立日期", (), "date"),
    )
    layout, rows = _read(DATA / "divisions.xls", columns=columns, required=(("code", "name"),))
    assert (layout.format, layout.sheet) == ("xls", "名册")  # the instructions sheet is skipped
    assert [(r.number, r.values["code"], r.values["parent_code"]) for r in rows] == [
        (3, "610326", None),
        (4, "610326107", "610326"),
        (5, "610326107200", "610326107"),
    ]
    assert rows[0].values["founded"] == dt.date(1990, 1, 1)


def test_ods_is_read(tmp_path):
    path = write_ods(tmp_path / "r.ods", [["XX村人口信息登记表"], HEADER, *ROWS])
    layout, rows = _read(path)
    assert layout.format == "ods"
    assert _expected(rows) == EXPECTED
    assert [r.number for r in rows] == [3, 4]


def test_the_file_type_comes_from_the_content_not_the_extension(tmp_path):
    xlsx = write_xlsx(tmp_path / "r.xlsx", [HEADER, *ROWS])
    renamed = tmp_path / "roster.csv"
    shutil.copy(xlsx, renamed)
    layout, rows = _read(renamed)
    assert layout.format == "xlsx"
    assert _expected(rows) == EXPECTED


def test_title_and_info_rows_above_the_header_are_skipped(tmp_path):
    title = "XX镇XX村人口信息登记表"
    info = "填报单位：XX村委会　　填报人：　　填报日期：2022年1月10日"
    path = write_xlsx(
        tmp_path / "titled.xlsx",
        [[], [], [], HEADER, *ROWS],
        merges=[(0, 0, 0, 5, title), (1, 0, 1, 5, info)],
    )
    layout, read = _read(path)
    assert layout.header_row == 3
    assert _expected(read) == EXPECTED
    assert [r.number for r in read] == [5, 6]  # the sheet's own row numbers


def test_a_two_row_header_joins_group_and_leaf(tmp_path):
    """A group cell "户主" merged over 姓名/身份证号 gives 户主姓名; leaves merged down keep
    the first row's text; an unknown group keeps the known leaf."""
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["人员信息登记表"],
            [None, None, None, None, None, None, None],
            [None, None, "本人信息", None, None, None, None],
            [None, None, "身份证号", "联系方式", "出生日期", "姓名", "身份证号"],
            ["张某某", "户主", ID_1, "13800000001", "1980-01-01", "张某某", ID_1],
        ],
        merges=[
            (0, 0, 0, 6, "人员信息登记表"),
            (2, 0, 3, 0, "姓名"),
            (2, 1, 3, 1, "与户主关系"),
            (2, 2, 2, 4, "本人信息"),
            (2, 5, 2, 6, "户主"),
        ],
    )
    layout, rows = _read(path)
    assert layout.header_row == 2
    assert layout.header_height == 2
    assert layout.keys == [
        "name",
        "relation",
        "id_number",
        "phone",
        "birth_date",
        "head_name",
        None,  # 户主身份证号 is not a column of this importer: reported
    ]
    assert layout.unknown == ["户主身份证号"]
    assert rows[0].number == 5
    assert rows[0].values["relation"] == "户主"
    assert rows[0].values["head_name"] == "张某某"


def test_unknown_columns_are_reported_and_kept_in_the_original(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["姓名", "民族", "身份证号", None, "核酸检测结果"],
            ["张某某", "汉族", ID_1, "备注没有表头", "阴性"],
        ],
    )
    layout, rows = _read(path)
    assert layout.unknown == ["民族", "第4列（无表头）", "核酸检测结果"]
    assert rows[0].original == ["张某某", "汉族", ID_1, "备注没有表头", "阴性"]


def test_error_and_serial_number_columns_are_ignored(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["序号", "姓名", "身份证号", "错误原因"],
            [1, "张某某", ID_1, "原第 3 行；身份证号：校验码错误"],
        ],
    )
    layout, rows = _read(path)
    assert layout.unknown == []
    assert layout.labels == ["姓名", "身份证号"]
    assert rows[0].original == ["张某某", ID_1]


def test_empty_rows_and_footers_are_skipped_but_numbers_stay(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            HEADER,
            ROWS[0],
            [],
            [None, "   "],
            ROWS[1],
            ["合计：1户2人"],
            ["填表人：", None, "审核人："],
        ],
    )
    layout, rows = _read(path)
    assert layout.total_rows == 2
    assert [r.number for r in rows] == [2, 5]


def test_cleaning_problems_come_with_the_row(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, [1, "张某某", 340524198001010016, 13800000001, 29221, "３组"]],
    )
    _layout, rows = _read(path)
    row = rows[0]
    assert row.values["id_number"] is None
    assert row.errors == {
        "id_number": ["Excel 已把身份证号存成数字，末位已丢失，请把该列设为文本后重新填写"]
    }
    assert row.values["phone"] == "13800000001"
    assert row.values["birth_date"] == dt.date(1980, 1, 1)
    assert row.values["address"] == "3组"
    assert isinstance(row.original[1], float)  # as read, for the error file


def test_skip_resumes_after_the_committed_rows(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, ROWS[0], [], ROWS[1]])
    with path.open("rb") as handle:
        layout = inspect(handle, columns=COLUMNS, required_any=REQUIRED, max_columns=200)
        rest = list(iter_source_rows(handle, layout, COLUMNS, skip=1))
    assert [(r.number, r.values["name"]) for r in rest] == [(4, "李某某")]


# --- refusals ---------------------------------------------------------------------------------


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "不是表格文件"),
        (bytes(range(256)) * 40, "不是表格文件"),
        (b"%PDF-1.4\n" + b"\x00" * 100, "不是表格文件"),
        (b"", "文件是空的"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
        (b"PK\x03\x04 not really a zip", "损坏"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused(tmp_path, content, message):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(content)
    assert message in _refusal(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "roster.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "不是表格文件" in _refusal(path)


def test_an_empty_sheet_is_refused(tmp_path):
    assert "表格是空的" in _refusal(write_xlsx(tmp_path / "r.xlsx", []))
    assert "表格是空的" in _refusal(write_csv(tmp_path / "r.csv", [[], []]))


def test_a_header_without_data_rows_is_refused(tmp_path):
    assert "没有数据行" in _refusal(write_xlsx(tmp_path / "r.xlsx", [HEADER, [], ["合计：0人"]]))


def test_a_sheet_without_a_name_or_id_column_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [["性别", "联系电话"], ["男", "13800000001"]])
    message = _refusal(path)
    assert "缺少列" in message
    assert "“姓名” 或 “身份证号”" in message


def test_a_row_with_500_columns_is_refused(tmp_path):
    wide = [*ROWS[0], *(f"x{i}" for i in range(494))]
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, wide])
    message = _refusal(path, max_columns=200)
    assert "第 2 行有 500 列，超过上限 200 列" in message


def test_a_wide_csv_is_refused_too(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, [*ROWS[0], *(["x"] * 300)]])
    assert "超过上限 200 列" in _refusal(path)


def test_a_formula_cell_is_refused_with_its_address(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, *ROWS], formulas={(2, 6): "=A2+1"})
    assert "单元格 G3 是公式" in _refusal(path)


def test_a_formula_on_another_sheet_does_not_count(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, *ROWS],
        sheets_before=[("汇总", [["合计"], [2]])],
    )
    layout, rows = _read(path)
    assert layout.sheet == "名册"
    assert len(rows) == 2


def test_formulas_in_ods_and_xls_are_refused(tmp_path):
    assert "公式" in _refusal(write_ods(tmp_path / "r.ods", [HEADER, *ROWS], formula_at=(1, 0)))
    columns = (Column("code", "区划代码", (), "number_text"), Column("name", "名称"))
    assert "公式" in _refusal(DATA / "formula.xls", columns=columns, required=(("code", "name"),))
