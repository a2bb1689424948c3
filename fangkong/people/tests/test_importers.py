"""People and household rosters through the import engine: real files written with
xlsxwriter, run with import_job_start / import_job_run / import_job_rollback."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import xlsxwriter

from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.imports.models import ImportJob, ImportRowError
from fangkong.imports.services import import_job_rollback, import_job_start
from fangkong.people.importers import (
    HouseholdsImporter,
    PeopleImporter,
    canonical_unit_name,
    id_type_value,
    relation_value,
    sex_value,
)
from fangkong.people.models import Household, Person, PersonRevision

pytestmark = pytest.mark.django_db

GRID_A = "610326107201001"
GRID_A2 = "610326107201002"
GRID_B = "610326101201001"
LIU_ID = make_resident_id("610326", dt.date(1988, 6, 1), 51)  # male
WU_ID = make_resident_id("610326", dt.date(1990, 2, 14), 62)  # female
ZHENG_ID = make_resident_id("610326", dt.date(2012, 9, 1), 71)  # male
BASIC = ["姓名", "身份证号", "手机号", "现住址", "网格编码"]


def write_xlsx(path, header, rows, *, title=None):
    """An .xlsx as a county office sends it; every cell a string unless the test says not."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("花名册")
    row = 0
    if title:
        sheet.write_string(0, 0, title)
        row = 1
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
                sheet.write_datetime(
                    row,
                    col,
                    dt.datetime.combine(value, dt.time()),
                    book.add_format({"num_format": "yyyy-mm-dd"}),
                )
            else:
                sheet.write_string(row, col, value)
    book.close()
    return path


def run(actor, path, *, kind="people", **options):
    with open(path, "rb") as handle:
        job = import_job_start(
            actor=actor, kind=kind, upload=handle, filename=path.name, options=options
        )
    job.refresh_from_db()
    return job


def row_errors(job):
    return {e.row_number: e for e in job.row_errors.all()}


def import_rows(actor, tmp_path, header, rows, *, name="roster.xlsx", kind="people", **options):
    return run(actor, write_xlsx(tmp_path / name, header, rows), kind=kind, **options)


# --- vocabularies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("户主", "head"),
        ("本人", "head"),
        ("02", "head"),
        ("0", "head"),
        ("配偶", "spouse"),
        ("妻", "spouse"),
        ("夫", "spouse"),
        ("子", "child"),
        ("女", "child"),
        ("长子", "child"),
        ("次女", "child"),
        ("子女", "child"),
        ("父亲", "parent"),
        ("母亲", "parent"),
        ("孙子", "grandchild"),
        ("孙女", "grandchild"),
        ("儿媳", "child_in_law"),
        ("女婿", "child_in_law"),
        ("儿媳/女婿", "child_in_law"),
        ("岳父母或公婆", "other_relative"),
        ("祖母", "grandparent"),
        ("妹妹", "sibling"),
        ("非亲属", "other"),
        ("2 子女", "child"),
        ("  户 主 ", "head"),
        ("朋友的狗", None),
    ],
)
def test_relation_values_seen_in_real_rosters(text, expected):
    assert relation_value(text) == expected


def test_sex_and_document_type_spellings():
    assert [sex_value(v) for v in ("男", "女", "1", "2", "男性", "未知", "x")] == [
        "M",
        "F",
        "M",
        "F",
        "M",
        "U",
        None,
    ]
    assert id_type_value("身份证") == "resident_id"
    assert id_type_value("居民身份证") == "resident_id"
    assert id_type_value("护照") == "passport"
    assert id_type_value("港澳通行证") == "hk_macau_permit"
    assert id_type_value("台胞证") == "taiwan_permit"
    assert id_type_value("无证件") == "none"
    assert id_type_value("军官证") is None


def test_committee_suffixes_and_group_numbers_are_tolerated():
    assert canonical_unit_name("齐镇村委会") == "齐镇村"
    assert canonical_unit_name("三和村村委会") == "三和村"
    assert canonical_unit_name("东关社区居委会") == "东关社区"
    assert canonical_unit_name("东关居委会") == "东关社区"
    assert canonical_unit_name("3组") == "三组"
    assert canonical_unit_name("第十二组") == "十二组"


