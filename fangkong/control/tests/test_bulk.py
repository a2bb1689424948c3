"""The fast insert helpers: same rows as bulk_create would write, keys in order, defaults
filled, and the table's sequence left consistent for ordinary inserts afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.control.bulk import insert_columns, insert_objects
from fangkong.control.models import ControlOrderEvent, LoopStep, LoopTask, OrderStatus, StepKind

from .conftest import NOW
from .factories import propose

pytestmark = pytest.mark.django_db


def test_insert_columns_writes_every_row_with_defaults(users, people, v9):
    order = propose(users.commander, people.head, now=NOW).order
    ids = insert_columns(
        ControlOrderEvent,
        {
            "order_id": [order.pk, order.pk, order.pk],
            "verb": "note",
            "to_status": OrderStatus.ACTIVE,  # an enum member is written as its value
            "at": [NOW, NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=2)],
            "data": [{"n": 1}, {"n": 2, "dates": ["2022-07-02"]}, {}],
        },
        count=3,
    )
    assert len(ids) == 3
    rows = list(ControlOrderEvent.objects.filter(pk__in=ids).order_by("pk"))
    assert [r.pk for r in rows] == ids
    assert [r.data for r in rows] == [{"n": 1}, {"n": 2, "dates": ["2022-07-02"]}, {}]
    assert {(r.verb, r.to_status, r.from_status, r.reason, r.actor_id) for r in rows} == {
        ("note", "active", "", "", None)
    }
    assert rows[1].at == NOW + dt.timedelta(hours=1)
    # an ordinary insert afterwards gets a fresh key
    later = ControlOrderEvent.objects.create(order=order, verb="x", at=NOW)
    assert later.pk > max(ids)


def test_insert_columns_refuses_a_short_column(users, people, v9):
    order = propose(users.commander, people.head, now=NOW).order
    with pytest.raises(ValueError, match="2 values, 3 rows"):
        insert_columns(ControlOrderEvent, {"order_id": [order.pk, order.pk], "at": NOW}, count=3)


def test_insert_columns_with_no_rows_does_nothing():
    assert insert_columns(LoopStep, {"task_id": []}, count=0) == []


def test_insert_objects_sets_keys_and_timestamps(users, people, v9):
    task = propose(users.commander, people.head, now=NOW).task
    objs = [
        LoopTask(
            kind="arrival",
            division_id=task.division_id,
            person_id=task.person_id,
            source_type="manual",
            title=f"任务{i}",
            opened_at=NOW,
        )
        for i in range(4)
    ]
    insert_objects(objs)
    assert all(o.pk for o in objs)
    assert not objs[0]._state.adding
    saved = {t.pk: t for t in LoopTask.objects.filter(pk__in=[o.pk for o in objs])}
    assert [saved[o.pk].title for o in objs] == ["任务0", "任务1", "任务2", "任务3"]
    assert all(saved[o.pk].created_at is not None for o in objs)
    step = LoopStep.objects.create(task=objs[2], kind=StepKind.ACK, seq=1, due_at=NOW)
    assert step.task_id == objs[2].pk
