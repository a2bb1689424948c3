"""What the candidate engine (candidates.py) hands to the contact services (services_contacts.py).

A `Candidate` is one person found around a case, with the evidence that produced it. The
engine merges what it finds per document: a person who is both in the household and at the
same market gets one Candidate whose `evidence` lists both (`evidence["items"]`), with the
strongest kind first (household > vehicle > transport > checkin) and the latest exposure.
Evidence holds ids and times only (never names or numbers): see candidates.py for each kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    id_type: str
    id_number: str
    name: str
    phone: str
    person_id: int | None
    evidence_kind: str  # models.Contact.Evidence (the strongest)
    setting: str  # models.Contact.Setting
    last_exposure_at: dt.datetime | None
    evidence: dict[str, Any] = field(default_factory=dict)  # {"items": [{"kind": ..., ...}]}


@dataclass(frozen=True)
class Window:
    """The look-back window of a case: from `start` (N days before onset, sampling, or the
    last negative test, by the edition in force) to `end` (isolation, or now)."""

    start: dt.datetime
    end: dt.datetime
    lookback_days: int
    anchor: str  # "onset" | "sampling" | "last_negative" | "report"
