from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.scope import code_in_scope

from .models import Division

URBAN_VILLAGE_MAX = 199  # NBS: residents' committees 001-199, villagers' committees 200-399


def _can_edit(actor: Any) -> bool:
    policy = getattr(actor, "policy", None)
    return bool(policy and policy.can_edit_divisions)


def kind_for_code(code: str, name: str = "") -> str:
    """Urban or rural from the statistical code (and the name where the code is not NBS)."""
    if len(code) == 12:
        seq = int(code[9:12])
        return Division.Kind.URBAN if seq <= URBAN_VILLAGE_MAX else Division.Kind.RURAL
    if len(code) == 9:
        town = int(code[6:9])
        if town < 100:
            return Division.Kind.URBAN
        return Division.Kind.RURAL if town < 400 else Division.Kind.OTHER
    if "社区" in name or "小区" in name or "街道" in name:
        return Division.Kind.URBAN
    return Division.Kind.RURAL


def _validate(
    *, code: str, name: str, parent: Division | None, errors: dict[str, list[str]]
) -> None:
    if not code.isdigit():
        errors.setdefault("code", []).append(_("区划代码只能由数字组成"))
    if not name:
        errors.setdefault("name", []).append(_("名称不能为空"))
    elif len(name) > 100:
        errors.setdefault("name", []).append(_("名称不能超过100个字符"))
    if parent is None:
        if len(code) != 6:
            errors.setdefault("code", []).append(_("县级区划代码应为6位"))
        return
    if parent.level >= Division.Level.GRID:
        errors.setdefault("parent_code", []).append(_("小网格下不能再设下级"))
    if not code.startswith(parent.code) or len(code) <= len(parent.code):
        errors.setdefault("code", []).append(_("下级代码必须以上级代码开头并且更长"))


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
    _validate(code=code, name=name, parent=parent, errors=errors)
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
        errors: dict[str, list[str]] = {}
        existing = known.get(code)
        if existing is not None:
            if name and name != existing.name:
                existing.name = name
                existing.save(update_fields=["name", "updated_at"])
                result.updated += 1
            continue
        parent = known.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            errors["parent_code"] = [_("上级区划不存在")]
        if parent_code is None and has_root:
            errors["parent_code"] = [_("县级区划已存在，请指定上级区划")]
        _validate(code=code, name=name, parent=parent if parent_code else None, errors=errors)
        if parent is not None and not code_in_scope(viewer=actor, code=parent.code):
            errors["parent_code"] = [_("上级区划不存在")]
        if errors:
            result.errors.append({"row": row_number, "values": dict(row), "errors": errors})
            continue
        division = Division(
            code=code,
            name=name,
            parent=parent,
            level=0 if parent is None else parent.level + 1,
            kind=str(row.get("kind") or "") or kind_for_code(code, name),
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
