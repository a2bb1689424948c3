"""The command line acting as the system, when no user account is named."""

from __future__ import annotations


class SystemActor:
    """The command line acting as a county-wide system administrator.

    Services see an authenticated viewer with an unlimited scope and the right to edit
    divisions and people; audit events get no actor (actor_id NULL means "the system"), and
    so do the import jobs it starts.
    """

    is_authenticated = True
    is_active = True
    is_superuser = True
    pk = None
    id = None
    role = "admin"
    username = "system"

    class _Policy:
        can_edit_divisions = True
        can_edit_people = True
        can_view_audit = True
        can_reveal = True
        county_wide = True

    policy = _Policy()

    def scope_codes(self) -> None:
        return None

    def __str__(self) -> str:
        return "system"


SYSTEM_ACTOR = SystemActor()
