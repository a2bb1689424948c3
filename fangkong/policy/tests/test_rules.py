"""policy.rules: day counting, late-found people, strictness, arrival categories, downgrades."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.policy.rules import (
    RuleError,
    category_for_arrival,
    downgrade_proposal,
    parse_rule,
    parse_rules,
    plan_measure,
    plan_severity,
    rule_for,
)

from .factories import edition

D = dt.date


def _dates(*days: int, month: int = 7) -> tuple[dt.date, ...]:
    return tuple(D(2022, month, d) for d in days)


# --- day counting -------------------------------------------------------------------------------


def test_day_one_is_the_day_after_the_anchor(db):
    rule = rule_for(edition("v9"), "close_contact")
    plan = plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 1))
    assert plan is not None
    cent, hhm = plan.phases
    assert (cent.kind, cent.start, cent.end) == ("centralized", D(2022, 7, 2), D(2022, 7, 8))
    assert cent.test_days == _dates(2, 3, 4, 6, 8)
    assert (hhm.kind, hhm.start, hhm.end) == ("home_monitoring", D(2022, 7, 9), D(2022, 7, 11))
    assert hhm.test_days == _dates(11)
    assert (plan.start, plan.end, plan.anchor) == (D(2022, 7, 1), D(2022, 7, 11), D(2022, 7, 1))


def test_a_late_found_contact_serves_only_the_remaining_days(db):
    rule = rule_for(edition("v9"), "close_contact")
    plan = plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 5))
    cent, hhm = plan.phases
    assert (cent.start, cent.end) == (D(2022, 7, 5), D(2022, 7, 8))
    assert cent.test_days == _dates(6, 8)  # days 1-3 passed; day 5 and 7 remain
    assert (hhm.start, hhm.end) == (D(2022, 7, 9), D(2022, 7, 11))
    assert plan.start == D(2022, 7, 5)


def test_a_contact_found_after_the_centralized_phase_goes_straight_home(db):
    rule = rule_for(edition("v9"), "close_contact")
    plan = plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 10))
    assert [p.kind for p in plan.phases] == ["home_monitoring"]
    assert (plan.phases[0].start, plan.phases[0].end) == (D(2022, 7, 10), D(2022, 7, 11))
    assert plan.phases[0].test_days == _dates(11)


def test_found_on_the_last_day_still_gets_that_day(db):
    rule = rule_for(edition("v9"), "close_contact")
    plan = plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 11))
    assert [(p.start, p.end, p.test_days) for p in plan.phases] == [
        (D(2022, 7, 11), D(2022, 7, 11), _dates(11))
    ]


def test_nothing_to_do_when_the_whole_period_has_passed(db):
    rule = rule_for(edition("v9"), "close_contact")
    assert plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 12)) is None


def test_low_risk_arrivals_are_tested_on_days_one_and_three(db):
    rule = rule_for(edition("v9"), "low_risk_arrival")
    plan = plan_measure(rule, anchor=D(2022, 8, 1), found_on=D(2022, 8, 1))
    assert plan.phases[0].test_days == _dates(2, 4, month=8)
    assert (plan.phases[0].test_days[1] - plan.phases[0].test_days[0]).days >= 1


def test_an_open_ended_phase_has_no_end(db):
    rule = rule_for(edition("v9"), "case")
    plan = plan_measure(rule, anchor=D(2022, 7, 1), found_on=D(2022, 7, 3))
    assert plan.end is None
    assert plan.phases[0].end is None
    assert plan.phases[0].start == D(2022, 7, 3)


def test_plan_json_is_what_an_order_stores(db):
    rule = rule_for(edition("twenty"), "high_risk_arrival")
    plan = plan_measure(rule, anchor=D(2022, 11, 20), found_on=D(2022, 11, 21))
    assert plan.phases_json() == [
        {
            "kind": "home_isolation",
            "days": 7,
            "start": "2022-11-21",
            "end": "2022-11-27",
            "test_days": ["2022-11-21", "2022-11-23", "2022-11-25", "2022-11-27"],
        }
    ]


# --- strictness ----------------------------------------------------------------------------------


def _plan(code: str, category: str, anchor: dt.date) -> list[dict]:
    rule = rule_for(edition(code), category)
    return plan_measure(rule, anchor=anchor, found_on=anchor).phases_json()


def test_centralized_is_stricter_than_home_isolation_however_long(db):
    centralized = _plan("v9", "high_risk_arrival", D(2022, 7, 1))  # 7 d cent.
    home = _plan("v9", "medium_risk_arrival", D(2022, 7, 20))  # 7 d home, ends later
    assert plan_severity(centralized) > plan_severity(home)


def test_same_strictness_the_later_end_wins(db):
    early = _plan("v9", "medium_risk_arrival", D(2022, 7, 1))
    late = _plan("v9", "medium_risk_arrival", D(2022, 7, 5))
    assert plan_severity(late) > plan_severity(early)


def test_an_open_ended_measure_is_the_longest(db):
    case = _plan("v9", "case", D(2022, 7, 1))
    assert plan_severity(case)[1] == D.max
    assert plan_severity(case) > plan_severity(_plan("v9", "close_contact", D(2022, 7, 1)))


def test_no_phases_is_the_mildest():
    assert plan_severity([]) == (0, D.min)


# --- categories of arrivals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "abroad", "level", "rural", "expected"),
    [
        ("v9", False, "high", False, "high_risk_arrival"),
        ("v9", False, "medium", False, "medium_risk_arrival"),
        ("v9", False, "low", False, "low_risk_arrival"),
        ("v9", True, None, False, "entrant"),
        ("v9", True, "high", False, "entrant"),
        ("v9", False, None, True, None),
        ("twenty", False, "medium", False, "low_risk_arrival"),  # medium abolished
        ("twenty", False, "high", False, "high_risk_arrival"),
        ("ten", False, "high", False, None),
        ("ten", False, "low", False, None),
        ("ten", True, None, False, None),
        ("v8", False, "medium", False, None),  # varied locally: not determined
        ("v8", False, "high", False, "high_risk_arrival"),
        ("rural-2021", False, None, True, "rural_returnee"),
        ("rural-2021", False, "medium", True, "rural_returnee"),
        ("rural-2021", False, None, False, None),
        ("v7", False, None, True, None),
    ],
)
def test_category_for_arrival(db, code, abroad, level, rural, expected):
    got = category_for_arrival(
        edition=edition(code), from_abroad=abroad, risk_level=level, rural_destination=rural
    )
    assert got == expected


# --- downgrades -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "after", "to", "days", "screening"),
    [
        ("v9", "high", False, "medium", 7, True),
        ("v9", "medium", True, "low", 3, False),
        ("v9", "medium", False, "low", 7, True),
        ("twenty", "high", False, "low", 5, True),
        ("ten", "high", False, "low", 5, False),
        ("v8", "high", False, "low", 14, True),
        ("v8", "medium", False, "low", 14, True),
        ("v7", "medium", True, "low", 14, True),  # no special rule: the ordinary one
    ],
)
def test_downgrade_proposal(db, code, level, after, to, days, screening):
    proposal = downgrade_proposal(
        edition=edition(code), level=level, clock_from=D(2022, 7, 1), after_downgrade=after
    )
    assert (proposal.to_level, proposal.days, proposal.needs_screening) == (to, days, screening)
    assert proposal.earliest_on == D(2022, 7, 1) + dt.timedelta(days=days)
    assert proposal.from_level == level


@pytest.mark.parametrize(("code", "level"), [("twenty", "medium"), ("v9", "low"), ("ten", "low")])
def test_no_downgrade_without_a_rule(db, code, level):
    assert downgrade_proposal(edition=edition(code), level=level, clock_from=D(2022, 7, 1)) is None


# --- parsing ---------------------------------------------------------------------------------------


def test_parse_names_every_bad_field():
    with pytest.raises(RuleError) as caught:
        parse_rules(
            {
                "close_contact": {
                    "counts_from": "tomorrow",
                    "phases": [
                        {"kind": "centralized", "days": 7, "test_days": [1, 9, 9]},
                        {"kind": "sauna", "days": None},
                        {"kind": "home_monitoring", "days": 0},
                    ],
                },
                "aliens": {"counts_from": "arrival", "phases": [{"kind": "tests_only", "days": 1}]},
            }
        )
    errors = caught.value.errors
    assert "rules.close_contact.counts_from" in errors
    assert any("超出" in m for m in errors["rules.close_contact.phases[0].test_days"])
    assert "检测日重复" in errors["rules.close_contact.phases[0].test_days"]
    assert "rules.close_contact.phases[1].kind" in errors
    assert "rules.close_contact.phases[1].days" in errors  # open-ended but not last
    assert "rules.close_contact.phases[2].days" in errors
    assert "rules.aliens" in errors


def test_a_rule_needs_a_phase():
    with pytest.raises(RuleError) as caught:
        parse_rule("case", {"counts_from": "diagnosis", "phases": []})
    assert "rules.case.phases" in caught.value.errors
