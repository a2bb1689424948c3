"""What a viewer sees of a place. The person in charge and the contact phone are personal data:
they are shown in full to those who register and edit places (they call the place), and masked
by role for everyone else, like a person's name and phone."""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core.masking import mask_name, mask_phone

from .models import Place, PlaceKind
from .selectors_places import can_manage_places

_KIND_LABELS = dict(PlaceKind.choices)


def place_display(*, viewer: Any, place: Place, policy: Any = None) -> dict[str, Any]:
    policy = policy or policy_for(viewer)
    manager = can_manage_places(viewer=viewer)
    division = place.division
    return {
        "id": place.pk,
        "code": place.code,
        "name": place.name,
        "kind": place.kind,
        "kind_label": str(_KIND_LABELS.get(place.kind, place.kind)),
        "division_code": place.division_id,
        "division_name": division.name if division else "",
        "address": place.address,
        "person_in_charge": place.person_in_charge
        if manager or policy.name == FULL
        else mask_name(place.person_in_charge),
        "contact_phone": place.contact_phone
        if manager or policy.phone == FULL
        else mask_phone(place.contact_phone),
        "active": place.active,
        "created_at": place.created_at,
        "updated_at": place.updated_at,
    }
