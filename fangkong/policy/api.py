"""API: policy editions (read, activate, adjust locally) and the GB/T 2260 region lookup.

Risk-area routes are in travel/api_risk.py (they sweep arrivals after a change).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from fangkong.core.exceptions import Forbidden, NotFound, ValidationFailed
from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError
from fangkong.geo.models import Region
from fangkong.geo.regions import region_lookup, region_row, regions_tree_json

from .models import CountsFrom, EditionActivation, PhaseKind, PolicyEdition
from .presenters import (
    CATEGORY_ORDER,
    category_label,
    counts_from_label,
    describe_downgrade,
    describe_release,
    describe_rule,
    level_label,
    phase_short,
)
from .selectors import (
    access_edition_by_code,
    activation_in_force,
    activation_list,
    can_manage_policy,
    edition_in_force,
    edition_list,
)
from .services import edition_activate, edition_adjust

router = Router(tags=["防控方案"])

CODE_HELP = "方案代码：v7 第七版、rural-2021 冬春季农村方案、v8、v9、twenty 二十条、ten 新十条，或本县调整的代码"


# ---------------------------------------------------------------------------------------------
# Schemas


class RulePhaseOut(Schema):
    kind: str = Field(
        ..., description="措施类型：" + "，".join(f"{k} {v}" for k, v in PhaseKind.choices)
    )
    kind_label: str
    days: int | None = Field(None, description="天数；null 表示至解除条件满足")
    test_days: list[int] = Field(..., description="本段第几天核酸检测")


class ReleaseOut(Schema):
    double_test: bool = Field(..., description="解除前双采双检")
    ct_threshold: int | None = Field(None, description="解除须 Ct 值不低于此数")
    wait_for_source_tests: int = Field(..., description="次密接：须对应密接前几次检测阴性")


class RuleOut(Schema):
    category: str = Field(..., description="人员类别")
    category_label: str
    counts_from: str = Field(..., description="起算：last_exposure、left_area、arrival、diagnosis")
    counts_from_label: str
    phases: list[RulePhaseOut]
    release: ReleaseOut
    summary: str = Field(
        ..., description="一句话说明，如“集中隔离 7 天（第1、2、3、5、7天检测）+ …”"
    )
    release_summary: str
    note: str = Field(..., description="说明与出处（[S1] 等为 domain-rules.md 的来源编号）")


class DowngradeRuleOut(Schema):
    from_level: str = Field(..., description="原风险等级")
    to_level: str | None = Field(None, description="降为的等级；null 表示解除")
    days: int = Field(..., description="连续无新增感染天数")
    screening: bool = Field(..., description="是否须全员核酸筛查阴性")
    after_downgrade: bool = Field(..., description="是否只适用于由降级而来的地区")
    summary: str


class EditionOut(Schema):
    code: str = Field(..., description="代码")
    name: str
    short_name: str
    document: str = Field(..., description="文件")
    issued_on: dt.date = Field(..., description="发布日期")
    kind: str = Field(..., description="national 国家方案，local 本县调整")
    kind_label: str
    base_code: str | None = Field(None, description="本县调整所依据的国家方案代码")
    lookback_days: int = Field(..., description="密接追溯天数")
    lookback_days_max: int = Field(..., description="密接追溯天数上限（本县调整不得超过）")
    risk_levels: list[str] = Field(..., description="本版划定的风险等级")
    risk_level_labels: list[str]
    downgrade_rules: list[DowngradeRuleOut]
    rules: list[RuleOut] = Field(..., description="各类人员的管控规则；未列出的类别本版不规定")
    notes: str


class InForceOut(Schema):
    on: dt.date = Field(..., description="查询日期")
    source: str = Field(..., description="activation 本县启用，national 未启用时按最新国家方案")
    effective_from: dt.date | None = Field(None, description="本县启用的生效日期")
    edition: EditionOut


class ActivationOut(Schema):
    id: int
    edition_code: str
    edition_name: str
    effective_from: dt.date = Field(..., description="生效日期")
    reason: str = Field(..., description="依据")
    activated_by: str | None = Field(None, description="启用人账号")
    activated_at: dt.datetime


class InForceQuery(Schema):
    on: dt.date | None = Field(None, description="日期 YYYY-MM-DD，默认今天")


class PhaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: PhaseKind = Field(..., description="措施类型")
    days: int | None = Field(None, description="天数；只有最后一段可以为 null（至解除）")
    test_days: list[int] = Field([], description="本段第几天检测，如 [1, 2, 3, 5, 7]")


class RuleReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    double_test: bool = Field(False, description="解除前双采双检")
    ct_threshold: int | None = Field(None, description="解除须 Ct 值不低于此数")
    wait_for_source_tests: int = Field(0, description="次密接：须对应密接前几次检测阴性")


class RuleIn(Schema):
    """The fields given replace the base edition's; the others stay as the base has them."""

    model_config = ConfigDict(extra="forbid")

    counts_from: CountsFrom | None = Field(None, description="起算方式（不得与国家方案不同）")
    phases: list[PhaseIn] | None = Field(None, description="各段措施")
    release: RuleReleaseIn | None = Field(None, description="解除条件")
    note: str | None = Field(None, description="说明")


class EditionAdjustIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["base", "code", "name"]}
    )

    base: str = Field("", description="所依据的国家方案代码，如 v9")
    code: str = Field("", description="本县调整的代码：小写字母、数字、连字符，如 v9-meixian")
    name: str = Field("", description="名称")
    rules: dict[str, RuleIn | None] = Field(
        {},
        description="要调整的人员类别 -> 规则；null 表示本县不对此类人员采取措施。"
        "不得超过国家方案（九不准）：不得新增类别、不得延长、不得加严、不得改变起算方式",
    )
    lookback_days: int | None = Field(None, description="密接追溯天数，不得超过国家上限")
    notes: str = Field("", description="说明与依据")


class ActivateIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["effective_from"]})

    effective_from: dt.date = Field(
        ..., description="生效日期；可为过去的日期，已下达的措施不受影响"
    )
    reason: str = Field("", description="依据（如县指挥部通知）")


class RegionOut(Schema):
    code: str = Field(
        ..., description="规范化的区划代码（省 2 位、市 4 位、县 6 位，更细的 9/12/15 位）"
    )
    full_name: str = Field(..., description="全称，如“北京市朝阳区”")
    name: str = Field(..., description="本级名称")
    level: int | None = Field(None, description="1 省级，2 地级，3 县级；乡镇及以下为 null")
    level_label: str
    parent_code: str | None = Field(None, description="上级区划代码（规范化）")


# ---------------------------------------------------------------------------------------------
# Presenting


def rule_data(category: str, rule: dict[str, Any]) -> dict[str, Any]:
    release = rule.get("release") or {}
    return {
        "category": category,
        "category_label": category_label(category),
        "counts_from": rule.get("counts_from", ""),
        "counts_from_label": counts_from_label(rule.get("counts_from")),
        "phases": [
            {
                "kind": p.get("kind", ""),
                "kind_label": phase_short(p.get("kind", "")),
                "days": p.get("days"),
                "test_days": list(p.get("test_days") or []),
            }
            for p in rule.get("phases") or []
        ],
        "release": {
            "double_test": bool(release.get("double_test")),
            "ct_threshold": release.get("ct_threshold"),
            "wait_for_source_tests": int(release.get("wait_for_source_tests") or 0),
        },
        "summary": describe_rule(rule),
        "release_summary": describe_release(rule),
        "note": rule.get("note", ""),
    }


def edition_data(edition: PolicyEdition) -> dict[str, Any]:
    rules = edition.rules or {}
    ordered = [c for c in CATEGORY_ORDER if c in rules] + sorted(
        c for c in rules if c not in CATEGORY_ORDER
    )
    return {
        "code": edition.code,
        "name": edition.name,
        "short_name": edition.short_name,
        "document": edition.document,
        "issued_on": edition.issued_on,
        "kind": edition.kind,
        "kind_label": str(edition.get_kind_display()),
        "base_code": edition.base.code if edition.base_id else None,
        "lookback_days": edition.lookback_days,
        "lookback_days_max": (edition.ceilings or {}).get(
            "lookback_days_max", edition.lookback_days
        ),
        "risk_levels": list(edition.risk_levels or []),
        "risk_level_labels": [level_label(x) for x in edition.risk_levels or []],
        "downgrade_rules": [
            {
                "from_level": r.get("from"),
                "to_level": r.get("to"),
                "days": r.get("days"),
                "screening": bool(r.get("screening")),
                "after_downgrade": bool(r.get("after_downgrade")),
                "summary": describe_downgrade(r),
            }
            for r in edition.downgrade_rules or []
        ],
        "rules": [rule_data(c, rules[c]) for c in ordered],
        "notes": edition.notes,
    }


def activation_data(activation: EditionActivation) -> dict[str, Any]:
    return {
        "id": activation.pk,
        "edition_code": activation.edition.code,
        "edition_name": activation.edition.name,
        "effective_from": activation.effective_from,
        "reason": activation.reason,
        "activated_by": activation.activated_by.username if activation.activated_by else None,
        "activated_at": activation.activated_at,
    }


def _present_edition(request: HttpRequest, edition: PolicyEdition) -> dict[str, Any]:
    return edition_data(edition)


def _present_activation(request: HttpRequest, activation: EditionActivation) -> dict[str, Any]:
    return activation_data(activation)


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_policy(user=request.auth):
        raise Forbidden(_("只有县指挥部和系统管理员可以启用或调整防控方案。"))


# ---------------------------------------------------------------------------------------------
# Editions


