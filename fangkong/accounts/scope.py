"""Where each account's data scope comes from. Applied by fangkong.core.scope everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .roles import Role

if TYPE_CHECKING:
    from .models import User


def scope_codes_for(user: User) -> list[str] | None:
    """Division codes whose subtrees the user may see: None = all (system administrators).

    * a superuser or a system administrator without a jurisdiction: everything;
    * a grid worker with assigned small grids: exactly those grids;
    * everyone else: the subtree of their jurisdiction; no jurisdiction, nothing.
    """
    if not user.is_active:
        return []
    if user.is_superuser:
        return None
    if user.role == Role.ADMIN and user.jurisdiction_id is None:
        return None
    if user.role == Role.GRID_WORKER:
        worker = getattr(user, "grid_worker", None) if hasattr(user, "grid_worker") else None
        if worker is not None and worker.active:
            codes = sorted(worker.grids.values_list("code", flat=True))
            if codes:
                return codes
    if user.jurisdiction_id is None:
        return []
    return [user.jurisdiction_id]
