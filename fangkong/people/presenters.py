"""What a viewer sees of a person: masked by role, unmasked only after an audited reveal."""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import FULL, SURNAME, policy_for
from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone

from .models import Household, IdType, Person, Relation, Sex

# value -> lazy label. Model.get_FOO_display() hashes every choice label (a gettext each) on
# every call; a list of 50 is nothing, an export of 330,000 people spent most of its time there.
_ID_TYPE_LABELS = dict(IdType.choices)
_SEX_LABELS = dict(Sex.choices)
_RELATION_LABELS = dict(Relation.choices)


def _label(labels: dict[str, Any], value: str) -> str:
    return str(labels.get(value, value))


def person_display(*, viewer: Any, person: Person, revealed: bool = False) -> dict[str, Any]:
    policy = policy_for(viewer)
    full = revealed and policy.can_reveal
    name_full = full or policy.name == FULL
    return {
        "id": person.pk,
        "name": person.name if name_full else mask_name(person.name),
        "id_type": person.id_type,
        "id_type_label": _label(_ID_TYPE_LABELS, person.id_type),
        "id_number": (person.id_number or "") if full else mask_id_number(person.id_number),
        "sex": person.sex,
        "sex_label": _label(_SEX_LABELS, person.sex),
        "birth_year": person.birth_date.year if person.birth_date else None,
        "birth_date": person.birth_date.isoformat() if (full and person.birth_date) else None,
        "phone": person.phone if (full or policy.phone == FULL) else mask_phone(person.phone),
        "address": person.address
        if (full or policy.address == FULL)
        else mask_address(person.address),
        "division_code": person.division_id,
        "division_name": person.division.name if person.division_id else "",
        "household_id": person.household_id,
        "relation_to_head": person.relation_to_head,
        "relation_label": (
            _label(_RELATION_LABELS, person.relation_to_head) if person.relation_to_head else ""
        ),
        "notes": person.notes if name_full else "",
        "masked": not full,
        "merged_into_id": person.merged_into_id,
    }


def household_display(*, viewer: Any, household: Household) -> dict[str, Any]:
    policy = policy_for(viewer)
    head = household.head
    return {
        "id": household.pk,
        "address": household.address if policy.address == FULL else mask_address(household.address),
        "division_code": household.division_id,
        "division_name": household.division.name,
        "head_id": household.head_id,
        "head_name": (
            "" if head is None else head.name if policy.name != SURNAME else mask_name(head.name)
        ),
    }
