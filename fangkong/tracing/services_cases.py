"""Writes of cases, clusters, investigation teams, investigations and timelines.

A case is registered for a person found by id, or by document number (found, or created in
the grid given, like arrivals do); it gets a number "眉病〔2026〕N号" counted per year, an
Investigation, and a CaseEvent "created". Reclassifying keeps the history (CaseEvent with the
reason). Bad input (onset after report, a date in the future, a second open case for the same
person) is refused field by field and nothing is written. Audit payloads hold ids and codes
only, never names or document numbers.

A timeline holds what the case reported (optionally linked to a place) and what the county's
own records show: `timeline_from_records` adds the case's check-ins, checkpoint passages and
arrivals inside the look-back window as entries linked to those records, once each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import timeutils
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope, scope_by_division
from fangkong.geo.models import Division
from fangkong.people.models import Person
from fangkong.people.validation import clean_person_fields
from fangkong.places.models import CheckIn, Place
from fangkong.policy.selectors import county_root
from fangkong.travel.models import PassageOccupant, TravelRegistration
from fangkong.travel.validation import parse_date

from .models import (
    Case,
    CaseEvent,
    CaseSource,
    Classification,
    Cluster,
    Investigation,
    InvestigationTeam,
    Outcome,
    TimelineEntry,
)
from .permissions import WRITERS, can_write, role_of
from .selectors import case_queryset, cluster_queryset

REASON_MAX = 200
TEXT_MAX = 200
OPEN_OUTCOMES = frozenset({Outcome.TREATING})
CASE_DATE_FIELDS = ("onset_date", "sampling_date", "report_date", "last_negative_on", "isolated_on")
CASE_TEXT_FIELDS = {"treated_at": 100, "notes": 2000}
DATE_LABELS = {
    "onset_date": _("发病日期"),
    "sampling_date": _("采样日期"),
    "report_date": _("报告日期"),
    "last_negative_on": _("末次阴性采样日期"),
    "isolated_on": _("隔离管控日期"),
}


def _require_write(actor: Any) -> None:
    if not can_write(actor):
        raise Forbidden(_("您的角色不能登记或修改病例和流调信息。"))


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _short_county() -> str:
    root = county_root()
    name = root.name if root else ""
    for suffix in ("自治县", "县", "市", "区", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _next_code(model: type, mark: str, year: int) -> str:
    """ "眉病〔2026〕3号": the next number of the year (codes are unique; a clash raises)."""
    prefix = f"{_short_county()}{mark}〔{year}〕"
    return f"{prefix}{model.objects.filter(code__startswith=prefix).count() + 1}号"


def _parse_datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        result = value
    else:
        result = dt.datetime.fromisoformat(str(value).strip())
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    return result


def _clean_case_fields(
    data: dict[str, Any], *, base: Case | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The case's own fields present in `data`, checked together with the stored ones."""
    out: dict[str, Any] = {}
    today = timeutils.local_today()
    for field in CASE_DATE_FIELDS:
        if field not in data:
            continue
        try:
            value = parse_date(data[field])
        except ValueError:  # FormatError
            errors.setdefault(field, []).append(
                _("%(field)s格式应为 YYYY-MM-DD") % {"field": DATE_LABELS[field]}
            )
            continue
        if value is not None and value > today:
            errors.setdefault(field, []).append(
                _("%(field)s不能晚于今天") % {"field": DATE_LABELS[field]}
            )
        out[field] = value
    if "report_date" in data and out.get("report_date") is None and "report_date" not in errors:
        errors.setdefault("report_date", []).append(_("请填写报告日期"))

    def merged(field: str) -> Any:
        return out[field] if field in out else getattr(base, field, None)

    onset, report = merged("onset_date"), merged("report_date")
    if onset and report and onset > report and "onset_date" not in errors:
        errors.setdefault("onset_date", []).append(_("发病日期不能晚于报告日期"))
    sampling = merged("sampling_date")
    if sampling and report and sampling > report and "sampling_date" not in errors:
        errors.setdefault("sampling_date", []).append(_("采样日期不能晚于报告日期"))
    choices = {
        "classification": (Classification.values, _("分类无效")),
        "source": (CaseSource.values, _("来源无效")),
        "outcome": (Outcome.values, _("转归无效")),
    }
    for field, (values, message) in choices.items():
        if field in data:
            if field == "classification" and not data[field]:
                errors.setdefault(field, []).append(_("请选择病例分类"))
            elif data[field] not in values:
                errors.setdefault(field, []).append(message)
            out[field] = data[field]
    for field, limit in CASE_TEXT_FIELDS.items():
        if field in data:
            text = str(data[field] or "").strip()
            if len(text) > limit:
                errors.setdefault(field, []).append(_("不能超过%(n)s个字符") % {"n": limit})
            out[field] = text
    return out


