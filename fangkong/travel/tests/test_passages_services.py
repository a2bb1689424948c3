"""passage_register: validation with field paths, idempotent retries (also concurrent, on
PostgreSQL), flags (risk area, fever, both) and the arrivals they become, who may register,
and the per-checkpoint hourly counts."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import LoopTask
from fangkong.core.exceptions import Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.travel import selectors_passages
from fangkong.travel.models import (
    Checkpoint,
    CheckpointPassage,
    PassageOccupant,
    TravelRegistration,
)
from fangkong.travel.services_passages import passage_register

from .factories import CHAOYANG, GRID_A, NOW, TODAY, risk_area

pytestmark = pytest.mark.django_db

HANGZHOU = "330106"  # 浙江省杭州市西湖区: no risk area
DRIVER_ID = make_resident_id("330106", dt.date(1980, 2, 3), 51)
PASSENGER_ID = make_resident_id("330106", dt.date(1988, 7, 9), 62)


def make_checkpoint(division, name: str = "眉县高速出口卡口") -> Checkpoint:
    return Checkpoint.objects.create(
        name=name, kind=Checkpoint.Kind.HIGHWAY_EXIT, division=division, location="G30 眉县出口"
    )


def make_staff(county, username: str = "kakou") -> User:
    user = User(
        username=username,
        role=Role.CHECKPOINT_STAFF,
        jurisdiction=county.root,
        display_name=username,
    )
    user.set_password("Fangkong-test-2020")
    user.save()
    return user


def occupant(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "钱司机",
        "id_type": "resident_id",
        "id_number": DRIVER_ID,
        "phone": "13511112222",
        "temperature": "36.5",
    }
    data.update(overrides)
    return data


def passage_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "direction": "in",
        "plate": "浙a12345",
        "vehicle_type": "小型汽车",
        "origin_code": HANGZHOU,
        "destination_code": GRID_A,
        "destination_address": "眉县齐镇齐镇村一组8号",
        "purpose": "探亲",
        "occupants": [
            occupant(),
            occupant(name="孙乘客", id_number=PASSENGER_ID, phone="13633334444"),
        ],
    }
    data.update(overrides)
    return data


def register(actor, checkpoint, *, key: str | None = None, now=NOW, **overrides):
    return passage_register(
        actor=actor,
        checkpoint=checkpoint,
        data=passage_data(**overrides),
        idempotency_key=key or uuid.uuid4().hex,
        now=now,
    )


@pytest.fixture
def setup(county, users):
    return make_checkpoint(county.town_a), make_staff(county)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"plate": "陕A1234"}, "plate"),  # too short
        ({"plate": "陕AI2345"}, "plate"),  # I is never used
        ({"plate": "陕AX12345"}, "plate"),  # NEV serial must start with D/F
        ({"plate": ""}, "plate"),
        ({"origin_code": "999999"}, "origin_code"),
        ({"vehicle_type": "飞船"}, "vehicle_type"),
        ({"destination_code": "610326107201"}, "destination_code"),  # a village, not a grid
        ({"occupants": []}, "occupants"),
    ],
)
def test_bad_passage_fields_are_named_and_nothing_is_written(setup, overrides, path):
    checkpoint, staff = setup
    with pytest.raises(ValidationFailed) as exc:
        register(staff, checkpoint, **overrides)
    assert path in exc.value.errors
    assert CheckpointPassage.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"temperature": "33.9"}, "occupants[1].temperature"),
        ({"temperature": "43.1"}, "occupants[1].temperature"),
        ({"temperature": "正常"}, "occupants[1].temperature"),
        (
            {"id_number": DRIVER_ID[:-1] + ("0" if DRIVER_ID[-1] != "0" else "1")},
            "occupants[1].id_number",
        ),
        ({"phone": "1351111"}, "occupants[1].phone"),
        ({"name": ""}, "occupants[1].name"),
    ],
)
def test_bad_occupant_fields_carry_their_row(setup, bad, path):
    checkpoint, staff = setup
    rows = [occupant(id_number=PASSENGER_ID), occupant(**bad)]
    with pytest.raises(ValidationFailed) as exc:
        register(staff, checkpoint, occupants=rows)
    assert path in exc.value.errors, exc.value.errors
    assert not PassageOccupant.objects.exists()


def test_all_errors_at_once(setup):
    checkpoint, staff = setup
    rows = [occupant(temperature="33"), occupant(id_number="123", phone="1")]
    with pytest.raises(ValidationFailed) as exc:
        register(staff, checkpoint, plate="X", occupants=rows)
    assert {
        "plate",
        "occupants[0].temperature",
        "occupants[1].id_number",
        "occupants[1].phone",
    } <= set(exc.value.errors)


def test_new_energy_plates_and_on_foot_passages(setup):
    checkpoint, staff = setup
    small = register(staff, checkpoint, plate="陕c·d12345")
    assert small.passage.plate == "陕CD12345"
    large = register(
        staff, checkpoint, plate="陕C12345F", occupants=[occupant()], vehicle_type="大型新能源汽车"
    )
    assert large.passage.plate == "陕C12345F"
    walk = register(staff, checkpoint, plate="", vehicle_type="步行", occupants=[occupant()])
    assert walk.passage.plate == ""


def test_temperature_bounds_34_and_43_are_accepted(setup):
    checkpoint, staff = setup
    rows = [occupant(temperature="34"), occupant(id_number=PASSENGER_ID, temperature="36.2℃")]
    result = register(staff, checkpoint, occupants=rows)
    assert [o.temperature for o in result.passage.occupants.all()] == [
        Decimal("34.0"),
        Decimal("36.2"),
    ]


# --- idempotency -------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_passage(setup):
    checkpoint, staff = setup
    first = register(staff, checkpoint, key="k-1", occupants=[occupant(temperature="38.1")])
    again = register(staff, checkpoint, key="k-1", occupants=[occupant(temperature="38.1")])
    assert first.created
    assert not again.created
    assert again.passage.pk == first.passage.pk
    assert [o.pk for o in again.flagged] == [o.pk for o in first.flagged]
    assert again.arrivals == []
    assert CheckpointPassage.objects.count() == 1
    assert TravelRegistration.objects.count() == 1


def test_keys_differing_only_by_hyphens_are_different_keys(setup):
    checkpoint, staff = setup
    first = register(staff, checkpoint, key="k-12", plate="陕C12345")
    second = register(staff, checkpoint, key="k12", plate="陕C54321")
    assert first.created
    assert second.created
    assert CheckpointPassage.objects.get(idempotency_key="k-12").plate == "陕C12345"


def test_the_key_is_required(setup):
    checkpoint, staff = setup
    with pytest.raises(ValidationFailed) as exc:
        register(staff, checkpoint, key=" ")
    assert "idempotency_key" in exc.value.errors


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_passage_sent_twice_at_once_is_one_passage(county):
    checkpoint, staff = make_checkpoint(county.town_a), make_staff(county)
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=5))
    barrier = threading.Barrier(4)
    ids: list[tuple[int, bool]] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            result = register(staff, checkpoint, key="double-tap", origin_code=CHAOYANG)
            ids.append((result.passage.pk, result.created))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len({pk for pk, _created in ids}) == 1
    assert sorted(created for _pk, created in ids) == [False, False, False, True]
    assert CheckpointPassage.objects.count() == 1
    assert PassageOccupant.objects.count() == 2
    assert TravelRegistration.objects.count() == 2  # both occupants, once each


# --- flags and arrivals ------------------------------------------------------------------------


def test_occupants_from_a_risk_area_are_flagged_and_become_arrivals(setup):
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=5))
    result = register(staff, checkpoint, origin_code=CHAOYANG, plate="京N12345")
    assert result.passage.flagged
    assert [o.flag for o in result.flagged] == ["risk_area", "risk_area"]
    assert all(o.risk_level == "high" for o in result.flagged)
    assert len(result.arrivals) == 2
    reg = TravelRegistration.objects.get(person__id_number=DRIVER_ID)
    assert reg.channel == "checkpoint"
    assert reg.left_on == reg.arrived_on == TODAY
    assert reg.transport == "car"
    assert reg.vehicle_no == "京N12345"
    assert reg.destination_division_id == GRID_A
    assert reg.risk_level == "high"
    occupant_row = PassageOccupant.objects.get(id_number=DRIVER_ID)
    assert occupant_row.arrival_id == reg.pk
    assert occupant_row.person_id == reg.person_id
    assert LoopTask.objects.filter(division_id=GRID_A).count() == 2
    assert "来自高风险地区" in selectors_passages_actions(occupant_row)[0]


def selectors_passages_actions(row: PassageOccupant) -> list[str]:
    from fangkong.travel.passage_rules import occupant_actions

    return occupant_actions(row, row.passage)


def test_a_fever_is_flagged_and_its_arrival_carries_the_symptom(setup):
    checkpoint, staff = setup
    rows = [occupant(), occupant(name="孙乘客", id_number=PASSENGER_ID, temperature="38.1")]
    result = register(staff, checkpoint, occupants=rows, vehicle_type="客车", plate="浙A12345")
    assert [o.seq for o in result.flagged] == [2]
    assert result.flagged[0].flag == "fever"
    (arrival,) = result.arrivals
    assert arrival.registration.symptoms == "发热 38.1℃"
    assert arrival.registration.transport == "bus"
    assert "发热门诊" in selectors_passages_actions(result.flagged[0])[0]
    # The unflagged driver is not made a person.
    assert not Person.objects.filter(id_number=DRIVER_ID).exists()
    assert PassageOccupant.objects.get(id_number=DRIVER_ID).arrival_id is None


def test_the_fever_threshold_is_37_3(setup):
    checkpoint, staff = setup
    rows = [occupant(temperature="37.2"), occupant(id_number=PASSENGER_ID, temperature="37.3")]
    result = register(staff, checkpoint, occupants=rows)
    assert [o.seq for o in result.flagged] == [2]


def test_risk_area_and_fever_is_both(setup):
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, level="medium", start=TODAY - dt.timedelta(days=5))
    rows = [occupant(temperature="39.0")]
    result = register(staff, checkpoint, origin_code=CHAOYANG, occupants=rows)
    (row,) = result.flagged
    assert row.flag == "both"
    assert row.risk_level == "medium"
    actions = selectors_passages_actions(row)
    assert len(actions) == 2
    assert "中风险" in actions[0]
    assert result.arrivals[0].registration.symptoms == "发热 39.0℃"


def test_a_risk_area_declared_after_the_day_of_passing_does_not_flag(setup):
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, start=TODAY + dt.timedelta(days=1))
    result = register(staff, checkpoint, origin_code=CHAOYANG)
    assert result.flagged == []
    assert not result.passage.flagged


def test_unflagged_occupants_make_no_arrival_but_known_people_are_linked(setup, people):
    checkpoint, staff = setup
    rows = [occupant(name=people.head.name, id_number=people.head.id_number)]
    result = register(staff, checkpoint, occupants=rows)
    assert result.arrivals == []
    assert result.flagged == []
    assert TravelRegistration.objects.count() == 0
    assert result.passage.occupants.get().person_id == people.head.pk


def test_an_outbound_passage_makes_no_arrival(setup):
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, start=TODAY - dt.timedelta(days=5))
    rows = [occupant(temperature="38.5")]
    result = register(
        staff,
        checkpoint,
        direction="out",
        origin_code=CHAOYANG,
        occupants=rows,
        destination_code="",
        destination_address="",
    )
    assert result.flagged[0].flag == "both"
    assert result.arrivals == []
    assert TravelRegistration.objects.count() == 0


def test_an_inbound_passage_without_a_grid_flags_but_says_to_report(setup):
    checkpoint, staff = setup
    rows = [occupant(temperature="38.5")]
    result = register(
        staff, checkpoint, occupants=rows, destination_code="", destination_address=""
    )
    assert result.arrivals == []
    assert any("县指挥部" in a for a in selectors_passages_actions(result.flagged[0]))


def test_the_audit_holds_ids_not_personal_data(setup):
    checkpoint, staff = setup
    result = register(staff, checkpoint)
    event = AuditEvent.objects.get(verb="travel.passage.register")
    assert event.target_id == str(result.passage.pk)
    text = str(event.data)
    assert DRIVER_ID not in text
    assert "钱司机" not in text
    assert "13511112222" not in text


# --- who may register --------------------------------------------------------------------------


def test_commander_and_town_officer_in_scope_register(setup, users):
    checkpoint, _staff = setup
    assert register(users.commander, checkpoint, occupants=[occupant()]).created
    assert register(users.town_officer, checkpoint, occupants=[occupant()]).created


def test_a_town_officer_of_another_town_gets_not_found(setup, users):
    checkpoint, _staff = setup
    with pytest.raises(NotFound):
        register(users.other_town_officer, checkpoint)


@pytest.mark.parametrize("role", ["leader", "grid_worker", "epidemiologist", "lab_staff"])
def test_other_roles_may_not_register(setup, users, role):
    checkpoint, _staff = setup
    with pytest.raises(Forbidden):
        register(getattr(users, role), checkpoint)
    assert CheckpointPassage.objects.count() == 0


# --- counts --------------------------------------------------------------------------------------


def test_counts_per_checkpoint_and_hour(setup, county, django_assert_max_num_queries):
    checkpoint, staff = setup
    other = make_checkpoint(county.town_b, name="横渠镇国道卡口")
    register(staff, checkpoint, now=NOW.replace(hour=8, minute=5))
    register(
        staff,
        checkpoint,
        now=NOW.replace(hour=8, minute=50),
        occupants=[occupant(temperature="38")],
    )
    register(staff, checkpoint, now=NOW.replace(hour=23, minute=59))
    register(staff, other, now=NOW.replace(hour=0, minute=1))
    register(staff, other, now=NOW + dt.timedelta(days=1))  # the next day
    with django_assert_max_num_queries(1):
        counts = selectors_passages.passage_counts(viewer=staff, date=TODAY)
    by_name = {row["name"]: row for row in counts["rows"]}
    row = by_name["眉县高速出口卡口"]
    assert row["counts"][8] == 2
    assert row["counts"][23] == 1
    assert row["total"] == 3
    assert row["people"] == 2 + 1 + 2
    assert row["flagged"] == 1
    assert by_name["横渠镇国道卡口"]["counts"][0] == 1
    assert counts["total"] == 4
    assert counts["totals"][8] == 2
    # A town officer sees the checkpoints of their town only.
    town = selectors_passages.passage_counts(viewer=checkpoint_town_officer(county), date=TODAY)
    assert [r["name"] for r in town["rows"]] == ["眉县高速出口卡口"]


def checkpoint_town_officer(county) -> User:
    return User.objects.get(username="town_a")


def test_passage_list_filters_and_scope(setup, users, django_assert_max_num_queries):
    checkpoint, staff = setup
    register(staff, checkpoint, occupants=[occupant(temperature="38")])
    register(staff, checkpoint, now=NOW - dt.timedelta(days=1))
    with django_assert_max_num_queries(3):
        rows = list(selectors_passages.passage_list(viewer=staff, date=TODAY))
        assert [len(r.occupants.all()) for r in rows] == [1]
    assert selectors_passages.passage_list(viewer=staff, flagged=False).count() == 1
    assert selectors_passages.passage_list(viewer=users.other_town_officer).count() == 0
    with pytest.raises(Forbidden):
        selectors_passages.passage_list(viewer=users.leader)
    with pytest.raises(NotFound):
        selectors_passages.access_passage_by_id(
            viewer=users.other_town_officer, passage_id=rows[0].pk
        )
