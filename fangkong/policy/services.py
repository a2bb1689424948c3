"""Writes of editions and risk areas: activate an edition, adjust one locally within the national
ceilings, declare, change, end and downgrade risk areas.

County HQ (COMMANDER) and administrators may write; `actor=None` is the system (management
commands, the migration that loads the presets). Every write validates all its input first,
writes in one transaction and leaves one audit event.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.timeutils import local_today
from fangkong.core.validators import FormatError
from fangkong.geo.models import Division
from fangkong.geo.regions import region_lookup

from .ceilings import added_category_error, ceiling_errors
from .models import RISK_RANK, EditionActivation, PolicyEdition, RiskArea, RiskLevel
from .presets import presets_apply
from .rules import RuleError, parse_rules
from .selectors import can_manage_policy, county_root, downgrade_for

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
AREA_FIELDS = (
    "level",
    "region_code",
    "region_name",
    "detail",
    "start_date",
    "end_date",
    "notice",
    "last_case_on",
)


def _require_manager(actor: Any) -> None:
    if actor is None:
        return  # the system: commands and migrations
    if not can_manage_policy(user=actor):
        raise Forbidden(_("只有县指挥部和系统管理员可以修改防控方案和风险地区。"))


def _text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def _as_date(value: Any, field: str, errors: dict[str, list[str]], *, required: bool) -> Any:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(_("请填写日期"))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("日期格式应为 YYYY-MM-DD"))
        return None


# --- risk areas -------------------------------------------------------------------------------


def _resolve_region(
    code: Any, name: str, errors: dict[str, list[str]]
) -> tuple[str, str, Division | None]:
    """(code, name, county division or None) of a risk area's region code."""
    text = "".join(str(code or "").split())
    if not text:
        errors.setdefault("region_code", []).append(_("请填写区划代码"))
        return "", name, None
    division = Division.objects.filter(code=text).first()
    if division is not None:
        try:
            text, full = region_lookup(text)
        except FormatError:
            full = division.full_name or division.name
        return text, name or full, division
    root = county_root()
    if root is not None and text.startswith(root.code) and len(text) > len(root.code):
        errors.setdefault("region_code", []).append(
            _("本县没有区划代码 %(code)s（请先在“区划与网格”中添加）") % {"code": text}
        )
        return text, name, None
    try:
        text, full = region_lookup(text, name=name)
    except FormatError as exc:
        errors.setdefault("region_code", []).append(str(exc.message))
        return text, name, None
    if len(text) > 6:
        return text, full, None  # the county's full name followed by the given name
    return text, name or full, None


