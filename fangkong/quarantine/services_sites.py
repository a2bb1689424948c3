"""Writes of sites, rooms, staff, stays (assign, transfer, check out), moving home, settings.

Every service checks the role (403) and the scope (404) itself, validates field by field (400,
nothing written), refuses what the rules forbid (409) and audits with ids only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control import services as control_services
from fangkong.control.models import ACTIVE_STATUSES, ControlOrder, SourceType
from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.geo.models import Division
from fangkong.tracing.models import Contact

from . import selectors_sites as sel
from .models import PhaseTransfer, QuarantineSettings, Room, Site, SiteStaff, Stay
from .permissions import SITE_ADMINS, SITE_WORKERS, role_of

MAX_ROOMS_PER_BATCH = 2000
STAFF_USER_ROLES = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF})


# --- permission helpers -----------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if role_of(actor) not in SITE_ADMINS:
        raise Forbidden(_("只有县指挥部或系统管理员可以管理隔离点。"))


def _require_site_worker(actor: Any, site: Site) -> None:
    """Staff of this site, or a site administrator; out of scope looks like missing."""
    role = role_of(actor)
    if role not in SITE_WORKERS:
        raise Forbidden(_("您的角色不能办理隔离点入住。"))
    if not sel.site_queryset(viewer=actor).filter(pk=site.pk).exists():
        raise NotFound(_("隔离点不存在。"))
    if role in SITE_ADMINS:
        return
    if not SiteStaff.objects.filter(site=site, user=actor, active=True).exists():
        raise NotFound(_("隔离点不存在。"))


def _text(data: dict[str, Any], key: str) -> str:
    return str(data.get(key) or "").strip()


# --- sites ------------------------------------------------------------------------------------


SITE_FIELDS = ("name", "kind", "division_code", "address", "manager_name", "manager_phone", "note")


def _site_values(
    data: dict[str, Any], *, actor: Any, partial: bool, site: Site | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    required = ("name", "kind", "division_code", "address", "manager_name", "manager_phone")
    limits = {"name": 100, "address": 200, "manager_name": 50, "manager_phone": 20, "note": 300}
    for key in SITE_FIELDS:
        if partial and data.get(key) is None:
            continue
        value = _text(data, key)
        if key in required and not value:
            errors.setdefault(key, []).append(_("此项必填"))
            continue
        if key in limits and len(value) > limits[key]:
            errors.setdefault(key, []).append(_("不能超过 %(n)s 个字") % {"n": limits[key]})
            continue
        values[key] = value
    if "kind" in values and values["kind"] not in Site.Kind.values:
        errors.setdefault("kind", []).append(_("类型无效"))
    if "division_code" in values:
        code = values.pop("division_code")
        if not Division.objects.filter(code=code).exists() or not code_in_scope(
            viewer=actor, code=code
        ):
            errors.setdefault("division_code", []).append(_("区划代码不存在或不在您的辖区"))
        else:
            values["division_id"] = code
    if "name" in values:
        clash = Site.objects.filter(name=values["name"])
        if site is not None:
            clash = clash.exclude(pk=site.pk)
        if clash.exists():
            errors.setdefault("name", []).append(_("已有同名隔离点"))
    if data.get("active") is not None:
        values["active"] = bool(data.get("active"))
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def site_create(*, actor: Any, data: dict[str, Any]) -> Site:
    _require_admin(actor)
    values = _site_values(data, actor=actor, partial=False, site=None)
    site = Site.objects.create(**values)
    audit_record(actor=actor, verb="quarantine.site.create", target=site, data={})
    return site


@transaction.atomic
def site_update(*, actor: Any, site: Site, data: dict[str, Any]) -> Site:
    _require_admin(actor)
    if not sel.site_queryset(viewer=actor).filter(pk=site.pk).exists():
        raise NotFound(_("隔离点不存在。"))
    values = _site_values(data, actor=actor, partial=True, site=site)
    for key, value in values.items():
        setattr(site, key, value)
    site.save()
    audit_record(
        actor=actor, verb="quarantine.site.update", target=site, data={"fields": sorted(values)}
    )
    return site


# --- rooms ------------------------------------------------------------------------------------


def _int_field(
    data: dict[str, Any], key: str, errors: dict[str, list[str]], *, lo: int, hi: int
) -> int | None:
    raw = data.get(key)
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors.setdefault(key, []).append(_("须为整数"))
        return None
    if not lo <= value <= hi:
        errors.setdefault(key, []).append(_("须在 %(lo)s 到 %(hi)s 之间") % {"lo": lo, "hi": hi})
        return None
    return value


def _room_plan(data: dict[str, Any]) -> list[tuple[int, str]]:
    """[(floor, number)] from a list ("numbers": "201, 202" / floor) or ranges of floors and rooms."""
    errors: dict[str, list[str]] = {}
    numbers = data.get("numbers")
    if numbers:
        items = numbers if isinstance(numbers, list) else str(numbers).replace("，", ",").split(",")
        floor = _int_field({"floor": data.get("floor") or 1}, "floor", errors, lo=-5, hi=200)
        plan = []
        for item in items:
            number = str(item).strip()
            if not number:
                continue
            if len(number) > 20:
                errors.setdefault("numbers", []).append(_("房间号不能超过 20 个字"))
                break
            plan.append((floor or 1, number))
        if not plan:
            errors.setdefault("numbers", []).append(_("请填写房间号"))
    else:
        floor_from = _int_field(data, "floor_from", errors, lo=-5, hi=200)
        floor_to = _int_field(data, "floor_to", errors, lo=-5, hi=200)
        room_from = _int_field(data, "room_from", errors, lo=1, hi=999)
        room_to = _int_field(data, "room_to", errors, lo=1, hi=999)
        plan = []
        if not errors:
            assert floor_from is not None
            assert floor_to is not None
            assert room_from is not None
            assert room_to is not None
            if floor_to < floor_from:
                errors.setdefault("floor_to", []).append(_("结束楼层不能小于开始楼层"))
            if room_to < room_from:
                errors.setdefault("room_to", []).append(_("结束房号不能小于开始房号"))
            width = 3 if room_to >= 100 else 2
            plan = [
                (f, f"{f}{r:0{width}d}")
                for f in range(floor_from, floor_to + 1)
                for r in range(room_from, room_to + 1)
            ]
    if len(plan) > MAX_ROOMS_PER_BATCH:
        errors.setdefault("room_to", []).append(
            _("一次最多添加 %(n)s 间") % {"n": MAX_ROOMS_PER_BATCH}
        )
    if len({n for _f, n in plan}) != len(plan):
        errors.setdefault("numbers", []).append(_("房间号有重复"))
    if errors:
        raise ValidationFailed(errors)
    return plan


@transaction.atomic
def rooms_add(*, actor: Any, site: Site, data: dict[str, Any]) -> list[Room]:
    """Add rooms in bulk: floors floor_from..floor_to × rooms room_from..room_to (201, 202 ...),
    or a list of numbers on one floor; each with `capacity` beds."""
    _require_admin(actor)
    if not sel.site_queryset(viewer=actor).filter(pk=site.pk).exists():
        raise NotFound(_("隔离点不存在。"))
    errors: dict[str, list[str]] = {}
    capacity = _int_field({"capacity": data.get("capacity") or 1}, "capacity", errors, lo=1, hi=20)
    try:
        plan = _room_plan(data)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        plan = []
    if errors:
        raise ValidationFailed(errors)
    existing = set(
        Room.objects.filter(site=site, number__in=[n for _f, n in plan]).values_list(
            "number", flat=True
        )
    )
    if existing:
        raise ValidationFailed(
            {
                "numbers": [
                    _("房间已存在：%(rooms)s") % {"rooms": _("、").join(sorted(existing)[:10])}
                ]
            }
        )
    rooms = Room.objects.bulk_create(
        [Room(site=site, floor=f, number=n, capacity=capacity or 1) for f, n in plan]
    )
    audit_record(actor=actor, verb="quarantine.rooms.add", target=site, data={"count": len(rooms)})
    return rooms


@transaction.atomic
def room_update(*, actor: Any, room: Room, data: dict[str, Any]) -> Room:
    """Set a room's status (free / awaiting disinfection / out of service), capacity or note."""
    role = role_of(actor)
    _require_site_worker(actor, room.site)
    room = Room.objects.select_for_update().get(pk=room.pk)
    used = Stay.objects.filter(room=room, checked_out_at__isnull=True).count()
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    status = data.get("status")
    if status not in (None, ""):
        allowed = (Room.Status.FREE, Room.Status.DISINFECTION, Room.Status.OUT_OF_SERVICE)
        if status not in allowed:
            errors.setdefault("status", []).append(_("状态只能设为空闲、待消杀或停用"))
        elif used:
            errors.setdefault("status", []).append(_("房间有人入住，不能更改状态"))
        else:
            room.status = status
            changed.append("status")
    if data.get("capacity") not in (None, ""):
        if role not in SITE_ADMINS:
            raise Forbidden(_("只有县指挥部或系统管理员可以修改床位数。"))
        capacity = _int_field(data, "capacity", errors, lo=1, hi=20)
        if capacity is not None and capacity < used:
            errors.setdefault("capacity", []).append(
                _("房间现有 %(n)s 人入住，床位不能少于此数") % {"n": used}
            )
        elif capacity is not None:
            room.capacity = capacity
            changed.append("capacity")
    if data.get("note") is not None:
        note = _text(data, "note")
        if len(note) > 200:
            errors.setdefault("note", []).append(_("不能超过 %(n)s 个字") % {"n": 200})
        else:
            room.note = note
            changed.append("note")
    if errors:
        raise ValidationFailed(errors)
    if changed:
        room.save(update_fields=changed)
    audit_record(
        actor=actor,
        verb="quarantine.room.update",
        target=room,
        data={"site_id": room.site_id, "fields": changed, "status": room.status},
    )
    return room


