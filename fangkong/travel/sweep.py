"""The retroactive sweep: a new or widened risk area run backwards over past arrivals.

When the HQ declares a risk area whose start lies in the past (a notice published today for
an area designated since last week), everyone who left that area while it was designated is
already in the county, registered under a lower risk level or none. `sweep_run` finds them and
puts them into the closed loop at once, with the measure the edition in force gives them for
the days that remain ("缺几天补几天").

What counts as "arrived from it": a `TravelRegistration` whose origin lies under the area's
region code (one range scan on the travel_origin_idx index: origin_code >= code and
origin_code < code + ":"), whose origin address mentions the area's `detail` when it has one,
and whose `left_on` lies in [area.start_date, min(area.end_date, today)]. Checkpoint passages,
imported pushed lists and assist-request letters are TravelRegistrations too (their `channel`
says which), so the one query covers every channel.

Everything is set-based, so a new high-risk area over 200,000 past arrivals costs a constant
number of queries whatever the number of hits: one read of the arrivals, one of the previous
hits of this area, one of the open orders of the people found, a few for the editions, one
`control.services.order_propose_bulk` call for all hits, bulk updates and inserts after it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role, policy_for
from fangkong.control.contracts import OrderOutcome, OrderRequest
from fangkong.control.models import OPEN_STATUSES, ControlOrder, SourceType, TaskKind
from fangkong.control.services import order_propose_bulk
from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.scope import scope_q, subtree_q
from fangkong.core.timeutils import now as clock_now
from fangkong.geo.models import Division
from fangkong.people.bulk import update_rows
from fangkong.policy.models import (
    RISK_RANK,
    Category,
    CountsFrom,
    EditionActivation,
    PolicyEdition,
    RiskArea,
)
from fangkong.policy.rules import (
    ARRIVAL_CATEGORY_BY_LEVEL,
    CategoryRule,
    MeasurePlan,
    category_for_arrival,
    plan_measure,
    plan_severity,
    rule_for,
)
from fangkong.policy.selectors import edition_in_force
from fangkong.policy.services import risk_area_create, risk_area_update

from .models import (
    Channel,
    CheckpointPassage,
    PassageOccupant,
    SweepHit,
    SweepRun,
    Transport,
    TravelRegistration,
)
from .services import OutgoingEntry, arrival_register_bulk, assist_outgoing_add
from .validation import clean_arrival

# Who may run sweeps (and declare, change, end risk areas): the HQ and administrators.
MANAGE_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})
HIT_BATCH = 2000


def may_manage_risk_areas(user: Any) -> bool:
    """COMMANDER and ADMIN (and superusers) declare risk areas and run sweeps."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in MANAGE_ROLES)


def service_actor(actor: Any) -> Any:
    """The command line's system actor (authenticated, no account) acts as None: the system,
    as policy and control services expect it."""
    if actor is not None and getattr(actor, "pk", None) is None:
        return None if getattr(actor, "is_authenticated", False) else actor
    return actor


def _require_manage(actor: Any) -> None:
    """actor None is the system (a management command); anyone else must be HQ or admin."""
    if actor is not None and not may_manage_risk_areas(actor):
        raise Forbidden(_("只有县指挥部和系统管理员可以发布、调整风险地区和回溯排查。"))


def _user_or_none(actor: Any) -> Any:
    """The account to store as who did it: None for the system (the command line)."""
    return actor if getattr(actor, "pk", None) is not None else None


def _today(now: dt.datetime | None) -> dt.date:
    return timezone.localtime(now or clock_now()).date()


# --- editions over a span of days ----------------------------------------------------------


