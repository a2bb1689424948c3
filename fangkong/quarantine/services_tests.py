"""Writes of the test schedules: sampling tasks from the orders' test days, results (typed by
staff or sent by the lab), and release with a certificate.

Every public function is keyword-only, takes `actor`, runs in one transaction, checks role and
scope itself and is audited with ids only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.control.contracts import OrderRequest
from fangkong.control.models import ACTIVE_STATUSES, ControlOrder, SourceType, TaskKind
from fangkong.control.services import order_propose_bulk, order_release
from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.policy.rules import rule_for
from fangkong.tracing.models import Contact

from .alerts import alert_rows, alerts_insert
from .models import Alert, Certificate, Room, SamplingTask, Stay
from .permissions import HOME_CARERS, SITE_WORKERS, role_of
from .selectors_tests import staff_site_ids

BATCH = 500
CT_MIN, CT_MAX = 0, 45
RESULT_ROLES = SITE_WORKERS | HOME_CARERS | {Role.LAB_STAFF}
SITE_ROLES = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF})
ALL_SEEING = frozenset({Role.COMMANDER, Role.ADMIN})
CERT_PREFIX = "眉解隔"


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timeutils.now()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _require_task_access(actor: Any, task: SamplingTask) -> None:
    """Role first (403), then where (404: out of scope looks like missing)."""
    role = role_of(actor)
    if role not in RESULT_ROLES:
        raise Forbidden(_("您的角色不能录入检测信息。"))
    if role in ALL_SEEING:
        return
    if role in SITE_ROLES:
        if task.site_id is not None and task.site_id in staff_site_ids(user=actor):
            return
    elif code_in_scope(viewer=actor, code=task.division_id):
        return
    raise NotFound(_("检测任务不存在。"))


def _lock_task(task: SamplingTask) -> SamplingTask:
    try:
        return SamplingTask.objects.select_for_update().get(pk=task.pk)
    except SamplingTask.DoesNotExist:
        raise NotFound(_("检测任务不存在。")) from None


# ---------------------------------------------------------------------------------------------
# The schedule


class _Rules:
    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], Any] = {}

    def double_test(self, order: ControlOrder) -> bool:
        key = (order.edition_id, order.category)
        if key not in self._cache:
            self._cache[key] = rule_for(order.edition, order.category)
        rule = self._cache[key]
        return bool(rule is not None and rule.release.double_test)


def _batch_sync(orders: list[ControlOrder], rules: _Rules) -> tuple[int, int]:
    ids = [o.pk for o in orders]
    existing = set(
        SamplingTask.objects.filter(order_id__in=ids).values_list("order_id", "due_date")
    )
    sites = dict(
        Stay.objects.filter(
            person_id__in=[o.person_id for o in orders], checked_out_at__isnull=True
        ).values_list("person_id", "site_id")
    )
    new: list[SamplingTask] = []
    for order in orders:
        days = [
            (i, phase.get("kind", ""), dt.date.fromisoformat(day))
            for i, phase in enumerate(order.phases or [])
            for day in phase.get("test_days", []) or []
        ]
        if not days:
            continue
        last = max(d for _i, _k, d in days)
        double = rules.double_test(order)
        for index, kind, day in days:
            if (order.pk, day) in existing:
                continue
            new.append(
                SamplingTask(
                    order_id=order.pk,
                    person_id=order.person_id,
                    due_date=day,
                    phase_index=index,
                    phase_kind=kind,
                    site_id=sites.get(order.person_id) if kind == "centralized" else None,
                    division_id=order.division_id,
                    required_results=2 if (double and day == last) else 1,
                )
            )
    if new:
        SamplingTask.objects.bulk_create(new, ignore_conflicts=True)
    # A stay that appeared after the tasks were made: fill in the site of pending ones.
    by_site: dict[int, list[int]] = defaultdict(list)
    for pk, person_id in SamplingTask.objects.filter(
        order_id__in=ids,
        status=SamplingTask.Status.PENDING,
        phase_kind="centralized",
        site__isnull=True,
        person_id__in=list(sites),
    ).values_list("pk", "person_id"):
        by_site[sites[person_id]].append(pk)
    placed = 0
    for site_id, pks in by_site.items():
        placed += SamplingTask.objects.filter(pk__in=pks).update(site_id=site_id)
    return len(new), placed


@transaction.atomic
def tasks_sync(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """One task per test day of every active order; cancel the pending tasks of orders that are
    no longer active; raise a MISSED_TEST alert (once) for each pending task past its day.
    Returns how many things it did (tasks made, placed, cancelled, alerts raised)."""
    now = _now(now)
    today = _local_date(now)
    rules = _Rules()
    created = placed = 0
    last_pk = 0
    while True:
        orders = list(
            ControlOrder.objects.filter(status__in=ACTIVE_STATUSES, pk__gt=last_pk)
            .select_related("edition")
            .only(
                "pk",
                "person_id",
                "division_id",
                "category",
                "phases",
                "edition__rules",
                "edition__code",
            )
            .order_by("pk")[:BATCH]
        )
        if not orders:
            break
        last_pk = orders[-1].pk
        made, moved = _batch_sync(orders, rules)
        created += made
        placed += moved

    cancelled = (
        SamplingTask.objects.filter(status=SamplingTask.Status.PENDING)
        .exclude(order__status__in=ACTIVE_STATUSES)
        .update(status=SamplingTask.Status.CANCELLED)
    )

    raised = 0
    already = Alert.objects.filter(
        kind=Alert.Kind.MISSED_TEST, order_id=OuterRef("order_id"), day=OuterRef("due_date")
    )
    overdue = list(
        SamplingTask.objects.filter(status=SamplingTask.Status.PENDING, due_date__lt=today)
        .exclude(Exists(already))
        .select_related("order")
        .order_by("due_date", "pk")
    )
    by_day: dict[dt.date, list[SamplingTask]] = defaultdict(list)
    for task in overdue:
        by_day[task.due_date].append(task)
    for day, tasks in by_day.items():
        rows = alert_rows(
            kind=Alert.Kind.MISSED_TEST,
            orders=[t.order for t in tasks],
            day=day,
            slot="",
            now=now,
            detail=_("检测日 %(day)s 未采样") % {"day": day.isoformat()},
            tasks={t.order_id: t for t in tasks},
        )
        raised += len(alerts_insert(rows))

    done = created + placed + cancelled + raised
    if done:
        audit_record(
            actor=actor,
            verb="quarantine.tasks.sync",
            target_type="quarantine.samplingtask",
            data={"created": created, "placed": placed, "cancelled": cancelled, "alerts": raised},
        )
    return done


# ---------------------------------------------------------------------------------------------
# Sampling and results


@transaction.atomic
def sampling_mark_sampled(
    *, actor: Any, task: SamplingTask, tube_code: str = "", now: dt.datetime | None = None
) -> SamplingTask:
    _require_task_access(actor, task)
    now = _now(now)
    task = _lock_task(task)
    tube_code = str(tube_code or "").strip()
    if len(tube_code) > 40:
        raise ValidationFailed({"tube_code": [_("采样管号不能超过 40 个字符")]})
    if task.status != SamplingTask.Status.PENDING:
        raise Conflict(
            _("该检测任务当前状态为“%(status)s”，不能再登记采样。")
            % {"status": task.get_status_display()},
            code="quarantine.task_not_pending",
        )
    task.status = SamplingTask.Status.SAMPLED
    task.sampled_at = now
    task.tube_code = tube_code
    task.recorded_by = actor
    task.save(update_fields=["status", "sampled_at", "tube_code", "recorded_by"])
    audit_record(
        actor=actor, verb="quarantine.task.sampled", target=task, data={"order": task.order_id}
    )
    return task


def _clean_ct(ct_values: Any, errors: dict[str, list[str]]) -> dict[str, float]:
    if ct_values in (None, "", {}):
        return {}
    if not isinstance(ct_values, dict):
        errors.setdefault("ct_values", []).append(_("Ct 值须为“基因: 数值”的对应表"))
        return {}
    clean: dict[str, float] = {}
    for gene, value in ct_values.items():
        name = str(gene).strip()
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if not name or len(name) > 20:
            errors.setdefault("ct_values", []).append(_("基因名称须为 1-20 个字符"))
        elif number is None or isinstance(value, bool) or not CT_MIN <= number <= CT_MAX:
            errors.setdefault("ct_values", []).append(
                _("%(gene)s 基因的 Ct 值须在 %(min)s 到 %(max)s 之间")
                % {"gene": name, "min": CT_MIN, "max": CT_MAX}
            )
        else:
            clean[name] = number
    return clean


def _upgrade_secondaries(
    *, actor: Any, order: ControlOrder, today: dt.date, now: dt.datetime
) -> int:
    """A close contact tested positive: its secondary contacts under an active measure are
    proposed a close-contact measure (the stricter one supersedes the milder on confirmation)."""
    if order.source_type != SourceType.CONTACT or not str(order.source_id).isdigit():
        return 0
    contact = Contact.objects.filter(pk=int(order.source_id), degree=1).first()
    if contact is None:
        return 0
    secondary_ids = [
        str(pk) for pk in Contact.objects.filter(via=contact, degree=2).values_list("pk", flat=True)
    ]
    if not secondary_ids:
        return 0
    orders = list(
        ControlOrder.objects.filter(
            status__in=ACTIVE_STATUSES,
            source_type=SourceType.CONTACT,
            source_id__in=secondary_ids,
            category="secondary_contact",
        ).select_related("edition")
    )
    if not orders:
        return 0
    requests = [
        OrderRequest(
            person_id=o.person_id,
            division_code=o.division_id,
            category="close_contact",
            anchor_date=o.anchor_date,
            found_on=today,
            source_type=SourceType.CONTACT,
            source_id=o.source_id,
            title=_("次密接升级为密接（对应密接检测阳性）"),
            edition=o.edition,
            task_kind=TaskKind.ORDER,
        )
        for o in orders
    ]
    outcomes = order_propose_bulk(actor=actor, requests=requests, now=now)
    audit_record(
        actor=actor,
        verb="quarantine.secondary.upgrade",
        target=order,
        data={
            "orders": [o.pk for o in orders],
            "proposed": [x.order.pk for x in outcomes if x.order is not None],
        },
    )
    return len(outcomes)


@transaction.atomic
def sampling_result_record(
    *,
    actor: Any,
    task: SamplingTask,
    result: str,
    result_2: str = "",
    ct_values: dict[str, Any] | None = None,
    source: str = "manual",
    now: dt.datetime | None = None,
) -> SamplingTask:
    """Record a result (the lab of issue 8 calls this too). Positive: an alert handed over at
    once, and the secondary contacts of a close contact upgraded."""
    _require_task_access(actor, task)
    now = _now(now)
    task = _lock_task(task)
    errors: dict[str, list[str]] = {}
    results = SamplingTask.Result.values
    if result not in results:
        errors["result"] = [_("请选择检测结果（阴性或阳性）")]
    result_2 = str(result_2 or "")
    if task.required_results == 2:
        if result_2 not in results:
            errors["result_2"] = [_("本次为双采双检，须录入第二份结果")]
    elif result_2:
        errors["result_2"] = [_("本次检测只需一份结果")]
    clean_ct = _clean_ct(ct_values, errors)
    if source not in SamplingTask.ResultSource.values:
        errors["source"] = [_("结果来源无效")]
    if errors:
        raise ValidationFailed(errors)
    if task.status not in (SamplingTask.Status.PENDING, SamplingTask.Status.SAMPLED):
        raise Conflict(
            _("该检测任务当前状态为“%(status)s”，不能录入结果。")
            % {"status": task.get_status_display()},
            code="quarantine.task_not_open",
        )
    task.status = SamplingTask.Status.RESULTED
    task.result = result
    task.result_2 = result_2
    task.ct_values = clean_ct
    task.sampled_at = task.sampled_at or now
    task.resulted_at = now
    task.result_source = source
    task.recorded_by = actor
    task.save()
    positive = SamplingTask.Result.POSITIVE in (result, result_2)
    audit_record(
        actor=actor,
        verb="quarantine.task.result",
        target=task,
        data={"order": task.order_id, "source": source},  # no results in audits
    )
    if positive:
        order = ControlOrder.objects.select_related("edition").get(pk=task.order_id)
        today = _local_date(now)
        rows = alert_rows(
            kind=Alert.Kind.POSITIVE,
            orders=[order],
            day=today,
            slot="",
            now=now,
            detail=_("检测日 %(day)s 结果阳性") % {"day": task.due_date.isoformat()},
            tasks={order.pk: task},
            handed_over=True,
        )
        alerts_insert(rows)
        _upgrade_secondaries(actor=actor, order=order, today=today, now=now)
    return task


# ---------------------------------------------------------------------------------------------
# Release and certificate


def _next_number(year: int) -> str:
    prefix = f"{CERT_PREFIX}〔{year}〕"
    taken = Certificate.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    high = 0
    for number in taken:
        digits = number[len(prefix) :].removesuffix("号")
        if digits.isdigit():
            high = max(high, int(digits))
    return f"{prefix}{high + 1}号"


@transaction.atomic
def order_release_certify(
    *, actor: Any, order: ControlOrder, reason: str = "", now: dt.datetime | None = None
) -> Certificate:
    """Release the order (control checks the period and every release condition), check the
    person out of their site, and issue a numbered certificate."""
    now = _now(now)
    today = _local_date(now)
    stay = (
        Stay.objects.select_for_update()
        .filter(person_id=order.person_id, checked_out_at__isnull=True)
        .first()
    )
    authorized = bool(
        stay is not None
        and role_of(actor) in SITE_ROLES
        and stay.site_id in staff_site_ids(user=actor)
        and stay.order_id == order.pk
    )
    order = order_release(
        actor=actor, order=order, reason=reason, today=today, now=now, authorized=authorized
    )
    if stay is not None:
        stay.checked_out_at = now
        stay.checked_out_by = actor
        stay.out_reason = Stay.OutReason.RELEASE
        stay.save(update_fields=["checked_out_at", "checked_out_by", "out_reason"])
        if not Stay.objects.filter(room_id=stay.room_id, checked_out_at__isnull=True).exists():
            Room.objects.filter(pk=stay.room_id).update(status=Room.Status.DISINFECTION)
    certificate = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(
                    order=order,
                    number=_next_number(today.year),
                    verify_code=secrets.token_urlsafe(16),
                    start_date=order.start_date,
                    end_date=today,
                    issued_at=now,
                    issued_by=actor,
                )
            break
        except IntegrityError:
            if Certificate.objects.filter(order=order).exists():
                raise Conflict(
                    _("该措施已签发解除隔离证明。"), code="quarantine.certified"
                ) from None
    if certificate is None:
        raise Conflict(_("证明编号分配冲突，请重试。"), code="quarantine.number_conflict")
    audit_record(
        actor=actor,
        verb="quarantine.order.release_certify",
        target=certificate,
        data={"order": order.pk, "stay": stay.pk if stay else None, "authorized": authorized},
    )
    return certificate


@transaction.atomic
def document_download_audit(
    *, actor: Any, kind: str, order_id: int, object_id: int | None = None
) -> None:
    """A PDF with personal data left the system: audited (ids only)."""
    audit_record(
        actor=actor,
        verb=f"quarantine.{kind}.download",
        target_type="control.controlorder",
        target_id=order_id,
        data={"object": object_id},
    )
