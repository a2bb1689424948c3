"""The rule lookup, as pure functions over an edition's data (no database access here).

Day counting. A measure counts from an anchor date (the last exposure, the day the person left
the risk area, the arrival, the diagnosis). The anchor is day 0; day 1 of the first phase is the
day after it, and each later phase starts the day after the previous one ends. A person found
late serves only the remaining days ("缺几天补几天"): phases and test days that lie wholly before
the day they are found are dropped, and if the whole measure has passed there is nothing to do.
The order starts on the day the person is found (never before the anchor).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .models import Category, CountsFrom, PhaseKind, RiskLevel

# Higher is stricter.
SEVERITY: dict[str, int] = {
    PhaseKind.TESTS_ONLY: 1,
    PhaseKind.HOME_MONITORING: 2,
    PhaseKind.HOME_ISOLATION: 3,
    PhaseKind.CENTRALIZED: 4,
    PhaseKind.HOSPITAL: 5,
}

ARRIVAL_CATEGORY_BY_LEVEL: dict[str, str] = {
    RiskLevel.HIGH: Category.HIGH_RISK_ARRIVAL,
    RiskLevel.MEDIUM: Category.MEDIUM_RISK_ARRIVAL,
    RiskLevel.LOW: Category.LOW_RISK_ARRIVAL,
}


class RuleError(ValueError):
    """The rules data of an edition is malformed; `errors` maps a path to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Phase:
    kind: str
    days: int | None  # None: open-ended (until the release conditions hold)
    test_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class Release:
    double_test: bool = False  # two swabs, two reagents (8th edition)
    ct_threshold: int | None = None  # e.g. 35: release needs Ct >= threshold
    wait_for_source_tests: int = 0  # secondary contact: first N results of its close contact


@dataclass(frozen=True)
class CategoryRule:
    category: str
    counts_from: str
    phases: tuple[Phase, ...]
    release: Release = field(default_factory=Release)
    note: str = ""

    @property
    def total_days(self) -> int | None:
        if any(p.days is None for p in self.phases):
            return None
        return sum(p.days or 0 for p in self.phases)


@dataclass(frozen=True)
class PlannedPhase:
    kind: str
    days: int | None
    start: dt.date
    end: dt.date | None
    test_days: tuple[dt.date, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "test_days": [d.isoformat() for d in self.test_days],
        }


@dataclass(frozen=True)
class MeasurePlan:
    category: str
    counts_from: str
    anchor: dt.date
    start: dt.date
    end: dt.date | None
    phases: tuple[PlannedPhase, ...]

    @property
    def severity(self) -> tuple[int, dt.date]:
        return plan_severity(self.phases_json())

    def phases_json(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self.phases]


def _int(value: Any, path: str, errors: dict[str, list[str]], *, minimum: int = 0) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.setdefault(path, []).append(_("须为不小于 %(n)s 的整数") % {"n": minimum})
        return None
    return value


def parse_rule(category: str, data: Any) -> CategoryRule:
    """One category's rule from its JSON; raises RuleError naming each bad field."""
    errors: dict[str, list[str]] = {}
    prefix = f"rules.{category}"
    if category not in Category.values:
        errors.setdefault(prefix, []).append(_("未知的人员类别"))
    if not isinstance(data, dict):
        raise RuleError({prefix: [_("须为对象")]})
    counts_from = data.get("counts_from")
    if counts_from not in CountsFrom.values:
        errors.setdefault(f"{prefix}.counts_from", []).append(_("未知的起算方式"))
    phases: list[Phase] = []
    raw_phases = data.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        errors.setdefault(f"{prefix}.phases", []).append(_("至少须有一个分段"))
        raw_phases = []
    for index, raw in enumerate(raw_phases):
        path = f"{prefix}.phases[{index}]"
        if not isinstance(raw, dict):
            errors.setdefault(path, []).append(_("须为对象"))
            continue
        kind = raw.get("kind")
        if kind not in PhaseKind.values:
            errors.setdefault(f"{path}.kind", []).append(_("未知的措施类型"))
        days = raw.get("days")
        if days is not None:
            days = _int(days, f"{path}.days", errors, minimum=1)
        elif index != len(raw_phases) - 1:
            errors.setdefault(f"{path}.days", []).append(_("只有最后一个分段可以不定天数"))
        tests: list[int] = []
        for t_index, day in enumerate(raw.get("test_days") or []):
            value = _int(day, f"{path}.test_days[{t_index}]", errors, minimum=1)
            if value is None:
                continue
            if days is not None and value > days:
                errors.setdefault(f"{path}.test_days", []).append(
                    _("检测日第 %(day)s 天超出本分段的 %(days)s 天") % {"day": value, "days": days}
                )
            tests.append(value)
        if len(set(tests)) != len(tests):
            errors.setdefault(f"{path}.test_days", []).append(_("检测日重复"))
        phases.append(Phase(kind=kind or "", days=days, test_days=tuple(sorted(tests))))
    raw_release = data.get("release") or {}
    if not isinstance(raw_release, dict):
        errors.setdefault(f"{prefix}.release", []).append(_("须为对象"))
        raw_release = {}
    ct = raw_release.get("ct_threshold")
    if ct is not None:
        ct = _int(ct, f"{prefix}.release.ct_threshold", errors, minimum=1)
    wait = raw_release.get("wait_for_source_tests", 0)
    wait = _int(wait, f"{prefix}.release.wait_for_source_tests", errors) or 0
    if errors:
        raise RuleError(errors)
    return CategoryRule(
        category=category,
        counts_from=counts_from,
        phases=tuple(phases),
        release=Release(
            double_test=bool(raw_release.get("double_test", False)),
            ct_threshold=ct,
            wait_for_source_tests=wait,
        ),
        note=str(data.get("note") or ""),
    )


