"""Writes of the travel app: arrivals (来返报备) and assist requests (协查函).

An arrival is validated (`validation.clean_arrival`), matched to a person by document number
(found, or created; a different name on a known number is flagged, never written over the
record), looked up against the risk areas in force on the day the person left, given the
category of the edition in force on that day, and handed to the control app, which proposes
the measure and opens the task in the destination grid worker's inbox
(`control.services.order_propose_bulk`, one call for one row or a whole imported batch).
An arrival bound for somewhere outside the county gets no task: it is appended to the open
outgoing assist request to the counterpart region instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.roles import policy_for
from fangkong.control.contracts import OrderOutcome, OrderRequest
from fangkong.control.services import order_propose_bulk
from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.db import insert_unless_conflict
from fangkong.core.exceptions import DomainError, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.core.validators import FormatError
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup
from fangkong.people.models import Person
from fangkong.people.services import person_create
from fangkong.policy.models import Category, CountsFrom, RiskLevel
from fangkong.policy.rules import category_for_arrival, rule_for
from fangkong.policy.selectors import county_root, edition_in_force, risk_level_at

from . import letters
from .models import AssistRequest, AssistRequestEntry, Channel, SelfReport, TravelRegistration
from .permissions import (
    can_register,
    can_write_assist,
    registers_county_wide,
)
from .validation import clean_arrival

# Receipt codes: no 0/O, 1/I/L, so that a code read out over the phone is not misheard.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8
FEEDBACK_MAX = 300

LIST_CHANNELS = frozenset({Channel.PUSHED_LIST, Channel.ASSIST_REQUEST})


@dataclass(frozen=True)
class ArrivalResult:
    """One registration: the order outcome from the control app (None when the destination
    is outside the county), whether the registration is new (False for a self-report sent
    again) and whether the person record was created for it."""

    registration: TravelRegistration
    outcome: OrderOutcome | None
    created: bool
    person_created: bool = False


def _actor_or_none(actor: Any) -> Any:
    """The account to store as who did it: None for the public page and for the system (the
    command line's actor is authenticated but has no account)."""
    if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) is not None:
        return actor
    return None


# --- the rule lookup -------------------------------------------------------------------------


def _title(*, category: str | None, risk_level: str | None, data: dict[str, Any]) -> str:
    """The task's title: why this person is in the inbox, and from where. No personal data."""
    origin = data.get("origin_name") or data.get("origin_country") or ""
    if category in (Category.CLOSE_CONTACT, Category.SECONDARY_CONTACT):
        return _("%(category)s（协查）：%(origin)s") % {
            "category": Category(category).label,
            "origin": origin,
        }
    if category == Category.ENTRANT or (data.get("from_abroad") and not risk_level):
        return _("境外来返：%(origin)s") % {"origin": origin}
    if risk_level:
        return _("%(level)s地区来返：%(origin)s") % {
            "level": RiskLevel(risk_level).label,
            "origin": origin,
        }
    if category == Category.RURAL_RETURNEE:
        return _("返乡人员：%(origin)s") % {"origin": origin}
    return _("来返人员：%(origin)s") % {"origin": origin}


@dataclass
class _Lookup:
    risk_level: str | None
    risk_area: Any
    edition: Any
    category: str | None
    anchor: dt.date | None


class _Rules:
    """The rule lookup for a batch, each risk query and edition read once per distinct key."""

    def __init__(self) -> None:
        self.risk: dict[tuple[str, str, dt.date], tuple[str | None, Any]] = {}
        self.editions: dict[dt.date, Any] = {}

    def lookup(self, data: dict[str, Any], division: Division | None) -> _Lookup:
        left_on: dt.date = data["left_on"]
        level, area = None, None
        if data.get("origin_code"):
            key = (data["origin_code"], data.get("origin_address") or "", left_on)
            if key not in self.risk:
                self.risk[key] = risk_level_at(
                    origin_code=key[0], origin_address=key[1], on=left_on
                )
            level, area = self.risk[key]
        if left_on not in self.editions:
            self.editions[left_on] = edition_in_force(on=left_on)
        edition = self.editions[left_on]
        category = None
        anchor = None
        given = data.get("category")  # an assist list may say: close contact, secondary ...
        if edition is not None and given and given in (edition.rules or {}):
            category = given
        elif edition is not None:
            category = category_for_arrival(
                edition=edition,
                from_abroad=bool(data.get("from_abroad")),
                risk_level=level,
                rural_destination=division is not None and division.kind == Division.Kind.RURAL,
            )
        if category is not None:
            rule = rule_for(edition, category)
            if rule is None:
                category = None
            elif rule.counts_from == CountsFrom.ARRIVAL:
                anchor = data["arrived_on"]
            else:  # left the area (or last exposure there): the day the person left
                anchor = left_on
        return _Lookup(level, area, edition, category, anchor)


