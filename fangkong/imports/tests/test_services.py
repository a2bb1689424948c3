"""The engine with the divisions importer: jobs, batches, resume, rollback, dry run, refusals,
the error file, the background task."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.geo.importers import DivisionImporter
from fangkong.geo.models import Division
from fangkong.imports.actors import SYSTEM_ACTOR
from fangkong.imports.contracts import REGISTRY, BatchResult, Column, Importer, register
from fangkong.imports.models import ImportJob
from fangkong.imports.selectors import (
    access_import_job_by_id,
    import_job_error_workbook,
    import_job_list,
)
from fangkong.imports.services import (
    import_job_create,
    import_job_enqueue,
    import_job_rollback,
    import_job_run,
    import_job_start,
)
from fangkong.imports.tasks import import_job_run_task

from .conftest import stored_files
from .files import upload, write_csv, write_xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

HEADER = ["区划代码", "名称", "上级代码"]


def county_rows(towns: int = 3, villages: int = 3) -> list[list[str]]:
    """眉县 + `towns` towns + `villages` villages each, parents before children."""
    rows = [["610326", "眉县", ""]]
    for t in range(1, towns + 1):
        town = f"610326{100 + t:03d}"
        rows.append([town, f"镇{t}", "610326"])
        for v in range(1, villages + 1):
            rows.append([f"{town}{200 + v:03d}", f"村{t}-{v}", town])
    return rows


def _create(path: Path, actor=SYSTEM_ACTOR, kind="divisions", **kwargs) -> ImportJob:
    with upload(path) as handle:
        return import_job_create(
            actor=actor, kind=kind, upload=handle, filename=path.name, **kwargs
        )


def _import(path: Path, actor=SYSTEM_ACTOR, progress=None, **kwargs) -> ImportJob:
    job = _create(path, actor=actor, **kwargs)
    return import_job_run(actor=actor, job=job, progress=progress)


def _counts(job: ImportJob) -> tuple[int, ...]:
    return (job.created, job.updated, job.unchanged, job.error_rows, job.conflicts, job.next_row)


def _errors(job: ImportJob) -> dict[int, dict]:
    return {e.row_number: e.errors for e in job.row_errors.all()}


# --- a plain run ----------------------------------------------------------------------------


def test_an_import_creates_the_rows_and_records_the_job(tmp_path):
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows()])
    job = _import(path)
    assert job.status == ImportJob.Status.DONE
    assert _counts(job) == (13, 0, 0, 0, 0, 13)
    assert job.total_rows == 13
    assert job.progress_percent == 100
    assert job.actor is None  # the command line's system actor
    assert Division.objects.count() == 13
    village = Division.objects.get(code="610326101201")
    assert (village.level, village.parent_id, village.full_name) == (
        2,
        "610326101",
        "眉县/镇1/村1-1",
    )
    assert village.import_job == job
    assert job.summary == "新建 13，更新 0，错误 0 行，无变化 0。"
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["imports.job.create", "geo.division.import", "imports.job.run"]
    assert job.sha256
    assert job.size == path.stat().st_size
    assert job.file.name.startswith("imports/")
    assert job.filename == "county.xlsx"


def test_reimporting_the_same_file_changes_nothing_and_says_so(tmp_path):
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows()])
    _import(path)
    again = _import(path)
    assert _counts(again) == (0, 0, 13, 0, 0, 13)
    assert again.all_unchanged
    assert "无变化" in again.summary
    assert "系统中的数据无变化" in again.summary
    assert not Division.objects.filter(import_job=again).exists()


def test_a_changed_name_is_an_update_and_children_follow(tmp_path):
    _import(write_xlsx(tmp_path / "a.xlsx", [HEADER, *county_rows()]))
    changed = write_csv(tmp_path / "b.csv", [HEADER, ["610326101", "齐镇", "610326"]])
    job = _import(changed)
    assert _counts(job) == (0, 1, 0, 0, 0, 1)
    assert Division.objects.get(code="610326101201").full_name == "眉县/齐镇/村1-1"


def test_bad_rows_are_reported_and_good_rows_saved(tmp_path):
    rows = [
        HEADER,
        ["610326", "眉县", ""],  # row 2
        ["610326101", "横渠镇", "610326"],  # row 3
        ["61032610X", "坏代码", "610326"],  # row 4: not digits
        ["610326101201", "", "610326101"],  # row 5: no name
        ["610326108201", "孤村", "610326108"],  # row 6: unknown parent
        ["610327101201", "错挂", "610326101"],  # row 7: does not start with its parent
        ["6103261012011", "多一位", "610326101"],  # row 8: wrong length for a village
        ["610326101202", "横渠村", ""],  # row 9: parent from the code
    ]
    job = _import(write_xlsx(tmp_path / "d.xlsx", rows))
    assert _counts(job) == (3, 0, 0, 5, 0, 8)
    errors = _errors(job)
    assert errors[4] == {"code": ["区划代码只能由数字组成"]}
    assert errors[5] == {"name": ["名称不能为空"]}
    assert errors[6] == {"parent_code": ["上级区划不存在"]}
    assert errors[7] == {"code": ["下级代码必须以上级代码开头并且更长"]}
    assert errors[8] == {"code": ["村/社区（中网格）的代码应为12位"]}
    assert job.row_errors.get(row_number=6).original == ["610326108201", "孤村", "610326108"]
    assert Division.objects.get(code="610326101202").parent_id == "610326101"


def test_cleaning_problems_are_reported_with_the_importers_own(tmp_path):
    path = write_xlsx(
        tmp_path / "d.xlsx",
        [HEADER, ["610326", "眉县", None], [6.10326101201234e17, "", 610326]],
    )
    job = _import(path)
    assert _errors(job)[3] == {
        "code": ["Excel 已把区划代码存成数字，末位已丢失，请把该列设为文本后重新填写"],
        "name": ["名称不能为空"],
    }


def test_unknown_columns_are_reported_on_the_job(tmp_path):
    path = write_xlsx(
        tmp_path / "d.xlsx", [[*HEADER, "人口数", "备注"], ["610326", "眉县", "", 300000, "县城"]]
    )
    job = _create(path)
    assert job.options["unknown_columns"] == ["人口数", "备注"]
    assert "人口数、备注" in job.message


def test_other_roster_sheets_are_not_read_silently(tmp_path):
    path = write_xlsx(
        tmp_path / "d.xlsx",
        [HEADER, ["610326", "眉县", ""]],
        sheets_before=[
            ("说明", [["请按表头填写"]]),
            ("一组", [HEADER[:2], ["610326101", "横渠镇"]]),
        ],
    )
    job = _create(path)
    assert job.options["layout"]["sheet"] == "名册"  # the sheet with most known columns
    assert "工作表 “一组” 也像名册，未导入" in job.message


# --- refusals -------------------------------------------------------------------------------


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _refused(tmp_path, media, path, field="file", actor=SYSTEM_ACTOR, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as caught:
        _create(path, actor=actor, **kwargs)
    assert list(caught.value.errors) == [field]
    assert not ImportJob.objects.exists()
    assert not AuditEvent.objects.exists()
    assert stored_files(media) == []
    return str(caught.value.errors[field][0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _write(p, b"\x89PNG\r\n\x1a\n" + bytes(200)), "不是表格文件"),
        (lambda p: _write(p, bytes(range(256)) * 8), "不是表格文件"),
        (lambda p: _write(p, b""), "文件是空的"),
        (lambda p: write_xlsx(p, []), "表格是空的"),
        (lambda p: write_xlsx(p, [HEADER]), "没有数据行"),
        (lambda p: write_xlsx(p, [["上级代码", "备注"], ["610326", "x"]]), "缺少列"),
        (lambda p: write_xlsx(p, [HEADER, ["610326", "眉县", *range(500)]]), "第 2 行有 502 列"),
        (
            lambda p: write_xlsx(p, [HEADER, ["610326", "眉县", ""]], formulas={(1, 2): "=1+1"}),
            "单元格 C2 是公式",
        ),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(tmp_path, media, make, message):
    path = make(tmp_path / "upload.xlsx")
    assert message in _refused(tmp_path, media, path)


def test_the_missing_columns_are_named_in_chinese(tmp_path, media):
    path = write_csv(tmp_path / "d.csv", [["代码"], ["610326"]])
    assert "需要 “区划代码”和“名称”" in _refused(tmp_path, media, path)


def test_an_upload_over_the_size_limit_is_refused_before_reading(tmp_path, media, settings):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_MAX_BYTES": 1000}
    path = tmp_path / "big.csv"
    path.write_bytes(b"\x00" * 1001)  # not even a spreadsheet: the size is checked first
    assert "超过上传上限" in _refused(tmp_path, media, path)


def test_an_unknown_kind_is_refused(tmp_path, media):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326", "眉县", ""]])
    assert "不支持的导入类型" in _refused(tmp_path, media, path, field="kind", kind="cars")


def test_a_role_that_may_not_edit_divisions_is_refused(tmp_path, media, users):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326107301", "新村", "610326107"]])
    with pytest.raises(Forbidden):
        _create(path, actor=users.town_officer)
    assert not ImportJob.objects.exists()
    assert stored_files(media) == []


# --- batches, interruption, resume ------------------------------------------------------------


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(DivisionImporter, "batch_size", 5)


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_import_keeps_its_committed_batches_and_resumes(tmp_path, small_batches):
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows(towns=3, villages=3)])
    job = _create(path)
    seen: list[int] = []

    def stop_after_first_batch(current: ImportJob) -> None:
        seen.append(current.next_row)
        if current.next_row == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_job_run(actor=SYSTEM_ACTOR, job=job, progress=stop_after_first_batch)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INTERRUPTED
    assert (job.next_row, job.created) == (5, 5)
    assert "已提交 5 / 13 行" in job.message
    assert Division.objects.count() == 5  # the first batch is committed, nothing else
    assert job.can_resume
    assert job.can_rollback

    job = import_job_run(actor=SYSTEM_ACTOR, job=job, progress=lambda j: seen.append(j.next_row))
    assert job.status == ImportJob.Status.DONE
    assert _counts(job) == (13, 0, 0, 0, 0, 13)
    assert seen == [0, 5, 5, 10, 13]
    assert Division.objects.count() == 13


def test_a_job_another_worker_is_running_is_not_run_twice_until_its_heartbeat_goes_stale(
    tmp_path, settings
):
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows(towns=1, villages=1)])
    job = _create(path)
    # given: a worker claimed the job a moment ago and is still committing batches
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    assert not job.can_resume
    # when / then: a second run is refused and writes nothing
    with pytest.raises(Conflict):
        import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert Division.objects.count() == 0
    # given: the worker died; its heartbeat is older than the limit
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_STALE_SECONDS": 60}
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(minutes=5)
    )
    job.refresh_from_db()
    assert job.is_stale
    assert job.can_resume
    # when: resumed, it runs to the end
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert job.status == ImportJob.Status.DONE
    assert Division.objects.count() == job.created > 0
    assert job.heartbeat_at is not None


@pytest.fixture
def clashing_importer():
    """An importer that inserts without looking first: a code that already exists makes the
    database refuse the batch (a real IntegrityError, as a concurrent writer would cause)."""

    @register
    class ClashingImporter(Importer):
        kind = "test_clash"
        label = "test"
        columns = (Column("code", "区划代码", (), "number_text"), Column("name", "名称"))
        required_any = (("code",),)
        batch_size = 2

        def process_batch(self, rows):
            Division.objects.bulk_create(
                [Division(code=r.values["code"], name=r.values["name"], level=0) for r in rows]
            )
            return BatchResult(created=len(rows))

        def rollback(self):
            return 0

    yield ClashingImporter
    REGISTRY.pop("test_clash")


def test_a_database_error_rolls_back_only_its_batch(tmp_path, clashing_importer):
    rows = [["区划代码", "名称"], *[[f"61032{i}", f"县{i}"] for i in range(6)]]
    Division.objects.create(code="610323", name="先到的", level=0)
    job = _create(write_xlsx(tmp_path / "c.xlsx", rows), kind="test_clash")
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert job.status == ImportJob.Status.FAILED
    assert (job.next_row, job.created) == (2, 2)
    assert "IntegrityError" in job.message
    assert "已提交 2 / 6 行" in job.message
    assert "610323" not in job.message
    assert "先到的" not in job.message
    assert set(Division.objects.values_list("code", flat=True)) == {"610320", "610321", "610323"}

    Division.objects.filter(code="610323").delete()  # the cause is removed; run it again
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert job.status == ImportJob.Status.DONE
    assert job.created == 6
    assert Division.objects.count() == 6


def test_a_bug_in_an_importer_fails_the_job_and_shows(tmp_path, clashing_importer, monkeypatch):
    def broken(self, rows):
        raise ValueError("bug")

    monkeypatch.setattr(clashing_importer, "process_batch", broken)
    job = _create(
        write_csv(tmp_path / "c.csv", [["区划代码", "名称"], ["610320", "县"]]), kind="test_clash"
    )
    with pytest.raises(ValueError, match="bug"):
        import_job_run(actor=SYSTEM_ACTOR, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "导入程序出错（ValueError）" in job.message
    assert job.can_resume


def test_a_finished_job_is_not_run_twice(tmp_path):
    job = _import(write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 1)]))
    again = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert _counts(again) == _counts(job)
    assert AuditEvent.objects.filter(verb="imports.job.run").count() == 1


# --- dry run ----------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_reports_what_a_real_run_does(tmp_path, small_batches):
    rows = [*county_rows(towns=2, villages=3), ["610326108201", "孤村", "610326108"]]
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *rows])
    dry = _import(path, dry_run=True)
    assert dry.status == ImportJob.Status.DONE
    assert not Division.objects.exists()
    assert dry.summary.startswith("试运行（未写入）：")
    assert set(AuditEvent.objects.values_list("verb", flat=True)) == {
        "imports.job.create",
        "imports.job.run",
    }

    real = _import(path)
    assert _counts(dry) == _counts(real) == (9, 0, 0, 1, 0, 10)
    assert _errors(dry) == _errors(real) == {11: {"parent_code": ["上级区划不存在"]}}
    assert Division.objects.count() == 9


def test_an_interrupted_dry_run_leaves_nothing_and_runs_again(tmp_path, small_batches):
    path = write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows(towns=2, villages=3)])
    job = _create(path, dry_run=True)

    def stop(current):
        if current.next_row == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_job_run(actor=SYSTEM_ACTOR, job=job, progress=stop)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INTERRUPTED
    assert _counts(job) == (0, 0, 0, 0, 0, 0)
    assert not Division.objects.exists()
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert _counts(job) == (9, 0, 0, 0, 0, 9)
    assert not Division.objects.exists()


def test_a_job_whose_file_is_gone_fails_with_a_message(tmp_path):
    job = _create(write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 1)]))
    job.file.storage.delete(job.file.name)
    job = import_job_run(actor=SYSTEM_ACTOR, job=job)
    assert job.status == ImportJob.Status.FAILED
    assert "读取上传的文件时出错" in job.message
    assert not Division.objects.exists()


def test_a_dry_run_cannot_be_rolled_back(tmp_path):
    dry = _import(write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 1)]), dry_run=True)
    with pytest.raises(Conflict):
        import_job_rollback(actor=SYSTEM_ACTOR, job=dry)


# --- rollback ---------------------------------------------------------------------------------


def test_rollback_deletes_what_the_job_created_unless_something_uses_it(tmp_path):
    job = _import(write_xlsx(tmp_path / "county.xlsx", [HEADER, *county_rows(2, 2)]))
    village = Division.objects.get(code="610326102201")
    User.objects.create(username="cadre", role=Role.VILLAGE_OFFICER, jurisdiction=village)

    job = import_job_rollback(actor=SYSTEM_ACTOR, job=job)
    assert job.status == ImportJob.Status.ROLLED_BACK
    # The used village stays with its town and county; everything else is gone.
    assert set(Division.objects.values_list("code", flat=True)) == {
        "610326",
        "610326102",
        "610326102201",
    }
    assert "撤回 4 条记录" in job.message
    assert AuditEvent.objects.filter(verb="imports.job.rollback").count() == 1
    with pytest.raises(Conflict):
        import_job_rollback(actor=SYSTEM_ACTOR, job=job)


def test_rollback_keeps_divisions_the_job_did_not_create(tmp_path):
    first = _import(write_csv(tmp_path / "a.csv", [HEADER, *county_rows(1, 1)]))
    second = _import(write_csv(tmp_path / "b.csv", [HEADER, ["610326101202", "新村", ""]]))
    assert second.created == 1
    import_job_rollback(actor=SYSTEM_ACTOR, job=second)
    assert Division.objects.count() == 3
    import_job_rollback(actor=SYSTEM_ACTOR, job=first)
    assert not Division.objects.exists()


# --- the error file ---------------------------------------------------------------------------


def _sheet_rows(content: bytes) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return [list(r) for r in book.get_sheet_by_index(0).iter_rows()]


def test_the_error_workbook_reimports_after_fixing(tmp_path):
    rows = [
        ["眉县区划表"],
        ["序号", *HEADER, "备注"],
        [1, "610326", "眉县", "", ""],
        [2, "610326101", "横渠镇", "610326", ""],
        [3, "61032610X", "坏代码", "610326", "核对"],
        [4, "610326101201", "", "610326101", ""],
    ]
    job = _import(write_xlsx(tmp_path / "d.xlsx", rows))
    assert job.error_rows == 2
    content = import_job_error_workbook(job=job)
    sheet = _sheet_rows(content)
    assert sheet[0] == [*HEADER, "备注", "错误原因"]
    assert sheet[1][:4] == ["61032610X", "坏代码", "610326", "核对"]
    assert sheet[1][4] == "原第 5 行；区划代码：区划代码只能由数字组成"
    assert sheet[2][4] == "原第 6 行；名称：名称不能为空"

    # The user fixes the two rows in the error file and uploads it as it is.
    fixed = [list(sheet[0]), ["610326102", "金渠镇", "610326", "核对", sheet[1][4]]]
    fixed.append(["610326101201", "横渠村", "610326101", "", sheet[2][4]])
    again = _import(write_xlsx(tmp_path / "fixed.xlsx", fixed))
    assert _counts(again) == (2, 0, 0, 0, 0, 2)
    assert again.options["unknown_columns"] == ["备注"]


# --- start, background task -------------------------------------------------------------------


def test_a_small_upload_runs_at_once(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 1)])
    with upload(path) as handle:
        job = import_job_start(
            actor=SYSTEM_ACTOR, kind="divisions", upload=handle, filename=path.name
        )
    assert job.status == ImportJob.Status.DONE


def test_a_big_upload_runs_in_the_task_worker(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_INLINE_MAX_ROWS": 2}
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 2)])
    with django_capture_on_commit_callbacks() as callbacks, upload(path) as handle:
        job = import_job_start(
            actor=SYSTEM_ACTOR, kind="divisions", upload=handle, filename=path.name
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    callbacks[0]()  # the commit happened: the task is enqueued (ImmediateBackend runs it)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.created == 4
    assert AuditEvent.objects.filter(verb="imports.job.enqueue").count() == 1


def test_the_task_reruns_harmlessly_and_runs_as_the_jobs_user(tmp_path, users):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326107301", "新村", "610326107"]])
    job = _create(path, actor=users.commander)
    result = import_job_run_task.enqueue(job_id=job.pk)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["status"] == "done"
    job.refresh_from_db()
    assert job.created == 1
    run = AuditEvent.objects.get(verb="imports.job.run")
    assert run.actor_id == users.commander.pk
    again = import_job_run_task.enqueue(job_id=job.pk)
    assert again.return_value["status"] == "done"
    assert AuditEvent.objects.filter(verb="imports.job.run").count() == 1


def test_enqueue_after_commit(tmp_path, django_capture_on_commit_callbacks):
    job = _create(write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 1)]))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        import_job_enqueue(actor=SYSTEM_ACTOR, job=job)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.PENDING
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


# --- who sees a job ---------------------------------------------------------------------------


def test_jobs_are_seen_by_their_user_and_administrators_only(tmp_path, users):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326107301", "新村", "610326107"]])
    job = _import(path, actor=users.commander)
    assert list(import_job_list(viewer=users.commander)) == [job]
    assert list(import_job_list(viewer=users.admin)) == [job]
    assert list(import_job_list(viewer=users.superuser)) == [job]
    assert list(import_job_list(viewer=users.town_officer)) == []
    assert access_import_job_by_id(viewer=users.commander, job_id=job.pk) == job
    for outsider in (users.town_officer, users.leader):
        with pytest.raises(NotFound):
            access_import_job_by_id(viewer=outsider, job_id=job.pk)
        with pytest.raises(NotFound):
            import_job_rollback(actor=outsider, job=job)
    with pytest.raises(NotFound):
        access_import_job_by_id(viewer=users.commander, job_id=job.pk + 1)
    assert Division.objects.filter(code="610326107301").exists()


def test_the_job_list_costs_one_query(tmp_path, users, django_assert_num_queries):
    for name in ("a", "b"):
        _import(
            write_csv(tmp_path / f"{name}.csv", [HEADER, ["610326107301", "新村", ""]]),
            actor=users.commander,
        )
    with django_assert_num_queries(1):
        jobs = list(import_job_list(viewer=users.admin))
        assert {j.actor.username for j in jobs} == {"hq"}
