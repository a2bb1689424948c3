"""Imports and exports over the API: multipart upload, job detail, bad rows, error workbook,
resume, rollback, masked and revealed exports; the permission matrix of these routes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from python_calamine import CalamineWorkbook

from fangkong.core.models import AuditEvent, AuditReason
from fangkong.core.tests.idgen import make_resident_id
from fangkong.imports import services
from fangkong.imports.models import ImportJob
from fangkong.people.models import Person

from .conftest import VIEWERS

HEADER = ["姓名", "证件号码", "性别", "手机号", "现住址", "网格编码"]
GRID_A = "610326107201001"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _id(seq: int) -> str:
    return make_resident_id("610326", dt.date(1988, 8, 8), seq)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _rows() -> list[list[str]]:
    return [
        ["周一", _id(201), "男", "13700002221", "眉县齐镇齐镇村一组7号", GRID_A],
        ["周二", _id(203), "男", "13700002222", "眉县齐镇齐镇村一组8号", GRID_A],
        [
            "周三",
            _id(205)[:-1] + ("0" if _id(205)[-1] != "0" else "1"),
            "男",
            "13700002223",
            "眉县齐镇齐镇村一组9号",
            GRID_A,
        ],
    ]


def _file(name: str = "名册.csv", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, _csv(_rows()) if content is None else content, "text/csv")


def _sheet(content: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def _filename(response) -> str:
    match = re.search(r"filename\*=utf-8''(.+)$", response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    return unquote(match.group(1))


@pytest.fixture
def job(world) -> ImportJob:
    """The grid worker's finished import: 2 people created, 1 bad row."""
    return services.import_job_start(
        actor=world.users.grid_worker, kind="people", upload=_file(), filename="名册.csv"
    )


# --- the permission matrix -------------------------------------------------------------------

OWN = dict.fromkeys(VIEWERS, 404) | {"anonymous": 401, "grid_worker": 200}
EVERYONE = dict.fromkeys(VIEWERS, 200) | {"anonymous": 401}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    verb: str | None = None


ROUTES = [
    Route(
        "upload",
        "post",
        "/imports",
        lambda w: "/api/v1/imports",
        EVERYONE | {"anonymous": 401, "leader": 403} | dict.fromkeys(VIEWERS[1:5], 201),
        verb="imports.job.create",
    ),
    Route("list", "get", "/imports", lambda w: "/api/v1/imports", EVERYONE),
    Route("detail", "get", "/imports/{job_id}", lambda w: f"/api/v1/imports/{w.job.pk}", OWN),
    Route(
        "errors",
        "get",
        "/imports/{job_id}/errors",
        lambda w: f"/api/v1/imports/{w.job.pk}/errors",
        OWN,
    ),
    Route(
        "error workbook",
        "get",
        "/imports/{job_id}/errors.xlsx",
        lambda w: f"/api/v1/imports/{w.job.pk}/errors.xlsx",
        OWN,
        verb="imports.job.errors_export",
    ),
    Route(
        "resume",
        "post",
        "/imports/{job_id}/resume",
        lambda w: f"/api/v1/imports/{w.job.pk}/resume",
        OWN,
        verb="imports.job.enqueue",
    ),
    Route(
        "rollback",
        "post",
        "/imports/{job_id}/rollback",
        lambda w: f"/api/v1/imports/{w.job.pk}/rollback",
        OWN,
        verb="imports.job.rollback",
    ),
    Route(
        "people export",
        "get",
        "/people/export.xlsx",
        lambda w: "/api/v1/people/export.xlsx",
        EVERYONE,
        verb="people.person.export",
    ),
    Route(
        "household export",
        "get",
        "/households/export.xlsx",
        lambda w: "/api/v1/households/export.xlsx",
        EVERYONE,
        verb="people.household.export",
    ),
]
# test_permissions.test_every_api_route_is_in_the_matrix counts these as covered.
MATRIX = {(route.method, route.template) for route in ROUTES}


