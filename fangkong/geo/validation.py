"""Checks of a division row, shared by the division services and the divisions importer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.scope import code_in_scope

from .models import Division


def validate_division(
    *,
    code: str,
    name: str,
    parent: Division | None,
    errors: dict[str, list[str]],
    parent_given: bool = False,
) -> None:
    if not code.isdigit():
        errors.setdefault("code", []).append(_("区划代码只能由数字组成"))
    if not name:
        errors.setdefault("name", []).append(_("名称不能为空"))
    elif len(name) > 100:
        errors.setdefault("name", []).append(_("名称不能超过100个字符"))
    if parent is None:
        if not parent_given and len(code) != 6:
            errors.setdefault("code", []).append(_("县级区划代码应为6位"))
        return
    if parent.level >= Division.Level.GRID:
        errors.setdefault("parent_code", []).append(_("小网格下不能再设下级"))
    if not code.startswith(parent.code) or len(code) <= len(parent.code):
        errors.setdefault("code", []).append(_("下级代码必须以上级代码开头并且更长"))


def division_row_errors(
    *,
    actor: Any,
    code: str,
    name: str,
    parent_code: str | None,
    kind: str,
    known: dict[str, Division],
    has_root: bool,
) -> dict[str, list[str]]:
    """What is wrong with one row of a division list ({} when it can be saved).

    `known` holds the divisions already there (by code), including the rows saved before this
    one; an existing code is an update of its name. Shared by division_import and the
    divisions importer of the import engine (geo/importers.py).
    """
    errors: dict[str, list[str]] = {}
    existing = known.get(code)
    if existing is not None:
        if not code_in_scope(viewer=actor, code=code):
            errors["code"] = [_("区划代码不存在或不在您的管辖范围内")]
        elif len(name) > 100:
            errors["name"] = [_("名称不能超过100个字符")]
        return errors
    parent = known.get(parent_code) if parent_code else None
    if parent_code and parent is None:
        errors["parent_code"] = [_("上级区划不存在")]
    if parent_code is None and has_root:
        errors["parent_code"] = [_("县级区划已存在，请指定上级区划")]
    validate_division(
        code=code,
        name=name,
        parent=parent if parent_code else None,
        errors=errors,
        parent_given=bool(parent_code),
    )
    if parent is not None and not code_in_scope(viewer=actor, code=parent.code):
        errors["parent_code"] = [_("上级区划不存在")]
    if kind and kind not in Division.Kind.values:
        errors["kind"] = [_("城乡类型无效")]
    return errors
