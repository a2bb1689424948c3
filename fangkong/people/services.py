from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.accounts.roles import policy_for
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.geo.models import Division

from .models import Household, IdType, Person, PersonRevision
from .selectors import person_find_duplicate
from .validation import PERSON_FIELDS, clean_person_fields


def _require_edit(actor: Any) -> None:
    if not policy_for(actor).can_edit_people:
        raise Forbidden()


def _division_in_scope(
    *, actor: Any, code: Any, field: str, errors: dict[str, list[str]]
) -> Division | None:
    code = str(code or "").strip()
    if not code:
        errors.setdefault(field, []).append(_("请选择所属网格（区划代码）"))
        return None
    division = Division.objects.filter(code=code).first()
    if division is None or not code_in_scope(viewer=actor, code=code):
        errors.setdefault(field, []).append(_("区划代码不存在或不在您的管辖范围内"))
        return None
    return division


def _duplicate_conflict(existing: Person) -> Conflict:
    return Conflict(
        _("该证件号码已登记（人员编号 %(id)s）。") % {"id": existing.pk},
        code="people.duplicate",
        errors={"id_number": [_("证件号码重复")]},
    )


@transaction.atomic
def person_create(
    *,
    actor: Any,
    name: str,
    division_code: str,
    id_type: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    address: str = "",
    sex: str | None = None,
    birth_date: Any = None,
    household_id: int | None = None,
    relation_to_head: str = "",
    notes: str = "",
) -> Person:
    _require_edit(actor)
    raw: dict[str, Any] = {
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "phone": phone,
        "address": address,
        "notes": notes,
        "relation_to_head": relation_to_head,
    }
    if sex not in (None, ""):
        raw["sex"] = sex
    if birth_date not in (None, ""):
        raw["birth_date"] = birth_date
    data, errors = clean_person_fields(raw)
    division = _division_in_scope(
        actor=actor, code=division_code, field="division_code", errors=errors
    )
    household = None
    if household_id is not None:
        household = Household.objects.filter(pk=household_id).first()
        if household is None or not code_in_scope(viewer=actor, code=household.division_id):
            errors.setdefault("household_id", []).append(_("住户不存在"))
    if errors:
        raise ValidationFailed(errors)
    existing = person_find_duplicate(
        id_type=data.get("id_type"),
        id_number=data.get("id_number"),
        name=data["name"],
        birth_date=data.get("birth_date"),
        phone=data.get("phone", ""),
    )
    if existing is not None:
        if data.get("id_number"):
            raise _duplicate_conflict(existing)
        raise Conflict(
            _("已有同名、同出生日期、同手机号的人员（人员编号 %(id)s）。") % {"id": existing.pk},
            code="people.duplicate",
        )
    person = Person(division=division, household=household, **data)
    person.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError:
        raise _duplicate_conflict(
            person_find_duplicate(
                id_type=data["id_type"],
                id_number=data["id_number"],
                name="",
                birth_date=None,
                phone="",
            )
            or person
        ) from None
    audit_record(
        actor=actor,
        verb="people.person.create",
        target=person,
        data={"division": division.code if division else None, "household": person.household_id},
    )
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, changes: dict[str, Any]) -> Person:
    """Change the given fields; the old values go to PersonRevision, the field names to audit."""
    _require_edit(actor)
    person = Person.objects.select_for_update().get(pk=person.pk)
    unknown = set(changes) - {*PERSON_FIELDS, "division_code", "household_id"}
    if unknown:
        raise ValidationFailed({f: [_("不能修改此字段")] for f in sorted(unknown)})
    payload = dict(changes)
    if "id_number" in payload and "id_type" not in payload:
        payload["id_type"] = person.id_type
    if (
        ("birth_date" in payload or "sex" in payload)
        and "id_number" not in payload
        and "id_type" not in payload
        and person.id_type in (IdType.RESIDENT_ID, IdType.FOREIGN_PERMANENT_ID)
        and person.id_number
    ):
        # A birth date or sex given alone must still agree with the stored number.
        payload.update(id_type=person.id_type, id_number=person.id_number)
    data, errors = clean_person_fields(payload, partial=True)
    new_division = None
    if "division_code" in changes:
        new_division = _division_in_scope(
            actor=actor, code=changes["division_code"], field="division_code", errors=errors
        )
    new_household: Household | None = None
    if changes.get("household_id") not in (None, ""):
        new_household = Household.objects.filter(pk=changes["household_id"]).first()
        if new_household is None or not code_in_scope(viewer=actor, code=new_household.division_id):
            errors.setdefault("household_id", []).append(_("住户不存在"))
    if errors:
        raise ValidationFailed(errors)
    if data.get("id_number"):
        existing = person_find_duplicate(
            id_type=data.get("id_type", person.id_type),
            id_number=data["id_number"],
            name="",
            birth_date=None,
            phone="",
            exclude_id=person.pk,
        )
        if existing is not None:
            raise _duplicate_conflict(existing)
    before: dict[str, Any] = {}
    changed: list[str] = []
    for field, value in data.items():
        old = getattr(person, field)
        if old != value:
            before[field] = old.isoformat() if hasattr(old, "isoformat") else old
            setattr(person, field, value)
            changed.append(field)
    if new_division is not None and new_division.code != person.division_id:
        before["division_id"] = person.division_id
        person.division = new_division
        changed.append("division")
    if "household_id" in changes:
        new_id = new_household.pk if new_household else None
        if new_id != person.household_id:
            before["household_id"] = person.household_id
            person.household = new_household
            changed.append("household")
    if not changed:
        return person
    person.full_clean(validate_unique=False, validate_constraints=False)
    person.save(update_fields=[*changed, "updated_at"])
    PersonRevision.objects.create(
        person=person, actor=_actor_or_none(actor), verb="update", before=before
    )
    audit_record(actor=actor, verb="people.person.update", target=person, data={"fields": changed})
    return person


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def person_merge(*, actor: Any, keep: Person, merge: Person) -> Person:
    """Merge `merge` into `keep`: blanks in `keep` are filled, households re-pointed, and the
    merged record stays (marked merged_into) so both histories remain readable."""
    _require_edit(actor)
    if keep.pk == merge.pk:
        raise ValidationFailed({"merge_id": [_("不能与自身合并")]})
    keep, merge = (Person.objects.select_for_update().get(pk=p.pk) for p in (keep, merge))
    if merge.merged_into_id is not None:
        raise ValidationFailed({"merge_id": [_("该人员已被合并")]})
    if (
        keep.id_number
        and merge.id_number
        and (keep.id_type, keep.id_number) != (merge.id_type, merge.id_number)
    ):
        raise Conflict(_("两人证件号码不同，不能合并。"), code="people.merge_conflict")
    before: dict[str, Any] = {}
    filled: list[str] = []
    if not keep.id_number and merge.id_number:
        before.update(id_type=keep.id_type, id_number=keep.id_number)
        keep.id_type, keep.id_number = merge.id_type, merge.id_number
        filled += ["id_type", "id_number"]
        merge.id_number = None
        merge.id_type = IdType.NONE
    for field in ("phone", "address", "notes", "birth_date", "relation_to_head"):
        if not getattr(keep, field) and getattr(merge, field):
            before[field] = getattr(keep, field)
            setattr(keep, field, getattr(merge, field))
            filled.append(field)
    if keep.household_id is None and merge.household_id is not None:
        before["household_id"] = None
        keep.household_id = merge.household_id
        filled.append("household")
    merge.merged_into = keep
    merge.save(update_fields=["merged_into", "id_type", "id_number", "updated_at"])
    if filled:
        keep.save(update_fields=[*filled, "updated_at"])
    Household.objects.filter(head=merge).update(head=keep)
    PersonRevision.objects.create(
        person=keep,
        actor=_actor_or_none(actor),
        verb="merge",
        before={**before, "merged_id": merge.pk},
    )
    audit_record(
        actor=actor,
        verb="people.person.merge",
        target=keep,
        data={"merged_id": merge.pk, "filled": filled},
    )
    return keep


