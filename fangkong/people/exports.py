"""People and household lists out to .xlsx: the importer's own columns, masked by role.

An export is a disclosure under the PIPL: every one is audited (verb people.person.export /
people.household.export, the row count and the filters, never the values; the reason, when
one is given, beside the event). Cells are masked exactly as the screens mask them
(presenters.person_display) unless the user gives a reason and the role may reveal.

The columns are the people importer's labels, so an export re-imports as it is: with the
full values every row is found by 人员编号 and is unchanged; in a masked export the masked
cells (containing "*") count as "not provided", so it re-imports as unchanged too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.roles import policy_for
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.timeutils import local_now

from .importers import (
    ADDRESS,
    BIRTH_DATE,
    GRID,
    HOUSEHOLD_NO,
    ID_NUMBER,
    ID_TYPE,
    NAME,
    NOTES,
    PERSON_ID,
    PHONE,
    RELATION,
    SEX,
)
from .models import Person
from .presenters import person_display
from .selectors import person_list

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_COLUMNS = (
    PERSON_ID,
    NAME,
    ID_TYPE,
    ID_NUMBER,
    SEX,
    BIRTH_DATE,
    PHONE,
    ADDRESS,
    GRID,
    HOUSEHOLD_NO,
    RELATION,
    NOTES,
)
WIDTHS = (10, 10, 14, 22, 6, 12, 14, 36, 18, 10, 10, 20)
CHUNK = 2000
REASON_MIN, REASON_MAX = 2, 200


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    rows: int
    content_type: str = XLSX_CONTENT_TYPE


def _reveal(*, actor: Any, reason: str | None) -> bool:
    """True when the export shows full values: a reason is given and the role may reveal."""
    reason = (reason or "").strip()
    if not reason:
        return False
    if not policy_for(actor).can_reveal:
        raise Forbidden(_("您的角色不能导出完整个人信息。"))
    if len(reason) < REASON_MIN:
        raise ValidationFailed({"reason": [_("请填写导出完整信息的理由（至少2个字）")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [_("理由不能超过200个字")]})
    return True


def _cells(shown: dict[str, Any]) -> list[Any]:
    birth = shown["birth_date"]
    if not birth and shown["birth_year"]:
        birth = f"{shown['birth_year']}-**-**"
    return [
        shown["id"],
        shown["name"],
        str(shown["id_type_label"]),
        shown["id_number"],
        str(shown["sex_label"]),
        birth or "",
        shown["phone"],
        shown["address"],
        shown["division_code"],
        shown["household_id"],
        str(shown["relation_label"]),
        shown["notes"],
    ]


def _workbook(
    *, title: str, people: Iterable[Person], viewer: Any, revealed: bool
) -> tuple[bytes, int]:
    """The .xlsx bytes (header + one row per person) and the row count.

    constant_memory: rows go to a temporary file as they are written, so 330,000 people take
    a few MB of memory. Every value is a string cell (an ID number must never become a
    float) except the two ids; nothing is ever read as a formula or a link.
    """
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(title[:31])
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True})
    for index, width in enumerate(WIDTHS):
        sheet.set_column(index, index, width, text)
    for index, column in enumerate(EXPORT_COLUMNS):
        sheet.write_string(0, index, column.label, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for person in people:
        count += 1
        shown = person_display(viewer=viewer, person=person, revealed=revealed)
        for index, value in enumerate(_cells(shown)):
            if value is None or value == "":
                continue
            if isinstance(value, int):
                sheet.write_number(count, index, value)
            else:
                sheet.write_string(count, index, str(value))
    workbook.close()
    return output.getvalue(), count


def _filename(stem: str) -> str:
    return f"{stem}_{local_now():%Y%m%d_%H%M%S}.xlsx"


def _iterate(qs: QuerySet[Person]) -> Iterable[Person]:
    return qs.iterator(chunk_size=CHUNK)


@transaction.atomic
def people_export(
    *,
    actor: Any,
    q: str | None = None,
    division: str | None = None,
    address: str | None = None,
    reason: str | None = None,
) -> ExportFile:
    """The people the actor's list shows (same filters), as an .xlsx the importer reads."""
    revealed = _reveal(actor=actor, reason=reason)
    qs = person_list(viewer=actor, q=q, division=division, address=address)
    return _export(
        actor=actor,
        qs=qs,
        title=_("人员名单"),
        verb="people.person.export",
        filters={"division": division or None, "query": bool(q), "address_filter": bool(address)},
        revealed=revealed,
        reason=reason,
    )


@transaction.atomic
def household_export(
    *,
    actor: Any,
    q: str | None = None,
    division: str | None = None,
    reason: str | None = None,
) -> ExportFile:
    """The members of the households the actor's household list shows (`q`: address
    contains), one row per person, grouped by household: it re-imports as kind
    "households"."""
    revealed = _reveal(actor=actor, reason=reason)
    qs = person_list(viewer=actor, division=division).filter(household__isnull=False)
    if q:
        qs = qs.filter(household__address__contains=q.strip())
    qs = qs.order_by("household_id", "pk")
    return _export(
        actor=actor,
        qs=qs,
        title=_("住户名单"),
        verb="people.household.export",
        filters={"division": division or None, "query": bool(q)},
        revealed=revealed,
        reason=reason,
    )


def _export(
    *,
    actor: Any,
    qs: Any,
    title: str,
    verb: str,
    filters: dict[str, Any],
    revealed: bool,
    reason: str | None,
) -> ExportFile:
    """Write the workbook and the audit event (counts and filters; the reason beside it)."""
    content, count = _workbook(title=title, people=_iterate(qs), viewer=actor, revealed=revealed)
    audit_record(
        actor=actor,
        verb=verb,
        target_type=verb.rsplit(".", 1)[0],
        data={"rows": count, **filters, "revealed": revealed},
        reason=(reason or "").strip() if revealed else None,
    )
    return ExportFile(filename=_filename(title), content=content, rows=count)