# --- people ----------------------------------------------------------------------------------


def _person_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "name": data["name"],
        "id_type": data["id_type"],
        "id_number": data["id_number"],
        "phone": data.get("phone") or "",
        "address": data.get("destination_address") or "",
    }
    if data.get("sex"):
        fields["sex"] = data["sex"]
    if data.get("birth_date"):
        fields["birth_date"] = data["birth_date"]
    return fields


def _find_people(items: list[dict[str, Any]]) -> dict[tuple[str, str], Person]:
    """The people the items' documents already belong to, in one query."""
    numbers = {d["id_number"] for d in items if d.get("id_number")}
    if not numbers:
        return {}
    found: dict[tuple[str, str], Person] = {}
    rows = Person.objects.filter(merged_into__isnull=True, id_number__in=numbers).order_by()
    for person in rows:
        found[(person.id_type, person.id_number)] = person
    return found


def _create_person(
    *, actor: Any, data: dict[str, Any], division: Division, import_job: Any
) -> Person:
    """A new person for an arrival. Staff who may edit people in that grid create it through
    people.services (its checks and audit); the public page, checkpoint staff and imports
    create it here, with the same cleaned fields, audited as the system or the importer."""
    if (
        import_job is None
        and policy_for(actor).can_edit_people
        and code_in_scope(viewer=actor, code=division.code)
    ):
        return person_create(
            actor=actor,
            division_code=division.code,
            **{k: v for k, v in _person_fields(data).items() if k != "birth_date"},
            birth_date=data.get("birth_date"),
        )
    # The fields were cleaned by clean_arrival (people.validation rules); the grid exists.
    person = Person(division=division, import_job=import_job, **_person_fields(data))
    person.save(force_insert=True)
    audit_record(
        actor=_actor_or_none(actor),
        verb="people.person.create",
        target=person,
        data={"division": division.code, "source": "travel.arrival"},
    )
    return person


# --- registering -----------------------------------------------------------------------------


def _check_actor(actor: Any, channel: str) -> None:
    """actor None is the system (a management command, the loop worker's follow-up sweep)."""
    if channel == Channel.SELF_REPORT or actor is None:
        return
    if not can_register(actor):
        raise Forbidden(_("您的角色不能登记来返人员。"))


def _destination_errors(
    *, actor: Any, channel: str, items: Iterable[dict[str, Any]]
) -> dict[str, list[str]]:
    """A registrant's destination grid must be in their jurisdiction, except for the public
    page (the QR decides), imports (checked per row) and the county-wide roles."""
    if channel == Channel.SELF_REPORT or registers_county_wide(actor):
        return {}
    for data in items:
        code = data.get("destination_code")
        if code and not code_in_scope(viewer=actor, code=code):
            return {"destination_code": [_("目的网格不存在或不在您的管辖范围内")]}
    return {}


def _next_letter_number(root: Division | None, year: int) -> str:
    short = (root.name if root else "").removesuffix("县").removesuffix("市").removesuffix("区")
    count = AssistRequest.objects.filter(
        direction=AssistRequest.Direction.OUTGOING, dated__year=year
    ).count()
    return _("%(short)s防协〔%(year)s〕%(n)s号") % {"short": short, "year": year, "n": count + 1}


