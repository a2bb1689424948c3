"""Who does what at quarantine sites and with people under measures (roles as data).

Where is decided by the selectors: sites by their division in the viewer's scope, or, for site
staff, the sites they are on the staff of (`SiteStaff`); people at home by their order's grid.
"""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import Role
from fangkong.control.permissions import role_of

__all__ = ["role_of"]  # the one reading of a user's role, shared with control

# Create and change sites, rooms and staff lists; change the county's quarantine settings.
SITE_ADMINS = frozenset({Role.COMMANDER, Role.ADMIN})
# Work at a site: assign, transfer and check out rooms, record health checks and test results.
SITE_WORKERS = frozenset({Role.SITE_STAFF, Role.MEDICAL_STAFF, Role.COMMANDER, Role.ADMIN})
# Look after people at home: the daily list, door visits, health checks, alerts.
HOME_CARERS = frozenset(
    {Role.GRID_WORKER, Role.VILLAGE_OFFICER, Role.TOWN_OFFICER, Role.COMMANDER, Role.ADMIN}
)
# Read sites, occupancy and the forecast.
READERS = SITE_WORKERS | HOME_CARERS | {Role.LEADER, Role.EPIDEMIOLOGIST}
# Sites whose list is every site in the county, whatever their jurisdiction says.
COUNTY_WIDE = frozenset({Role.COMMANDER, Role.ADMIN, Role.LEADER, Role.EPIDEMIOLOGIST})


def can_admin_sites(user: Any) -> bool:
    return role_of(user) in SITE_ADMINS


def can_work_at_sites(user: Any) -> bool:
    return role_of(user) in SITE_WORKERS


def can_care_at_home(user: Any) -> bool:
    return role_of(user) in HOME_CARERS


def can_read(user: Any) -> bool:
    return role_of(user) in READERS