def test_both_kinds_are_registered_with_the_engine():
    from fangkong.imports.contracts import importer_for

    assert importer_for("people") is PeopleImporter
    assert importer_for("households") is HouseholdsImporter


# --- header variants -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["姓名", "公民身份号码", "联系电话", "现住址", "网格编码"],
        ["姓名", "身份证号码", "手机号码", "家庭住址", "所属网格"],
        ["人员姓名", "身份证号", "手机号", "住址", "区划代码"],
        ["姓 名", "证件号码", "联系方式", "居住地址", "网格编码"],
        ["姓名", "身份证号（必填）", "电话", "通讯地址", "所属网格编码"],
    ],
    ids=["census", "roster", "platform", "spaced", "marked"],
)
def test_header_variants_are_recognised(users, county, tmp_path, header):
    job = import_rows(
        users.commander,
        tmp_path,
        header,
        [["刘德胜", LIU_ID, "13700001111", "眉县齐镇齐镇村一组5号", GRID_A]],
    )
    assert (job.status, job.created, job.error_rows) == ("done", 1, 0)
    assert job.options["unknown_columns"] == []
    person = Person.objects.get(id_number=LIU_ID)
    assert (person.name, person.phone, person.address, person.division_id) == (
        "刘德胜",
        "13700001111",
        "眉县齐镇齐镇村一组5号",
        GRID_A,
    )
    assert (person.birth_date, person.sex) == (dt.date(1988, 6, 1), "M")


def test_known_columns_fangkong_does_not_store_are_not_reported_unknown(users, county, tmp_path):
    header = [
        "序号",
        "户号",
        "姓名",
        "性别",
        "民族",
        "身份证号",
        "与户主关系",
        "出生日期",
        "联系电话",
        "户籍地址",
        "现住址",
        "所属网格",
        "人员类型",
        "备注",
        "爱好",
    ]
    row = [
        "1",
        "",
        "刘德胜",
        "男",
        "汉族",
        LIU_ID,
        "户主",
        "1988-06-01",
        "13700001111",
        "陕西省眉县齐镇",
        "眉县齐镇齐镇村一组5号",
        GRID_A,
        "常住",
        "返乡",
        "钓鱼",
    ]
    job = import_rows(users.commander, tmp_path, header, [row], title="齐镇村人口信息登记表")
    assert job.created == 1
    assert job.options["unknown_columns"] == ["爱好"]
    person = Person.objects.get(id_number=LIU_ID)
    assert (person.relation_to_head, person.notes) == ("head", "返乡")


def test_sex_document_type_and_relation_columns(users, county, tmp_path):
    header = ["姓名", "证件类型", "证件号码", "性别", "出生日期", "与户主关系", "网格编码"]
    rows = [
        ["Anna Schmidt", "护照", "e12345678", "2", "1979.3.4", "配偶", GRID_A],
        ["吴秀兰", "身份证", WU_ID, "女", "", "长女", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, header, rows)
    assert (job.created, job.error_rows) == (2, 0)
    anna = Person.objects.get(name="Anna Schmidt")
    assert (anna.id_type, anna.id_number, anna.sex, anna.birth_date, anna.relation_to_head) == (
        "passport",
        "E12345678",
        "F",
        dt.date(1979, 3, 4),
        "spouse",
    )
    assert Person.objects.get(name="吴秀兰").relation_to_head == "child"


# --- cleaning that reaches the importer ------------------------------------------------------


def test_id_number_spellings_are_cleaned(users, county, tmp_path):
    x_id = make_resident_id("610326", dt.date(1995, 5, 5), 4)
    while not x_id.endswith("X"):  # a number whose check character is X
        x_id = make_resident_id("610326", dt.date(1995, 5, 5), int(x_id[14:17]) + 1)
    full_width = WU_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        ["甲", x_id.lower(), GRID_A],
        ["乙", "110223790813697", GRID_A],  # 15-digit legacy number
        ["丙", full_width, GRID_A],
        ["丁", f" '{LIU_ID[:6]} {LIU_ID[6:]} ", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, ["姓名", "身份证号", "网格编码"], rows)
    assert (job.created, job.error_rows) == (4, 0)
    numbers = dict(Person.objects.values_list("name", "id_number"))
    assert numbers == {"甲": x_id, "乙": "110223197908136972", "丙": WU_ID, "丁": LIU_ID}


def test_an_id_number_excel_turned_into_a_float_is_refused(users, county, tmp_path):
    rows = [["刘德胜", float(LIU_ID), "13700001111", "", GRID_A], ["吴秀兰", WU_ID, "", "", GRID_A]]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.error_rows) == (1, 1)
    error = row_errors(job)[2]
    assert "id_number" in error.errors
    assert "末位已丢失" in error.errors["id_number"][0]
    assert not Person.objects.filter(name="刘德胜").exists()


