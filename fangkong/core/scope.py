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


def scope_q(*, viewer: Any, field: str) -> Q | None:
    """A Q limiting `field` (a division code) to the viewer's subtrees; None if unlimited."""
    codes = viewer_codes(viewer)
    if codes is None:
        return None
    if not codes:
        return Q(pk__in=[])
    q = Q()
    for code in codes:
        q |= subtree_q(field, code)
    return q


def scope_by_division[M: Model](qs: QuerySet[M], *, viewer: Any, field: str) -> QuerySet[M]:
    q = scope_q(viewer=viewer, field=field)
    return qs if q is None else qs.filter(q)


def code_in_scope(*, viewer: Any, code: str | None) -> bool:
    codes = viewer_codes(viewer)
    if codes is None:
        return True
    if not code:
        return False
    return any(code.startswith(c) for c in codes)
