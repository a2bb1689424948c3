"""Cleaning one cell by its column kind, before an importer sees the value.

What a real roster needs (real-formats.md §0.2, §0.3):
* full-width digits and letters (NFKC), spaces, tabs and stray apostrophes inside numbers,
  a lower-case x at the end of an ID number;
* numbers Excel turned into floats: 13912345678.0 is a phone number and is rescued, while an
  18-digit ID number stored as a number (4.40524188001e+17) has lost its last digits and is
  refused with a message that says how to fix the sheet; the same for "3.40524E+17" text that
  Excel wrote into a CSV;
* dates as Excel serials (date cells and plain numbers in a date column), 2020.12.28,
  2020/12/28, 2020-12-28, 20201228, 2020年12月28日 and 2020-12-28 00:00:00.

15-digit legacy ID numbers are left as they are: the validators upgrade them.

`clean_cell` returns (value, error). Empty cells are None for every kind; text and
number_text values are str, dates are datetime.date. Errors are Chinese messages without the
column name (the error file and pages put the column label in front).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

# Excel keeps 15 significant digits: a whole number of 16 or more digits stored as a number
# has lost its last digits.
EXACT_DIGITS = 15
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (after Excel's 1900 leap-year bug)
MAX_SERIAL = 2958465  # 9999-12-31
MIN_YEAR, MAX_YEAR = 1880, 2100

_NUMBER_JUNK = re.compile(r"[\s'‘’`´\u200b\u200c\u200d\u2060\ufeff]")
_WHITESPACE = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"[+-]?(\d+)(?:\.(\d*))?[eE]([+-]?\d+)")
_FLOAT_TEXT = re.compile(r"(\d+)\.0+")
_DATE_SEPARATED = re.compile(
    r"(\d{4})\s*[./\-年]\s*(\d{1,2})\s*[./\-月]\s*(\d{1,2})\s*[日号]?"
    r"(?:[\sT]+\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_TEXT = re.compile(r"\d{1,5}(?:\.\d+)?")


def _lost_digits(label: str) -> str:
    return _("Excel 已把%(label)s存成数字，末位已丢失，请把该列设为文本后重新填写") % {
        "label": label or _("该列的数字")
    }


def _nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


# Full-width digits and letters (and the ideographic space) -> ASCII. Chinese punctuation such
# as （） and ，stays: in names and addresses it is what people write.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})
_FULL_WIDTH.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})
_FULL_WIDTH[0x3000] = 0x20


# A text cell needs cleaning only when it holds whitespace, an apostrophe or full-width
# digits/letters (one search, in C, for the usual cell).
_TEXT_SPECIAL = re.compile("[\\s'\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
text_needs_cleaning = _TEXT_SPECIAL.search
_HAS_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")


def _fold_width(text: str) -> str:
    if text.isascii() or not _HAS_FULL_WIDTH.search(text):
        return text
    return text.translate(_FULL_WIDTH)


def _date_text(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def _float_text(value: float) -> str:
    if math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value)


def clean_text(value: Any, label: str = "") -> tuple[Any, str | None]:
    """Names, addresses, free text: full-width digits and letters folded, trimmed, runs of
    spaces collapsed."""
    if value.__class__ is str:
        if not _TEXT_SPECIAL.search(value):  # the usual cell: nothing to clean
            return value, None
        text = value.strip()
        if not text:
            return None, None
        if text[0] != "'":
            text = _fold_width(text)
            if "  " in text or "\t" in text or "\n" in text or "\r" in text:
                text = _WHITESPACE.sub(" ", text)
            return text, None
    if value is None:
        return None, None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        # Stored data, not a message: the same file gives the same values in any language.
        text = "是" if value else "否"
    elif isinstance(value, float):
        text = _float_text(value)
    elif isinstance(value, dt.date):
        text = _date_text(value)
    else:
        text = str(value)
    text = _fold_width(text).strip()
    if text.startswith("'"):  # Excel's "this is text" marker typed into a CSV
        text = text[1:].strip()
    if not text:
        return None, None
    if "  " in text or "\t" in text or "\n" in text:
        text = _WHITESPACE.sub(" ", text)
    return text, None


def clean_number_text(value: Any, label: str = "") -> tuple[Any, str | None]:
    """ID numbers, phones, codes: digits kept exactly, or refused when Excel lost some."""
    if value.__class__ is str and value.isascii():  # the usual cell: a fast path
        if value.isdigit():
            return value, None
        if value[:-1].isdigit() and value[-1] in "Xx":
            return value.upper(), None
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, _("应为数字或号码，不能是是/否")
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, _("不是有效的号码")
        if value.is_integer():
            number = int(value)
            if len(str(abs(number))) > EXACT_DIGITS:
                return None, _lost_digits(label)
            return str(number), None
        return repr(value), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, dt.date):
        return _date_text(value), None
    text = _NUMBER_JUNK.sub("", _nfkc(str(value)))
    if not text:
        return None, None
    if "e" in text or "E" in text:
        match = _SCIENTIFIC.fullmatch(text)
        if match:
            return _rescue_scientific(text, match, label)
    match = _FLOAT_TEXT.fullmatch(text)
    if match:  # "13912345678.0": a number Excel wrote as a float
        text = match.group(1)
    return text.upper(), None


def _rescue_scientific(text: str, match: re.Match[str], label: str) -> tuple[Any, str | None]:
    """'1.3912345678E+10' is a phone number written out in full; '3.40524E+17' lost digits."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text.upper(), None
    if number != number.to_integral_value():
        return None, _("是科学计数法写法（%(text)s），请把该列设为文本后重新填写") % {"text": text}
    whole = str(abs(int(number)))
    written = (match.group(1) + (match.group(2) or "")).lstrip("0")
    # Fewer digits written than the number has: Excel rounded it for display.
    if len(whole) > EXACT_DIGITS or len(written) < len(whole):
        return None, _lost_digits(label)
    return whole, None


