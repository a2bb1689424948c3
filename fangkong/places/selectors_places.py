"""Reads of the place registry: the scoped list and detail, the public lookup by venue code, and
the stay rules (a `StayRule` row, else the defaults in defaults.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fangkong.accounts.roles import Role
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import scope_by_division, subtree_q

from .defaults import DEFAULT_STAY_RULES, FALLBACK_STAY_RULE
from .models import Place, PlaceKind, StayRule

# Who registers and edits places (within their scope); everyone else in scope reads them.
MANAGE_ROLES = frozenset(
    {Role.COMMANDER, Role.ADMIN, Role.TOWN_OFFICER, Role.VILLAGE_OFFICER, Role.INSPECTOR}
)
# Who sets the county's stay rules.
RULE_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})

# Venue codes: no 0/O, 1/I/L, so a code read aloud or typed from a poster is not misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def _role(viewer: Any) -> str:
    if not getattr(viewer, "is_authenticated", False) or not getattr(viewer, "is_active", True):
        return ""
    if getattr(viewer, "is_superuser", False):
        return Role.ADMIN
    return getattr(viewer, "role", "") or ""


def can_manage_places(*, viewer: Any) -> bool:
    return _role(viewer) in MANAGE_ROLES


def can_set_stay_rules(*, viewer: Any) -> bool:
    return _role(viewer) in RULE_ROLES


def _normalize_code(code: Any) -> str:
    """A venue code as typed: case and spaces do not matter."""
    return "".join(str(code or "").split()).upper()


def place_list(
    *,
    viewer: Any,
    kind: str | None = None,
    division: str | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> QuerySet[Place]:
    qs = scope_by_division(
        Place.objects.select_related("division"), viewer=viewer, field="division_id"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if division:
        qs = qs.filter(subtree_q("division_id", division))
    if active is not None:
        qs = qs.filter(active=active)
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(name__contains=text) | Q(address__contains=text) | Q(code=_normalize_code(text))
        )
    return qs.order_by("division_id", "name", "pk")


def access_place_by_id(*, viewer: Any, place_id: Any) -> Place:
    """The place if it exists and lies in the viewer's scope; NotFound otherwise (the same)."""
    try:
        return place_list(viewer=viewer).get(pk=int(place_id))
    except (Place.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def place_by_code(*, code: str) -> Place | None:
    """Public (the poster's code, no viewer): the place, open or closed; None if unknown."""
    text = _normalize_code(code)
    if not text:
        return None
    return Place.objects.select_related("division").filter(code=text).first()


def code_taken(*, code: str) -> bool:
    return Place.objects.filter(code=code).exists()


def stay_for(*, kind: str) -> tuple[int, int]:
    """(stay_minutes, cap_minutes) for a kind of place: the county's rule, else the default."""
    row = StayRule.objects.filter(kind=kind).values_list("stay_minutes", "cap_minutes").first()
    if row is not None:
        return int(row[0]), int(row[1])
    return DEFAULT_STAY_RULES.get(kind, FALLBACK_STAY_RULE)


def stay_rule_table() -> list[dict[str, Any]]:
    """Every kind with its rule in force and the default, for the rules page and the API."""
    rows = {r.kind: r for r in StayRule.objects.all()}
    table = []
    for kind, label in PlaceKind.choices:
        default = DEFAULT_STAY_RULES.get(kind, FALLBACK_STAY_RULE)
        rule = rows.get(kind)
        table.append(
            {
                "kind": kind,
                "kind_label": str(label),
                "stay_minutes": rule.stay_minutes if rule else default[0],
                "cap_minutes": rule.cap_minutes if rule else default[1],
                "default_stay_minutes": default[0],
                "default_cap_minutes": default[1],
                "is_default": rule is None,
                "updated_at": rule.updated_at if rule else None,
            }
        )
    return table
