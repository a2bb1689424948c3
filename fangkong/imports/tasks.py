"""Background entry point: the task worker (`fangkong db_worker`) runs big imports."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .selectors import import_job_actor, import_job_get
from .services import import_job_run


@task
def import_job_run_task(job_id: int) -> dict[str, Any]:
    """Run or resume one job as its own user. Idempotent: a finished job is left as it is."""
    job = import_job_get(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    job = import_job_run(actor=import_job_actor(job=job), job=job)
    return {"job": job.pk, "status": job.status, "rows": job.next_row, "errors": job.error_rows}