def _checked_date(year: int, month: int, day: int) -> tuple[Any, str | None]:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None, _("不是有效日期（%(y)04d年%(m)s月%(d)s日）") % {
            "y": year,
            "m": month,
            "d": day,
        }
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        return None, _("日期超出范围（%(min)s—%(max)s 年）") % {"min": MIN_YEAR, "max": MAX_YEAR}
    return date, None


def _from_serial(serial: float) -> tuple[Any, str | None]:
    if not (math.isfinite(serial) and 1 <= serial <= MAX_SERIAL):
        return None, _("无法识别的日期，请写成 2020-12-28 或 20201228")
    date = EXCEL_EPOCH + dt.timedelta(days=int(serial))
    return _checked_date(date.year, date.month, date.day)


def _from_number(number: float) -> tuple[Any, str | None]:
    if number.is_integer() and 10_000_000 <= number <= 99_999_999:  # 20201228
        text = str(int(number))
        return _checked_date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return _from_serial(number)


def clean_date(value: Any, label: str = "") -> tuple[Any, str | None]:
    """A date from a date cell, an Excel serial, or one of the spellings of real rosters."""
    cls = value.__class__
    if cls is dt.date:  # a date cell, or a value cleaned already: only the range to check
        if MIN_YEAR <= value.year <= MAX_YEAR:
            return value, None
        return _checked_date(value.year, value.month, value.day)
    if cls is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:  # 2020-12-28: a fast path
            date = dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if MIN_YEAR <= date.year <= MAX_YEAR:
                return date, None
            return _checked_date(date.year, date.month, date.day)
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _checked_date(value.year, value.month, value.day)
    if isinstance(value, bool):
        return None, _("无法识别的日期，请写成 2020-12-28 或 20201228")
    if isinstance(value, int | float):
        return _from_number(float(value))
    if not isinstance(value, str):  # a time of day or a duration
        return None, _("无法识别的日期，请写成 2020-12-28 或 20201228")
    if len(value) == 10 and value[4] == "-" and value[7] == "-":  # 2020-12-28: a fast path
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return _checked_date(date.year, date.month, date.day)
    text = _nfkc(value).strip().lstrip("'").strip()
    if not text:
        return None, None
    match = _DATE_SEPARATED.fullmatch(text)
    if match:
        return _checked_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _DATE_COMPACT.fullmatch(text)
    if match:
        return _checked_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if _SERIAL_TEXT.fullmatch(text):
        return _from_serial(float(text))
    return None, _("无法识别的日期，请写成 2020-12-28 或 20201228")


CLEANERS: dict[str, Callable[[Any, str], tuple[Any, str | None]]] = {
    "text": clean_text,
    "number_text": clean_number_text,
    "date": clean_date,
}


def cleaner_for(kind: str) -> Callable[[Any, str], tuple[Any, str | None]]:
    return CLEANERS.get(kind, clean_text)


def clean_cell(value: Any, kind: str = "text", label: str = "") -> tuple[Any, str | None]:
    """(cleaned value, error message or None) for one cell of a column of `kind`."""
    if value == "":
        return None, None
    return cleaner_for(kind)(value, label)


_HEADER_BRACKETS = str.maketrans({"[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")"})
_HEADER_MARKERS = re.compile(r"\((?:必填|必填项|选填|可选|非必填|可不填)\)|[*※＊]")


def normalize_header(value: Any) -> str:
    """A header cell compared with column labels and aliases: full-width folded, no spaces or
    line breaks, brackets unified, required-field markers (*, (必填)) and a final colon
    dropped, lower case."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = _float_text(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split()).translate(_HEADER_BRACKETS)
    text = _HEADER_MARKERS.sub("", text)
    return text.rstrip(":").lower()