def _find_or_create_person(
    *, actor: Any, data: dict[str, Any], errors: dict[str, list[str]]
) -> Person | None:
    """The case's person: by id, or by document (found among the living records, or created
    in the grid given, like arrivals; a different name on a known number is not written over)."""
    if data.get("person_id"):
        # A person outside the actor's scope is missing, like everywhere else.
        people = scope_by_division(Person.objects.all(), viewer=actor, field="division_id")
        person = people.filter(pk=data["person_id"], merged_into__isnull=True).first()
        if person is None:
            errors.setdefault("person_id", []).append(_("人员不存在"))
        return person
    fields, person_errors = clean_person_fields(
        {k: data.get(k) or "" for k in ("name", "id_type", "id_number", "phone")}
    )
    for field, messages in person_errors.items():
        errors.setdefault(field, []).extend(messages)
    if person_errors:
        return None
    if not fields.get("id_number"):
        errors.setdefault("id_number", []).append(_("请填写病例的证件号码"))
        return None
    person = (
        Person.objects.filter(
            merged_into__isnull=True, id_type=fields["id_type"], id_number=fields["id_number"]
        )
        .order_by("pk")
        .first()
    )
    if person is not None:
        return person
    code = str(data.get("division_code") or "").strip()
    division = (
        Division.objects.filter(code=code, level=Division.Level.GRID).first() if code else None
    )
    if division is None:
        errors.setdefault("division_code", []).append(
            _("该证件号码尚无人员档案：请选择病例居住的小网格")
        )
        return None
    person = Person(division=division, **fields)
    person.save(force_insert=True)
    audit_record(
        actor=_actor_or_none(actor),
        verb="people.person.create",
        target=person,
        data={"division": division.code, "source": "tracing.case"},
    )
    return person


def _event(*, case: Case, actor: Any, verb: str, **extra: Any) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, verb=verb, actor=_actor_or_none(actor), at=timeutils.now(), **extra
    )


@transaction.atomic
def case_create(*, actor: Any, data: dict[str, Any]) -> Case:
    """Register a case: person (`person_id`, or name + id_type + id_number [+ phone,
    division_code for a new person]), classification, report_date, and the optional dates,
    source, treated_at, notes, cluster_id, infected_by_id."""
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    fields = _clean_case_fields(
        {"report_date": data.get("report_date"), **data}, base=None, errors=errors
    )
    if "classification" not in fields:
        errors.setdefault("classification", []).append(_("请选择病例分类"))
    cluster = None
    if data.get("cluster_id"):
        cluster = cluster_queryset(viewer=actor).filter(pk=data["cluster_id"]).first()
        if cluster is None:
            errors.setdefault("cluster_id", []).append(_("聚集性疫情不存在"))
    infected_by = None
    if data.get("infected_by_id"):
        infected_by = case_queryset(viewer=actor).filter(pk=data["infected_by_id"]).first()
        if infected_by is None:
            errors.setdefault("infected_by_id", []).append(_("传染来源病例不存在"))
    if errors:
        raise ValidationFailed(errors)
    person = _find_or_create_person(actor=actor, data=data, errors=errors)
    if errors or person is None:
        raise ValidationFailed(errors)
    open_case = Case.objects.filter(person=person, outcome__in=OPEN_OUTCOMES).first()
    if open_case is not None:
        field = "person_id" if data.get("person_id") else "id_number"
        raise Conflict(
            _("该人员已有未结案的病例 %(code)s，请在原病例上修改或订正分类。")
            % {"code": open_case.code},
            errors={field: [_("该人员已有未结案的病例 %(code)s") % {"code": open_case.code}]},
        )
    report_date = fields["report_date"]
    case = Case(
        code=_next_code(Case, "病", report_date.year),
        person=person,
        division_id=person.division_id,
        cluster=cluster,
        infected_by=infected_by,
        created_by=_actor_or_none(actor),
        **fields,
    )
    case.save(force_insert=True)
    Investigation.objects.create(case=case)
    _event(case=case, actor=actor, verb="created", to_classification=case.classification)
    audit_record(
        actor=actor,
        verb="tracing.case.create",
        target=case,
        data={"classification": case.classification, "person_id": person.pk},
    )
    return case