@pytest.mark.parametrize(
    ("route", "viewer"),
    [pytest.param(r, v, id=f"{r.name}-{v}") for r in ROUTES for v in VIEWERS],
)
def test_import_route_answers_each_viewer(world, job, client_for, route, viewer):
    if route.name == "resume":  # only an interrupted job can be resumed
        ImportJob.objects.filter(pk=job.pk).update(status="interrupted")
    world.job = job
    client = client_for(viewer)
    audit_before = set(AuditEvent.objects.values_list("pk", flat=True))
    jobs_before = list(ImportJob.objects.values_list("pk", "status"))
    if route.name == "upload":
        response = client.post(route.path(world), {"kind": "people", "file": _file()})
    else:
        response = getattr(client, route.method)(route.path(world))

    expected = route.expect[viewer]
    assert response.status_code == expected, response.content.decode()[:500]
    new_events = AuditEvent.objects.exclude(pk__in=audit_before)
    if expected >= 400:
        assert set(response.json()) == {"code", "message", "errors"}
        assert not new_events.exists(), "a refused request wrote an audit event"
        assert list(ImportJob.objects.values_list("pk", "status")) == jobs_before
        return
    if route.verb is not None:
        assert new_events.filter(verb=route.verb).count() == 1
    else:
        assert not new_events.exists(), "a read wrote an audit event"
    if route.name == "list":
        ids = {row["id"] for row in response.json()["results"]}
        assert ids == ({job.pk} if viewer == "grid_worker" else set())


# --- upload ----------------------------------------------------------------------------------