def _open_outgoing(
    *, actor: Any, code: str, today: dt.date, cache: dict[str, Any], subject: str | None = None
) -> Any:
    """The open outgoing letter to the counterpart county of `code` (created when none). The
    letter is an official document: its number and wording are stored in Chinese whatever
    the language of the screen that caused it."""
    county_code = code[:6]
    if county_code in cache:
        return cache[county_code]
    letter = (
        AssistRequest.objects.select_for_update()
        .filter(
            direction=AssistRequest.Direction.OUTGOING,
            counterpart_code=county_code,
            status=AssistRequest.Status.OPEN,
        )
        .order_by("pk")
        .first()
    )
    if letter is None:
        try:
            _code, name = region_lookup(county_code)
        except FormatError:
            name = county_code
        with translation.override("zh-hans"):
            letter = AssistRequest(
                direction=AssistRequest.Direction.OUTGOING,
                number=_next_letter_number(county_root(), today.year),
                counterpart=_("%(name)s新冠肺炎疫情防控指挥部") % {"name": name},
                counterpart_code=county_code,
                subject=(subject or _("来返人员协查"))[:300],
                dated=today,
                created_by=_actor_or_none(actor),
            )
        letter.full_clean()
        letter.save(force_insert=True)
        audit_record(
            actor=_actor_or_none(actor),
            verb="travel.assist.create",
            target=letter,
            data={"direction": letter.direction, "counterpart_code": county_code},
        )
    cache[county_code] = letter
    return letter


