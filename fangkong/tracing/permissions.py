"""Who works on cases and contacts. Rules as data: the roles below; the data scope does the rest.

Epidemiologists, the HQ and administrators record and decide; county leaders read. A case is in
a viewer's scope when its division (the case's home grid) is; county-wide roles also see cases
whose home is outside the county or unknown (no division).
"""

from __future__ import annotations

from typing import Any

from fangkong.accounts.roles import Role

WRITERS = frozenset({Role.EPIDEMIOLOGIST, Role.COMMANDER, Role.ADMIN})
READERS = WRITERS | {Role.LEADER}


def role_of(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    return getattr(user, "role", None)


def can_read(user: Any) -> bool:
    return role_of(user) in READERS


def can_write(user: Any) -> bool:
    return role_of(user) in WRITERS
