"""过卡登记: registering a vehicle (or a person on foot) passing a checkpoint.

`passage_register` validates the whole passage first (every bad field at once, with paths like
"occupants[1].temperature"; nothing written on error), then writes the passage (INSERT ... ON
CONFLICT on the idempotency key), its occupants (each linked to the registered person holding
their document) and the audit event: on PostgreSQL in one statement, atomic by itself, so the
barrier pays no BEGIN and COMMIT round trips (`_insert`); elsewhere in a short transaction.

An occupant from a risk area (on the day of passing) or with a fever is flagged at once, and
the answer shows staff what to do. On an inbound passage with a destination grid the flagged
occupants then become arrivals in the loop (channel "checkpoint"): the passage is marked
`handover=pending`, and the loop worker (`fangkong loop_worker`, `passages_process`) registers
them within about a second (person, measure proposed, the destination grid worker's task),
so that the barrier never waits on the loop. With FANGKONG["LOOP_INLINE"] (a single machine
without a worker; the tests) it is done within the request. A hand-over that fails is kept
with its reason (`handover_error`) for the HQ, never lost.

A retry (the same idempotency key, e.g. the form sent again after a network error, or two
sends at the same moment) answers with the first passage and writes nothing: the unique key
decides inside the INSERT, so concurrent sends cannot make two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record, audit_values
from fangkong.core.db import insert_returning, insert_unless_conflict, insert_with_children
from fangkong.core.exceptions import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.scope import code_in_scope
from fangkong.people.bulk import person_by_document_sql
from fangkong.people.models import Person
from fangkong.policy.selectors import risk_level_cached

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
Handover = CheckpointPassage.Handover
# The columns of an occupant row that come from the form (with the passage and the person).
_OCCUPANT_FIELDS = (
    "seq",
    "name",
    "id_type",
    "id_number",
    "phone",
    "temperature",
    "risk_level",
    "flag",
)


@dataclass
class PassageResult:
    """The passage, whether it is new (False: a retry answered with the first one), its
    flagged occupants and the arrivals they became (empty until the loop worker handed them
    over: at once with LOOP_INLINE; empty on a retry)."""

    passage: CheckpointPassage
    created: bool
    flagged: list[PassageOccupant] = field(default_factory=list)
    arrivals: list[ArrivalResult] = field(default_factory=list)
    # Every occupant of a new passage, as written (the answer is drawn from them without
    # reading the passage back); empty on a retry.
    occupants: list[PassageOccupant] = field(default_factory=list)


# --- the arrivals of flagged occupants ---------------------------------------------------


def _arrival_raw(passage: CheckpointPassage, occupant: Any, day: dt.date) -> dict[str, Any]:
    """What a flagged occupant (a PassageOccupant, saved or not) becomes as an arrival: left and arrived on the day of passing, by the
    passage's vehicle, to its destination grid; a fever is written as the symptom."""
    vehicle_type = passage.vehicle_type
    if vehicle_type == ON_FOOT:
        transport = Transport.OTHER
    elif vehicle_type in BUS_VEHICLE_TYPES:
        transport = Transport.BUS
    else:
        transport = Transport.CAR
    symptoms = ""
    if occupant.flag in (Flag.FEVER, Flag.BOTH):
        symptoms = _("发热 %(t)s℃") % {"t": occupant.temperature}
    return {
        "name": occupant.name,
        "id_type": occupant.id_type,
        "id_number": occupant.id_number,
        "phone": occupant.phone,
        "origin_code": passage.origin_code,
        "left_on": day,
        "arrived_on": day,
        "transport": transport,
        "vehicle_no": passage.plate,
        "destination_code": passage.destination_division_id,
        "destination_address": passage.destination_address,
        "symptoms": symptoms,
    }


def _check_actor(actor: Any, checkpoint: Checkpoint) -> None:
    if not can_register_passage(actor):
        raise Forbidden(_("您的角色不能进行过卡登记。"))
    if not code_in_scope(viewer=actor, code=checkpoint.division_id):
        raise NotFound(_("卡口不存在。"))


