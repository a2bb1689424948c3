"""`fangkong import` end to end (call_command), with the divisions importer."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.core.models import AuditEvent
from fangkong.geo.importers import DivisionImporter
from fangkong.geo.models import Division
from fangkong.imports.actors import SYSTEM_ACTOR
from fangkong.imports.models import ImportJob
from fangkong.imports.services import import_job_create, import_job_run

from .files import upload, write_csv, write_xlsx
from .test_services import HEADER, county_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_file_is_imported_with_progress_summary_and_bad_rows(tmp_path):
    path = write_xlsx(
        tmp_path / "county.xlsx",
        [
            ["眉县区划表"],
            HEADER,
            *county_rows(2, 2),
            ["610326108201", "孤村", "610326108"],
            ["61032610X", "坏代码", "610326"],
        ],
    )
    out, err = _run("divisions", str(path))
    assert "新建 7，更新 0，错误 2 行，无变化 0。" in out
    assert "第 10 行：上级代码：上级区划不存在" in out
    assert "第 11 行：区划代码：区划代码只能由数字组成" in out
    assert "导入 [##############################] 100%  9/9 行" in err
    assert "错误 2" in err
    assert "有 2 行未导入，其余已导入。" in err
    assert Division.objects.count() == 7
    job = ImportJob.objects.get()
    assert job.actor is None  # no superuser: the system


def test_the_second_run_says_nothing_changed(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 2)])
    _run("divisions", str(path))
    out, _err = _run("divisions", str(path))
    assert "无变化 4：系统中的数据无变化。" in out


def test_it_acts_as_the_first_superuser_or_the_named_user(tmp_path, users):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326107301", "新村", "610326107"]])
    _run("divisions", str(path))
    assert ImportJob.objects.get().actor == users.superuser
    _run("divisions", str(path), "--as", "hq")
    assert ImportJob.objects.latest("id").actor == users.commander
    with pytest.raises(CommandError, match="没有用户名为 nobody"):
        _run("divisions", str(path), "--as", "nobody")
    with pytest.raises(CommandError, match="无权导入行政区划"):
        _run("divisions", str(path), "--as", "town_a")


def test_a_dry_run_prints_the_counts_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 2)])
    out, _err = _run("divisions", str(path), "--dry-run")
    assert "试运行（未写入）：新建 4" in out
    assert not Division.objects.exists()


def test_a_refused_file_fails_the_command(tmp_path):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(CommandError, match="不是表格文件"):
        _run("divisions", str(path))
    path = write_csv(tmp_path / "x.csv", [["610326", "眉县", ""]])
    with pytest.raises(CommandError, match="缺少列"):
        _run("divisions", str(path))
    assert not ImportJob.objects.exists()


def test_usage_errors(tmp_path):
    with pytest.raises(CommandError, match="二选一"):
        _run("divisions")
    with pytest.raises(CommandError, match="找不到文件"):
        _run("divisions", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="不支持的导入类型 cars"):
        _run("cars", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="没有编号为 999 的导入任务"):
        _run("--resume", "999")


def test_national_import_of_meixian(tmp_path):
    out, _err = _run("divisions", "--national", "610326")
    assert "陕西省宝鸡市眉县（610326）：10 个镇（街道），97 个村（社区）；新建 108，更新 0。" in out
    assert Division.objects.get(code="610326107").name == "齐镇"
    with pytest.raises(CommandError, match="二选一"):
        _run("divisions", str(tmp_path / "d.csv"), "--national", "610326")


def test_an_interrupted_job_is_resumed_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setattr(DivisionImporter, "batch_size", 4)
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(2, 3)])
    with upload(path) as handle:
        job = import_job_create(
            actor=SYSTEM_ACTOR, kind="divisions", upload=handle, filename=path.name
        )

    def stop(current):
        if current.next_row == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_job_run(actor=SYSTEM_ACTOR, job=job, progress=stop)
    # A worker killed mid-run leaves the job "running" with a fresh heartbeat: a resume is
    # refused while the job may still be running elsewhere ...
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    with pytest.raises(CommandError, match="正在进行中"):
        _run("--resume", str(job.pk))
    assert Division.objects.count() == 4
    # ... and goes on once the heartbeat is stale.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))

    out, err = _run("--resume", str(job.pk))
    assert f"继续导入任务 #{job.pk}：从第 5 个数据行开始（共 9 行）" in err
    assert "新建 9，更新 0，错误 0 行" in out
    assert Division.objects.count() == 9
    with pytest.raises(CommandError, match="状态是“已完成”，无需继续"):
        _run("--resume", str(job.pk))


def test_rollback_from_the_command_line(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, *county_rows(1, 2)])
    _run("divisions", str(path))
    job = ImportJob.objects.get()
    out, _err = _run("--rollback", str(job.pk))
    assert f"导入任务 #{job.pk}：已撤销：撤回 4 条记录。" in out
    assert not Division.objects.exists()
    with pytest.raises(CommandError, match="已经撤销过了"):
        _run("--rollback", str(job.pk))


def test_the_error_file_option_writes_the_bad_rows(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326", "眉县", ""], ["6103X", "坏", ""]])
    target = tmp_path / "errors.xlsx"
    _out, err = _run("divisions", str(path), "--error-file", str(target))
    assert "错误行已写入" in err
    rows = list(CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).iter_rows())
    assert rows[0] == ["区划代码", "名称", "上级代码", "错误原因"]
    assert rows[1][:2] == ["6103X", "坏"]


def test_an_inactive_superuser_is_not_used(tmp_path, county):
    User.objects.create(username="old", role=Role.ADMIN, is_superuser=True, is_active=False)
    path = write_csv(tmp_path / "d.csv", [HEADER, ["610326107301", "新村", "610326107"]])
    _run("divisions", str(path))
    assert ImportJob.objects.get().actor is None


def test_national_import_as_the_superuser(users):
    out, _err = _run("divisions", "--national", "610326")
    # The fixtures' county, two towns and two villages were there (under other names).
    assert "新建 104，更新 4。" in out
    event = AuditEvent.objects.get(verb="geo.division.import_national")
    assert event.actor == users.superuser
