"""Writes of checkpoints (卡口) and their duty rosters (值守排班).

HQ (commander, administrator) keeps checkpoints anywhere in the county, a town officer within
their town; every other role reads only. A shift is one named person on duty from one time to
another, at most 24 hours; a day's roster (e.g. three 8-hour shifts) is entered in one go and
saved whole or not at all. Audit records hold ids and codes only, never names or phones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.core.validators import FormatError, normalize_mobile
from fangkong.geo.models import Division

from .models import Checkpoint, DutyShift
from .selectors_checkpoints import can_manage_checkpoints

MAX_SHIFT = dt.timedelta(hours=24)
# A landline as published for a duty office: 0917-1234567, 09171234567.
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
CHECKPOINT_FIELDS = (
    "name",
    "kind",
    "division_code",
    "location",
    "responsible_unit",
    "leader_name",
    "leader_phone",
    "leader_id",
)
LIMITS = {
    "name": 100,
    "location": 200,
    "responsible_unit": 100,
    "leader_name": 50,
    "staff_name": 50,
    "post": 50,
}


def _require_manage(actor: Any) -> None:
    if not can_manage_checkpoints(viewer=actor):
        raise Forbidden(_("您的角色不能维护卡口和值守排班。"))


def _require_in_scope(actor: Any, checkpoint: Checkpoint) -> None:
    _require_manage(actor)
    if not code_in_scope(viewer=actor, code=checkpoint.division_id):
        raise Forbidden(_("该卡口不在您的管辖范围内。"))


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]], label: str) -> str:
    value = str(data.get(key) or "").strip()
    limit = LIMITS.get(key)
    if limit and len(value) > limit:
        errors.setdefault(key, []).append(
            _("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}
        )
    return value


def _phone(value: Any, *, key: str, label: str, errors: dict[str, list[str]], landline: bool):
    text = str(value or "").strip()
    if not text:
        return ""
    if landline and LANDLINE_RE.fullmatch(text):
        return text
    try:
        return normalize_mobile(text)
    except FormatError as exc:
        errors.setdefault(key, []).append(
            _("%(label)s有误：%(reason)s") % {"label": label, "reason": exc}
        )
    return ""


def _user(value: Any, *, key: str, label: str, errors: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    try:
        return get_user_model().objects.get(pk=int(value), is_active=True)
    except (ValueError, TypeError, get_user_model().DoesNotExist):
        errors.setdefault(key, []).append(_("%(label)s不存在或已停用。") % {"label": label})
    return None


def _clean_checkpoint(*, actor: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Check every field and report all the bad ones at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    clean["name"] = _text(data, "name", errors, _("卡口名称"))
    if not clean["name"]:
        errors.setdefault("name", []).append(_("请填写卡口名称。"))
    kind = str(data.get("kind") or "").strip()
    if kind not in Checkpoint.Kind.values:
        errors["kind"] = [
            _("请选择卡口类型（高速公路出口、国道省道、汽车站、火车站、村口、其他）。")
        ]
    clean["kind"] = kind
    code = str(data.get("division_code") or "").strip()
    division = Division.objects.filter(code=code).first() if code else None
    if not code:
        errors["division_code"] = [_("请选择所在区划。")]
    elif division is None or not code_in_scope(viewer=actor, code=code):
        errors["division_code"] = [_("所在区划不存在或不在您的管辖范围内。")]
    clean["division"] = division
    clean["location"] = _text(data, "location", errors, _("位置"))
    clean["responsible_unit"] = _text(data, "responsible_unit", errors, _("责任单位"))
    clean["leader_name"] = _text(data, "leader_name", errors, _("责任领导"))
    clean["leader_phone"] = _phone(
        data.get("leader_phone"),
        key="leader_phone",
        label=_("责任领导电话"),
        errors=errors,
        landline=True,
    )
    clean["leader"] = _user(
        data.get("leader_id"), key="leader_id", label=_("责任领导账号"), errors=errors
    )
    if errors:
        raise ValidationFailed(errors)
    return clean


@transaction.atomic
def checkpoint_create(*, actor: Any, data: dict[str, Any]) -> Checkpoint:
    """Register a checkpoint in a division of the actor's scope."""
    _require_manage(actor)
    clean = _clean_checkpoint(actor=actor, data=data)
    checkpoint = Checkpoint.objects.create(**clean)
    audit_record(
        actor=actor,
        verb="travel.checkpoint.create",
        target=checkpoint,
        data={"division": checkpoint.division_id, "kind": checkpoint.kind},
    )
    return checkpoint


@transaction.atomic
def checkpoint_update(*, actor: Any, checkpoint: Checkpoint, data: dict[str, Any]) -> Checkpoint:
    """Change some fields (the others keep their values); all are checked together."""
    _require_in_scope(actor, checkpoint)
    unknown = set(data) - set(CHECKPOINT_FIELDS)
    if unknown:
        raise ValidationFailed({k: [_("不能修改此字段。")] for k in sorted(unknown)})
    current = {
        "name": checkpoint.name,
        "kind": checkpoint.kind,
        "division_code": checkpoint.division_id,
        "location": checkpoint.location,
        "responsible_unit": checkpoint.responsible_unit,
        "leader_name": checkpoint.leader_name,
        "leader_phone": checkpoint.leader_phone,
        "leader_id": checkpoint.leader_id,
    }
    clean = _clean_checkpoint(actor=actor, data={**current, **data})
    changed = []
    for key, value in clean.items():
        old = getattr(checkpoint, key)
        if old != value:
            setattr(checkpoint, key, value)
            changed.append(key)
    if changed:
        checkpoint.save()
        audit_record(
            actor=actor,
            verb="travel.checkpoint.update",
            target=checkpoint,
            data={"fields": sorted(changed), "division": checkpoint.division_id},
        )
    return checkpoint