def _register(
    *,
    actor: Any,
    items: list[dict[str, Any]],
    channel: str,
    now: dt.datetime | None,
    assist_request: AssistRequest | None = None,
    import_job: Any = None,
    extras: list[dict[str, Any]] | None = None,
    propose: bool = True,
) -> list[ArrivalResult]:
    """Register clean arrivals (clean_arrival's output): people, registrations, rule lookup,
    outgoing assist entries, and one order_propose_bulk call for the rest (unless `propose`
    is False: the caller, the retroactive sweep, proposes them itself)."""
    now = now or timeutils.now()
    today = timezone.localtime(now).date()
    divisions: dict[str, Division] = {
        d["destination_code"]: d["destination_division"]
        for d in items
        if d.get("destination_code") and d.get("destination_division") is not None
    }
    codes = {d["destination_code"] for d in items if d.get("destination_code")} - set(divisions)
    if codes:
        divisions.update(Division.objects.in_bulk(list(codes)))
    root = county_root() if any(d.get("outside_county") for d in items) else None
    known = _find_people(items)
    people: list[tuple[Person, bool]] = []
    bulk_new: dict[tuple[str, str], Person] = {}
    for data in items:
        key = (data["id_type"], data["id_number"])
        division = divisions.get(data.get("destination_code") or "") or root
        if key in known:
            people.append((known[key], False))
        elif len(items) == 1:
            person = _create_person(
                actor=actor, data=data, division=division, import_job=import_job
            )
            known[key] = person
            people.append((person, True))
        elif key in bulk_new:
            people.append((bulk_new[key], False))
        else:
            person = Person(division=division, import_job=import_job, **_person_fields(data))
            bulk_new[key] = person
            people.append((person, True))
    if bulk_new:
        Person.objects.bulk_create(list(bulk_new.values()))
        audit_record(
            actor=_actor_or_none(actor),
            verb="people.person.create_bulk",
            target_type="imports.importjob" if import_job is not None else "",
            target_id=getattr(import_job, "pk", None),
            data={"count": len(bulk_new), "source": "travel.arrival"},
        )

    rules = _Rules()
    registrations: list[TravelRegistration] = []
    lookups: list[_Lookup] = []
    for index, data in enumerate(items):
        person, _created = people[index]
        division = divisions.get(data.get("destination_code") or "")
        found = rules.lookup(data, division)
        lookups.append(found)
        extra = (extras or [{}] * len(items))[index]
        registrations.append(
            TravelRegistration(
                person=person,
                channel=channel,
                reported_name=data["name"],
                reported_phone=data.get("phone") or "",
                identity_mismatch=person.name != data["name"],
                origin_code=data.get("origin_code") or "",
                origin_name=data.get("origin_name") or "",
                origin_address=data.get("origin_address") or "",
                from_abroad=bool(data.get("from_abroad")),
                origin_country=data.get("origin_country") or "",
                left_on=data["left_on"],
                arrived_on=data["arrived_on"],
                transport=data["transport"],
                vehicle_no=data.get("vehicle_no") or "",
                seat=data.get("seat") or "",
                destination_division=division,
                destination_address=data.get("destination_address") or "",
                outside_county=bool(data.get("outside_county")),
                outside_code=data.get("outside_code") or "",
                symptoms=data.get("symptoms") or "",
                risk_level=found.risk_level or "",
                risk_area=found.risk_area,
                category=found.category or "",
                assist_request=assist_request,
                receipt_code=extra.get("receipt_code"),
                dedupe_key=extra.get("dedupe_key"),
                import_job=import_job,
                created_by=_actor_or_none(actor),
            )
        )
    if len(registrations) == 1:
        registrations[0].save(force_insert=True)
    else:
        TravelRegistration.objects.bulk_create(registrations)

    requests: list[OrderRequest] = []
    inside: list[int] = []
    letters_by_code: dict[str, Any] = {}
    entries: list[AssistRequestEntry] = []
    for index, reg in enumerate(registrations):
        found = lookups[index]
        if reg.outside_county:
            letter = _open_outgoing(
                actor=actor, code=reg.outside_code, today=today, cache=letters_by_code
            )
            entries.append(
                AssistRequestEntry(
                    request=letter,
                    person=reg.person,
                    arrival=reg,
                    category=reg.category,
                    destination=reg.destination_address,
                )
            )
            continue
        inside.append(index)
        requests.append(
            OrderRequest(
                person_id=reg.person.pk,
                division_code=reg.destination_division_id,
                category=found.category,
                anchor_date=found.anchor,
                found_on=today,
                source_type="arrival",
                source_id=str(reg.pk),
                title=_title(
                    category=found.category, risk_level=found.risk_level, data=items[index]
                ),
                risk_area_id=found.risk_area.pk if found.risk_area is not None else None,
                edition=found.edition,
                task_kind="arrival",
            )
        )
    if entries:
        AssistRequestEntry.objects.bulk_create(entries)
    outcomes: list[OrderOutcome | None] = [None] * len(registrations)
    if requests and propose:
        proposed = order_propose_bulk(actor=_actor_or_none(actor), requests=requests, now=now)
        changed: list[TravelRegistration] = []
        for index, outcome in zip(inside, proposed, strict=True):
            outcomes[index] = outcome
            order = outcome.order or outcome.covered_by
            if order is not None:
                registrations[index].order = order
                changed.append(registrations[index])
        if len(changed) == 1:
            changed[0].save(update_fields=["order", "updated_at"])
        elif changed:
            TravelRegistration.objects.bulk_update(changed, ["order"])

    if len(registrations) == 1:
        reg = registrations[0]
        audit_record(
            actor=_actor_or_none(actor),
            verb="travel.arrival.register",
            target=reg,
            data={
                "channel": channel,
                "person_id": reg.person_id,
                "person_created": people[0][1],
                "identity_mismatch": reg.identity_mismatch,
                "risk_level": reg.risk_level,
                "category": reg.category,
                "order_id": reg.order_id,
                "outside_county": reg.outside_county,
                "assist_request_id": assist_request.pk if assist_request else None,
            },
        )
    else:
        audit_record(
            actor=_actor_or_none(actor),
            verb="travel.arrival.register_bulk",
            target_type="imports.importjob" if import_job is not None else "",
            target_id=getattr(import_job, "pk", None),
            data={
                "channel": channel,
                "count": len(registrations),
                "people_created": len(bulk_new),
                "outside_county": len(entries),
                "orders_proposed": sum(1 for o in outcomes if o is not None and o.order),
                "assist_request_id": assist_request.pk if assist_request else None,
            },
        )
    return [
        ArrivalResult(
            registration=reg, outcome=outcomes[i], created=True, person_created=people[i][1]
        )
        for i, reg in enumerate(registrations)
    ]


