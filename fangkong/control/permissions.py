"""Who may do what with measures and the loop (issue 4's role table, as data).

Where (the data scope) is decided by `fangkong.core.scope`; this module only answers which
roles may act. Reading follows the scope alone: everyone with a role reads the orders and tasks
of their jurisdiction (the leader and the epidemiologists county-wide, read-only).
"""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import Role

# Confirm, change, cancel, transfer out, advance, release an order.
ORDER_WRITE_ROLES = frozenset(
    {Role.GRID_WORKER, Role.VILLAGE_OFFICER, Role.TOWN_OFFICER, Role.COMMANDER, Role.ADMIN}
)
# Complete a step of a loop task (acknowledge, visit, measure in place).
STEP_ROLES = frozenset({Role.GRID_WORKER, Role.VILLAGE_OFFICER, Role.TOWN_OFFICER, Role.COMMANDER})
# Change the county's loop clocks.
SETTINGS_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})

# The escalation level a role answers at ("需要您督办"): Escalation values.
ROLE_ESCALATION_LEVEL = {
    Role.VILLAGE_OFFICER: 1,
    Role.TOWN_OFFICER: 2,
    Role.COMMANDER: 3,
    Role.LEADER: 3,
    Role.ADMIN: 3,
}


def role_of(user: Any) -> str:
    """The user's role; a superuser acts as a system administrator; nobody has none."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return ""
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    return getattr(user, "role", "") or ""


def can_write_orders(user: Any) -> bool:
    return role_of(user) in ORDER_WRITE_ROLES


def can_complete_steps(user: Any) -> bool:
    return role_of(user) in STEP_ROLES


def can_change_settings(user: Any) -> bool:
    return role_of(user) in SETTINGS_ROLES


def escalation_level_for(user: Any) -> int | None:
    """The tier whose escalations this user supervises, or None (grid workers, other roles)."""
    return ROLE_ESCALATION_LEVEL.get(role_of(user))
