"""过卡登记: registering a vehicle (or a person on foot) passing a checkpoint.

`passage_register` validates the whole passage first (every bad field at once, with paths like
"occupants[1].temperature"; nothing written on error), then writes the passage and its
occupants. An occupant from a risk area (on the day of passing) or with a fever is flagged,
and, on an inbound passage with a destination grid, becomes an arrival in the loop
(`services.arrival_register_bulk`, channel "checkpoint") in the same transaction: the grid
worker of the destination grid finds the task in their inbox.

A retry (the same idempotency key, e.g. the form sent again after a network error, or two
sends at the same moment) answers with the first passage and writes nothing: the unique key
decides, inside a savepoint, so concurrent sends cannot make two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.people.models import Person
from fangkong.policy.selectors import risk_level_at

from .models import Channel, Checkpoint, CheckpointPassage, PassageOccupant, Transport
from .passage_rules import (
    BUS_VEHICLE_TYPES,
    KEY_MAX,
    ON_FOOT,
    can_register_passage,
    clean_passage,
    fever_threshold,
)
from .services import ArrivalResult, arrival_register_bulk
from .validation import clean_arrival

Flag = PassageOccupant.Flag


@dataclass
class PassageResult:
    """The passage, whether it is new (False: a retry answered with the first one), its
    flagged occupants and the arrivals they became (empty on a retry)."""

    passage: CheckpointPassage
    created: bool
    flagged: list[PassageOccupant] = field(default_factory=list)
    arrivals: list[ArrivalResult] = field(default_factory=list)
    # Every occupant of a new passage, as written (the answer is drawn from them without
    # reading the passage back); empty on a retry.
    occupants: list[PassageOccupant] = field(default_factory=list)


# --- the arrivals of flagged occupants ---------------------------------------------------


def _arrival_raw(clean: dict[str, Any], occupant: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """What a flagged occupant's arrival says: left and arrived on the day of passing, by the
    passage's vehicle, to its destination grid; a fever is written as the symptom."""
    vehicle_type = clean["vehicle_type"]
    if vehicle_type == ON_FOOT:
        transport = Transport.OTHER
    elif vehicle_type in BUS_VEHICLE_TYPES:
        transport = Transport.BUS
    else:
        transport = Transport.CAR
    symptoms = ""
    if occupant.get("flag") in (Flag.FEVER, Flag.BOTH):
        symptoms = _("发热 %(t)s℃") % {"t": occupant["temperature"]}
    return {
        "name": occupant["name"],
        "id_type": occupant["id_type"],
        "id_number": occupant["id_number"],
        "phone": occupant["phone"],
        "origin_code": clean["origin_code"],
        "left_on": day,
        "arrived_on": day,
        "transport": transport,
        "vehicle_no": clean["plate"],
        "destination_code": clean["destination_code"],
        "destination_address": clean["destination_address"],
        "symptoms": symptoms,
    }


def _check_actor(actor: Any, checkpoint: Checkpoint) -> None:
    if not can_register_passage(actor):
        raise Forbidden(_("您的角色不能进行过卡登记。"))
    if not code_in_scope(viewer=actor, code=checkpoint.division_id):
        raise NotFound(_("卡口不存在。"))


def _flagged(passage: CheckpointPassage) -> list[PassageOccupant]:
    return [o for o in passage.occupants.select_related("person") if o.flag]


def _existing(key: str, checkpoint: Checkpoint) -> PassageResult:
    passage = CheckpointPassage.objects.get(idempotency_key=key)
    if passage.checkpoint_id != checkpoint.pk:
        raise Conflict(_("该幂等键已用于另一卡口的登记。"), code="idempotency_key_reused")
    return PassageResult(passage=passage, created=False, flagged=_flagged(passage))


# --- the service -----------------------------------------------------------------------------