def test_a_phone_excel_stored_as_a_number_is_kept(users, county, tmp_path):
    job = import_rows(
        users.commander, tmp_path, BASIC, [["刘德胜", LIU_ID, 13700001111.0, "", GRID_A]]
    )
    assert job.created == 1
    assert Person.objects.get(id_number=LIU_ID).phone == "13700001111"


@pytest.mark.parametrize(
    "written",
    [
        "1979-03-04",
        "1979.3.4",
        "1979/03/04",
        "19790304",
        "1979年3月4日",
        dt.date(1979, 3, 4),
        28918,
    ],
)
def test_birth_dates_in_the_spellings_of_real_rosters(users, county, tmp_path, written):
    job = import_rows(
        users.commander,
        tmp_path,
        ["姓名", "出生日期", "手机号", "网格编码"],
        [["张无证", written, "13700002222", GRID_A]],
    )
    assert (job.created, job.error_rows) == (1, 0)
    assert Person.objects.get(name="张无证").birth_date == dt.date(1979, 3, 4)


def test_bad_values_are_reported_by_column_and_good_rows_saved(users, county, tmp_path):
    bad_check = LIU_ID[:-1] + ("1" if LIU_ID[-1] != "1" else "2")
    rows = [
        ["刘德胜", bad_check, "13700001111", "", GRID_A],
        ["", WU_ID, "13700001112", "", GRID_A],
        ["郑小明", ZHENG_ID, "12345", "", GRID_A],
        [
            "王五",
            make_resident_id("610326", dt.date(1960, 1, 1), 81),
            "13700001113",
            "",
            "610326999999999",
        ],
        ["赵六", make_resident_id("610326", dt.date(1961, 1, 1), 91), "13700001114", "", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.error_rows) == (1, 4)
    errors = row_errors(job)
    assert "校验码" in errors[2].errors["id_number"][0]
    assert errors[3].errors["name"] == ["姓名不能为空"]
    assert "手机号" in errors[4].errors["phone"][0]
    assert "网格编码“610326999999999”不存在" in errors[5].errors["grid"][0]
    assert errors[2].original[0] == "刘德胜"  # the row as read, for the error file
    assert list(Person.objects.values_list("name", flat=True)) == ["赵六"]


# --- divisions -------------------------------------------------------------------------------


def test_division_by_name_path_with_committee_suffixes(users, county, tmp_path):
    header = ["姓名", "身份证号", "镇(街道)", "村(社区)", "组(小区)"]
    rows = [
        ["刘德胜", LIU_ID, "齐镇", "齐镇村委会", "二组"],
        ["吴秀兰", WU_ID, "", "齐镇村", "1组"],
        ["郑小明", ZHENG_ID, "齐镇", "不存在村", ""],
    ]
    job = import_rows(users.commander, tmp_path, header, rows)
    assert (job.created, job.error_rows) == (2, 1)
    assert Person.objects.get(id_number=LIU_ID).division_id == GRID_A2
    assert Person.objects.get(id_number=WU_ID).division_id == GRID_A
    assert "村(社区)“不存在村”" in row_errors(job)[4].errors["village"][0]


def test_rows_outside_the_actors_scope_are_refused(users, county, tmp_path):
    rows = [["刘德胜", LIU_ID, "", "", GRID_B], ["吴秀兰", WU_ID, "", "", GRID_A]]
    job = import_rows(users.town_officer, tmp_path, BASIC, rows)
    assert (job.created, job.error_rows) == (1, 1)
    assert "不在您的管辖范围内" in row_errors(job)[2].errors["grid"][0]
    assert not Person.objects.filter(id_number=LIU_ID).exists()


def test_division_option_places_rows_without_one_and_bounds_the_rest(users, county, tmp_path):
    rows = [["刘德胜", LIU_ID, "", "", ""], ["吴秀兰", WU_ID, "", "", GRID_A]]
    job = import_rows(users.commander, tmp_path, BASIC, rows, division=GRID_A2)
    assert (job.created, job.error_rows) == (1, 1)
    assert Person.objects.get(id_number=LIU_ID).division_id == GRID_A2
    assert "不在本次导入所选的区划" in row_errors(job)[3].errors["grid"][0]


def test_a_row_without_a_division_names_the_column(users, county, tmp_path):
    job = import_rows(users.commander, tmp_path, ["姓名", "身份证号"], [["刘德胜", LIU_ID]])
    assert job.error_rows == 1
    assert "网格编码" in row_errors(job)[2].errors["grid"][0]


def test_a_division_option_outside_scope_is_refused_before_anything_is_stored(
    users, county, tmp_path
):
    from fangkong.core.exceptions import ValidationFailed

    path = write_xlsx(tmp_path / "r.xlsx", BASIC, [["刘德胜", LIU_ID, "", "", ""]])
    with pytest.raises(ValidationFailed) as caught:
        run(users.town_officer, path, division=GRID_B)
    assert "division" in caught.value.errors
    assert not ImportJob.objects.exists()


def test_roles_that_may_not_edit_people_cannot_import(users, county, tmp_path):
    from fangkong.core.exceptions import ValidationFailed

    path = write_xlsx(tmp_path / "r.xlsx", BASIC, [["刘德胜", LIU_ID, "", "", GRID_A]])
    with pytest.raises(ValidationFailed) as caught:
        run(users.leader, path)
    assert "kind" in caught.value.errors
    assert not Person.objects.filter(id_number=LIU_ID).exists()


# --- duplicates ------------------------------------------------------------------------------


def test_a_later_row_of_the_same_person_updates_the_earlier(users, county, tmp_path):
    rows = [
        ["刘德胜", LIU_ID, "13700001111", "", GRID_A],
        ["刘德胜", LIU_ID.lower(), "13700009999", "眉县齐镇齐镇村一组5号", ""],
    ]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.updated, job.error_rows) == (1, 1, 0)
    person = Person.objects.get(id_number=LIU_ID)
    assert (person.phone, person.address) == ("13700009999", "眉县齐镇齐镇村一组5号")


