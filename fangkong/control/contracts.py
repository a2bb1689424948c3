"""What the sources of measures (arrivals, sweeps, contacts, rechecks) hand to the control app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderRequest:
    """Propose a measure for one person and open the loop task in their grid worker's inbox.

    `category` None: no measure applies (an arrival from nowhere risky); the task is still
    opened (acknowledge, visit) so that every arrival is seen by a named person.
    `title` is shown in lists: no personal data (e.g. "高风险地区来返：北京市朝阳区").
    """

    person_id: int
    division_code: str  # the small grid that answers for it
    category: str | None
    anchor_date: dt.date | None
    found_on: dt.date
    source_type: str  # control.models.SourceType
    source_id: str
    title: str
    risk_area_id: int | None = None
    edition: Any = None  # a PolicyEdition; None: the edition in force on `anchor_date`
    task_kind: str = "arrival"  # control.models.TaskKind


@dataclass(frozen=True)
class OrderOutcome:
    """What happened to one request: the order proposed (or None) and the task opened.
    `covered_by`: an order already active or proposed for the person that is at least as
    strict, so no new one was proposed. `expired`: the whole period has already passed."""

    request: OrderRequest
    order: Any  # ControlOrder | None
    task: Any  # LoopTask | None
    covered_by: Any = None
    expired: bool = False