@transaction.atomic
def room_disinfected(*, actor: Any, room: Room) -> Room:
    """Awaiting disinfection -> free."""
    _require_site_worker(actor, room.site)
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.status != Room.Status.DISINFECTION:
        raise Conflict(_("该房间不是待消杀状态。"), code="quarantine.room_not_dirty")
    room.status = Room.Status.FREE
    room.save(update_fields=["status"])
    audit_record(
        actor=actor, verb="quarantine.room.disinfected", target=room, data={"site_id": room.site_id}
    )
    return room


# --- staff ------------------------------------------------------------------------------------


@transaction.atomic
def staff_add(*, actor: Any, site: Site, user_id: Any, duty: str) -> SiteStaff:
    _require_admin(actor)
    if not sel.site_queryset(viewer=actor).filter(pk=site.pk).exists():
        raise NotFound(_("隔离点不存在。"))
    errors: dict[str, list[str]] = {}
    user = None
    try:
        user = User.objects.filter(pk=int(user_id), is_active=True).first()
    except (TypeError, ValueError):
        user = None
    if user is None or user.role not in STAFF_USER_ROLES:
        errors["user_id"] = [_("请选择隔离点工作人员或医务人员的账号")]
    if duty not in SiteStaff.Duty.values:
        errors["duty"] = [_("岗位无效")]
    if errors:
        raise ValidationFailed(errors)
    staff, created = SiteStaff.objects.get_or_create(
        site=site, user=user, defaults={"duty": duty, "active": True}
    )
    if not created:
        staff.duty = duty
        staff.active = True
        staff.save(update_fields=["duty", "active"])
    audit_record(
        actor=actor,
        verb="quarantine.staff.add",
        target=site,
        data={"user_id": staff.user_id, "duty": duty},
    )
    return staff


