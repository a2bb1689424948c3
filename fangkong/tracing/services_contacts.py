"""Contacts of a case: candidates from the engine, the investigator's decision, secondary
contacts, and the way a decided contact enters the closed loop.

* `candidates_refresh` runs the candidate engine (candidates.find_candidates) and upserts one
  Contact per document: new people come in as candidates; undecided candidates get fresh
  evidence, exposure and setting; decided contacts keep their decision and only get the
  evidence refreshed; engine candidates no longer found (and still undecided) are removed.
* `contact_decide` records close / general / not a contact with a reason, once: deciding again
  is a Conflict ("已判定"). A close decision (degree 1: a close contact; degree 2: a secondary
  contact) puts the person into the loop: living in a small grid of the county -> a control
  order proposed through control.order_propose_bulk (category close_contact or
  secondary_contact, counted from the last exposure day, so a late find serves only the
  remaining days) and a task in that grid worker's inbox; living outside the county -> an
  entry on the outgoing assist letter of that county (travel.assist_outgoing_add). A person
  not registered yet is created (in the grid given, or under the county for an outside one).
* `coworker_declare` stores the co-workers a close contact declares; `secondaries_propose`
  turns the close contact's household and declared co-workers into degree-2 candidates, only
  under an edition that has the secondary_contact category (the edition in force on the close
  contact's last exposure day).

Audit payloads hold ids and counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.control.contracts import OrderRequest
from fangkong.control.models import SourceType, TaskKind
from fangkong.control.services import order_propose_bulk
from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.validators import FormatError
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup
from fangkong.people.models import IdType, Person
from fangkong.people.validation import clean_person_fields
from fangkong.policy.selectors import county_root, edition_in_force
from fangkong.travel.models import AssistRequest, AssistRequestEntry
from fangkong.travel.services import OutgoingEntry, assist_outgoing_add

from .candidates import find_candidates
from .models import Case, Contact, DeclaredCoworker
from .permissions import can_write

Status = Contact.Status
Evidence = Contact.Evidence

# What the engine produces; the other kinds (manual, co-workers, household of a close contact
# at degree 2) are kept when the engine no longer finds the person.
ENGINE_KINDS = frozenset(
    {Evidence.HOUSEHOLD, Evidence.CHECKIN, Evidence.VEHICLE, Evidence.TRANSPORT}
)
DECIDED = frozenset({Status.CLOSE, Status.GENERAL, Status.NOT_CONTACT})
LOOP_CATEGORY = {1: "close_contact", 2: "secondary_contact"}


def _actor_or_none(actor: Any) -> Any:
    if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) is not None:
        return actor
    return None


def _require_write(actor: Any) -> None:
    if not can_write(actor):
        raise Forbidden(_("只有流调人员、指挥部和系统管理员可以判定接触者。"))


def _is_case_person(case: Case, id_type: str, id_number: str) -> bool:
    person = case.person
    return person.id_type == id_type and (person.id_number or "") == id_number


def _check_exposure(value: dt.datetime | None, now: dt.datetime) -> dict[str, list[str]]:
    if value is not None and value > now:
        return {"last_exposure_at": [_("末次暴露时间不能晚于现在。")]}
    return {}


# --- candidates -------------------------------------------------------------------------------


@transaction.atomic
def candidates_refresh(*, actor: Any, case: Case, now: dt.datetime | None = None) -> dict[str, int]:
    """Run the candidate engine for `case` and upsert its contacts. Returns counts
    {"found", "added", "updated", "removed"}."""
    _require_write(actor)
    now = now or timeutils.now()
    found = find_candidates(case=case, now=now)
    found = [c for c in found if not _is_case_person(case, c.id_type, c.id_number)]
    existing = {(c.id_type, c.id_number): c for c in Contact.objects.filter(case=case)}
    new_rows: list[Contact] = []
    changed: list[Contact] = []
    seen: set[tuple[str, str]] = set()
    for cand in found:
        key = (cand.id_type, cand.id_number)
        seen.add(key)
        row = existing.get(key)
        if row is None:
            new_rows.append(
                Contact(
                    case=case,
                    person_id=cand.person_id,
                    name=cand.name[:50],
                    id_type=cand.id_type,
                    id_number=cand.id_number,
                    phone=(cand.phone or "")[:20],
                    degree=1,
                    evidence_kind=cand.evidence_kind,
                    evidence=cand.evidence,
                    setting=cand.setting,
                    last_exposure_at=cand.last_exposure_at,
                )
            )
            continue
        row.evidence = cand.evidence
        if row.status == Status.CANDIDATE:
            # Direct evidence around the case outranks a secondary proposal or a manual entry.
            row.degree, row.via = 1, None
            row.evidence_kind = cand.evidence_kind
            row.setting = cand.setting
            row.last_exposure_at = cand.last_exposure_at
            row.person_id = row.person_id or cand.person_id
        changed.append(row)
    stale = [
        row.pk
        for key, row in existing.items()
        if key not in seen
        and row.status == Status.CANDIDATE
        and row.degree == 1
        and row.evidence_kind in ENGINE_KINDS
    ]
    Contact.objects.bulk_create(new_rows, batch_size=500)
    Contact.objects.bulk_update(
        changed,
        ["evidence", "degree", "via", "evidence_kind", "setting", "last_exposure_at", "person"],
        batch_size=500,
    )
    if stale:
        Contact.objects.filter(pk__in=stale).delete()
    counts = {
        "found": len(found),
        "added": len(new_rows),
        "updated": len(changed),
        "removed": len(stale),
    }
    audit_record(
        actor=_actor_or_none(actor),
        verb="tracing.contact.refresh",
        target=case,
        data=counts,
    )
    return counts


# --- manual add --------------------------------------------------------------------------------


@transaction.atomic
def contact_add_manual(
    *,
    actor: Any,
    case: Case,
    name: str,
    id_type: str,
    id_number: str,
    phone: str = "",
    setting: str = Contact.Setting.OTHER,
    last_exposure_at: dt.datetime | None = None,
    status: str = Status.CANDIDATE,
    reason: str = "",
    division_code: str = "",
    outside_code: str = "",
    now: dt.datetime | None = None,
) -> Contact:
    """Add a contact the investigator found (interview, list from a venue). With a decided
    `status` it is decided at once (a reason is then required, like contact_decide)."""
    _require_write(actor)
    now = now or timeutils.now()
    data, errors = clean_person_fields(
        {"name": name, "id_type": id_type or None, "id_number": id_number, "phone": phone}
    )
    if data.get("id_type") == IdType.NONE:
        errors.setdefault("id_number", []).append(_("接触者须登记证件号码。"))
    if setting not in Contact.Setting.values:
        errors["setting"] = [_("接触场景无效。")]
    if status not in Status.values:
        errors["status"] = [_("判定结果无效。")]
    errors.update(_check_exposure(last_exposure_at, now))
    if not errors and _is_case_person(case, data["id_type"], data["id_number"]):
        errors["id_number"] = [_("接触者不能是病例本人。")]
    if (
        not errors
        and Contact.objects.filter(
            case=case, id_type=data["id_type"], id_number=data["id_number"]
        ).exists()
    ):
        errors["id_number"] = [_("该证件号码已在本病例的接触者中。")]
    if errors:
        raise ValidationFailed(errors)
    person = (
        Person.objects.filter(
            merged_into__isnull=True, id_type=data["id_type"], id_number=data["id_number"]
        )
        .order_by("pk")
        .first()
    )
    contact = Contact.objects.create(
        case=case,
        person=person,
        name=data["name"],
        id_type=data["id_type"],
        id_number=data["id_number"],
        phone=data.get("phone") or "",
        evidence_kind=Evidence.MANUAL,
        evidence={"items": [{"kind": Evidence.MANUAL}]},
        setting=setting,
        last_exposure_at=last_exposure_at,
    )
    audit_record(
        actor=_actor_or_none(actor),
        verb="tracing.contact.add",
        target=contact,
        data={"case": case.pk, "setting": setting},
    )
    if status != Status.CANDIDATE:
        return _decide(
            actor=actor,
            contact=contact,
            status=status,
            reason=reason,
            setting=None,
            last_exposure_at=None,
            division_code=division_code,
            outside_code=outside_code,
            now=now,
        )
    if division_code or outside_code:
        _check_home(contact, division_code=division_code, outside_code=outside_code)
        contact.save(update_fields=["division", "outside_code", "updated_at"])
    return contact


# --- decide ------------------------------------------------------------------------------------


@transaction.atomic
def contact_decide(
    *,
    actor: Any,
    contact: Contact,
    status: str,
    reason: str,
    setting: str | None = None,
    last_exposure_at: dt.datetime | None = None,
    division_code: str = "",
    outside_code: str = "",
    now: dt.datetime | None = None,
) -> Contact:
    """Decide a candidate: close, general or not a contact, with a reason. A close decision
    needs the last exposure and where the person lives (registered person in a grid, or
    `division_code` (a small grid), or `outside_code` (a region outside the county)); it
    proposes the measure or adds the assist letter entry."""
    _require_write(actor)
    # Lock the row: two investigators deciding at once must not both pass the check.
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("case__person")
        .get(pk=contact.pk)
    )
    return _decide(
        actor=actor,
        contact=contact,
        status=status,
        reason=reason,
        setting=setting,
        last_exposure_at=last_exposure_at,
        division_code=division_code,
        outside_code=outside_code,
        now=now or timeutils.now(),
    )


def _decide(
    *,
    actor: Any,
    contact: Contact,
    status: str,
    reason: str,
    setting: str | None,
    last_exposure_at: dt.datetime | None,
    division_code: str,
    outside_code: str,
    now: dt.datetime,
) -> Contact:
    if contact.status in DECIDED:
        raise Conflict(
            _("该接触者已判定为“%(status)s”，不能重复判定。")
            % {"status": contact.get_status_display()},
            code="already_decided",
        )
    errors: dict[str, list[str]] = {}
    if status not in DECIDED:
        errors["status"] = [_("判定结果须为密切接触者、一般接触者或非接触者。")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请填写判定理由。")]
    elif len(reason) > 200:
        errors["reason"] = [_("判定理由不能超过200个字符。")]
    if setting is not None and setting not in Contact.Setting.values:
        errors["setting"] = [_("接触场景无效。")]
    errors.update(_check_exposure(last_exposure_at, now))
    if _is_case_person(contact.case, contact.id_type, contact.id_number):
        errors["contact"] = [_("接触者是病例本人，不能判定为接触者。")]
    exposure = last_exposure_at or contact.last_exposure_at
    if status == Status.CLOSE and exposure is None and "last_exposure_at" not in errors:
        errors["last_exposure_at"] = [_("判定为密切接触者须填写末次暴露时间。")]
    if errors:
        raise ValidationFailed(errors)
    contact.status = status
    contact.reason = reason
    contact.decided_by = _actor_or_none(actor)
    contact.decided_at = now
    contact.last_exposure_at = exposure
    if setting is not None:
        contact.setting = setting
    if division_code or outside_code:
        _check_home(contact, division_code=division_code, outside_code=outside_code)
    if status == Status.CLOSE:
        _into_the_loop(actor=actor, contact=contact, now=now)
    contact.save()
    audit_record(
        actor=_actor_or_none(actor),
        verb="tracing.contact.decide",
        target=contact,
        data={
            "case": contact.case_id,
            "status": status,
            "degree": contact.degree,
            "order": contact.order_id,
            "assist_entry": contact.assist_entry_id,
        },
    )
    return contact


def _check_home(contact: Contact, *, division_code: str, outside_code: str) -> None:
    """Validate and store where the contact lives (a small grid here, or a region outside)."""
    root = county_root()
    if division_code:
        division = Division.objects.filter(pk=division_code).first()
        if division is None or not division.is_small_grid:
            raise ValidationFailed({"division_code": [_("现住网格须为本县的小网格。")]})
        contact.division = division
        contact.outside_code = ""
        return
    try:
        code, _name = region_lookup(outside_code)
    except FormatError as exc:
        raise ValidationFailed({"outside_code": [str(exc.message)]}) from None
    if root is not None and code.startswith(root.code):
        raise ValidationFailed({"outside_code": [_("县外住址区划代码不能是本县的区划。")]})
    contact.division = None
    contact.outside_code = code


def _person_for(*, actor: Any, contact: Contact) -> Person:
    """The contact's person: linked, found by the document, or created (in the grid given;
    under the county for one living outside), like arrivals do."""
    if contact.person_id is not None:
        return contact.person
    person = (
        Person.objects.filter(
            merged_into__isnull=True, id_type=contact.id_type, id_number=contact.id_number
        )
        .select_related("division")
        .order_by("pk")
        .first()
    )
    if person is None:
        division = contact.division or county_root()
        person = Person(
            name=contact.name,
            id_type=contact.id_type,
            id_number=contact.id_number,
            phone=contact.phone,
            division=division,
        )
        data, _errors = clean_person_fields(
            {"id_type": contact.id_type, "id_number": contact.id_number}, partial=True
        )
        if data.get("birth_date"):
            person.birth_date = data["birth_date"]
        if data.get("sex"):
            person.sex = data["sex"]
        person.save(force_insert=True)
        audit_record(
            actor=_actor_or_none(actor),
            verb="people.person.create",
            target=person,
            data={"division": division.code if division else None, "source": "tracing.contact"},
        )
    contact.person = person
    return person


def _into_the_loop(*, actor: Any, contact: Contact, now: dt.datetime) -> None:
    known_grid = (
        contact.person_id is not None
        and contact.person.division is not None
        and contact.person.division.is_small_grid
    )
    if not known_grid and contact.person_id is None and not contact.division_id:
        found = (
            Person.objects.filter(
                merged_into__isnull=True, id_type=contact.id_type, id_number=contact.id_number
            )
            .select_related("division")
            .first()
        )
        known_grid = (
            found is not None and found.division is not None and found.division.is_small_grid
        )
        if found is not None:
            contact.person = found
    if not known_grid and not contact.division_id and not contact.outside_code:
        raise ValidationFailed(
            {
                "division_code": [
                    _("该人员未登记现住网格：请选择本县的小网格，或填写县外住址区划代码。")
                ]
            }
        )
    person = _person_for(actor=actor, contact=contact)
    today = timezone.localtime(now).date()
    anchor = timezone.localtime(contact.last_exposure_at).date()
    category = LOOP_CATEGORY.get(contact.degree, "secondary_contact")
    case_code = contact.case.code
    # The grid that answers: the person's own small grid, else the one the investigator gave.
    grid = next(
        (d for d in (person.division, contact.division) if d is not None and d.is_small_grid),
        None,
    )
    if grid is not None:
        title = (
            _("密接判定：病例 %(code)s") if contact.degree == 1 else _("次密接判定：病例 %(code)s")
        ) % {"code": case_code}
        outcomes = order_propose_bulk(
            actor=actor,
            requests=[
                OrderRequest(
                    person_id=person.pk,
                    division_code=grid.code,
                    category=category,
                    anchor_date=anchor,
                    found_on=today,
                    source_type=SourceType.CONTACT,
                    source_id=str(contact.pk),
                    title=title[:200],
                    task_kind=TaskKind.ORDER,
                )
            ],
            now=now,
        )
        outcome = outcomes[0]
        contact.order = outcome.order or outcome.covered_by
        contact.division = grid
        return
    if not contact.outside_code:
        raise ValidationFailed(
            {
                "division_code": [
                    _("该人员未登记现住网格：请选择本县的小网格，或填写县外住址区划代码。")
                ]
            }
        )
    assist_outgoing_add(
        actor=actor,
        entries=[
            OutgoingEntry(
                outside_code=contact.outside_code,
                person_id=person.pk,
                arrival_id=None,
                category=category,
                destination=contact.outside_code,
            )
        ],
        today=today,
        subject=_("密切接触者协查"),
    )
    contact.assist_entry = (
        AssistRequestEntry.objects.filter(
            person_id=person.pk,
            request__direction=AssistRequest.Direction.OUTGOING,
            request__counterpart_code=contact.outside_code[:6],
        )
        .order_by("-pk")
        .first()
    )


# --- secondary contacts --------------------------------------------------------------------------


def _require_close(contact: Contact) -> None:
    if contact.status != Status.CLOSE or contact.degree != 1:
        raise Conflict(
            _("只有已判定的密切接触者才能申报同事、推送密接的密接。"), code="not_close_contact"
        )


@transaction.atomic
def coworker_declare(
    *, actor: Any, contact: Contact, rows: list[dict[str, Any]]
) -> list[DeclaredCoworker]:
    """Store the co-workers a close contact declared (name, id_type, id_number, phone).
    Bad rows are reported as "rows.<n>.<field>"; nothing is stored then. Already declared
    documents are skipped."""
    _require_write(actor)
    _require_close(contact)
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    if not rows:
        errors["rows"] = [_("请至少填写一名同事。")]
    for n, row in enumerate(rows, start=1):
        data, row_errors = clean_person_fields(
            {
                "name": row.get("name"),
                "id_type": row.get("id_type") or None,
                "id_number": row.get("id_number"),
                "phone": row.get("phone") or "",
            }
        )
        if data.get("id_type") == IdType.NONE:
            row_errors.setdefault("id_number", []).append(_("同事须登记证件号码。"))
        for field, messages in row_errors.items():
            errors[f"rows.{n}.{field}"] = [_("第%(n)d行：") % {"n": n} + m for m in messages]
        cleaned.append(data)
    if errors:
        raise ValidationFailed(errors)
    known = set(
        DeclaredCoworker.objects.filter(contact=contact).values_list("id_type", "id_number")
    )
    new: list[DeclaredCoworker] = []
    for data in cleaned:
        key = (data["id_type"], data["id_number"])
        if key in known:
            continue
        known.add(key)
        new.append(
            DeclaredCoworker(
                contact=contact,
                name=data["name"],
                id_type=data["id_type"],
                id_number=data["id_number"],
                phone=data.get("phone") or "",
            )
        )
    DeclaredCoworker.objects.bulk_create(new)
    audit_record(
        actor=_actor_or_none(actor),
        verb="tracing.contact.coworkers",
        target=contact,
        data={"added": len(new)},
    )
    return new


@transaction.atomic
def secondaries_propose(*, actor: Any, contact: Contact) -> list[Contact]:
    """Propose the close contact's household members and declared co-workers as degree-2
    candidates (via the contact). Refused under an edition without secondary contacts."""
    _require_write(actor)
    _require_close(contact)
    day = timezone.localtime(contact.last_exposure_at).date()
    edition = edition_in_force(on=day)
    if edition is None or "secondary_contact" not in (edition.rules or {}):
        name = edition.short_name if edition is not None else _("（无）")
        raise Conflict(
            _("%(edition)s不判定密接的密接（末次暴露日施行的防控方案），无需推送。")
            % {"edition": name},
            code="no_secondary_contacts",
        )
    proposals: list[tuple[str, str, str, str, int | None, str]] = []
    person = contact.person
    if person is None:
        person = (
            Person.objects.filter(
                merged_into__isnull=True, id_type=contact.id_type, id_number=contact.id_number
            )
            .order_by("pk")
            .first()
        )
    if person is not None and person.household_id is not None:
        members = Person.objects.filter(
            household_id=person.household_id, merged_into__isnull=True
        ).exclude(pk=person.pk)
        for m in members:
            if m.id_number:
                proposals.append(
                    (m.id_type, m.id_number, m.name, m.phone, m.pk, Evidence.HOUSEHOLD)
                )
    for w in DeclaredCoworker.objects.filter(contact=contact):
        proposals.append((w.id_type, w.id_number, w.name, w.phone, None, Evidence.COWORKER))
    case = contact.case
    taken = set(Contact.objects.filter(case=case).values_list("id_type", "id_number"))
    taken.add((case.person.id_type, case.person.id_number or ""))
    new: list[Contact] = []
    for id_type, id_number, name, phone, person_id, kind in proposals:
        if (id_type, id_number) in taken:
            continue
        taken.add((id_type, id_number))
        new.append(
            Contact(
                case=case,
                person_id=person_id,
                name=name[:50],
                id_type=id_type,
                id_number=id_number,
                phone=(phone or "")[:20],
                degree=2,
                via=contact,
                evidence_kind=kind,
                evidence={"items": [{"kind": kind, "via": contact.pk}]},
                setting=Contact.Setting.HOUSEHOLD
                if kind == Evidence.HOUSEHOLD
                else Contact.Setting.WORK,
            )
        )
    Contact.objects.bulk_create(new)
    audit_record(
        actor=_actor_or_none(actor),
        verb="tracing.contact.secondaries",
        target=contact,
        data={"added": len(new), "edition": edition.code},
    )
    return new
