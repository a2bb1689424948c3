"""Writes of health checks, personal links, alerts (scan, escalation, resolve) and door visits.

A check is recorded by site staff (people with an open Stay at their site), a home carer (the
order's grid in their scope), the county's commander/admin, or the person through a personal
link (actor None, source self). An abnormal check (fever or a symptom) raises a FEVER or
SYMPTOM alert handed over at once to the fever clinic and the HQ. A missed slot gets a
MISSED_CHECK alert from `alerts_scan`, resolved ("已补报") when the check comes in later.
Unresolved alerts climb village -> town -> county (`alerts_escalate`). Audit data holds ids
and counts only, never temperatures, symptoms or names.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.control.models import ACTIVE_STATUSES, ControlOrder
from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.db import insert_returning, insert_unless_conflict
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope

from .alerts import alert_rows, alerts_insert
from .models import (
    Alert,
    DoorVisit,
    HealthCheck,
    HealthLink,
    QuarantineSettings,
    SiteStaff,
    Slot,
    Stay,
    Symptom,
)
from .permissions import HOME_CARERS, SITE_WORKERS, role_of
from .selectors_sites import phase_on, settings_get

BULK_MAX = 1000
PHOTO_MAX = 5 * 1024 * 1024
RESOLVED_BY_LATE_CHECK = "已补报"
TEMP_MIN, TEMP_MAX = Decimal("34"), Decimal("43")
_SYMPTOMS = frozenset(Symptom.values)
_SLOTS = frozenset(Slot.values)
_COUNTY_RECORDERS = frozenset({Role.COMMANDER, Role.ADMIN})


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timeutils.now()


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _fever(settings: QuarantineSettings) -> Decimal:
    return Decimal(str(settings.fever_threshold))


def _not_active() -> str:
    return _("该人员当前没有执行中的管控措施")


def _actor_sites(actor: Any) -> set[int]:
    return set(
        SiteStaff.objects.filter(user_id=actor.pk, active=True).values_list("site_id", flat=True)
    )


def _source_for(actor: Any) -> str:
    role = role_of(actor)
    if role in (Role.SITE_STAFF, Role.MEDICAL_STAFF):
        return HealthCheck.Source.SITE_STAFF
    if role == Role.GRID_WORKER:
        return HealthCheck.Source.GRID_WORKER
    return HealthCheck.Source.OTHER


def _may_record_for(actor: Any, orders: list[ControlOrder]) -> set[int]:
    """Ids of the orders the actor may record checks for (a constant number of queries)."""
    role = role_of(actor)
    if role in _COUNTY_RECORDERS:
        return {o.pk for o in orders}
    allowed: set[int] = set()
    if role in HOME_CARERS:
        allowed |= {o.pk for o in orders if code_in_scope(viewer=actor, code=o.division_id)}
    if role in SITE_WORKERS:
        rest = [o for o in orders if o.pk not in allowed]
        if rest:
            persons = set(
                Stay.objects.filter(
                    person_id__in=[o.person_id for o in rest],
                    checked_out_at__isnull=True,
                    site__staff__user_id=actor.pk,
                    site__staff__active=True,
                ).values_list("person_id", flat=True)
            )
            allowed |= {o.pk for o in rest if o.person_id in persons}
    return allowed


def _clean_check(
    *,
    order: ControlOrder | None,
    day: Any,
    slot: Any,
    temperature: Any,
    symptoms: Any,
    note: Any,
    today: dt.date,
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if order is None or order.status not in ACTIVE_STATUSES:
        errors["order_id"] = [_not_active()]
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day.strip())
        except ValueError:
            day = None
    if not isinstance(day, dt.date):
        errors["day"] = [_("请填写日期（YYYY-MM-DD）。")]
    elif day > today:
        errors["day"] = [_("日期不能晚于今天。")]
    elif order is not None and day < order.start_date:
        errors["day"] = [_("日期不能早于管控措施开始的日期。")]
    clean["day"] = day
    if slot not in _SLOTS:
        errors["slot"] = [_("时段须为上午（am）或下午（pm）。")]
    clean["slot"] = slot
    try:
        value = Decimal(str(temperature).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        value = None
    if value is None or not value.is_finite() or not (TEMP_MIN <= value <= TEMP_MAX):
        errors["temperature"] = [_("体温须在 34 至 43 ℃ 之间。")]
    clean["temperature"] = value
    if symptoms in (None, ""):
        symptoms = []
    if not isinstance(symptoms, list | tuple) or any(s not in _SYMPTOMS for s in symptoms):
        errors["symptoms"] = [_("症状须从给定的症状中选择。")]
        symptoms = []
    clean["symptoms"] = sorted(set(symptoms))
    note = str(note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("备注不能超过 200 字。")]
    clean["note"] = note
    return errors, clean


def _due_passed(settings: QuarantineSettings, *, day: dt.date, slot: str, now: dt.datetime) -> bool:
    local = _local(now)
    hour = settings.morning_due_hour if slot == Slot.MORNING else settings.evening_due_hour
    return day < local.date() or (day == local.date() and local.hour >= hour)


def _raise_abnormal(
    *, settings: QuarantineSettings, items: list[tuple[ControlOrder, dict[str, Any], int]], now
) -> int:
    """FEVER / SYMPTOM alerts for abnormal new checks, handed over at once: ids raised."""
    groups: dict[tuple[str, dt.date, str], list[tuple[ControlOrder, int]]] = {}
    for order, clean, check_id in items:
        kind = Alert.Kind.FEVER if clean["temperature"] >= _fever(settings) else Alert.Kind.SYMPTOM
        groups.setdefault((kind, clean["day"], clean["slot"]), []).append((order, check_id))
    raised = 0
    for (kind, day, slot), pairs in groups.items():
        rows = alert_rows(
            kind=kind,
            orders=[o for o, _c in pairs],
            day=day,
            slot=slot,
            now=now,
            checks={o.pk: HealthCheck(pk=c) for o, c in pairs},
            handed_over=True,
        )
        raised += len(alerts_insert(rows))
    return raised


def _resolve_missed(*, keys: list[tuple[int, dt.date, str]], actor: Any, now) -> int:
    """The MISSED_CHECK alerts of these (order, day, slot) resolved as "已补报"."""
    if not keys:
        return 0
    wanted = set(keys)
    open_ids = [
        pk
        for pk, order_id, day, slot in Alert.objects.filter(
            kind=Alert.Kind.MISSED_CHECK,
            resolved_at__isnull=True,
            order_id__in={k[0] for k in keys},
            day__in={k[1] for k in keys},
        ).values_list("pk", "order_id", "day", "slot")
        if (order_id, day, slot) in wanted
    ]
    if not open_ids:
        return 0
    return Alert.objects.filter(pk__in=open_ids).update(
        resolved_at=now, resolved_by=_actor_or_none(actor), resolution=RESOLVED_BY_LATE_CHECK
    )


def _check_row(
    *,
    order: ControlOrder,
    clean: dict[str, Any],
    abnormal: bool,
    source: str,
    recorded_by: int | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The columns of one health check, for the single and the batch insert."""
    return {
        "order": order.pk,
        "person": order.person_id,
        "day": clean["day"],
        "slot": clean["slot"],
        "temperature": clean["temperature"],
        "symptoms": clean["symptoms"],
        "abnormal": abnormal,
        "note": clean["note"],
        "source": source,
        "recorded_by": recorded_by,
        "recorded_at": now,
    }