class EditionTimeline:
    """The edition in force on each day of [lo, hi], from `edition_in_force` evaluated only
    where it can change (the days editions were activated or national presets issued), so a
    sweep over thousands of departures needs a handful of queries, not one per day. Days
    outside the span are looked up (and remembered) one by one."""

    def __init__(self, lo: dt.date, hi: dt.date) -> None:
        self.lo, self.hi = lo, hi
        points = {lo}
        points.update(
            EditionActivation.objects.filter(effective_from__gt=lo, effective_from__lte=hi)
            .order_by()
            .values_list("effective_from", flat=True)
        )
        points.update(
            PolicyEdition.objects.filter(
                kind=PolicyEdition.Kind.NATIONAL, issued_on__gt=lo, issued_on__lte=hi
            )
            .order_by()
            .values_list("issued_on", flat=True)
        )
        self._days = sorted(points)
        self._editions = [edition_in_force(on=day) for day in self._days]
        self._outside: dict[dt.date, PolicyEdition | None] = {}

    def at(self, day: dt.date) -> PolicyEdition | None:
        if self.lo <= day <= self.hi:
            return self._editions[bisect.bisect_right(self._days, day) - 1]
        if day not in self._outside:
            self._outside[day] = edition_in_force(on=day)
        return self._outside[day]

    def editions(self) -> list[PolicyEdition]:
        seen: dict[int, PolicyEdition] = {}
        for edition in self._editions:
            if edition is not None:
                seen.setdefault(edition.pk, edition)
        return list(seen.values())


class _Rules:
    """rule_for parses an edition's JSON each time: remember it per (edition, category)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], CategoryRule | None] = {}

    def get(self, edition: PolicyEdition, category: str) -> CategoryRule | None:
        key = (edition.pk, category)
        if key not in self._cache:
            self._cache[key] = rule_for(edition, category)
        return self._cache[key]


def _possible_categories(level: str) -> set[str]:
    """Every category category_for_arrival may give someone leaving an area of `level`."""
    found = {str(Category.ENTRANT), str(Category.RURAL_RETURNEE)}
    category = ARRIVAL_CATEGORY_BY_LEVEL.get(level)
    if category:
        found.add(str(category))
    found.add(str(Category.LOW_RISK_ARRIVAL))  # medium handled as low where there is no medium
    return found


def _relevance_q(
    *, level: str, timeline: EditionTimeline, rules: _Rules, today: dt.date
) -> Q | None:
    """Only people whose measure may not have fully passed by today: a measure of T days from
    an anchor has passed when anchor + T < today. T is the longest period any edition of the
    span gives any category a person from this area can fall in. None: no narrowing (an
    open-ended phase, or an edition that determines no measure for the level: those people
    still get a visit, however long ago they left)."""
    longest = 0
    from_arrival = False
    for edition in timeline.editions():
        if category_for_arrival(edition=edition, from_abroad=False, risk_level=level) is None:
            return None
        for category in _possible_categories(level):
            rule = rules.get(edition, category)
            if rule is None:
                continue
            total = rule.total_days
            if total is None:
                return None
            longest = max(longest, total)
            from_arrival |= rule.counts_from == CountsFrom.ARRIVAL
    earliest = today - dt.timedelta(days=longest)
    # arrived_on >= left_on, so "arrived since" also holds for every "left since".
    return Q(arrived_on__gte=earliest) if from_arrival else Q(left_on__gte=earliest)


# --- the sweep --------------------------------------------------------------------------------


def _spaceless(expression: Any) -> Any:
    return Replace(Replace(expression, Value(" "), Value("")), Value("\u3000"), Value(""))


def _detail_text(detail: str) -> str:
    return "".join(detail.split())


def covered_arrivals(*, area: RiskArea, window_from: dt.date, window_to: dt.date) -> QuerySet:
    """Registrations whose origin the area covers and who left it within the window."""
    qs = TravelRegistration.objects.filter(
        subtree_q("origin_code", area.region_code),
        left_on__gte=window_from,
        left_on__lte=window_to,
    )
    detail = _detail_text(area.detail or "")
    if detail:
        qs = qs.alias(origin_flat=_spaceless(F("origin_address"))).filter(
            origin_flat__contains=detail
        )
    return qs.order_by()


@dataclass
class _Hit:
    """One registration found by the sweep and what to do with it."""

    pk: int
    person_id: int
    left_on: dt.date
    arrived_on: dt.date
    outside: bool
    outside_code: str
    destination_address: str
    division_code: str | None
    stored_level: str
    stored_order_id: int | None
    category: str | None = None
    edition: PolicyEdition | None = None
    anchor: dt.date | None = None
    plan: MeasurePlan | None = None
    outcome: str = ""
    order_id: int | None = None
    request_index: int | None = None


ARRIVAL_FIELDS = (
    "pk",
    "person_id",
    "left_on",
    "arrived_on",
    "from_abroad",
    "outside_county",
    "outside_code",
    "destination_address",
    "destination_division_id",
    "destination_division__kind",
    "risk_level",
    "order_id",
)


def _plan_hit(
    hit: _Hit,
    *,
    from_abroad: bool,
    rural: bool,
    level: str,
    timeline: EditionTimeline,
    rules: _Rules,
    today: dt.date,
) -> None:
    """Category, anchor and plan of one hit, by the edition in force on its anchor date (the
    day it left, or the day it arrived when the rule counts from the arrival)."""
    edition = timeline.at(hit.left_on)
    for _round in range(2):
        if edition is None:
            return
        category = category_for_arrival(
            edition=edition, from_abroad=from_abroad, risk_level=level, rural_destination=rural
        )
        rule = rules.get(edition, category) if category else None
        anchor = hit.arrived_on if rule and rule.counts_from == CountsFrom.ARRIVAL else hit.left_on
        anchored = timeline.at(anchor)
        if anchored is None or anchored.pk == edition.pk:
            break
        edition = anchored  # counts from the arrival, under a newer edition: decide again
    hit.edition, hit.category, hit.anchor = edition, category, anchor
    if rule is not None:
        hit.plan = plan_measure(rule, anchor=anchor, found_on=today)


def _still_handled(hit: _Hit, outcome: str, order_id: int | None, phases: Any) -> bool:
    """An earlier sweep of the area handled this arrival well enough for today's plan."""
    if outcome == SweepHit.Outcome.OUTSIDE or hit.plan is None:
        return True
    return order_id is not None and plan_severity(phases or []) >= hit.plan.severity


