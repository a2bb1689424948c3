"""Writes of the place registry: register, edit, close and reopen a place, and set the county's
stay rules. Each validates everything first (nothing is written on bad input), runs in one
transaction and leaves one audit event holding ids and codes only."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.core.validators import FormatError, normalize_mobile
from fangkong.geo.models import Division

from .bulk import raise_longest_stay
from .defaults import MAX_MINUTES, MIN_MINUTES
from .models import Place, PlaceKind, StayRule
from .selectors_places import (
    CODE_ALPHABET,
    CODE_LENGTH,
    can_manage_places,
    can_set_stay_rules,
    code_taken,
    stay_for,
)

CODE_ATTEMPTS = 20
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")
EDITABLE = ("name", "kind", "division_code", "address", "person_in_charge", "contact_phone")


def _require_manage(actor: Any) -> None:
    if not can_manage_places(viewer=actor):
        raise Forbidden(_("您的角色不能登记或修改重点场所。"))


def _text(value: Any) -> str:
    """Full-width to half-width, runs of spaces to one."""
    return " ".join(unicodedata.normalize("NFKC", str(value or "")).split())


def _clean_phone(value: Any) -> str:
    text = _text(value).replace(" ", "")
    if not text:
        return ""
    if _LANDLINE.fullmatch(text):
        return text
    return normalize_mobile(text)


def _clean(raw: dict[str, Any], *, actor: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate the fields given in `raw` (a subset of EDITABLE); return model fields and errors."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in raw:
        name = _text(raw["name"])
        if len(name) < 2:
            errors["name"] = [_("请填写场所名称（至少 2 个字）")]
        elif len(name) > 200:
            errors["name"] = [_("场所名称不能超过 200 个字")]
        data["name"] = name
    if "kind" in raw:
        kind = str(raw["kind"] or "").strip()
        if kind not in PlaceKind.values:
            errors["kind"] = [_("请选择场所类型")]
        data["kind"] = kind
    if "division_code" in raw:
        code = str(raw["division_code"] or "").strip()
        division = Division.objects.filter(code=code).first() if code else None
        if not code:
            errors["division_code"] = [_("请选择所属区划（区划代码）")]
        elif division is None or not code_in_scope(viewer=actor, code=code):
            errors["division_code"] = [_("区划代码不存在或不在您的管辖范围内")]
        data["division"] = division
    if "address" in raw:
        address = _text(raw["address"])
        if len(address) < 2:
            errors["address"] = [_("请填写场所地址")]
        elif len(address) > 200:
            errors["address"] = [_("地址不能超过 200 个字")]
        data["address"] = address
    if "person_in_charge" in raw:
        person = _text(raw["person_in_charge"])
        if len(person) > 50:
            errors["person_in_charge"] = [_("负责人姓名不能超过 50 个字")]
        data["person_in_charge"] = person
    if "contact_phone" in raw:
        try:
            data["contact_phone"] = _clean_phone(raw["contact_phone"])
        except FormatError:
            errors["contact_phone"] = [
                _("联系电话应为 11 位手机号或带区号的固定电话（如 0917-5521234）")
            ]
    return data, errors


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def place_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    division_code: str,
    address: str,
    person_in_charge: str = "",
    contact_phone: str = "",
) -> Place:
    """Register a place with a new venue code (8 characters, retried until unused)."""
    _require_manage(actor)
    data, errors = _clean(
        {
            "name": name,
            "kind": kind,
            "division_code": division_code,
            "address": address,
            "person_in_charge": person_in_charge,
            "contact_phone": contact_phone,
        },
        actor=actor,
    )
    if errors:
        raise ValidationFailed(errors)
    created_by = actor if getattr(actor, "is_authenticated", False) else None
    for _attempt in range(CODE_ATTEMPTS):
        code = _new_code()
        if code_taken(code=code):
            continue
        place = Place(
            code=code,
            created_by=created_by,
            longest_stay_minutes=stay_for(kind=data["kind"])[1],
            **data,
        )
        try:
            with transaction.atomic():
                place.save(force_insert=True)
        except IntegrityError:  # the same code taken at the same moment: draw again
            continue
        break
    else:
        raise Conflict(_("未能生成不重复的场所码，请重试。"), code="places.code")
    audit_record(
        actor=actor,
        verb="places.place.create",
        target=place,
        data={"code": place.code, "kind": place.kind, "division": place.division_id},
    )
    return place


@transaction.atomic
def place_update(*, actor: Any, place: Place, changes: dict[str, Any]) -> Place:
    """Change the fields given in `changes`; the venue code never changes (posters are printed)."""
    _require_manage(actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed({k: [_("此字段不能修改")] for k in unknown})
    place = Place.objects.select_for_update().get(pk=place.pk)
    if not code_in_scope(viewer=actor, code=place.division_id):
        raise Forbidden()
    data, errors = _clean(changes, actor=actor)
    if errors:
        raise ValidationFailed(errors)
    changed = [f for f, v in data.items() if getattr(place, f) != v]
    for field in changed:
        setattr(place, field, data[field])
    bound = []
    if "kind" in changed:  # the new kind's cap may be longer (longest_stay_minutes only rises)
        place.longest_stay_minutes = max(place.longest_stay_minutes, stay_for(kind=place.kind)[1])
        bound = ["longest_stay_minutes"]
    if changed:
        place.save(update_fields=[*changed, *bound, "updated_at"])
        audit_record(
            actor=actor,
            verb="places.place.update",
            target=place,
            data={"fields": sorted(changed), "code": place.code},
        )
    return place


def _set_active(*, actor: Any, place: Place, active: bool, verb: str, reason: str) -> Place:
    _require_manage(actor)
    place = Place.objects.select_for_update().get(pk=place.pk)
    if not code_in_scope(viewer=actor, code=place.division_id):
        raise Forbidden()
    if place.active != active:
        place.active = active
        place.save(update_fields=["active", "updated_at"])
        audit_record(
            actor=actor,
            verb=verb,
            target=place,
            data={"code": place.code},
            reason=_text(reason)[:200] or None,
        )
    return place


@transaction.atomic
def place_close(*, actor: Any, place: Place, reason: str = "") -> Place:
    """A closed place refuses check-ins (the check-in service looks at `active`)."""
    return _set_active(
        actor=actor, place=place, active=False, verb="places.place.close", reason=reason
    )


@transaction.atomic
def place_reopen(*, actor: Any, place: Place, reason: str = "") -> Place:
    return _set_active(
        actor=actor, place=place, active=True, verb="places.place.reopen", reason=reason
    )


def _minutes(value: Any, field: str, errors: dict[str, list[str]]) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = [_("请填写整数分钟数")]
        return None
    if not MIN_MINUTES <= number <= MAX_MINUTES:
        errors[field] = [
            _("分钟数应在 %(lo)s 到 %(hi)s 之间（最长 7 天）")
            % {"lo": MIN_MINUTES, "hi": MAX_MINUTES}
        ]
        return None
    return number


def _check_rule(kind: Any, stay_minutes: Any, cap_minutes: Any) -> tuple[int, int, dict]:
    errors: dict[str, list[str]] = {}
    if kind not in PlaceKind.values:
        errors["kind"] = [_("场所类型不存在")]
    stay = _minutes(stay_minutes, "stay_minutes", errors)
    cap = _minutes(cap_minutes, "cap_minutes", errors)
    if stay is not None and cap is not None and stay > cap:
        errors["cap_minutes"] = [_("最长推定停留不能短于默认停留")]
    return stay or 0, cap or 0, errors


def _require_rules(actor: Any) -> None:
    if not can_set_stay_rules(viewer=actor):
        raise Forbidden(_("只有县指挥部和系统管理员可以修改停留时长规则。"))


def _write_rule(*, actor: Any, kind: str, stay: int, cap: int) -> StayRule:
    updated_by = actor if getattr(actor, "is_authenticated", False) else None
    rule, created = StayRule.objects.update_or_create(
        kind=kind,
        defaults={"stay_minutes": stay, "cap_minutes": cap, "updated_by": updated_by},
    )
    raise_longest_stay(minutes_by_place={}, kinds={kind: cap})  # a longer cap, longer stays
    audit_record(
        actor=actor,
        verb="places.stay_rule.set",
        target=rule,
        data={"kind": kind, "stay_minutes": stay, "cap_minutes": cap, "created": created},
    )
    return rule


@transaction.atomic
def stay_rule_set(*, actor: Any, kind: str, stay_minutes: Any, cap_minutes: Any) -> StayRule:
    """The county's rule for one kind of place: the imputed stay and its cap (stay <= cap)."""
    _require_rules(actor)
    stay, cap, errors = _check_rule(kind, stay_minutes, cap_minutes)
    if errors:
        raise ValidationFailed(errors)
    return _write_rule(actor=actor, kind=kind, stay=stay, cap=cap)


@transaction.atomic
def stay_rules_set(*, actor: Any, rules: list[dict[str, Any]]) -> list[StayRule]:
    """Several rules at once (the rules page, PUT /places/stay-rules): all are checked first and
    none is saved if one is wrong; errors are keyed "<kind>.<field>" ("market.cap_minutes")."""
    _require_rules(actor)
    checked: list[tuple[str, int, int]] = []
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        kind = str(rule.get("kind") or "")
        stay, cap, rule_errors = _check_rule(
            kind, rule.get("stay_minutes"), rule.get("cap_minutes")
        )
        prefix = kind if kind in PlaceKind.values else str(index)
        if kind in seen:
            rule_errors["kind"] = [_("同一场所类型重复出现")]
        seen.add(kind)
        for field, messages in rule_errors.items():
            errors[f"{prefix}.{field}"] = messages
        checked.append((kind, stay, cap))
    if errors:
        raise ValidationFailed(errors)
    return [_write_rule(actor=actor, kind=k, stay=s, cap=c) for k, s, c in checked]