@transaction.atomic
def health_check_record(
    *,
    actor: Any,
    order: ControlOrder,
    day: Any,
    slot: Any,
    temperature: Any,
    symptoms: Any,
    note: str = "",
    source: str | None = None,
    now: dt.datetime | None = None,
) -> HealthCheck:
    """One check: 400 naming the field, 409 for a second check of the same slot."""
    now = _now(now)
    if actor is None:
        if source != HealthCheck.Source.SELF:
            raise Forbidden()
    else:
        role = role_of(actor)
        if role not in HOME_CARERS | SITE_WORKERS:
            raise Forbidden(_("您的角色不能录入健康监测。"))
        if order.pk not in _may_record_for(actor, [order]):
            raise NotFound()
        source = _source_for(actor)  # staff never pass as the person themself
    errors, clean = _clean_check(
        order=order,
        day=day,
        slot=slot,
        temperature=temperature,
        symptoms=symptoms,
        note=note,
        today=_local(now).date(),
    )
    if errors:
        raise ValidationFailed(errors)
    settings = settings_get()
    abnormal = clean["temperature"] >= _fever(settings) or bool(clean["symptoms"])
    row = insert_unless_conflict(
        HealthCheck,
        _check_row(
            order=order,
            clean=clean,
            abnormal=abnormal,
            source=source,
            recorded_by=getattr(_actor_or_none(actor), "pk", None),
            now=now,
        ),
    )
    if row is None:
        raise Conflict(_("该人员这一时段的体温已经报告过，不能重复报告。"), code="duplicate")
    check = HealthCheck(
        pk=row[0],
        order_id=order.pk,
        person_id=order.person_id,
        recorded_by=_actor_or_none(actor),
        recorded_at=now,
        source=source,
        abnormal=abnormal,
        **clean,
    )
    check._state.adding = False
    if abnormal:
        _raise_abnormal(settings=settings, items=[(order, clean, check.pk)], now=now)
    if _due_passed(settings, day=check.day, slot=check.slot, now=now):
        _resolve_missed(keys=[(order.pk, check.day, check.slot)], actor=actor, now=now)
    audit_record(
        actor=actor,
        verb="health_check.record",
        target_type="quarantine.healthcheck",
        target_id=check.pk,
        data={"order_id": order.pk, "source": source},  # no health data in audits
    )
    return check


