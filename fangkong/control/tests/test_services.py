"""control services: proposing measures (single and bulk), the life of an order, its history."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from fangkong.control.models import (
    ControlOrder,
    ControlOrderEvent,
    LoopSettings,
    LoopStep,
    LoopTask,
    OrderStatus,
    TaskStatus,
)
from fangkong.control.services import (
    order_advance_phase,
    order_cancel,
    order_change,
    order_confirm,
    order_propose_bulk,
    order_release,
    order_transfer_out,
)
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent

from .conftest import NOW
from .factories import RULES_V8, make_edition, many_people, order_request, propose

pytestmark = pytest.mark.django_db

D = dt.date


def _days(*days: int, month: int = 7) -> list[str]:
    return [D(2022, month, d).isoformat() for d in days]


def _assert_no_pii(people) -> None:
    text = json.dumps([e.data for e in AuditEvent.objects.all()], ensure_ascii=False)
    for person in people:
        for value in (person.name, person.phone, person.id_number, person.address):
            assert value not in text, f"{value!r} leaked into the audit log"


def _active(actor, person, **kw) -> ControlOrder:
    outcome = propose(actor, person, now=NOW, **kw)
    return order_confirm(actor=actor, order=outcome.order, now=NOW)


# --- order_propose_bulk ----------------------------------------------------------------------


def test_propose_computes_the_measure_and_opens_the_task(users, people, v9):
    # given a person who left a high-risk area on 07-01 and is found on 07-02
    # when
    outcome = propose(users.grid_worker, people.head, now=NOW)
    # then the 9th-edition measure: 7 days centralized from the day after leaving
    order = outcome.order
    order.refresh_from_db()
    assert (order.status, order.category, order.edition_id) == (
        "proposed",
        "high_risk_arrival",
        v9.pk,
    )
    assert (order.counts_from, order.anchor_date) == ("left_area", D(2022, 7, 1))
    assert (order.start_date, order.end_date) == (D(2022, 7, 2), D(2022, 7, 8))
    assert order.phases == [
        {
            "kind": "centralized",
            "days": 7,
            "start": "2022-07-02",
            "end": "2022-07-08",
            "test_days": _days(2, 3, 4, 6, 8),
        }
    ]
    assert order.division_id == people.head.division_id
    assert order.proposed_by == users.grid_worker
    assert not outcome.covered_by
    assert not outcome.expired
    # the history starts with the proposal
    event = ControlOrderEvent.objects.get(order=order)
    assert (event.verb, event.from_status, event.to_status) == ("propose", "", "proposed")
    assert event.data["found_on"] == "2022-07-02"
    assert event.data["edition"] == "t-v9"
    # the task: three steps with the county's default clocks
    task = outcome.task
    assert (task.order, task.division_id, task.status) == (order, "610326107201001", "open")
    steps = list(task.steps.order_by("seq"))
    assert [(s.kind, s.due_at - NOW) for s in steps] == [
        ("ack", dt.timedelta(hours=2)),
        ("visit", dt.timedelta(hours=12)),
        ("in_place", dt.timedelta(hours=24)),
    ]
    assert LoopSettings.objects.get().division_id == "610326"
    audit = AuditEvent.objects.get()
    assert (audit.verb, audit.actor_id) == ("control.order.propose_bulk", users.grid_worker.pk)
    assert audit.data["count"] == 1
    assert audit.data["orders"] == 1
    _assert_no_pii([people.head])


def test_clocks_come_from_the_county_settings(users, people, v9, county):
    LoopSettings.objects.create(division=county.root, ack_hours=1, visit_hours=6, in_place_hours=8)
    task = propose(users.grid_worker, people.head, now=NOW).task
    dues = [s.due_at - NOW for s in task.steps.order_by("seq")]
    assert dues == [dt.timedelta(hours=1), dt.timedelta(hours=6), dt.timedelta(hours=8)]


def test_no_category_opens_a_visit_task_without_an_order(users, people, v9):
    outcome = propose(users.grid_worker, people.head, now=NOW, category=None, anchor=None)
    assert outcome.order is None
    assert not outcome.expired
    assert [s.kind for s in outcome.task.steps.order_by("seq")] == ["ack", "visit"]
    assert not ControlOrder.objects.exists()


def test_a_category_the_edition_does_not_determine_gets_no_order(users, people, v9):
    # RULES_V9 has no "entrant" row
    outcome = propose(users.grid_worker, people.head, now=NOW, category="entrant")
    assert outcome.order is None
    assert not outcome.expired
    assert outcome.task.steps.count() == 2


def test_late_found_person_serves_only_the_remaining_days(users, people, v9):
    # a close contact exposed on 06-28, found on 07-02: centralized 06-29..07-05, tests from 07-02
    outcome = propose(
        users.grid_worker, people.head, now=NOW, category="close_contact", anchor=D(2022, 6, 28)
    )
    order = outcome.order
    assert order.start_date == D(2022, 7, 2)
    assert order.phases[0]["test_days"] == _days(3, 5)
    assert order.phases[1] == {
        "kind": "home_monitoring",
        "days": 3,
        "start": "2022-07-06",
        "end": "2022-07-08",
        "test_days": _days(8),
    }


def test_expired_when_the_whole_period_has_passed(users, people, v9):
    outcome = propose(users.grid_worker, people.head, now=NOW, anchor=D(2022, 6, 20), edition=v9)
    assert outcome.expired
    assert outcome.order is None
    assert [s.kind for s in outcome.task.steps.order_by("seq")] == ["ack", "visit"]
    assert AuditEvent.objects.get().data["expired"] == 1


def test_covered_by_an_open_order_at_least_as_strict(users, people, v9):
    # given an active centralized order
    strict = _active(users.grid_worker, people.head)
    # when a medium-risk arrival (home isolation) is proposed for the same person
    outcome = propose(users.grid_worker, people.head, now=NOW, category="medium_risk_arrival")
    # then no new order; the task is still opened for the visit
    assert outcome.covered_by == strict
    assert outcome.order is None
    assert ControlOrder.objects.count() == 1
    assert [s.kind for s in outcome.task.steps.order_by("seq")] == ["ack", "visit"]
    # and the same measure again is covered too
    again = propose(users.grid_worker, people.head, now=NOW)
    assert again.covered_by == strict


def test_a_stricter_proposal_is_not_covered_by_a_milder_order(users, people, v9):
    mild = _active(users.grid_worker, people.head, category="medium_risk_arrival")
    outcome = propose(users.grid_worker, people.head, now=NOW, category="close_contact")
    assert outcome.order is not None
    assert outcome.covered_by is None
    mild.refresh_from_db()
    assert mild.status == "active"  # replaced only when the stricter one is confirmed


def test_bulk_covers_a_repeated_person_within_the_same_call(users, people, v9):
    requests = [
        order_request(people.head, category="medium_risk_arrival", source_id="1"),
        order_request(people.head, source_id="2"),  # stricter: proposed too
        order_request(people.head, source_id="3"),  # same as the second: covered by it
    ]
    first, second, third = order_propose_bulk(actor=users.commander, requests=requests, now=NOW)
    assert first.order is not None
    assert second.order is not None
    assert third.order is None
    assert third.covered_by == second.order
    assert LoopTask.objects.count() == 3


def test_the_request_edition_wins_over_the_one_in_force(users, people, v9):
    v8 = make_edition("t-v8", rules=RULES_V8, issued_on=D(2021, 5, 14))
    outcome = propose(users.grid_worker, people.head, now=NOW, edition=v8)
    assert outcome.order.edition == v8
    assert outcome.order.end_date == D(2022, 7, 15)  # 14 days from 07-01


def test_bad_requests_write_nothing(users, people, v9):
    with pytest.raises(ValidationFailed) as exc:
        order_propose_bulk(
            actor=users.commander,
            requests=[
                order_request(people.head),
                order_request(people.other, division="610326999999999", category="nonsense"),
            ],
            now=NOW,
        )
    assert set(exc.value.errors) == {"division_code", "category"}
    assert not LoopTask.objects.exists()
    assert not AuditEvent.objects.exists()


def test_empty_request_list_does_nothing(users):
    assert order_propose_bulk(actor=users.commander, requests=[], now=NOW) == []
    assert not AuditEvent.objects.exists()


def test_bulk_uses_the_same_number_of_queries_for_5_or_300_requests(users, county, v9):
    people = many_people(305, grids=[county.grid_a, county.grid_b])
    # Every request on one of three dates; an existing order for some people.
    for person in people[:3]:
        propose(users.commander, person, now=NOW, category="low_risk_arrival")

    def requests(batch):
        return [
            order_request(p, anchor=D(2022, 7, 1) - dt.timedelta(days=i % 3), source_id=str(i))
            for i, p in enumerate(batch)
        ]

    with CaptureQueriesContext(connection) as small:
        order_propose_bulk(actor=users.commander, requests=requests(people[:5]), now=NOW)
    with CaptureQueriesContext(connection) as large:
        outcomes = order_propose_bulk(actor=users.commander, requests=requests(people[5:]), now=NOW)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 20
    assert sum(1 for o in outcomes if o.order) == 300
    assert LoopStep.objects.filter(task__in=[o.task for o in outcomes]).count() == 900


def test_bulk_query_count_is_bounded(users, county, v9, django_assert_max_num_queries):
    people = many_people(120, grids=[county.grid_a, county.grid_b])
    with django_assert_max_num_queries(20):
        order_propose_bulk(
            actor=users.commander,
            requests=[order_request(p, source_id=str(p.pk)) for p in people],
            now=NOW,
        )
    assert ControlOrder.objects.count() == 120
    assert AuditEvent.objects.filter(verb="control.order.propose_bulk").count() == 1


# --- order_confirm ---------------------------------------------------------------------------


def test_confirm_makes_the_order_active_and_records_it(users, people, v9):
    order = propose(users.grid_worker, people.head, now=NOW).order
    AuditEvent.objects.all().delete()
    confirmed = order_confirm(actor=users.village_officer, order=order, now=NOW)
    confirmed.refresh_from_db()
    assert confirmed.status == "active"
    assert (confirmed.confirmed_by, confirmed.confirmed_at) == (users.village_officer, NOW)
    event = confirmed.events.order_by("pk").last()
    assert (event.verb, event.from_status, event.to_status) == ("confirm", "proposed", "active")
    assert event.actor == users.village_officer
    audit = AuditEvent.objects.get()
    assert (audit.verb, audit.target_id) == ("control.order.confirm", str(order.pk))
    _assert_no_pii([people.head])


def test_confirm_with_a_changed_category_needs_a_reason(users, people, v9):
    order = propose(users.grid_worker, people.head, now=NOW).order
    with pytest.raises(ValidationFailed) as exc:
        order_confirm(
            actor=users.town_officer, order=order, category="medium_risk_arrival", now=NOW
        )
    assert "reason" in exc.value.errors
    order.refresh_from_db()
    assert order.status == "proposed"
    assert order.category == "high_risk_arrival"
    # with a reason, the plan is recomputed
    confirmed = order_confirm(
        actor=users.town_officer,
        order=order,
        category="medium_risk_arrival",
        reason="核实为中风险地区",
        now=NOW,
    )
    assert confirmed.category == "medium_risk_arrival"
    assert confirmed.phases[0]["kind"] == "home_isolation"
    assert confirmed.phases[0]["test_days"] == _days(2, 5, 8)
    event = confirmed.events.get(verb="confirm")
    assert event.reason == "核实为中风险地区"
    assert event.data["category"] == ["high_risk_arrival", "medium_risk_arrival"]


def test_confirm_refuses_an_anchor_in_the_future_and_an_unknown_category(users, people, v9):
    order = propose(users.grid_worker, people.head, now=NOW).order
    with pytest.raises(ValidationFailed) as exc:
        order_confirm(
            actor=users.commander, order=order, anchor_date=D(2022, 7, 9), reason="改", now=NOW
        )
    assert "anchor_date" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        order_confirm(actor=users.commander, order=order, category="entrant", reason="改", now=NOW)
    assert "category" in exc.value.errors  # not determined under this edition
    with pytest.raises(ValidationFailed) as exc:
        order_confirm(
            actor=users.commander, order=order, anchor_date=D(2022, 6, 1), reason="改", now=NOW
        )
    assert "届满" in exc.value.errors["anchor_date"][0]


def test_a_stricter_order_supersedes_the_active_one(users, people, v9):
    # given an active home-isolation order with its task still open
    mild_outcome = propose(users.grid_worker, people.head, now=NOW, category="medium_risk_arrival")
    mild = order_confirm(actor=users.grid_worker, order=mild_outcome.order, now=NOW)
    # when a close-contact order is proposed and confirmed
    strict = propose(users.grid_worker, people.head, now=NOW, category="close_contact").order
    order_confirm(actor=users.village_officer, order=strict, now=NOW)
    # then the mild order is superseded by it, its history says so and its task is closed
    mild.refresh_from_db()
    assert (mild.status, mild.superseded_by_id, mild.closed_at) == ("superseded", strict.pk, NOW)
    event = mild.events.get(verb="supersede")
    assert (event.from_status, event.to_status) == ("active", "superseded")
    assert LoopTask.objects.get(pk=mild_outcome.task.pk).status == TaskStatus.CANCELLED
    assert ControlOrder.objects.filter(person=people.head, status="active").get() == strict
    assert strict.events.get(verb="confirm").data["superseded"] == [mild.pk]


def test_a_milder_order_is_refused_while_a_stricter_one_is_active(users, people, v9):
    strict = _active(users.grid_worker, people.head)
    # a case order (stricter) proposed, then corrected to a medium-risk arrival (milder)
    other = propose(
        users.grid_worker, people.head, now=NOW, category="case", anchor=D(2022, 7, 2)
    ).order
    order_change(
        actor=users.commander,
        order=other,
        reason="复核为中风险地区来返",
        category="medium_risk_arrival",
        anchor_date=D(2022, 7, 1),
        now=NOW,
    )
    with pytest.raises(Conflict) as exc:
        order_confirm(actor=users.commander, order=other, now=NOW)
    assert f"#{strict.pk}" in str(exc.value.message)
    other.refresh_from_db()
    strict.refresh_from_db()
    assert (other.status, strict.status) == ("proposed", "active")


def test_an_equally_strict_order_is_refused_too(users, people, v9):
    strict = _active(users.grid_worker, people.head)
    twin = ControlOrder.objects.create(
        person=people.head,
        division=strict.division,
        category=strict.category,
        edition=strict.edition,
        counts_from=strict.counts_from,
        anchor_date=strict.anchor_date,
        start_date=strict.start_date,
        end_date=strict.end_date,
        phases=strict.phases,
        source_type="manual",
    )
    with pytest.raises(Conflict):
        order_confirm(actor=users.commander, order=twin, now=NOW)


def test_the_database_allows_one_active_order_per_person(users, people, v9):
    strict = _active(users.grid_worker, people.head)
    with pytest.raises(IntegrityError), transaction.atomic():
        ControlOrder.objects.create(
            person=people.head,
            division=strict.division,
            category=strict.category,
            edition=strict.edition,
            counts_from=strict.counts_from,
            anchor_date=strict.anchor_date,
            start_date=strict.start_date,
            phases=strict.phases,
            source_type="manual",
            status="active",
        )


def test_confirm_twice_is_a_conflict(users, people, v9):
    order = _active(users.grid_worker, people.head)
    with pytest.raises(Conflict):
        order_confirm(actor=users.grid_worker, order=order, now=NOW)


@pytest.mark.parametrize("role", ["leader", "epidemiologist", "lab_staff"])
def test_read_only_roles_may_not_confirm(users, people, v9, role):
    order = propose(users.grid_worker, people.head, now=NOW).order
    with pytest.raises(Forbidden):
        order_confirm(actor=getattr(users, role), order=order, now=NOW)
    order.refresh_from_db()
    assert order.status == "proposed"


@pytest.mark.parametrize("role", ["other_grid_worker", "other_town_officer"])
def test_out_of_scope_is_not_found(users, people, v9, role):
    order = propose(users.grid_worker, people.head, now=NOW).order
    with pytest.raises(NotFound):
        order_confirm(actor=getattr(users, role), order=order, now=NOW)
    with pytest.raises(NotFound):
        order_cancel(actor=getattr(users, role), order=order, reason="不应成功")


# --- editions never rewrite issued orders ----------------------------------------------------


def test_a_new_edition_applies_from_its_date_and_does_not_rewrite_orders(users, people, county, v9):
    # given an order issued under the 9th-edition rules
    order = propose(users.grid_worker, people.head, now=NOW).order
    before = list(order.phases)
    # when an edition with 14-day quarantine is activated from 07-01
    v8 = make_edition("t-v8", rules=RULES_V8, issued_on=D(2021, 5, 14))
    from fangkong.policy.models import EditionActivation

    EditionActivation.objects.create(
        edition=v8, jurisdiction=county.root, effective_from=D(2022, 7, 1)
    )
    # then the issued order keeps its phases ...
    order.refresh_from_db()
    assert order.phases == before
    assert order.edition == v9
    # ... a change of its anchor date is recomputed by its own edition (7 days, not 14) ...
    changed = order_change(
        actor=users.commander,
        order=order,
        reason="离开日期更正",
        anchor_date=D(2022, 6, 30),
        now=NOW,
    )
    assert changed.edition == v9
    assert changed.end_date == D(2022, 7, 7)
    # ... and a new proposal anchored after the activation follows the new edition.
    new = propose(users.grid_worker, people.other, now=NOW, anchor=D(2022, 7, 1)).order
    assert new.edition == v8
    assert new.end_date == D(2022, 7, 15)
    old = propose(users.grid_worker, people.spouse, now=NOW, anchor=D(2022, 6, 30)).order
    assert old.edition == v9


# --- order_change / cancel / transfer --------------------------------------------------------


def test_change_needs_a_reason_and_a_change(users, people, v9):
    order = _active(users.grid_worker, people.head)
    with pytest.raises(ValidationFailed) as exc:
        order_change(actor=users.commander, order=order, reason="", category="close_contact")
    assert "reason" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        order_change(actor=users.commander, order=order, reason="没有变化")
    assert "category" in exc.value.errors
    assert order.events.count() == 2  # propose, confirm


def test_change_keeps_the_status_and_writes_history(users, people, v9):
    order = _active(users.grid_worker, people.head)
    changed = order_change(
        actor=users.town_officer,
        order=order,
        reason="流调确认为密接",
        category="close_contact",
        anchor_date=D(2022, 6, 30),
        now=NOW,
    )
    assert changed.status == "active"
    assert changed.category == "close_contact"
    assert [p["kind"] for p in changed.phases] == ["centralized", "home_monitoring"]
    assert changed.current_phase == 0
    event = changed.events.get(verb="change")
    assert event.data["category"] == ["high_risk_arrival", "close_contact"]
    assert event.data["anchor_date"] == ["2022-07-01", "2022-06-30"]
    assert event.data["end_date"] == ["2022-07-08", "2022-07-10"]
    audit = AuditEvent.objects.get(verb="control.order.change")
    assert audit.data["changed"] == ["anchor_date", "category", "end_date"]


def test_cancel_closes_the_order_and_its_task(users, people, v9):
    outcome = propose(users.grid_worker, people.head, now=NOW)
    with pytest.raises(ValidationFailed):
        order_cancel(actor=users.village_officer, order=outcome.order, reason=" ")
    cancelled = order_cancel(
        actor=users.village_officer, order=outcome.order, reason="重复登记", now=NOW
    )
    assert (cancelled.status, cancelled.closed_at) == ("cancelled", NOW)
    assert LoopTask.objects.get(pk=outcome.task.pk).status == "cancelled"
    event = cancelled.events.get(verb="cancel")
    assert (event.from_status, event.to_status, event.reason) == (
        "proposed",
        "cancelled",
        "重复登记",
    )
    with pytest.raises(Conflict):
        order_cancel(actor=users.village_officer, order=cancelled, reason="再撤销")


def test_transfer_out_keeps_the_destination_on_the_order(users, people, v9):
    order = _active(users.grid_worker, people.head)
    done = order_transfer_out(
        actor=users.grid_worker, order=order, reason="返回西安居住", destination="610113"
    )
    assert done.status == "transferred_out"
    assert "610113" in done.note
    assert done.events.get(verb="transfer_out").data == {"destination_code": "610113"}


# --- release ---------------------------------------------------------------------------------


def test_release_is_refused_before_the_end_with_the_missing_conditions(users, people, v9):
    order = _active(users.grid_worker, people.head)  # 07-02 .. 07-08, last test 07-08
    with pytest.raises(ValidationFailed) as exc:
        order_release(actor=users.commander, order=order, today=D(2022, 7, 5))
    errors = exc.value.errors
    assert "2022-07-08" in errors["end_date"][0]
    assert "3" in errors["end_date"][0]
    assert "2022-07-06" in errors["test_days"][0]
    assert "2022-07-08" in errors["test_days"][0]
    assert "尚不能解除" in str(exc.value.message)
    order.refresh_from_db()
    assert order.status == "active"


def test_release_on_the_last_day(users, people, v9):
    order = _active(users.grid_worker, people.head)
    released = order_release(actor=users.commander, order=order, today=D(2022, 7, 8))
    assert released.status == "released"
    assert released.closed_at is not None
    assert released.events.get(verb="release").data == {"released_on": "2022-07-08"}
    assert AuditEvent.objects.filter(verb="control.order.release").count() == 1


def test_release_of_an_open_ended_measure_waits_for_its_conditions(users, people, v9):
    order = _active(users.grid_worker, people.head, category="case", anchor=D(2022, 7, 2))
    with pytest.raises(ValidationFailed) as exc:
        order_release(actor=users.commander, order=order, today=D(2023, 1, 1))
    assert "没有固定期限" in exc.value.errors["end_date"][0]


def test_only_active_orders_are_released(users, people, v9):
    order = propose(users.grid_worker, people.head, now=NOW).order
    with pytest.raises(Conflict):
        order_release(actor=users.commander, order=order, today=D(2022, 8, 1))


# --- phases ----------------------------------------------------------------------------------


def test_advance_phase_not_before_the_next_phase_starts(users, people, v9):
    order = _active(
        users.grid_worker, people.head, category="close_contact", anchor=D(2022, 7, 1)
    )  # centralized 07-02..07-08, home monitoring 07-09..07-11
    with pytest.raises(ValidationFailed) as exc:
        order_advance_phase(actor=users.grid_worker, order=order, today=D(2022, 7, 8))
    assert "2022-07-09" in exc.value.errors["phase"][0]
    moved = order_advance_phase(actor=users.grid_worker, order=order, today=D(2022, 7, 9))
    assert (moved.status, moved.current_phase) == ("phase_changed", 1)
    event = moved.events.get(verb="advance_phase")
    assert event.data == {"from_phase": 0, "to_phase": 1, "kind": "home_monitoring"}
    assert (event.from_status, event.to_status) == ("active", "phase_changed")
    with pytest.raises(Conflict):
        order_advance_phase(actor=users.grid_worker, order=moved, today=D(2022, 7, 10))
    # a phase-changed order is still the person's one active order
    assert ControlOrder.objects.get(person=people.head).is_active


def test_history_lists_every_change_in_order(users, people, v9):
    order = _active(users.grid_worker, people.head, category="close_contact")
    order_advance_phase(actor=users.grid_worker, order=order, today=D(2022, 7, 9))
    order_release(actor=users.grid_worker, order=order, today=D(2022, 7, 11))
    verbs = list(order.events.order_by("at", "pk").values_list("verb", "to_status"))
    assert verbs == [
        ("propose", "proposed"),
        ("confirm", "active"),
        ("advance_phase", "phase_changed"),
        ("release", "released"),
    ]
    assert ControlOrder.objects.get().status == OrderStatus.RELEASED
    _assert_no_pii([people.head])


def test_a_late_confirmation_starts_in_the_phase_of_the_day(users, people, v9):
    order = propose(users.grid_worker, people.head, now=NOW, category="close_contact").order
    later = NOW + dt.timedelta(days=8)  # 07-10: the home-monitoring phase (07-09..07-11)
    confirmed = order_confirm(actor=users.grid_worker, order=order, now=later)
    assert (confirmed.status, confirmed.current_phase) == ("active", 1)
