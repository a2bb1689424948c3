"""Each cleaning rule a real roster needs (real-formats.md §0.2, §0.3)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.imports.cleaning import clean_cell, normalize_header

LOST = "Excel 已把身份证号存成数字，末位已丢失，请把该列设为文本后重新填写"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("34052419800101001X", "34052419800101001X"),
        ("34052419800101001x", "34052419800101001X"),  # lower-case x
        ("３４０５２４１９８００１０１００１Ｘ", "34052419800101001X"),  # full-width digits
        ("３４０５２４１９８００１０１００１ｘ", "34052419800101001X"),
        ("3405 2419 8001 0100 1X", "34052419800101001X"),  # spaces inside
        ("340524\u300019800101001X", "34052419800101001X"),  # ideographic space
        ("'34052419800101001X", "34052419800101001X"),  # Excel's text apostrophe
        ("34052419800101001X\t", "34052419800101001X"),  # the ldrk CSV's trailing tab
        (" 138 0000 0001 ", "13800000001"),
        (13912345678.0, "13912345678"),  # a phone Excel stored as a number
        ("13912345678.0", "13912345678"),  # ... and wrote into a CSV
        ("1.3912345678E+10", "13912345678"),  # scientific, every digit written
        (110105491231002.0, "110105491231002"),  # 15-digit legacy ID as a number: exact
        ("110105491231002", "110105491231002"),  # left for the validators to upgrade
        (610326107201.0, "610326107201"),  # a division code typed as a number
        (42, "42"),
        ("E12345678", "E12345678"),  # a passport
    ],
)
def test_number_text_cells_are_cleaned(raw, expected):
    assert clean_cell(raw, "number_text", "身份证号") == (expected, None)


@pytest.mark.parametrize(
    "raw",
    [
        4.40524188001e17,  # an 18-digit ID Excel stored as a number: last digits lost
        340524198001010016.0,
        "4.40524188001E+17",
        "3.40524E+17",  # what Excel shows and writes into a CSV
        "3.40524e17",
        "1.39123E+10",  # a phone rounded for display
    ],
)
def test_numbers_excel_rounded_are_refused_with_the_fix(raw):
    assert clean_cell(raw, "number_text", "身份证号") == (None, LOST)


def test_the_refusal_names_the_column():
    value, error = clean_cell("3.40524E+17", "number_text", "户主身份证号")
    assert value is None
    assert error.startswith("Excel 已把户主身份证号存成数字")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-12-28", dt.date(2020, 12, 28)),
        ("2020.12.28", dt.date(2020, 12, 28)),
        ("2020/12/28", dt.date(2020, 12, 28)),
        ("20201228", dt.date(2020, 12, 28)),
        ("2020年12月28日", dt.date(2020, 12, 28)),
        ("2020年12月28", dt.date(2020, 12, 28)),
        ("2022.3.5", dt.date(2022, 3, 5)),
        ("2006.9.1", dt.date(2006, 9, 1)),
        ("2020-12-28 00:00:00", dt.date(2020, 12, 28)),
        ("2020/12/28 10:20", dt.date(2020, 12, 28)),
        ("２０２０年１２月２８日", dt.date(2020, 12, 28)),  # full-width
        (" 2020-12-28\t", dt.date(2020, 12, 28)),
        (44625.0, dt.date(2022, 3, 5)),  # an Excel serial in a number cell
        (44625, dt.date(2022, 3, 5)),
        ("44625", dt.date(2022, 3, 5)),  # ... written into a CSV
        (29221.75, dt.date(1980, 1, 1)),  # a serial with a time of day
        (20201228.0, dt.date(2020, 12, 28)),  # 20201228 typed as a number
        (dt.date(2020, 12, 28), dt.date(2020, 12, 28)),  # a date cell (calamine)
        (dt.datetime(2020, 12, 28, 10, 30), dt.date(2020, 12, 28)),  # noqa: DTZ001 (a naive cell)
    ],
)
def test_dates_in_every_spelling(raw, expected):
    assert clean_cell(raw, "date") == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2020-02-30", "不是有效日期"),
        ("20201328", "不是有效日期"),
        ("3月5日", "无法识别的日期"),
        ("去年", "无法识别的日期"),
        ("1790-01-01", "日期超出范围"),
        (dt.time(10, 30), "无法识别的日期"),
    ],
)
def test_bad_dates_are_reported(raw, message):
    value, error = clean_cell(raw, "date")
    assert value is None
    assert message in error


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  张三 ", "张三"),
        ("张  三", "张 三"),
        ("安徽省ＸＸ县３组１２号", "安徽省XX县3组12号"),  # full-width letters and digits
        ("齐镇（新）", "齐镇（新）"),  # Chinese brackets are kept
        ("'0001", "0001"),
        (3.0, "3"),  # 户号 typed as a number
        (2.5, "2.5"),
        (True, "是"),
        (dt.date(2020, 12, 28), "2020-12-28"),
    ],
)
def test_text_cells(raw, expected):
    assert clean_cell(raw, "text") == (expected, None)


@pytest.mark.parametrize("kind", ["text", "number_text", "date"])
@pytest.mark.parametrize("raw", ["", "   ", "\t", None, "'"])
def test_empty_cells_are_none(kind, raw):
    assert clean_cell(raw, kind) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份证号（必填）", "身份证号"),
        ("*姓名", "姓名"),
        (" 联系\n电话 ", "联系电话"),
        ("序号\t", "序号"),
        ("镇【街道】", "镇(街道)"),
        ("Parent_Code", "parent_code"),
        ("姓名：", "姓名"),
    ],
)
def test_headers_are_compared_loosely(raw, expected):
    assert normalize_header(raw) == expected
