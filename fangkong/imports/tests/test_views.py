"""The import pages and the export buttons: permission matrix, upload with bad rows, a bad file,
the error workbook, the progress partial, and masked vs revealed exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import unquote

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from fangkong.core.models import AuditEvent, AuditReason
from fangkong.core.tests.idgen import make_resident_id
from fangkong.imports import services
from fangkong.imports.contracts import importer_for
from fangkong.imports.models import ImportJob, ImportRowError
from fangkong.imports.presenters import row_error_rows
from fangkong.people.models import Person

HEADER = ["姓名", "证件号码", "性别", "手机号", "现住址", "网格编码"]
GRID_A = "610326107201001"
GRID_B = "610326101201001"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _id(seq: int, born: dt.date = dt.date(1985, 5, 5)) -> str:
    return make_resident_id("610326", born, seq)


def _bad_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def _good_rows() -> list[list[str]]:
    return [
        ["孙一", _id(101), "男", "13800001111", "眉县齐镇齐镇村一组1号", GRID_A],
        ["孙二", _id(103), "男", "13800001112", "眉县齐镇齐镇村一组2号", GRID_A],
        ["孙三", _id(105), "男", "13800001113", "眉县齐镇齐镇村一组3号", GRID_A],
    ]


def _bad_rows() -> list[list[str]]:
    return [
        ["钱四", _bad_checksum(_id(107)), "男", "13800001114", "眉县齐镇齐镇村一组4号", GRID_A],
        ["钱五", _id(109), "男", "1380000", "眉县齐镇齐镇村一组5号", GRID_A],
    ]


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _roster(name: str = "花名册.csv", rows: list[list[str]] | None = None) -> SimpleUploadedFile:
    rows = _good_rows() + _bad_rows() if rows is None else rows
    return SimpleUploadedFile(name, _csv(rows), content_type="text/csv")


def _upload(client, *, kind="people", file=None, **extra):
    data = {"kind": kind, "file": file or _roster(), **extra}
    return client.post(reverse("imports:new"), data)


def _job_for(user, rows=None, *, name="花名册.csv") -> ImportJob:
    return services.import_job_start(
        actor=user, kind="people", upload=_roster(name, rows), filename=name
    )


def _sheet(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def _filename(response) -> str:
    disposition = response["Content-Disposition"]
    match = re.search(r"filename\*=utf-8''(.+)$", disposition)
    assert match, disposition
    return unquote(match.group(1))


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["imports:list", "imports:new", "imports:detail", "imports:progress", "imports:errors"],
)
def test_anonymous_is_sent_to_login(db, login, name):
    kwargs = {"job_id": 1} if name not in ("imports:list", "imports:new") else {}
    response = login(None).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_post_to_upload_is_sent_to_login_and_writes_nothing(db, login):
    response = _upload(login(None))
    assert response.status_code == 302
    assert ImportJob.objects.count() == 0


def test_upload_without_csrf_token_is_refused(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users.town_officer)
    response = client.post(reverse("imports:new"), {"kind": "people", "file": _roster()})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_leader_may_not_open_or_post_the_upload_page(users, login):
    client = login(users.leader)
    assert client.get(reverse("imports:new")).status_code == 403
    response = _upload(client)
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0
    assert client.get(reverse("imports:template", args=["people"])).status_code == 403


def test_town_officer_may_import_people_but_not_divisions(users, login):
    client = login(users.town_officer)
    page = client.get(reverse("imports:new")).content.decode()
    assert 'value="people"' in page
    assert 'value="households"' in page
    assert 'value="divisions"' not in page
    header = "区划代码,名称,上级代码\r\n610326107201003,三组,610326107201\r\n".encode()
    response = _upload(
        client, kind="divisions", file=SimpleUploadedFile("区划.csv", header, "text/csv")
    )
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_other_users_job_is_missing_for_every_page(users, login):
    job = _job_for(users.town_officer)
    other = login(users.other_town_officer)
    for name in ("imports:detail", "imports:progress", "imports:errors"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404, name
    for name in ("imports:resume", "imports:rollback"):
        assert other.post(reverse(name, args=[job.pk])).status_code == 404, name
    job.refresh_from_db()
    assert job.status == "done"
    assert not AuditEvent.objects.filter(verb="imports.job.errors_export").exists()
    assert login(users.admin).get(reverse("imports:detail", args=[job.pk])).status_code == 200


def test_history_lists_own_jobs_and_all_jobs_for_administrators(users, login):
    mine = _job_for(users.town_officer, name="齐镇名册.csv")
    theirs = _job_for(users.grid_worker, name="一组名册.csv")
    own_page = login(users.town_officer).get(reverse("imports:list")).content.decode()
    assert "齐镇名册.csv" in own_page
    assert "一组名册.csv" not in own_page
    admin_page = login(users.admin).get(reverse("imports:list")).content.decode()
    assert "齐镇名册.csv" in admin_page
    assert "一组名册.csv" in admin_page
    assert f'data-job="{mine.pk}"' in admin_page
    assert f'data-job="{theirs.pk}"' in admin_page
    assert "town_a" in admin_page  # who imported it


# --- upload ----------------------------------------------------------------------------------


def test_upload_page_lists_each_importers_columns_and_a_template(users, login):
    page = login(users.commander).get(reverse("imports:new")).content.decode()
    for kind in ("people", "households", "divisions"):
        assert reverse("imports:template", args=[kind]) in page
    assert "证件号码" in page
    assert "网格编码" in page
    assert 'data-max-bytes="104857600"' in page


def test_template_download_has_exactly_the_importers_headers(users, login):
    response = login(users.town_officer).get(reverse("imports:template", args=["people"]))
    assert response.status_code == 200
    assert _filename(response).endswith("导入模板.xlsx")
    header = _sheet(response.content)[0]
    columns = importer_for("people").columns
    assert header == [str(c.label) for c in columns if not c.key.startswith("ignored")]
    assert {"姓名", "证件号码", "手机号", "现住址", "网格编码"} <= set(header)
    assert "民族" not in header  # recognised, not stored: listed on the page, not offered


def test_upload_with_bad_rows_saves_good_rows_and_shows_counts_and_reasons(users, login):
    client = login(users.town_officer)
    response = _upload(client)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    assert Person.objects.filter(name__in=["孙一", "孙二", "孙三"]).count() == 3
    assert not Person.objects.filter(name__in=["钱四", "钱五"]).exists()

    page = client.get(response["Location"]).content.decode()
    assert re.search(r'data-stat="created">\s*3<', page)
    assert re.search(r'data-stat="errors">\s*2<', page)
    assert 'data-status="done"' in page
    assert "100 %" in page
    assert 'data-row="5"' in page
    assert 'data-row="6"' in page
    assert "证件号码" in page
    assert "手机号" in page
    assert reverse("imports:errors", args=[job.pk]) in page
    assert "hx-trigger" not in page  # finished: nothing to poll


def test_reimporting_the_same_file_says_nothing_changed(users, login):
    client = login(users.town_officer)
    rows = _good_rows()
    _upload(client, file=_roster(rows=rows))
    response = _upload(client, file=_roster(rows=rows))
    page = client.get(response["Location"]).content.decode()
    assert 'id="job-no-change"' in page
    assert re.search(r'data-stat="unchanged">\s*3<', page)
    assert Person.objects.filter(name__startswith="孙").count() == 3


def test_dry_run_counts_rows_but_saves_nothing(users, login):
    client = login(users.town_officer)
    response = _upload(client, dry_run="on")
    job = ImportJob.objects.get()
    assert job.dry_run
    assert job.created == 3
    assert job.error_rows == 2
    assert not Person.objects.filter(name__startswith="孙").exists()
    page = client.get(response["Location"]).content.decode()
    assert "试运行" in page
    assert "将新增" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("照片.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "不是表格"),
        ("空.csv", b"", "空"),
        ("地址.csv", "地址,备注\r\n眉县,无\r\n".encode(), "姓名"),
    ],
)
def test_bad_file_rerenders_the_form_with_the_message_and_writes_nothing(
    users, login, settings, name, content, message
):
    people_before = Person.objects.count()
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = _upload(login(users.town_officer), file=file)
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'id="id_file_error">(.*?)</div>', page, re.S)
    assert error, page
    assert message in error.group(1)
    assert 'value="people" selected' in page
    assert ImportJob.objects.count() == 0
    assert Person.objects.count() == people_before
    stored = settings.MEDIA_ROOT / "imports"
    assert not stored.exists() or not any(stored.iterdir())


def test_file_over_the_limit_is_refused_before_it_is_stored(users, login, settings):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_MAX_BYTES": 100 * 1024}
    big = _csv(_good_rows() * 2000)
    assert len(big) > 100 * 1024
    response = _upload(login(users.town_officer), file=SimpleUploadedFile("大.csv", big))
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert "100 KB" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_division_outside_scope_is_reported_on_the_division_field(users, login):
    response = _upload(login(users.town_officer), division="610326101")
    assert response.status_code == 400
    error = re.search(r'id="id_division_error">(.*?)</div>', response.content.decode(), re.S)
    assert error
    assert "管辖范围" in error.group(1)
    assert ImportJob.objects.count() == 0


# --- one job ---------------------------------------------------------------------------------


def test_error_workbook_download_has_the_bad_rows_and_is_audited(users, login):
    client = login(users.town_officer)
    _upload(client)
    job = ImportJob.objects.get()
    response = client.get(reverse("imports:errors", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _filename(response) == "花名册_错误行.xlsx"
    header, *rows = _sheet(response.content)
    assert header == [*HEADER, "错误原因"]
    assert [row[0] for row in rows] == ["钱四", "钱五"]
    assert rows[0][1] == _bad_checksum(_id(107))
    assert "证件号码" in rows[0][-1]
    assert "手机号" in rows[1][-1]
    event = AuditEvent.objects.get(verb="imports.job.errors_export")
    assert event.actor == users.town_officer
    assert event.target_id == str(job.pk)
    assert "钱四" not in str(event.data)


def test_progress_partial_polls_while_pending_and_stops_when_done(users, login, settings):
    job = services.import_job_create(
        actor=users.town_officer, kind="people", upload=_roster(), filename="名册.csv"
    )
    client = login(users.town_officer)
    url = reverse("imports:progress", args=[job.pk])
    polling = client.get(url)
    assert polling.status_code == 200
    html = polling.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="{url}"' in html
    assert 'id="job-actions"' not in html

    services.import_job_run(actor=users.town_officer, job=job)
    finished = client.get(url)
    assert finished.status_code == 286  # htmx stops polling on this status
    html = finished.content.decode()
    assert "hx-trigger" not in html
    assert 'style="width: 100%"' in html
    assert "已完成" in html
    assert reverse("imports:errors", args=[job.pk]) in html


def test_detail_of_a_running_job_polls_the_progress_partial(users, login):
    job = services.import_job_create(
        actor=users.town_officer, kind="people", upload=_roster(), filename="名册.csv"
    )
    page = login(users.town_officer).get(reverse("imports:detail", args=[job.pk]))
    html = page.content.decode()
    assert 'hx-get="{}"'.format(reverse("imports:progress", args=[job.pk])) in html
    assert "0 %" in html


def test_big_upload_is_queued_and_runs_in_the_task(
    users, login, settings, django_capture_on_commit_callbacks
):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_INLINE_MAX_ROWS": 2}
    client = login(users.town_officer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _upload(client)
    assert callbacks  # enqueued after commit; the test settings run tasks at once
    job = ImportJob.objects.get()
    assert job.status == "done"
    assert job.created == 3
    assert client.get(response["Location"]).status_code == 200


def test_resume_requeues_an_interrupted_job(users, login, django_capture_on_commit_callbacks):
    job = services.import_job_create(
        actor=users.town_officer, kind="people", upload=_roster(), filename="名册.csv"
    )
    ImportJob.objects.filter(pk=job.pk).update(status="interrupted")
    client = login(users.town_officer)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="job-resume"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:resume", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done"
    assert job.created == 3


def test_rollback_removes_what_the_import_created(users, login):
    client = login(users.town_officer)
    _upload(client)
    job = ImportJob.objects.get()
    assert (
        'id="job-rollback"' in client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    )
    response = client.post(reverse("imports:rollback", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "rolled_back"
    assert not Person.objects.filter(name__startswith="孙").exists()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "已撤销" in page
    assert 'id="job-rollback"' not in page


def test_bad_row_originals_are_masked_for_roles_that_cannot_reveal(users, login):
    job = _job_for(users.town_officer)
    errors = list(ImportRowError.objects.filter(job=job).order_by("row_number"))
    full = row_error_rows(job=job, row_errors=errors, viewer=users.town_officer)
    masked = row_error_rows(job=job, row_errors=errors, viewer=users.leader)
    full_cells = {c["header"]: c["value"] for c in full[1]["cells"]}
    masked_cells = {c["header"]: c["value"] for c in masked[1]["cells"]}
    assert full_cells["姓名"] == "钱五"
    assert masked_cells["姓名"] == "钱*"
    assert full_cells["证件号码"] == _id(109)
    assert masked_cells["证件号码"] == _id(109)[:6] + "*" * 10 + _id(109)[-2:]
    assert masked_cells["现住址"].endswith("***")
    assert masked_cells["网格编码"] == GRID_A
    assert full[1]["reasons"]
    assert full[1]["reasons"][0].startswith("手机号")


# --- exports ---------------------------------------------------------------------------------


def test_people_list_offers_masked_export_with_current_filters(users, people, login):
    client = login(users.town_officer)
    page = client.get(reverse("people:list"), {"q": "张"}).content.decode()
    assert 'href="/people/export.xlsx?q=%E5%BC%A0"' in page
    assert 'id="export-full-form"' in page
    leader_page = login(users.leader).get(reverse("people:list")).content.decode()
    assert 'id="export-masked"' in leader_page
    assert 'id="export-full-form"' not in leader_page


def test_masked_export_downloads_and_is_audited_without_reason(users, people, login):
    response = login(users.town_officer).get(reverse("people:export"), {"q": "张建国"})
    assert response.status_code == 200
    assert _filename(response).startswith("人员")
    assert _filename(response).endswith(".xlsx")
    header, *rows = _sheet(response.content)
    row = dict(zip(header, rows[0], strict=False))
    assert len(rows) == 1
    assert row["姓名"] == "张建国"
    assert row["证件号码"] != people.head.id_number
    assert "*" in row["证件号码"]
    event = AuditEvent.objects.get(verb="people.person.export")
    assert event.actor == users.town_officer
    assert event.data["revealed"] is False
    assert not AuditReason.objects.filter(event=event).exists()


def test_full_export_with_a_reason_reveals_and_records_the_reason(users, people, login):
    response = login(users.town_officer).post(
        reverse("people:export"), {"q": "张建国", "reason": "核对返乡人员名单"}
    )
    assert response.status_code == 200
    header, *rows = _sheet(response.content)
    row = dict(zip(header, rows[0], strict=False))
    assert row["证件号码"] == people.head.id_number
    assert row["手机号"] == people.head.phone
    event = AuditEvent.objects.get(verb="people.person.export")
    assert event.data["revealed"] is True
    assert AuditReason.objects.get(event=event).text == "核对返乡人员名单"


def test_full_export_without_reason_goes_back_to_the_list_with_a_message(users, people, login):
    client = login(users.town_officer)
    response = client.post(reverse("people:export"), {"q": "张", "reason": " "}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("people:list") + "?q=%E5%BC%A0"
    assert "须填写理由" in response.content.decode()
    assert not AuditEvent.objects.filter(verb="people.person.export").exists()


def test_leader_may_export_masked_but_not_full(users, people, login):
    client = login(users.leader)
    assert client.get(reverse("people:export")).status_code == 200
    response = client.post(reverse("people:export"), {"reason": "领导查看"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(verb="people.person.export").count() == 1


def test_household_export_has_the_members_and_is_audited(users, people, login):
    client = login(users.grid_worker)
    page = client.get(reverse("people:household_list")).content.decode()
    assert reverse("people:household_export") in page
    response = client.get(reverse("people:household_export"))
    assert response.status_code == 200
    header, *rows = _sheet(response.content)
    names = {dict(zip(header, r, strict=False))["姓名"] for r in rows}
    assert names == {"张建国", "李秀英"}
    assert AuditEvent.objects.filter(
        verb="people.household.export", actor=users.grid_worker
    ).exists()


def test_an_uploaded_xlsx_runs_like_a_csv(users, login):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "齐镇人员花名册")  # a title row above the header
    for r, row in enumerate([HEADER, *_good_rows(), *_bad_rows()], start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    file = SimpleUploadedFile("名册.xlsx", buffer.getvalue())
    response = _upload(login(users.town_officer), file=file)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.created, job.error_rows) == (3, 2)
    assert sorted(job.row_errors.values_list("row_number", flat=True)) == [6, 7]