@transaction.atomic
def case_update(*, actor: Any, case: Case, changes: dict[str, Any]) -> Case:
    """Change the dates, source, treatment place, outcome or notes (not the classification:
    that is `case_reclassify`, with a reason)."""
    _require_write(actor)
    if "classification" in changes:
        raise ValidationFailed({"classification": [_("修改分类请使用“订正分类”，并填写原因")]})
    allowed = {*CASE_DATE_FIELDS, "source", "outcome", *CASE_TEXT_FIELDS, "infected_by_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed({field: [_("该字段不能修改")] for field in sorted(unknown)})
    case = Case.objects.select_for_update().get(pk=case.pk)
    errors: dict[str, list[str]] = {}
    fields = _clean_case_fields(changes, base=case, errors=errors)
    if "infected_by_id" in changes:
        source_id = changes["infected_by_id"] or None
        if source_id is not None and (
            int(source_id) == case.pk
            or not case_queryset(viewer=actor).filter(pk=source_id).exists()
        ):
            errors.setdefault("infected_by_id", []).append(_("传染来源病例不存在"))
        fields["infected_by_id"] = source_id
    if errors:
        raise ValidationFailed(errors)
    changed = sorted(f for f, v in fields.items() if getattr(case, f) != v)
    for field in changed:
        setattr(case, field, fields[field])
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
        _event(case=case, actor=actor, verb="updated", reason=",".join(changed)[:REASON_MAX])
        audit_record(actor=actor, verb="tracing.case.update", target=case, data={"fields": changed})
    return case


@transaction.atomic
def case_reclassify(*, actor: Any, case: Case, classification: str, reason: str) -> Case:
    """Suspected -> confirmed, asymptomatic -> confirmed ...: the history keeps every step."""
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    if classification not in Classification.values:
        errors["classification"] = [_("分类无效")]
    text = " ".join(str(reason or "").split())
    if not text:
        errors["reason"] = [_("请填写订正分类的原因")]
    elif len(text) > REASON_MAX:
        errors["reason"] = [_("原因不能超过200个字符")]
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not errors and classification == case.classification:
        errors["classification"] = [_("新分类与当前分类相同")]
    if errors:
        raise ValidationFailed(errors)
    before = case.classification
    case.classification = classification
    case.save(update_fields=["classification", "updated_at"])
    _event(
        case=case,
        actor=actor,
        verb="reclassified",
        from_classification=before,
        to_classification=classification,
        reason=text,
    )
    audit_record(
        actor=actor,
        verb="tracing.case.reclassify",
        target=case,
        data={"from": before, "to": classification},
        reason=text,
    )
    return case


# --- clusters --------------------------------------------------------------------------------


def _clean_cluster(
    data: dict[str, Any], *, partial: bool, errors: dict[str, list[str]], actor: Any = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("请填写聚集性疫情名称")]
        elif len(name) > 100:
            errors["name"] = [_("名称不能超过100个字符")]
        out["name"] = name
    if "kind" in data or not partial:
        kind = data.get("kind") or Cluster.Kind.OTHER
        if kind not in Cluster.Kind.values:
            errors["kind"] = [_("类型无效")]
        out["kind"] = kind
    if "description" in data:
        out["description"] = str(data.get("description") or "").strip()
    if "division_code" in data:
        code = str(data.get("division_code") or "").strip()
        division = Division.objects.filter(code=code).first() if code else None
        if code and (division is None or not code_in_scope(viewer=actor, code=code)):
            errors["division_code"] = [_("区划不存在")]  # out of scope looks like missing
        out["division"] = division
    return out


@transaction.atomic
def cluster_create(*, actor: Any, data: dict[str, Any]) -> Cluster:
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    fields = _clean_cluster(data, partial=False, errors=errors, actor=actor)
    if errors:
        raise ValidationFailed(errors)
    if fields.get("division") is None:
        # A cluster is seen by whoever sees its division (or one of its cases): by default
        # the registrant's jurisdiction, so that it is in their scope before any case joins.
        fields["division"] = getattr(actor, "jurisdiction", None) or county_root()
    cluster = Cluster(
        code=_next_code(Cluster, "聚", timeutils.local_today().year),
        created_by=_actor_or_none(actor),
        **fields,
    )
    cluster.save(force_insert=True)
    audit_record(actor=actor, verb="tracing.cluster.create", target=cluster, data={})
    return cluster


@transaction.atomic
def cluster_update(*, actor: Any, cluster: Cluster, changes: dict[str, Any]) -> Cluster:
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    fields = _clean_cluster(changes, partial=True, errors=errors, actor=actor)
    if errors:
        raise ValidationFailed(errors)
    for field, value in fields.items():
        setattr(cluster, field, value)
    cluster.save(update_fields=[*fields, "updated_at"])
    audit_record(
        actor=actor, verb="tracing.cluster.update", target=cluster, data={"fields": sorted(fields)}
    )
    return cluster


@transaction.atomic
def case_set_cluster(*, actor: Any, case: Case, cluster: Cluster | None) -> Case:
    """Put a case into a cluster (or take it out: cluster None)."""
    _require_write(actor)
    before = case.cluster_id
    case.cluster = cluster
    case.save(update_fields=["cluster", "updated_at"])
    _event(case=case, actor=actor, verb="clustered", reason=str(cluster.code if cluster else ""))
    audit_record(
        actor=actor,
        verb="tracing.case.cluster",
        target=case,
        data={"from": before, "to": cluster.pk if cluster else None},
    )
    return case


# --- teams and investigations ----------------------------------------------------------------


def _investigators(ids: Any, errors: dict[str, list[str]], field: str) -> list[Any]:
    wanted = {int(i) for i in ids or () if str(i).strip()}
    found = [
        u
        for u in get_user_model().objects.filter(pk__in=wanted, is_active=True)
        if role_of(u) in WRITERS
    ]
    if len(found) != len(wanted):
        errors[field] = [_("只能选择流调人员、指挥部或管理员账号")]
    return found


@transaction.atomic
def team_create(
    *, actor: Any, name: str, leader_id: int | None = None, member_ids: list[int] | None = None
) -> InvestigationTeam:
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name:
        errors["name"] = [_("请填写小组名称")]
    elif InvestigationTeam.objects.filter(name=name).exists():
        errors["name"] = [_("已有同名的流调小组")]
    leader = _investigators([leader_id] if leader_id else [], errors, "leader_id")
    members = _investigators(member_ids, errors, "member_ids")
    if errors:
        raise ValidationFailed(errors)
    team = InvestigationTeam.objects.create(name=name, leader=leader[0] if leader else None)
    team.members.set(members)
    audit_record(actor=actor, verb="tracing.team.create", target=team, data={})
    return team


@transaction.atomic
def team_update(
    *, actor: Any, team: InvestigationTeam, changes: dict[str, Any]
) -> InvestigationTeam:
    """Rename, change the leader or the members, or retire (active False) a team."""
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name:
            errors["name"] = [_("请填写小组名称")]
        elif InvestigationTeam.objects.filter(name=name).exclude(pk=team.pk).exists():
            errors["name"] = [_("已有同名的流调小组")]
        team.name = name
    if "leader_id" in changes:
        leader = _investigators(
            [changes["leader_id"]] if changes["leader_id"] else [], errors, "leader_id"
        )
        team.leader = leader[0] if leader else None
    members = None
    if "member_ids" in changes:
        members = _investigators(changes["member_ids"], errors, "member_ids")
    if "active" in changes:
        team.active = bool(changes["active"])
    if errors:
        raise ValidationFailed(errors)
    team.save()
    if members is not None:
        team.members.set(members)
    audit_record(
        actor=actor, verb="tracing.team.update", target=team, data={"fields": sorted(changes)}
    )
    return team


@transaction.atomic
def investigation_assign(
    *,
    actor: Any,
    investigation: Investigation,
    team: InvestigationTeam | None,
    investigator_id: int | None = None,
) -> Investigation:
    """Give the investigation to a team and (optionally) one investigator of it."""
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    if team is not None and not team.active:
        errors["team"] = [_("该流调小组已停用")]
    chosen = _investigators([investigator_id] if investigator_id else [], errors, "investigator")
    if errors:
        raise ValidationFailed(errors)
    investigation.team = team
    investigation.investigator = chosen[0] if chosen else None
    investigation.save(update_fields=["team", "investigator", "updated_at"])
    audit_record(
        actor=actor,
        verb="tracing.investigation.assign",
        target=investigation,
        data={"team_id": team.pk if team else None, "investigator_id": investigator_id},
    )
    return investigation


@transaction.atomic
def investigation_conclude(
    *, actor: Any, investigation: Investigation, conclusions: str, close: bool = True
) -> Investigation:
    """Write the conclusions; with close, the investigation is finished (reopen: close False)."""
    _require_write(actor)
    text = str(conclusions or "").strip()
    if not text:
        raise ValidationFailed({"conclusions": [_("请填写流调结论")]})
    if len(text) > 5000:
        raise ValidationFailed({"conclusions": [_("流调结论不能超过5000个字符")]})
    investigation = Investigation.objects.select_for_update().get(pk=investigation.pk)
    investigation.conclusions = text
    if close:
        investigation.status = Investigation.Status.CLOSED
        investigation.closed_at = timeutils.now()
    else:
        investigation.status = Investigation.Status.OPEN
        investigation.closed_at = None
    investigation.save(update_fields=["conclusions", "status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="tracing.investigation.conclude",
        target=investigation,
        data={"status": investigation.status},
    )
    return investigation


# --- the timeline ----------------------------------------------------------------------------


@transaction.atomic
def timeline_add(
    *, actor: Any, investigation: Investigation, data: dict[str, Any]
) -> TimelineEntry:
    """One reported entry: starts_at (required), ends_at, place_id or location, activity,
    people_met."""
    _require_write(actor)
    errors: dict[str, list[str]] = {}
    now = timeutils.now()
    times: dict[str, dt.datetime | None] = {}
    for field, label in (("starts_at", _("开始时间")), ("ends_at", _("结束时间"))):
        try:
            times[field] = _parse_datetime(data.get(field))
        except ValueError:
            errors[field] = [_("%(f)s格式应为 YYYY-MM-DD HH:MM") % {"f": label}]
            continue
        if times[field] is not None and times[field] > now:
            errors[field] = [_("%(f)s不能晚于现在") % {"f": label}]
    if "starts_at" not in errors and times.get("starts_at") is None:
        errors["starts_at"] = [_("请填写开始时间")]
    starts, ends = times.get("starts_at"), times.get("ends_at")
    if starts and ends and ends < starts and "ends_at" not in errors:
        errors["ends_at"] = [_("结束时间不能早于开始时间")]
    place = None
    if data.get("place_id"):
        place = Place.objects.filter(pk=data["place_id"]).first()
        if place is None:
            errors["place_id"] = [_("场所不存在")]
    texts = {}
    for field, limit in (("location", TEXT_MAX), ("activity", TEXT_MAX), ("people_met", 500)):
        texts[field] = str(data.get(field) or "").strip()
        if len(texts[field]) > limit:
            errors[field] = [_("不能超过%(n)s个字符") % {"n": limit}]
    if place is None and not texts["location"] and "place_id" not in errors:
        errors["location"] = [_("请填写地点，或选择场所")]
    if errors:
        raise ValidationFailed(errors)
    entry = TimelineEntry.objects.create(
        investigation=investigation,
        starts_at=starts,
        ends_at=ends,
        place=place,
        location=texts["location"] or (place.name if place else ""),
        activity=texts["activity"],
        people_met=texts["people_met"],
        source=TimelineEntry.Source.REPORTED,
    )
    audit_record(
        actor=actor,
        verb="tracing.timeline.add",
        target=entry,
        data={"investigation_id": investigation.pk, "place_id": place.pk if place else None},
    )
    return entry


@transaction.atomic
def timeline_remove(*, actor: Any, entry: TimelineEntry) -> None:
    _require_write(actor)
    audit_record(
        actor=actor,
        verb="tracing.timeline.remove",
        target=entry,
        data={"investigation_id": entry.investigation_id, "source": entry.source},
    )
    entry.delete()


@transaction.atomic
def timeline_from_records(
    *, actor: Any, investigation: Investigation, now: dt.datetime | None = None
) -> int:
    """Add the case's own check-ins, checkpoint passages and arrivals inside its look-back
    window as entries linked to those records; a record already on the timeline is skipped.
    Returns how many entries were added."""
    _require_write(actor)
    # The window is the candidate engine's (one definition of "look-back", by edition).
    from .candidates import lookback_window

    case = Case.objects.select_related("person").get(pk=investigation.case_id)
    window = lookback_window(case=case, now=now)
    person = case.person
    existing = TimelineEntry.objects.filter(investigation=investigation)
    have_checkins = set(existing.exclude(checkin=None).values_list("checkin_id", flat=True))
    have_passages = set(existing.exclude(passage=None).values_list("passage_id", flat=True))
    have_arrivals = set(existing.exclude(arrival=None).values_list("arrival_id", flat=True))
    entries: list[TimelineEntry] = []
    if person.id_number:
        checkins = CheckIn.objects.filter(
            id_type=person.id_type,
            id_number=person.id_number,
            checked_in_at__lte=window.end,
            checked_out_at__gte=window.start,
        ).select_related("place")
        for c in checkins:
            if c.pk in have_checkins:
                continue
            entries.append(
                TimelineEntry(
                    investigation=investigation,
                    starts_at=c.checked_in_at,
                    ends_at=c.checked_out_at,
                    place=c.place,
                    location=c.place.name,
                    activity=_("扫场所码进入"),
                    source=TimelineEntry.Source.CHECKIN,
                    checkin=c,
                )
            )
        occupants = PassageOccupant.objects.filter(
            id_type=person.id_type,
            id_number=person.id_number,
            passage__passed_at__gte=window.start,
            passage__passed_at__lte=window.end,
        ).select_related("passage", "passage__checkpoint")
        for o in occupants:
            passage = o.passage
            if passage.pk in have_passages:
                continue
            have_passages.add(passage.pk)
            entries.append(
                TimelineEntry(
                    investigation=investigation,
                    starts_at=passage.passed_at,
                    location=str(passage.checkpoint.name),
                    activity=_("乘车过卡 %(plate)s") % {"plate": passage.plate or "-"},
                    source=TimelineEntry.Source.PASSAGE,
                    passage=passage,
                )
            )
    arrivals = TravelRegistration.objects.filter(
        person=person,
        arrived_on__gte=timezone.localtime(window.start).date(),
        arrived_on__lte=timezone.localtime(window.end).date(),
    )
    tz = timezone.get_current_timezone()
    for reg in arrivals:
        if reg.pk in have_arrivals:
            continue
        entries.append(
            TimelineEntry(
                investigation=investigation,
                starts_at=dt.datetime.combine(reg.arrived_on, dt.time(), tzinfo=tz),
                location=reg.origin_name,
                activity=_("来返报备：%(transport)s %(no)s")
                % {"transport": reg.get_transport_display(), "no": reg.vehicle_no},
                source=TimelineEntry.Source.ARRIVAL,
                arrival=reg,
            )
        )
    TimelineEntry.objects.bulk_create(entries)
    audit_record(
        actor=actor,
        verb="tracing.timeline.import",
        target=investigation,
        data={"added": len(entries), "window_days": window.lookback_days},
    )
    return len(entries)