def test_same_document_as_a_stored_person_updates_it_and_keeps_history(users, people, tmp_path):
    head = people.head
    rows = [["张建国", head.id_number, "13700004444", "", ""]]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.updated, job.unchanged) == (0, 1, 0)
    head.refresh_from_db()
    assert head.phone == "13700004444"
    assert head.address == "眉县齐镇齐镇村一组12号"  # an empty cell never erases
    revision = PersonRevision.objects.get(person=head)
    assert revision.before == {"phone": "13912345678"}
    assert (revision.verb, revision.import_job_id, revision.actor_id) == (
        "import",
        job.pk,
        users.commander.pk,
    )


def test_same_number_under_another_name_is_a_conflict_never_merged(users, people, tmp_path):
    head = people.head
    rows = [["张建军", head.id_number, "13700004444", "", GRID_A]]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.updated, job.conflicts, job.error_rows) == (0, 0, 1, 1)
    error = ImportRowError.objects.get(job=job)
    assert error.kind == "conflict"
    assert f"人员编号 {head.pk}" in error.errors["id_number"][0]
    head.refresh_from_db()
    assert (head.name, head.phone) == ("张建国", "13912345678")


def test_same_number_twice_in_one_file_under_two_names_is_a_conflict(users, county, tmp_path):
    rows = [["刘德胜", LIU_ID, "", "", GRID_A], ["刘德顺", LIU_ID, "", "", GRID_A]]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.conflicts) == (1, 1)
    assert "第 2 行" in row_errors(job)[3].errors["id_number"][0]
    assert Person.objects.get(id_number=LIU_ID).name == "刘德胜"