def test_multipart_upload_creates_the_job_and_answers_with_its_counts(world, client_for):
    response = client_for("town_officer").post(
        "/api/v1/imports", {"kind": "people", "file": _file("周家.csv"), "dry_run": "false"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "done"
    assert body["percent"] == 100
    assert (body["created"], body["error_rows"], body["total_rows"]) == (2, 1, 3)
    assert body["filename"] == "周家.csv"
    assert body["kind"] == "people"
    assert body["actor"] == "town_a"
    assert Person.objects.filter(name__startswith="周").count() == 2
    again = client_for("town_officer").get(f"/api/v1/imports/{body['id']}").json()
    assert again == body


def test_dry_run_upload_reports_without_saving(world, client_for):
    response = client_for("town_officer").post(
        "/api/v1/imports", {"kind": "people", "file": _file(), "dry_run": "true"}
    )
    body = response.json()
    assert response.status_code == 201
    assert body["dry_run"] is True
    assert body["created"] == 2
    assert not Person.objects.filter(name__startswith="周").exists()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {"kind": "people", "file": _file("图.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 40)},
            "file",
            "不是表格",
        ),
        ({"kind": "people"}, "file", "请选择"),
        ({"kind": "no_such_kind", "file": _file()}, "kind", ""),
        ({"kind": "people", "file": _file(), "division": "abc"}, "division", "数字"),
        ({"kind": "people", "file": _file(), "division": "610326101"}, "division", "管辖范围"),
    ],
)
def test_bad_upload_is_a_400_naming_the_field_and_writes_nothing(
    world, client_for, data, field, words
):
    response = client_for("town_officer").post("/api/v1/imports", data)
    assert response.status_code == 400, response.content.decode()
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert words in " ".join(body["errors"][field])
    assert ImportJob.objects.count() == 0


def test_oversized_upload_is_refused_with_a_clear_message(world, client_for, settings):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_MAX_BYTES": 2048}
    big = _csv(_rows() * 40)
    response = client_for("town_officer").post(
        "/api/v1/imports", {"kind": "people", "file": _file("大.csv", big)}
    )
    assert response.status_code == 400
    assert "文件过大" in response.json()["errors"]["file"][0]
    assert ImportJob.objects.count() == 0


def test_town_officer_may_not_import_divisions(world, client_for):
    content = "区划代码,名称,上级代码\r\n610326107201003,三组,610326107201\r\n".encode()
    response = client_for("town_officer").post(
        "/api/v1/imports", {"kind": "divisions", "file": _file("区划.csv", content)}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_session_upload_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users.town_officer)
    response = client.post("/api/v1/imports", {"kind": "people", "file": _file()})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert ImportJob.objects.count() == 0


def test_big_upload_answers_pending_and_runs_in_the_task(
    world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_INLINE_MAX_ROWS": 1}
    client = client_for("town_officer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports", {"kind": "people", "file": _file()})
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    body = client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert body["status"] == "done"
    assert body["created"] == 2


# --- one job ---------------------------------------------------------------------------------


def test_job_lists_are_paginated(world, job, client_for):
    body = client_for("grid_worker").get("/api/v1/imports?page_size=1").json()
    assert set(body) == {"count", "page", "page_size", "pages", "results"}
    assert body["count"] == 1
    assert body["results"][0]["id"] == job.pk
    assert body["results"][0]["summary"]


def test_bad_rows_come_with_reasons_and_original_cells(world, job, client_for):
    body = client_for("grid_worker").get(f"/api/v1/imports/{job.pk}/errors").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["row_number"] == 4
    assert row["kind"] == "invalid"
    assert "id_number" in row["errors"]
    assert row["reasons"][0].startswith("证件号码")
    cells = {c["header"]: c["value"] for c in row["cells"]}
    assert cells["姓名"] == "周三"
    assert cells["网格编码"] == GRID_A
    assert row["masked"] is False


def test_error_workbook_is_the_bad_rows_with_reasons(world, job, client_for):
    response = client_for("grid_worker").get(f"/api/v1/imports/{job.pk}/errors.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert _filename(response) == "名册_错误行.xlsx"
    header, *rows = _sheet(response.content)
    assert header == [*HEADER, "错误原因"]
    assert [r[0] for r in rows] == ["周三"]


def test_resume_of_a_finished_job_is_a_conflict(world, job, client_for):
    response = client_for("grid_worker").post(f"/api/v1/imports/{job.pk}/resume")
    assert response.status_code == 409
    assert response.json()["code"] == "not_resumable"


def test_resume_runs_an_interrupted_job_to_the_end(
    world, client_for, django_capture_on_commit_callbacks
):
    pending = services.import_job_create(
        actor=world.users.grid_worker, kind="people", upload=_file(), filename="名册.csv"
    )
    ImportJob.objects.filter(pk=pending.pk).update(status="interrupted")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("grid_worker").post(f"/api/v1/imports/{pending.pk}/resume")
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == "done"
    assert pending.created == 2


def test_rollback_undoes_the_import_once(world, job, client_for):
    client = client_for("grid_worker")
    response = client.post(f"/api/v1/imports/{job.pk}/rollback")
    assert response.status_code == 200
    assert response.json()["status"] == "rolled_back"
    assert not Person.objects.filter(name__startswith="周").exists()
    again = client.post(f"/api/v1/imports/{job.pk}/rollback")
    assert again.status_code == 409


# --- exports ---------------------------------------------------------------------------------


def _rows_of(response) -> list[dict[str, Any]]:
    header, *rows = _sheet(response.content)
    return [dict(zip(header, row, strict=False)) for row in rows]


def test_export_is_masked_without_a_reason(world, client_for):
    response = client_for("commander").get("/api/v1/people/export.xlsx?q=张建国")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert _filename(response).endswith(".xlsx")
    [row] = _rows_of(response)
    assert row["姓名"] == "张建国"
    assert row["证件号码"] != world.people.head.id_number
    assert "*" in row["证件号码"]
    assert row["手机号"] == "139****5678"


def test_export_with_a_reason_is_full_and_the_reason_is_audited(world, client_for):
    response = client_for("commander").get(
        "/api/v1/people/export.xlsx", {"q": "张建国", "reason": "核对返乡人员"}
    )
    assert response.status_code == 200
    [row] = _rows_of(response)
    assert row["证件号码"] == world.people.head.id_number
    assert row["手机号"] == world.people.head.phone
    event = AuditEvent.objects.get(verb="people.person.export")
    assert AuditReason.objects.get(event=event).text == "核对返乡人员"


def test_export_filters_by_division_and_scope(world, client_for):
    rows = _rows_of(client_for("commander").get("/api/v1/people/export.xlsx?division=610326101"))
    assert [r["姓名"] for r in rows] == ["王小明"]
    rows = _rows_of(client_for("other_grid_worker").get("/api/v1/people/export.xlsx"))
    assert [r["姓名"] for r in rows] == ["王小明"]


def test_leader_may_not_export_full_values(world, client_for):
    response = client_for("leader").get("/api/v1/people/export.xlsx?reason=领导查看")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not AuditEvent.objects.filter(verb="people.person.export").exists()


def test_household_export_with_bad_division_is_a_400(world, client_for):
    response = client_for("commander").get("/api/v1/households/export.xlsx?division=x")
    assert response.status_code == 400
    assert "division" in response.json()["errors"]
