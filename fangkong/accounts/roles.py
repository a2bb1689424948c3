"""Roles, what each may do, and what each sees of personal data. Rules as data, in one table."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMANDER = "commander", _("县指挥部")
    LEADER = "leader", _("县领导（只读）")
    TOWN_OFFICER = "town_officer", _("镇（街道）干部")
    VILLAGE_OFFICER = "village_officer", _("村（社区）干部")
    GRID_WORKER = "grid_worker", _("网格员")
    CHECKPOINT_STAFF = "checkpoint_staff", _("卡点值守人员")
    EPIDEMIOLOGIST = "epidemiologist", _("流调人员")
    LAB_STAFF = "lab_staff", _("采样/检测人员")
    SITE_STAFF = "site_staff", _("隔离点工作人员")
    MEDICAL_STAFF = "medical_staff", _("医务人员")
    INSPECTOR = "inspector", _("督查检查人员")
    LIAISON = "liaison", _("企业联络员")
    ADMIN = "admin", _("系统管理员")


FULL = "full"
MASKED = "masked"
SURNAME = "surname"


@dataclass(frozen=True)
class RolePolicy:
    """What a role may do and see. `name` is FULL or SURNAME; `phone`/`address` FULL or MASKED.

    ID numbers are masked for every role on screen; a reveal (with a reason, audited) shows them.
    """

    name: str
    phone: str
    address: str
    can_reveal: bool
    can_edit_people: bool
    can_edit_divisions: bool = False
    can_view_audit: bool = False
    county_wide: bool = False


ROLE_POLICIES: dict[str, RolePolicy] = {
    Role.COMMANDER: RolePolicy(FULL, MASKED, FULL, True, True, True, False, True),
    Role.LEADER: RolePolicy(SURNAME, MASKED, MASKED, False, False, False, False, True),
    Role.TOWN_OFFICER: RolePolicy(FULL, MASKED, FULL, True, True),
    Role.VILLAGE_OFFICER: RolePolicy(FULL, MASKED, FULL, True, True),
    Role.GRID_WORKER: RolePolicy(FULL, FULL, FULL, True, True),
    Role.CHECKPOINT_STAFF: RolePolicy(FULL, MASKED, MASKED, True, False),
    Role.EPIDEMIOLOGIST: RolePolicy(FULL, FULL, FULL, True, False),
    Role.LAB_STAFF: RolePolicy(SURNAME, MASKED, MASKED, False, False),
    Role.SITE_STAFF: RolePolicy(FULL, MASKED, MASKED, True, False),
    Role.MEDICAL_STAFF: RolePolicy(FULL, FULL, MASKED, True, False),
    Role.INSPECTOR: RolePolicy(SURNAME, MASKED, MASKED, False, False),
    Role.LIAISON: RolePolicy(SURNAME, MASKED, MASKED, False, False),
    Role.ADMIN: RolePolicy(FULL, MASKED, FULL, True, True, True, True, True),
}

NO_ACCESS = RolePolicy(SURNAME, MASKED, MASKED, False, False)


def policy_for(user: object) -> RolePolicy:
    if not getattr(user, "is_authenticated", False):
        return NO_ACCESS
    if getattr(user, "is_superuser", False):
        return ROLE_POLICIES[Role.ADMIN]
    return ROLE_POLICIES.get(getattr(user, "role", ""), NO_ACCESS)
