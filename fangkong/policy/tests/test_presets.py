"""The national presets, pinned cell by cell to domain-rules.md §1.3, §1.4 and §1.6.

The expected values below are written out from the tables by hand, not derived from
presets.py: a change to a preset that does not match the table fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from fangkong.core.models import AuditEvent
from fangkong.policy.models import PolicyEdition
from fangkong.policy.presets import PRESET_CODES
from fangkong.policy.rules import parse_rules, rule_for

CENT, HOME, HHM, TESTS, HOSP = (
    "centralized",
    "home_isolation",
    "home_monitoring",
    "tests_only",
    "hospital",
)
EDITIONS = ["v7", "rural-2021", "v8", "v9", "twenty", "ten"]
PRE9 = ["v7", "rural-2021", "v8"]

# (edition, category) -> [(kind, days, test days), ...], or None: not determined.
PHASES: dict[tuple[str, str], list[tuple[str, int | None, list[int]]] | None] = {}
for code in PRE9:
    PHASES.update(
        {
            # 14 d cent. + 7 d HHM; PCR day 1, 4, 7, 14 of cent.; HHM tests day 2 and 7
            (code, "close_contact"): [(CENT, 14, [1, 4, 7, 14]), (HHM, 7, [2, 7])],
            # 7 d cent.; PCR day 1, 4, 7
            (code, "secondary_contact"): [(CENT, 7, [1, 4, 7])],
            # 14 d cent. (+7 d HHM); no test days in the table
            (code, "entrant"): [(CENT, 14, []), (HHM, 7, [])],
            # varied locally, e.g. 14 d cent., PCR 1, 4, 7, 10, 14
            (code, "high_risk_arrival"): [(CENT, 14, [1, 4, 7, 10, 14])],
            # varied locally (no value): not determined
            (code, "medium_risk_arrival"): None,
            # "—"
            (code, "low_risk_arrival"): None,
            # designated hospital, released on Ct >= 35
            (code, "case"): [(HOSP, None, [])],
        }
    )
PHASES.update(
    {
        ("v7", "rural_returnee"): None,
        ("v8", "rural_returnee"): None,
        # 14 d HHM, PCR day 7 and 14
        ("rural-2021", "rural_returnee"): [(HHM, 14, [7, 14])],
        # 9th edition
        ("v9", "close_contact"): [(CENT, 7, [1, 2, 3, 5, 7]), (HHM, 3, [3])],
        ("v9", "secondary_contact"): [(HOME, 7, [1, 4, 7])],
        ("v9", "entrant"): [(CENT, 7, [1, 2, 3, 5, 7]), (HHM, 3, [3])],
        ("v9", "high_risk_arrival"): [(CENT, 7, [1, 2, 3, 5, 7])],
        ("v9", "medium_risk_arrival"): [(HOME, 7, [1, 4, 7])],
        ("v9", "low_risk_arrival"): [(TESTS, 3, [1, 3])],
        ("v9", "case"): [(HOSP, None, [])],
        ("v9", "rural_returnee"): None,
        # twenty measures
        ("twenty", "close_contact"): [(CENT, 5, [1, 2, 3, 5]), (HOME, 3, [1, 3])],
        ("twenty", "secondary_contact"): None,
        ("twenty", "entrant"): [(CENT, 5, [1, 2, 3, 5]), (HOME, 3, [1, 3])],
        ("twenty", "high_risk_arrival"): [(HOME, 7, [1, 3, 5, 7])],
        ("twenty", "medium_risk_arrival"): None,
        ("twenty", "low_risk_arrival"): [(TESTS, 3, [1, 3])],
        ("twenty", "case"): [(HOSP, None, [])],
        ("twenty", "rural_returnee"): None,
        # ten new measures
        ("ten", "close_contact"): [(HOME, 5, [5])],
        ("ten", "secondary_contact"): None,
        ("ten", "entrant"): None,
        ("ten", "high_risk_arrival"): None,
        ("ten", "medium_risk_arrival"): None,
        ("ten", "low_risk_arrival"): None,
        ("ten", "case"): [(HOME, 7, [6, 7])],
        ("ten", "rural_returnee"): None,
    }
)

COUNTS_FROM = {
    "close_contact": "last_exposure",
    "secondary_contact": "last_exposure",
    "entrant": "arrival",
    "high_risk_arrival": "left_area",
    "medium_risk_arrival": "left_area",
    "low_risk_arrival": "arrival",
    "case": "diagnosis",
    "rural_returnee": "arrival",
}

ISSUED = {
    "v7": dt.date(2020, 9, 15),
    "rural-2021": dt.date(2021, 1, 20),
    "v8": dt.date(2021, 5, 14),
    "v9": dt.date(2022, 6, 28),
    "twenty": dt.date(2022, 11, 11),
    "ten": dt.date(2022, 12, 7),
}

RISK_LEVELS = {
    "v7": ["high", "medium", "low"],
    "rural-2021": ["high", "medium", "low"],
    "v8": ["high", "medium", "low"],
    "v9": ["high", "medium", "low"],
    "twenty": ["high", "low"],
    "ten": ["high", "low"],
}

# (from, to, days, screening, after a downgrade)
DOWNGRADES = {
    "v7": [("high", "low", 14, True, False), ("medium", "low", 14, True, False)],
    "rural-2021": [("high", "low", 14, True, False), ("medium", "low", 14, True, False)],
    "v8": [("high", "low", 14, True, False), ("medium", "low", 14, True, False)],
    "v9": [
        ("high", "medium", 7, True, False),
        ("medium", "low", 3, False, True),
        ("medium", "low", 7, True, False),
    ],
    "twenty": [("high", "low", 5, True, False)],
    "ten": [("high", "low", 5, False, False)],
}


def _edition(code: str) -> PolicyEdition:
    return PolicyEdition.objects.get(code=code)


def test_the_migration_loads_exactly_the_six_national_editions(db):
    codes = list(PolicyEdition.objects.order_by("issued_on").values_list("code", flat=True))
    assert codes == EDITIONS
    assert list(PRESET_CODES) == EDITIONS
    assert set(PolicyEdition.objects.values_list("kind", flat=True)) == {"national"}


@pytest.mark.parametrize("code", EDITIONS)
def test_every_preset_parses(db, code):
    parsed = parse_rules(_edition(code).rules)
    assert parsed  # every edition determines at least one category


@pytest.mark.parametrize(("code", "category"), sorted(PHASES), ids=lambda v: str(v))
def test_preset_phases_and_test_days_match_the_table(db, code, category):
    rule = rule_for(_edition(code), category)
    got = None if rule is None else [(p.kind, p.days, list(p.test_days)) for p in rule.phases]
    assert got == PHASES[(code, category)]


@pytest.mark.parametrize(
    ("code", "category"),
    sorted(k for k, v in PHASES.items() if v is not None),
    ids=lambda v: str(v),
)
def test_preset_counts_from_matches_the_table(db, code, category):
    assert _edition(code).rules[category]["counts_from"] == COUNTS_FROM[category]


@pytest.mark.parametrize("code", EDITIONS)
def test_preset_issue_dates(db, code):
    assert _edition(code).issued_on == ISSUED[code]


@pytest.mark.parametrize("code", EDITIONS)
def test_lookback_is_two_days_with_a_ceiling_of_four(db, code):
    edition = _edition(code)
    assert (edition.lookback_days, edition.ceilings) == (2, {"lookback_days_max": 4})


@pytest.mark.parametrize("code", EDITIONS)
def test_preset_risk_levels(db, code):
    assert _edition(code).risk_levels == RISK_LEVELS[code]


@pytest.mark.parametrize("code", EDITIONS)
def test_preset_downgrade_rules(db, code):
    got = [
        (r["from"], r["to"], r["days"], r["screening"], r["after_downgrade"])
        for r in _edition(code).downgrade_rules
    ]
    assert got == DOWNGRADES[code]


@pytest.mark.parametrize("code", PRE9)
def test_pre9_close_contacts_need_a_double_test(db, code):
    assert rule_for(_edition(code), "close_contact").release.double_test is True


@pytest.mark.parametrize("code", ["v9", "twenty", "ten"])
def test_from_the_9th_edition_no_double_test(db, code):
    assert rule_for(_edition(code), "close_contact").release.double_test is False


@pytest.mark.parametrize("code", ["v7", "rural-2021", "v8", "v9"])
def test_secondary_contacts_wait_for_two_results_of_their_close_contact(db, code):
    assert rule_for(_edition(code), "secondary_contact").release.wait_for_source_tests == 2


@pytest.mark.parametrize("code", EDITIONS)
def test_cases_are_released_on_ct_35(db, code):
    assert rule_for(_edition(code), "case").release.ct_threshold == 35


@pytest.mark.parametrize(("code", "category"), sorted(k for k, v in PHASES.items() if v))
def test_every_rule_cites_its_source(db, code, category):
    assert "[S" in _edition(code).rules[category]["note"]


@pytest.mark.parametrize("code", EDITIONS)
def test_notes_explain_what_is_left_out(db, code):
    notes = _edition(code).notes
    assert "不规定" in notes or "未编码" in notes


def test_the_command_refreshes_presets_and_is_audited(db, capsys):
    v9 = _edition("v9")
    v9.rules = {"close_contact": v9.rules["close_contact"]}
    v9.lookback_days = 4
    v9.save(update_fields=["rules", "lookback_days"])
    call_command("policy_presets")
    assert "更新 1 个" in capsys.readouterr().out
    v9.refresh_from_db()
    assert v9.lookback_days == 2
    assert set(v9.rules) == {
        "close_contact",
        "secondary_contact",
        "entrant",
        "high_risk_arrival",
        "medium_risk_arrival",
        "low_risk_arrival",
        "case",
    }
    event = AuditEvent.objects.get(verb="policy.edition.presets_refresh")
    assert event.actor_id is None
    assert event.data == {"created": 0, "updated": 1}
    call_command("policy_presets")
    assert "新建 0 个，更新 0 个" in capsys.readouterr().out
