"""How a passage is shown, on the pages and in the API alike: occupants masked by the viewer's
role (checkpoint staff see names; ID numbers are masked for everyone; phones per role), each
flagged occupant with what staff must do (services_passages.ACTIONS)."""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import FULL, policy_for
from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from fangkong.people.presenters import person_display

from .models import CheckpointPassage, PassageOccupant
from .passage_rules import occupant_actions

DIRECTION_LABELS = dict(CheckpointPassage.Direction.choices)
FLAG_LABELS = dict(PassageOccupant.Flag.choices)
HANDOVER_LABELS = dict(CheckpointPassage.Handover.choices)


def occupant_display(
    *, viewer: Any, occupant: PassageOccupant, passage: CheckpointPassage
) -> dict[str, Any]:
    policy = policy_for(viewer)
    return {
        "seq": occupant.seq,
        "name": occupant.name if policy.name == FULL else mask_name(occupant.name),
        "id_type": occupant.id_type,
        "id_number": mask_id_number(occupant.id_number),
        "phone": occupant.phone if policy.phone == FULL else mask_phone(occupant.phone),
        "temperature": str(occupant.temperature),
        "risk_level": occupant.risk_level,
        "flag": occupant.flag,
        "flag_label": str(FLAG_LABELS.get(occupant.flag, "")) if occupant.flag else "",
        "actions": occupant_actions(occupant, passage),
        "person": (
            person_display(viewer=viewer, person=occupant.person) if occupant.person else None
        ),
        "arrival_id": occupant.arrival_id,
    }


def passage_display(
    *, viewer: Any, passage: CheckpointPassage, occupants: list[PassageOccupant] | None = None
) -> dict[str, Any]:
    """`occupants`: given when the caller holds them already (a passage just written)."""
    policy = policy_for(viewer)
    address = passage.destination_address
    return {
        "id": passage.pk,
        "checkpoint_id": passage.checkpoint_id,
        "checkpoint_name": passage.checkpoint.name,
        "direction": passage.direction,
        "direction_label": str(DIRECTION_LABELS.get(passage.direction, passage.direction)),
        "plate": passage.plate,
        "vehicle_type": passage.vehicle_type,
        "origin_code": passage.origin_code,
        "origin_name": passage.origin_name,
        "destination_code": passage.destination_division_id or "",
        "destination_name": (
            (passage.destination_division.full_name or passage.destination_division.name)
            if passage.destination_division_id
            else ""
        ),
        "destination_address": address if policy.address == FULL else mask_address(address),
        "purpose": passage.purpose,
        "passed_at": passage.passed_at,
        "flagged": passage.flagged,
        "handover": passage.handover,
        "handover_label": str(HANDOVER_LABELS.get(passage.handover, ""))
        if passage.handover
        else "",
        "handover_error": passage.handover_error,
        "occupants": [
            occupant_display(viewer=viewer, occupant=o, passage=passage)
            for o in (passage.occupants.all() if occupants is None else occupants)
        ],
    }
