"""Import jobs: create (check and store the file), run or resume in committed batches, run in
the background, roll back. Used alike by the web page, the API, the task and the command line.

A run commits one batch of `importer.batch_size` rows at a time, together with the job's
counters, its resume point (`next_row`) and the batch's bad rows; a crash or Ctrl-C loses at
most the batch in flight and leaves the job "interrupted"/"failed", to be run again (it
resumes) or rolled back. A dry run runs every batch in one transaction that is rolled back at
the end: it reports exactly what a real run would do and leaves nothing behind but the job.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, NotFound, ValidationFailed

from .contracts import BatchResult, Importer, RowError, SourceRow, importer_for
from .models import ImportJob, ImportRowError
from .reading import Layout, forget_sheet, inspect, iter_source_rows, json_cell, refuse
from .selectors import import_job_error_workbook

logger = logging.getLogger(__name__)

Progress = Callable[[ImportJob], Any]
COUNTER_FIELDS = [
    "next_row",
    "created",
    "updated",
    "unchanged",
    "error_rows",
    "conflicts",
    "seconds",
]
KEPT_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".txt"}


def _limits() -> dict[str, int]:
    config = settings.FANGKONG
    return {
        "max_bytes": int(config["IMPORT_MAX_BYTES"]),
        "inline_rows": int(config["IMPORT_INLINE_MAX_ROWS"]),
        "max_columns": int(config["IMPORT_MAX_COLUMNS"]),
    }


def _importer_class(kind: str) -> type[Importer]:
    cls = importer_for(kind)
    if cls is None:
        raise ValidationFailed({"kind": [_("不支持的导入类型：%(kind)s") % {"kind": kind}]})
    return cls


def _actor_pk(actor: Any) -> Any:
    return getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None


def _check_access(actor: Any, job: ImportJob) -> None:
    """The job's own user, administrators and the system; anyone else sees nothing."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    if job.actor_id is not None and job.actor_id == _actor_pk(actor):
        return
    policy = getattr(actor, "policy", None)
    if getattr(actor, "is_superuser", False) or getattr(policy, "can_view_audit", False):
        return
    raise NotFound()


# --- create ---------------------------------------------------------------------------------


def _upload_size(upload: Any) -> int:
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        return size
    position = upload.tell()
    upload.seek(0, os.SEEK_END)
    size = upload.tell()
    upload.seek(position)
    return int(size)


def _chunks(upload: Any) -> Iterator[bytes]:
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
        return
    upload.seek(0)
    while chunk := upload.read(1 << 20):
        yield chunk


def _store(upload: Any, filename: str) -> tuple[str, str]:
    """Save the upload under MEDIA_ROOT/imports/ with a random name; returns (name, sha256)."""
    digest = hashlib.sha256()
    for chunk in _chunks(upload):
        digest.update(chunk)
    if hasattr(upload, "seek"):
        upload.seek(0)
    suffix = os.path.splitext(filename)[1].lower()
    name = f"imports/{uuid.uuid4().hex}{suffix if suffix in KEPT_SUFFIXES else ''}"
    content = upload if isinstance(upload, File) else File(upload, name=name)
    stored = default_storage.save(name, content)
    return stored, digest.hexdigest()


def _inspect_stored(name: str, cls: type[Importer], max_columns: int) -> Layout:
    with default_storage.open(name, "rb") as handle:
        return inspect(
            handle,
            columns=cls.columns,
            required_any=cls.required_any,
            max_columns=max_columns,
            keep_as=name,  # parsed once: a run in this process reads the kept sheet
        )