@router.get(
    "/policy-editions",
    response=list[EditionOut],
    summary="防控方案版本列表",
    description="六个国家方案（第七版、冬春季农村方案、第八版、第九版、二十条、新十条）和本县调整，按发布日期排序。",
)
@paginate(present=_present_edition)
def list_editions(request: HttpRequest) -> Any:
    return edition_list(viewer=request.auth)


@router.get(
    "/policy-editions/in-force",
    response=InForceOut,
    summary="某日适用的防控方案",
    description="本县在该日或之前最近一次启用的方案；从未启用时为该日已发布的最新国家方案。",
)
def in_force(request: HttpRequest, query: Query[InForceQuery]) -> Any:
    on = query.on or local_today()
    edition = edition_in_force(on=on)
    if edition is None:
        raise NotFound(_("该日期尚无防控方案（最早的国家方案为 2020-09-15 第七版）。"))
    activation = activation_in_force(on=on)
    return {
        "on": on,
        "source": "activation" if activation is not None else "national",
        "effective_from": activation.effective_from if activation is not None else None,
        "edition": edition_data(edition),
    }


@router.get(
    "/policy-activations",
    response=list[ActivationOut],
    summary="方案启用记录",
    description="本县启用方案的记录，生效日期最近的在前。",
)
@paginate(present=_present_activation)
def list_activations(request: HttpRequest) -> Any:
    return activation_list(viewer=request.auth)


@router.get("/policy-editions/{code}", response=EditionOut, summary="防控方案版本详情")
def get_edition(request: HttpRequest, code: str) -> Any:
    return edition_data(access_edition_by_code(viewer=request.auth, code=code))


@router.post(
    "/policy-editions",
    response={201: EditionOut},
    summary="制定本县调整",
    description="在国家方案基础上调整（只能减轻或缩短）。超出国家上限（九不准）时返回 400，"
    "errors 的键为 rules.<人员类别>，说明写明类别和国家方案上限。只有县指挥部和系统管理员可以调整。",
)
def adjust_edition(request: HttpRequest, payload: EditionAdjustIn) -> Any:
    _require_manager(request)
    try:
        base = access_edition_by_code(viewer=request.auth, code=payload.base)
    except NotFound:
        raise ValidationFailed({"base": [_("国家方案不存在")]}) from None
    changes = {
        category: None if rule is None else rule.model_dump(mode="json", exclude_unset=True)
        for category, rule in payload.rules.items()
    }
    edition = edition_adjust(
        actor=request.auth,
        base=base,
        code=payload.code,
        name=payload.name,
        rules_changes=changes,
        lookback_days=payload.lookback_days,
        notes=payload.notes,
    )
    return Status(201, edition_data(edition))


@router.post(
    "/policy-editions/{code}/activate",
    response={201: ActivationOut},
    summary="启用方案",
    description="自生效日期起本县按此方案提出措施；已下达的措施保留原有分段，不受影响。"
    "同一天只能启用一个方案（409）。只有县指挥部和系统管理员可以启用。",
)
def activate_edition(request: HttpRequest, code: str, payload: ActivateIn) -> Any:
    _require_manager(request)
    edition = access_edition_by_code(viewer=request.auth, code=code)
    activation = edition_activate(
        actor=request.auth,
        edition=edition,
        effective_from=payload.effective_from,
        reason=payload.reason,
    )
    return Status(201, activation_data(activation))


# ---------------------------------------------------------------------------------------------
# Regions (public reference data)


@router.get(
    "/regions/tree",
    response=dict[str, Any],
    summary="全国区划树（省—市—县）",
    description="供级联选择：{provinces: [{code, name}], cities: {省代码: [...]}, counties: {市代码: [...]}}，"
    "代码为规范化形式（省 2 位、市 4 位、县 6 位）。",
    tags=["区划与网格"],
)
def region_tree(request: HttpRequest) -> Any:
    return regions_tree_json()


@router.get(
    "/regions/{code}",
    response=RegionOut,
    summary="查询区划代码（GB/T 2260）",
    description="6 位代码（省、市也可写 2 位、4 位）须在代码表中；9、12、15 位代码须前 6 位为已知县级区划。"
    "未知代码返回 404。",
    tags=["区划与网格"],
)
def get_region(request: HttpRequest, code: str) -> Any:
    try:
        normalized, full_name = region_lookup(code)
    except FormatError as exc:
        raise NotFound(exc.message) from None
    if len(normalized) > 6:
        county = region_row(normalized[:6])
        return {
            "code": normalized,
            "full_name": full_name,
            "name": "",
            "level": None,
            "level_label": _("乡镇及以下"),
            "parent_code": county.prefix if county else normalized[:6],
        }
    region = region_row(normalized)
    if region is None:  # the lookup and the table agree; still, a missing row is a 404
        raise NotFound(_("未知的区划代码。"))
    parent = region_row(region.parent) if region.parent else None
    return {
        "code": normalized,
        "full_name": full_name,
        "name": region.name,
        "level": region.level,
        "level_label": str(Region.Level(region.level).label),
        "parent_code": parent.prefix if parent else None,
    }