def _clean_area(
    raw: dict[str, Any], *, today: dt.date
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Every field of a risk area checked at once: (clean values, {field: [messages]})."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    level = raw.get("level")
    if level not in RiskLevel.values:
        errors.setdefault("level", []).append(_("风险等级须为高、中、低风险之一"))
    data["level"] = level
    name = _text(raw.get("region_name"), 200)
    code, name, division = _resolve_region(raw.get("region_code"), name, errors)
    data.update(region_code=code, region_name=name, division=division)
    data["detail"] = _text(raw.get("detail"), 300)
    data["notice"] = _text(raw.get("notice"), 300)
    start = _as_date(raw.get("start_date"), "start_date", errors, required=True)
    end = _as_date(raw.get("end_date"), "end_date", errors, required=False)
    last_case = _as_date(raw.get("last_case_on"), "last_case_on", errors, required=False)
    if start is not None and start > today:
        errors.setdefault("start_date", []).append(_("起始日期不能晚于今天"))
    if start is not None and end is not None and end < start:
        errors.setdefault("end_date", []).append(_("截止日期不能早于起始日期"))
    if last_case is not None and last_case > today:
        errors.setdefault("last_case_on", []).append(_("最近新增感染日期不能晚于今天"))
    data.update(start_date=start, end_date=end, last_case_on=last_case)
    return data, errors


def _audit_area(area: RiskArea) -> dict[str, Any]:
    return {
        "level": area.level,
        "region_code": area.region_code,
        "start_date": area.start_date.isoformat(),
        "end_date": area.end_date.isoformat() if area.end_date else None,
    }


@transaction.atomic
def risk_area_create(
    *,
    actor: Any,
    level: str,
    region_code: str,
    region_name: str = "",
    detail: str = "",
    start_date: Any,
    end_date: Any = None,
    notice: str = "",
    last_case_on: Any = None,
    source: str = RiskArea.Source.MANUAL,
    import_job: Any = None,
    previous: RiskArea | None = None,
    today: dt.date | None = None,
) -> RiskArea:
    """Declare a risk area. The region code must be in the GB/T 2260 table (a 9/12/15-digit
    code under a known county is accepted) or be one of the county's own divisions (then the
    area is inside the county and `division` is set). The name comes from the table when empty.
    A future start is refused; an identical area already declared is a Conflict."""
    _require_manager(actor)
    today = today or local_today()
    data, errors = _clean_area(
        {
            "level": level,
            "region_code": region_code,
            "region_name": region_name,
            "detail": detail,
            "start_date": start_date,
            "end_date": end_date,
            "notice": notice,
            "last_case_on": last_case_on,
        },
        today=today,
    )
    if source not in RiskArea.Source.values:
        errors.setdefault("source", []).append(_("未知的来源"))
    if errors:
        raise ValidationFailed(errors)
    same = RiskArea.objects.filter(
        level=data["level"],
        region_code=data["region_code"],
        detail=data["detail"],
        start_date=data["start_date"],
    ).first()
    if same is not None:
        raise Conflict(
            _("该风险地区已登记（#%(id)s，%(start)s 起）。")
            % {"id": same.pk, "start": same.start_date.isoformat()},
            code="policy.risk_area.duplicate",
        )
    area = RiskArea(
        **data,
        source=source,
        import_job=import_job,
        previous=previous,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    area.full_clean(validate_unique=False)
    area.save(force_insert=True)
    audit_record(
        actor=actor,
        verb="policy.risk_area.create",
        target=area,
        data={**_audit_area(area), "source": source},
    )
    return area


def _widened(before: dict[str, Any], after: dict[str, Any], *, today: dt.date) -> bool:
    """Whether a change makes the area cover people it did not cover before."""
    if after["start_date"] < before["start_date"]:
        return True
    if RISK_RANK.get(after["level"], 0) > RISK_RANK.get(before["level"], 0):
        return True
    if before["detail"] and not after["detail"]:
        return True
    if len(after["region_code"]) < len(before["region_code"]):
        return True
    old_end = before["end_date"]
    new_end = after["end_date"]
    # A later (or no) end over days already past covers past arrivals it did not cover.
    return old_end is not None and old_end < today and (new_end is None or new_end > old_end)


@transaction.atomic
def risk_area_update(
    *, actor: Any, area: RiskArea, changes: dict[str, Any], today: dt.date | None = None
) -> tuple[RiskArea, bool]:
    """Change a risk area. Returns (area, widened): widened when the change makes it cover
    more people (an earlier start, a higher level, the detail cleared, a shorter region code,
    a later end over past days), so that the caller sweeps the arrivals again."""
    _require_manager(actor)
    today = today or local_today()
    unknown = sorted(set(changes) - set(AREA_FIELDS))
    if unknown:
        raise ValidationFailed({key: [_("不能修改此字段")] for key in unknown})
    area = RiskArea.objects.select_for_update().get(pk=area.pk)
    before = {name: getattr(area, name) for name in AREA_FIELDS}
    raw = {**before, **changes}
    if "region_code" in changes and "region_name" not in changes:
        raw["region_name"] = ""  # the new code's name from the table
    data, errors = _clean_area(raw, today=today)
    if "start_date" not in changes and errors.get("start_date"):
        errors.pop("start_date")  # an area that started earlier keeps its start
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name in (*AREA_FIELDS, "division") if getattr(area, name) != data[name]]
    if not changed:
        return area, False
    widened = _widened(before, data, today=today)
    for name in changed:
        setattr(area, name, data[name])
    area.full_clean(validate_unique=False)
    area.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        verb="policy.risk_area.update",
        target=area,
        data={"fields": sorted(changed), "widened": widened, **_audit_area(area)},
    )
    return area, widened


@transaction.atomic
def risk_area_end(*, actor: Any, area: RiskArea, end_date: Any, reason: str) -> RiskArea:
    """End a risk area on `end_date` (its last day in force), citing the notice or reason."""
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    end = _as_date(end_date, "end_date", errors, required=True)
    reason = _text(reason, 200)
    if not reason:
        errors.setdefault("reason", []).append(_("请填写结束依据（如解除通告）"))
    area = RiskArea.objects.select_for_update().get(pk=area.pk)
    if end is not None and end < area.start_date:
        errors.setdefault("end_date", []).append(
            _("截止日期不能早于起始日期 %(start)s") % {"start": area.start_date.isoformat()}
        )
    if errors:
        raise ValidationFailed(errors)
    area.end_date = end
    area.save(update_fields=["end_date", "updated_at"])
    audit_record(
        actor=actor, verb="policy.risk_area.end", target=area, data=_audit_area(area), reason=reason
    )
    return area


