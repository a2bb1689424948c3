"""Raising alerts: idempotent (one per order, kind, day and slot), addressed to whoever looks
after the person on that day (the home grid; the site too while they stay in one)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.core.db import insert_returning

from .models import Alert, Stay


def alert_rows(
    *,
    kind: str,
    orders: list[Any],
    day: dt.date,
    slot: str = "",
    now: dt.datetime,
    detail: str = "",
    checks: dict[int, Any] | None = None,
    tasks: dict[int, Any] | None = None,
    handed_over: bool = False,
) -> list[Alert]:
    """Unsaved alerts for `orders` (each with `division_id` and `person_id`), one query for the
    sites the people stay in now. `checks`/`tasks`: order id -> the check or task behind it.
    `handed_over`: a fever or a symptom, handed to the fever clinic and the HQ at `now`."""
    stays = dict(
        Stay.objects.filter(
            person_id__in=[o.person_id for o in orders], checked_out_at__isnull=True
        ).values_list("person_id", "site_id")
    )
    return [
        Alert(
            kind=kind,
            order_id=o.pk,
            person_id=o.person_id,
            division_id=o.division_id,
            site_id=stays.get(o.person_id),
            day=day,
            slot=slot,
            health_check=(checks or {}).get(o.pk),
            task=(tasks or {}).get(o.pk),
            detail=detail[:200],
            raised_at=now,
            handed_over_at=now if handed_over else None,
        )
        for o in orders
    ]


def alerts_insert(alerts: list[Alert]) -> list[int]:
    """Insert in one statement, skipping any already raised (the unique key): the ids of the
    new ones. The caller is in a transaction and audits."""
    if not alerts:
        return []
    names = [
        "kind",
        "order",
        "person",
        "division",
        "site",
        "day",
        "slot",
        "health_check",
        "task",
        "detail",
        "raised_at",
        "level",
        "handed_over_at",
        "resolution",
    ]
    rows = [
        {
            **{
                n: getattr(a, n)
                for n in (
                    "kind",
                    "day",
                    "slot",
                    "detail",
                    "raised_at",
                    "level",
                    "handed_over_at",
                    "resolution",
                )
            },
            "order": a.order_id,
            "person": a.person_id,
            "division": a.division_id,
            "site": a.site_id,
            "health_check": a.health_check_id,
            "task": a.task_id,
        }
        for a in alerts
    ]
    ids: list[int] = []
    for start in range(0, len(rows), 500):
        chunk = [{n: r[n] for n in names} for r in rows[start : start + 500]]
        ids.extend(pk for (pk,) in insert_returning(Alert, chunk, unless_conflict=True))
    return ids