def test_a_number_registered_outside_the_actors_scope_is_not_touched(users, people, tmp_path):
    other = people.other  # grid B, town B
    rows = [["王小明", other.id_number, "13700005555", "", GRID_A]]
    job = import_rows(users.town_officer, tmp_path, BASIC, rows)
    assert (job.created, job.updated, job.conflicts) == (0, 0, 1)
    other.refresh_from_db()
    assert (other.phone, other.division_id) == ("13612345678", GRID_B)


def test_people_without_documents_are_matched_by_name_birth_date_and_phone(users, county, tmp_path):
    header = ["姓名", "出生日期", "手机号", "现住址", "网格编码"]
    first = import_rows(
        users.commander,
        tmp_path,
        header,
        [["张无证", "1979-03-04", "13700002222", "", GRID_A]],
        name="a.xlsx",
    )
    assert first.created == 1
    second = import_rows(
        users.commander,
        tmp_path,
        header,
        [
            ["张无证", "19790304", "13700002222", "眉县齐镇齐镇村一组9号", GRID_A],
            [
                "张无证",
                "1980-03-04",
                "13700002222",
                "",
                GRID_A,
            ],  # another birth date: another person
        ],
        name="b.xlsx",
    )
    assert (second.created, second.updated) == (1, 1)
    assert Person.objects.filter(name="张无证").count() == 2
    assert Person.objects.get(birth_date=dt.date(1979, 3, 4)).address == "眉县齐镇齐镇村一组9号"


def test_reimporting_the_same_file_changes_nothing(users, county, tmp_path):
    header = [
        "姓名",
        "性别",
        "身份证号",
        "出生日期",
        "联系电话",
        "现住址",
        "网格编码",
        "与户主关系",
    ]
    rows = [
        [
            "刘德胜",
            "男",
            LIU_ID,
            "1988-06-01",
            "13700001111",
            "眉县齐镇齐镇村一组5号",
            GRID_A,
            "户主",
        ],
        ["吴秀兰", "女", WU_ID, "1990.02.14", "13700001112", "眉县齐镇齐镇村一组5号", GRID_A, "妻"],
        ["张无证", "男", "", "1979-03-04", "13700002222", "", GRID_A2, ""],
        ["刘小宝", "男", "", "2019-05-01", "", "", GRID_A, "子"],  # no document, no phone
    ]
    path = write_xlsx(tmp_path / "r.xlsx", header, rows)
    first = run(users.commander, path)
    assert first.created == 4
    snapshot = list(Person.objects.order_by("pk").values())
    again = run(users.commander, path)
    assert (again.created, again.updated, again.unchanged, again.error_rows) == (0, 0, 4, 0)
    assert again.all_unchanged
    assert list(Person.objects.order_by("pk").values()) == snapshot
    assert not PersonRevision.objects.exists()


def test_masked_cells_never_overwrite(users, people, tmp_path):
    head = people.head
    header = ["人员编号", "姓名", "证件号码", "手机号", "现住址", "出生日期"]
    rows = [[head.pk, "张*", "610326**********1X", "139****5678", "眉县齐镇齐***", "1970-**-**"]]
    job = import_rows(users.commander, tmp_path, header, rows)
    assert (job.unchanged, job.error_rows) == (1, 0)
    head.refresh_from_db()
    assert (head.name, head.phone, head.address) == (
        "张建国",
        "13912345678",
        "眉县齐镇齐镇村一组12号",
    )