@transaction.atomic
def staff_remove(*, actor: Any, site: Site, user_id: int) -> None:
    _require_admin(actor)
    if not sel.site_queryset(viewer=actor).filter(pk=site.pk).exists():
        raise NotFound(_("隔离点不存在。"))
    staff = SiteStaff.objects.filter(site=site, user_id=user_id, active=True).first()
    if staff is None:
        raise NotFound(_("该账号不是本隔离点工作人员。"))
    staff.active = False
    staff.save(update_fields=["active"])
    audit_record(
        actor=actor, verb="quarantine.staff.remove", target=site, data={"user_id": user_id}
    )


# --- stays ------------------------------------------------------------------------------------


def _cohort_of(order: ControlOrder) -> str:
    """ "cluster:<id>" / "case:<id>" for a contact's order, "" for everyone else."""
    if order.source_type != SourceType.CONTACT or not str(order.source_id).isdigit():
        return ""
    row = (
        Contact.objects.filter(pk=int(order.source_id))
        .values("case_id", "case__cluster_id")
        .first()
    )
    if row is None:
        return ""
    if row["case__cluster_id"]:
        return f"cluster:{row['case__cluster_id']}"
    return f"case:{row['case_id']}"


def _check_order(order: ControlOrder, today: dt.date) -> None:
    if order.status not in ACTIVE_STATUSES:
        raise Conflict(_("该管控措施未在执行中，不能安排入住。"), code="quarantine.order_inactive")
    phase = sel.phase_on(phases=order.phases, day=today)
    if not phase or phase.get("kind") != sel.CENTRALIZED:
        raise Conflict(
            _("该人员今天不在集中隔离阶段，不能安排入住。"), code="quarantine.not_centralized"
        )