def import_job_create(
    *,
    actor: Any,
    kind: str,
    upload: Any,
    filename: str,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> ImportJob:
    """Check and store an upload as a pending job. Refuses (ValidationFailed on "kind", an
    option key or "file"; nothing written, no file kept) an unknown kind, bad options, a file
    over IMPORT_MAX_BYTES, a file that is not a spreadsheet, an empty sheet, missing required
    columns, too many columns, formula cells and a sheet without data rows.

    No transaction is open while the file is read (seconds for a big file: on SQLite, whose
    transactions take the write lock when they begin, that would lock every writer out); the
    job row and its audit event are written in one transaction at the end."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    cls = _importer_class(kind)
    options = dict(options or {})
    filename = os.path.basename(str(filename or getattr(upload, "name", "") or "upload"))[:255]
    probe = ImportJob(kind=kind, filename=filename, options=options, dry_run=dry_run)
    option_errors = cls(job=probe, actor=actor, options=options).check_options()
    if option_errors:
        raise ValidationFailed(option_errors)
    limits = _limits()
    size = _upload_size(upload)
    if size > limits["max_bytes"]:
        raise refuse(
            _("文件有 %(size)s MB，超过上传上限 %(max)s MB。请分成几个文件上传。")
            % {
                "size": f"{size / 1048576:.1f}",
                "max": f"{limits['max_bytes'] / 1048576:g}",
            }
        )
    if size == 0:
        raise refuse(_("文件是空的。"))

    stored, sha256 = _store(upload, filename)
    try:
        layout = _inspect_stored(stored, cls, limits["max_columns"])
        job = _save_new_job(
            actor=actor,
            kind=kind,
            stored=stored,
            filename=filename,
            size=size,
            sha256=sha256,
            options=options,
            layout=layout,
            dry_run=dry_run,
        )
    except (ValidationFailed, ValidationError, DatabaseError, OSError):
        forget_sheet()
        default_storage.delete(stored)
        raise
    return job


@transaction.atomic
def _save_new_job(
    *,
    actor: Any,
    kind: str,
    stored: str,
    filename: str,
    size: int,
    sha256: str,
    options: dict[str, Any],
    layout: Layout,
    dry_run: bool,
) -> ImportJob:
    job = ImportJob(
        kind=kind,
        actor_id=_actor_pk(actor),
        filename=filename,
        file=stored,
        size=size,
        sha256=sha256,
        options={
            **options,
            "layout": layout.as_dict(),
            "unknown_columns": list(layout.unknown),
        },
        dry_run=dry_run,
        total_rows=layout.total_rows,
        message=_unknown_note(layout.unknown) + _other_sheets_note(layout),
    )
    job.full_clean()
    job.save(force_insert=True)
    audit_record(
        actor=actor,
        verb="imports.job.create",
        target=job,
        data={
            "kind": kind,
            "rows": job.total_rows,
            "size": size,
            "dry_run": dry_run,
            "unknown_columns": len(layout.unknown),
        },
    )
    return job


def _other_sheets_note(layout: Layout) -> str:
    if not layout.other_sheets:
        return ""
    return _(
        "只导入了工作表“%(sheet)s”；工作表 %(others)s 也像名册，未导入，请另存为单独的文件分别上传。"
    ) % {"sheet": layout.sheet, "others": "、".join(f"“{n}”" for n in layout.other_sheets)}


def _unknown_note(unknown: list[str]) -> str:
    if not unknown:
        return ""
    return _("以下列未能识别，未导入：%(columns)s。") % {"columns": "、".join(unknown)}


# --- run ------------------------------------------------------------------------------------


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    batch: list[SourceRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _row_errors(job: ImportJob, errors: list[RowError]) -> list[ImportRowError]:
    """One ImportRowError per bad row: reasons of the same row merged, conflict wins."""
    merged: dict[int, ImportRowError] = {}
    for error in errors:
        number = error.row.number
        entry = merged.get(number)
        if entry is None:
            entry = merged[number] = ImportRowError(
                job=job,
                row_number=number,
                kind=ImportRowError.Kind.INVALID,
                original=[json_cell(cell) for cell in error.row.original],
                errors={},
            )
        for key, messages in error.errors.items():
            bucket = entry.errors.setdefault(str(key), [])
            bucket.extend(str(m) for m in messages if str(m) not in bucket)
        if error.kind == ImportRowError.Kind.CONFLICT:
            entry.kind = ImportRowError.Kind.CONFLICT
    return list(merged.values())


def _count(job: ImportJob, batch: list[SourceRow], result: BatchResult) -> list[ImportRowError]:
    bad = _row_errors(job, result.errors)
    job.next_row += len(batch)
    job.created += result.created
    job.updated += result.updated
    job.unchanged += result.unchanged
    job.error_rows += len(bad)
    job.conflicts += sum(1 for e in bad if e.kind == ImportRowError.Kind.CONFLICT)
    return bad


def _failure_message(job: ImportJob, exc: BaseException | None, status: str) -> str:
    """Why a run stopped, without any cell value (no personal data)."""
    done = job.next_row
    if status == ImportJob.Status.INTERRUPTED:
        text = _("导入被中断。")
    elif isinstance(exc, DatabaseError):
        text = _("写入数据库时出错（%(error)s），出错的这一批已整批撤回。") % {
            "error": type(exc).__name__
        }
    elif isinstance(exc, OSError):
        text = _("读取上传的文件时出错（%(error)s）。") % {"error": type(exc).__name__}
    else:
        text = _("导入程序出错（%(error)s）。") % {"error": type(exc).__name__}
    if job.dry_run:
        return text + _("试运行未写入任何数据，可重新运行。")
    return text + _(
        "已提交 %(done)s / %(total)s 行；可重新运行（从第 %(next)s 个数据行继续）或撤销本次导入。"
    ) % {"done": done, "total": job.total_rows, "next": done + 1}


def _stop(
    actor: Any, job: ImportJob, status: str, exc: BaseException | None, started: float
) -> None:
    job.status = status
    job.seconds += time.monotonic() - started
    note = _unknown_note(list(job.options.get("unknown_columns") or []))
    job.message = _failure_message(job, exc, status) + (" " + note if note else "")
    if job.dry_run:
        for name in COUNTER_FIELDS:
            if name != "seconds":
                setattr(job, name, 0)
    job.save(update_fields=["status", "message", *COUNTER_FIELDS])
    audit_record(
        actor=actor,
        verb="imports.job.stop",
        target=job,
        data={"status": status, "next_row": job.next_row, "dry_run": job.dry_run},
    )
    logger.warning(
        "import job %s stopped: %s (%s)", job.pk, status, type(exc).__name__ if exc else "-"
    )


def _claim(job: ImportJob) -> None:
    """Take the job for this run, in one UPDATE: a job that another worker is running (its
    heartbeat is fresh) is refused, so a job never runs twice at once."""
    now = timezone.now()
    fresh = now - dt.timedelta(seconds=settings.FANGKONG["IMPORT_STALE_SECONDS"])
    claimed = (
        ImportJob.objects.filter(pk=job.pk)
        .exclude(status=ImportJob.Status.RUNNING, heartbeat_at__gte=fresh)
        .update(status=ImportJob.Status.RUNNING, heartbeat_at=now)
    )
    if not claimed:
        raise Conflict(_("该导入正在进行中，请稍后再试。"), code="imports.job.running")
    job.heartbeat_at = now


def _run_batches(
    job: ImportJob,
    importer: Importer,
    rows: Iterator[SourceRow],
    progress: Progress | None,
) -> None:
    """A real run: one committed transaction per batch, bookkeeping included."""
    base_seconds, started = job.seconds, time.monotonic()
    for batch in _batches(rows, type(importer).batch_size):
        with transaction.atomic():
            result = importer.process_batch(batch)
            bad = _count(job, batch, result)
            job.seconds = base_seconds + time.monotonic() - started
            job.heartbeat_at = timezone.now()
            job.save(update_fields=[*COUNTER_FIELDS, "heartbeat_at"])
            if bad:
                ImportRowError.objects.bulk_create(bad)
        if progress is not None:
            progress(job)


def _run_dry(
    job: ImportJob,
    importer: Importer,
    rows: Iterator[SourceRow],
    progress: Progress | None,
) -> list[ImportRowError]:
    """A dry run: every batch in one transaction, rolled back at the end."""
    base_seconds, started = job.seconds, time.monotonic()
    bad_rows: list[ImportRowError] = []
    with transaction.atomic():
        for batch in _batches(rows, type(importer).batch_size):
            with transaction.atomic():  # a failing batch fails as it would in a real run
                result = importer.process_batch(batch)
            bad_rows.extend(_count(job, batch, result))
            job.seconds = base_seconds + time.monotonic() - started
            if progress is not None:
                progress(job)
        transaction.set_rollback(True)
    return bad_rows


def import_job_run(*, actor: Any, job: ImportJob, progress: Progress | None = None) -> ImportJob:
    """Run a pending job, or resume an interrupted/failed one (or one a killed worker left
    running) from its next_row. A finished job is returned as it is, so a task that runs
    twice does no harm. `progress(job)` is called after each committed batch."""
    _check_access(actor, job)
    job.refresh_from_db()
    if job.status in {ImportJob.Status.DONE, ImportJob.Status.ROLLED_BACK}:
        return job
    _claim(job)
    cls = _importer_class(job.kind)
    importer = cls(job=job, actor=actor, options=job.options)
    layout = Layout.from_dict(job.options["layout"])
    if job.dry_run:
        job.next_row = job.created = job.updated = job.unchanged = 0
        job.error_rows = job.conflicts = 0
        job.seconds = 0
        job.row_errors.all().delete()
    job.status = ImportJob.Status.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.finished_at = None
    job.save(update_fields=["status", "started_at", "finished_at", *COUNTER_FIELDS])
    if progress is not None:
        progress(job)

    started = time.monotonic()
    finished = False
    bad_rows: list[ImportRowError] = []
    # The rows make millions of short-lived objects without reference cycles: the cyclic
    # garbage collector would only walk them again and again. Off while the rows run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with job.file.storage.open(job.file.name, "rb") as handle:
            rows = iter_source_rows(
                handle, layout, cls.columns, skip=job.next_row, kept_as=job.file.name
            )
            if job.dry_run:
                bad_rows = _run_dry(job, importer, rows, progress)
            else:
                _run_batches(job, importer, rows, progress)
        finished = True
    except KeyboardInterrupt:
        finished = True
        _stop(actor, job, ImportJob.Status.INTERRUPTED, None, started)
        raise
    except (DatabaseError, OSError) as exc:
        finished = True
        _stop(actor, job, ImportJob.Status.FAILED, exc, started)
        return job
    finally:
        if collecting:
            gc.enable()
        if not finished:  # a bug in an importer: leave the job resumable, let the error show
            _stop(actor, job, ImportJob.Status.FAILED, sys.exception(), started)

    _finish(actor, job, bad_rows)
    return job


@transaction.atomic
def _finish(actor: Any, job: ImportJob, bad_rows: list[ImportRowError]) -> None:
    if bad_rows:  # a dry run's bad rows, kept after its rollback
        ImportRowError.objects.bulk_create(bad_rows, batch_size=1000)
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.next_row = job.total_rows if job.dry_run else job.next_row
    job.save(update_fields=["status", "finished_at", *COUNTER_FIELDS])
    audit_record(
        actor=actor,
        verb="imports.job.run",
        target=job,
        data={
            "kind": job.kind,
            "dry_run": job.dry_run,
            "rows": job.next_row,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "errors": job.error_rows,
            "conflicts": job.conflicts,
        },
    )


# --- background, start, rollback ------------------------------------------------------------


@transaction.atomic
def import_job_enqueue(*, actor: Any, job: ImportJob) -> ImportJob:
    """Run the job in the task worker, after the current transaction commits."""
    _check_access(actor, job)
    if job.status in {ImportJob.Status.DONE, ImportJob.Status.ROLLED_BACK}:
        raise Conflict(_("该导入任务已结束，不能再次运行。"), code="imports.job_finished")
    from .tasks import import_job_run_task

    forget_sheet()  # the worker reads the file itself
    job_id = job.pk
    transaction.on_commit(lambda: import_job_run_task.enqueue(job_id=job_id))
    audit_record(actor=actor, verb="imports.job.enqueue", target=job, data={"rows": job.total_rows})
    return job


def import_job_start(
    *,
    actor: Any,
    kind: str,
    upload: Any,
    filename: str,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> ImportJob:
    """Create the job, then run it at once when it is small (IMPORT_INLINE_MAX_ROWS) or hand
    it to the task worker. The web page and the API call this."""
    job = import_job_create(
        actor=actor, kind=kind, upload=upload, filename=filename, options=options, dry_run=dry_run
    )
    if job.total_rows <= _limits()["inline_rows"]:
        return import_job_run(actor=actor, job=job)
    return import_job_enqueue(actor=actor, job=job)


@transaction.atomic
def import_job_rollback(*, actor: Any, job: ImportJob) -> ImportJob:
    """Undo what the job wrote (the importer decides what can be undone safely)."""
    _check_access(actor, job)
    # One rollback at a time: lock the job's row, then read it fresh.
    list(ImportJob.objects.select_for_update().filter(pk=job.pk).values_list("pk", flat=True))
    job.refresh_from_db()
    if job.dry_run:
        raise Conflict(_("试运行没有写入任何数据，无需撤销。"), code="imports.dry_run")
    if job.status == ImportJob.Status.RUNNING:
        raise Conflict(
            _(
                "该导入正在运行，不能撤销。若运行它的进程已经停止，请先重新运行（续传）完成后再撤销。"
            ),
            code="imports.job_running",
        )
    if job.status == ImportJob.Status.ROLLED_BACK:
        raise Conflict(_("该导入已经撤销过了。"), code="imports.job_rolled_back")
    cls = _importer_class(job.kind)
    undone = cls(job=job, actor=actor, options=job.options).rollback()
    job.status = ImportJob.Status.ROLLED_BACK
    job.finished_at = timezone.now()
    job.message = _("已撤销：撤回 %(n)s 条记录。") % {"n": undone}
    job.save(update_fields=["status", "finished_at", "message"])
    audit_record(actor=actor, verb="imports.job.rollback", target=job, data={"undone": undone})
    return job


@transaction.atomic
def import_job_errors_export(*, actor: Any, job: ImportJob) -> bytes:
    """The job's bad rows as an .xlsx to fix and upload again, audited as an export of
    personal data (ids and counts only in the audit)."""
    _check_access(actor, job)
    content = import_job_error_workbook(job=job)
    audit_record(
        actor=actor,
        verb="imports.job.errors_export",
        target=job,
        data={"kind": job.kind, "rows": job.error_rows},
    )
    return content
