"""Fixtures of the health tests: orders under home measures, a fake clock, site staff."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from types import SimpleNamespace

import pytest

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, OrderStatus
from fangkong.control.tests.factories import make_edition
from fangkong.core import timeutils
from fangkong.quarantine.models import Room, Site, SiteStaff, Stay

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2022, 7, 2, 9, 0, tzinfo=TZ)


def make_order(person, *, start: dt.date, kind: str = "home_isolation", status=OrderStatus.ACTIVE):
    edition = make_edition_once()
    end = start + dt.timedelta(days=6)
    return ControlOrder.objects.create(
        person=person,
        division_id=person.division_id,
        category="medium_risk_arrival",
        edition=edition,
        counts_from="left_area",
        anchor_date=start,
        start_date=start,
        end_date=end,
        phases=[
            {
                "kind": kind,
                "days": 7,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "test_days": [],
            }
        ],
        status=status,
        source_type="manual",
    )


def make_edition_once():
    from fangkong.policy.models import PolicyEdition

    return PolicyEdition.objects.filter(code="t-h2").first() or make_edition("t-h2")


@pytest.fixture(name="orders")
def orders_fixture(county, people) -> SimpleNamespace:
    """Orders started 2022-06-30 (for the fake clock) in grid A1a and grid B1a."""
    start = dt.date(2022, 6, 30)
    return SimpleNamespace(
        head=make_order(people.head, start=start),
        spouse=make_order(people.spouse, start=start),
        other=make_order(people.other, start=start),
    )


@pytest.fixture(name="live_orders")
def live_orders_fixture(county, people) -> SimpleNamespace:
    """Orders started yesterday by the real clock (pages and the API use it)."""
    start = timeutils.local_today() - dt.timedelta(days=1)
    return SimpleNamespace(
        head=make_order(people.head, start=start), other=make_order(people.other, start=start)
    )


@pytest.fixture(name="site_staff")
def site_staff_fixture(county, people, orders) -> SimpleNamespace:
    site = Site.objects.create(
        name="测试宾馆",
        kind="hotel",
        division=county.town_a,
        address="齐镇1号",
        manager_name="负责人",
        manager_phone="13800000009",
    )
    room = Room.objects.create(site=site, number="101")
    user = User(username="site1", role=Role.SITE_STAFF, jurisdiction=county.town_a)
    user.set_password("x-Fangkong-2020")
    user.save()
    SiteStaff.objects.create(site=site, user=user, duty="medical")
    Stay.objects.create(
        order=orders.other, person=people.other, site=site, room=room, checked_in_at=NOW
    )
    return SimpleNamespace(site=site, room=room, user=user)


def test_make_order_is_active(orders):
    assert orders.head.status == OrderStatus.ACTIVE
