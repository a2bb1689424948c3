"""National ceilings on local adjustments ("九不准"): what is refused, what is allowed."""

from __future__ import annotations

import pytest

from fangkong.core.exceptions import ValidationFailed
from fangkong.policy.ceilings import ceiling_errors, days_at_or_above
from fangkong.policy.models import PolicyEdition
from fangkong.policy.rules import parse_rules, rule_for
from fangkong.policy.services import edition_adjust

from .factories import edition


def _phase(kind: str, days: int | None, tests: list[int] | None = None) -> dict:
    return {"kind": kind, "days": days, "test_days": tests or []}


def _adjust(users, base: str, changes: dict, **kwargs) -> PolicyEdition:
    return edition_adjust(
        actor=users.commander,
        base=edition(base),
        code=kwargs.pop("code", "local-test"),
        name=kwargs.pop("name", "本县调整"),
        rules_changes=changes,
        **kwargs,
    )


def _refused(users, base: str, changes: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        _adjust(users, base, changes, **kwargs)
    assert not PolicyEdition.objects.filter(kind="local").exists()
    return {k: [str(m) for m in v] for k, v in caught.value.errors.items()}


# --- refused -------------------------------------------------------------------------------------


def test_a_category_the_national_edition_does_not_determine_may_not_be_added(users):
    errors = _refused(
        users,
        "twenty",
        {
            "secondary_contact": {
                "counts_from": "last_exposure",
                "phases": [_phase("home_isolation", 7)],
            }
        },
    )
    assert errors == {
        "rules.secondary_contact": [
            "密接的密接：国家方案未规定此类人员的管控措施，不得擅自扩大管控人群范围"
        ]
    }


def test_quarantine_of_low_risk_arrivals_is_refused(users):
    errors = _refused(users, "v9", {"low_risk_arrival": {"phases": [_phase("home_isolation", 3)]}})
    assert errors == {
        "rules.low_risk_arrival": [
            "低风险地区来返人员：不得采取集中隔离或居家隔离（国家方案上限：落地检测 3 天）"
        ]
    }


def test_home_monitoring_of_low_risk_arrivals_is_refused(users):
    errors = _refused(
        users, "twenty", {"low_risk_arrival": {"phases": [_phase("home_monitoring", 3, [1, 3])]}}
    )
    assert errors["rules.low_risk_arrival"] == [
        "低风险地区来返人员：不得采取集中隔离、居家隔离或居家健康监测（国家方案上限：落地检测 3 天）"
    ]


def test_more_test_days_for_low_risk_arrivals_is_refused(users):
    errors = _refused(users, "v9", {"low_risk_arrival": {"phases": [_phase("tests_only", 5)]}})
    assert errors["rules.low_risk_arrival"] == [
        "低风险地区来返人员：落地检测不得超过 3 天（国家方案上限：落地检测 3 天）"
    ]


def test_a_longer_centralized_phase_is_refused(users):
    errors = _refused(
        users,
        "v9",
        {"close_contact": {"phases": [_phase("centralized", 10), _phase("home_monitoring", 3)]}},
    )
    assert errors["rules.close_contact"] == [
        "密切接触者：集中隔离不得超过 7 天（国家方案上限：集中隔离 7 天 + 居家健康监测 3 天）"
    ]


def test_a_longer_monitoring_phase_is_refused(users):
    errors = _refused(
        users,
        "v9",
        {"close_contact": {"phases": [_phase("centralized", 7), _phase("home_monitoring", 7)]}},
    )
    assert errors["rules.close_contact"] == [
        "密切接触者：集中隔离和居家健康监测合计不得超过 10 天"
        "（国家方案上限：集中隔离 7 天 + 居家健康监测 3 天）"
    ]


def test_a_stricter_kind_for_the_same_days_is_refused(users):
    errors = _refused(
        users, "v9", {"medium_risk_arrival": {"phases": [_phase("centralized", 7, [1, 4, 7])]}}
    )
    assert errors["rules.medium_risk_arrival"] == [
        "中风险地区来返人员：不得采取集中隔离（国家方案上限：居家隔离 7 天）"
    ]


def test_an_open_ended_phase_where_the_nation_sets_days_is_refused(users):
    errors = _refused(
        users, "twenty", {"high_risk_arrival": {"phases": [_phase("home_isolation", None)]}}
    )
    assert errors["rules.high_risk_arrival"] == [
        "高风险地区来返人员：居家隔离不得超过 7 天（国家方案上限：居家隔离 7 天）"
    ]


def test_longer_than_the_pre9_practice_is_refused(users):
    errors = _refused(
        users,
        "v8",
        {"close_contact": {"phases": [_phase("centralized", 14), _phase("home_monitoring", 14)]}},
    )
    assert "合计不得超过 21 天" in errors["rules.close_contact"][0]


def test_changing_what_the_period_counts_from_is_refused(users):
    errors = _refused(users, "v9", {"high_risk_arrival": {"counts_from": "arrival"}})
    assert errors == {
        "rules.high_risk_arrival.counts_from": [
            "高风险地区来返人员：管控期的起算方式不得改变（国家方案：自离开风险地区之日起算）"
        ]
    }


def test_a_longer_lookback_window_is_refused(users):
    errors = _refused(users, "v9", {}, lookback_days=5)
    assert errors == {"lookback_days": ["密接追溯天数不得超过 4 天（国家方案：2 天，上限 4 天）"]}


def test_test_days_outside_their_phase_are_refused(users):
    errors = _refused(
        users, "ten", {"close_contact": {"phases": [_phase("home_isolation", 5, [5, 6])]}}
    )
    assert errors == {"rules.close_contact.phases[0].test_days": ["检测日第 6 天超出本分段的 5 天"]}


def test_every_breach_is_reported_at_once(users):
    errors = _refused(
        users,
        "v9",
        {
            "low_risk_arrival": {"phases": [_phase("centralized", 3)]},
            "rural_returnee": {"counts_from": "arrival", "phases": [_phase("home_monitoring", 14)]},
        },
        lookback_days=7,
    )
    assert set(errors) == {"rules.low_risk_arrival", "rules.rural_returnee", "lookback_days"}


# --- allowed -------------------------------------------------------------------------------------


def test_fewer_days_are_allowed(users):
    local = _adjust(
        users,
        "v9",
        {
            "close_contact": {
                "phases": [_phase("centralized", 5, [1, 3, 5]), _phase("home_monitoring", 3, [3])]
            }
        },
    )
    assert local.kind == "local"
    assert local.base.code == "v9"
    assert rule_for(local, "close_contact").total_days == 8
    assert rule_for(local, "close_contact").counts_from == "last_exposure"  # kept from the base


def test_a_milder_kind_is_allowed(users):
    local = _adjust(
        users,
        "v9",
        {
            "high_risk_arrival": {"phases": [_phase("home_isolation", 7, [1, 2, 3, 5, 7])]},
            "medium_risk_arrival": {"phases": [_phase("home_monitoring", 7, [1, 4, 7])]},
        },
    )
    assert [p.kind for p in rule_for(local, "high_risk_arrival").phases] == ["home_isolation"]


def test_splitting_a_phase_into_a_milder_tail_is_allowed(users):
    local = _adjust(
        users,
        "v9",
        {
            "close_contact": {
                "phases": [
                    _phase("centralized", 5),
                    _phase("home_isolation", 2),
                    _phase("home_monitoring", 3),
                ]
            }
        },
    )
    assert rule_for(local, "close_contact").total_days == 10


def test_dropping_a_category_is_allowed(users):
    local = _adjust(users, "v9", {"low_risk_arrival": None})
    assert rule_for(local, "low_risk_arrival") is None


def test_more_test_days_within_the_phase_are_allowed(users):
    local = _adjust(
        users, "ten", {"close_contact": {"phases": [_phase("home_isolation", 5, [1, 3, 5])]}}
    )
    assert rule_for(local, "close_contact").phases[0].test_days == (1, 3, 5)


@pytest.mark.parametrize("days", [1, 2, 3, 4])
def test_a_lookback_window_up_to_the_ceiling_is_allowed(users, days):
    local = _adjust(users, "v9", {}, lookback_days=days, code=f"v9-lookback-{days}")
    assert local.lookback_days == days


def test_an_unchanged_copy_is_allowed_and_keeps_the_base_data(users):
    local = _adjust(users, "twenty", {}, notes="按二十条执行")
    base = edition("twenty")
    assert local.rules == base.rules
    assert local.risk_levels == base.risk_levels
    assert local.downgrade_rules == base.downgrade_rules
    assert local.ceilings == base.ceilings
    assert local.jurisdiction_id == "610326"


# --- the pure functions ----------------------------------------------------------------------------


def test_days_at_or_above_each_strictness(db):
    rule = rule_for(edition("v9"), "close_contact")
    assert [days_at_or_above(rule, level) for level in (5, 4, 3, 2, 1)] == [0, 7, 7, 10, 10]
    case = rule_for(edition("v9"), "case")
    assert days_at_or_above(case, 1) == float("inf")


def test_ceiling_errors_is_empty_for_the_base_itself(db):
    for code in ("v7", "rural-2021", "v8", "v9", "twenty", "ten"):
        base = edition(code)
        assert ceiling_errors(base=base, rules=parse_rules(base.rules), lookback_days=2) == {}
