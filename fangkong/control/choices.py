"""Small vocabularies of the loop that are not model fields' choices."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitOutcome(models.TextChoices):
    """What the grid worker found at the door (the visit step's `outcome`)."""

    VERIFIED = "verified", _("已核实，本人在住")
    NOT_FOUND = "not_found", _("未找到本人")
    MOVED_AWAY = "moved_away", _("已离开本地")
    WRONG_ADDRESS = "wrong_address", _("地址有误，已另行找到")


# A visit with one of these outcomes does not finish the step: the task stays open, the note
# says what happened, and the village (at least) sees it at once.
VISIT_KEEPS_OPEN = frozenset({VisitOutcome.NOT_FOUND, VisitOutcome.MOVED_AWAY})
