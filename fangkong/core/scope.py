"""The one data-scope filter. Every list, detail, export and API read goes through it.

A viewer's scope is a list of division codes (the roots of the subtrees it may see), or None
for county-wide system administrators. The codes come from `viewer.scope_codes()`, which
fangkong.accounts implements (accounts/scope.py); core only knows how to apply them, so every
app can scope its querysets without importing the accounts app.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.db.models import Model, Q, QuerySet

SUBTREE_END = ":"  # sorts right after "9": every descendant code of X is in [X, X + ":")

M = TypeVar("M", bound=Model)


class Viewer(Protocol):
    is_authenticated: bool

    def scope_codes(self) -> list[str] | None: ...


def subtree_q(field: str, code: str) -> Q:
    return Q(**{f"{field}__gte": code, f"{field}__lt": code + SUBTREE_END})


def viewer_codes(viewer: Any) -> list[str] | None:
    """None = everything; [] = nothing (anonymous, or an account without a jurisdiction)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return []
    scope_codes = getattr(viewer, "scope_codes", None)
    if scope_codes is None:
        return []
    return scope_codes()


def scope_q(*, viewer: Any, field: str, use_index: bool = True) -> Q | None:
    """A Q limiting `field` (a division code) to the viewer's subtrees; None if unlimited.

    With use_index=False the subtree test is written as a prefix match (LIKE 'code%'), which
    SQLite never serves from an index. Selectors pass it when another, more selective
    condition (a name prefix) should drive the index choice: SQLite has no statistics on
    ranges and would otherwise walk the whole county's range of the division index.
    """
    codes = viewer_codes(viewer)
    if codes is None:
        return None
    if not codes:
        return Q(pk__in=[])
    # A foreign key's raw column takes no LIKE lookup; its target key does (and Django trims
    # the join, so this stays a filter on the column itself).
    like_field = f"{field.removesuffix('_id')}__pk" if field.endswith("_id") else field
    q = Q()
    for code in codes:
        q |= subtree_q(field, code) if use_index else Q(**{f"{like_field}__startswith": code})
    return q


def scope_by_division[M: Model](
    qs: QuerySet[M], *, viewer: Any, field: str, use_index: bool = True
) -> QuerySet[M]:
    q = scope_q(viewer=viewer, field=field, use_index=use_index)
    return qs if q is None else qs.filter(q)


def code_in_scope(*, viewer: Any, code: str | None) -> bool:
    codes = viewer_codes(viewer)
    if codes is None:
        return True
    if not code:
        return False
    return any(code.startswith(c) for c in codes)