def test_a_masked_row_cannot_create_a_person(users, county, tmp_path):
    job = import_rows(
        users.commander,
        tmp_path,
        ["姓名", "证件号码", "网格编码"],
        [["刘德胜", "610326**********1X", GRID_A]],
    )
    assert (job.created, job.error_rows) == (0, 1)
    assert "已打码" in row_errors(job)[2].errors["id_number"][0]


def test_an_unknown_person_id_is_an_error(users, people, tmp_path):
    job = import_rows(
        users.grid_worker,
        tmp_path,
        ["人员编号", "姓名", "手机号"],
        [[people.other.pk, "王小明", "13700006666"]],
    )
    assert job.error_rows == 1  # grid B is outside the grid worker's grid: same as missing
    assert "人员编号" in row_errors(job)[2].errors["person_id"][0]


def test_birth_date_contradicting_the_stored_id_number_is_refused(users, people, tmp_path):
    job = import_rows(
        users.commander,
        tmp_path,
        ["人员编号", "姓名", "出生日期"],
        [[people.head.pk, "张建国", "1971-01-01"]],
    )
    assert job.error_rows == 1
    assert row_errors(job)[2].errors["birth_date"] == ["出生日期与身份证号不一致"]


# --- audit, rollback -------------------------------------------------------------------------


def test_one_audit_event_per_batch_with_counts_only(users, people, tmp_path, monkeypatch):
    monkeypatch.setattr(PeopleImporter, "batch_size", 2)
    rows = [
        ["刘德胜", LIU_ID, "13700001111", "眉县齐镇齐镇村一组5号", GRID_A],
        ["吴秀兰", WU_ID, "13700001112", "", GRID_A],
        ["张建国", people.head.id_number, "13700004444", "", ""],
    ]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    events = AuditEvent.objects.filter(verb="people.person.import").order_by("id")
    assert [(e.data["created"], e.data["updated"]) for e in events] == [(2, 0), (0, 1)]
    assert {e.target_id for e in events} == {str(job.pk)}
    text = json.dumps([e.data for e in events], ensure_ascii=False)
    for value in ("刘德胜", LIU_ID, "13700001111", "一组5号"):
        assert value not in text


def test_rollback_deletes_created_people_and_restores_updated_ones(users, people, tmp_path):
    head = people.head
    rows = [
        ["刘德胜", LIU_ID, "13700001111", "", GRID_A],
        ["张建国", head.id_number, "13700004444", "眉县齐镇齐镇村二组1号", GRID_A2],
    ]
    job = import_rows(users.commander, tmp_path, BASIC, rows)
    assert (job.created, job.updated) == (1, 1)
    import_job_rollback(actor=users.commander, job=job)
    job.refresh_from_db()
    assert job.status == "rolled_back"
    assert "2" in job.message
    assert not Person.objects.filter(id_number=LIU_ID).exists()
    head.refresh_from_db()
    assert (head.phone, head.address, head.division_id) == (
        "13912345678",
        "眉县齐镇齐镇村一组12号",
        GRID_A,
    )
    assert PersonRevision.objects.filter(person=head, verb="import_rollback").exists()


def test_rollback_keeps_a_created_person_someone_edited_since(users, county, tmp_path):
    from fangkong.people.services import person_update

    job = import_rows(
        users.commander,
        tmp_path,
        BASIC,
        [["刘德胜", LIU_ID, "", "", GRID_A], ["吴秀兰", WU_ID, "", "", GRID_A]],
    )
    person_update(
        actor=users.commander,
        person=Person.objects.get(id_number=LIU_ID),
        changes={"phone": "13700007777"},
    )
    import_job_rollback(actor=users.commander, job=job)
    assert list(Person.objects.values_list("id_number", flat=True)) == [LIU_ID]


