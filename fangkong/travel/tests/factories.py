"""Shared builders for the travel tests: a valid arrival, risk areas, the edition in force.

The clock: service tests pass `now=`; page and API tests run on the real clock, so they put
the county on the 9th edition from a month ago (`activate`) and date the trip a few days back.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.geo.models import Division
from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea

TZ = ZoneInfo("Asia/Shanghai")
# A day under the 9th edition (high / medium / low risk arrivals all determined).
NOW = dt.datetime(2022, 8, 5, 10, 0, tzinfo=TZ)
TODAY = NOW.date()

GRID_A = "610326107201001"
GRID_A2 = "610326107201002"
GRID_B = "610326101201001"
CHAOYANG = "110105"  # 北京市朝阳区
HONGSHAN = "420111"  # 湖北省武汉市洪山区

NEW_ID = make_resident_id("420111", dt.date(1991, 5, 6), 35)  # nobody in the `people` fixture
OTHER_NEW_ID = make_resident_id("110105", dt.date(1985, 11, 30), 44)


def arrival_data(**overrides: Any) -> dict[str, Any]:
    """A valid arrival (as a form or the API sends it) from Beijing Chaoyang to grid A1a,
    left three days before TODAY, by train."""
    data: dict[str, Any] = {
        "name": "赵新来",
        "id_type": "resident_id",
        "id_number": NEW_ID,
        "phone": "13512345678",
        "origin_code": CHAOYANG,
        "origin_address": "望京街道",
        "left_on": (TODAY - dt.timedelta(days=3)).isoformat(),
        "arrived_on": (TODAY - dt.timedelta(days=2)).isoformat(),
        "transport": "train",
        "vehicle_no": "G1002",
        "seat": "05车12F",
        "destination_code": GRID_A,
        "destination_address": "眉县齐镇齐镇村一组8号",
        "symptoms": "",
    }
    data.update(overrides)
    return data


def recent_arrival_data(**overrides: Any) -> dict[str, Any]:
    """Like arrival_data, dated on the real clock (pages and API)."""
    today = local_today()
    dates = {
        "left_on": (today - dt.timedelta(days=3)).isoformat(),
        "arrived_on": (today - dt.timedelta(days=2)).isoformat(),
    }
    return arrival_data(**{**dates, **overrides})


def risk_area(
    *,
    level: str = "high",
    code: str = CHAOYANG,
    start: dt.date | None = None,
    end: dt.date | None = None,
    detail: str = "",
    name: str = "北京市朝阳区",
) -> RiskArea:
    return RiskArea.objects.create(
        level=level,
        region_code=code,
        region_name=name,
        detail=detail,
        start_date=start or TODAY - dt.timedelta(days=20),
        end_date=end,
    )


def activate(code: str = "v9", *, days_ago: int = 60) -> EditionActivation:
    """Put the county on a national edition from `days_ago` days before the real today."""
    root = Division.objects.get(level=0)
    return EditionActivation.objects.create(
        edition=PolicyEdition.objects.get(code=code),
        jurisdiction=root,
        effective_from=local_today() - dt.timedelta(days=days_ago),
    )


def write_xlsx(path: Any, header: list[str], rows: list[list[Any]], *, title: str | None = None):
    """An .xlsx as a county office sends it: an optional title row, then the header; strings
    stay text cells, ints/floats become number cells, dates date cells."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("名单")
    row = 0
    if title:
        sheet.merge_range(0, 0, 0, max(len(header) - 1, 1), title)
        row = 1
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, text in enumerate(header):
        sheet.write_string(row, col, text)
    for values in rows:
        row += 1
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                sheet.write_number(row, col, value)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write_string(row, col, value)
    book.close()
    return path


def docx_table(content: bytes) -> list[list[str]]:
    """The first table of a .docx, as rows of cell texts."""
    from docx import Document

    document = Document(io.BytesIO(content))
    return [[cell.text for cell in row.cells] for row in document.tables[0].rows]