def _check_room(room: Room, *, order: ControlOrder, cohort: str, household_id: int | None) -> None:
    """The room is locked by the caller: status, beds, sharing and cohort rules."""
    if room.status == Room.Status.OUT_OF_SERVICE:
        raise Conflict(_("该房间已停用，请换一间。"), code="quarantine.room_out_of_service")
    if room.status == Room.Status.DISINFECTION:
        raise Conflict(_("该房间待消杀，消杀后才能入住。"), code="quarantine.room_dirty")
    if not room.site.active:
        raise Conflict(_("该隔离点已停用。"), code="quarantine.site_inactive")
    occupants = list(
        Stay.objects.filter(room=room, checked_out_at__isnull=True).values(
            "person_id", "household_id", "cohort"
        )
    )
    if len(occupants) >= room.capacity:
        raise Conflict(_("该房间刚刚已满，请换一间。"), code="quarantine.room_full")
    if not occupants:
        return
    sharing = sel.settings_get().sharing
    if sharing == QuarantineSettings.Sharing.NEVER:
        raise Conflict(_("按现行规则一律单人单间，该房间已有人入住。"), code="quarantine.sharing")
    if household_id is None or any(o["household_id"] != household_id for o in occupants):
        raise Conflict(
            _("只有同户家庭成员可以同住一间，该房间已有其他人员。"), code="quarantine.sharing"
        )
    for other in occupants:
        if other["cohort"] != cohort and (other["cohort"] or cohort):
            raise Conflict(_("不同疫情的密接不得同住一间。"), code="quarantine.cohort")


def _open_stay(
    *, actor: Any, order: ControlOrder, room: Room, now: dt.datetime, transfer_from: Stay | None
) -> Stay:
    room = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
    person = order.person
    cohort = _cohort_of(order)
    _check_room(room, order=order, cohort=cohort, household_id=person.household_id)
    try:
        with transaction.atomic():
            stay = Stay.objects.create(
                order=order,
                person=person,
                site=room.site,
                room=room,
                cohort=cohort,
                household_id=person.household_id,
                checked_in_at=now,
                checked_in_by=actor,
                transfer_from=transfer_from,
            )
    except IntegrityError:
        raise Conflict(
            _("该人员刚刚已被安排入住，请刷新。"), code="quarantine.already_staying"
        ) from None
    if room.status != Room.Status.OCCUPIED:
        room.status = Room.Status.OCCUPIED
        room.save(update_fields=["status"])
    return stay


def _already_staying(order: ControlOrder) -> None:
    current = (
        Stay.objects.select_related("site")
        .filter(person_id=order.person_id, checked_out_at__isnull=True)
        .first()
    )
    if current is not None:
        raise Conflict(
            _("已入住 %(site)s 隔离点。") % {"site": current.site.name},
            code="quarantine.already_staying",
        )


