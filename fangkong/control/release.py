"""Release conditions that apps above control contribute (a registry, not signals).

control.services.order_release checks what control knows (the period served, no test day still
ahead) and then asks every registered condition. A condition takes the order (locked) and the
day of release and returns the conditions that do not hold yet, as {field: [messages]} (empty
when it is satisfied); the messages are shown to the user, so they say what is missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

ReleaseCondition = Callable[..., dict[str, list[str]]]

_CONDITIONS: dict[str, ReleaseCondition] = {}


def register_condition(name: str, condition: ReleaseCondition) -> None:
    """Add (or replace, by name) a condition: condition(order=..., today=...) -> missing."""
    _CONDITIONS[name] = condition


def missing_conditions(*, order: Any, today: dt.date) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for condition in _CONDITIONS.values():
        for field, messages in condition(order=order, today=today).items():
            missing.setdefault(field, []).extend(messages)
    return missing
