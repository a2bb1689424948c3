"""Division management pages: add a child, rename, import CSV/Excel. End to end."""

from __future__ import annotations

import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import _user
from fangkong.accounts.roles import Role
from fangkong.core.models import AuditEvent
from fangkong.geo.models import Division

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple:
    return AuditEvent.objects.count(), list(Division.objects.order_by("code").values())


def _csv(text: str, encoding: str = "utf-8", name: str = "divisions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def _xlsx(rows: list[list], name: str = "divisions.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    for index, row in enumerate(rows):
        sheet.write_row(index, 0, row)
    workbook.close()
    return SimpleUploadedFile(name, buffer.getvalue())


def _import(client, upload):
    """Division lists go through the import engine's upload page (kind "divisions")."""
    return client.post(reverse("imports:new"), {"kind": "divisions", "file": upload}, follow=True)


def _job():
    from fangkong.imports.models import ImportJob

    return ImportJob.objects.get()


def _bad_rows(job) -> dict[int, list[str]]:
    return {
        e.row_number: [m for messages in e.errors.values() for m in messages]
        for e in job.row_errors.all()
    }


# --- Who may manage divisions ----------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "grid_worker", "town_officer", "leader", "epidemiologist"])
def test_only_editors_may_add_a_division_and_denial_writes_nothing(login, users, county, who):
    client = login(getattr(users, who) if who else None)
    url = reverse("geo:division_create", args=[county.village_a.code])
    before = _snapshot()

    shown = client.get(url)
    posted = client.post(url, {"code": "610326107201003", "name": "三组"})

    expected = 302 if who is None else 404
    assert shown.status_code == expected
    assert posted.status_code == expected
    assert _snapshot() == before


@pytest.mark.parametrize("who", [None, "grid_worker", "town_officer", "leader"])
def test_only_editors_may_import_and_denial_writes_nothing(login, users, county, who):
    client = login(getattr(users, who) if who else None)
    before = _snapshot()

    response = _import(client, _csv("code,name,parent_code\n610326107202,新村,610326107\n"))

    if who is None:
        assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == 403
    assert _snapshot() == before


def test_editor_with_a_town_jurisdiction_cannot_reach_another_town(login, county):
    town_admin = _user("town_admin", Role.ADMIN, county.town_a, is_staff=True)
    client = login(town_admin)
    before = _snapshot()

    other = client.post(
        reverse("geo:division_create", args=[county.town_b.code]),
        {"code": "610326101202", "name": "横渠二村"},
    )
    own = client.get(reverse("geo:division_create", args=[county.town_a.code]))

    assert other.status_code == 404
    assert own.status_code == 200
    assert _snapshot() == before


# --- Add and edit ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["commander", "admin"])
def test_editor_adds_a_small_grid_under_a_village(login, users, county, who):
    client = login(getattr(users, who))

    response = client.post(
        reverse("geo:division_create", args=[county.village_a.code]),
        {"code": "610326107201003", "name": "三组", "kind": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:division", args=["610326107201003"])
    grid = Division.objects.get(code="610326107201003")
    assert (grid.parent_id, grid.level, grid.name) == (county.village_a.code, 3, "三组")
    event = AuditEvent.objects.get(verb="geo.division.create")
    assert event.actor == getattr(users, who)
    assert event.target_id == "610326107201003"


def test_bad_code_is_explained_in_chinese_and_nothing_is_written(login, users, county):
    before = _snapshot()

    response = login(users.commander).post(
        reverse("geo:division_create", args=[county.village_a.code]),
        {"code": "610326101201009", "name": "错组"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "区划代码：下级代码必须以上级代码开头并且更长" in html
    assert 'value="错组"' in html
    assert _snapshot() == before


def test_duplicate_code_is_reported(login, users, county):
    before = _snapshot()

    response = login(users.commander).post(
        reverse("geo:division_create", args=[county.village_a.code]),
        {"code": county.grid_a.code, "name": "重复组"},
    )

    assert "区划代码：区划代码已存在" in response.content.decode()
    assert _snapshot() == before


def test_empty_name_is_reported(login, users, county):
    before = _snapshot()

    response = login(users.commander).post(
        reverse("geo:division_create", args=[county.village_a.code]),
        {"code": "610326107201003", "name": "  "},
    )

    assert response.status_code == 200
    assert "名称：" in response.content.decode()
    assert _snapshot() == before


def test_no_children_under_a_small_grid(login, users, county):
    response = login(users.commander).get(reverse("geo:division_create", args=[county.grid_a.code]))

    assert response.status_code == 404


def test_editor_renames_a_division(login, users, county):
    response = login(users.commander).post(
        reverse("geo:division_edit", args=[county.village_a.code]),
        {"name": "齐镇新村", "kind": "urban"},
    )

    assert response.status_code == 302
    county.village_a.refresh_from_db()
    assert (county.village_a.name, county.village_a.kind) == ("齐镇新村", "urban")
    event = AuditEvent.objects.get(verb="geo.division.update")
    assert event.data == {"fields": ["name", "kind"]}


def test_non_editor_cannot_rename(login, users, county):
    before = _snapshot()

    response = login(users.town_officer).post(
        reverse("geo:division_edit", args=[county.town_a.code]), {"name": "改名", "kind": "rural"}
    )

    assert response.status_code == 404
    assert _snapshot() == before


# --- Import ----------------------------------------------------------------------------------


def test_import_csv_reports_counts_and_bad_rows_with_row_numbers(login, users, county):
    text = (
        "code,name,parent_code\n"
        "610326107202,新村,610326107\n"  # row 2: created
        "610326107202001,一组,610326107202\n"  # row 3: created (parent from row 2)
        "\n"  # row 4: blank, skipped
        "610326107201,齐镇中心村,610326107\n"  # row 5: existing code, renamed
        "610326108201,孤村,610326108\n"  # row 6: parent missing
        "61032610720A,坏码,610326107\n"  # row 7: not digits
    )

    response = _import(login(users.commander), _csv(text))

    assert response.status_code == 200
    job = _job()
    assert (job.status, job.created, job.updated, job.error_rows) == ("done", 2, 1, 2)
    bad = _bad_rows(job)
    assert set(bad) == {6, 7}
    assert "上级区划不存在" in bad[6]
    assert any("区划代码只能由数字组成" in reason for reason in bad[7])
    assert Division.objects.get(code="610326107202001").parent_id == "610326107202"
    assert Division.objects.get(code=county.village_a.code).name == "齐镇中心村"
    assert AuditEvent.objects.filter(verb__startswith="imports.job", actor=users.commander).exists()


def test_import_gb18030_csv_with_chinese_headers(login, users, county):
    text = "区划代码,名称,上级区划代码\r\n610326107203,东村,610326107\r\n"

    _import(login(users.commander), _csv(text, encoding="gb18030"))

    assert _job().created == 1
    assert Division.objects.get(code="610326107203").name == "东村"


def test_import_utf8_csv_with_bom_and_short_headers(login, users, county):
    text = "\ufeff代码,名称,上级代码\n610326107204,西村,610326107\n"

    _import(login(users.commander), _csv(text))

    assert _job().created == 1
    assert Division.objects.get(code="610326107204").name == "西村"


def test_import_xlsx_with_number_cells(login, users, county):
    upload = _xlsx(
        [
            ["区划代码", "名称", "上级代码"],
            [610326107205, "南村", 610326107],
            [],
            ["610326107205001", "一组", "610326107205"],
        ]
    )

    _import(login(users.commander), upload)

    job = _job()
    assert (job.created, job.updated, job.error_rows) == (2, 0, 0)
    assert Division.objects.get(code="610326107205001").level == 3


def test_import_xlsx_bad_rows_keep_spreadsheet_row_numbers(login, users, county):
    upload = _xlsx([["code", "name", "parent_code"], [], [], [610326107206, "", 610326107]])

    _import(login(users.commander), upload)

    assert list(_bad_rows(_job())) == [4]


def test_import_without_the_required_columns_writes_nothing(login, users, county):
    before = _snapshot()

    response = _import(login(users.commander), _csv("代码,名字\n610326107207,北村\n"))

    assert response.status_code == 400
    assert "缺少列" in response.content.decode()
    assert _snapshot() == before


def test_import_of_a_file_that_is_not_a_table_says_so(login, users, county):
    before = _snapshot()

    response = _import(
        login(users.commander), SimpleUploadedFile("x.xlsx", b"this is not a spreadsheet")
    )

    assert response.status_code == 400
    assert _snapshot() == before


def test_import_of_an_empty_file_says_so(login, users, county):
    response = _import(login(users.commander), _csv("code,name,parent_code\n"))

    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


def test_old_division_import_urls_lead_to_the_import_engine(login, users):
    client = login(users.commander)

    page = client.get(reverse("geo:division_import"))
    template = client.get(reverse("geo:division_import_template"))

    assert page.status_code == 302
    assert page["Location"] == reverse("imports:new") + "?kind=divisions"
    assert template["Location"] == reverse("imports:template", args=["divisions"])
