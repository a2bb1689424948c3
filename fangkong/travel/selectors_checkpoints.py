"""Reads of checkpoints (卡口) and their duty rosters, scoped to the viewer.

A checkpoint belongs to its division: a viewer reads the checkpoints in their jurisdiction
(out of scope is NotFound, exactly like missing). The coverage view answers, for each active
checkpoint, which stretches of the next 48 hours nobody is on duty: the shifts of all the
checkpoints are read in one query and merged in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.roles import Role
from fangkong.core import timeutils
from fangkong.core.exceptions import NotFound
from fangkong.core.scope import code_in_scope, scope_by_division, subtree_q

from .models import Checkpoint, DutyShift
from .permissions import role_of

COVERAGE_HOURS = 48
HOUR = dt.timedelta(hours=1)
# Who keeps the registry and the rosters: HQ anywhere, a town officer within their town.
WRITE_ROLES = frozenset({Role.COMMANDER, Role.ADMIN, Role.TOWN_OFFICER})
# Whose home shows the gaps of the checkpoints in their scope (besides a checkpoint's leader).
SCOPE_LEADER_ROLES = WRITE_ROLES


@dataclass(frozen=True)
class Gap:
    """An uncovered stretch of the window: nobody is on duty from `start` to `end`."""

    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return round((self.end - self.start).total_seconds() / 3600, 1)


@dataclass(frozen=True)
class HourSlot:
    """One hour of the timeline: state is "covered", "partial" or "none"."""

    start: dt.datetime
    state: str


@dataclass
class Coverage:
    """The duty coverage of one checkpoint over [window_start, window_end)."""

    checkpoint: Checkpoint
    window_start: dt.datetime
    window_end: dt.datetime
    shifts: list[DutyShift] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def on_duty(self) -> list[DutyShift]:
        """The shifts running at the start of the window (now)."""
        return [s for s in self.shifts if s.starts_at <= self.window_start < s.ends_at]

    @property
    def next_gap(self) -> Gap | None:
        return self.gaps[0] if self.gaps else None

    @property
    def gap_hours(self) -> float:
        return round(sum(g.hours for g in self.gaps), 1)

    def timeline(self) -> list[HourSlot]:
        """Whole local hours from the current one to the end of the window, each marked
        covered, partly covered, or uncovered."""
        local = timezone.localtime(self.window_start)
        cursor = local.replace(minute=0, second=0, microsecond=0)
        slots = []
        while cursor < self.window_end:
            lo, hi = max(cursor, self.window_start), min(cursor + HOUR, self.window_end)
            uncovered = sum(
                (min(g.end, hi) - max(g.start, lo)).total_seconds()
                for g in self.gaps
                if g.start < hi and g.end > lo
            )
            if uncovered <= 0:
                state = "covered"
            elif uncovered >= (hi - lo).total_seconds():
                state = "none"
            else:
                state = "partial"
            slots.append(HourSlot(start=cursor, state=state))
            cursor += HOUR
        return slots


# --- who may ---------------------------------------------------------------------------------


def can_manage_checkpoints(*, viewer: Any) -> bool:
    """Whether the viewer's role keeps checkpoints and rosters (where: their scope)."""
    return role_of(viewer) in WRITE_ROLES


def can_manage_checkpoint(*, viewer: Any, checkpoint: Checkpoint) -> bool:
    return can_manage_checkpoints(viewer=viewer) and code_in_scope(
        viewer=viewer, code=checkpoint.division_id
    )


# --- lists and details -----------------------------------------------------------------------


def checkpoint_list(
    *,
    viewer: Any,
    kind: str | None = None,
    division: str | None = None,
    active: bool | None = True,
    text: str | None = None,
) -> QuerySet[Checkpoint]:
    """Checkpoints in the viewer's jurisdiction; `active=None` for running and closed ones."""
    qs = Checkpoint.objects.select_related("division", "leader")
    qs = scope_by_division(qs, viewer=viewer, field="division_id")
    if kind:
        qs = qs.filter(kind=kind)
    if division:
        qs = qs.filter(subtree_q("division_id", division))
    if active is not None:
        qs = qs.filter(active=active)
    if text:
        words = text.strip()
        qs = qs.filter(Q(name__contains=words) | Q(location__contains=words))
    return qs.order_by("division_id", "name", "pk")


