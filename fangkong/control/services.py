"""Writes of the control app: measures on people (ControlOrder) and the closed loop.

Every function is `<entity>_<verb>(*, actor, ...)`, runs in one transaction and is audited with
ids and codes only. Every change of an order's status or measure also writes a
`ControlOrderEvent` (the order's own history, shown on its page).

A measure is computed once, by the edition in force on its anchor date, and keeps a copy of its
phases: a later change of category or anchor date is recomputed by the order's *own* edition,
never by a newer one, so activating an edition never rewrites what was issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.geo.models import LEVEL_CODE_LENGTHS, Division
from fangkong.people.models import Person
from fangkong.policy.models import Category, PolicyEdition
from fangkong.policy.rules import MeasurePlan, RuleError, plan_measure, plan_severity, rule_for
from fangkong.policy.selectors import county_root, edition_in_force

from .bulk import insert_columns, insert_objects
from .choices import VISIT_KEEPS_OPEN, VisitOutcome
from .contracts import OrderOutcome, OrderRequest
from .models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    ControlOrder,
    ControlOrderEvent,
    Escalation,
    LoopEscalation,
    LoopSettings,
    LoopStep,
    LoopTask,
    OrderStatus,
    SourceType,
    StepKind,
    TaskKind,
    TaskStatus,
)
from .permissions import can_change_settings, can_complete_steps, can_write_orders
from .release import missing_conditions as release_missing_conditions

REASON_MAX = 300
BULK_BATCH = 2000  # rows per INSERT; a sweep of thousands is a handful of statements
STATUS_LABELS = dict(OrderStatus.choices)
CATEGORY_LABELS = dict(Category.choices)
STEP_LABELS = dict(StepKind.choices)

# Which field of LoopSettings sets the deadline of each step, in the order they are done.
STEP_CLOCKS = (
    (StepKind.ACK, "ack_hours"),
    (StepKind.VISIT, "visit_hours"),
    (StepKind.IN_PLACE, "in_place_hours"),
)
SETTINGS_FIELDS = (
    "ack_hours",
    "visit_hours",
    "in_place_hours",
    "town_after_hours",
    "county_after_hours",
)
SETTINGS_MAX_HOURS = 720  # 30 days


# ---------------------------------------------------------------------------------------------
# Helpers


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timeutils.now()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    """Split an IN list so that it stays under the database's bound-parameter limit."""
    size = min(connection.features.max_query_params or 10_000, 10_000) - 10
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _clean_reason(reason: Any) -> str:
    return str(reason or "").strip()


def _require_reason(reason: str, errors: dict[str, list[str]], message: str) -> None:
    if len(reason) < 2:
        errors.setdefault("reason", []).append(message)
    elif len(reason) > REASON_MAX:
        errors.setdefault("reason", []).append(_("理由不能超过 %(n)s 个字") % {"n": REASON_MAX})


def _require_order_write(actor: Any, order: ControlOrder) -> None:
    """Role first (403), then scope (404: out of scope looks like missing)."""
    if not can_write_orders(actor):
        raise Forbidden(_("您的角色不能办理管控措施。"))
    if not code_in_scope(viewer=actor, code=order.division_id):
        raise NotFound(_("管控措施不存在。"))


def _lock_order(order: ControlOrder) -> ControlOrder:
    """The order as it is now in the database, locked for this transaction."""
    try:
        return ControlOrder.objects.select_for_update().select_related("edition").get(pk=order.pk)
    except ControlOrder.DoesNotExist:
        raise NotFound(_("管控措施不存在。")) from None