@transaction.atomic
def arrival_register(
    *,
    actor: Any,
    data: dict[str, Any],
    channel: str,
    now: dt.datetime | None = None,
    assist_request: AssistRequest | None = None,
    import_job: Any = None,
) -> ArrivalResult:
    """Register one arrival from raw input: validate everything first (ValidationFailed names
    every bad field, nothing written), then person, registration, rule lookup, proposal."""
    if channel not in Channel.values:
        raise ValidationFailed({"channel": [_("报备渠道无效")]})
    _check_actor(actor, channel)
    now = now or timeutils.now()
    today = timezone.localtime(now).date()
    clean, errors = clean_arrival(data, today=today, from_list=channel in LIST_CHANNELS)
    if not errors:
        errors = _destination_errors(actor=actor, channel=channel, items=[clean])
    if errors:
        raise ValidationFailed(errors)
    return _register(
        actor=actor,
        items=[clean],
        channel=channel,
        now=now,
        assist_request=assist_request,
        import_job=import_job,
    )[0]


@transaction.atomic
def arrival_register_bulk(
    *,
    actor: Any,
    items: list[dict[str, Any]],
    channel: str,
    now: dt.datetime | None = None,
    assist_request: AssistRequest | None = None,
    import_job: Any = None,
    propose: bool = True,
) -> list[ArrivalResult]:
    """Register many arrivals already cleaned by `clean_arrival` (an importer's batch, whose
    rows it has validated and whose destinations it has checked against the actor's scope):
    people found in one query and created in one insert, registrations in one insert, and
    one order_propose_bulk call for the whole batch (`propose` False: none; the sweep turns
    checkpoint passages into arrivals and proposes for them with the rest of its hits)."""
    _check_actor(actor, channel)
    if not items:
        return []
    return _register(
        actor=actor,
        items=items,
        channel=channel,
        now=now,
        assist_request=assist_request,
        import_job=import_job,
        propose=propose,
    )


# --- the public self-report ------------------------------------------------------------------


def _dedupe_key(data: dict[str, Any]) -> str:
    """The same trip sent twice: same document, phone, arrival date and origin. Salted with
    the SECRET_KEY so that the key reveals nothing about the person."""
    text = "|".join(
        str(data.get(k) or "") for k in ("id_number", "phone", "arrived_on", "origin_code")
    )
    return hashlib.sha256((settings.SECRET_KEY + text).encode()).hexdigest()


def _new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    """What the person typed, as JSON (dates as ISO text), for the background registration."""
    return {
        key: value.isoformat() if isinstance(value, dt.date) else value
        for key, value in data.items()
    }


def _insert_self_report(
    *, receipt: str, key: str, payload: dict[str, Any], within: str, now: dt.datetime
) -> bool:
    """Store a submission in one statement; False when a row with the same dedupe key (or
    receipt code) exists: a resubmission, or a twin sent at the same moment."""
    values = {
        "receipt_code": receipt,
        "dedupe_key": key,
        "payload": payload,
        "within": within,
        "submitted_at": now,
        "status": SelfReport.Status.PENDING.value,
        "error": "",
    }
    return insert_unless_conflict(SelfReport, values) is not None


def self_report_submit(
    *,
    data: dict[str, Any],
    now: dt.datetime | None = None,
    within: str | None = None,
    actor: Any = None,
) -> str:
    """A self-report from the public QR page; returns the receipt code.

    The page has counted the request against the client's rate limit before (ratelimit.py).
    Validated here (ValidationFailed, nothing written). `within`: the division of the QR code
    (the county or a village); the destination grid must lie under it. The same trip
    submitted again (_dedupe_key) answers with the same receipt and writes nothing, so the
    answer never says whether the person or the trip was known before.

    The page does only this much: the submission is stored as a SelfReport in one statement
    (no explicit transaction: the statement is atomic by itself), and the loop worker (`fangkong loop_worker`) registers the pending ones in batches
    (self_reports_process) within about a second, so that a county-wide rush of returnees
    costs the web server little per submission. With FANGKONG["LOOP_INLINE"] (a
    single machine without a worker; the tests) it is registered here at once."""
    now = now or timeutils.now()
    today = timezone.localtime(now).date()
    clean, errors = clean_arrival(data, today=today)
    if clean.get("outside_county"):
        errors.setdefault("outside_county", []).append(_("扫码报备只受理到达本县的人员"))
    code = clean.get("destination_code")
    if within and code and not code.startswith(within):
        errors.setdefault("destination_code", []).append(
            _("目的网格不属于本二维码所在的村（社区）")
        )
    if errors:
        raise ValidationFailed(errors)
    key = _dedupe_key(clean)
    payload = _payload(data)
    for _attempt in range(5):
        receipt = _new_receipt_code()
        if _insert_self_report(
            receipt=receipt, key=key, payload=payload, within=within or "", now=now
        ):
            if settings.FANGKONG.get("LOOP_INLINE"):
                with transaction.atomic():
                    _process_batch([SelfReport.objects.get(receipt_code=receipt)], now=now)
            return receipt
        # The same trip was sent before (or at this very moment): answer with its receipt.
        for known in SelfReport.objects.filter(dedupe_key=key).values_list(
            "receipt_code", flat=True
        ):
            return known
        # Otherwise the new receipt code was taken: draw another.
    raise IntegrityError("no free receipt code after 5 attempts")


