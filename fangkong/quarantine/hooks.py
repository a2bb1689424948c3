"""What the quarantine app plugs into the layers below it (called once from AppConfig.ready()):
the release conditions control.order_release asks, and the periodic jobs of the loop worker."""

from __future__ import annotations

import datetime as dt

from fangkong.control.release import register_condition
from fangkong.core.periodic import PeriodicJob
from fangkong.core.periodic import register as register_job


def _alerts_scan(now: dt.datetime) -> int:
    from .services_health import alerts_scan

    return alerts_scan(actor=None, now=now)


def _alerts_escalate(now: dt.datetime) -> int:
    from .services_health import alerts_escalate

    return alerts_escalate(actor=None, now=now)


def _tasks_sync(now: dt.datetime) -> int:
    from .services_tests import tasks_sync

    return tasks_sync(actor=None, now=now)


def register() -> None:
    from .release import release_conditions

    register_condition("quarantine", release_conditions)
    register_job(PeriodicJob("quarantine.tasks_sync", 60.0, _tasks_sync, "检测任务生成与逾期"))
    register_job(PeriodicJob("quarantine.alerts_scan", 60.0, _alerts_scan, "漏报体温预警"))
    register_job(
        PeriodicJob("quarantine.alerts_escalate", 60.0, _alerts_escalate, "健康预警逐级上报")
    )
