"""Place.longest_stay_minutes: no check-in at a place lasts longer (contact tracing bounds its
index scan with it). Set at creation, raised by every write that records a longer stay, never
lowered; the data migration fills it for existing places."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from fangkong.core.tests.idgen import make_resident_id
from fangkong.places.models import CheckIn, Place
from fangkong.places.selectors_checkins import checkin_place
from fangkong.places.services_checkins import (
    checkin_checkout,
    checkin_record,
    checkin_record_bulk,
)
from fangkong.places.services_places import place_create, place_update, stay_rule_set

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2022, 4, 1, 10, 0, tzinfo=TZ)
ID1 = make_resident_id("610326", dt.date(1980, 5, 1), 11)


def _market(users, county) -> Place:
    return place_create(
        actor=users.commander,
        name="齐镇农贸市场",
        kind="market",
        division_code=county.village_a.code,
        address="眉县齐镇街道12号",
    )


def _bound(place: Place) -> int:
    return Place.objects.get(pk=place.pk).longest_stay_minutes


def test_new_place_gets_its_kinds_cap_and_a_kind_change_raises_it(users, county):
    place = _market(users, county)
    assert _bound(place) == 240  # the market's default cap
    place_update(actor=users.commander, place=place, changes={"kind": "hotel"})
    assert _bound(place) == 1440
    place_update(actor=users.commander, place=place, changes={"kind": "pharmacy"})
    assert _bound(place) == 1440  # never lowered: older stays may be that long


def test_a_raised_stay_rule_cap_raises_the_places_of_that_kind(users, county):
    place = _market(users, county)
    stay_rule_set(actor=users.commander, kind="market", stay_minutes=60, cap_minutes=600)
    assert _bound(place) == 600
    stay_rule_set(actor=users.commander, kind="market", stay_minutes=60, cap_minutes=120)
    assert _bound(place) == 600


def test_a_late_scan_out_and_a_batch_with_long_stays_raise_it(users, county):
    place = _market(users, county)
    scanned = checkin_place(code=place.code)
    checkin, _ = checkin_record(
        actor=None, place=scanned, data={"name": "赵六", "id_number": ID1}, now=NOW
    )
    checkin_checkout(
        actor=None, checkin=checkin, at=NOW + dt.timedelta(hours=7), now=NOW + dt.timedelta(hours=8)
    )
    assert _bound(place) == 420
    outcome = checkin_record_bulk(
        actor=users.commander,
        rows=[
            {
                "place_code": place.code,
                "name": "赵六",
                "id_number": ID1,
                "checked_in_at": "2022-03-30 08:00",
                "checked_out_at": "2022-03-31 09:30:20",  # 25 h 30 min 20 s: 1531 minutes
            }
        ],
        now=NOW,
    )
    assert outcome.created == 1
    assert _bound(place) == 1531
    longest = max(c.checked_out_at - c.checked_in_at for c in CheckIn.objects.all())
    assert _bound(place) * 60 >= longest.total_seconds()


def test_an_explicit_long_stay_through_the_single_record_raises_it(users, county):
    place = _market(users, county)
    checkin_record(
        actor=users.commander,
        place=place,
        data={
            "name": "赵六",
            "id_number": ID1,
            "checked_in_at": "2022-03-31 08:00",
            "checked_out_at": "2022-03-31 20:00",
        },
        now=NOW,
    )
    assert _bound(place) == 720


def test_the_data_migration_fills_existing_places_from_their_check_ins(users, county):
    place = _market(users, county)
    other = _market(users, county)
    CheckIn.objects.create(
        place=place,
        name="赵六",
        id_number=ID1,
        checked_in_at=NOW - dt.timedelta(hours=30),
        checked_out_at=NOW,
        out_imputed=False,
        source="import",
    )
    Place.objects.update(longest_stay_minutes=0)
    migration = importlib.import_module("fangkong.places.migrations.0002_place_longest_stay")
    migration.fill(apps, None)
    assert (_bound(place), _bound(other)) == (1800, 240)
