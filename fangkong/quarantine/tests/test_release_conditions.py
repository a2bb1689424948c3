"""Release conditions, release with certificate, under the 8th and the 9th editions."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import ValidationFailed
from fangkong.quarantine.models import Certificate, Room, SamplingTask, Stay
from fangkong.quarantine.release import release_conditions
from fangkong.quarantine.services_tests import order_release_certify, tasks_sync

from .helpers_tests import (
    NOW,
    at,
    check_in,
    contact_pair,
    make_order,
    make_site,
    resolve_all,
    site_staff,
)

pytestmark = pytest.mark.django_db

END = {"v8": dt.date(2022, 7, 22), "v9": dt.date(2022, 7, 11)}


@pytest.mark.parametrize("code", ["v8", "v9"])
def test_required_tests_refused_then_satisfied(users, people, code):
    order = make_order(people.head, code=code)
    tasks_sync(now=NOW)
    end = END[code]
    missing = release_conditions(order=order, today=end)
    assert "检测结果未出" in missing["tests"][0]
    assert missing["tests"][0].startswith("第 1、")
    with pytest.raises(ValidationFailed) as refused:
        order_release_certify(actor=users.grid_worker, order=order, now=at(end, 10))
    assert "tests" in refused.value.errors
    resolve_all(order)
    if code == "v8":  # double test: one of the two swabs positive is not negative
        last = SamplingTask.objects.get(order=order, required_results=2)
        last.result_2 = "positive"
        last.save()
        assert "阳性" in release_conditions(order=order, today=end)["tests"][0]
        last.result_2 = "negative"
        last.save()
    assert release_conditions(order=order, today=end) == {}
    certificate = order_release_certify(actor=users.grid_worker, order=order, now=at(end, 10))
    assert ControlOrder.objects.get(pk=order.pk).status == "released"
    assert (certificate.start_date, certificate.end_date) == (order.start_date, end)
    assert certificate.number == "眉解隔〔2022〕1号"


@pytest.mark.parametrize("code", ["v8", "v9"])
def test_secondary_waits_for_its_close_contacts_first_two_tests(users, people, code):
    close, secondary = contact_pair(people)
    close_order = make_order(people.head, code=code, source_type="contact", source_id=str(close.pk))
    order = make_order(
        people.spouse,
        code=code,
        category="secondary_contact",
        source_type="contact",
        source_id=str(secondary.pk),
    )
    tasks_sync(now=NOW)
    resolve_all(order)
    release_day = order.end_date
    missing = release_conditions(order=order, today=release_day)
    assert missing == {"source_tests": ["须待对应密接前 2 次检测结果阴性"]}
    first, second, *_rest = SamplingTask.objects.filter(order=close_order).order_by("due_date")
    resolve_all(close_order, until=first.due_date)
    assert "source_tests" in release_conditions(order=order, today=release_day)
    resolve_all(close_order, until=second.due_date)
    assert release_conditions(order=order, today=release_day) == {}
    certificate = order_release_certify(
        actor=users.village_officer, order=order, now=at(release_day, 10)
    )
    assert certificate.order_id == order.pk


@pytest.mark.parametrize("code", ["v8", "v9"])
def test_case_needs_two_ct_results_24_hours_apart(people, code):
    order = make_order(people.other, code=code, category="case")
    assert "ct_values" in release_conditions(order=order, today=dt.date(2022, 7, 20))

    def result(day: dt.date, hour: int, ct: float) -> None:
        SamplingTask.objects.create(
            order=order,
            person=people.other,
            due_date=day,
            phase_index=0,
            phase_kind="hospital",
            division_id=order.division_id,
            status="resulted",
            result="positive",
            ct_values={"N": ct, "ORF1ab": 36},
            sampled_at=at(day, hour),
            resulted_at=at(day, hour + 4),
        )

    result(dt.date(2022, 7, 10), 8, 36)
    result(dt.date(2022, 7, 11), 7, 37)  # 23 hours later: too soon
    assert "ct_values" in release_conditions(order=order, today=dt.date(2022, 7, 20))
    result(dt.date(2022, 7, 12), 8, 30)  # Ct below 35: does not count
    assert "ct_values" in release_conditions(order=order, today=dt.date(2022, 7, 20))
    result(dt.date(2022, 7, 13), 9, 35)
    assert release_conditions(order=order, today=dt.date(2022, 7, 20)) == {}


def test_site_staff_release_checks_out_and_numbers_go_up(county, users, people):
    site = make_site(county)
    staff = site_staff(site)
    first = make_order(people.head)
    second = make_order(people.spouse)
    stay = check_in(first, site, "101")
    check_in(second, site, "102")
    tasks_sync(now=NOW)
    resolve_all(first)
    resolve_all(second)
    release = at(dt.date(2022, 7, 11), 10)
    one = order_release_certify(actor=staff, order=first, now=release)
    stay.refresh_from_db()
    assert (stay.out_reason, stay.checked_out_at) == ("release", release)
    assert Room.objects.get(site=site, number="101").status == "disinfection"
    two = order_release_certify(actor=users.grid_worker, order=second, now=release)
    assert [one.number, two.number] == ["眉解隔〔2022〕1号", "眉解隔〔2022〕2号"]
    assert one.verify_code != two.verify_code
    assert len(one.verify_code) >= 20
    assert not Stay.objects.filter(checked_out_at__isnull=True).exists()
    assert Certificate.objects.count() == 2


def test_site_staff_cannot_release_someone_not_at_their_site(county, people):
    from fangkong.core.exceptions import Forbidden

    staff = site_staff(make_site(county))
    order = make_order(people.head)
    tasks_sync(now=NOW)
    resolve_all(order)
    with pytest.raises(Forbidden):
        order_release_certify(actor=staff, order=order, now=at(dt.date(2022, 7, 11), 10))
    assert ControlOrder.objects.get(pk=order.pk).status == "active"
