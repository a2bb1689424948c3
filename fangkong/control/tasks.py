"""Background entry point: the task worker (`fangkong db_worker`) runs the loop's clock."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from .services import loop_escalate


@task
def loop_tick_task() -> dict[str, Any]:
    """Escalate every late step once (idempotent: running it twice writes nothing new)."""
    return {"escalated": loop_escalate(actor=None)}
