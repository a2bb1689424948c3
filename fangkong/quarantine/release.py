"""Release conditions of the quarantine app (registered in control.release, asked by
control.order_release): the required tests negative; a secondary contact waits on the first
results of the close contact it came from; a case needs two results with every Ct value at or
above the edition's threshold, sampled at least 24 hours apart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from fangkong.control.models import ControlOrder, SourceType
from fangkong.policy.rules import rule_for
from fangkong.tracing.models import Contact

from .models import SamplingTask

NEG = SamplingTask.Result.NEGATIVE


def _negative(task: SamplingTask) -> bool:
    if task.status != SamplingTask.Status.RESULTED or task.result != NEG:
        return False
    return task.required_results < 2 or task.result_2 == NEG


def _day_no(order: Any, day: dt.date) -> int:
    return (day - order.anchor_date).days


def _required_tests(order: Any, today: dt.date) -> list[str]:
    """Every task of the order due by `today` (tasks_sync makes one per test day) resulted
    negative (both swabs when two are required)."""
    tasks = list(
        SamplingTask.objects.filter(order_id=order.pk, due_date__lte=today)
        .exclude(status=SamplingTask.Status.CANCELLED)
        .order_by("due_date")
    )
    pending = [t.due_date for t in tasks if t.status != SamplingTask.Status.RESULTED]
    positive = [
        t.due_date for t in tasks if t.status == SamplingTask.Status.RESULTED and not _negative(t)
    ]
    messages = []
    for label, group in (
        (_("第 %(n)s 天检测结果未出：%(dates)s"), pending),
        (_("第 %(n)s 天检测结果阳性或不全为阴性：%(dates)s"), positive),
    ):
        if group:
            messages.append(
                label
                % {
                    "n": _("、").join(str(_day_no(order, d)) for d in group),
                    "dates": _("、").join(d.isoformat() for d in group),
                }
            )
    return messages


def _source_tests(order: Any, wait: int) -> list[str]:
    message = _("须待对应密接前 %(n)s 次检测结果阴性") % {"n": wait}
    if order.source_type != SourceType.CONTACT or not str(order.source_id).isdigit():
        return []
    via_id = (
        Contact.objects.filter(pk=int(order.source_id)).values_list("via_id", flat=True).first()
    )
    if via_id is None:
        return []
    source = (
        ControlOrder.objects.filter(source_type=SourceType.CONTACT, source_id=str(via_id))
        .order_by("-pk")
        .first()
    )
    if source is None:
        return [message]
    first = list(SamplingTask.objects.filter(order_id=source.pk).order_by("due_date")[:wait])
    if len(first) < wait or not all(_negative(t) for t in first):
        return [message]
    return []


def _ct_ok(task: SamplingTask, threshold: int) -> bool:
    values = task.ct_values or {}
    return (
        task.status == SamplingTask.Status.RESULTED
        and bool(values)
        and all(float(v) >= threshold for v in values.values())
    )


def _ct_condition(order: Any, threshold: int) -> list[str]:
    times = sorted(
        t.sampled_at or t.resulted_at
        for t in SamplingTask.objects.filter(order_id=order.pk)
        if _ct_ok(t, threshold) and (t.sampled_at or t.resulted_at)
    )
    if len(times) >= 2 and times[-1] - times[0] >= dt.timedelta(hours=24):
        return []
    return [
        _("须有两次核酸检测各基因 Ct 值均 ≥ %(ct)s，且采样间隔不少于 24 小时") % {"ct": threshold}
    ]


def release_conditions(*, order: Any, today: dt.date) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    rule = rule_for(order.edition, order.category) if order.edition_id else None
    # A case is released on its Ct values (a result may still read positive), not on negatives.
    if rule is None or not rule.release.ct_threshold:
        tests = _required_tests(order, today)
        if tests:
            missing["tests"] = tests
    if rule is not None:
        wait = rule.release.wait_for_source_tests
        if wait > 0:
            source = _source_tests(order, wait)
            if source:
                missing["source_tests"] = source
        if rule.release.ct_threshold:
            ct = _ct_condition(order, rule.release.ct_threshold)
            if ct:
                missing["ct_values"] = ct
    return missing
