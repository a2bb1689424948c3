"""Exports: the importer's columns, masked like the screens, audited; they re-import cleanly."""

from __future__ import annotations

import io
import json

import pytest
from python_calamine import CalamineWorkbook

from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent, AuditReason
from fangkong.imports.services import import_job_start
from fangkong.people.exports import household_export, people_export
from fangkong.people.models import Person, PersonRevision

pytestmark = pytest.mark.django_db

HEADER = [
    "人员编号",
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "出生日期",
    "手机号",
    "现住址",
    "网格编码",
    "户号",
    "与户主关系",
    "备注",
]


def read(export):
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(export.content)).get_sheet_by_index(0).to_python()
    )
    header, *body = rows
    return header, [dict(zip(header, row, strict=False)) for row in body]


def reimport(actor, export, *, kind="people"):
    job = import_job_start(
        actor=actor, kind=kind, upload=io.BytesIO(export.content), filename=export.filename
    )
    job.refresh_from_db()
    return job


def test_an_export_has_the_importers_columns_and_the_lists_rows(users, people):
    export = people_export(actor=users.commander)
    header, rows = read(export)
    assert header == HEADER
    assert export.rows == len(rows) == 3
    assert export.filename.startswith("人员名单_")
    assert export.filename.endswith(".xlsx")
    head = next(r for r in rows if r["人员编号"] == people.head.pk)
    assert head["姓名"] == "张建国"
    assert head["证件类型"] == "居民身份证"
    assert head["性别"] == "男"
    assert head["网格编码"] == "610326107201001"
    assert head["户号"] == people.household.pk
    assert head["与户主关系"] == "户主"


def test_an_export_holds_only_the_people_in_the_actors_scope(users, people):
    _, rows = read(people_export(actor=users.grid_worker))
    assert {r["人员编号"] for r in rows} == {people.head.pk, people.spouse.pk}
    _, rows = read(people_export(actor=users.commander, division="610326101"))
    assert {r["人员编号"] for r in rows} == {people.other.pk}


def test_cells_are_masked_by_role_like_the_screens(users, people):
    _, rows = read(people_export(actor=users.commander))
    head = next(r for r in rows if r["人员编号"] == people.head.pk)
    assert head["证件号码"] == "610326**********15"  # every role: masked without a reason
    assert head["手机号"] == "139****5678"  # the commander sees phones masked
    assert head["出生日期"] == "1970-**-**"
    assert head["现住址"] == "眉县齐镇齐镇村一组12号"

    _, rows = read(people_export(actor=users.grid_worker))
    head = next(r for r in rows if r["人员编号"] == people.head.pk)
    assert head["手机号"] == "13912345678"  # the grid worker sees phones in full
    assert head["证件号码"] == "610326**********15"

    _, rows = read(people_export(actor=users.leader))
    head = next(r for r in rows if r["人员编号"] == people.head.pk)
    assert head["姓名"] == "张**"
    assert head["现住址"] == "眉县齐镇齐镇***"


def test_a_reason_reveals_full_values_and_is_audited(users, people):
    export = people_export(actor=users.commander, reason="核酸检测名单核对")
    _, rows = read(export)
    head = next(r for r in rows if r["人员编号"] == people.head.pk)
    assert head["证件号码"] == people.head.id_number
    assert head["手机号"] == "13912345678"
    assert head["出生日期"] == "1970-03-15"
    event = AuditEvent.objects.get(verb="people.person.export")
    assert (event.actor_id, event.data["rows"], event.data["revealed"]) == (
        users.commander.pk,
        3,
        True,
    )
    assert AuditReason.objects.get(event=event).text == "核酸检测名单核对"
    text = json.dumps(event.data, ensure_ascii=False)
    for value in ("张建国", people.head.id_number, "13912345678", "一组12号"):
        assert value not in text