@transaction.atomic
def health_checks_record_bulk(
    *, actor: Any, rows: list[dict[str, Any]], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Many checks at once (<= 1000): {"created": [ids], "duplicates": n, "errors": {index:
    {field: [messages]}}}. Bad rows are reported, good rows kept."""
    now = _now(now)
    role = role_of(actor)
    if role not in HOME_CARERS | SITE_WORKERS:
        raise Forbidden(_("您的角色不能录入健康监测。"))
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed({"items": [_("请至少提交一条记录。")]})
    if len(rows) > BULK_MAX:
        raise ValidationFailed({"items": [_("一次最多提交 %(n)s 条。") % {"n": BULK_MAX}]})
    ids: set[int] = set()
    for row in rows:
        value = row.get("order_id") if isinstance(row, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
    orders = {
        o.pk: o
        for o in ControlOrder.objects.filter(pk__in=ids).only(
            "pk", "person_id", "division_id", "status", "start_date"
        )
    }
    allowed = _may_record_for(actor, list(orders.values()))
    today = _local(now).date()
    source = _source_for(actor)
    errors: dict[int, dict[str, list[str]]] = {}
    good: list[tuple[ControlOrder, dict[str, Any]]] = []
    seen: set[tuple[int, dt.date, str]] = set()
    duplicates = 0
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[index] = {"items": [_("每条记录须为一个对象。")]}
            continue
        order = orders.get(row.get("order_id"))
        if order is not None and order.pk not in allowed:
            order = None
        if order is None:
            errors[index] = {"order_id": [_("未找到该管控措施，或不在您的管辖范围内。")]}
            continue
        row_errors, clean = _clean_check(
            order=order,
            day=row.get("day"),
            slot=row.get("slot"),
            temperature=row.get("temperature"),
            symptoms=row.get("symptoms"),
            note=row.get("note", ""),
            today=today,
        )
        if row_errors:
            errors[index] = row_errors
            continue
        key = (order.pk, clean["day"], clean["slot"])
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        good.append((order, clean))
    settings = settings_get()
    values = []
    for order, clean in good:
        clean["abnormal"] = clean["temperature"] >= _fever(settings) or bool(clean["symptoms"])
        values.append(
            _check_row(
                order=order,
                clean=clean,
                abnormal=clean["abnormal"],
                source=source,
                recorded_by=actor.pk,
                now=now,
            )
        )
    created: dict[tuple[int, dt.date, str], int] = {}
    for start in range(0, len(values), 500):
        for pk, order_id, day, slot in insert_returning(
            HealthCheck,
            values[start : start + 500],
            returning=("id", "order", "day", "slot"),
            unless_conflict=True,
        ):
            if isinstance(day, str):
                day = dt.date.fromisoformat(day)
            created[(order_id, day, slot)] = pk
    duplicates += len(good) - len(created)
    abnormal = [
        (order, clean, created[(order.pk, clean["day"], clean["slot"])])
        for order, clean in good
        if clean["abnormal"] and (order.pk, clean["day"], clean["slot"]) in created
    ]
    if abnormal:
        _raise_abnormal(settings=settings, items=abnormal, now=now)
    late = [k for k in created if _due_passed(settings, day=k[1], slot=k[2], now=now)]
    resolved = _resolve_missed(keys=late, actor=actor, now=now)
    audit_record(
        actor=actor,
        verb="health_check.record_bulk",
        target_type="quarantine.healthcheck",
        data={
            "created": len(created),
            "duplicates": duplicates,
            "errors": len(errors),
            # No count of fevers or symptoms: with one row it would say whose.
            "resolved": resolved,
            "order_ids": sorted({k[0] for k in created}),
        },
    )
    return {
        "created": sorted(created.values()),
        "duplicates": duplicates,
        "errors": errors,
    }


# ---------------------------------------------------------------------------------------------
# Personal links


def _require_carer_of(actor: Any, order: ControlOrder) -> None:
    role = role_of(actor)
    if role not in HOME_CARERS | SITE_WORKERS:
        raise Forbidden(_("您的角色不能管理健康申报链接。"))
    if order.pk not in _may_record_for(actor, [order]):
        raise NotFound()


@transaction.atomic
def health_link_create(
    *, actor: Any, order: ControlOrder, now: dt.datetime | None = None
) -> HealthLink:
    """A new random link for the order (an older one stops working)."""
    now = _now(now)
    _require_carer_of(actor, order)
    if order.status not in ACTIVE_STATUSES:
        raise ValidationFailed({"order_id": [_not_active()]})
    link, _created = HealthLink.objects.update_or_create(
        order=order,
        defaults={
            "token": secrets.token_urlsafe(32),
            "created_at": now,
            "created_by": _actor_or_none(actor),
            "revoked_at": None,
        },
    )
    audit_record(actor=actor, verb="health_link.create", target=link, data={"order_id": order.pk})
    return link


@transaction.atomic
def health_link_revoke(*, actor: Any, order: ControlOrder, now: dt.datetime | None = None) -> int:
    """Stop the order's link: the number of links revoked (0 when there was none)."""
    now = _now(now)
    _require_carer_of(actor, order)
    count = HealthLink.objects.filter(order=order, revoked_at__isnull=True).update(revoked_at=now)
    if count:
        audit_record(
            actor=actor,
            verb="health_link.revoke",
            target_type="quarantine.healthlink",
            data={"order_id": order.pk},
        )
    return count


# ---------------------------------------------------------------------------------------------
# Alerts


@transaction.atomic
def alerts_scan(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """MISSED_CHECK alerts for today's slots past their due hour: the number raised."""
    now = _now(now)
    settings = settings_get()
    local = _local(now)
    today = local.date()
    raised = 0
    for slot, hour in (
        (Slot.MORNING, settings.morning_due_hour),
        (Slot.EVENING, settings.evening_due_hour),
    ):
        if local.hour < hour:
            continue
        checked = HealthCheck.objects.filter(order_id=OuterRef("pk"), day=today, slot=slot)
        alerted = Alert.objects.filter(
            order_id=OuterRef("pk"), kind=Alert.Kind.MISSED_CHECK, day=today, slot=slot
        )
        orders = [
            order
            for order in ControlOrder.objects.filter(
                status__in=ACTIVE_STATUSES, start_date__lte=today
            )
            .filter(~Exists(checked), ~Exists(alerted))
            .only("pk", "person_id", "division_id", "phases")
            # A case in hospital is monitored by the hospital, not by these checks.
            if (today_phase := phase_on(phases=order.phases, day=today)) is None
            or today_phase.get("kind") != "hospital"
        ]
        if not orders:
            continue
        rows = alert_rows(
            kind=Alert.Kind.MISSED_CHECK,
            orders=orders,
            day=today,
            slot=slot,
            now=now,
            detail=_("%(slot)s体温未按时报告") % {"slot": Slot(slot).label},
        )
        raised += len(alerts_insert(rows))
    if raised:
        audit_record(
            actor=actor, verb="alert.scan", target_type="quarantine.alert", data={"raised": raised}
        )
    return raised


@transaction.atomic
def alerts_escalate(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """Unresolved alerts move up the chain by the time since they were raised: the number
    moved. Three statements; a second run moves nothing."""
    now = _now(now)
    settings = settings_get()
    moved = 0
    for level, hours in (
        (Alert.Level.COUNTY, settings.county_after_hours),
        (Alert.Level.TOWN, settings.town_after_hours),
        (Alert.Level.VILLAGE, settings.village_after_hours),
    ):
        moved += Alert.objects.filter(
            resolved_at__isnull=True,
            level__lt=level,
            raised_at__lte=now - dt.timedelta(hours=hours),
        ).update(level=level, escalated_at=now)
    if moved:
        audit_record(
            actor=actor,
            verb="alert.escalate",
            target_type="quarantine.alert",
            data={"moved": moved},
        )
    return moved


@transaction.atomic
def alert_resolve(
    *, actor: Any, alert: Alert, resolution: Any, now: dt.datetime | None = None
) -> Alert:
    """Close an alert with what was done (required). `alert` comes from the scoped selector."""
    now = _now(now)
    # The carers and the site workers answer alerts; the county leader and the epidemiologists
    # read them (alert_queryset) but do not close them.
    if role_of(actor) not in HOME_CARERS | SITE_WORKERS:
        raise Forbidden(_("您的角色不能处置健康预警。"))
    text = str(resolution or "").strip()
    if not text:
        raise ValidationFailed({"resolution": [_("请填写处置情况。")]})
    if len(text) > 200:
        raise ValidationFailed({"resolution": [_("处置情况不能超过 200 字。")]})
    updated = Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, resolution=text
    )
    if not updated:
        raise Conflict(_("该预警已经处置。"), code="resolved")
    alert.resolved_at, alert.resolved_by, alert.resolution = now, actor, text
    audit_record(actor=actor, verb="alert.resolve", target=alert, data={"order_id": alert.order_id})
    return alert


# ---------------------------------------------------------------------------------------------
# Door visits

_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))


