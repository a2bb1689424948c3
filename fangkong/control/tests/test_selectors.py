"""control selectors: the data scope on orders and tasks, the inbox, the overview counts, and
the number of queries each takes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.control.models import LoopStep
from fangkong.control.presenters import order_display, task_display
from fangkong.control.selectors import (
    access_order_by_id,
    access_step_by_id,
    access_task_by_id,
    escalated_steps,
    inbox,
    loop_overview,
    order_list,
    orders_for_person,
)
from fangkong.control.services import loop_escalate, loop_step_complete, order_cancel
from fangkong.core.exceptions import NotFound

from .conftest import NOW
from .factories import many_people, propose

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


@pytest.fixture
def world(users, people, county, v9):
    """Orders and tasks in grid A1a (two people), grid A1b (none) and grid B1a (one)."""
    head = propose(users.commander, people.head, now=NOW)
    spouse = propose(users.commander, people.spouse, now=NOW + 3 * H, category="low_risk_arrival")
    other = propose(users.commander, people.other, now=NOW)
    return {"head": head, "spouse": spouse, "other": other}


SEES = {
    "grid_worker": {"head", "spouse"},
    "other_grid_worker": {"other"},
    "village_officer": {"head", "spouse"},
    "town_officer": {"head", "spouse"},
    "other_town_officer": {"other"},
    "commander": {"head", "spouse", "other"},
    "leader": {"head", "spouse", "other"},
    "epidemiologist": {"head", "spouse", "other"},
    "admin": {"head", "spouse", "other"},
}


@pytest.mark.parametrize("role", sorted(SEES))
def test_order_list_and_inbox_follow_the_scope(users, world, role):
    viewer = getattr(users, role)
    orders = {o.pk for o in order_list(viewer=viewer)}
    tasks = {t.pk for t in inbox(viewer=viewer, now=NOW)}
    assert orders == {world[k].order.pk for k in SEES[role]}
    assert tasks == {world[k].task.pk for k in SEES[role]}


def test_anonymous_sees_nothing(world):
    assert not order_list(viewer=AnonymousUser()).exists()
    assert not inbox(viewer=AnonymousUser()).exists()


@pytest.mark.parametrize("role", ["other_grid_worker", "other_town_officer"])
def test_access_out_of_scope_is_not_found(users, world, role):
    viewer = getattr(users, role)
    with pytest.raises(NotFound):
        access_order_by_id(viewer=viewer, order_id=world["head"].order.pk)
    with pytest.raises(NotFound):
        access_task_by_id(viewer=viewer, task_id=world["head"].task.pk)
    step = world["head"].task.steps.first()
    with pytest.raises(NotFound):
        access_step_by_id(viewer=viewer, step_id=step.pk)


def test_access_missing_or_malformed_is_not_found(users, world):
    for bad in (999999, "abc", None):
        with pytest.raises(NotFound):
            access_order_by_id(viewer=users.commander, order_id=bad)


def test_order_list_filters(users, world, county, people):
    commander = users.commander
    assert order_list(viewer=commander, category="low_risk_arrival").get() == world["spouse"].order
    assert order_list(viewer=commander, division=county.town_b.code).get() == world["other"].order
    assert order_list(viewer=commander, status="active").count() == 0
    assert order_list(viewer=commander, status="open").count() == 3
    order_cancel(actor=commander, order=world["other"].order, reason="登记有误")
    assert order_list(viewer=commander, status="cancelled").get() == world["other"].order
    assert list(orders_for_person(viewer=commander, person_id=people.head.pk)) == [
        world["head"].order
    ]
    assert not orders_for_person(viewer=users.other_grid_worker, person_id=people.head.pk).exists()


def test_inbox_holds_open_tasks_most_urgent_first(users, world, people, v9):
    # given a third task in grid A1a, opened before the others, and the head's ack done
    early = propose(users.commander, people.head, now=NOW - 5 * H, category=None, anchor=None)
    head_ack = world["head"].task.steps.get(kind="ack")
    loop_step_complete(actor=users.grid_worker, step=head_ack, now=NOW)
    # when the grid worker opens the inbox 2 h 30 min after NOW
    tasks = list(inbox(viewer=users.grid_worker, now=NOW + 2.5 * H))
    # then: the early task (ack overdue since NOW - 3 h) first; the spouse's (ack due NOW + 5 h)
    # last: the head's next deadline is its visit at NOW + 12 h
    assert [t.pk for t in tasks] == [early.task.pk, world["spouse"].task.pk, world["head"].task.pk]
    assert [t.is_overdue for t in tasks] == [True, False, False]
    # a closed task leaves the inbox
    order_cancel(actor=users.commander, order=world["spouse"].order, reason="登记有误")
    assert world["spouse"].task.pk not in {t.pk for t in inbox(viewer=users.grid_worker)}


def test_inbox_queries_do_not_grow_with_the_tasks(
    users, world, county, v9, django_assert_max_num_queries
):
    for person in many_people(30, grids=[county.grid_a]):
        propose(users.commander, person, now=NOW)
    with django_assert_max_num_queries(4):
        cards = [
            task_display(viewer=users.grid_worker, task=t, now=NOW)
            for t in inbox(viewer=users.grid_worker, now=NOW)
        ]
    assert len(cards) == 32
    assert cards[0]["person"]["phone"] is not None


def test_order_list_queries_do_not_grow(users, world, county, django_assert_max_num_queries):
    for person in many_people(20, grids=[county.grid_b]):
        propose(users.commander, person, now=NOW)
    with django_assert_max_num_queries(2):
        rows = [
            order_display(viewer=users.leader, order=o) for o in order_list(viewer=users.leader)
        ]
    assert len(rows) == 23
    assert all("*" in r["person"]["name"] for r in rows)  # the leader sees surnames only


# --- overview --------------------------------------------------------------------------------


def test_overview_counts_per_child_division(users, world, county):
    # at NOW + 3 h: the head's and the other's ack are 1 h late, the spouse's is not
    loop_escalate(now=NOW + 3 * H)
    data = loop_overview(viewer=users.commander, now=NOW + 3 * H)
    assert data.division == county.root
    rows = {r.code: r for r in data.rows}
    assert set(rows) == {county.town_a.code, county.town_b.code}
    a, b = rows[county.town_a.code], rows[county.town_b.code]
    assert (a.open_tasks, a.overdue_ack, a.overdue_visit, a.overdue_in_place) == (2, 1, 0, 0)
    assert (a.escalated_village, a.escalated_town, a.escalated_county) == (1, 0, 0)
    assert (b.open_tasks, b.overdue_ack, b.escalated_village) == (1, 1, 1)
    assert (data.total.open_tasks, data.total.overdue, data.total.escalated) == (3, 2, 2)


def test_overview_drills_down_to_the_grids(users, world, county):
    # At NOW + 30 h every step in grid A1a is late: the acks and visits by 12 h or more (county),
    # the head's "in place" by 6 h (town), the spouse's (opened 3 h later) by 3 h (village).
    at = NOW + 30 * H
    loop_escalate(now=at)
    village = loop_overview(viewer=users.town_officer, division=county.village_a.code, now=at)
    rows = {r.code: r for r in village.rows}
    assert set(rows) == {county.grid_a.code, county.grid_a2.code}
    grid = rows[county.grid_a.code]
    assert (grid.open_tasks, grid.overdue_ack, grid.overdue_visit, grid.overdue_in_place) == (
        2,
        2,
        2,
        2,
    )
    assert (grid.escalated_village, grid.escalated_town, grid.escalated_county) == (1, 1, 4)
    assert rows[county.grid_a2.code].open_tasks == 0
    assert [d.code for d in village.ancestors] == [
        county.root.code,
        county.town_a.code,
        county.village_a.code,
    ]
    # a grid has no children: it is its own row
    one = loop_overview(viewer=users.grid_worker, now=at)
    assert one.division == county.grid_a
    assert [r.code for r in one.rows] == [county.grid_a.code]


def test_overview_of_a_town_out_of_scope_is_not_found(users, world, county):
    with pytest.raises(NotFound):
        loop_overview(viewer=users.other_town_officer, division=county.town_a.code)
    # the town officer's default is their town
    data = loop_overview(viewer=users.town_officer, now=NOW)
    assert data.division == county.town_a
    assert [r.code for r in data.rows] == [county.village_a.code]


def test_overview_queries_do_not_grow(users, world, county, django_assert_max_num_queries):
    for person in many_people(25, grids=[county.grid_b]):
        propose(users.commander, person, now=NOW)
    with django_assert_max_num_queries(6):
        data = loop_overview(viewer=users.commander, now=NOW + 30 * H)
    assert data.total.open_tasks == 28


# --- escalated steps -------------------------------------------------------------------------


def test_escalated_steps_at_each_level(users, world, county):
    loop_escalate(now=NOW + 7 * H)  # head/other ack: town (5 h late); spouse ack: village (2 h)
    village = list(escalated_steps(viewer=users.village_officer, level=1))
    assert {s.task_id for s in village} == {world["head"].task.pk, world["spouse"].task.pk}
    town = list(escalated_steps(viewer=users.town_officer, level=2))
    assert [s.task_id for s in town] == [world["head"].task.pk]
    county_level = list(escalated_steps(viewer=users.commander, level=3))
    assert county_level == []
    everyone = escalated_steps(viewer=users.commander, level=2)
    assert {s.task_id for s in everyone} == {world["head"].task.pk, world["other"].task.pk}
    # within a division
    only_b = escalated_steps(viewer=users.commander, level=1, division=county.town_b.code)
    assert {s.task_id for s in only_b} == {world["other"].task.pk}


def test_escalated_steps_leave_when_done(users, world):
    loop_escalate(now=NOW + 7 * H)
    step = LoopStep.objects.get(task=world["head"].task, kind="ack")
    loop_step_complete(actor=users.grid_worker, step=step, now=NOW + 7 * H)
    ids = {s.pk for s in escalated_steps(viewer=users.village_officer, level=1)}
    assert step.pk not in ids