@transaction.atomic
def person_reveal(*, actor: Any, person: Person, reason: str) -> Person:
    """Record that `actor` sees `person` unmasked, and why. The caller then shows the data."""
    if not policy_for(actor).can_reveal:
        raise Forbidden(_("您的角色不能查看完整个人信息。"))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed({"reason": [_("请填写查看完整信息的理由（至少2个字）")]})
    if len(reason) > 200:
        raise ValidationFailed({"reason": [_("理由不能超过200个字")]})
    audit_record(actor=actor, verb="people.person.reveal", target=person, data={}, reason=reason)
    return person


@transaction.atomic
def household_create(
    *, actor: Any, address: str, division_code: str, head_id: int | None = None
) -> Household:
    _require_edit(actor)
    errors: dict[str, list[str]] = {}
    address = (address or "").strip()
    if not address:
        errors["address"] = [_("地址不能为空")]
    elif len(address) > 200:
        errors["address"] = [_("地址不能超过200个字符")]
    division = _division_in_scope(
        actor=actor, code=division_code, field="division_code", errors=errors
    )
    head = None
    if head_id is not None:
        head = Person.objects.filter(pk=head_id, merged_into__isnull=True).first()
        if head is None or not code_in_scope(viewer=actor, code=head.division_id):
            errors["head_id"] = [_("户主不存在")]
    if errors:
        raise ValidationFailed(errors)
    household = Household(address=address, division=division, head=head)
    household.full_clean()
    household.save(force_insert=True)
    if head is not None:
        head.household = household
        head.relation_to_head = "head"
        head.save(update_fields=["household", "relation_to_head", "updated_at"])
    audit_record(
        actor=actor,
        verb="people.household.create",
        target=household,
        data={"division": division.code if division else None, "head_id": head_id},
    )
    return household


@transaction.atomic
def household_add_member(
    *, actor: Any, household: Household, person: Person, relation: str
) -> Person:
    person_update(
        actor=actor,
        person=person,
        changes={"household_id": household.pk, "relation_to_head": relation},
    )
    if relation == "head" and household.head_id != person.pk:
        previous_id = household.head_id
        if previous_id is not None:
            # The household has one head: the one replaced keeps membership as "other".
            Person.objects.filter(
                pk=previous_id, household=household, relation_to_head="head"
            ).update(relation_to_head="other")
        household.head = person
        household.save(update_fields=["head", "updated_at"])
        audit_record(
            actor=actor,
            verb="people.household.set_head",
            target=household,
            data={"head_id": person.pk, "previous_head_id": previous_id},
        )
    return person