def _severity(hit: _Hit) -> tuple[int, dt.date]:
    return hit.plan.severity if hit.plan is not None else (0, dt.date.min)


def _covering_order(plan: MeasurePlan, orders: list[tuple[int, Any]]) -> int | None:
    """An open order of the person at least as strict as the plan (control's own test)."""
    wanted = plan.severity
    for pk, phases in orders:
        if plan_severity(phases or []) >= wanted:
            return pk
    return None


def _title(area: RiskArea) -> str:
    # Shown in inboxes and overviews: the area, never the person.
    title = _("风险地区回溯排查：%(level)s %(name)s") % {
        "level": area.get_level_display(),
        "name": area.region_name or area.region_code,
    }
    return title[:200]


def _run(
    *, actor: Any, area: RiskArea, now: dt.datetime | None, timeline: EditionTimeline | None
) -> SweepRun:
    started = time.monotonic()
    started_at = now or clock_now()
    today = _today(now)
    window_from = area.start_date
    window_to = min(area.end_date or today, today)
    sweep = SweepRun(
        risk_area=area,
        window_from=window_from,
        window_to=window_to,
        actor=_user_or_none(actor),
        started_at=started_at,
    )
    sweep.save(force_insert=True)
    hits: list[_Hit] = []
    if window_from <= window_to:
        _passages_into_arrivals(actor=actor, area=area, window=(window_from, window_to))
        hits = _sweep_hits(
            actor=actor,
            area=area,
            sweep=sweep,
            today=today,
            timeline=timeline,
            window=(window_from, window_to),
        )
    counts = dict.fromkeys(SweepHit.Outcome.values, 0)
    for hit in hits:
        counts[hit.outcome] += 1
    sweep.found = len(hits)
    sweep.orders_proposed = counts[SweepHit.Outcome.PROPOSED]
    sweep.already_covered = counts[SweepHit.Outcome.COVERED]
    sweep.outside_county = counts[SweepHit.Outcome.OUTSIDE]
    sweep.seconds = round(time.monotonic() - started, 4)
    sweep.save(
        update_fields=["found", "orders_proposed", "already_covered", "outside_county", "seconds"]
    )
    audit_record(
        actor=actor,
        verb="travel.sweep.run",
        target=sweep,
        data={
            "risk_area_id": area.pk,
            "level": area.level,
            "region_code": area.region_code,
            "window": [window_from.isoformat(), window_to.isoformat()],
            "found": sweep.found,
            "proposed": sweep.orders_proposed,
            "covered": sweep.already_covered,
            "outside": sweep.outside_county,
            "expired": counts[SweepHit.Outcome.EXPIRED],
        },
    )
    return sweep