def _existing(key: str, checkpoint: Checkpoint) -> PassageResult:
    passage = CheckpointPassage.objects.get(idempotency_key=key)
    if passage.checkpoint_id != checkpoint.pk:
        raise Conflict(_("该幂等键已用于另一卡口的登记。"), code="idempotency_key_reused")
    flagged = [o for o in passage.occupants.select_related("person") if o.flag]
    return PassageResult(passage=passage, created=False, flagged=flagged)


def _flags(clean: dict[str, Any], *, day: dt.date) -> str | None:
    """Flag each occupant (risk area of the origin on the day of passing, fever); the level."""
    level = None
    if clean["origin_code"]:
        level = risk_level_cached(origin_code=clean["origin_code"], on=day)
    threshold = fever_threshold()
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
    return level


def _check_arrivals(
    passage: CheckpointPassage, occupants: list[PassageOccupant], *, day: dt.date
) -> None:
    """The arrivals the flagged occupants will become must be valid now, at the barrier, so
    that the hand-over later cannot fail on what staff typed (paths name the occupant)."""
    errors: dict[str, list[str]] = {}
    for occupant in occupants:
        if not occupant.flag:
            continue
        _item, item_errors = clean_arrival(_arrival_raw(passage, occupant, day), today=day)
        for name, messages in item_errors.items():
            path = (
                f"occupants[{occupant.seq - 1}].{name}"
                if name in ("name", "id_type", "id_number", "phone")
                else name
            )
            errors.setdefault(path, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)


# --- the service -----------------------------------------------------------------------------


def passage_register(
    *,
    actor: Any,
    checkpoint: Checkpoint,
    data: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> PassageResult:
    """Register a passage with its occupants and flag them; flagged inbound occupants bound
    for a grid of the county are handed to the arrival loop (module docstring). A second call
    with the same key answers with the first passage."""
    _check_actor(actor, checkpoint)
    key = str(idempotency_key or "").strip()  # as sent: hyphens and case matter
    if not key or len(key) > KEY_MAX:
        raise ValidationFailed({"idempotency_key": [_("幂等键不能为空，且不超过64个字符")]})
    try:
        if not checkpoint.active:
            raise Conflict(_("该卡口已撤销，不能登记。"), code="checkpoint_inactive")
        now = now or timeutils.now()
        day = timezone.localtime(now).date()
        clean, errors = clean_passage(data, today=day)
        if errors:
            raise ValidationFailed(errors)
        return _write(actor=actor, checkpoint=checkpoint, clean=clean, key=key, now=now)
    except DomainError:
        # A retry of a passage that was written is answered, never refused for what it says
        # now (the checkpoint closed since, a risk area declared since, ...).
        if CheckpointPassage.objects.filter(idempotency_key=key).exists():
            return _existing(key, checkpoint)
        raise


def _write(
    *, actor: Any, checkpoint: Checkpoint, clean: dict[str, Any], key: str, now: dt.datetime
) -> PassageResult:
    day = timezone.localtime(now).date()
    level = _flags(clean, day=day)
    flagged = any(o["flag"] for o in clean["occupants"])
    inbound = clean["direction"] == CheckpointPassage.Direction.IN
    hand_over = flagged and inbound and clean["destination_division"] is not None
    registrar = actor if getattr(actor, "pk", None) else None
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
        flagged=flagged,
        handover=Handover.PENDING if hand_over else Handover.NONE,
        idempotency_key=key,
        registered_by=registrar,
    )
    occupants = [
        PassageOccupant(
            passage=passage,
            seq=index + 1,
            name=o["name"],
            id_type=o["id_type"],
            id_number=o["id_number"],
            phone=o["phone"],
            temperature=o["temperature"],
            risk_level=o["risk_level"],
            flag=o["flag"],
        )
        for index, o in enumerate(clean["occupants"])
    ]
    if hand_over:
        _check_arrivals(passage, occupants, day=day)
    values = {
        name: getattr(passage, name)
        for name in (
            "direction",
            "plate",
            "vehicle_type",
            "origin_code",
            "origin_name",
            "destination_address",
            "purpose",
            "passed_at",
            "flagged",
            "handover",
            "handover_error",
            "idempotency_key",
        )
    }
    values["checkpoint"] = checkpoint.pk
    values["destination_division"] = passage.destination_division_id
    values["registered_by"] = registrar.pk if registrar else None
    rows = [{name: getattr(o, name) for name in _OCCUPANT_FIELDS} for o in occupants]
    audit = audit_values(
        actor=registrar,
        verb="travel.passage.register",
        target_type=CheckpointPassage._meta.label_lower,
        data={
            "checkpoint_id": checkpoint.pk,
            "direction": passage.direction,
            "occupants": len(occupants),
            "flagged": sum(1 for o in occupants if o.flag),
            "risk_level": level or "",
            "handover": passage.handover,
        },
    )
    written = _insert(values, rows, audit)
    if written is None:  # the key was there already (a retry, or its twin at this moment)
        return _existing(key, checkpoint)
    passage.pk, returned = written
    by_seq = {seq: (pk, person_id) for seq, pk, person_id in returned}
    for occupant in occupants:
        occupant.pk, occupant.person_id = by_seq[occupant.seq]
        occupant.passage_id = passage.pk
    known = [o.person_id for o in occupants if o.person_id]
    if known:  # the answer shows each known person: one read for all, their grid with them
        people = Person.objects.select_related("division").in_bulk(known)
        for occupant in occupants:
            if occupant.person_id:
                occupant.person = people.get(occupant.person_id)
    arrivals: list[ArrivalResult] = []
    if hand_over and settings.FANGKONG.get("LOOP_INLINE"):
        with transaction.atomic():
            arrivals = _hand_over_or_mark(passage, occupants) or []
    return PassageResult(
        passage=passage,
        created=True,
        flagged=[o for o in occupants if o.flag],
        arrivals=arrivals,
        occupants=occupants,
    )