def test_a_dry_run_reports_the_counts_and_writes_nothing(users, people, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        BASIC,
        [
            ["刘德胜", LIU_ID, "", "", GRID_A],
            ["张建国", people.head.id_number, "13700004444", "", ""],
        ],
    )
    with open(path, "rb") as handle:
        job = import_job_start(
            actor=users.commander, kind="people", upload=handle, filename="r.xlsx", dry_run=True
        )
    job.refresh_from_db()
    assert (job.status, job.created, job.updated) == ("done", 1, 1)
    assert not Person.objects.filter(id_number=LIU_ID).exists()
    people.head.refresh_from_db()
    assert people.head.phone == "13912345678"


def test_a_batch_costs_the_same_few_queries_whatever_its_size(
    users, county, django_assert_max_num_queries
):
    from fangkong.imports.contracts import SourceRow

    job = ImportJob.objects.create(kind="people", actor=users.commander, filename="x.xlsx")
    importer = PeopleImporter(job=job, actor=users.commander, options={})

    def batch(start, count):
        return [
            SourceRow(
                number=n + 2,
                values={
                    "name": f"人员{chr(0x4E00 + n)}",
                    "id_number": make_resident_id(
                        "610326", dt.date(1980, 1, 1) + dt.timedelta(days=n), 11
                    ),
                    "phone": f"137{n:08d}",
                    "grid": GRID_A if n % 2 else GRID_A2,
                },
                original=[],
            )
            for n in range(start, start + count)
        ]

    with django_assert_max_num_queries(12):
        small = importer.process_batch(batch(0, 5))
    with django_assert_max_num_queries(12):
        large = importer.process_batch(batch(100, 400))
    assert (small.created, large.created) == (5, 400)
    with django_assert_max_num_queries(12):
        again = importer.process_batch(batch(100, 400))
    assert again.unchanged == 400


# --- households ------------------------------------------------------------------------------

HOUSEHOLD_HEADER = ["户号", "姓名", "与户主关系", "身份证号", "联系电话", "现住址", "网格编码"]