def _passages_into_arrivals(*, actor: Any, area: RiskArea, window: tuple[dt.date, dt.date]) -> int:
    """Checkpoint passages are part of what the sweep looks back over: an occupant who came
    in from the area while it was designated, bound for a grid of the county, and who was not
    flagged at the barrier (so never became an arrival), becomes one now, without a measure;
    the sweep then proposes for them like for every other hit. Passages carry no street
    address, so an area narrowed by a detail (a compound, a building) does not match them."""
    if _detail_text(area.detail or ""):
        return 0
    start = timezone.make_aware(dt.datetime.combine(window[0], dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(window[1] + dt.timedelta(days=1), dt.time.min))
    occupants = list(
        PassageOccupant.objects.filter(
            subtree_q("passage__origin_code", area.region_code),
            arrival__isnull=True,
            passage__direction=CheckpointPassage.Direction.IN,
            passage__destination_division__isnull=False,
            passage__passed_at__gte=start,
            passage__passed_at__lt=end,
        )
        .select_related("passage")
        .order_by("pk")
    )
    items: list[dict[str, Any]] = []
    kept: list[PassageOccupant] = []
    for occupant in occupants:
        passage = occupant.passage
        day = timezone.localtime(passage.passed_at).date()
        clean, errors = clean_arrival(
            {
                "name": occupant.name,
                "id_type": occupant.id_type,
                "id_number": occupant.id_number,
                "phone": occupant.phone,
                "origin_code": passage.origin_code,
                "left_on": day,
                "arrived_on": day,
                "transport": Transport.CAR if passage.plate else Transport.OTHER,
                "vehicle_no": passage.plate,
                "destination_code": passage.destination_division_id,
                "destination_address": passage.destination_address or "-",
            },
            today=day,
            from_list=True,
        )
        if not errors:  # checked at the barrier; a grid removed since is the only way out
            items.append(clean)
            kept.append(occupant)
    if not items:
        return 0
    results = arrival_register_bulk(
        actor=actor, items=items, channel=Channel.CHECKPOINT, propose=False
    )
    for occupant, result in zip(kept, results, strict=True):
        occupant.arrival = result.registration
    PassageOccupant.objects.bulk_update(kept, ["arrival"], batch_size=500)
    return len(kept)


def _sweep_hits(
    *,
    actor: Any,
    area: RiskArea,
    sweep: SweepRun,
    today: dt.date,
    timeline: EditionTimeline | None,
    window: tuple[dt.date, dt.date],
) -> list[_Hit]:
    level = area.level
    rules = _Rules()
    if timeline is None or timeline.lo > window[0] or timeline.hi < today:
        timeline = EditionTimeline(window[0], today)
    arrivals = covered_arrivals(area=area, window_from=window[0], window_to=window[1])
    relevant = _relevance_q(level=level, timeline=timeline, rules=rules, today=today)
    if relevant is not None:
        arrivals = arrivals.filter(relevant)
    rows = list(arrivals.values_list(*ARRIVAL_FIELDS))
    if not rows:
        return []

    # Who an earlier sweep of this same area already put into the loop, and with what order:
    # covered now if that order is as strict as today's plan, whatever became of it since (an
    # officer may have cancelled it, with a reason). A raised level plans a stricter measure.
    handled = {
        arrival_id: (outcome, order_id, phases)
        for arrival_id, outcome, order_id, phases in SweepHit.objects.filter(
            sweep__risk_area=area,
            outcome__in=[SweepHit.Outcome.PROPOSED, SweepHit.Outcome.OUTSIDE],
        )
        .exclude(sweep=sweep)
        .order_by("pk")
        .values_list("arrival_id", "outcome", "order_id", "order__phases")
    }
    open_orders: dict[int, list[tuple[int, Any]]] = {}
    for person_id, pk, phases in (
        ControlOrder.objects.filter(
            person_id__in=arrivals.values("person_id"), status__in=OPEN_STATUSES
        )
        .order_by()
        .values_list("person_id", "pk", "phases")
    ):
        open_orders.setdefault(person_id, []).append((pk, phases))

    hits: list[_Hit] = []
    for (
        pk,
        person_id,
        left_on,
        arrived_on,
        from_abroad,
        outside,
        outside_code,
        address,
        division,
        kind,
        stored,
        order,
    ) in rows:
        hit = _Hit(
            pk=pk,
            person_id=person_id,
            left_on=left_on,
            arrived_on=arrived_on,
            outside=outside,
            outside_code=outside_code or "",
            destination_address=address or "",
            division_code=division,
            stored_level=stored or "",
            stored_order_id=order,
        )
        _plan_hit(
            hit,
            from_abroad=from_abroad,
            rural=kind == Division.Kind.RURAL,
            level=level,
            timeline=timeline,
            rules=rules,
            today=today,
        )
        hits.append(hit)

    # Decide per hit; per person, the strictest plan goes to control and the person's other
    # registrations (a self-report and a checkpoint passage of the same trip) follow it.
    candidates: dict[int, _Hit] = {}
    for hit in hits:
        if hit.pk in handled and _still_handled(hit, *handled[hit.pk]):
            hit.outcome, hit.order_id = SweepHit.Outcome.COVERED, handled[hit.pk][1]
            continue
        person_orders = open_orders.get(hit.person_id, [])
        if hit.category is None:
            # The edition determines no measure for this level: a visit, unless the person is
            # already under some measure (then a named person sees them already).
            if person_orders:
                hit.outcome, hit.order_id = SweepHit.Outcome.COVERED, person_orders[0][0]
                continue
        elif hit.plan is None:
            hit.outcome = SweepHit.Outcome.EXPIRED
            continue
        else:
            covering = _covering_order(hit.plan, person_orders)
            if covering is not None:
                # An order at least as strict is already open (registered from this area, or
                # a close contact in quarantine ...): the level is recorded below, nothing new
                # is proposed and no second task lands in the grid worker's inbox.
                hit.outcome, hit.order_id = SweepHit.Outcome.COVERED, covering
                continue
        best = candidates.get(hit.person_id)
        if best is None or _severity(hit) > _severity(best):
            candidates[hit.person_id] = hit
    chosen = set(map(id, candidates.values()))

    requests: list[OrderRequest] = []
    outside: list[_Hit] = []
    title = _title(area)
    for hit in candidates.values():
        if hit.outside or not hit.division_code:
            hit.outcome = SweepHit.Outcome.OUTSIDE
            outside.append(hit)
            continue
        hit.request_index = len(requests)
        requests.append(
            OrderRequest(
                person_id=hit.person_id,
                division_code=hit.division_code,
                category=hit.category,
                anchor_date=hit.anchor,
                found_on=today,
                source_type=str(SourceType.SWEEP),
                source_id=f"{sweep.pk}:{hit.pk}",
                title=title,
                risk_area_id=area.pk,
                edition=hit.edition,
                task_kind=str(TaskKind.ARRIVAL),
            )
        )
    outcomes: list[OrderOutcome] = (
        order_propose_bulk(actor=actor, requests=requests, now=sweep.started_at) if requests else []
    )
    by_person: dict[int, _Hit] = {}
    for hit in candidates.values():
        by_person[hit.person_id] = hit
        if hit.request_index is None:
            continue
        result = outcomes[hit.request_index]
        if result.order is not None:
            hit.outcome, hit.order_id = SweepHit.Outcome.PROPOSED, result.order.pk
        elif result.covered_by is not None:
            hit.outcome, hit.order_id = SweepHit.Outcome.COVERED, result.covered_by.pk
        elif result.expired:
            hit.outcome = SweepHit.Outcome.EXPIRED
        else:  # no measure under the edition: the task (acknowledge, visit) is the loop
            hit.outcome = SweepHit.Outcome.PROPOSED
    for hit in hits:
        if hit.outcome or id(hit) in chosen:
            continue
        lead = by_person[hit.person_id]  # the same person's strictest registration
        hit.outcome = SweepHit.Outcome.COVERED
        hit.order_id = lead.order_id

    if outside:
        assist_outgoing_add(
            actor=actor,
            entries=[
                OutgoingEntry(
                    outside_code=hit.outside_code,
                    person_id=hit.person_id,
                    arrival_id=hit.pk,
                    category=hit.category or "",
                    destination=hit.destination_address,
                )
                for hit in outside
            ],
            today=today,
            subject=_("风险地区回溯排查：%(name)s")
            % {"name": area.region_name or area.region_code},
        )
    _update_registrations(area=area, hits=hits)
    SweepHit.objects.bulk_create(
        [
            SweepHit(sweep=sweep, arrival_id=hit.pk, outcome=hit.outcome, order_id=hit.order_id)
            for hit in hits
        ],
        batch_size=HIT_BATCH,
    )
    return hits


def _set_columns(
    *, ids: list[int], fixed: dict[str, Any], per_row: dict[str, tuple[str, list[Any]]]
) -> None:
    """UPDATE the registrations `ids`: each `fixed` column to one value, each `per_row` column
    (SQL type, values in the order of ids) to its own; updated_at to now. On PostgreSQL one
    statement joining unnest()ed arrays; elsewhere one executemany."""
    if not ids:
        return
    if connection.vendor != "postgresql":
        columns = (*fixed, *per_row)
        values = [list(v) for _type, v in per_row.values()]
        update_rows(
            TravelRegistration,
            columns,
            [(*fixed.values(), *(v[i] for v in values), pk) for i, pk in enumerate(ids)],
        )
        return
    quote = connection.ops.quote_name
    sets = [f"{quote(c)} = %s" for c in fixed]
    sets += [f"{quote(c)} = v.{quote(c)}" for c in per_row]
    sets.append(f"{quote('updated_at')} = %s")
    names = ", ".join(quote(c) for c in ("id", *per_row))
    arrays = ", ".join(f"%s::{t}[]" for t in ("bigint", *(t for t, _v in per_row.values())))
    sql = (
        f"UPDATE {quote(TravelRegistration._meta.db_table)} SET {', '.join(sets)} "
        f"FROM unnest({arrays}) AS v({names}) "
        f"WHERE {quote(TravelRegistration._meta.db_table)}.{quote('id')} = v.{quote('id')}"
    )
    params = [*fixed.values(), clock_now(), ids, *(v for _t, v in per_row.values())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _update_registrations(*, area: RiskArea, hits: list[_Hit]) -> None:
    """Record on each registration the level it now has (never lowering it), the category and
    the order that answers for it: two set-based UPDATEs (Django's bulk_update builds one CASE
    per row and field, which costs more than the whole rest of the sweep)."""
    raise_level = RISK_RANK[area.level]
    level_ids: list[int] = []
    categories: list[str] = []
    order_ids: list[int] = []
    orders: list[int] = []
    for hit in hits:
        if RISK_RANK.get(hit.stored_level, 0) < raise_level:
            level_ids.append(hit.pk)
            categories.append(hit.category or "")
        new_order = hit.order_id if hit.outcome == SweepHit.Outcome.PROPOSED else None
        if hit.stored_order_id is None and hit.order_id is not None:
            new_order = hit.order_id
        if new_order is not None and new_order != hit.stored_order_id:
            order_ids.append(hit.pk)
            orders.append(new_order)
    _set_columns(
        ids=level_ids,
        fixed={"risk_level": str(area.level), "risk_area_id": area.pk},
        per_row={"category": ("text", categories)},
    )
    _set_columns(ids=order_ids, fixed={}, per_row={"order_id": ("bigint", orders)})


# --- services -------------------------------------------------------------------------------


@transaction.atomic
def sweep_run(*, actor: Any, area: RiskArea, now: dt.datetime | None = None) -> SweepRun:
    """Run `area` backwards over past arrivals; see the module docstring. Idempotent: people
    an earlier sweep of the same area put into the loop, and people already under an order
    at least as strict, come out "covered" and nothing new is proposed for them."""
    actor = service_actor(actor)
    _require_manage(actor)
    return _run(actor=actor, area=area, now=now, timeline=None)


@transaction.atomic
def sweep_run_many(
    *, actor: Any, areas: list[RiskArea], now: dt.datetime | None = None
) -> list[SweepRun]:
    """One sweep per area (an imported list), sharing the edition lookups between them."""
    actor = service_actor(actor)
    _require_manage(actor)
    if not areas:
        return []
    today = _today(now)
    lo = min(area.start_date for area in areas)
    timeline = EditionTimeline(min(lo, today), today)
    return [_run(actor=actor, area=area, now=now, timeline=timeline) for area in areas]


@transaction.atomic
def sweeps_follow_up(*, actor: Any = None, now: dt.datetime | None = None) -> list[SweepRun]:
    """Sweep each area declared in the last day once more, after the barrier's lookup caches
    have expired (FANGKONG["PUBLIC_CACHE_SECONDS"] after it was declared): a checkpoint passage
    registered in between was flagged from a lookup that did not know the area yet, and its
    occupants are found now like every other arrival. Run by the loop worker; an area swept
    after that moment already is not swept again."""
    ttl = dt.timedelta(seconds=settings.FANGKONG.get("PUBLIC_CACHE_SECONDS", 60))
    if not ttl:
        return []
    actor = service_actor(actor)
    _require_manage(actor)
    now = now or clock_now()
    areas = list(
        RiskArea.objects.filter(
            created_at__gte=now - dt.timedelta(days=1), created_at__lte=now - ttl
        ).order_by("pk")
    )
    if not areas:
        return []
    last: dict[int, dt.datetime] = dict(
        SweepRun.objects.filter(risk_area__in=areas)
        .values("risk_area")
        .annotate(last=Max("started_at"))
        .values_list("risk_area", "last")
    )
    due = [a for a in areas if a.pk not in last or last[a.pk] < a.created_at + ttl]
    if not due:
        return []
    today = _today(now)
    timeline = EditionTimeline(min(min(a.start_date for a in due), today), today)
    return [_run(actor=actor, area=area, now=now, timeline=timeline) for area in due]


@transaction.atomic
def risk_area_declare(
    *, actor: Any, now: dt.datetime | None = None, **fields: Any
) -> tuple[RiskArea, SweepRun | None]:
    """Declare a risk area (policy.services.risk_area_create) and sweep past arrivals.

    The sweep runs for any start up to today, not only for past days: an arrival registered
    this morning from an area declared this afternoon "from today" was looked up before the
    area existed, and must be found too. (A future start is refused by risk_area_create.)"""
    actor = service_actor(actor)
    _require_manage(actor)
    area = risk_area_create(actor=actor, today=_today(now), **fields)
    if area.start_date > _today(now):
        return area, None
    return area, _run(actor=actor, area=area, now=now, timeline=None)


@transaction.atomic
def risk_area_change(
    *, actor: Any, area: RiskArea, changes: dict[str, Any], now: dt.datetime | None = None
) -> tuple[RiskArea, SweepRun | None]:
    """Change a risk area (policy.services.risk_area_update); sweep again when it got wider
    (earlier start, higher level, a larger region, the detail cleared): the people the wider
    area adds are put into the loop, those an earlier sweep handled come out covered."""
    actor = service_actor(actor)
    _require_manage(actor)
    area, widened = risk_area_update(actor=actor, area=area, changes=changes, today=_today(now))
    if not widened or area.start_date > _today(now):
        return area, None
    return area, _run(actor=actor, area=area, now=now, timeline=None)


# --- reads ------------------------------------------------------------------------------------


def sweep_list(*, viewer: Any, area: RiskArea | None = None) -> QuerySet[SweepRun]:
    """Sweeps (counts only, no personal data): every logged-in viewer, like risk areas."""
    if not getattr(viewer, "is_authenticated", False):
        return SweepRun.objects.none()
    qs = SweepRun.objects.select_related("risk_area", "actor")
    if area is not None:
        qs = qs.filter(risk_area=area)
    return qs.order_by("-started_at", "-pk")


def access_sweep_by_id(*, viewer: Any, sweep_id: Any) -> SweepRun:
    try:
        return sweep_list(viewer=viewer).get(pk=int(sweep_id))
    except (SweepRun.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("回溯排查记录不存在。")) from None


def sweep_hit_list(
    *, viewer: Any, sweep: SweepRun, outcome: str | None = None
) -> QuerySet[SweepHit]:
    """The people a sweep found, within the viewer's scope (by destination grid); arrivals
    bound for outside the county belong to no grid and are shown to county-wide roles."""
    qs = SweepHit.objects.filter(sweep=sweep).select_related(
        "arrival",
        "arrival__person",
        "arrival__person__division",
        "arrival__destination_division",
        "order",
    )
    scope = scope_q(viewer=viewer, field="arrival__destination_division_id")
    if scope is not None:
        if policy_for(viewer).county_wide:
            scope |= Q(arrival__destination_division__isnull=True)
        qs = qs.filter(scope)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.order_by("pk")
