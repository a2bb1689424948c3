"""The barrier answers at once; the loop worker hands flagged occupants to the arrival loop.

Here, as in production, nothing is handed over inline (LOOP_INLINE off): a flagged passage
waits as `pending` with its flags shown, then `passages_process` (or `fangkong loop_worker
--once`) registers the arrivals, proposes the measures and opens the grid worker's tasks. A
hand-over that fails is kept with its reason for the HQ.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from fangkong.control.models import LoopTask
from fangkong.core.models import AuditEvent
from fangkong.travel import selectors
from fangkong.travel.models import CheckpointPassage, PassageOccupant, TravelRegistration
from fangkong.travel.services_passages import passages_process

from .factories import CHAOYANG, GRID_A, NOW, TODAY, risk_area
from .test_passages_services import DRIVER_ID, PASSENGER_ID, register, setup  # noqa: F401

pytestmark = pytest.mark.django_db

WORKER = {**settings.FANGKONG, "LOOP_INLINE": False}  # as in production
Handover = CheckpointPassage.Handover


@override_settings(FANGKONG=WORKER)
def test_a_flagged_passage_waits_then_the_worker_makes_the_arrivals(setup):  # noqa: F811
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=5))
    result = register(staff, checkpoint, origin_code=CHAOYANG, plate="京N12345")
    # At the barrier: flags and what to do at once; the loop has not been touched yet.
    assert [o.flag for o in result.flagged] == ["risk_area", "risk_area"]
    assert result.passage.handover == Handover.PENDING
    assert result.arrivals == []
    assert not TravelRegistration.objects.exists()
    assert selectors.self_report_queue(viewer=_commander())["passages_pending"] == 1

    assert passages_process(actor=None) == {"done": 1, "failed": 0}
    passage = CheckpointPassage.objects.get(pk=result.passage.pk)
    assert passage.handover == Handover.DONE
    reg = TravelRegistration.objects.get(person__id_number=DRIVER_ID)
    assert reg.channel == "checkpoint"
    assert reg.left_on == reg.arrived_on == TODAY
    assert reg.vehicle_no == "京N12345"
    assert reg.destination_division_id == GRID_A
    assert reg.created_by_id == staff.pk  # registered as the staff member at the barrier
    rows = {o.id_number: o for o in PassageOccupant.objects.all()}
    assert rows[DRIVER_ID].arrival_id == reg.pk
    assert rows[DRIVER_ID].person_id == reg.person_id
    assert rows[PASSENGER_ID].arrival_id is not None
    assert LoopTask.objects.filter(division_id=GRID_A).count() == 2
    # Nothing left: a second pass does nothing and makes no second arrival.
    assert passages_process(actor=None) == {"done": 0, "failed": 0}
    assert TravelRegistration.objects.count() == 2
    assert AuditEvent.objects.filter(verb="travel.passage.handover").count() == 1


@override_settings(FANGKONG=WORKER)
def test_unflagged_and_outbound_passages_need_no_hand_over(setup):  # noqa: F811
    checkpoint, staff = setup
    calm = register(staff, checkpoint)
    out = register(staff, checkpoint, direction="out", origin_code="", destination_code="")
    assert calm.passage.handover == out.passage.handover == Handover.NONE
    assert passages_process(actor=None) == {"done": 0, "failed": 0}


@override_settings(FANGKONG=WORKER)
def test_the_loop_worker_command_hands_over(setup):  # noqa: F811
    checkpoint, staff = setup
    rows = [
        {
            "name": "钱司机",
            "id_number": DRIVER_ID,
            "phone": "13511112222",
            "temperature": "38.4",
        }
    ]
    result = register(staff, checkpoint, occupants=rows)
    out = io.StringIO()
    call_command("loop_worker", "--once", stdout=out)
    assert "卡口需处置人员转入闭环 1 车次" in out.getvalue()
    reg = TravelRegistration.objects.get(person__id_number=DRIVER_ID)
    assert reg.symptoms == "发热 38.4℃"
    assert CheckpointPassage.objects.get(pk=result.passage.pk).handover == Handover.DONE


@override_settings(FANGKONG=WORKER)
def test_a_failed_hand_over_is_kept_with_its_reason_and_the_rest_go_on(setup):  # noqa: F811
    checkpoint, staff = setup
    rows = [{"name": "钱司机", "id_number": DRIVER_ID, "phone": "13511112222", "temperature": "39"}]
    first = register(staff, checkpoint, occupants=rows)
    second = register(
        staff,
        checkpoint,
        occupants=[
            {
                "name": "孙乘客",
                "id_number": PASSENGER_ID,
                "phone": "13633334444",
                "temperature": "38",
            }
        ],
    )
    # The staff member who registered the first passage lost the right to register arrivals
    # before the worker got to it (the only way a checked passage can fail later).
    staff.role = "resident"
    staff.save(update_fields=["role"])
    assert passages_process(actor=None) == {"done": 0, "failed": 2}
    failed = CheckpointPassage.objects.get(pk=first.passage.pk)
    assert failed.handover == Handover.FAILED
    assert failed.handover_error
    assert DRIVER_ID not in failed.handover_error  # a reason, never what was typed
    queue = selectors.self_report_queue(viewer=_commander())
    assert queue["passages_failed_count"] == 2
    assert {row["pk"] for row in queue["passages_failed"]} == {first.passage.pk, second.passage.pk}
    # Failed passages stay failed (the HQ sees them) and are not retried in a loop.
    assert passages_process(actor=None) == {"done": 0, "failed": 0}


@override_settings(FANGKONG=WORKER)
def test_the_sweep_and_the_worker_never_make_two_arrivals(setup):  # noqa: F811
    """A passage waiting for the worker when the sweep of a newly declared area runs: the
    sweep takes the occupants it finds, the worker leaves them alone."""
    from fangkong.travel.sweep import risk_area_declare

    checkpoint, staff = setup
    rows = [{"name": "钱司机", "id_number": DRIVER_ID, "phone": "13511112222", "temperature": "38"}]
    result = register(staff, checkpoint, occupants=rows, origin_code=CHAOYANG)
    assert result.passage.handover == Handover.PENDING
    risk_area_declare(
        actor=_commander(),
        now=NOW,
        level="high",
        region_code=CHAOYANG,
        start_date=TODAY - dt.timedelta(days=2),
    )
    swept = PassageOccupant.objects.get(id_number=DRIVER_ID).arrival_id
    assert swept is not None
    assert passages_process(actor=None) == {"done": 1, "failed": 0}
    assert PassageOccupant.objects.get(id_number=DRIVER_ID).arrival_id == swept
    assert TravelRegistration.objects.filter(person__id_number=DRIVER_ID).count() == 1


def _commander():
    from fangkong.accounts.models import User

    return User.objects.get(username="hq")  # the `users` fixture's commander


@override_settings(FANGKONG={**WORKER, "PUBLIC_CACHE_SECONDS": 60})
def test_an_area_declared_while_the_barrier_cache_was_stale_is_swept_again(setup):  # noqa: F811
    """The barrier keeps risk lookups for a minute. A car that came through from an area in
    that minute was not flagged; the follow-up sweep, once the minute is over, finds it."""
    from fangkong.policy.selectors import risk_level_cached
    from fangkong.travel.sweep import risk_area_declare, sweeps_follow_up

    checkpoint, staff = setup
    assert risk_level_cached(origin_code=CHAOYANG, on=TODAY) is None  # cached: no area yet
    area, _sweep = risk_area_declare(
        actor=_commander(),
        now=NOW,
        level="high",
        region_code=CHAOYANG,
        start_date=TODAY - dt.timedelta(days=2),
    )
    result = register(staff, checkpoint, origin_code=CHAOYANG)
    assert not result.passage.flagged  # the stale lookup
    assert not TravelRegistration.objects.exists()
    created = area.created_at
    # Too early: the caches may still be stale, nothing to do yet.
    assert sweeps_follow_up(actor=None, now=created + dt.timedelta(seconds=30)) == []
    (sweep,) = sweeps_follow_up(actor=None, now=created + dt.timedelta(seconds=61))
    assert sweep.found == 2
    assert TravelRegistration.objects.filter(person__id_number=DRIVER_ID).exists()
    assert PassageOccupant.objects.filter(arrival__isnull=True).count() == 0
    # Once is enough.
    assert sweeps_follow_up(actor=None, now=created + dt.timedelta(seconds=90)) == []


@override_settings(FANGKONG=WORKER)
def test_many_passages_are_handed_over_in_one_pass_by_registrar_and_day(setup, county):  # noqa: F811
    from fangkong.core.tests.idgen import make_resident_id

    from .test_passages_services import make_staff

    checkpoint, staff = setup
    other = make_staff(county, username="kakou2")
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=5))
    for n in range(6):
        number = make_resident_id("330106", dt.date(1970, 1, 1) + dt.timedelta(days=n), 10 + n)
        register(
            staff if n % 2 else other,
            checkpoint,
            origin_code=CHAOYANG,
            plate=f"京N1234{n}",
            occupants=[
                {
                    "name": "钱司机",
                    "id_number": number,
                    "phone": "13511112222",
                    "temperature": "36.5",
                }
            ],
        )
    assert passages_process(actor=None) == {"done": 6, "failed": 0}
    assert TravelRegistration.objects.filter(channel="checkpoint").count() == 6
    assert not PassageOccupant.objects.filter(flag__gt="", arrival__isnull=True).exists()
    by_registrar = {
        r.created_by_id for r in TravelRegistration.objects.filter(channel="checkpoint")
    }
    assert by_registrar == {staff.pk, other.pk}