def _photo_ext(photo: Any) -> str | None:
    photo.seek(0)
    head = photo.read(8)
    photo.seek(0)
    for magic, ext in _MAGIC:
        if head.startswith(magic):
            return ext
    return None


@transaction.atomic
def door_visit_record(
    *,
    actor: Any,
    order: ControlOrder,
    outcome: Any,
    note: Any = "",
    photo: Any = None,
    now: dt.datetime | None = None,
) -> DoorVisit:
    """A visit to a person under home measures, with an optional door-seal photo (JPEG/PNG,
    <= 5 MB, checked by its first bytes; stored under a random name)."""
    now = _now(now)
    if role_of(actor) not in HOME_CARERS:
        raise Forbidden(_("您的角色不能登记上门查访。"))
    if not code_in_scope(viewer=actor, code=order.division_id):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if order.status not in ACTIVE_STATUSES:
        errors["order_id"] = [_not_active()]
    if outcome not in DoorVisit.Outcome.values:
        errors["outcome"] = [_("请选择查访情况。")]
    note = str(note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("说明不能超过 200 字。")]
    ext = None
    if photo is not None:
        if photo.size > PHOTO_MAX:
            errors["photo"] = [_("照片不能超过 5 MB。")]
        else:
            ext = _photo_ext(photo)
            if ext is None:
                errors["photo"] = [_("照片须为 JPEG 或 PNG 图片。")]
    if errors:
        raise ValidationFailed(errors)
    visit = DoorVisit(
        order=order,
        person_id=order.person_id,
        division_id=order.division_id,
        visited_at=now,
        visited_by=actor,
        outcome=outcome,
        note=note,
    )
    if photo is not None and ext:
        visit.photo.save(f"{uuid.uuid4().hex}.{ext}", photo, save=False)
    visit.save()
    audit_record(
        actor=actor,
        verb="door_visit.record",
        target=visit,
        data={"order_id": order.pk, "outcome": outcome, "photo": bool(visit.photo)},
    )
    return visit