@transaction.atomic
def risk_area_confirm_downgrade(
    *,
    actor: Any,
    area: RiskArea,
    on: Any,
    reason: str = "",
    today: dt.date | None = None,
) -> RiskArea | None:
    """HQ confirms the downgrade of an area inside the county from `on`: the area ends the day
    before, and the lower-level area (same place) starts on `on`, unless the rule lifts it.
    Refused before the earliest day the edition in force allows, and in the future."""
    _require_manager(actor)
    today = today or local_today()
    errors: dict[str, list[str]] = {}
    day = _as_date(on, "on", errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    area = RiskArea.objects.select_for_update().get(pk=area.pk)
    proposal = downgrade_for(area=area, today=today)
    if proposal is None:
        raise Conflict(
            _("该风险地区不能按现行方案降级（须为本县区划内、仍在管控期内且现行方案有降级规则）。"),
            code="policy.risk_area.no_downgrade",
        )
    if day < proposal.earliest_on:
        errors.setdefault("on", []).append(
            _("按现行方案最早可于 %(date)s 降级（%(days)s 天无新增感染）")
            % {"date": proposal.earliest_on.isoformat(), "days": proposal.days}
        )
    if day > today:
        errors.setdefault("on", []).append(_("降级日期不能晚于今天"))
    if day <= area.start_date:
        errors.setdefault("on", []).append(_("降级日期须晚于起始日期"))
    if errors:
        raise ValidationFailed(errors)
    area.end_date = day - dt.timedelta(days=1)
    area.save(update_fields=["end_date", "updated_at"])
    lower = None
    if proposal.to_level is not None:
        lower = RiskArea(
            level=proposal.to_level,
            region_code=area.region_code,
            region_name=area.region_name,
            detail=area.detail,
            division=area.division,
            start_date=day,
            notice=_text(reason, 300) or area.notice,
            source=RiskArea.Source.DOWNGRADE,
            previous=area,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        lower.full_clean(validate_unique=False)
        lower.save(force_insert=True)
    audit_record(
        actor=actor,
        verb="policy.risk_area.downgrade",
        target=area,
        data={
            "from": proposal.from_level,
            "to": proposal.to_level,
            "on": day.isoformat(),
            "screening": proposal.needs_screening,
            "new_id": lower.pk if lower else None,
        },
        reason=reason or None,
    )
    return lower


# --- editions ---------------------------------------------------------------------------------


@transaction.atomic
def edition_activate(
    *, actor: Any, edition: PolicyEdition, effective_from: Any, reason: str = ""
) -> EditionActivation:
    """Put an edition in force in the county from a date (past dates allowed: it applies from
    that date; measures already issued keep the phases they were given)."""
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    day = _as_date(effective_from, "effective_from", errors, required=True)
    root = county_root()
    if root is None:
        errors.setdefault("edition", []).append(_("尚未导入本县区划，无法启用方案"))
    national = edition.base if edition.kind == PolicyEdition.Kind.LOCAL else edition
    if day is not None and national is not None and day < national.issued_on:
        errors.setdefault("effective_from", []).append(
            _("生效日期不能早于国家方案的发布日期 %(date)s")
            % {"date": national.issued_on.isoformat()}
        )
    if errors:
        raise ValidationFailed(errors)
    if EditionActivation.objects.filter(jurisdiction=root, effective_from=day).exists():
        raise Conflict(
            _("%(date)s 已有启用记录；同一天只能启用一个方案。") % {"date": day.isoformat()},
            code="policy.activation.duplicate",
            errors={"effective_from": [_("该日期已有启用记录")]},
        )
    activation = EditionActivation(
        edition=edition,
        jurisdiction=root,
        effective_from=day,
        reason=_text(reason, 200),
        activated_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    activation.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            activation.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _("%(date)s 已有启用记录；同一天只能启用一个方案。") % {"date": day.isoformat()},
            code="policy.activation.duplicate",
        ) from None
    audit_record(
        actor=actor,
        verb="policy.edition.activate",
        target=activation,
        data={"edition": edition.code, "effective_from": day.isoformat()},
        reason=reason or None,
    )
    return activation


def _merged_rules(
    base: PolicyEdition, changes: Any, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The base's rules with `changes` applied: a category's dict replaces the base's fields it
    names (counts_from, release and note stay the base's when left out); None removes it."""
    rules = copy.deepcopy(base.rules or {})
    if not isinstance(changes, dict):
        errors.setdefault("rules", []).append(_("须为对象：人员类别 -> 管控规则"))
        return rules
    for category, change in changes.items():
        if change is None:
            rules.pop(category, None)
            continue
        if not isinstance(change, dict):
            errors.setdefault(f"rules.{category}", []).append(_("须为对象"))
            continue
        rules[category] = {**rules.get(category, {}), **copy.deepcopy(change)}
    return rules


@transaction.atomic
def edition_adjust(
    *,
    actor: Any,
    base: PolicyEdition,
    code: str,
    name: str,
    rules_changes: dict[str, Any],
    lookback_days: int | None = None,
    notes: str = "",
) -> PolicyEdition:
    """A local adjustment of a national edition. Refused, naming the category and the national
    ceiling, when it goes beyond the base (policy.ceilings); milder or shorter is allowed."""
    _require_manager(actor)
    errors: dict[str, list[str]] = {}
    code = str(code or "").strip().lower()
    name = _text(name, 100)
    if base.kind != PolicyEdition.Kind.NATIONAL:
        errors.setdefault("base", []).append(_("只能在国家方案的基础上调整"))
    if not CODE_RE.match(code):
        errors.setdefault("code", []).append(
            _("代码须为 2–40 位小写字母、数字或连字符，如 v9-meixian")
        )
    elif PolicyEdition.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(_("代码已被使用"))
    if not name:
        errors.setdefault("name", []).append(_("请填写名称"))
    lookback = base.lookback_days if lookback_days is None else lookback_days
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
        errors.setdefault("lookback_days", []).append(_("密接追溯天数须为正整数"))
        lookback = base.lookback_days
    root = county_root()
    if root is None:
        errors.setdefault("base", []).append(_("尚未导入本县区划，无法制定本县调整"))
    rules = _merged_rules(base, rules_changes, errors)
    # A category the base does not determine is refused as such (ceiling a), whatever it says.
    added = [c for c in rules if c not in (base.rules or {})]
    for category in added:
        errors.setdefault(f"rules.{category}", []).append(added_category_error(category))
    parsed = None
    try:
        parsed = parse_rules({c: v for c, v in rules.items() if c not in added})
    except RuleError as exc:
        for key, messages in exc.errors.items():
            errors.setdefault(key, []).extend(messages)
    if parsed is not None and base.kind == PolicyEdition.Kind.NATIONAL:
        for key, messages in ceiling_errors(
            base=base, rules=parsed, lookback_days=lookback
        ).items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    edition = PolicyEdition(
        code=code,
        name=name,
        short_name=name[:30],
        document="",
        issued_on=local_today(),
        kind=PolicyEdition.Kind.LOCAL,
        base=base,
        jurisdiction=root,
        lookback_days=lookback,
        risk_levels=list(base.risk_levels or []),
        downgrade_rules=copy.deepcopy(base.downgrade_rules or []),
        rules=rules,
        ceilings=dict(base.ceilings or {}),
        notes=str(notes or "").strip(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    edition.full_clean(validate_unique=False)
    edition.save(force_insert=True)
    changed = sorted(
        k for k in set(rules) | set(base.rules or {}) if rules.get(k) != (base.rules or {}).get(k)
    )
    audit_record(
        actor=actor,
        verb="policy.edition.adjust",
        target=edition,
        data={"code": code, "base": base.code, "categories": changed, "lookback_days": lookback},
    )
    return edition


@transaction.atomic
def edition_presets_refresh(*, actor: Any) -> tuple[int, int]:
    """Create or refresh the six national editions from policy/presets.py: (created, updated).
    Measures already issued keep their copies of the phases."""
    _require_manager(actor)
    created, updated = presets_apply(PolicyEdition)
    audit_record(
        actor=actor,
        verb="policy.edition.presets_refresh",
        target_type="policy.policyedition",
        data={"created": created, "updated": updated},
    )
    return created, updated
