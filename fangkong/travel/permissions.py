"""Who may do what with arrivals and assist requests (issue 4's role table, as data).

Where (the data scope) is decided by `fangkong.core.scope`; this module only answers which
roles may act. Reading follows the scope alone (selectors).
"""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import Role

# Who may register an arrival ...
REGISTER_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.VILLAGE_OFFICER,
        Role.TOWN_OFFICER,
        Role.COMMANDER,
        Role.CHECKPOINT_STAFF,
        Role.ADMIN,
    }
)
# ... and who may do so for any grid of the county (the others: grids in their jurisdiction).
COUNTY_WIDE_REGISTER_ROLES = frozenset({Role.COMMANDER, Role.ADMIN, Role.CHECKPOINT_STAFF})
# Assist requests are the county headquarters' correspondence.
ASSIST_WRITE_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})


def role_of(user: Any) -> str:
    """The user's role; a superuser acts as a system administrator; nobody has none."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return ""
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    return getattr(user, "role", "") or ""


def can_register(user: Any) -> bool:
    return role_of(user) in REGISTER_ROLES


def registers_county_wide(user: Any) -> bool:
    return role_of(user) in COUNTY_WIDE_REGISTER_ROLES


def is_checkpoint(user: Any) -> bool:
    return role_of(user) == Role.CHECKPOINT_STAFF


def can_write_assist(user: Any) -> bool:
    return role_of(user) in ASSIST_WRITE_ROLES
