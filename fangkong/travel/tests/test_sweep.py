"""The retroactive sweep: exactly the arrivals in the window, the right measure for the days
left, idempotent, constant queries."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.control.contracts import OrderRequest
from fangkong.control.models import ControlOrder, LoopTask
from fangkong.control.services import order_propose_bulk
from fangkong.core.exceptions import Forbidden
from fangkong.core.models import AuditEvent
from fangkong.policy.models import RiskArea
from fangkong.travel.models import AssistRequest, AssistRequestEntry, SweepHit, SweepRun
from fangkong.travel.sweep import risk_area_change, risk_area_declare, sweep_run

from .test_sweep_support import (
    SWEEP_RULES,
    TODAY,
    activate_edition,
    days,
    make_arrival,
    make_person,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(county):
    """A known edition in force for the county (see test_sweep_support)."""
    return activate_edition(county)


def _hit_ids(sweep: SweepRun) -> set[int]:
    return set(SweepHit.objects.filter(sweep=sweep).values_list("arrival_id", flat=True))


def _declare(users, **fields):
    values = {"level": "high", "region_code": "110105", "start_date": days(-6)}
    values.update(fields)
    return risk_area_declare(actor=users.commander, **values)


def test_sweep_finds_exactly_the_arrivals_that_left_while_the_area_was_designated(
    county, users, edition
):
    # Given arrivals around an area designated from T-6 to T-2 (a county, 110105)
    before = make_arrival(county, left_on=days(-7))
    on_start = make_arrival(county, left_on=days(-6))
    inside = make_arrival(county, left_on=days(-4), origin_code="110105001002")
    on_end = make_arrival(county, left_on=days(-2), arrived_on=days(-1))
    after = make_arrival(county, left_on=days(-1))
    other_region = make_arrival(county, left_on=days(-4), origin_code="310101")
    sibling = make_arrival(county, left_on=days(-4), origin_code="110106")
    checkpoint = make_arrival(county, left_on=days(-3), channel="checkpoint")
    pushed = make_arrival(county, left_on=days(-3), channel="pushed_list")
    letter = make_arrival(county, left_on=days(-3), channel="assist_request")

    # When the HQ declares it
    _area, sweep = _declare(users, end_date=days(-2))

    # Then the sweep found exactly those who left between the start and the end, any channel
    assert sweep is not None
    assert _hit_ids(sweep) == {
        on_start.pk,
        inside.pk,
        on_end.pk,
        checkpoint.pk,
        pushed.pk,
        letter.pk,
    }
    assert not {before.pk, after.pk, other_region.pk, sibling.pk} & _hit_ids(sweep)
    assert (sweep.window_from, sweep.window_to) == (days(-6), days(-2))
    assert sweep.found == 6
    assert sweep.orders_proposed == 6


def test_a_town_code_covers_its_own_subtree_only(county, users, edition):
    # A street (9 digits): its villages yes; a sibling street with the same prefix, or an
    # origin given only as the whole county, no.
    under = make_arrival(county, left_on=days(-3), origin_code="110105001002")
    same = make_arrival(county, left_on=days(-3), origin_code="110105001")
    sibling = make_arrival(county, left_on=days(-3), origin_code="110105010")
    broader = make_arrival(county, left_on=days(-3), origin_code="110105")
    shared_prefix = make_arrival(county, left_on=days(-3), origin_code="1101050010")

    _area, sweep = _declare(users, region_code="110105001", region_name="朝阳区某街道")

    assert _hit_ids(sweep) == {under.pk, same.pk, shared_prefix.pk}
    assert not {sibling.pk, broader.pk} & _hit_ids(sweep)


def test_a_province_area_covers_every_county_of_it(county, users, edition):
    beijing = make_arrival(county, left_on=days(-3), origin_code="110105")
    hebei = make_arrival(county, left_on=days(-3), origin_code="130109")

    area, sweep = _declare(users, region_code="110000", level="medium")

    assert area.region_code == "11"
    assert _hit_ids(sweep) == {beijing.pk}
    assert hebei.pk not in _hit_ids(sweep)


def test_detail_must_be_in_the_origin_address(county, users, edition):
    match = make_arrival(county, left_on=days(-3), origin_address="北京市朝阳区松榆里社区5号楼")
    spaced = make_arrival(county, left_on=days(-3), origin_address="朝阳区 松榆里 社区 3号")
    other = make_arrival(county, left_on=days(-3), origin_address="北京市朝阳区金盏嘉园二社区")
    blank = make_arrival(county, left_on=days(-3), origin_address="")

    _area, sweep = _declare(users, detail="松榆里社区")

    assert _hit_ids(sweep) == {match.pk, spaced.pk}
    assert not {other.pk, blank.pk} & _hit_ids(sweep)


def test_a_late_arrival_serves_the_remaining_days(county, users, edition):
    # Left T-3: 7 days centralized T-2..T+4, then 7 days home monitoring T+5..T+11.
    reg = make_arrival(county, left_on=days(-3), arrived_on=days(-2))

    _area, sweep = _declare(users)

    order = ControlOrder.objects.get(source_type="sweep")
    assert order.person_id == reg.person_id
    assert order.category == "high_risk_arrival"
    assert order.status == "proposed"
    assert order.anchor_date == days(-3)
    assert order.start_date == TODAY
    assert order.end_date == days(11)
    assert order.source_id == f"{sweep.pk}:{reg.pk}"
    first, second = order.phases
    assert (first["kind"], first["start"], first["end"]) == (
        "centralized",
        TODAY.isoformat(),
        days(4).isoformat(),
    )
    # Test days 1, 3, 5, 7 of the first phase are T-2, T, T+2, T+4: the one already past is
    # dropped.
    assert first["test_days"] == [TODAY.isoformat(), days(2).isoformat(), days(4).isoformat()]
    assert second["start"] == days(5).isoformat()
    reg.refresh_from_db()
    assert (reg.risk_level, reg.risk_area_id, reg.category, reg.order_id) == (
        "high",
        sweep.risk_area_id,
        "high_risk_arrival",
        order.pk,
    )
    task = LoopTask.objects.get(order=order)
    assert task.division_id == county.grid_a.code
    assert task.source_type == "sweep"
    assert set(task.steps.values_list("kind", flat=True)) == {"ack", "visit", "in_place"}
    assert "110105" not in task.title or "朝阳区" in task.title


def test_people_whose_measure_has_passed_are_not_put_into_the_loop(county, users, edition):
    passed = make_arrival(county, left_on=days(-20))
    last_day = make_arrival(county, left_on=days(-14))

    _area, sweep = _declare(users, start_date=days(-25))

    # The 14 days from T-20 ended at T-6: the query does not even return it. From T-14 the
    # last day is today: still one day of monitoring to serve.
    assert _hit_ids(sweep) == {last_day.pk}
    assert passed.pk not in _hit_ids(sweep)
    order = ControlOrder.objects.get(person_id=last_day.person_id)
    assert order.start_date == order.end_date == TODAY
    assert [p["kind"] for p in order.phases] == ["home_monitoring"]


def test_running_the_sweep_twice_proposes_nothing_new(county, users, edition):
    regs = [make_arrival(county, left_on=days(-n)) for n in (1, 2, 3)]
    area, first = _declare(users)
    orders, tasks = ControlOrder.objects.count(), LoopTask.objects.count()
    assert first.orders_proposed == 3

    second = sweep_run(actor=users.commander, area=area)

    assert second.found == 3
    assert second.orders_proposed == 0
    assert second.already_covered == 3
    assert set(SweepHit.objects.filter(sweep=second).values_list("outcome", flat=True)) == {
        "covered"
    }
    assert ControlOrder.objects.count() == orders
    assert LoopTask.objects.count() == tasks  # no second task in the grid worker's inbox
    assert {h.arrival_id for h in SweepHit.objects.filter(sweep=second)} == {r.pk for r in regs}


def test_a_cancelled_sweep_order_is_not_proposed_again(county, users, edition):
    reg = make_arrival(county, left_on=days(-2))
    area, _first = _declare(users)
    ControlOrder.objects.filter(person_id=reg.person_id).update(status="cancelled")

    again = sweep_run(actor=users.commander, area=area)

    assert again.orders_proposed == 0
    assert again.already_covered == 1


def test_widening_an_area_sweeps_again_and_proposes_only_for_the_new_ones(county, users, edition):
    old = make_arrival(county, left_on=days(-2))
    new = make_arrival(county, left_on=days(-5))
    area, first = _declare(users, start_date=days(-3))
    assert _hit_ids(first) == {old.pk}

    area, second = risk_area_change(
        actor=users.commander, area=area, changes={"start_date": days(-6)}
    )

    assert second is not None
    assert second.orders_proposed == 1
    proposed = SweepHit.objects.get(sweep=second, outcome="proposed")
    assert proposed.arrival_id == new.pk
    assert SweepHit.objects.get(sweep=second, arrival=old).outcome == "covered"
    assert ControlOrder.objects.filter(person_id=old.person_id).count() == 1


def test_narrowing_an_area_does_not_sweep(county, users, edition):
    make_arrival(county, left_on=days(-2))
    area, _first = _declare(users)

    area, sweep = risk_area_change(
        actor=users.commander, area=area, changes={"notice": "某某通告", "end_date": TODAY}
    )

    assert sweep is None
    assert SweepRun.objects.count() == 1


def test_raising_the_level_upgrades_the_measure(county, users, edition):
    reg = make_arrival(county, left_on=days(-2))
    area, _first = _declare(users, level="medium")
    medium = ControlOrder.objects.get(person_id=reg.person_id)
    assert medium.category == "medium_risk_arrival"

    area, second = risk_area_change(actor=users.commander, area=area, changes={"level": "high"})

    assert second.orders_proposed == 1
    high = ControlOrder.objects.exclude(pk=medium.pk).get(person_id=reg.person_id)
    assert high.category == "high_risk_arrival"
    reg.refresh_from_db()
    assert reg.risk_level == "high"


def test_a_person_under_a_stricter_order_is_covered(county, users, edition):
    reg = make_arrival(county, left_on=days(-2))
    # A close contact in centralized quarantine for 14 days from yesterday.
    (contact,) = order_propose_bulk(
        actor=users.commander,
        requests=[
            OrderRequest(
                person_id=reg.person_id,
                division_code=county.grid_a.code,
                category="close_contact",
                anchor_date=days(-1),
                found_on=TODAY,
                source_type="contact",
                source_id="c1",
                title="密接",
            )
        ],
    )
    tasks = LoopTask.objects.count()

    _area, sweep = _declare(users)

    assert sweep.already_covered == 1
    assert sweep.orders_proposed == 0
    hit = SweepHit.objects.get(sweep=sweep)
    assert (hit.outcome, hit.order_id) == ("covered", contact.order.pk)
    assert LoopTask.objects.count() == tasks
    reg.refresh_from_db()
    assert reg.risk_level == "high"  # the level is recorded all the same
    assert reg.order_id == contact.order.pk


def test_a_registration_already_under_the_same_measure_is_covered(county, users, edition):
    # Registered after the area existed (arrival_register gave it the measure): a widening
    # sweep must not propose it again.
    reg = make_arrival(county, left_on=days(-2), risk_level="high")
    order_propose_bulk(
        actor=users.commander,
        requests=[
            OrderRequest(
                person_id=reg.person_id,
                division_code=county.grid_a.code,
                category="high_risk_arrival",
                anchor_date=days(-2),
                found_on=TODAY,
                source_type="arrival",
                source_id=str(reg.pk),
                title="高风险地区来返",
            )
        ],
    )

    _area, sweep = _declare(users)

    assert (sweep.found, sweep.already_covered, sweep.orders_proposed) == (1, 1, 0)


def test_one_order_per_person_for_several_registrations_of_one_trip(county, users, edition):
    person = make_person(county)
    report = make_arrival(county, left_on=days(-2), person=person)
    passage = make_arrival(county, left_on=days(-2), person=person, channel="checkpoint")

    _area, sweep = _declare(users)

    assert sweep.found == 2
    assert ControlOrder.objects.filter(person=person).count() == 1
    outcomes = dict(SweepHit.objects.filter(sweep=sweep).values_list("arrival_id", "outcome"))
    assert sorted(outcomes.values()) == ["covered", "proposed"]
    assert set(outcomes) == {report.pk, passage.pk}
    assert LoopTask.objects.filter(person=person).count() == 1


def test_an_arrival_bound_outside_the_county_becomes_an_assist_entry(county, users, edition):
    reg = make_arrival(county, left_on=days(-2), outside_code="320102")

    _area, sweep = _declare(users)

    assert sweep.outside_county == 1
    hit = SweepHit.objects.get(sweep=sweep)
    assert hit.outcome == "outside"
    entry = AssistRequestEntry.objects.get(arrival=reg)
    assert entry.person_id == reg.person_id
    assert entry.category == "high_risk_arrival"
    letter = entry.request
    assert letter.direction == AssistRequest.Direction.OUTGOING
    assert letter.counterpart_code == "320102"
    assert "玄武区" in letter.counterpart
    assert re.fullmatch(r"眉防协〔\d{4}〕1号", letter.number)  # numbered like every letter
    assert "回溯排查" in letter.subject
    assert not LoopTask.objects.exists()
    assert not ControlOrder.objects.exists()


def test_an_open_outgoing_letter_to_the_same_county_is_reused(county, users, edition):
    letter = AssistRequest.objects.create(
        direction="outgoing",
        counterpart="玄武区指挥部",
        counterpart_code="320102",
        dated=TODAY,
        status="open",
    )
    make_arrival(county, left_on=days(-2), outside_code="320102")

    _declare(users)

    assert AssistRequest.objects.count() == 1
    assert letter.entries.count() == 1


def test_the_sweep_is_audited_with_counts_only(county, users, edition):
    make_arrival(county, left_on=days(-2), origin_address="北京市朝阳区松榆里社区")

    _area, _sweep = _declare(users)

    event = AuditEvent.objects.get(verb="travel.sweep.run")
    assert event.actor_id == users.commander.pk
    assert event.data["found"] == 1
    assert event.data["proposed"] == 1
    text = json.dumps(event.data, ensure_ascii=False)
    assert "松榆里" not in text
    assert "来返人员" not in text


def test_only_the_hq_sweeps(county, users, edition):
    area, _sweep = _declare(users, start_date=TODAY)
    for user in (users.town_officer, users.leader, users.grid_worker, users.epidemiologist):
        with pytest.raises(Forbidden):
            sweep_run(actor=user, area=area)
    assert sweep_run(actor=users.admin, area=area).pk
    assert sweep_run(actor=None, area=area).actor_id is None  # the system (command line)


def test_a_start_of_today_still_sweeps_registrations_made_earlier_today(county, users, edition):
    reg = make_arrival(county, left_on=TODAY)

    _area, sweep = _declare(users, start_date=TODAY)

    assert _hit_ids(sweep) == {reg.pk}


def test_an_edition_without_a_measure_for_the_level_sends_a_visit(county, users):
    rules = {
        k: v for k, v in SWEEP_RULES.items() if k not in ("medium_risk_arrival", "low_risk_arrival")
    }
    activate_edition(county, rules=rules)
    reg = make_arrival(county, left_on=days(-30))

    _area, sweep = _declare(users, level="medium", start_date=days(-40))

    hit = SweepHit.objects.get(sweep=sweep)
    assert (hit.arrival_id, hit.outcome, hit.order_id) == (reg.pk, "proposed", None)
    task = LoopTask.objects.get(person_id=reg.person_id)
    assert set(task.steps.values_list("kind", flat=True)) == {"ack", "visit"}
    # ... and only once.
    assert sweep_run(actor=users.commander, area=RiskArea.objects.get()).orders_proposed == 0
    assert LoopTask.objects.count() == 1


def _arrivals_from(county, code: str, n: int) -> None:
    for i in range(n):
        make_arrival(county, left_on=days(-1 - i % 5), origin_code=code)
        if i % 7 == 0:
            make_arrival(county, left_on=days(-1), origin_code=code, outside_code="320102")


def _first_sweep_queries(users, code: str) -> tuple[int, SweepRun]:
    area, _none = _declare(users, region_code=code, start_date=TODAY)  # today: finds nobody
    area = RiskArea.objects.get(pk=area.pk)
    area.start_date = days(-6)
    area.save(update_fields=["start_date"])
    with CaptureQueriesContext(connection) as queries:
        sweep = sweep_run(actor=users.commander, area=area)
    return len(queries.captured_queries), sweep


def test_the_number_of_queries_does_not_grow_with_the_hits(county, users, edition):
    _arrivals_from(county, "110105", 3)
    _arrivals_from(county, "310101", 120)

    few, small = _first_sweep_queries(users, "110105")
    many, large = _first_sweep_queries(users, "310101")

    assert (small.found, large.found) == (4, 138)
    assert large.orders_proposed == 120
    # PostgreSQL: the same statements whatever the number of hits. SQLite caps a statement
    # at 999 parameters, so Django cuts the bulk inserts of orders and steps into a few more.
    slack = 8 if connection.vendor == "sqlite" else 0
    assert many <= few + slack


def test_the_first_sweep_of_many_hits_costs_a_constant_number_of_queries(
    county, users, edition, django_assert_max_num_queries
):
    for i in range(80):
        make_arrival(county, left_on=days(-1 - i % 5))
    for i in range(5):
        make_arrival(county, left_on=days(-2), outside_code=f"32010{i % 3 + 2}")
    # Constant in the number of hits; each destination county outside ours costs a few queries
    # of its own (its open letter, numbered and audited): three counties here.
    with django_assert_max_num_queries(66):
        _area, sweep = _declare(users)
    assert sweep.found == 85
    assert sweep.orders_proposed == 80
    assert sweep.outside_county == 5


def test_sweep_seconds_and_window_are_recorded(county, users, edition):
    make_arrival(county, left_on=days(-1))
    _area, sweep = _declare(users, start_date=days(-3), end_date=None)
    sweep.refresh_from_db()
    assert sweep.seconds >= 0
    assert sweep.window_to == TODAY
    assert isinstance(sweep.started_at, dt.datetime)


def test_an_unflagged_checkpoint_passage_from_the_area_is_swept_into_the_loop(
    county, users, edition
):
    """A car came in through a checkpoint from 朝阳区 two days ago, before the area was
    declared: nobody was flagged, so nobody became an arrival then. The sweep finds its
    occupant bound for grid A and puts them into the loop; an outbound passage and a passage
    from elsewhere are left alone."""
    from django.utils import timezone

    from fangkong.core.tests.idgen import make_resident_id
    from fangkong.travel.models import (
        Checkpoint,
        CheckpointPassage,
        PassageOccupant,
        TravelRegistration,
    )

    checkpoint = Checkpoint.objects.create(name="卡口", kind="highway_exit", division=county.root)
    when = timezone.now() - dt.timedelta(days=2)

    def passage(key, origin, direction="in"):
        row = CheckpointPassage.objects.create(
            checkpoint=checkpoint,
            direction=direction,
            plate="京A12345",
            origin_code=origin,
            origin_name="x",
            destination_division=county.grid_a,
            destination_address="一组9号",
            passed_at=when,
            idempotency_key=key,
        )
        return PassageOccupant.objects.create(
            passage=row,
            seq=1,
            name="车上人",
            id_number=make_resident_id("110105", dt.date(1988, 1, 1), len(key)),
            temperature="36.5",
        )

    came_in = passage("in-1", "110105")
    went_out = passage("out-22", "110105", direction="out")
    elsewhere = passage("in-333", "310115")

    _area, sweep = _declare(users)

    came_in.refresh_from_db()
    assert came_in.arrival is not None
    registration = came_in.arrival
    assert registration.channel == "checkpoint"
    assert registration.destination_division_id == county.grid_a.code
    hit = SweepHit.objects.get(sweep=sweep, arrival=registration)
    assert hit.outcome == "proposed"
    assert ControlOrder.objects.get(pk=hit.order_id).category == "high_risk_arrival"
    assert LoopTask.objects.filter(order_id=hit.order_id, division=county.grid_a).exists()
    for other in (went_out, elsewhere):
        other.refresh_from_db()
        assert other.arrival is None
    risk_area_declare(  # narrowed to a compound: passages carry no address, none is added
        actor=users.commander,
        level="high",
        region_code="110105",
        start_date=days(-6),
        detail="松榆里",
    )
    assert TravelRegistration.objects.filter(channel="checkpoint").count() == 1
