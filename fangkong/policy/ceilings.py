"""National ceilings on local adjustments (the 2022 "nine prohibitions", domain-rules.md §1.9).

A county may make the measures of a national edition milder or shorter, never wider or longer.
For each category of its rules, compared with the national edition it is based on:

(a) a category the national edition does not determine may not be added (no. 4: no arbitrary
    widening of the set of people put under control);
(b) for every degree of strictness s, the days spent at strictness >= s may not exceed the
    national edition's (no. 5: no extension of isolation and monitoring periods; no. 2: no
    quarantine of people from low-risk areas, whose national measure is tests only);
(c) what the period counts from may not change (moving the anchor lengthens the period);
(d) the look-back window for close contacts may not exceed the edition's ceiling;
(e) test days lie within their phase (policy.rules.parse_rule checks it).

Pure functions: the service (policy.services.edition_adjust) turns the errors into a
ValidationFailed, keyed "rules.<category>" so that a form can show them next to the category.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from .models import CountsFrom, PhaseKind
from .presenters import category_label, describe_phases, phase_short
from .rules import SEVERITY, CategoryRule, parse_rules

# Strictest first; the hospital is left out of messages about quarantine and isolation.
_KINDS_BY_SEVERITY = sorted(SEVERITY, key=lambda k: -SEVERITY[k])


def days_at_or_above(rule: CategoryRule, level: int) -> float:
    """Days of the measure spent at strictness >= `level` (open-ended phases count as endless)."""
    total = 0.0
    for phase in rule.phases:
        if SEVERITY.get(phase.kind, 0) >= level:
            if phase.days is None:
                return math.inf
            total += phase.days
    return total


def _kinds_from(level: int) -> list[str]:
    kinds = [k for k in _KINDS_BY_SEVERITY if SEVERITY[k] >= level]
    if level < SEVERITY[PhaseKind.HOSPITAL]:
        kinds = [k for k in kinds if k != PhaseKind.HOSPITAL]
    return [phase_short(k) for k in kinds]


def _forbidden_kinds(level: int) -> str:
    names = _kinds_from(level)
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + _("或") + names[-1]


def _group(level: int, used: set[str]) -> str:
    """The kinds at strictness >= level that either rule uses: "集中隔离和居家健康监测合计"."""
    names = [phase_short(k) for k in _KINDS_BY_SEVERITY if SEVERITY[k] >= level and k in used]
    if len(names) == 1:
        return names[0]
    return _("%(kinds)s合计") % {"kinds": "、".join(names[:-1]) + _("和") + names[-1]}


def _phases_json(rule: CategoryRule) -> list[dict[str, Any]]:
    return [{"kind": p.kind, "days": p.days, "test_days": list(p.test_days)} for p in rule.phases]


def added_category_error(category: str) -> str:
    """(a): the message for a category the national edition does not determine."""
    return _("%(category)s：国家方案未规定此类人员的管控措施，不得擅自扩大管控人群范围") % {
        "category": category_label(category)
    }


def category_ceiling_error(
    category: str, rule: CategoryRule, base: CategoryRule | None
) -> tuple[str, str] | None:
    """(error key, message) for the first ceiling a category's local rule breaks, or None."""
    label = category_label(category)
    key = f"rules.{category}"
    if base is None:
        return key, added_category_error(category)
    if rule.counts_from != base.counts_from:
        return f"{key}.counts_from", _(
            "%(category)s：管控期的起算方式不得改变（国家方案：自%(anchor)s起算）"
        ) % {"category": label, "anchor": CountsFrom(base.counts_from).label}
    ceiling = describe_phases(_phases_json(base), with_tests=False)
    for level in sorted(set(SEVERITY.values()), reverse=True):
        local_days = days_at_or_above(rule, level)
        base_days = days_at_or_above(base, level)
        if local_days <= base_days:
            continue
        if base_days == 0:
            message = _("%(category)s：不得采取%(kinds)s（国家方案上限：%(ceiling)s）") % {
                "category": label,
                "kinds": _forbidden_kinds(level),
                "ceiling": ceiling,
            }
        else:
            message = _(
                "%(category)s：%(group)s不得超过 %(days)s 天（国家方案上限：%(ceiling)s）"
            ) % {
                "category": label,
                "group": _group(level, {p.kind for p in (*rule.phases, *base.phases)}),
                "days": int(base_days),
                "ceiling": ceiling,
            }
        return key, message
    return None


def ceiling_errors(
    *, base: Any, rules: dict[str, CategoryRule], lookback_days: int
) -> dict[str, list[str]]:
    """Every ceiling the local `rules` and look-back window break, compared with `base` (a
    national PolicyEdition). Empty when the adjustment stays within the national edition."""
    errors: dict[str, list[str]] = {}
    base_rules = parse_rules(base.rules or {})
    for category, rule in rules.items():
        found = category_ceiling_error(category, rule, base_rules.get(category))
        if found is not None:
            errors.setdefault(found[0], []).append(found[1])
    maximum = (base.ceilings or {}).get("lookback_days_max", base.lookback_days)
    if lookback_days > maximum:
        errors["lookback_days"] = [
            _("密接追溯天数不得超过 %(max)s 天（国家方案：%(days)s 天，上限 %(max)s 天）")
            % {"max": maximum, "days": base.lookback_days}
        ]
    return errors