def parse_rules(rules: Any) -> dict[str, CategoryRule]:
    """All categories of an edition's `rules`; raises RuleError with every problem at once."""
    if not isinstance(rules, dict):
        raise RuleError({"rules": [_("须为对象")]})
    parsed: dict[str, CategoryRule] = {}
    errors: dict[str, list[str]] = {}
    for category, data in rules.items():
        try:
            parsed[category] = parse_rule(category, data)
        except RuleError as exc:
            errors.update(exc.errors)
    if errors:
        raise RuleError(errors)
    return parsed


def rule_for(edition: Any, category: str) -> CategoryRule | None:
    """The rule of `category` under `edition` (a PolicyEdition), or None if not determined."""
    data = (edition.rules or {}).get(category)
    if data is None:
        return None
    return parse_rule(category, data)


def plan_measure(rule: CategoryRule, *, anchor: dt.date, found_on: dt.date) -> MeasurePlan | None:
    """The dates of the measure for someone whose period counts from `anchor` and who is found
    on `found_on`. None when the whole measure has already passed."""
    planned: list[PlannedPhase] = []
    offset = 0  # days of the measure before this phase
    for phase in rule.phases:
        start = anchor + dt.timedelta(days=offset + 1)
        end = None if phase.days is None else anchor + dt.timedelta(days=offset + phase.days)
        if end is not None and end < found_on:
            offset += phase.days or 0
            continue
        tests = tuple(
            d
            for d in (anchor + dt.timedelta(days=offset + n) for n in phase.test_days)
            if d >= found_on
        )
        planned.append(
            PlannedPhase(
                kind=phase.kind,
                days=phase.days,
                start=max(start, found_on) if not planned else start,
                end=end,
                test_days=tests,
            )
        )
        offset += phase.days or 0
    if not planned:
        return None
    return MeasurePlan(
        category=rule.category,
        counts_from=rule.counts_from,
        anchor=anchor,
        start=max(found_on, anchor),
        end=planned[-1].end,
        phases=tuple(planned),
    )


def plan_severity(phases: list[dict[str, Any]]) -> tuple[int, dt.date]:
    """How strict a measure is, to compare two: its strictest phase, then its end date (an
    open-ended measure is the longest). Works on an order's stored phases."""
    if not phases:
        return (0, dt.date.min)
    top = max(SEVERITY.get(p["kind"], 0) for p in phases)
    ends = [p.get("end") for p in phases]
    end = (
        dt.date.max if any(e is None for e in ends) else max(dt.date.fromisoformat(e) for e in ends)
    )
    return (top, end)


def category_for_arrival(
    *, edition: Any, from_abroad: bool, risk_level: str | None, rural_destination: bool = False
) -> str | None:
    """The category of an arriving person under `edition`, or None when no measure applies.

    From abroad: entrant. From a risk area: the category of its level, if the edition
    determines it. Otherwise a rural returnee where the edition has that category (the 2021
    winter-spring rural plan) and the destination is rural.
    """
    rules = edition.rules or {}
    if from_abroad and Category.ENTRANT in rules:
        return Category.ENTRANT
    if risk_level:
        category = ARRIVAL_CATEGORY_BY_LEVEL.get(risk_level)
        if category in rules:
            return category
        # A level the edition no longer designates (medium under the twenty measures) is
        # handled as the next lower level it does.
        if risk_level == RiskLevel.MEDIUM and Category.LOW_RISK_ARRIVAL in rules:
            return Category.LOW_RISK_ARRIVAL
    if rural_destination and Category.RURAL_RETURNEE in rules:
        return Category.RURAL_RETURNEE
    return None


@dataclass(frozen=True)
class DowngradeProposal:
    from_level: str
    to_level: str | None  # None: the area is lifted
    earliest_on: dt.date
    days: int
    needs_screening: bool


def downgrade_proposal(
    *, edition: Any, level: str, clock_from: dt.date, after_downgrade: bool = False
) -> DowngradeProposal | None:
    """When `edition` would let an area of `level` go down, counting `days` without a new
    infection from `clock_from` (the last new infection, or the start of the area).
    `after_downgrade`: the area itself came from a downgrade (9th edition: medium -> low
    after 3 more days)."""
    candidates = [r for r in (edition.downgrade_rules or []) if r.get("from") == level]
    preferred = [r for r in candidates if bool(r.get("after_downgrade")) == after_downgrade]
    chosen = (preferred or [r for r in candidates if not r.get("after_downgrade")] or [None])[0]
    if chosen is None:
        return None
    days = int(chosen["days"])
    return DowngradeProposal(
        from_level=level,
        to_level=chosen.get("to"),
        earliest_on=clock_from + dt.timedelta(days=days),
        days=days,
        needs_screening=bool(chosen.get("screening")),
    )
