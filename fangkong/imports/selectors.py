"""Reads of import jobs. A job, its bad rows and its error file hold personal data: only the
job's own user and administrators (policy.can_view_audit, superusers) see them; for anyone
else a job does not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fangkong.core.exceptions import NotFound

from .actors import SYSTEM_ACTOR
from .contracts import importer_for
from .errorfile import build_error_workbook
from .models import ImportJob, ImportRowError


def _sees_all(viewer: Any) -> bool:
    policy = getattr(viewer, "policy", None)
    return bool(getattr(viewer, "is_superuser", False) or getattr(policy, "can_view_audit", False))


def import_job_list(*, viewer: Any) -> QuerySet[ImportJob]:
    """The viewer's own jobs, newest first; every job for administrators."""
    jobs = ImportJob.objects.select_related("actor").order_by("-created_at", "-id")
    if not getattr(viewer, "is_authenticated", False):
        return jobs.none()
    if _sees_all(viewer):
        return jobs
    if getattr(viewer, "pk", None) is None:
        return jobs.none()
    return jobs.filter(actor_id=viewer.pk)


def access_import_job_by_id(*, viewer: Any, job_id: Any) -> ImportJob:
    """The job if the viewer may see it; NotFound for a missing job and for someone else's."""
    try:
        job_pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    job = import_job_list(viewer=viewer).filter(pk=job_pk).first()
    if job is None:
        raise NotFound()
    return job


def import_job_get(*, job_id: int) -> ImportJob | None:
    """A job by id without a viewer: for the task worker and the command line (the system)."""
    return ImportJob.objects.select_related("actor").filter(pk=job_id).first()


def import_job_actor(*, job: ImportJob) -> Any:
    """Who a background run acts as: the job's user, or the system for command-line jobs."""
    return job.actor if job.actor_id is not None else SYSTEM_ACTOR


def import_job_row_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    """The job's bad rows in file order (check access to the job first)."""
    return ImportRowError.objects.filter(job=job).order_by("row_number")


def import_job_error_workbook(*, job: ImportJob) -> bytes:
    """The bad rows as an .xlsx to fix and upload again (see errorfile.py)."""
    cls = importer_for(job.kind)
    columns = cls.columns if cls is not None else ()
    return build_error_workbook(job=job, columns=columns)
