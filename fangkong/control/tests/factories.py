"""Factories for the control tests: an edition with known rules, requests, proposed orders.

The editions here are the tests' own (codes starting with "t-"), put in force for the county
by an activation, so the tests do not depend on how the national presets are encoded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.control.contracts import OrderOutcome, OrderRequest
from fangkong.control.services import order_propose_bulk
from fangkong.geo.models import Division
from fangkong.people.models import Person
from fangkong.policy.models import EditionActivation, PolicyEdition

# Shaped like the 9th edition (domain-rules.md §1.4).
RULES_V9: dict[str, Any] = {
    "close_contact": {
        "counts_from": "last_exposure",
        "phases": [
            {"kind": "centralized", "days": 7, "test_days": [1, 2, 3, 5, 7]},
            {"kind": "home_monitoring", "days": 3, "test_days": [3]},
        ],
    },
    "secondary_contact": {
        "counts_from": "last_exposure",
        "phases": [{"kind": "home_isolation", "days": 7, "test_days": [1, 4, 7]}],
        "release": {"wait_for_source_tests": 2},
    },
    "high_risk_arrival": {
        "counts_from": "left_area",
        "phases": [{"kind": "centralized", "days": 7, "test_days": [1, 2, 3, 5, 7]}],
    },
    "medium_risk_arrival": {
        "counts_from": "left_area",
        "phases": [{"kind": "home_isolation", "days": 7, "test_days": [1, 4, 7]}],
    },
    "low_risk_arrival": {
        "counts_from": "arrival",
        "phases": [{"kind": "tests_only", "days": 3, "test_days": [1, 3]}],
    },
    "case": {
        "counts_from": "diagnosis",
        "phases": [{"kind": "hospital", "days": None, "test_days": []}],
    },
}

# Shaped like the 8th edition: 14 days centralized for high-risk arrivals.
RULES_V8: dict[str, Any] = {
    "close_contact": {
        "counts_from": "last_exposure",
        "phases": [
            {"kind": "centralized", "days": 14, "test_days": [1, 4, 7, 14]},
            {"kind": "home_monitoring", "days": 7, "test_days": [2, 7]},
        ],
    },
    "high_risk_arrival": {
        "counts_from": "left_area",
        "phases": [{"kind": "centralized", "days": 14, "test_days": [1, 4, 7, 10, 14]}],
    },
}


def make_edition(
    code: str = "t-v9",
    *,
    rules: dict[str, Any] | None = None,
    issued_on: dt.date = dt.date(2022, 6, 28),
    activate_on: dt.date | None = None,
    county: Division | None = None,
) -> PolicyEdition:
    edition = PolicyEdition.objects.create(
        code=code,
        name=f"测试方案 {code}",
        short_name=code,
        issued_on=issued_on,
        rules=RULES_V9 if rules is None else rules,
        risk_levels=["high", "medium", "low"],
    )
    if activate_on is not None:
        root = county or Division.objects.get(level=0)
        EditionActivation.objects.create(
            edition=edition, jurisdiction=root, effective_from=activate_on
        )
    return edition


def order_request(
    person: Person,
    *,
    category: str | None = "high_risk_arrival",
    anchor: dt.date | None = dt.date(2022, 7, 1),
    found_on: dt.date = dt.date(2022, 7, 2),
    division: Division | str | None = None,
    source_type: str = "arrival",
    source_id: str = "1",
    title: str = "高风险地区来返：北京市朝阳区",
    **extra: Any,
) -> OrderRequest:
    if division is None:
        code = person.division_id
    else:
        code = division if isinstance(division, str) else division.code
    return OrderRequest(
        person_id=person.pk,
        division_code=code,
        category=category,
        anchor_date=anchor,
        found_on=found_on,
        source_type=source_type,
        source_id=source_id,
        title=title,
        **extra,
    )


def propose(
    actor: Any, person: Person, *, now: dt.datetime | None = None, **kw: Any
) -> OrderOutcome:
    return order_propose_bulk(actor=actor, requests=[order_request(person, **kw)], now=now)[0]


def many_people(n: int, *, grids: list[Division], prefix: str = "来返") -> list[Person]:
    """`n` people spread over `grids`, created in one INSERT, with valid ID numbers."""
    from fangkong.core.tests.idgen import make_resident_id

    existing = Person.objects.filter(name__startswith=prefix).count()
    Person.objects.bulk_create(
        [
            Person(
                name=f"{prefix}{existing + i}",
                id_number=make_resident_id(
                    "610326", dt.date(1960, 1, 1) + dt.timedelta(days=existing + i), i % 999
                ),
                division=grids[i % len(grids)],
            )
            for i in range(n)
        ]
    )
    return list(Person.objects.filter(name__startswith=prefix).order_by("pk")[existing:])
