from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_by_division, subtree_q

from .models import Division


def division_list(
    *,
    viewer: Any,
    parent: str | None = None,
    level: int | None = None,
    within: str | None = None,
) -> QuerySet[Division]:
    """Divisions the viewer may see, optionally children of `parent`, at `level`, or in a subtree."""
    qs = scope_by_division(Division.objects.all(), viewer=viewer, field="code")
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    if level is not None:
        qs = qs.filter(level=level)
    if within is not None:
        qs = qs.filter(subtree_q("code", within))
    return qs.order_by("code")


def access_division_by_code(*, viewer: Any, code: str) -> Division:
    try:
        return division_list(viewer=viewer).get(code=code)
    except Division.DoesNotExist:
        raise NotFound(_("区划不存在。")) from None


def division_get(*, code: str) -> Division | None:
    """Unscoped lookup for services that validate a code the caller already may use."""
    return Division.objects.filter(code=code).first()


def division_ancestors(*, division: Division) -> list[Division]:
    """Root first, ending with the division itself: one query."""
    by_code = Division.objects.in_bulk(division.ancestor_codes())
    return [by_code[c] for c in division.ancestor_codes() if c in by_code]


def division_root() -> Division | None:
    return Division.objects.filter(level=Division.Level.COUNTY).order_by("code").first()


def division_viewer_roots(*, viewer: Any) -> list[Division]:
    """The top divisions of a viewer's scope (the county for HQ, the grids for a grid worker)."""
    codes = viewer.scope_codes() if getattr(viewer, "is_authenticated", False) else []
    if codes is None:
        return list(Division.objects.filter(level=Division.Level.COUNTY).order_by("code"))
    return list(Division.objects.filter(code__in=codes).order_by("code"))