def _event(
    *,
    order: ControlOrder,
    verb: str,
    actor: Any,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> ControlOrderEvent:
    return ControlOrderEvent(
        order=order,
        verb=verb,
        from_status=from_status,
        to_status=to_status,
        actor=_actor_or_none(actor),
        at=at,
        reason=reason[:REASON_MAX],
        data=data or {},
    )


def _close_tasks(*, order: ControlOrder, at: dt.datetime) -> int:
    """An order that leaves the open statuses takes its still-open loop tasks with it: nobody
    should be chased to put in place a measure that no longer applies."""
    return LoopTask.objects.filter(order=order, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, closed_at=at
    )


def _severity_text(phases: list[dict[str, Any]]) -> str:
    end = phases[-1].get("end") if phases else None
    return end or _("不定期")


def _found_on(order: ControlOrder) -> dt.date:
    """The day the person was found (recorded when the order was proposed)."""
    event = order.events.filter(verb="propose").order_by("pk").first()
    found = (event.data or {}).get("found_on") if event else None
    if found:
        return dt.date.fromisoformat(found)
    return order.start_date


def _phase_index(phases: list[dict[str, Any]], today: dt.date) -> int:
    """The phase that covers `today` (the first one before it starts, the last one after)."""
    iso = today.isoformat()
    for index, phase in enumerate(phases):
        if phase.get("end") is None or iso <= phase["end"]:
            return index
    return max(len(phases) - 1, 0)


def _replan(
    *,
    order: ControlOrder,
    category: str | None,
    anchor_date: dt.date | None,
    today: dt.date,
    errors: dict[str, list[str]],
) -> tuple[MeasurePlan | None, dict[str, Any]]:
    """The order's measure for a new category and/or anchor date, by the order's own edition.

    Returns (plan, changes) with changes as {field: [old, new]}; (None, {}) when nothing
    changes. Problems go to `errors`."""
    new_category = category or order.category
    new_anchor = anchor_date or order.anchor_date
    if new_category == order.category and new_anchor == order.anchor_date:
        return None, {}
    if new_category not in Category.values:
        errors.setdefault("category", []).append(_("未知的人员类别"))
        return None, {}
    if new_anchor > today:
        errors.setdefault("anchor_date", []).append(_("起算日期不能晚于今天"))
        return None, {}
    edition = order.edition
    try:
        rule = rule_for(edition, new_category)
    except RuleError:
        rule = None
    if rule is None:
        errors.setdefault("category", []).append(
            _("《%(edition)s》不对“%(category)s”采取管控措施")
            % {"edition": edition, "category": CATEGORY_LABELS.get(new_category, new_category)}
        )
        return None, {}
    plan = plan_measure(rule, anchor=new_anchor, found_on=_found_on(order))
    if plan is None:
        errors.setdefault("anchor_date", []).append(
            _("按此起算日期，管控期在发现之日前已经届满，无需管控")
        )
        return None, {}
    changes: dict[str, Any] = {}
    if new_category != order.category:
        changes["category"] = [order.category, new_category]
    if new_anchor != order.anchor_date:
        changes["anchor_date"] = [order.anchor_date.isoformat(), new_anchor.isoformat()]
    old_end = order.end_date.isoformat() if order.end_date else None
    new_end = plan.end.isoformat() if plan.end else None
    if old_end != new_end:
        changes["end_date"] = [old_end, new_end]
    return plan, changes


def _apply_plan(order: ControlOrder, plan: MeasurePlan, today: dt.date) -> None:
    order.category = plan.category
    order.counts_from = plan.counts_from
    order.anchor_date = plan.anchor
    order.start_date = plan.start
    order.end_date = plan.end
    order.phases = plan.phases_json()
    order.current_phase = _phase_index(order.phases, today) if order.is_active else 0


PLAN_FIELDS = [
    "category",
    "counts_from",
    "anchor_date",
    "start_date",
    "end_date",
    "phases",
    "current_phase",
    "updated_at",
]


# ---------------------------------------------------------------------------------------------
# Proposing measures (the one way in for arrivals, sweeps, contacts, rechecks)


class _EditionCache:
    """The edition in force per date and the rule per (edition, category), each looked up once
    per call: a sweep's thousands of requests share a handful of dates."""

    def __init__(self) -> None:
        self.by_date: dict[dt.date, PolicyEdition | None] = {}
        self.rules: dict[tuple[int, str], Any] = {}

    def edition(self, on: dt.date) -> PolicyEdition | None:
        if on not in self.by_date:
            self.by_date[on] = edition_in_force(on=on)
        return self.by_date[on]

    def rule(self, edition: PolicyEdition, category: str) -> Any:
        key = (edition.pk, category)
        if key not in self.rules:
            try:
                self.rules[key] = rule_for(edition, category)
            except RuleError:
                self.rules[key] = None
        return self.rules[key]


def _loop_settings() -> LoopSettings:
    """The county's clocks, created with the defaults the first time they are needed."""
    root = county_root()
    if root is None:
        raise Conflict(_("尚未建立县级区划，无法计算闭环时限。"), code="control.no_county")
    settings_row, _created = LoopSettings.objects.get_or_create(division=root)
    return settings_row


def _validate_requests(requests: list[OrderRequest]) -> None:
    """Every grid and person must exist; categories and kinds must be known. Nothing is
    written when one request is bad (the caller built them; a bad one is a bug upstream)."""
    errors: dict[str, list[str]] = {}
    codes = {r.division_code for r in requests}
    known_codes: set[str] = set()
    for chunk in _chunks(codes):
        known_codes.update(Division.objects.filter(code__in=chunk).values_list("code", flat=True))
    missing = sorted(codes - known_codes)
    if missing:
        errors["division_code"] = [
            _("网格代码不存在：%(codes)s") % {"codes": ", ".join(missing[:5])}
        ]
    person_ids = {r.person_id for r in requests}
    known_people: set[int] = set()
    for chunk in _chunks(person_ids):
        known_people.update(Person.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    if person_ids - known_people:
        errors["person_id"] = [_("人员不存在")]
    categories, sources, kinds = set(Category.values), set(SourceType.values), set(TaskKind.values)
    if any(r.category is not None and r.category not in categories for r in requests):
        errors["category"] = [_("未知的人员类别")]
    if any(r.source_type not in sources for r in requests):
        errors["source_type"] = [_("未知的来源")]
    if any(r.task_kind not in kinds for r in requests):
        errors["task_kind"] = [_("未知的任务类型")]
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def order_propose_bulk(
    *, actor: Any, requests: list[OrderRequest], now: dt.datetime | None = None
) -> list[OrderOutcome]:
    """Propose the measure for each request and open a loop task in its grid's inbox.

    For each request: the edition (the request's, or the one in force on the anchor date),
    the rule of its category, the plan counted from the anchor and trimmed to the day found.
    A person with an open order at least as strict is `covered_by` it (no new order); a plan
    whose whole period has passed is `expired`. Every request opens a task (acknowledge,
    visit; plus "measure in place" when an order was proposed).

    The number of queries does not grow with the number of requests (one lookup of the
    editions per distinct date, IN lists and INSERTs in large batches): the retroactive sweep
    sends thousands at once. One audit event per call; the order events are the history.
    """
    if not requests:
        return []
    now = _now(now)
    _validate_requests(requests)
    editions = _EditionCache()
    clocks = _loop_settings()

    # The strictest open order of each person, existing or proposed earlier in this call.
    strictest: dict[int, tuple[tuple[int, dt.date], ControlOrder]] = {}
    person_ids = {r.person_id for r in requests}
    for chunk in _chunks(person_ids):
        existing = ControlOrder.objects.filter(person_id__in=chunk, status__in=OPEN_STATUSES).only(
            "pk", "person_id", "phases", "status", "category", "end_date"
        )
        for order in existing:
            severity = plan_severity(order.phases)
            best = strictest.get(order.person_id)
            if best is None or severity > best[0]:
                strictest[order.person_id] = (severity, order)

    proposer = _actor_or_none(actor)
    outcomes: list[dict[str, Any]] = []
    new_orders: list[ControlOrder] = []
    for request in requests:
        anchor = request.anchor_date or request.found_on
        plan: MeasurePlan | None = None
        edition = None
        covered_by = None
        expired = False
        if request.category:
            edition = request.edition or editions.edition(anchor)
            rule = editions.rule(edition, request.category) if edition is not None else None
            if rule is not None:
                plan = plan_measure(rule, anchor=anchor, found_on=request.found_on)
                expired = plan is None
        order = None
        if plan is not None:
            severity = plan.severity
            best = strictest.get(request.person_id)
            if best is not None and best[0] >= severity:
                covered_by = best[1]
            else:
                order = ControlOrder(
                    person_id=request.person_id,
                    division_id=request.division_code,
                    category=plan.category,
                    edition=edition,
                    risk_area_id=request.risk_area_id,
                    counts_from=plan.counts_from,
                    anchor_date=plan.anchor,
                    start_date=plan.start,
                    end_date=plan.end,
                    phases=plan.phases_json(),
                    current_phase=0,
                    status=OrderStatus.PROPOSED,
                    source_type=request.source_type,
                    source_id=request.source_id,
                    proposed_by=proposer,
                )
                new_orders.append(order)
                strictest[request.person_id] = (severity, order)
        outcomes.append(
            {"request": request, "order": order, "covered_by": covered_by, "expired": expired}
        )

    # Orders and tasks are returned to the caller as instances; their events and steps are
    # written column by column (bulk.py: the fast path the sweep needs on PostgreSQL).
    insert_objects(new_orders)
    proposed = [(o["request"], o["order"]) for o in outcomes if o["order"] is not None]
    insert_columns(
        ControlOrderEvent,
        {
            "order_id": [order.pk for _request, order in proposed],
            "verb": "propose",
            "from_status": "",
            "to_status": OrderStatus.PROPOSED.value,
            "actor_id": getattr(proposer, "pk", None),
            "at": now,
            "reason": "",
            "data": [
                {
                    "category": order.category,
                    "edition": order.edition.code,
                    "anchor_date": order.anchor_date.isoformat(),
                    "found_on": request.found_on.isoformat(),
                    "start_date": order.start_date.isoformat(),
                    "end_date": order.end_date.isoformat() if order.end_date else None,
                    "source_type": order.source_type,
                }
                for request, order in proposed
            ],
        },
        count=len(proposed),
    )

    tasks = [
        LoopTask(
            kind=o["request"].task_kind,
            division_id=o["request"].division_code,
            person_id=o["request"].person_id,
            order=o["order"],
            source_type=o["request"].source_type,
            source_id=o["request"].source_id,
            title=o["request"].title[:200],
            status=TaskStatus.OPEN,
            opened_at=now,
        )
        for o in outcomes
    ]
    insert_objects(tasks)
    step_task: list[int] = []
    step_kind: list[str] = []
    step_seq: list[int] = []
    step_due: list[dt.datetime] = []
    dues = {kind: now + dt.timedelta(hours=getattr(clocks, field)) for kind, field in STEP_CLOCKS}
    for task in tasks:
        for seq, (kind, _field) in enumerate(STEP_CLOCKS, start=1):
            if kind == StepKind.IN_PLACE and task.order_id is None:
                continue
            step_task.append(task.pk)
            step_kind.append(kind.value)
            step_seq.append(seq)
            step_due.append(dues[kind])
    insert_columns(
        LoopStep,
        {"task_id": step_task, "kind": step_kind, "seq": step_seq, "due_at": step_due},
        count=len(step_task),
    )

    source_types = sorted({r.source_type for r in requests})
    audit_record(
        actor=actor,
        verb="control.order.propose_bulk",
        target_type="control.controlorder",
        data={
            "count": len(requests),
            "source_type": ",".join(source_types),
            "orders": len(new_orders),
            "covered": sum(1 for o in outcomes if o["covered_by"] is not None),
            "expired": sum(1 for o in outcomes if o["expired"]),
            "tasks": len(tasks),
        },
    )
    return [
        OrderOutcome(
            request=o["request"],
            order=o["order"],
            task=task,
            covered_by=o["covered_by"],
            expired=o["expired"],
        )
        for o, task in zip(outcomes, tasks, strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# Order life cycle


def _milder_conflict(active: ControlOrder) -> Conflict:
    return Conflict(
        _(
            "该人员已有同等或更严的执行中措施（措施 #%(id)s，%(category)s，至 %(end)s），"
            "不能再确认较轻的措施。"
        )
        % {
            "id": active.pk,
            "category": CATEGORY_LABELS.get(active.category, active.category),
            "end": _severity_text(active.phases),
        },
        code="control.milder_than_active",
    )


@transaction.atomic
def order_confirm(
    *,
    actor: Any,
    order: ControlOrder,
    reason: str = "",
    category: str | None = None,
    anchor_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ControlOrder:
    """Proposed -> active, by the responsible officer (or the grid worker's "措施已落实").

    A changed category or anchor date recomputes the plan by the order's own edition and
    needs a reason. If the person already has an active order, the stricter one wins: a
    milder (or equal) proposal is refused naming the active order; a stricter one supersedes
    it (and any milder proposal still waiting) in the same transaction. The database's
    one-active-order-per-person constraint is the last guard against a concurrent confirm.
    """
    _require_order_write(actor, order)
    now = _now(now)
    today = _local_date(now)
    reason = _clean_reason(reason)
    order = _lock_order(order)
    if order.status != OrderStatus.PROPOSED:
        raise Conflict(
            _("只有待确认的措施可以确认（当前状态：%(status)s）。")
            % {"status": STATUS_LABELS.get(order.status, order.status)},
            code="control.not_proposed",
        )
    errors: dict[str, list[str]] = {}
    plan, changes = _replan(
        order=order, category=category, anchor_date=anchor_date, today=today, errors=errors
    )
    if changes:
        _require_reason(reason, errors, _("调整人员类别或起算日期须填写理由"))
    if errors:
        raise ValidationFailed(errors)
    if plan is not None:
        _apply_plan(order, plan, today)

    severity = plan_severity(order.phases)
    others = list(
        ControlOrder.objects.select_for_update()
        .filter(person_id=order.person_id, status__in=OPEN_STATUSES)
        .exclude(pk=order.pk)
        .order_by("pk")
    )
    for other in others:
        if other.status in ACTIVE_STATUSES and plan_severity(other.phases) >= severity:
            raise _milder_conflict(other)
    superseded = [
        o
        for o in others
        if o.status in ACTIVE_STATUSES
        or (o.status == OrderStatus.PROPOSED and plan_severity(o.phases) <= severity)
    ]
    events = []
    for other in superseded:
        events.append(
            _event(
                order=other,
                verb="supersede",
                actor=actor,
                at=now,
                from_status=other.status,
                to_status=OrderStatus.SUPERSEDED,
                reason=_("被更严的措施 #%(id)s 替代") % {"id": order.pk},
                data={"superseded_by": order.pk},
            )
        )
        other.status = OrderStatus.SUPERSEDED
        other.superseded_by = order
        other.closed_at = now
        other.save(update_fields=["status", "superseded_by", "closed_at", "updated_at"])
        _close_tasks(order=other, at=now)

    order.status = OrderStatus.ACTIVE
    # Confirmed late, the measure starts in the phase that covers today.
    order.current_phase = _phase_index(order.phases, today)
    order.confirmed_by = _actor_or_none(actor)
    order.confirmed_at = now
    try:
        with transaction.atomic():
            order.save(update_fields=[*PLAN_FIELDS, "status", "confirmed_by", "confirmed_at"])
    except IntegrityError:
        raise Conflict(
            _("该人员刚有另一项措施被确认为执行中，请刷新后重试。"),
            code="control.active_exists",
        ) from None
    events.append(
        _event(
            order=order,
            verb="confirm",
            actor=actor,
            at=now,
            from_status=OrderStatus.PROPOSED,
            to_status=OrderStatus.ACTIVE,
            reason=reason,
            data={
                **changes,
                "superseded": [o.pk for o in superseded],
                "end_date": changes.get("end_date")
                or (order.end_date.isoformat() if order.end_date else None),
            },
        )
    )
    ControlOrderEvent.objects.bulk_create(events)
    audit_record(
        actor=actor,
        verb="control.order.confirm",
        target=order,
        data={
            "person_id": order.person_id,
            "category": order.category,
            "changed": sorted(changes),
            "superseded": [o.pk for o in superseded],
        },
        reason=reason or None,
    )
    return order


@transaction.atomic
def order_change(
    *,
    actor: Any,
    order: ControlOrder,
    reason: str,
    category: str | None = None,
    anchor_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ControlOrder:
    """Change the category or the anchor date of an open order, with a reason.

    The plan is recomputed by the order's own edition (never a newer one); the status stays.
    An active order moves to the phase that covers today."""
    _require_order_write(actor, order)
    now = _now(now)
    today = _local_date(now)
    reason = _clean_reason(reason)
    order = _lock_order(order)
    if order.status not in OPEN_STATUSES:
        raise Conflict(
            _("已结束的措施不能调整（当前状态：%(status)s）。")
            % {"status": STATUS_LABELS.get(order.status, order.status)},
            code="control.closed",
        )
    errors: dict[str, list[str]] = {}
    _require_reason(reason, errors, _("调整措施须填写理由"))
    plan, changes = _replan(
        order=order, category=category, anchor_date=anchor_date, today=today, errors=errors
    )
    if not changes and not errors:
        errors["category"] = [_("人员类别和起算日期都没有改变")]
    if errors:
        raise ValidationFailed(errors)
    assert plan is not None
    _apply_plan(order, plan, today)
    order.save(update_fields=PLAN_FIELDS)
    ControlOrderEvent.objects.bulk_create(
        [
            _event(
                order=order,
                verb="change",
                actor=actor,
                at=now,
                from_status=order.status,
                to_status=order.status,
                reason=reason,
                data=changes,
            )
        ]
    )
    audit_record(
        actor=actor,
        verb="control.order.change",
        target=order,
        data={"person_id": order.person_id, "changed": sorted(changes), "category": order.category},
        reason=reason,
    )
    return order


def _close_order(
    *,
    actor: Any,
    order: ControlOrder,
    verb: str,
    to_status: str,
    reason: str,
    now: dt.datetime,
    data: dict[str, Any] | None = None,
) -> ControlOrder:
    from_status = order.status
    order.status = to_status
    order.closed_at = now
    order.save(update_fields=["status", "closed_at", "note", "updated_at"])
    closed_tasks = _close_tasks(order=order, at=now)
    ControlOrderEvent.objects.bulk_create(
        [
            _event(
                order=order,
                verb=verb,
                actor=actor,
                at=now,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
                data=data,
            )
        ]
    )
    audit_record(
        actor=actor,
        verb=f"control.order.{verb}",
        target=order,
        data={"person_id": order.person_id, "from": from_status, "tasks_closed": closed_tasks},
        reason=reason or None,
    )
    return order


def _require_open(order: ControlOrder, message: str) -> None:
    if order.status not in OPEN_STATUSES:
        raise Conflict(
            message % {"status": STATUS_LABELS.get(order.status, order.status)},
            code="control.closed",
        )


@transaction.atomic
def order_cancel(
    *, actor: Any, order: ControlOrder, reason: str, now: dt.datetime | None = None
) -> ControlOrder:
    """Withdraw an open order (proposed in error, person not subject to it), with a reason."""
    _require_order_write(actor, order)
    reason = _clean_reason(reason)
    order = _lock_order(order)
    _require_open(order, _("措施已结束，不能撤销（当前状态：%(status)s）。"))
    errors: dict[str, list[str]] = {}
    _require_reason(reason, errors, _("撤销措施须填写理由"))
    if errors:
        raise ValidationFailed(errors)
    return _close_order(
        actor=actor,
        order=order,
        verb="cancel",
        to_status=OrderStatus.CANCELLED,
        reason=reason,
        now=_now(now),
    )


@transaction.atomic
def order_transfer_out(
    *,
    actor: Any,
    order: ControlOrder,
    reason: str,
    destination: str = "",
    now: dt.datetime | None = None,
) -> ControlOrder:
    """The person left for another jurisdiction, which takes over the measure."""
    _require_order_write(actor, order)
    reason = _clean_reason(reason)
    destination = str(destination or "").strip()
    order = _lock_order(order)
    _require_open(order, _("措施已结束，不能转出（当前状态：%(status)s）。"))
    errors: dict[str, list[str]] = {}
    _require_reason(reason, errors, _("转出须填写理由"))
    if len(destination) > 200:
        errors["destination"] = [_("转往地不能超过 200 个字")]
    if errors:
        raise ValidationFailed(errors)
    data: dict[str, Any] = {}
    if destination:
        # A region code is a code; any other text may be an address: it stays on the order.
        if destination.isdigit():
            data["destination_code"] = destination
        line = _("转往：%(where)s") % {"where": destination}
        order.note = f"{order.note}\n{line}".strip()
    return _close_order(
        actor=actor,
        order=order,
        verb="transfer_out",
        to_status=OrderStatus.TRANSFERRED_OUT,
        reason=reason,
        now=_now(now),
        data=data,
    )


@transaction.atomic
def order_release(
    *,
    actor: Any,
    order: ControlOrder,
    reason: str = "",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    authorized: bool = False,
) -> ControlOrder:
    """Release an active order once its period is served.

    `authorized`: a service above control (quarantine: site staff at the person's site) has
    already checked that the actor may release this order; control's own role check is skipped.

    Checked here: the end date has been reached and no test day is still ahead; then every
    condition registered in control.release (the quarantine app's: required tests negative, a
    secondary contact waiting on its close contact's first results). Refused otherwise, the
    message naming each condition that is missing.
    """
    if not authorized:
        _require_order_write(actor, order)
    now = _now(now)
    today = today or _local_date(now)
    reason = _clean_reason(reason)
    order = _lock_order(order)
    if order.status not in ACTIVE_STATUSES:
        raise Conflict(
            _("只有执行中的措施可以解除（当前状态：%(status)s）。")
            % {"status": STATUS_LABELS.get(order.status, order.status)},
            code="control.not_active",
        )
    missing: dict[str, list[str]] = {}
    if order.end_date is None:
        missing["end_date"] = [_("该措施没有固定期限，须待检测结果等解除条件满足后解除")]
    elif today < order.end_date:
        missing["end_date"] = [
            _("管控期至 %(end)s，尚未期满（还差 %(days)s 天）")
            % {"end": order.end_date.isoformat(), "days": (order.end_date - today).days}
        ]
    iso = today.isoformat()
    ahead = sorted(d for p in order.phases for d in p.get("test_days", []) if d > iso)
    if ahead:
        missing["test_days"] = [
            _("还有 %(n)s 个检测日未到：%(dates)s")
            % {"n": len(ahead), "dates": _("、").join(ahead)}
        ]
    for field, messages in release_missing_conditions(order=order, today=today).items():
        missing.setdefault(field, []).extend(messages)
    if len(reason) > REASON_MAX:
        missing["reason"] = [_("理由不能超过 %(n)s 个字") % {"n": REASON_MAX}]
    if missing:
        summary = "；".join(m for messages in missing.values() for m in messages)
        raise ValidationFailed(missing, message=_("尚不能解除：%(why)s") % {"why": summary})
    return _close_order(
        actor=actor,
        order=order,
        verb="release",
        to_status=OrderStatus.RELEASED,
        reason=reason,
        now=now,
        data={"released_on": iso},
    )


@transaction.atomic
def order_advance_phase(
    *,
    actor: Any,
    order: ControlOrder,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    authorized: bool = False,
) -> ControlOrder:
    """Move an active order to its next phase (e.g. centralized -> home monitoring), not before
    the day that phase starts. `authorized`: as in order_release (site staff moving a person
    out of their site)."""
    if not authorized:
        _require_order_write(actor, order)
    now = _now(now)
    today = today or _local_date(now)
    order = _lock_order(order)
    if order.status not in ACTIVE_STATUSES:
        raise Conflict(
            _("只有执行中的措施可以转段（当前状态：%(status)s）。")
            % {"status": STATUS_LABELS.get(order.status, order.status)},
            code="control.not_active",
        )
    following = order.current_phase + 1
    if following >= len(order.phases):
        raise Conflict(_("已是最后一个分段，不能再转段。"), code="control.last_phase")
    start = order.phases[following]["start"]
    if today.isoformat() < start:
        raise ValidationFailed(
            {"phase": [_("下一分段 %(start)s 开始，今天还不能转段") % {"start": start}]}
        )
    from_status = order.status
    order.current_phase = following
    order.status = OrderStatus.PHASE_CHANGED
    order.save(update_fields=["current_phase", "status", "updated_at"])
    ControlOrderEvent.objects.bulk_create(
        [
            _event(
                order=order,
                verb="advance_phase",
                actor=actor,
                at=now,
                from_status=from_status,
                to_status=order.status,
                data={
                    "from_phase": following - 1,
                    "to_phase": following,
                    "kind": order.phases[following]["kind"],
                },
            )
        ]
    )
    audit_record(
        actor=actor,
        verb="control.order.advance_phase",
        target=order,
        data={"person_id": order.person_id, "phase": following},
    )
    return order


# ---------------------------------------------------------------------------------------------
# The loop


def _ancestor_code(code: str, level: int) -> str:
    """The code of `code`'s ancestor at a division level (0 county, 1 town, 2 village); a code
    shorter than that level is its own ancestor."""
    length = LEVEL_CODE_LENGTHS[level]
    return code[:length] if len(code) >= length else code


# Escalation level -> the division level told.
ESCALATION_DIVISION_LEVEL = {Escalation.VILLAGE: 2, Escalation.TOWN: 1, Escalation.COUNTY: 0}


def _escalations_for(
    *, step: LoopStep, division_code: str, up_to: int, at: dt.datetime
) -> list[LoopEscalation]:
    return [
        LoopEscalation(
            step_id=step.pk,
            level=level,
            division_id=_ancestor_code(division_code, ESCALATION_DIVISION_LEVEL[level]),
            at=at,
        )
        for level in range(step.escalation + 1, up_to + 1)
    ]


@transaction.atomic
def loop_step_complete(
    *,
    actor: Any,
    step: LoopStep,
    outcome: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> LoopStep:
    """Record one step of a task, in order (no visit before the acknowledgement).

    A visit needs an outcome: "verified" or "wrong_address" (found elsewhere) finish it;
    "not_found" and "moved_away" keep the task open with the note and tell the village at once.
    "Measure in place" on a task whose order is still proposed confirms the order (the grid
    worker's one tap). The task closes when its last step is done.
    """
    if not can_complete_steps(actor):
        raise Forbidden(_("您的角色不能办理闭环任务。"))
    now = _now(now)
    try:
        # Lock the step and its task (not the order: a nullable join cannot be locked).
        step = (
            LoopStep.objects.select_for_update(of=("self", "task"))
            .select_related("task", "task__order")
            .get(pk=step.pk)
        )
    except LoopStep.DoesNotExist:
        raise NotFound(_("闭环任务不存在。")) from None
    task = step.task
    if not code_in_scope(viewer=actor, code=task.division_id):
        raise NotFound(_("闭环任务不存在。"))
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("该任务已办结或已撤销。"), code="control.task_closed")
    if step.done_at is not None:
        raise Conflict(
            _("“%(step)s”已经完成。") % {"step": STEP_LABELS[step.kind]}, code="control.step_done"
        )
    earlier = (
        LoopStep.objects.filter(task=task, seq__lt=step.seq, done_at__isnull=True)
        .order_by("seq")
        .first()
    )
    if earlier is not None:
        raise Conflict(
            _("请先完成“%(step)s”。") % {"step": STEP_LABELS[earlier.kind]},
            code="control.step_order",
        )
    outcome = str(outcome or "").strip()
    note = str(note or "").strip()
    errors: dict[str, list[str]] = {}
    if step.kind == StepKind.VISIT:
        if outcome not in VisitOutcome.values:
            errors["outcome"] = [_("请选择上门核实的结果")]
        elif outcome != VisitOutcome.VERIFIED and len(note) < 2:
            errors["note"] = [_("未能核实本人在住时，须写明情况")]
    elif outcome:
        errors["outcome"] = [_("只有上门核实需要填写结果")]
    if len(note) > 300:
        errors["note"] = [_("情况说明不能超过 300 个字")]
    if errors:
        raise ValidationFailed(errors)

    step.outcome = outcome
    step.note = note
    if step.kind == StepKind.VISIT and outcome in VISIT_KEEPS_OPEN:
        # Not done: the worker keeps looking, and the village sees it now, not at the deadline.
        new = []
        if step.escalation < Escalation.VILLAGE:
            new = _escalations_for(
                step=step, division_code=task.division_id, up_to=Escalation.VILLAGE, at=now
            )
            LoopEscalation.objects.bulk_create(new)
            step.escalation = Escalation.VILLAGE
            step.escalated_at = now
        step.save(update_fields=["outcome", "note", "escalation", "escalated_at"])
        audit_record(
            actor=actor,
            verb="control.loop_step.report",
            target=step,
            data={"task_id": task.pk, "kind": step.kind, "outcome": outcome, "escalated": len(new)},
        )
        return step

    order = task.order
    if step.kind == StepKind.IN_PLACE and order is not None:
        if order.status == OrderStatus.PROPOSED:
            order_confirm(actor=actor, order=order, now=now)
        elif order.status not in ACTIVE_STATUSES:
            raise Conflict(
                _("该措施已结束（%(status)s），无需落实。")
                % {"status": STATUS_LABELS.get(order.status, order.status)},
                code="control.closed",
            )
    step.done_at = now
    step.done_by = _actor_or_none(actor)
    step.save(update_fields=["outcome", "note", "done_at", "done_by"])
    task_closed = not LoopStep.objects.filter(task=task, done_at__isnull=True).exists()
    if task_closed:
        task.status = TaskStatus.DONE
        task.closed_at = now
        task.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="control.loop_step.complete",
        target=step,
        data={
            "task_id": task.pk,
            "kind": step.kind,
            "outcome": outcome,
            "task_closed": task_closed,
            "order_id": order.pk if order is not None else None,
        },
    )
    return step


@transaction.atomic
def loop_escalate(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """Tell the chain of responsibility about every open step past its deadline.

    The village is told as soon as a step is late, the town `town_after_hours` after the
    deadline, the county `county_after_hours` after it (the county's LoopSettings, read on
    every run, so a change of the clocks applies at once). One LoopEscalation per step and
    level, at the ancestor division of the task's grid at that level; running it again
    changes nothing. Done steps and closed tasks never escalate. Returns the number of new
    escalations. Run by `fangkong loop_tick` and `control.tasks.loop_tick_task`.
    """
    now = _now(now)
    clocks = _loop_settings()
    town_after = dt.timedelta(hours=clocks.town_after_hours)
    county_after = dt.timedelta(hours=clocks.county_after_hours)
    # Locked (PostgreSQL): a second tick running at the same moment waits, then sees the
    # levels this one wrote, so no level is written twice.
    late = (
        LoopStep.objects.select_for_update(of=("self",))
        .filter(
            done_at__isnull=True,
            due_at__lt=now,
            escalation__lt=Escalation.COUNTY,
            task__status=TaskStatus.OPEN,
        )
        .values_list("pk", "due_at", "escalation", "task__division_id")
    )
    new_rows: list[tuple[int, int, str]] = []  # (step, level, division told)
    raised: dict[int, list[int]] = {}
    for step_id, due_at, current, division_code in late:
        overdue = now - due_at
        level = Escalation.VILLAGE
        if overdue >= county_after:
            level = Escalation.COUNTY
        elif overdue >= town_after:
            level = Escalation.TOWN
        if level <= current:
            continue
        for told in range(current + 1, level + 1):
            code = _ancestor_code(division_code, ESCALATION_DIVISION_LEVEL[told])
            new_rows.append((step_id, told, code))
        raised.setdefault(int(level), []).append(step_id)
    insert_columns(
        LoopEscalation,
        {
            "step_id": [r[0] for r in new_rows],
            "level": [r[1] for r in new_rows],
            "division_id": [r[2] for r in new_rows],
            "at": now,
        },
        count=len(new_rows),
    )
    for level, ids in raised.items():
        for chunk in _chunks(ids):
            LoopStep.objects.filter(pk__in=chunk).update(escalation=level, escalated_at=now)
    if new_rows:
        counts = {
            "village": sum(1 for r in new_rows if r[1] == Escalation.VILLAGE),
            "town": sum(1 for r in new_rows if r[1] == Escalation.TOWN),
            "county": sum(1 for r in new_rows if r[1] == Escalation.COUNTY),
        }
        audit_record(
            actor=actor,
            verb="control.loop.escalate",
            target_type="control.loopstep",
            data={"count": len(new_rows), "steps": sum(len(v) for v in raised.values()), **counts},
        )
    return len(new_rows)


@transaction.atomic
def loop_settings_update(*, actor: Any, **hours: Any) -> LoopSettings:
    """Change the county's clocks (hours). Only the commander and administrators."""
    if not can_change_settings(actor):
        raise Forbidden(_("只有县指挥部和系统管理员可以修改闭环时限。"))
    settings_row = LoopSettings.objects.select_for_update().get(pk=_loop_settings().pk)
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for field, raw in hours.items():
        if field not in SETTINGS_FIELDS:
            errors.setdefault(field, []).append(_("不支持此设置项"))
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors.setdefault(field, []).append(_("应为整数（小时）"))
            continue
        if isinstance(raw, float) and raw != value:
            errors.setdefault(field, []).append(_("应为整数（小时）"))
            continue
        if not 1 <= value <= SETTINGS_MAX_HOURS:
            errors.setdefault(field, []).append(
                _("应在 1 到 %(max)s 小时之间") % {"max": SETTINGS_MAX_HOURS}
            )
            continue
        values[field] = value
    merged = {f: values.get(f, getattr(settings_row, f)) for f in SETTINGS_FIELDS}
    if not errors:
        if not merged["ack_hours"] <= merged["visit_hours"] <= merged["in_place_hours"]:
            errors.setdefault("visit_hours", []).append(
                _("时限须依次不减：签收 ≤ 上门核实 ≤ 措施落实")
            )
        if merged["town_after_hours"] >= merged["county_after_hours"]:
            errors.setdefault("county_after_hours", []).append(_("上报县的时间须晚于上报镇的时间"))
    if errors:
        raise ValidationFailed(errors)
    changed = {f: v for f, v in values.items() if getattr(settings_row, f) != v}
    for field, value in changed.items():
        setattr(settings_row, field, value)
    settings_row.updated_by = _actor_or_none(actor)
    settings_row.save()
    audit_record(
        actor=actor,
        verb="control.loop_settings.update",
        target=settings_row,
        data={"changed": changed},
    )
    return settings_row


@transaction.atomic
def loop_tasks_cancel_for_sources(
    *,
    actor: Any,
    source_type: str,
    source_ids: list[str],
    reason: str,
    now: dt.datetime | None = None,
) -> int:
    """Cancel the open loop tasks that came from these sources (e.g. the arrivals of an import
    being rolled back): nobody should be chased about a registration that no longer exists.
    Orders are cancelled with order_cancel first; this catches the tasks without an order."""
    at = _now(now)
    cancelled = 0
    for chunk in _chunks(source_ids):
        cancelled += LoopTask.objects.filter(
            source_type=source_type, source_id__in=chunk, status=TaskStatus.OPEN
        ).update(status=TaskStatus.CANCELLED, closed_at=at)
    if cancelled:
        audit_record(
            actor=actor,
            verb="control.loop_task.cancel_bulk",
            target_type="control.looptask",
            data={"count": cancelled, "source_type": source_type},
            reason=_clean_reason(reason) or None,
        )
    return cancelled
