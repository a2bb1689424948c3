"""The investigation report (流调报告) of one case, as a Word document made with python-docx.

Sections: the case summary (number, classification, dates, source, cluster), the timeline
table, the contacts by decision (close, general, candidates not yet decided, not a contact)
with masked names and document numbers, and the investigator's conclusions. Pure: the caller
(views / API through `case_report`) reads the case through the scoped selectors, and the
export is audited there. Written in Chinese whatever the page language: it is an official
document of the county.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden
from fangkong.core.masking import mask_id_number, mask_name

from .models import Case, Contact
from .permissions import can_read

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "仿宋"
STATUS_ORDER = (
    Contact.Status.CLOSE,
    Contact.Status.GENERAL,
    Contact.Status.CANDIDATE,
    Contact.Status.NOT_CONTACT,
)


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content: bytes
    content_type: str = DOCX_CONTENT_TYPE


def _east_asian(run: Any, size: float = 12, bold: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(fonts)
    fonts.set(qn("w:eastAsia"), FONT)


def _line(document: Any, text: str, *, size: float = 12, bold: bool = False) -> None:
    _east_asian(document.add_paragraph().add_run(text), size=size, bold=bold)


def _table(document: Any, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _east_asian(cell.paragraphs[0].add_run(text), size=10.5, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _east_asian(cell.paragraphs[0].add_run(text), size=10.5)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def build_report(*, case: Case, timeline: list[Any], contacts: list[Contact]) -> ReportFile:
    """The document bytes. Contacts are listed masked (name and document number)."""
    with translation.override("zh-hans"):
        document = Document()
        _line(document, _("病例流行病学调查报告"), size=18, bold=True)
        investigation = case.investigation
        _line(document, _("一、病例基本情况"), size=14, bold=True)
        summary = [
            (_("病例编号"), case.code),
            (_("姓名"), mask_name(case.person.name)),
            (_("证件号码"), mask_id_number(case.person.id_number)),
            (_("分类"), case.get_classification_display()),
            (_("来源"), case.get_source_display()),
            (_("发病日期"), _day(case.onset_date)),
            (_("采样日期"), _day(case.sampling_date)),
            (_("报告日期"), _day(case.report_date)),
            (_("隔离管控日期"), _day(case.isolated_on)),
            (_("救治地点"), case.treated_at),
            (_("转归"), case.get_outcome_display()),
            (_("聚集性疫情"), str(case.cluster) if case.cluster_id else ""),
            (_("流调小组"), investigation.team.name if investigation.team_id else ""),
        ]
        _table(document, (_("项目"), _("内容")), [(k, v) for k, v in summary])
        _line(document, _("二、活动轨迹"), size=14, bold=True)
        _table(
            document,
            (_("序号"), _("开始时间"), _("结束时间"), _("地点"), _("活动"), _("来源")),
            [
                (
                    str(i),
                    _when(e.starts_at),
                    _when(e.ends_at),
                    e.location or (e.place.name if e.place_id else ""),
                    e.activity,
                    e.get_source_display(),
                )
                for i, e in enumerate(timeline, start=1)
            ],
        )
        _line(document, _("三、接触者"), size=14, bold=True)
        by_status: dict[str, list[Contact]] = {}
        for contact in contacts:
            by_status.setdefault(contact.status, []).append(contact)
        labels = dict(Contact.Status.choices)
        for status in STATUS_ORDER:
            rows = by_status.get(status, [])
            _line(document, f"{labels[status]}（{len(rows)}）", bold=True)
            if rows:
                _table(
                    document,
                    (_("序号"), _("姓名"), _("证件号码"), _("层级"), _("接触场景"), _("末次暴露")),
                    [
                        (
                            str(i),
                            mask_name(c.name),
                            mask_id_number(c.id_number),
                            str(c.degree),
                            c.get_setting_display(),
                            _when(c.last_exposure_at),
                        )
                        for i, c in enumerate(rows, start=1)
                    ],
                )
        _line(document, _("四、流调结论"), size=14, bold=True)
        _line(document, investigation.conclusions or _("（尚未填写）"))
        _line(document, _("报告日期：%(d)s") % {"d": timeutils.local_today().isoformat()})
        buffer = io.BytesIO()
        document.save(buffer)
        filename = _("流调报告_%(code)s.docx") % {"code": case.code}
    return ReportFile(filename=filename, content=buffer.getvalue())


@transaction.atomic
def case_report(*, actor: Any, case: Case) -> ReportFile:
    """The report of a case the actor reached through access_case_by_id; audited."""
    if not can_read(actor):
        raise Forbidden(_("您的角色不能导出流调报告。"))
    case = Case.objects.select_related(
        "person", "cluster", "investigation", "investigation__team"
    ).get(pk=case.pk)
    timeline = list(case.investigation.timeline.select_related("place"))
    contacts = list(case.contacts.order_by("degree", "pk"))
    file = build_report(case=case, timeline=timeline, contacts=contacts)
    audit_record(
        actor=actor,
        verb="tracing.report.export",
        target=case,
        data={"contacts": len(contacts), "timeline": len(timeline)},
    )
    return file