def _insert(
    values: dict[str, Any], rows: list[dict[str, Any]], audit: dict[str, Any]
) -> tuple[int, list[tuple[Any, ...]]] | None:
    """Write the passage, its occupants (each linked to the registered person holding their
    document) and the audit event; None when the idempotency key was taken. PostgreSQL: one
    statement (core.db.insert_with_children), so no BEGIN/COMMIT round trips at the barrier;
    elsewhere three statements in a transaction. Returns (passage id, [(seq, id, person id)])."""
    if connection.vendor == "postgresql":
        return insert_with_children(
            CheckpointPassage,
            values,
            child=PassageOccupant,
            parent_field="passage",
            rows=rows,
            computed=(
                "person",
                person_by_document_sql(id_type="v.id_type", id_number="v.id_number"),
            ),
            returning=("seq", "id", "person"),
            audit=audit,
        )
    with transaction.atomic():
        row = insert_unless_conflict(CheckpointPassage, values)
        if row is None:
            return None
        person_sql = person_by_document_sql()
        returned = insert_returning(
            PassageOccupant,
            [{**r, "passage": row[0]} for r in rows],
            computed=[("person", person_sql, [r["id_type"], r["id_number"]]) for r in rows],
            returning=("seq", "id", "person"),
        )
        insert_returning(AuditEvent, [{**audit, "target_id": str(row[0])}])
    return row[0], returned


# --- the hand-over to the loop (the loop worker) ------------------------------------------------


def _hand_over(passage: CheckpointPassage, occupants: list[PassageOccupant]) -> list[ArrivalResult]:
    """Register the flagged occupants of one passage as arrivals and link them (below)."""
    return _hand_over_many([passage], {passage.pk: occupants})


