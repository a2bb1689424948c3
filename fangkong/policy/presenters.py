"""Editions in words: "集中隔离 7 天（第1、2、3、5、7天检测）+ 居家健康监测 3 天（第3天检测）".

Used by the pages, the API's summaries and the ceiling messages, so that a rule reads the same
everywhere. Pure functions over an edition's data.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Category, CountsFrom, PhaseKind, RiskLevel

# Short names of the kinds of phase, for tables and messages.
PHASE_SHORT = {
    PhaseKind.HOSPITAL: gettext_lazy("定点医院隔离治疗"),
    PhaseKind.CENTRALIZED: gettext_lazy("集中隔离"),
    PhaseKind.HOME_ISOLATION: gettext_lazy("居家隔离"),
    PhaseKind.HOME_MONITORING: gettext_lazy("居家健康监测"),
    PhaseKind.TESTS_ONLY: gettext_lazy("落地检测"),
}

CATEGORY_ORDER = [
    Category.CLOSE_CONTACT,
    Category.SECONDARY_CONTACT,
    Category.ENTRANT,
    Category.HIGH_RISK_ARRIVAL,
    Category.MEDIUM_RISK_ARRIVAL,
    Category.LOW_RISK_ARRIVAL,
    Category.CASE,
    Category.RURAL_RETURNEE,
]


def phase_short(kind: str) -> str:
    return str(PHASE_SHORT.get(kind, kind))


def category_label(category: str) -> str:
    return str(Category(category).label) if category in Category.values else category


def level_label(level: str | None) -> str:
    if level is None:
        return _("解除")
    return str(RiskLevel(level).label) if level in RiskLevel.values else level


def _day_list(days: Any) -> str:
    # The list separator is translated: "1、2、3" in Chinese, "1, 2, 3" in English.
    return _("、").join(str(d) for d in days)


def describe_phase(phase: dict[str, Any], *, with_tests: bool = True) -> str:
    """One phase: "集中隔离 7 天（第1、2、3、5、7天检测）"; open-ended: "... （至解除）"."""
    name = phase_short(phase.get("kind", ""))
    days = phase.get("days")
    text = (
        _("%(name)s %(days)s 天") % {"name": name, "days": days}
        if days
        else _("%(name)s（至解除）") % {"name": name}
    )
    tests = phase.get("test_days") or []
    if with_tests and tests:
        text += _("（第%(days)s天检测）") % {"days": _day_list(tests)}
    return text


def describe_phases(phases: list[dict[str, Any]], *, with_tests: bool = True) -> str:
    return " + ".join(describe_phase(p, with_tests=with_tests) for p in phases) or "—"


def describe_rule(rule: dict[str, Any] | None, *, with_tests: bool = True) -> str:
    """A category's measure in one line, or "—" when the edition does not determine it."""
    if not rule:
        return "—"
    return describe_phases(rule.get("phases") or [], with_tests=with_tests)


def describe_release(rule: dict[str, Any] | None) -> str:
    """The release conditions beyond serving the days, "" when there are none."""
    if not rule:
        return ""
    release = rule.get("release") or {}
    parts = []
    if release.get("double_test"):
        parts.append(_("解除前双采双检"))
    if release.get("ct_threshold"):
        parts.append(_("核酸 Ct 值 ≥ %(ct)s 方可解除") % {"ct": release["ct_threshold"]})
    if release.get("wait_for_source_tests"):
        parts.append(
            _("对应密接前 %(n)s 次检测阴性方可解除") % {"n": release["wait_for_source_tests"]}
        )
    return "；".join(parts)


def counts_from_label(value: str | None) -> str:
    if value in CountsFrom.values:
        return _("自%(label)s起算") % {"label": CountsFrom(value).label}
    return ""


def describe_downgrade(rule: dict[str, Any]) -> str:
    """ "高风险 → 中风险：连续 7 天无新增感染，且全员核酸筛查阴性" """
    source = level_label(rule.get("from"))
    if rule.get("after_downgrade"):
        source = _("%(level)s（由降级而来）") % {"level": source}
    if rule.get("after_downgrade"):
        condition = _("再连续 %(days)s 天无新增感染") % {"days": rule.get("days")}
    else:
        condition = _("连续 %(days)s 天无新增感染") % {"days": rule.get("days")}
    if rule.get("screening"):
        condition += _("，且全员核酸筛查阴性")
    return _("%(from)s → %(to)s：%(condition)s") % {
        "from": source,
        "to": level_label(rule.get("to")),
        "condition": condition,
    }


def describe_levels(levels: list[str]) -> str:
    return "、".join(level_label(level) for level in levels) or "—"


def edition_rows(editions: list[Any]) -> list[dict[str, Any]]:
    """The side-by-side table: one row per category, then look-back days, risk levels and
    downgrade rules; each row has one cell per edition (a list of lines)."""
    rows: list[dict[str, Any]] = []
    for category in CATEGORY_ORDER:
        cells = []
        for edition in editions:
            rule = (edition.rules or {}).get(category)
            lines = [describe_rule(rule)] if rule else []
            if rule:
                extra = "；".join(
                    t
                    for t in (counts_from_label(rule.get("counts_from")), describe_release(rule))
                    if t
                )
                cells.append({"lines": lines, "extra": extra, "note": rule.get("note", "")})
            else:
                cells.append({"lines": [], "extra": "", "note": ""})
        rows.append({"label": category_label(category), "key": category, "cells": cells})
    rows.append(
        {
            "label": _("密接追溯天数"),
            "key": "lookback_days",
            "cells": [
                {
                    "lines": [
                        _("%(days)s 天（上限 %(max)s 天）")
                        % {
                            "days": e.lookback_days,
                            "max": (e.ceilings or {}).get("lookback_days_max", e.lookback_days),
                        }
                    ],
                    "extra": "",
                    "note": "",
                }
                for e in editions
            ],
        }
    )
    rows.append(
        {
            "label": _("风险等级"),
            "key": "risk_levels",
            "cells": [
                {"lines": [describe_levels(e.risk_levels or [])], "extra": "", "note": ""}
                for e in editions
            ],
        }
    )
    rows.append(
        {
            "label": _("风险地区降级"),
            "key": "downgrade_rules",
            "cells": [
                {
                    "lines": [describe_downgrade(r) for r in (e.downgrade_rules or [])],
                    "extra": "",
                    "note": "",
                }
                for e in editions
            ],
        }
    )
    return rows
