"""The national editions, as data: the table of domain-rules.md §1.4 (measures and test days),
§1.3 (look-back window) and §1.6 (risk levels and downgrading), one dict per edition.

Loaded into PolicyEdition rows by migration 0002_national_presets and refreshed by
`fangkong policy_presets` (both through `presets_apply`). A measure already issued keeps the
copy of the phases it was given, so a refresh never rewrites one.

How the table was read (each choice is repeated in the edition's `notes`):

* The table has one column for "8th ed. (2021-05) & pre-9th practice". The 7th edition, the 2021
  winter-spring rural plan and the 8th edition all use it; the rural plan adds its returnee row.
* A cell that gives no value (medium-risk arrivals before the 9th edition: "varied locally";
  entrants and arrivals from risk areas under the ten new measures: "—") is left out: the
  category is not determined by that edition, and an arrival of that kind gets a visit but no
  measure. Where the table gives an example ("e.g. 14 d cent., PCR 1, 4, 7, 10, 14"), the example
  is encoded and the note says so. Where it gives phases without test days (entrants before the
  9th edition), the phases are encoded with no test days and the note says so.
* Low-risk arrivals ("三天两检", 9th edition and twenty measures): one phase of three days of
  tests only, tested on days 1 and 3 (two tests at least 24 h apart, as local rules required).
* Cases are in a designated hospital (or 方舱) until released (no fixed number of days), released
  on two results with Ct >= 35 taken 24 h apart (the 9th diagnosis plan's criterion, which the
  table applies to every column); under the ten new measures mild and asymptomatic cases isolate
  at home and are released on day-6 and day-7 results with Ct >= 35.
* Look-back window: 2 days in every national edition (§1.3); the 2-vs-4 conflict is why every
  edition carries the ceiling {"lookback_days_max": 4}.
* Risk areas before the 9th edition were 封控区 / 管控区 / 防范区 (from 2020-10): they are held as
  high / medium / low, and their release ("no new infection for 14 days and everyone screened
  negative") as high -> low and medium -> low after 14 days with screening.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

LOOKBACK_DAYS = 2
CEILINGS = {"lookback_days_max": 4}

CENT = "centralized"
HOME_ISO = "home_isolation"
HHM = "home_monitoring"
TESTS = "tests_only"
HOSPITAL = "hospital"


def _phase(kind: str, days: int | None, tests: list[int]) -> dict[str, Any]:
    return {"kind": kind, "days": days, "test_days": tests}


def _rule(
    counts_from: str,
    phases: list[dict[str, Any]],
    note: str,
    *,
    double_test: bool = False,
    ct_threshold: int | None = None,
    wait_for_source_tests: int = 0,
) -> dict[str, Any]:
    return {
        "counts_from": counts_from,
        "phases": phases,
        "release": {
            "double_test": double_test,
            "ct_threshold": ct_threshold,
            "wait_for_source_tests": wait_for_source_tests,
        },
        "note": note,
    }


def _down(
    from_level: str, to_level: str | None, days: int, screening: bool, after: bool = False
) -> dict[str, Any]:
    return {
        "from": from_level,
        "to": to_level,
        "days": days,
        "screening": screening,
        "after_downgrade": after,
    }


# --- the "8th ed. & pre-9th practice" column: 7th edition, rural plan, 8th edition ------------

PRE9_RULES: dict[str, dict[str, Any]] = {
    "close_contact": _rule(
        "last_exposure",
        [_phase(CENT, 14, [1, 4, 7, 14]), _phase(HHM, 7, [2, 7])],
        "14 天集中隔离医学观察（自末次暴露起算）+（实践中）7 天居家健康监测；集中隔离第 1、4、7、14 "
        "天鼻咽拭子核酸检测，解除前双采双检；居家健康监测第 2、7 天检测。[S1][S8]",
        double_test=True,
    ),
    "secondary_contact": _rule(
        "last_exposure",
        [_phase(CENT, 7, [1, 4, 7])],
        "7 天集中隔离，第 1、4、7 天核酸检测；全部阴性且对应密接前两次检测阴性方可于第 7 天解除，"
        "否则升级为密接（至 14 天）；部分地方另加 7 天居家健康监测（未计入）。[S8d][S38b]",
        wait_for_source_tests=2,
    ),
    "entrant": _rule(
        "arrival",
        [_phase(CENT, 14, []), _phase(HHM, 7, [])],
        "14 天集中隔离 + 7 天居家健康监测（部分地方 14+7+7，未计入），即第九版改为「7+3」之前的做法；"
        "表中此格未注出处、未给出检测日，检测日由本地确定。[S1]",
    ),
    "high_risk_arrival": _rule(
        "left_area",
        [_phase(CENT, 14, [1, 4, 7, 10, 14])],
        "各地做法不一；此处采用表中所举之例：14 天集中隔离，第 1、4、7、10、14 天核酸检测，"
        "自离开风险地区之日起算。[S15c]",
    ),
    "case": _rule(
        "diagnosis",
        [_phase(HOSPITAL, None, [])],
        "定点医院或方舱医院隔离治疗；解除：两次核酸 N、ORF 基因 Ct 值均 ≥ 35，采样间隔 ≥ 24 小时"
        "（第九版诊疗方案标准，表中各列相同）。[S36c]",
        ct_threshold=35,
    ),
}

PRE9_DOWNGRADE = [_down("high", "low", 14, True), _down("medium", "low", 14, True)]

PRE9_NOTES = (
    "按 domain-rules.md §1.4「第八版及第九版以前的做法」一列编码（第七版、冬春季农村方案、第八版共用此列）。"
    "中风险地区来返人员：表中为「各地做法不一」，未给出数值，本版不规定（来返人员只走排查闭环，不自动提出措施）。"
    "低风险地区来返人员：表中为「—」，不规定。闭环管理高风险岗位人员不属于本平台的人员类别，未编码。"
    "风险地区：2020-10 起为封控区/管控区/防范区，分别按高/中/低风险处理；封控区、管控区在 14 天无新增感染、"
    "全员核酸筛查阴性后解除，编码为「高→低、中→低：14 天 + 全员筛查」；防范区在全县封控、管控区解除后解除，"
    "不设自动降级。[S17] 密接追溯：发病前（或采样前）2 天；因 2 天与 4 天之争，本县调整上限为 4 天。[S7][S6]"
)

# --- 9th edition --------------------------------------------------------------------------------

V9_RULES: dict[str, dict[str, Any]] = {
    "close_contact": _rule(
        "last_exposure",
        [_phase(CENT, 7, [1, 2, 3, 5, 7]), _phase(HHM, 3, [3])],
        "7 天集中隔离医学观察 + 3 天居家健康监测；集中隔离第 1、2、3、5、7 天口咽拭子核酸检测，"
        "居家健康监测第 3 天检测；解除时不再双采双检；点对点闭环转运回家。[S1][S5]",
    ),
    "secondary_contact": _rule(
        "last_exposure",
        [_phase(HOME_ISO, 7, [1, 4, 7])],
        "7 天居家隔离医学观察，每日测体温、报症状，第 1、4、7 天核酸检测；第 7 天解除的条件同前"
        "（对应密接前两次检测阴性），密接前两次检测有阳性者按密接管理。[S5]",
        wait_for_source_tests=2,
    ),
    "entrant": _rule(
        "arrival",
        [_phase(CENT, 7, [1, 2, 3, 5, 7]), _phase(HHM, 3, [3])],
        "7 天集中隔离 + 3 天居家健康监测，检测日同密接。[S1]",
    ),
    "high_risk_arrival": _rule(
        "left_area",
        [_phase(CENT, 7, [1, 2, 3, 5, 7])],
        "7 天内有高风险地区旅居史者：7 天集中隔离，第 1、2、3、5、7 天核酸检测，"
        "自离开风险地区之日起算。[S1][S15]",
    ),
    "medium_risk_arrival": _rule(
        "left_area",
        [_phase(HOME_ISO, 7, [1, 4, 7])],
        "7 天居家隔离医学观察，第 1、4、7 天核酸检测；不具备居家条件者集中隔离。[S1][S15]",
    ),
    "low_risk_arrival": _rule(
        "arrival",
        [_phase(TESTS, 3, [1, 3])],
        "离开所在城市须持 48 小时核酸阴性证明；抵达后「三天两检」，取第 1、3 天（两次间隔 ≥ 24 小时）；"
        "不得采取隔离措施。[S14d][S15b]",
    ),
    "case": PRE9_RULES["case"],
}

V9_DOWNGRADE = [
    _down("high", "medium", 7, True),
    _down("medium", "low", 3, False, after=True),
    _down("medium", "low", 7, True),
]

V9_NOTES = (
    "按 domain-rules.md §1.4「第九版」一列编码。高风险区连续 7 天无新增感染且第 7 天全员核酸筛查阴性，"
    "降为中风险区；再连续 3 天无新增感染降为低风险区。中风险区连续 7 天无新增感染且第 7 天全员筛查阴性，"
    "降为低风险区。[S14] 低风险地区来返「三天两检」取第 1、3 天。农村地区返乡人员：表中为「—」，本版不规定。"
    "密接追溯 2 天（本县调整上限 4 天）。[S4]"
)

# --- twenty measures ------------------------------------------------------------------------

TWENTY_RULES: dict[str, dict[str, Any]] = {
    "close_contact": _rule(
        "last_exposure",
        [_phase(CENT, 5, [1, 2, 3, 5]), _phase(HOME_ISO, 3, [1, 3])],
        "「5+3」：5 天集中隔离 + 3 天居家隔离（赋码管理、不得外出）；集中隔离第 1、2、3、5 天核酸检测，"
        "居家隔离第 1、3 天检测。[S11]",
    ),
    "entrant": _rule(
        "arrival",
        [_phase(CENT, 5, [1, 2, 3, 5]), _phase(HOME_ISO, 3, [1, 3])],
        "5 天集中隔离 + 3 天居家隔离；集中隔离第 1、2、3、5 天，居家第 1、3 天核酸检测；"
        "登机前 48 小时核酸检测。[S11c]",
    ),
    "high_risk_arrival": _rule(
        "left_area",
        [_phase(HOME_ISO, 7, [1, 3, 5, 7])],
        "高风险区外溢人员 7 天居家隔离，第 1、3、5、7 天核酸检测。[S11]",
    ),
    "low_risk_arrival": _rule(
        "arrival",
        [_phase(TESTS, 3, [1, 3])],
        "原则同第九版；多地保留「三天两检」（如沈阳：3 天内 2 次，间隔 24 小时），取第 1、3 天。[S15d]",
    ),
    "case": PRE9_RULES["case"],
}

TWENTY_DOWNGRADE = [_down("high", "low", 5, True)]

TWENTY_NOTES = (
    "按 domain-rules.md §1.4「二十条」一列编码。不再判定密接的密接（次密接阳性率 3.1/10 万）[S11][S11d]；"
    "风险区只分高、低两级，取消中风险区（中风险地区来返人员按低风险地区处理）[S11]。高风险区连续 5 天"
    "无新增感染降为低风险区，2022-11-21 风险区划定方案另加第 5 天全员核酸筛查阴性。[S11][S16d] "
    "闭环管理高风险岗位人员离开闭环后 5 天居家健康监测（第 1、3、5 天检测）不属于本平台的人员类别，未编码。"
    "密接追溯 2 天（本县调整上限 4 天）。"
)

# --- ten new measures -------------------------------------------------------------------------

TEN_RULES: dict[str, dict[str, Any]] = {
    "close_contact": _rule(
        "last_exposure",
        [_phase(HOME_ISO, 5, [5])],
        "具备条件的 5 天居家隔离（也可自愿集中隔离），第 5 天核酸阴性后解除。[S12]",
    ),
    "case": _rule(
        "diagnosis",
        [_phase(HOME_ISO, 7, [6, 7])],
        "无症状感染者和轻型病例具备居家条件的居家隔离，第 6、7 天核酸 Ct 值均 ≥ 35 解除。[S12]",
        ct_threshold=35,
    ),
}

TEN_DOWNGRADE = [_down("high", "low", 5, False)]

TEN_NOTES = (
    "按 domain-rules.md §1.4「新十条」一列编码。高风险区按楼栋、单元、楼层、住户划定，不得扩大到小区、"
    "社区和街道，不得采取各种形式的临时封控；「快封快解」：连续 5 天无新增感染即解除（编码为高→低，"
    "不要求全员筛查）。[S12d] 非高风险区不得限制人员流动，跨地区流动人员不查验核酸和健康码、不再落地检 [S12][S12c]："
    "表中高、中、低风险地区来返人员均无措施，本版不规定。入境人员：表中为「—」，本版不规定。"
    "不再判定密接的密接。密接追溯 2 天（本县调整上限 4 天）。"
)

# --- the editions ---------------------------------------------------------------------------------

PRESETS: list[dict[str, Any]] = [
    {
        "code": "v7",
        "name": "新型冠状病毒肺炎防控方案（第七版）",
        "short_name": "第七版",
        "document": "国务院联防联控机制《新型冠状病毒肺炎防控方案（第七版）》[S10]",
        "issued_on": dt.date(2020, 9, 15),
        "risk_levels": ["high", "medium", "low"],
        "downgrade_rules": PRE9_DOWNGRADE,
        "rules": PRE9_RULES,
        "notes": "第七版增加「密接的密接」、境外输入病例等定义，聚集性疫情标准改为 5 例以上。[S10] "
        + PRE9_NOTES,
    },
    {
        "code": "rural-2021",
        "name": "冬春季农村地区新冠肺炎疫情防控工作方案",
        "short_name": "农村冬春方案",
        "document": "国务院联防联控机制《冬春季农村地区新冠肺炎疫情防控工作方案》[S19]",
        "issued_on": dt.date(2021, 1, 20),
        "risk_levels": ["high", "medium", "low"],
        "downgrade_rules": PRE9_DOWNGRADE,
        "rules": {
            **PRE9_RULES,
            "rural_returnee": _rule(
                "arrival",
                [_phase(HHM, 14, [7, 14])],
                "返乡人员持 7 天内核酸阴性证明；抵达后 14 天居家健康监测，第 7 天和第 14 天核酸检测；"
                "网格化管理。[S19]",
            ),
        },
        "notes": "在第七版基础上增加农村地区返乡人员（2021 年春节）。" + PRE9_NOTES,
    },
    {
        "code": "v8",
        "name": "新型冠状病毒肺炎防控方案（第八版）",
        "short_name": "第八版",
        "document": "国务院联防联控机制《新型冠状病毒肺炎防控方案（第八版）》[S8][S9]",
        "issued_on": dt.date(2021, 5, 14),
        "risk_levels": ["high", "medium", "low"],
        "downgrade_rules": PRE9_DOWNGRADE,
        "rules": PRE9_RULES,
        "notes": "密接集中隔离期间采鼻咽拭子，解除时双采双检（两种试剂，尽量两家机构）。[S8c] "
        + PRE9_NOTES,
    },
    {
        "code": "v9",
        "name": "新型冠状病毒肺炎防控方案（第九版）",
        "short_name": "第九版",
        "document": "国务院联防联控机制《新型冠状病毒肺炎防控方案（第九版）》[S1][S2]",
        "issued_on": dt.date(2022, 6, 28),
        "risk_levels": ["high", "medium", "low"],
        "downgrade_rules": V9_DOWNGRADE,
        "rules": V9_RULES,
        "notes": V9_NOTES,
    },
    {
        "code": "twenty",
        "name": "关于进一步优化新冠肺炎疫情防控措施 科学精准做好防控工作的通知（二十条）",
        "short_name": "二十条",
        "document": "国务院联防联控机制综合组《关于进一步优化新冠肺炎疫情防控措施 科学精准做好防控工作的通知》[S11]",
        "issued_on": dt.date(2022, 11, 11),
        "risk_levels": ["high", "low"],
        "downgrade_rules": TWENTY_DOWNGRADE,
        "rules": TWENTY_RULES,
        "notes": TWENTY_NOTES,
    },
    {
        "code": "ten",
        "name": "关于进一步优化落实新冠肺炎疫情防控措施的通知（新十条）",
        "short_name": "新十条",
        "document": "国务院联防联控机制综合组《关于进一步优化落实新冠肺炎疫情防控措施的通知》[S12]",
        "issued_on": dt.date(2022, 12, 7),
        "risk_levels": ["high", "low"],
        "downgrade_rules": TEN_DOWNGRADE,
        "rules": TEN_RULES,
        "notes": TEN_NOTES,
    },
]

PRESET_CODES = tuple(p["code"] for p in PRESETS)


def preset_fields(preset: dict[str, Any]) -> dict[str, Any]:
    """The PolicyEdition fields of one preset (all but its code)."""
    return {
        "name": preset["name"],
        "short_name": preset["short_name"],
        "document": preset["document"],
        "issued_on": preset["issued_on"],
        "kind": "national",
        "base": None,
        "jurisdiction": None,
        "lookback_days": LOOKBACK_DAYS,
        "risk_levels": list(preset["risk_levels"]),
        "downgrade_rules": [dict(r) for r in preset["downgrade_rules"]],
        "rules": {k: _copy(v) for k, v in preset["rules"].items()},
        "ceilings": dict(CEILINGS),
        "notes": preset["notes"],
    }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def presets_apply(edition_model: Any) -> tuple[int, int]:
    """Create or refresh the national presets on `edition_model` (the PolicyEdition class, or
    the historical model inside a migration). Returns (created, updated)."""
    created = updated = 0
    for preset in PRESETS:
        fields = preset_fields(preset)
        row = edition_model.objects.filter(code=preset["code"]).first()
        if row is None:
            edition_model.objects.create(code=preset["code"], **fields)
            created += 1
            continue
        changed = [name for name, value in fields.items() if getattr(row, name) != value]
        if changed:
            for name in changed:
                setattr(row, name, fields[name])
            row.save(update_fields=changed)
            updated += 1
    return created, updated
