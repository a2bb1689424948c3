"""Import jobs: one row per uploaded file, and the bad rows it reported.

A job is run in committed batches; `next_row` counts the data rows committed so far, so a job
left interrupted (Ctrl-C, a killed worker, a database error) resumes where it stopped. The bad
rows hold the row as read, i.e. personal data: like the people tables they are shown only to
the job's actor and administrators, never written to logs or audit data.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("等待运行")
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        INTERRUPTED = "interrupted", _("已中断")
        ROLLED_BACK = "rolled_back", _("已撤销")

    kind = models.CharField(_("导入类型"), max_length=40)
    # NULL: the command line acting as the system (no user account).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    filename = models.CharField(_("文件名"), max_length=255)
    file = models.FileField(_("文件"), upload_to="imports/", max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # The run's options ({"division": "610326107"}) and what the engine found when it read the
    # header: "header" (column labels as read), "unknown_columns", "format".
    options = models.JSONField(_("选项"), default=dict, blank=True)
    dry_run = models.BooleanField(_("试运行"), default=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    next_row = models.PositiveIntegerField(_("已提交行数"), default=0)
    created = models.PositiveIntegerField(_("新建"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    error_rows = models.PositiveIntegerField(_("错误行"), default=0)
    conflicts = models.PositiveIntegerField(_("冲突行"), default=0)
    seconds = models.FloatField(_("用时（秒）"), default=0)
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Written with every committed batch: a "running" job whose heartbeat is older than
    # FANGKONG["IMPORT_STALE_SECONDS"] was left by a worker that died, and may be resumed.
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "created_at"], name="import_job_actor_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "running",
                        "done",
                        "failed",
                        "interrupted",
                        "rolled_back",
                    ]
                ),
                name="import_job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(next_row__lte=models.F("total_rows")),
                name="import_job_next_row_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"ImportJob#{self.pk} {self.kind}"

    @property
    def rows_per_s(self) -> float:
        """Rows processed per second of running time (0 before the first batch)."""
        if not self.seconds:
            return 0.0
        return self.next_row / self.seconds

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.next_row * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.ROLLED_BACK}

    @property
    def is_stale(self) -> bool:
        """Running, but no batch committed for a while: its worker is gone."""
        if self.status != self.Status.RUNNING:
            return False
        last = self.heartbeat_at or self.started_at
        limit = dt.timedelta(seconds=settings.FANGKONG["IMPORT_STALE_SECONDS"])
        return last is None or timezone.now() - last > limit

    @property
    def can_resume(self) -> bool:
        if self.status == self.Status.RUNNING:
            return self.is_stale
        return self.status in {
            self.Status.PENDING,
            self.Status.INTERRUPTED,
            self.Status.FAILED,
        }

    @property
    def can_rollback(self) -> bool:
        return not self.dry_run and self.status in {
            self.Status.PENDING,
            self.Status.DONE,
            self.Status.INTERRUPTED,
            self.Status.FAILED,
        }

    @property
    def all_unchanged(self) -> bool:
        """Nothing was created or updated: every good row was already there as the file has
        it (a re-import of the same file). Bad rows, if any, are reported as usual."""
        return (
            self.status == self.Status.DONE
            and self.unchanged > 0
            and not self.created
            and not self.updated
        )

    @property
    def summary(self) -> str:
        """One line for pages, the API and the command line."""
        text = gettext("新建 %(created)s，更新 %(updated)s，错误 %(errors)s 行") % {
            "created": self.created,
            "updated": self.updated,
            "errors": self.error_rows,
        }
        if self.conflicts:
            text += gettext("（其中冲突 %(n)s 行）") % {"n": self.conflicts}
        text += gettext("，无变化 %(n)s") % {"n": self.unchanged}
        if self.all_unchanged:
            text += gettext("：系统中的数据无变化")
        text += gettext("。")
        if self.dry_run:
            text = gettext("试运行（未写入）：") + text
        return text


class ImportRowError(models.Model):
    class Kind(models.TextChoices):
        INVALID = "invalid", _("数据有误")
        CONFLICT = "conflict", _("冲突")

    job = models.ForeignKey(
        ImportJob, verbose_name=_("导入任务"), on_delete=models.CASCADE, related_name="row_errors"
    )
    row_number = models.PositiveIntegerField(_("行号"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.INVALID)
    original = models.JSONField(_("原始数据"), default=list)
    errors = models.JSONField(_("错误"), default=dict)

    class Meta:
        verbose_name = _("导入错误行")
        verbose_name_plural = _("导入错误行")
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_row_error_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["invalid", "conflict"]), name="import_row_error_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"ImportRowError#{self.pk} job {self.job_id} row {self.row_number}"