@transaction.atomic
def stay_assign(
    *, actor: Any, order: ControlOrder, room: Room, now: dt.datetime | None = None
) -> Stay:
    """Give a person in a centralized phase a bed in a room of this site."""
    _require_site_worker(actor, room.site)
    now = now or timeutils.now()
    today = timezone.localtime(now).date()
    order = (
        sel.order_queryset(viewer=actor).select_for_update(of=("self",)).filter(pk=order.pk).first()
    )
    if order is None:
        raise NotFound(_("管控措施不存在。"))
    _check_order(order, today)
    _already_staying(order)
    stay = _open_stay(actor=actor, order=order, room=room, now=now, transfer_from=None)
    audit_record(
        actor=actor,
        verb="quarantine.stay.assign",
        target=stay,
        data={"order_id": order.pk, "room_id": stay.room_id, "site_id": stay.site_id},
    )
    return stay


def _close(stay: Stay, *, actor: Any, reason: str, now: dt.datetime, note: str = "") -> None:
    stay.checked_out_at = now
    stay.checked_out_by = actor
    stay.out_reason = reason
    stay.note = note[:300]
    stay.save(update_fields=["checked_out_at", "checked_out_by", "out_reason", "note"])
    room = Room.objects.select_for_update().get(pk=stay.room_id)
    if not Stay.objects.filter(room=room, checked_out_at__isnull=True).exists():
        room.status = Room.Status.DISINFECTION
        room.save(update_fields=["status"])


