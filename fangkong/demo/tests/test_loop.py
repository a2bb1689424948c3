"""The closed loop of the demo: the 9th edition in force, risk areas, arrivals with their
measures in the grid workers' inboxes, and a sweep of a newly declared area."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, LoopSettings, LoopStep, LoopTask
from fangkong.control.selectors import inbox
from fangkong.core.exceptions import Forbidden
from fangkong.core.models import AuditEvent
from fangkong.core.timeutils import local_today
from fangkong.demo.services import (
    DEMO_RISK_AREAS,
    DEMO_SWEEP_AREA,
    demo_policy_setup,
    demo_seed,
    demo_seed_loop,
)
from fangkong.geo.models import Division
from fangkong.people.models import Person
from fangkong.places.models import Place
from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea
from fangkong.policy.selectors import downgrade_for, edition_in_force
from fangkong.travel.models import (
    Channel,
    Checkpoint,
    CheckpointPassage,
    SweepRun,
    TravelRegistration,
)

pytestmark = pytest.mark.django_db

COUNTY = "610326"
PEOPLE = 1500


@pytest.fixture
def loop():
    demo_seed(actor=None, county_code=COUNTY, people=PEOPLE, seed=7)
    return demo_seed_loop(actor=None, county_code=COUNTY, seed=7)


def test_the_ninth_edition_is_in_force_from_2022_06_28(loop):
    activation = EditionActivation.objects.get()
    assert activation.jurisdiction_id == COUNTY
    assert activation.edition.code == "v9"
    assert activation.effective_from == dt.date(2022, 6, 28)
    assert activation.activated_by.username == "hq"
    assert edition_in_force(on=local_today()).code == "v9"
    assert loop.edition == "v9"
    settings_row = LoopSettings.objects.get(division_id=COUNTY)
    assert (settings_row.ack_hours, settings_row.visit_hours, settings_row.in_place_hours) == (
        2,
        12,
        24,
    )


def test_risk_areas_outside_the_county_and_one_village_inside(loop):
    today = local_today()
    areas = {a.region_code: a for a in RiskArea.objects.all()}
    for level, code, days in DEMO_RISK_AREAS:
        assert areas[code].level == level
        assert areas[code].start_date == today - dt.timedelta(days=days)
        assert areas[code].division_id is None
    inside = [a for a in areas.values() if a.division_id is not None]
    assert len(inside) == 1
    village = inside[0]
    assert village.division.level == Division.Level.VILLAGE
    assert village.region_code.startswith(COUNTY)
    assert downgrade_for(area=village) is not None  # the HQ sees when it may go down
    assert loop.risk_areas == len(areas) == len(DEMO_RISK_AREAS) + 2


def test_arrivals_for_half_a_percent_of_the_people_with_measures_and_tasks(loop):
    arrivals = list(TravelRegistration.objects.select_related("order"))
    assert len(arrivals) == loop.arrivals == round(PEOPLE * 0.005)
    assert {a.channel for a in arrivals} == {Channel.SELF_REPORT, Channel.GRID_ENTRY}
    assert all(a.receipt_code for a in arrivals if a.channel == Channel.SELF_REPORT)
    # Returning residents: matched to the seeded people, none created.
    assert Person.objects.count() == PEOPLE
    high = [a for a in arrivals if a.risk_level == "high"]
    assert high
    assert all(a.order and a.order.category == "high_risk_arrival" for a in high)
    assert ControlOrder.objects.filter(status="proposed").count() == loop.orders > 0
    # Every arrival is in the inbox of its destination grid, with its clocks running.
    tasks = LoopTask.objects.filter(status="open")
    assert {t.division_id for t in tasks} >= {a.destination_division_id for a in arrivals}
    assert LoopStep.objects.filter(task__in=tasks, kind="in_place").count() == loop.orders


def test_the_demo_grid_worker_has_arrivals_in_the_inbox(loop):
    worker = User.objects.get(role=Role.GRID_WORKER, username__startswith="grid_")
    assert inbox(viewer=worker).exists()


def test_a_high_risk_area_declared_afterwards_is_swept(loop):
    level, code, days = DEMO_SWEEP_AREA
    sweep = SweepRun.objects.get(risk_area__region_code=code)
    assert sweep.risk_area.level == level
    start = local_today() - dt.timedelta(days=days)
    expected = TravelRegistration.objects.filter(origin_code=code, left_on__gte=start).count()
    assert sweep.found == expected == loop.sweep_found > 0
    assert sweep.orders_proposed == expected


def test_seeding_the_loop_again_writes_nothing(loop):
    counts = (TravelRegistration.objects.count(), ControlOrder.objects.count())
    again = demo_seed_loop(actor=None, county_code=COUNTY, seed=7)
    assert again.skipped
    assert (TravelRegistration.objects.count(), ControlOrder.objects.count()) == counts
    assert RiskArea.objects.count() == loop.risk_areas
    assert EditionActivation.objects.count() == 1


def test_an_edition_the_county_activated_is_kept(users, county):
    twenty = PolicyEdition.objects.get(code="twenty")
    EditionActivation.objects.create(
        edition=twenty, jurisdiction_id=COUNTY, effective_from=dt.date(2022, 11, 11)
    )
    activation = demo_policy_setup(actor=None, county_code=COUNTY)
    assert activation.edition.code == "twenty"
    assert EditionActivation.objects.count() == 1


def test_the_loop_seed_is_one_audit_event_with_counts_only(loop):
    event = AuditEvent.objects.get(verb="demo.seed_loop")
    assert event.target_id == COUNTY
    assert event.data["counts"]["arrivals"] == loop.arrivals
    text = str(event.data)
    for person in Person.objects.filter(pk__in=TravelRegistration.objects.values("person_id")):
        assert person.name not in text
        assert person.id_number not in text


def test_only_the_command_line_or_a_superuser_may_seed_the_loop(users):
    with pytest.raises(Forbidden):
        demo_seed_loop(actor=users.commander, county_code=COUNTY, seed=1)


def test_reset_wipes_the_loop_and_the_command_seeds_it_again():
    out, err = io.StringIO(), io.StringIO()
    call_command("seed", "--people", "1200", "--seed", "5", stdout=out, stderr=err)
    assert "闭环演示" in out.getvalue()
    first = TravelRegistration.objects.count()
    assert first == 6
    assert RiskArea.objects.count() == len(DEMO_RISK_AREAS) + 2
    # A checkpoint passage bound for a small grid, and a key place in one: the reset removes
    # them with the small grids instead of failing on them.
    grid = Division.objects.filter(level=Division.Level.GRID).order_by("code").first()
    checkpoint = Checkpoint.objects.create(name="卡口", kind="road", division=grid.parent)
    CheckpointPassage.objects.create(
        checkpoint=checkpoint,
        destination_division=grid,
        passed_at=timezone.now(),
        idempotency_key="demo-reset",
    )
    Place.objects.create(code="DEMO2345", name="市场", kind="market", division=grid, address="x")
    call_command("seed", "--people", "1300", "--seed", "5", "--reset", stdout=out, stderr=err)
    assert not CheckpointPassage.objects.exists()
    assert not Place.objects.filter(code="DEMO2345").exists()  # the demo's own places are new
    assert Person.objects.count() == 1300
    assert TravelRegistration.objects.count() == round(1300 * 0.005)
    assert RiskArea.objects.count() == len(DEMO_RISK_AREAS) + 2
    assert EditionActivation.objects.count() == 1
    assert not ControlOrder.objects.exclude(person__in=Person.objects.all()).exists()
