"""The Word letter (协查函) of an outgoing assist request, made with python-docx.

Layout as county offices sent them (real-formats.md §3, the [I] shape): a centred title, the
letter number, the counterpart as salutation, a short body, the sender and date, and a table
of the listed people: 序号 / 姓名 / 性别 / 身份证号 / 手机号 / 人员类别 / 暴露（出发）地点 /
离开日期 / 现住址 / 备注. Pure: the caller (services.assist_request_letter) checks who may
have it and audits the export.

The letter is an official document sent to another Chinese county: it is written in Chinese
whatever the language of the page it was downloaded from (translation.override).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from fangkong.people.models import Sex
from fangkong.policy.models import Category

from .models import Transport

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LETTER_TITLE = "关于协助开展疫情相关风险人员排查管控的函"
TABLE_HEADER = (
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "人员类别",
    "暴露（出发）地点",
    "离开日期",
    "现住址",
    "备注",
)
COLUMN_WIDTHS_CM = (1.2, 2.0, 1.2, 4.4, 2.8, 3.0, 4.6, 2.4, 4.6, 3.2)
BODY_FONT = "仿宋"
TITLE_FONT = "黑体"


@dataclass(frozen=True)
class LetterFile:
    filename: str
    content: bytes
    rows: int
    content_type: str = DOCX_CONTENT_TYPE


def _font(run: Any, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word takes Chinese text's font from the East Asian slot, not from font.name.
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    r_fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    document: Any,
    text: str,
    *,
    size: float = 14,
    bold: bool = False,
    font: str = BODY_FONT,
    align: Any = None,
    indent: bool = False,
) -> Any:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    paragraph.paragraph_format.space_after = Pt(4)
    _font(paragraph.add_run(text), font, size, bold)
    return paragraph


def _cell(cell: Any, text: str, *, bold: bool = False) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run(text), BODY_FONT, 10.5, bold)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _chinese_date(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def entry_cells(index: int, entry: Any) -> list[str]:
    """One table row for an AssistRequestEntry (person and arrival loaded)."""
    person = entry.person
    arrival = entry.arrival
    category = str(Category(entry.category).label) if entry.category else _("来返人员")
    origin, left_on, phone, note = "", "", person.phone or "", ""
    if arrival is not None:
        origin = (
            "".join(x for x in (arrival.origin_name, arrival.origin_address) if x)
            or arrival.origin_country
        )
        left_on = _date(arrival.left_on)
        phone = arrival.reported_phone or phone
        parts = [_("抵达 %(date)s") % {"date": _date(arrival.arrived_on)}]
        if arrival.transport:
            transport = str(Transport(arrival.transport).label)
            parts.append(" ".join(x for x in (transport, arrival.vehicle_no) if x))
        note = "，".join(parts)
    if entry.feedback:
        note = "；".join(x for x in (note, entry.feedback) if x)
    sex = str(Sex(person.sex).label) if person.sex in Sex.values else ""
    return [
        str(index),
        person.name,
        sex,
        person.id_number or "",
        phone,
        category,
        origin,
        left_on,
        entry.destination or person.address or "",
        note,
    ]


def assist_letter(
    *, assist_request: Any, entries: Sequence[Any], sender: str, today: dt.date
) -> LetterFile:
    with translation.override("zh-hans"):
        return _assist_letter(
            assist_request=assist_request, entries=entries, sender=sender, today=today
        )


def _assist_letter(
    *, assist_request: Any, entries: Sequence[Any], sender: str, today: dt.date
) -> LetterFile:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(2.0)

    _paragraph(
        document, LETTER_TITLE, size=20, bold=True, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    if assist_request.number:
        _paragraph(document, assist_request.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, f"{assist_request.counterpart}：")
    _paragraph(
        document,
        _(
            "近日，我县在疫情防控排查中发现以下 %(n)s 名人员（见附表）现住或前往贵辖区。"
            "根据国家新冠肺炎疫情防控方案的有关要求，请贵单位协助开展排查核实，"
            "按规定落实相应的健康管理措施，并将核查结果及时反馈我部。"
        )
        % {"n": len(entries)},
        indent=True,
    )
    _paragraph(document, _("特此函告。"), indent=True)
    _paragraph(document, sender, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(
        document, _chinese_date(assist_request.dated or today), align=WD_ALIGN_PARAGRAPH.RIGHT
    )
    _paragraph(document, _("附表：协查人员名单"), bold=True)

    table = document.add_table(rows=1, cols=len(TABLE_HEADER))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, text in enumerate(TABLE_HEADER):
        _cell(table.rows[0].cells[column], text, bold=True)
    for index, entry in enumerate(entries, start=1):
        cells = table.add_row().cells
        for column, text in enumerate(entry_cells(index, entry)):
            _cell(cells[column], text)
    for row in table.rows:
        for column, width in enumerate(COLUMN_WIDTHS_CM):
            row.cells[column].width = Cm(width)

    output = io.BytesIO()
    document.save(output)
    number = assist_request.pk
    return LetterFile(
        filename=f"协查函_{number}_{today:%Y%m%d}.docx",
        content=output.getvalue(),
        rows=len(entries),
    )
