"""Periodic jobs that apps above the loop worker's own app contribute (a registry, not signals).

An app registers `(name, every_seconds, job)` from its AppConfig.ready(); `fangkong loop_worker`
runs each job when its interval has passed. A job takes `now` (an aware datetime) and returns
how many things it did (for the worker's log line)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[dt.datetime], int]
    label: str = ""


_JOBS: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> None:
    """Add (or replace, by name) a job."""
    _JOBS[job.name] = job


def jobs() -> list[PeriodicJob]:
    return list(_JOBS.values())