def test_households_grouped_by_household_number_with_merged_cells(users, county, tmp_path):
    rows = [
        [
            "6103261072010010001",
            "刘德胜",
            "户主",
            LIU_ID,
            "13700001111",
            "眉县齐镇齐镇村一组5号",
            GRID_A,
        ],
        ["", "吴秀兰", "妻", WU_ID, "", "", GRID_A],  # 户号 merged down: blank here
        ["", "刘小明", "长子", ZHENG_ID, "", "", GRID_A],
        [
            "6103261072010010002",
            "张德福",
            "本人",
            make_resident_id("610326", dt.date(1950, 1, 2), 13),
            "13700002222",
            "眉县齐镇齐镇村一组6号",
            GRID_A,
        ],
    ]
    job = import_rows(users.commander, tmp_path, HOUSEHOLD_HEADER, rows, kind="households")
    assert (job.created, job.error_rows) == (4, 0)
    first = Household.objects.get(number="6103261072010010001")
    assert first.head.id_number == LIU_ID
    assert (first.address, first.division_id) == ("眉县齐镇齐镇村一组5号", GRID_A)
    members = {p.name: p.relation_to_head for p in first.members.all()}
    assert members == {"刘德胜": "head", "吴秀兰": "spouse", "刘小明": "child"}
    second = Household.objects.get(number="6103261072010010002")
    assert second.head.name == "张德福"
    again = import_rows(
        users.commander, tmp_path, HOUSEHOLD_HEADER, rows, kind="households", name="again.xlsx"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert Household.objects.count() == 2


def test_households_grouped_by_head_id_number_and_by_address(users, county, tmp_path):
    header = ["姓名", "与户主关系", "身份证号", "户主身份证号", "现住址", "网格编码"]
    rows = [
        ["吴秀兰", "配偶", WU_ID, LIU_ID, "", GRID_A],
        ["刘德胜", "", LIU_ID, LIU_ID, "眉县齐镇齐镇村一组5号", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, header, rows, kind="households")
    assert (job.created, job.error_rows) == (2, 0)
    household = Household.objects.get()
    assert household.head.id_number == LIU_ID
    assert Person.objects.get(id_number=LIU_ID).relation_to_head == "head"
    assert set(household.members.values_list("id_number", flat=True)) == {LIU_ID, WU_ID}

    by_address = ["姓名", "出生日期", "手机号", "与户主关系", "现住址", "网格编码"]
    rows = [
        ["张无证", "1979-03-04", "13700002222", "户主", "眉县齐镇齐镇村二组3号", GRID_A2],
        ["李无证", "1981-05-06", "13700003333", "配偶", "眉县齐镇齐镇村二组3号", GRID_A2],
        ["王无证", "1950-01-02", "13700004444", "户主", "眉县齐镇齐镇村二组4号", GRID_A2],
    ]
    job = import_rows(users.commander, tmp_path, by_address, rows, kind="households", name="b.xlsx")
    assert (job.created, job.error_rows) == (3, 0)
    three = Household.objects.get(address="眉县齐镇齐镇村二组3号")
    assert set(three.members.values_list("name", flat=True)) == {"张无证", "李无证"}
    assert three.head.name == "张无证"


def test_households_join_an_existing_household_by_address(users, people, tmp_path):
    header = ["姓名", "身份证号", "与户主关系", "现住址", "网格编码"]
    rows = [["张小华", ZHENG_ID, "子", "眉县齐镇齐镇村一组12号", GRID_A]]
    job = import_rows(users.commander, tmp_path, header, rows, kind="households")
    assert job.created == 1
    assert Person.objects.get(id_number=ZHENG_ID).household_id == people.household.pk
    assert Household.objects.count() == 1
    people.household.refresh_from_db()
    assert people.household.head_id == people.head.pk


def test_households_rollback_removes_the_households_it_created(users, county, tmp_path):
    rows = [
        ["H1", "刘德胜", "户主", LIU_ID, "", "眉县齐镇齐镇村一组5号", GRID_A],
        ["H1", "吴秀兰", "妻", WU_ID, "", "", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, HOUSEHOLD_HEADER, rows, kind="households")
    assert Household.objects.count() == 1
    import_job_rollback(actor=users.commander, job=job)
    assert not Household.objects.exists()
    assert not Person.objects.exists()


def test_a_bad_head_row_does_not_hand_its_members_to_the_household_above(users, county, tmp_path):
    bad_id = LIU_ID[:-1] + ("0" if LIU_ID[-1] != "0" else "1")
    rows = [
        ["H1", "刘德胜", "户主", ZHENG_ID, "", "眉县齐镇齐镇村一组5号", GRID_A],
        ["H2", "坏户主", "户主", bad_id, "", "眉县齐镇齐镇村一组6号", GRID_A],
        ["", "吴秀兰", "妻", WU_ID, "", "", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, HOUSEHOLD_HEADER, rows, kind="households")
    assert (job.created, job.error_rows) == (2, 1)
    assert list(Household.objects.get(number="H1").members.values_list("name", flat=True)) == [
        "刘德胜"
    ]
    assert Person.objects.get(id_number=WU_ID).household.number == "H2"


def test_without_household_columns_members_follow_the_head_at_the_same_address(
    users, county, tmp_path
):
    header = ["姓名", "与户主关系", "身份证号", "现住址", "网格编码"]
    rows = [
        ["刘德胜", "户主", LIU_ID, "眉县齐镇齐镇村一组5号", GRID_A],
        ["吴秀兰", "妻", WU_ID, "", GRID_A],
        ["郑小明", "子", ZHENG_ID, "眉县齐镇齐镇村一组7号", GRID_A],
    ]
    job = import_rows(users.commander, tmp_path, header, rows, kind="households")
    assert (job.created, job.error_rows) == (3, 0)
    liu = Person.objects.get(id_number=LIU_ID).household
    assert liu.head.id_number == LIU_ID
    assert set(liu.members.values_list("id_number", flat=True)) == {LIU_ID, WU_ID}
    other = Person.objects.get(id_number=ZHENG_ID).household
    assert (other.address, other.head) == ("眉县齐镇齐镇村一组7号", None)
