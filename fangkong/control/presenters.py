"""How orders, tasks and steps are shown (pages and API alike). The person inside them goes
through people.presenters.person_display, so it is masked by the viewer's role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.people.presenters import person_display
from fangkong.policy.models import Category, CountsFrom, PhaseKind

from .choices import VisitOutcome
from .models import (
    ControlOrder,
    ControlOrderEvent,
    Escalation,
    LoopStep,
    LoopTask,
    OrderStatus,
    SourceType,
    StepKind,
    TaskKind,
    TaskStatus,
)

PHASE_LABELS = dict(PhaseKind.choices)
CATEGORY_LABELS = dict(Category.choices)
COUNTS_FROM_LABELS = dict(CountsFrom.choices)
STATUS_LABELS = dict(OrderStatus.choices)
SOURCE_LABELS = dict(SourceType.choices)
STEP_LABELS = dict(StepKind.choices)
TASK_KIND_LABELS = dict(TaskKind.choices)
TASK_STATUS_LABELS = dict(TaskStatus.choices)
ESCALATION_LABELS = dict(Escalation.choices)
OUTCOME_LABELS = dict(VisitOutcome.choices)


def _label(labels: dict[Any, Any], value: Any) -> str:
    return str(labels.get(value, value or ""))


def _verb_labels() -> dict[str, str]:
    return {
        "propose": _("提出措施"),
        "confirm": _("确认措施"),
        "change": _("调整措施"),
        "cancel": _("撤销"),
        "transfer_out": _("转出"),
        "release": _("解除"),
        "advance_phase": _("转段"),
        "supersede": _("被更严措施替代"),
    }


def _data_labels() -> dict[str, str]:
    return {
        "category": _("人员类别"),
        "anchor_date": _("起算日期"),
        "end_date": _("结束日期"),
        "start_date": _("开始日期"),
        "found_on": _("发现日期"),
        "edition": _("依据方案"),
        "superseded": _("替代的措施"),
        "superseded_by": _("替代措施"),
        "from_phase": _("原分段"),
        "to_phase": _("新分段"),
        "kind": _("措施类型"),
        "released_on": _("解除日期"),
        "destination_code": _("转往地区代码"),
        "source_type": _("来源"),
    }


def deadline_text(seconds: float) -> str:
    """ "剩 1 小时 20 分" / "超时 3 小时 5 分"."""
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        span = _("%(d)s 天 %(h)s 小时") % {"d": hours // 24, "h": hours % 24}
    elif hours:
        span = _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": minutes}
    else:
        span = _("%(m)s 分钟") % {"m": minutes}
    if seconds < 0:
        return _("超时 %(span)s") % {"span": span}
    return _("剩 %(span)s") % {"span": span}


def phases_display(order: ControlOrder, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    today = today or timezone.localdate()
    iso = today.isoformat()
    rows = []
    for index, phase in enumerate(order.phases or []):
        end = phase.get("end")
        rows.append(
            {
                "index": index,
                "kind": phase.get("kind", ""),
                "kind_label": _label(PHASE_LABELS, phase.get("kind")),
                "days": phase.get("days"),
                "start": phase.get("start"),
                "end": end,
                "test_days": list(phase.get("test_days") or []),
                "current": index == order.current_phase and order.is_active,
                "past": bool(end) and end < iso,
            }
        )
    return rows


def order_display(
    *, viewer: Any, order: ControlOrder, today: dt.date | None = None, person: bool = True
) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": order.status,
        "status_label": _label(STATUS_LABELS, order.status),
        "category": order.category,
        "category_label": _label(CATEGORY_LABELS, order.category),
        "edition_code": order.edition.code,
        "edition_name": str(order.edition),
        "counts_from": order.counts_from,
        "counts_from_label": _label(COUNTS_FROM_LABELS, order.counts_from),
        "anchor_date": order.anchor_date,
        "start_date": order.start_date,
        "end_date": order.end_date,
        "current_phase": order.current_phase,
        "phases": phases_display(order, today=today),
        "test_days": [d for p in order.phases or [] for d in p.get("test_days") or []],
        "division_code": order.division_id,
        "division_name": order.division.full_name or order.division.name,
        "source_type": order.source_type,
        "source_label": _label(SOURCE_LABELS, order.source_type),
        "source_id": order.source_id,
        "risk_area_id": order.risk_area_id,
        "confirmed_at": order.confirmed_at,
        "closed_at": order.closed_at,
        "superseded_by_id": order.superseded_by_id,
        "created_at": order.created_at,
        "note": order.note,
        "is_open": order.status
        in (OrderStatus.PROPOSED, OrderStatus.ACTIVE, OrderStatus.PHASE_CHANGED),
        "is_active": order.is_active,
        "person": person_display(viewer=viewer, person=order.person) if person else None,
    }


def _data_value(key: str, value: Any) -> str:
    if (
        isinstance(value, list)
        and len(value) == 2
        and key in ("category", "anchor_date", "end_date")
    ):
        old, new = value
        if key == "category":
            old, new = _label(CATEGORY_LABELS, old), _label(CATEGORY_LABELS, new)
        return f"{old or '—'} → {new or '—'}"
    if key == "category":
        return _label(CATEGORY_LABELS, value)
    if key == "kind":
        return _label(PHASE_LABELS, value)
    if key == "source_type":
        return _label(SOURCE_LABELS, value)
    if key in ("superseded",) and isinstance(value, list):
        return "、".join(f"#{v}" for v in value) or "—"
    if key == "superseded_by":
        return f"#{value}"
    if key in ("from_phase", "to_phase") and isinstance(value, int):
        return _("第 %(n)s 段") % {"n": value + 1}
    return "—" if value in (None, "") else str(value)


def event_display(event: ControlOrderEvent) -> dict[str, Any]:
    labels = _data_labels()
    data = event.data or {}
    return {
        "verb": event.verb,
        "verb_label": _verb_labels().get(event.verb, event.verb),
        "from_status": event.from_status,
        "from_label": _label(STATUS_LABELS, event.from_status),
        "to_status": event.to_status,
        "to_label": _label(STATUS_LABELS, event.to_status),
        "actor": str(event.actor) if event.actor_id else _("系统"),
        "at": event.at,
        "reason": event.reason,
        "data": dict(data),
        "items": [
            {"label": labels.get(k, k), "value": _data_value(k, v)}
            for k, v in data.items()
            if not (k == "superseded" and not v)
        ],
    }


def step_display(step: LoopStep, *, now: dt.datetime) -> dict[str, Any]:
    done = step.done_at is not None
    seconds = (step.due_at - now).total_seconds()
    return {
        "id": step.pk,
        "kind": step.kind,
        "kind_label": _label(STEP_LABELS, step.kind),
        "seq": step.seq,
        "due_at": step.due_at,
        "due_iso": step.due_at.isoformat(),
        "done": done,
        "done_at": step.done_at,
        "outcome": step.outcome,
        "outcome_label": _label(OUTCOME_LABELS, step.outcome) if step.outcome else "",
        "note": step.note,
        "overdue": not done and seconds < 0,
        "seconds_left": int(seconds),
        "deadline_text": "" if done else deadline_text(seconds),
        "escalation": step.escalation,
        "escalation_label": _label(ESCALATION_LABELS, step.escalation) if step.escalation else "",
        "escalated_at": step.escalated_at,
    }


def task_display(
    *, viewer: Any, task: LoopTask, now: dt.datetime, today: dt.date | None = None
) -> dict[str, Any]:
    steps = [step_display(s, now=now) for s in task.steps.all()]
    current = next((s for s in steps if not s["done"]), None)
    return {
        "id": task.pk,
        "kind": task.kind,
        "kind_label": _label(TASK_KIND_LABELS, task.kind),
        "title": task.title,
        "status": task.status,
        "status_label": _label(TASK_STATUS_LABELS, task.status),
        "is_open": task.status == TaskStatus.OPEN,
        "opened_at": task.opened_at,
        "closed_at": task.closed_at,
        "division_code": task.division_id,
        "division_name": task.division.full_name or task.division.name,
        "source_type": task.source_type,
        "source_label": _label(SOURCE_LABELS, task.source_type),
        "source_id": task.source_id,
        "person": person_display(viewer=viewer, person=task.person),
        "order": order_display(viewer=viewer, order=task.order, today=today, person=False)
        if task.order_id
        else None,
        "steps": steps,
        "current": current,
        "overdue": any(s["overdue"] for s in steps),
        "escalated": max((s["escalation"] for s in steps if not s["done"]), default=0),
    }