def _hand_over_many(
    passages: list[CheckpointPassage], occupants: dict[int, list[PassageOccupant]]
) -> list[ArrivalResult]:
    """Register the flagged occupants of passages registered by one staff member on one day as
    arrivals, in one arrival_register_bulk call (as that staff member; the loop's clocks start
    at the first passage), link them, and mark the passages done. Occupants the sweep already
    turned into arrivals are left as they are."""
    waiting: list[PassageOccupant] = []
    items = []
    for passage in passages:
        day = timezone.localtime(passage.passed_at).date()
        for occupant in occupants.get(passage.pk, []):
            if not occupant.flag or occupant.arrival_id is not None:
                continue
            item, errors = clean_arrival(_arrival_raw(passage, occupant, day), today=day)
            if errors:  # checked at the barrier; a grid removed since is the only way here
                first = next(iter(errors.values()))[0]
                raise ValidationFailed({f"occupants[{occupant.seq - 1}]": [first]})
            waiting.append(occupant)
            items.append(item)
    arrivals = (
        arrival_register_bulk(
            actor=passages[0].registered_by,
            items=items,
            channel=Channel.CHECKPOINT,
            now=min(p.passed_at for p in passages),
        )
        if items
        else []
    )
    for occupant, result in zip(waiting, arrivals, strict=True):
        occupant.arrival = result.registration
        occupant.person = result.registration.person
    if waiting:
        PassageOccupant.objects.bulk_update(waiting, ["arrival", "person"], batch_size=500)
    CheckpointPassage.objects.filter(pk__in=[p.pk for p in passages]).update(
        handover=Handover.DONE, handover_error=""
    )
    for passage in passages:
        passage.handover = Handover.DONE
    return arrivals


def _hand_over_or_mark(
    passage: CheckpointPassage, occupants: list[PassageOccupant]
) -> list[ArrivalResult] | None:
    """`_hand_over` in a savepoint; on failure the passage is marked with the reason (None)."""
    try:
        with transaction.atomic():
            return _hand_over(passage, occupants)
    except DomainError as exc:
        reason = "; ".join(
            f"{name}: {'; '.join(map(str, messages))}"
            for name, messages in (exc.errors or {}).items()
        ) or str(exc)
        CheckpointPassage.objects.filter(pk=passage.pk).update(
            handover=Handover.FAILED, handover_error=reason[:500]
        )
        passage.handover, passage.handover_error = Handover.FAILED, reason[:500]
        return None


@transaction.atomic
def passages_process(*, actor: Any = None, limit: int = 200) -> dict[str, int]:
    """Hand the flagged occupants of pending passages to the arrival loop, oldest first, up to
    `limit`. Passages another worker is handing over are skipped (SKIP LOCKED). The passages
    registered by one staff member on one day go in one batch (one person lookup, one insert
    of arrivals, one proposal call); if the batch fails, each passage is tried in its own
    savepoint, and one that fails is marked with its reason for the HQ (`handover_error`,
    listed on /arrivals/hq/), the others go on."""
    passages = list(
        CheckpointPassage.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("registered_by")
        .filter(handover=Handover.PENDING)
        .order_by("pk")[:limit]
    )
    if not passages:
        return {"done": 0, "failed": 0}
    occupants: dict[int, list[PassageOccupant]] = {}
    for occupant in PassageOccupant.objects.filter(
        passage_id__in=[p.pk for p in passages], flag__gt=""
    ).order_by("passage_id", "seq"):
        occupants.setdefault(occupant.passage_id, []).append(occupant)
    groups: dict[tuple[Any, dt.date], list[CheckpointPassage]] = {}
    for passage in passages:
        day = timezone.localtime(passage.passed_at).date()
        groups.setdefault((passage.registered_by_id, day), []).append(passage)
    done = failed = 0
    for group in groups.values():
        try:  # the whole group in one go...
            with transaction.atomic():
                _hand_over_many(group, occupants)
            done += len(group)
            continue
        except (DomainError, IntegrityError):
            pass
        for passage in group:  # ...or each alone, marking the ones that fail
            if _hand_over_or_mark(passage, occupants.get(passage.pk, [])) is None:
                failed += 1
            else:
                done += 1
    audit_record(
        actor=actor if getattr(actor, "pk", None) else None,
        verb="travel.passage.handover",
        target_type="travel.checkpointpassage",
        data={"done": done, "failed": failed, "first": passages[0].pk, "last": passages[-1].pk},
    )
    return {"done": done, "failed": failed}