def _process_one(report: SelfReport, *, now: dt.datetime) -> None:
    """Register one submission on its own (after its batch failed): a failure is recorded on
    the row with its reason, never lost."""
    clean, errors = clean_arrival(report.payload, today=timezone.localtime(now).date())
    if errors:
        report.status = SelfReport.Status.FAILED
        report.error = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())[:300]
        report.processed_at = timeutils.now()
        report.save(update_fields=["status", "error", "processed_at"])
        return
    try:
        with transaction.atomic():
            result = _register(
                actor=None,
                items=[clean],
                channel=Channel.SELF_REPORT,
                now=now,
                extras=[{"dedupe_key": report.dedupe_key, "receipt_code": report.receipt_code}],
            )[0]
    except (DomainError, IntegrityError) as exc:
        report.status = SelfReport.Status.FAILED
        report.error = str(getattr(exc, "message", exc))[:300]
        report.processed_at = timeutils.now()
        report.save(update_fields=["status", "error", "processed_at"])
        return
    report.status = SelfReport.Status.DONE
    report.registration = result.registration
    report.payload = {}
    report.processed_at = timeutils.now()
    report.save(update_fields=["status", "registration", "payload", "processed_at"])


def _process_batch(reports: list[SelfReport], *, now: dt.datetime) -> None:
    """Register a batch of submissions in one go, or each alone if the batch fails. `now` is
    when they were submitted: the measure is found, and the grid worker's clock starts, on
    the day the person reported, not when the worker got to it."""
    items: list[dict[str, Any]] = []
    for report in reports:
        clean, errors = clean_arrival(report.payload, today=timezone.localtime(now).date())
        if errors:
            break
        items.append(clean)
    results: list[ArrivalResult] | None = None
    if len(items) == len(reports):
        try:
            with transaction.atomic():
                results = _register(
                    actor=None,
                    items=items,
                    channel=Channel.SELF_REPORT,
                    now=now,
                    extras=[
                        {"dedupe_key": r.dedupe_key, "receipt_code": r.receipt_code}
                        for r in reports
                    ],
                )
        except (DomainError, IntegrityError):
            results = None
    if results is None:
        for report in reports:
            _process_one(report, now=now)
        return
    for report, result in zip(reports, results, strict=True):
        report.status = SelfReport.Status.DONE
        report.registration = result.registration
    # One UPDATE for the batch (bulk_update's CASE per row cost more than the registering):
    # each submission finds its registration by the receipt code they share.
    SelfReport.objects.filter(pk__in=[r.pk for r in reports]).update(
        status=SelfReport.Status.DONE,
        payload={},
        processed_at=timeutils.now(),
        registration_id=Subquery(
            TravelRegistration.objects.filter(receipt_code=OuterRef("receipt_code"))
            .order_by()  # the unique receipt code alone: no sort for the planner to follow
            .values("pk")
        ),
    )


