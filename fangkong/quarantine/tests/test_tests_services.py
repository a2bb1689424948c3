"""tasks_sync, sampling and results."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.quarantine.models import Alert, SamplingTask
from fangkong.quarantine.services_tests import (
    sampling_mark_sampled,
    sampling_result_record,
    tasks_sync,
)

from .helpers_tests import NOW, at, check_in, contact_pair, make_order, make_site, site_staff

pytestmark = pytest.mark.django_db


def _days(order):
    return [
        (t.due_date.isoformat(), t.phase_index, t.phase_kind, t.required_results)
        for t in SamplingTask.objects.filter(order=order)
    ]


def test_sync_makes_one_task_per_test_day_v9(people):
    order = make_order(people.head, code="v9")
    assert tasks_sync(now=NOW) == 6
    assert _days(order) == [
        ("2022-07-02", 0, "centralized", 1),
        ("2022-07-03", 0, "centralized", 1),
        ("2022-07-04", 0, "centralized", 1),
        ("2022-07-06", 0, "centralized", 1),
        ("2022-07-08", 0, "centralized", 1),
        ("2022-07-11", 1, "home_monitoring", 1),
    ]
    assert all(t.division_id == people.head.division_id for t in SamplingTask.objects.all())
    # Idempotent: nothing more the second time.
    assert tasks_sync(now=NOW) == 0
    assert SamplingTask.objects.count() == 6


def test_sync_v8_double_test_on_the_last_day_only(people):
    order = make_order(people.head, code="v8")
    tasks_sync(now=NOW)
    days = _days(order)
    assert [d for d, *_rest in days] == [
        "2022-07-02",
        "2022-07-05",
        "2022-07-08",
        "2022-07-15",
        "2022-07-17",
        "2022-07-22",
    ]
    assert [r for *_rest, r in days] == [1, 1, 1, 1, 1, 2]


def test_sync_fills_in_the_site_when_a_stay_appears(county, people):
    order = make_order(people.head)
    tasks_sync(now=NOW)
    assert not SamplingTask.objects.filter(site__isnull=False).exists()
    site = make_site(county)
    check_in(order, site)
    assert tasks_sync(now=NOW) == 5  # the five centralized days, not the home one
    assert SamplingTask.objects.filter(site=site).count() == 5
    assert SamplingTask.objects.get(phase_kind="home_monitoring").site_id is None


def test_sync_query_count_does_not_grow_with_orders(people):
    make_order(people.head)
    with CaptureQueriesContext(connection) as one:
        tasks_sync(now=NOW)
    SamplingTask.objects.all().delete()
    make_order(people.spouse)
    make_order(people.other)
    with CaptureQueriesContext(connection) as three:
        tasks_sync(now=NOW)
    assert len(three) == len(one)
    assert SamplingTask.objects.count() == 18


def test_sync_cancels_pending_tasks_of_orders_no_longer_active(people):
    order = make_order(people.head)
    tasks_sync(now=NOW)
    ControlOrder.objects.filter(pk=order.pk).update(status="cancelled")
    assert tasks_sync(now=NOW) == 6
    assert set(SamplingTask.objects.values_list("status", flat=True)) == {"cancelled"}


def test_overdue_task_raises_one_missed_test_alert(people):
    order = make_order(people.head)
    tasks_sync(now=NOW)
    later = at(dt.date(2022, 7, 3), 10)  # 07-02 is past, 07-03 is today
    tasks_sync(now=later)
    alerts = Alert.objects.filter(kind="missed_test")
    assert [(a.order_id, a.day.isoformat()) for a in alerts] == [(order.pk, "2022-07-02")]
    assert alerts[0].task.due_date == dt.date(2022, 7, 2)
    assert tasks_sync(now=later) == 0
    assert Alert.objects.filter(kind="missed_test").count() == 1


def test_sampled_then_result_by_lab_staff(users, people):
    make_order(people.head)
    tasks_sync(now=NOW)
    task = SamplingTask.objects.first()
    task = sampling_mark_sampled(actor=users.lab_staff, task=task, tube_code="T-001", now=NOW)
    assert (task.status, task.tube_code) == ("sampled", "T-001")
    task = sampling_result_record(
        actor=users.lab_staff,
        task=task,
        result="negative",
        ct_values={"N": 38, "ORF1ab": 40},
        now=NOW,
    )
    task.refresh_from_db()
    assert (task.status, task.result, task.ct_values) == (
        "resulted",
        "negative",
        {"N": 38.0, "ORF1ab": 40.0},
    )
    with pytest.raises(Conflict):
        sampling_result_record(actor=users.lab_staff, task=task, result="positive", now=NOW)


def test_result_refusals(users, people):
    make_order(people.head, code="v8")
    tasks_sync(now=NOW)
    single, *_middle, double = list(SamplingTask.objects.order_by("due_date"))
    with pytest.raises(ValidationFailed) as bad:
        sampling_result_record(actor=users.grid_worker, task=single, result="maybe", now=NOW)
    assert "result" in bad.value.errors
    with pytest.raises(ValidationFailed) as ct:
        sampling_result_record(
            actor=users.grid_worker, task=single, result="negative", ct_values={"N": 50}, now=NOW
        )
    assert "ct_values" in ct.value.errors
    with pytest.raises(ValidationFailed) as second:
        sampling_result_record(
            actor=users.grid_worker, task=single, result="negative", result_2="negative", now=NOW
        )
    assert "result_2" in second.value.errors
    with pytest.raises(ValidationFailed) as missing_second:
        sampling_result_record(actor=users.grid_worker, task=double, result="negative", now=NOW)
    assert "result_2" in missing_second.value.errors
    with pytest.raises(Forbidden):
        sampling_result_record(actor=users.leader, task=single, result="negative", now=NOW)
    with pytest.raises(NotFound):  # another grid's worker: looks like missing
        sampling_result_record(
            actor=users.other_grid_worker, task=single, result="negative", now=NOW
        )
    single.refresh_from_db()
    assert single.status == "pending"
    assert single.result == ""


def test_site_staff_record_at_their_site_only(county, people):
    order = make_order(people.head)
    site = make_site(county)
    other = make_site(county, "另一隔离点")
    check_in(order, site)
    tasks_sync(now=NOW)
    task = SamplingTask.objects.filter(site=site).first()
    with pytest.raises(NotFound):
        sampling_mark_sampled(actor=site_staff(other, "site_b"), task=task, now=NOW)
    task = sampling_mark_sampled(actor=site_staff(site), task=task, now=NOW)
    assert task.status == "sampled"


def test_positive_alerts_and_upgrades_the_secondary_contact(users, people):
    close, secondary = contact_pair(people)
    order = make_order(people.head, source_type="contact", source_id=str(close.pk))
    sec_order = make_order(
        people.spouse,
        category="secondary_contact",
        source_type="contact",
        source_id=str(secondary.pk),
    )
    tasks_sync(now=NOW)
    task = SamplingTask.objects.filter(order=order).first()
    sampling_result_record(actor=users.commander, task=task, result="positive", now=NOW)
    alert = Alert.objects.get(kind="positive")
    assert (alert.order_id, alert.handed_over_at) == (order.pk, NOW)
    upgraded = ControlOrder.objects.get(person=people.spouse, category="close_contact")
    assert upgraded.status == "proposed"
    assert (upgraded.source_type, upgraded.source_id) == ("contact", str(secondary.pk))
    assert ControlOrder.objects.get(pk=sec_order.pk).status == "active"