def test_every_export_is_audited_with_its_filters_not_its_values(users, people):
    people_export(actor=users.commander, q="张建国", division="610326107")
    event = AuditEvent.objects.get(verb="people.person.export")
    assert event.data == {
        "rows": 1,
        "division": "610326107",
        "query": True,
        "address_filter": False,
        "revealed": False,
    }
    assert not AuditReason.objects.filter(event=event).exists()


def test_the_address_filter_of_the_list_applies(users, people):
    _, rows = read(people_export(actor=users.commander, address="横渠村"))
    assert [r["人员编号"] for r in rows] == [people.other.pk]
    assert AuditEvent.objects.get(verb="people.person.export").data["address_filter"] is True


def test_a_role_that_cannot_reveal_gets_no_full_export(users, people):
    with pytest.raises(Forbidden):
        people_export(actor=users.leader, reason="想看看")
    assert not AuditEvent.objects.filter(verb="people.person.export").exists()


def test_a_reason_of_one_character_is_refused(users, people):
    with pytest.raises(ValidationFailed) as caught:
        people_export(actor=users.commander, reason="查")
    assert "reason" in caught.value.errors


def test_a_revealed_export_reimports_as_all_unchanged(users, people):
    export = people_export(actor=users.commander, reason="名单核对")
    snapshot = list(Person.objects.order_by("pk").values())
    job = reimport(users.commander, export)
    assert (job.status, job.created, job.updated, job.error_rows, job.unchanged) == (
        "done",
        0,
        0,
        0,
        3,
    )
    assert job.all_unchanged
    assert list(Person.objects.order_by("pk").values()) == snapshot


@pytest.mark.parametrize("role", ["commander", "village_officer", "grid_worker"])
def test_a_masked_export_reimports_as_all_unchanged(users, people, role):
    actor = getattr(users, role)
    export = people_export(actor=actor)
    snapshot = list(Person.objects.order_by("pk").values())
    job = reimport(actor, export)
    assert (job.created, job.updated, job.error_rows) == (0, 0, 0)
    assert job.unchanged == export.rows
    assert list(Person.objects.order_by("pk").values()) == snapshot
    assert not PersonRevision.objects.exists()


def test_an_edited_export_updates_only_what_was_edited(users, people, tmp_path):
    import xlsxwriter

    export = people_export(actor=users.commander, reason="名单核对")
    header, rows = read(export)
    path = tmp_path / "edited.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, start=1):
        if row["人员编号"] == people.spouse.pk:
            row["手机号"] = "13800138000"
        sheet.write_row(index, 0, [row[h] for h in header])
    book.close()
    with open(path, "rb") as handle:
        job = import_job_start(
            actor=users.commander, kind="people", upload=handle, filename="edited.xlsx"
        )
    job.refresh_from_db()
    assert (job.updated, job.unchanged, job.error_rows) == (1, 2, 0)
    people.spouse.refresh_from_db()
    assert people.spouse.phone == "13800138000"


def test_household_export_lists_members_by_household_and_reimports_unchanged(users, people):
    export = household_export(actor=users.commander)
    header, rows = read(export)
    assert header == HEADER
    assert export.filename.startswith("住户名单_")
    assert [(r["人员编号"], r["户号"], r["与户主关系"]) for r in rows] == [
        (people.head.pk, people.household.pk, "户主"),
        (people.spouse.pk, people.household.pk, "配偶"),
    ]
    assert AuditEvent.objects.get(verb="people.household.export").data["rows"] == 2
    job = reimport(users.commander, export, kind="households")
    assert (job.created, job.updated, job.error_rows, job.unchanged) == (0, 0, 0, 2)
    people.household.refresh_from_db()
    assert people.household.head_id == people.head.pk


def test_household_export_revealed_round_trip(users, people):
    export = household_export(actor=users.village_officer, reason="入户核查")
    _, rows = read(export)
    assert rows[0]["证件号码"] == people.head.id_number
    assert AuditReason.objects.get(event__verb="people.household.export").text == "入户核查"
    job = reimport(users.village_officer, export, kind="households")
    assert (job.created, job.updated, job.unchanged) == (0, 0, 2)