@transaction.atomic
def self_reports_process(*, actor: Any = None, limit: int = 500) -> dict[str, int]:
    """Register pending self-reports, oldest first, up to `limit`, in batches by day of
    submission (one person lookup, one insert of registrations, one proposal call each). Rows
    another worker is already registering are skipped (SKIP LOCKED). If a batch fails, each
    row is tried alone, and a row that still fails is marked with its reason for the HQ
    (`/arrivals/`), never lost. The payload (what the person typed) is emptied once the
    registration holds it."""
    reports = list(
        SelfReport.objects.select_for_update(skip_locked=True)
        .filter(status=SelfReport.Status.PENDING)
        .order_by("pk")[:limit]
    )
    if not reports:
        return {"done": 0, "failed": 0}
    by_day: dict[dt.date, list[SelfReport]] = {}
    for report in reports:
        by_day.setdefault(timezone.localtime(report.submitted_at).date(), []).append(report)
    for batch in by_day.values():
        _process_batch(batch, now=min(r.submitted_at for r in batch))
    done = sum(1 for r in reports if r.status == SelfReport.Status.DONE)
    failed = len(reports) - done
    audit_record(
        actor=_actor_or_none(actor),
        verb="travel.self_report.process",
        target_type="travel.selfreport",
        data={"done": done, "failed": failed, "first": reports[0].pk, "last": reports[-1].pk},
    )
    return {"done": done, "failed": failed}


# --- assist requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingEntry:
    """A person to list on an outgoing assist letter: where they went (a region code outside
    the county), and the arrival that brought them to our notice."""

    outside_code: str
    person_id: int
    arrival_id: int | None
    category: str = ""
    destination: str = ""


@transaction.atomic
def assist_outgoing_add(
    *, actor: Any, entries: list[OutgoingEntry], today: dt.date, subject: str | None = None
) -> int:
    """Add people to the open outgoing letters of the counties they went to (one letter per
    county, opened when none is open). Used by the retroactive sweep; arrival_register does the
    same for each new arrival bound outside the county."""
    cache: dict[str, Any] = {}
    rows = [
        AssistRequestEntry(
            request=_open_outgoing(
                actor=actor, code=entry.outside_code, today=today, cache=cache, subject=subject
            ),
            person_id=entry.person_id,
            arrival_id=entry.arrival_id,
            category=entry.category or "",
            destination=entry.destination[:200],
        )
        for entry in entries
    ]
    AssistRequestEntry.objects.bulk_create(rows, batch_size=1000)
    if rows:
        audit_record(
            actor=_actor_or_none(actor),
            verb="travel.assist.add_entries",
            target_type="travel.assistrequest",
            data={"count": len(rows), "letters": sorted(letter.pk for letter in cache.values())},
        )
    return len(rows)


def _require_assist_write(actor: Any) -> None:
    if not can_write_assist(actor):
        raise Forbidden(_("只有县指挥部可以办理协查函。"))


@transaction.atomic
def assist_request_create(
    *,
    actor: Any,
    direction: str,
    counterpart: str,
    counterpart_code: str = "",
    number: str = "",
    subject: str = "",
    dated: Any = None,
    import_job: Any = None,
) -> AssistRequest:
    """Record a letter: usually an incoming one (another county asks us to find people);
    outgoing letters are opened by arrival_register for destinations outside the county."""
    _require_assist_write(actor)
    errors: dict[str, list[str]] = {}
    if direction not in AssistRequest.Direction.values:
        errors["direction"] = [_("方向无效：应为 incoming（收到）或 outgoing（发出）")]
    counterpart = " ".join(str(counterpart or "").split())
    if not counterpart:
        errors["counterpart"] = [_("请填写对方单位")]
    elif len(counterpart) > 200:
        errors["counterpart"] = [_("对方单位不能超过200个字符")]
    code = str(counterpart_code or "").strip()
    if code:
        try:
            code, _name = region_lookup(code)
        except FormatError as exc:
            errors["counterpart_code"] = [_("对方区划代码：%(reason)s") % {"reason": exc.message}]
    number = " ".join(str(number or "").split())
    if len(number) > 60:
        errors["number"] = [_("函号不能超过60个字符")]
    subject = " ".join(str(subject or "").split())
    if len(subject) > 300:
        errors["subject"] = [_("事由不能超过300个字符")]
    today = timeutils.local_today()
    when = today
    if dated not in (None, ""):
        if isinstance(dated, dt.date):
            when = dated
        else:
            try:
                when = dt.date.fromisoformat(str(dated).strip())
            except ValueError:
                errors["dated"] = [_("日期格式应为 YYYY-MM-DD")]
        if "dated" not in errors and when > today:
            errors["dated"] = [_("日期不能晚于今天")]
    if errors:
        raise ValidationFailed(errors)
    letter = AssistRequest(
        direction=direction,
        number=number,
        counterpart=counterpart,
        counterpart_code=code,
        subject=subject,
        dated=when,
        import_job=import_job,
        created_by=_actor_or_none(actor),
    )
    letter.full_clean()
    letter.save(force_insert=True)
    audit_record(
        actor=actor,
        verb="travel.assist.create",
        target=letter,
        data={"direction": direction, "counterpart_code": code},
    )
    return letter