def _lock_open_stay(stay: Stay) -> Stay:
    locked = (
        Stay.objects.select_for_update(of=("self",))
        .select_related("site", "order", "person")
        .filter(pk=stay.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("入住记录不存在。"))
    if locked.checked_out_at is not None:
        raise Conflict(_("该人员已离开，不能再办理。"), code="quarantine.stay_closed")
    return locked


@transaction.atomic
def stay_transfer(
    *, actor: Any, stay: Stay, room: Room, reason: str, now: dt.datetime | None = None
) -> Stay:
    """Move a person to another room (of this or another site): close, reopen, record."""
    _require_site_worker(actor, stay.site)
    _require_site_worker(actor, room.site)
    reason = str(reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed({"reason": [_("请填写转房/转点原因")]})
    now = now or timeutils.now()
    stay = _lock_open_stay(stay)
    if room.pk == stay.room_id:
        raise ValidationFailed({"room_id": [_("请选择另一间房")]})
    today = timezone.localtime(now).date()
    _check_order(stay.order, today)
    _close(stay, actor=actor, reason=Stay.OutReason.TRANSFER, now=now, note=reason)
    new = _open_stay(actor=actor, order=stay.order, room=room, now=now, transfer_from=stay)
    if new.site_id != stay.site_id:
        PhaseTransfer.objects.create(
            order=stay.order,
            person=stay.person,
            kind=PhaseTransfer.Kind.SITE_TO_SITE,
            from_stay=stay,
            to_site=new.site,
            escort=str(getattr(actor, "display_name", "") or actor.get_username())[:50],
            departed_at=now,
            recorded_by=actor,
        )
    audit_record(
        actor=actor,
        verb="quarantine.stay.transfer",
        target=new,
        data={"from_stay_id": stay.pk, "room_id": new.room_id, "site_id": new.site_id},
    )
    return new


@transaction.atomic
def stay_checkout(
    *, actor: Any, stay: Stay, reason: str, note: str = "", now: dt.datetime | None = None
) -> Stay:
    """Close a stay; a room left empty waits for disinfection."""
    _require_site_worker(actor, stay.site)
    if reason not in Stay.OutReason.values or reason == Stay.OutReason.TRANSFER:
        raise ValidationFailed({"reason": [_("请选择离开原因（转房请用转房）")]})
    note = str(note or "").strip()
    if len(note) > 300:
        raise ValidationFailed({"note": [_("不能超过 %(n)s 个字") % {"n": 300}]})
    now = now or timeutils.now()
    stay = _lock_open_stay(stay)
    _close(stay, actor=actor, reason=reason, now=now, note=note)
    audit_record(
        actor=actor,
        verb="quarantine.stay.checkout",
        target=stay,
        data={"room_id": stay.room_id, "site_id": stay.site_id, "reason": reason},
    )
    return stay


@transaction.atomic
def order_move_home(
    *,
    actor: Any,
    order: ControlOrder,
    escort: str,
    vehicle_plate: str = "",
    handed_to: str = "",
    now: dt.datetime | None = None,
) -> PhaseTransfer:
    """End of the centralized phase: check out, record the point-to-point move to the home grid,
    advance the order to its next phase (control refuses before that phase starts)."""
    now = now or timeutils.now()
    today = timezone.localtime(now).date()
    errors: dict[str, list[str]] = {}
    escort = str(escort or "").strip()
    if not escort:
        errors["escort"] = [_("请填写转运负责人")]
    elif len(escort) > 50:
        errors["escort"] = [_("不能超过 %(n)s 个字") % {"n": 50}]
    vehicle_plate = str(vehicle_plate or "").strip()
    if len(vehicle_plate) > 12:
        errors["vehicle_plate"] = [_("不能超过 %(n)s 个字") % {"n": 12}]
    handed_to = str(handed_to or "").strip()
    if len(handed_to) > 50:
        errors["handed_to"] = [_("不能超过 %(n)s 个字") % {"n": 50}]
    if errors:
        raise ValidationFailed(errors)
    stay = Stay.objects.filter(order=order, checked_out_at__isnull=True).first()
    if stay is not None:
        _require_site_worker(actor, stay.site)
    # Staff of the site the person leaves may move them (checked just above); without a stay
    # control checks its own roles and scope. Control refuses before the next phase starts.
    control_services.order_advance_phase(
        actor=actor, order=order, today=today, now=now, authorized=stay is not None
    )
    if stay is not None:
        stay = _lock_open_stay(stay)
        _close(stay, actor=actor, reason=Stay.OutReason.PHASE_END, now=now)
    move = PhaseTransfer.objects.create(
        order=order,
        person_id=order.person_id,
        kind=PhaseTransfer.Kind.SITE_TO_HOME,
        from_stay=stay,
        to_division_id=order.division_id,
        vehicle_plate=vehicle_plate,
        escort=escort,
        handed_to=handed_to,
        departed_at=now,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        verb="quarantine.order.move_home",
        target=move,
        data={"order_id": order.pk, "stay_id": stay.pk if stay else None},
    )
    return move


# --- settings ---------------------------------------------------------------------------------


@transaction.atomic
def settings_update(*, actor: Any, data: dict[str, Any]) -> QuarantineSettings:
    _require_admin(actor)
    row = QuarantineSettings.objects.select_for_update().order_by("pk").first()
    if row is None:
        row = QuarantineSettings.objects.create()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    sharing = data.get("sharing")
    if sharing is not None:
        if sharing not in QuarantineSettings.Sharing.values:
            errors["sharing"] = [_("同住规则无效")]
        else:
            values["sharing"] = sharing
    for key in ("morning_due_hour", "evening_due_hour"):
        if data.get(key) not in (None, ""):
            value = _int_field(data, key, errors, lo=0, hi=23)
            if value is not None:
                values[key] = value
    for key in ("village_after_hours", "town_after_hours", "county_after_hours"):
        if data.get(key) not in (None, ""):
            value = _int_field(data, key, errors, lo=0, hi=168)
            if value is not None:
                values[key] = value
    if data.get("fever_threshold") not in (None, ""):
        try:
            threshold = Decimal(str(data["fever_threshold"]).strip()).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            threshold = None
        if threshold is None or not Decimal("37.0") <= threshold <= Decimal("38.5"):
            errors["fever_threshold"] = [_("发热阈值须在 37.0 到 38.5 ℃ 之间")]
        else:
            values["fever_threshold"] = threshold
    morning = values.get("morning_due_hour", row.morning_due_hour)
    evening = values.get("evening_due_hour", row.evening_due_hour)
    if not errors and morning >= evening:
        errors["evening_due_hour"] = [_("下午截止时间须晚于上午截止时间")]
    if errors:
        raise ValidationFailed(errors)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_by = actor
    row.save()
    audit_record(
        actor=actor, verb="quarantine.settings.update", target=row, data={"fields": sorted(values)}
    )
    return row