def access_checkpoint_by_id(*, viewer: Any, checkpoint_id: Any) -> Checkpoint:
    try:
        return checkpoint_list(viewer=viewer, active=None).get(pk=checkpoint_id)
    except (Checkpoint.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("卡口不存在。")) from None


def shifts_for(
    *, checkpoint: Checkpoint, starts: dt.datetime, ends: dt.datetime
) -> QuerySet[DutyShift]:
    """The shifts of a checkpoint overlapping [starts, ends), in order."""
    return (
        DutyShift.objects.filter(checkpoint=checkpoint, starts_at__lt=ends, ends_at__gt=starts)
        .select_related("user")
        .order_by("starts_at", "pk")
    )


def access_shift_by_id(*, checkpoint: Checkpoint, shift_id: Any) -> DutyShift:
    """A shift of a checkpoint the caller has already read (so in the viewer's scope)."""
    try:
        return DutyShift.objects.get(checkpoint=checkpoint, pk=shift_id)
    except (DutyShift.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("值守班次不存在。")) from None


# --- coverage --------------------------------------------------------------------------------


def _gaps(
    shifts: list[DutyShift], *, window_start: dt.datetime, window_end: dt.datetime
) -> list[Gap]:
    """The complement in the window of the union of the shifts (sorted by start): overlapping
    and touching shifts merge, so a hand-over at 08:00 leaves no gap."""
    gaps: list[Gap] = []
    cursor = window_start
    for shift in shifts:
        start, end = max(shift.starts_at, window_start), min(shift.ends_at, window_end)
        if end <= cursor:
            continue
        if start > cursor:
            gaps.append(Gap(start=cursor, end=start))
        cursor = end
        if cursor >= window_end:
            break
    if cursor < window_end:
        gaps.append(Gap(start=cursor, end=window_end))
    return gaps


def coverage_for(
    *, checkpoints: list[Checkpoint], now: dt.datetime | None = None, hours: int = COVERAGE_HOURS
) -> list[Coverage]:
    """The coverage of the given checkpoints over [now, now + hours): one query for all the
    shifts in the window, whatever the number of checkpoints."""
    window_start = now or timeutils.now()
    window_end = window_start + dt.timedelta(hours=hours)
    by_checkpoint: dict[int, list[DutyShift]] = {c.pk: [] for c in checkpoints}
    if by_checkpoint:
        shifts = DutyShift.objects.filter(
            checkpoint_id__in=list(by_checkpoint),
            starts_at__lt=window_end,
            ends_at__gt=window_start,
        ).order_by("checkpoint_id", "starts_at", "pk")
        for shift in shifts:
            by_checkpoint[shift.checkpoint_id].append(shift)
    result = []
    for checkpoint in checkpoints:
        shifts_here = by_checkpoint[checkpoint.pk]
        result.append(
            Coverage(
                checkpoint=checkpoint,
                window_start=window_start,
                window_end=window_end,
                shifts=shifts_here,
                gaps=_gaps(shifts_here, window_start=window_start, window_end=window_end),
            )
        )
    return result


def coverage_gaps(
    *, viewer: Any, now: dt.datetime | None = None, hours: int = COVERAGE_HOURS
) -> list[Coverage]:
    """The active checkpoints in the viewer's scope that have a gap in the next `hours`
    hours, each with its gaps; two queries in all."""
    checkpoints = list(checkpoint_list(viewer=viewer, active=True))
    return [c for c in coverage_for(checkpoints=checkpoints, now=now, hours=hours) if c.gaps]


def gaps_for_leader(*, user: Any, now: dt.datetime | None = None) -> list[Coverage]:
    """What to flag on a user's home page: the gaps of the checkpoints they lead, and for
    the roles that keep rosters (HQ, town officers), of every checkpoint in their scope."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return []
    qs = Checkpoint.objects.select_related("division", "leader").filter(active=True)
    if role_of(user) in SCOPE_LEADER_ROLES:
        scoped = scope_by_division(qs, viewer=user, field="division_id")
        qs = qs.filter(Q(leader_id=user.pk) | Q(pk__in=scoped.values("pk")))
    else:
        qs = qs.filter(leader_id=user.pk)
    checkpoints = list(qs.order_by("division_id", "name", "pk"))
    return [c for c in coverage_for(checkpoints=checkpoints, now=now) if c.gaps]