@transaction.atomic
def passage_register(
    *,
    actor: Any,
    checkpoint: Checkpoint,
    data: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> PassageResult:
    """Register a passage with its occupants; flag and hand flagged inbound occupants to the
    arrival loop. A second call with the same key answers with the first passage."""
    _check_actor(actor, checkpoint)
    key = str(idempotency_key or "").strip()  # as sent: hyphens and case matter
    if not key or len(key) > KEY_MAX:
        raise ValidationFailed({"idempotency_key": [_("幂等键不能为空，且不超过64个字符")]})
    if CheckpointPassage.objects.filter(idempotency_key=key).exists():
        return _existing(key, checkpoint)
    if not checkpoint.active:
        raise Conflict(_("该卡口已撤销，不能登记。"), code="checkpoint_inactive")

    now = now or timeutils.now()
    day = timezone.localtime(now).date()
    clean, errors = clean_passage(data, today=day)
    if errors:
        raise ValidationFailed(errors)

    # Flags: the origin's risk level on the day of passing, and each temperature.
    level, _area = (None, None)
    if clean["origin_code"]:
        level, _area = risk_level_at(origin_code=clean["origin_code"], on=day)
    threshold = fever_threshold()
    inbound = clean["direction"] == CheckpointPassage.Direction.IN
    for occupant in clean["occupants"]:
        fever = occupant["temperature"] >= threshold
        occupant["risk_level"] = level or ""
        occupant["flag"] = (
            Flag.BOTH
            if level and fever
            else Flag.RISK_AREA
            if level
            else Flag.FEVER
            if fever
            else ""
        )
    arrival_items: list[tuple[int, dict[str, Any]]] = []
    if inbound and clean["destination_division"] is not None:
        arrival_errors: dict[str, list[str]] = {}
        for index, occupant in enumerate(clean["occupants"]):
            if not occupant["flag"]:
                continue
            item, item_errors = clean_arrival(_arrival_raw(clean, occupant, day), today=day)
            for name, messages in item_errors.items():
                path = (
                    f"occupants[{index}].{name}"
                    if name in ("name", "id_number", "phone", "id_type")
                    else name
                )
                arrival_errors.setdefault(path, []).extend(messages)
            arrival_items.append((index, item))
        if arrival_errors:
            raise ValidationFailed(arrival_errors)

    passage = CheckpointPassage(
        checkpoint=checkpoint,
        direction=clean["direction"],
        plate=clean["plate"],
        vehicle_type=clean["vehicle_type"],
        origin_code=clean["origin_code"],
        origin_name=clean["origin_name"],
        destination_division=clean["destination_division"],
        destination_address=clean["destination_address"],
        purpose=clean["purpose"],
        passed_at=now,
        flagged=any(o["flag"] for o in clean["occupants"]),
        idempotency_key=key,
        registered_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():  # the unique key decides between concurrent sends
            passage.save(force_insert=True)
    except IntegrityError:
        return _existing(key, checkpoint)

    numbers = [o["id_number"] for o in clean["occupants"]]
    known = {
        p.id_number: p
        for p in Person.objects.filter(merged_into__isnull=True, id_number__in=numbers).order_by()
    }
    arrivals = (
        arrival_register_bulk(
            actor=actor,
            items=[item for _i, item in arrival_items],
            channel=Channel.CHECKPOINT,
            now=now,
        )
        if arrival_items
        else []
    )
    arrival_of = {index: arrivals[n] for n, (index, _item) in enumerate(arrival_items)}
    rows: list[PassageOccupant] = []
    for index, occupant in enumerate(clean["occupants"]):
        result = arrival_of.get(index)
        person = result.registration.person if result else known.get(occupant["id_number"])
        rows.append(
            PassageOccupant(
                passage=passage,
                seq=index + 1,
                person=person,
                name=occupant["name"],
                id_type=occupant["id_type"],
                id_number=occupant["id_number"],
                phone=occupant["phone"],
                temperature=occupant["temperature"],
                risk_level=occupant["risk_level"],
                flag=occupant["flag"],
                arrival=result.registration if result else None,
            )
        )
    PassageOccupant.objects.bulk_create(rows)
    audit_record(
        actor=actor if getattr(actor, "pk", None) else None,
        verb="travel.passage.register",
        target=passage,
        data={
            "checkpoint_id": checkpoint.pk,
            "direction": passage.direction,
            "occupants": len(rows),
            "flagged": sum(1 for r in rows if r.flag),
            "risk_level": level or "",
            "arrival_ids": [r.registration.pk for r in arrivals],
        },
    )
    return PassageResult(
        passage=passage,
        created=True,
        flagged=[r for r in rows if r.flag],
        arrivals=arrivals,
        occupants=rows,
    )