@transaction.atomic
def assist_request_mark_sent(*, actor: Any, assist_request: AssistRequest) -> AssistRequest:
    """An outgoing letter has gone out: later arrivals to that county open a new one."""
    _require_assist_write(actor)
    letter = AssistRequest.objects.select_for_update().get(pk=assist_request.pk)
    if letter.direction != AssistRequest.Direction.OUTGOING:
        raise ValidationFailed({"status": [_("只有发出的协查函可以标记为已发出")]})
    if letter.status != AssistRequest.Status.OPEN:
        raise ValidationFailed({"status": [_("该协查函已发出或已办结")]})
    if not letter.entries.exists():
        raise ValidationFailed({"status": [_("协查函中没有人员，不能发出")]})
    letter.status = AssistRequest.Status.SENT
    letter.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, verb="travel.assist.send", target=letter, data={})
    return letter


@transaction.atomic
def assist_request_close(
    *, actor: Any, assist_request: AssistRequest, reason: str = ""
) -> AssistRequest:
    """The letter is dealt with (every listed person found and handed over, or answered)."""
    _require_assist_write(actor)
    letter = AssistRequest.objects.select_for_update().get(pk=assist_request.pk)
    if letter.status == AssistRequest.Status.CLOSED:
        raise ValidationFailed({"status": [_("该协查函已办结")]})
    reason = " ".join(str(reason or "").split())
    if len(reason) > 200:
        raise ValidationFailed({"reason": [_("理由不能超过200个字")]})
    letter.status = AssistRequest.Status.CLOSED
    letter.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, verb="travel.assist.close", target=letter, data={}, reason=reason or None
    )
    return letter


@transaction.atomic
def assist_entry_feedback(
    *, actor: Any, entry: AssistRequestEntry, feedback: str
) -> AssistRequestEntry:
    """What the counterpart answered about one listed person (found, under control ...)."""
    _require_assist_write(actor)
    text = " ".join(str(feedback or "").split())
    if not text:
        raise ValidationFailed({"feedback": [_("请填写核查反馈")]})
    if len(text) > FEEDBACK_MAX:
        raise ValidationFailed({"feedback": [_("核查反馈不能超过300个字符")]})
    entry.feedback = text
    entry.save(update_fields=["feedback"])
    audit_record(
        actor=actor,
        verb="travel.assist.feedback",
        target=entry,
        data={"request_id": entry.request_id},
    )
    return entry


@transaction.atomic
def assist_request_letter(*, actor: Any, assist_request: AssistRequest) -> letters.LetterFile:
    """The Word letter of an outgoing request, with the listed people in full: an export of
    personal data, so only roles that may reveal get it, and every download is audited."""
    if not policy_for(actor).can_reveal:
        raise Forbidden(_("您的角色不能导出完整个人信息。"))
    if assist_request.direction != AssistRequest.Direction.OUTGOING:
        raise NotFound(_("只有发出的协查函有函件。"))
    entries = list(assist_request.entries.select_related("person", "arrival").order_by("pk"))
    root = county_root()
    file = letters.assist_letter(
        assist_request=assist_request,
        entries=entries,
        sender=f"{root.name if root else ''}新冠肺炎疫情防控指挥部",
        today=timeutils.local_today(),
    )
    audit_record(
        actor=actor,
        verb="travel.assist.export",
        target=assist_request,
        data={"entries": len(entries), "person_ids": [e.person_id for e in entries]},
    )
    return file