@transaction.atomic
def checkpoint_deactivate(*, actor: Any, checkpoint: Checkpoint, reason: str = "") -> Checkpoint:
    """Stand a checkpoint down (撤除): it leaves the coverage view; its history stays."""
    _require_in_scope(actor, checkpoint)
    if not checkpoint.active:
        raise Conflict(_("该卡口已撤除。"))
    checkpoint.active = False
    checkpoint.save(update_fields=["active", "updated_at"])
    audit_record(
        actor=actor,
        verb="travel.checkpoint.deactivate",
        target=checkpoint,
        data={"division": checkpoint.division_id},
        reason=reason or None,
    )
    return checkpoint


# --- shifts ----------------------------------------------------------------------------------


def _moment(value: Any, *, key: str, label: str, errors: dict[str, list[str]]):
    """A datetime (naive: local time) or an ISO text like 2022-03-20T08:00."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            errors.setdefault(key, []).append(_("请填写%(label)s。") % {"label": label})
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            errors.setdefault(key, []).append(
                _("%(label)s格式有误，应为 YYYY-MM-DD HH:MM。") % {"label": label}
            )
            return None
    if value is None:
        errors.setdefault(key, []).append(_("请填写%(label)s。") % {"label": label})
        return None
    if not isinstance(value, dt.datetime):
        errors.setdefault(key, []).append(_("%(label)s格式有误。") % {"label": label})
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _clean_shift(data: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    starts = _moment(data.get("starts_at"), key="starts_at", label=_("开始时间"), errors=errors)
    ends = _moment(data.get("ends_at"), key="ends_at", label=_("结束时间"), errors=errors)
    if starts and ends:
        if ends <= starts:
            errors.setdefault("ends_at", []).append(_("结束时间必须晚于开始时间。"))
        elif ends - starts > MAX_SHIFT:
            errors.setdefault("ends_at", []).append(_("一个班次不能超过24小时，请分成几个班次。"))
    clean: dict[str, Any] = {"starts_at": starts, "ends_at": ends}
    clean["staff_name"] = _text(data, "staff_name", errors, _("值守人员"))
    if not clean["staff_name"]:
        errors.setdefault("staff_name", []).append(_("请填写值守人员姓名。"))
    clean["staff_phone"] = _phone(
        data.get("staff_phone"),
        key="staff_phone",
        label=_("值守人员手机号"),
        errors=errors,
        landline=False,
    )
    clean["is_volunteer"] = bool(data.get("is_volunteer"))
    clean["post"] = _text(data, "post", errors, _("岗位"))
    clean["user"] = _user(data.get("user_id"), key="user_id", label=_("账号"), errors=errors)
    if errors:
        raise ValidationFailed({f"{prefix}{k}": v for k, v in errors.items()})
    return clean


def _require_active(checkpoint: Checkpoint) -> None:
    if not checkpoint.active:
        raise Conflict(_("该卡口已撤除，不能再排班。"))


@transaction.atomic
def duty_shift_create(*, actor: Any, checkpoint: Checkpoint, data: dict[str, Any]) -> DutyShift:
    """Put one person on duty: starts_at, ends_at (after the start, at most 24 hours later),
    staff_name, staff_phone (mobile, optional), is_volunteer, post (e.g. 党员先锋岗), user_id."""
    _require_in_scope(actor, checkpoint)
    _require_active(checkpoint)
    clean = _clean_shift(data)
    shift = DutyShift.objects.create(checkpoint=checkpoint, created_by=_account(actor), **clean)
    audit_record(
        actor=actor,
        verb="travel.duty_shift.create",
        target=shift,
        data={"checkpoint": checkpoint.pk},
    )
    return shift


@transaction.atomic
def duty_roster_create(
    *, actor: Any, checkpoint: Checkpoint, rows: list[dict[str, Any]]
) -> list[DutyShift]:
    """A day's roster in one go (e.g. 00-08, 08-16, 16-24): every row is checked, bad rows are
    reported as rows.<n>.<field> and then nothing is saved."""
    _require_in_scope(actor, checkpoint)
    _require_active(checkpoint)
    if not rows:
        raise ValidationFailed({"rows": [_("请至少填写一个班次。")]})
    errors: dict[str, list[str]] = {}
    cleaned = []
    for index, row in enumerate(rows, start=1):
        try:
            cleaned.append(_clean_shift(row, prefix=f"rows.{index}."))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    creator = _account(actor)
    shifts = DutyShift.objects.bulk_create(
        [DutyShift(checkpoint=checkpoint, created_by=creator, **c) for c in cleaned]
    )
    audit_record(
        actor=actor,
        verb="travel.duty_shift.roster",
        target=checkpoint,
        data={"checkpoint": checkpoint.pk, "shifts": len(shifts)},
    )
    return shifts


@transaction.atomic
def duty_shift_delete(*, actor: Any, shift: DutyShift, now: dt.datetime | None = None) -> None:
    """Take a shift off the roster (a shift already over stays, as the record of who was on
    duty)."""
    checkpoint = shift.checkpoint
    _require_in_scope(actor, checkpoint)
    if shift.ends_at <= (now or timeutils.now()):
        raise Conflict(_("该班次已结束，作为值守记录保留，不能删除。"))
    audit_record(
        actor=actor,
        verb="travel.duty_shift.delete",
        target=shift,
        data={"checkpoint": checkpoint.pk},
    )
    shift.delete()


def _account(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None
