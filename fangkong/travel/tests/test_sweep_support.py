"""Shared set-up for the sweep and risk-area tests: a known edition in force, arrivals.

The county activates a small edition of its own (`SWEEP_RULES`) so that the expected dates do
not depend on the national presets: a high-risk arrival serves 7 days of centralized
quarantine then 7 of home monitoring, counted from the day they left the area.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.people.models import Person
from fangkong.policy.models import EditionActivation, PolicyEdition
from fangkong.travel.models import TravelRegistration

TODAY = local_today()

SWEEP_RULES: dict[str, Any] = {
    "high_risk_arrival": {
        "counts_from": "left_area",
        "phases": [
            {"kind": "centralized", "days": 7, "test_days": [1, 3, 5, 7]},
            {"kind": "home_monitoring", "days": 7, "test_days": [2, 7]},
        ],
    },
    "medium_risk_arrival": {
        "counts_from": "left_area",
        "phases": [{"kind": "home_monitoring", "days": 7, "test_days": [1, 7]}],
    },
    "low_risk_arrival": {
        "counts_from": "arrival",
        "phases": [{"kind": "tests_only", "days": 3, "test_days": [1, 3]}],
    },
    "close_contact": {
        "counts_from": "last_exposure",
        "phases": [{"kind": "centralized", "days": 14, "test_days": [1, 7, 14]}],
    },
}
DOWNGRADE_RULES = [
    {"from": "high", "to": "medium", "days": 7, "screening": True},
    {"from": "medium", "to": "low", "days": 7, "screening": True},
    {"from": "low", "to": None, "days": 3, "screening": False},
]


def days(n: int) -> dt.date:
    """TODAY + n days (n < 0: in the past)."""
    return TODAY + dt.timedelta(days=n)


def activate_edition(county: Any, rules: dict[str, Any] | None = None) -> PolicyEdition:
    edition = PolicyEdition.objects.create(
        code="county-sweep-test",
        name="测试方案",
        short_name="测试方案",
        issued_on=dt.date(2020, 1, 1),
        kind=PolicyEdition.Kind.NATIONAL,
        risk_levels=["high", "medium", "low"],
        downgrade_rules=DOWNGRADE_RULES,
        rules=SWEEP_RULES if rules is None else rules,
    )
    EditionActivation.objects.create(
        edition=edition, jurisdiction=county.root, effective_from=dt.date(2020, 1, 2)
    )
    return edition


_seq = itertools.count(100)


def make_person(county: Any, name: str = "来返人员") -> Person:
    n = next(_seq)
    return Person.objects.create(
        name=f"{name}{n}",
        id_number=make_resident_id("110105", dt.date(1985, 1, 1) + dt.timedelta(days=n), n % 999),
        sex="M",
        phone=f"139{n:08d}",
        division=county.grid_a,
        address="眉县齐镇齐镇村一组",
    )


def make_arrival(
    county: Any,
    *,
    left_on: dt.date,
    arrived_on: dt.date | None = None,
    origin_code: str = "110105",
    origin_address: str = "",
    channel: str = "self_report",
    person: Person | None = None,
    division: Any = None,
    outside_code: str = "",
    risk_level: str = "",
) -> TravelRegistration:
    person = person or make_person(county)
    outside = bool(outside_code)
    return TravelRegistration.objects.create(
        person=person,
        channel=channel,
        reported_name=person.name,
        origin_code=origin_code,
        origin_name="北京市朝阳区",
        origin_address=origin_address,
        left_on=left_on,
        arrived_on=arrived_on or left_on,
        transport="train",
        destination_division=None if outside else (division or county.grid_a),
        outside_county=outside,
        outside_code=outside_code,
        destination_address="江苏省南京市玄武区" if outside else "齐镇村一组",
        risk_level=risk_level,
    )
