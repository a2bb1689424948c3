"""arrival_register and self_report_submit: the person (found, created, mismatched), the rule
lookup and the proposal handed to the control app, the loop task, outside-county arrivals as
assist entries, who may register where, and the self-report's dedupe and rate limit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, LoopTask
from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from fangkong.travel import services
from fangkong.travel.models import (
    AssistRequest,
    AssistRequestEntry,
    RateCounter,
    TravelRegistration,
)
from fangkong.travel.ratelimit import RateLimited, rate_limit_hit

from .factories import (
    GRID_A,
    GRID_B,
    HONGSHAN,
    NEW_ID,
    NOW,
    OTHER_NEW_ID,
    TODAY,
    arrival_data,
    risk_area,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def register(actor, **overrides):
    return services.arrival_register(
        actor=actor, data=arrival_data(**overrides), channel="grid_entry", now=NOW
    )


# --- the person --------------------------------------------------------------------------------


def test_a_known_person_is_matched_by_document(users, people):
    result = register(users.grid_worker, name="张建国", id_number=people.head.id_number)
    reg = result.registration
    assert reg.person == people.head
    assert not reg.identity_mismatch
    assert not result.person_created
    assert Person.objects.count() == 3


def test_a_different_name_on_a_known_number_is_flagged_never_written(users, people):
    result = register(users.grid_worker, name="张建军", id_number=people.head.id_number)
    reg = result.registration
    assert reg.person == people.head
    assert reg.identity_mismatch
    assert reg.reported_name == "张建军"
    people.head.refresh_from_db()
    assert people.head.name == "张建国"


def test_an_unknown_person_is_created_by_the_people_service(users, people):
    result = register(users.grid_worker)
    person = result.registration.person
    assert result.person_created
    assert (person.name, person.id_number, person.division_id) == ("赵新来", NEW_ID, GRID_A)
    assert person.phone == "13512345678"
    assert person.address == "眉县齐镇齐镇村一组8号"
    event = AuditEvent.objects.get(verb="people.person.create", target_id=str(person.pk))
    assert event.actor_id == users.grid_worker.pk


# --- the rule lookup and the proposal -----------------------------------------------------------


def test_a_high_risk_arrival_gets_the_9th_editions_measure_counted_from_leaving(users, county):
    area = risk_area(level="high")
    result = register(users.grid_worker)
    reg = result.registration
    assert (reg.risk_level, reg.risk_area, reg.category) == ("high", area, "high_risk_arrival")
    order = result.outcome.order
    assert order is not None
    assert reg.order == order
    assert order.status == "proposed"
    assert order.edition.code == "v9"
    assert order.counts_from == "left_area"
    # left 08-02 (day 0): 7 days centralized to 08-09; found 08-05, so days 1-2 are gone.
    assert order.anchor_date == dt.date(2022, 8, 2)
    assert (order.start_date, order.end_date) == (dt.date(2022, 8, 5), dt.date(2022, 8, 9))
    assert order.phases == [
        {
            "kind": "centralized",
            "days": 7,
            "start": "2022-08-05",
            "end": "2022-08-09",
            "test_days": ["2022-08-05", "2022-08-07", "2022-08-09"],
        }
    ]
    assert (order.source_type, order.source_id) == ("arrival", str(reg.pk))
    task = result.outcome.task
    assert task.division_id == GRID_A
    assert task.title == "高风险地区来返：北京市朝阳区"
    assert [s.kind for s in task.steps.order_by("seq")] == ["ack", "visit", "in_place"]


def test_a_medium_risk_arrival_gets_home_isolation(users, county):
    risk_area(level="medium")
    order = register(users.grid_worker).outcome.order
    assert order.category == "medium_risk_arrival"
    assert [p["kind"] for p in order.phases] == ["home_isolation"]


def test_a_low_risk_arrival_counts_from_the_arrival(users, county):
    risk_area(level="low")
    order = register(users.grid_worker).outcome.order
    assert order.category == "low_risk_arrival"
    assert order.counts_from == "arrival"
    assert order.anchor_date == TODAY - dt.timedelta(days=2)


def test_the_highest_level_covering_the_origin_on_the_day_of_leaving_wins(users, county):
    risk_area(level="medium", code="11", name="北京市")
    risk_area(level="high", start=TODAY - dt.timedelta(days=1))  # not yet on the day left
    reg = register(users.grid_worker).registration
    assert reg.risk_level == "medium"


def test_an_area_narrowed_to_a_street_covers_only_that_street(users, county):
    risk_area(level="high", detail="望京街道")
    assert register(users.grid_worker).registration.risk_level == "high"
    other = register(
        users.grid_worker, id_number=OTHER_NEW_ID, name="钱外来", origin_address="三里屯街道"
    )
    assert other.registration.risk_level == ""


def test_no_risk_area_no_measure_but_the_grid_worker_still_sees_the_arrival(users, county):
    result = register(users.grid_worker)
    assert result.registration.category == ""
    assert result.outcome.order is None
    assert [s.kind for s in result.outcome.task.steps.order_by("seq")] == ["ack", "visit"]
    assert result.outcome.task.title == "来返人员：北京市朝阳区"


def test_an_arrival_from_abroad_is_an_entrant_counted_from_arrival(users, county):
    result = register(
        users.grid_worker,
        origin_code="",
        from_abroad=True,
        origin_country="韩国",
        transport="flight",
        vehicle_no="KE881",
    )
    order = result.outcome.order
    assert order.category == "entrant"
    assert order.counts_from == "arrival"
    assert result.outcome.task.title == "境外来返：韩国"


def test_a_rural_returnee_under_the_winter_spring_plan(users, county):
    now = dt.datetime(2021, 2, 5, 9, 0, tzinfo=NOW.tzinfo)
    result = services.arrival_register(
        actor=users.grid_worker,
        data=arrival_data(left_on="2021-02-03", arrived_on="2021-02-04"),
        channel="grid_entry",
        now=now,
    )
    order = result.outcome.order
    assert order.edition.code == "rural-2021"
    assert order.category == "rural_returnee"
    assert order.phases[0]["kind"] == "home_monitoring"


def test_a_person_with_a_stricter_open_order_is_covered(users, county):
    risk_area(level="high")
    first = register(users.grid_worker)
    second = register(users.grid_worker, arrived_on=TODAY.isoformat())
    assert second.outcome.order is None
    assert second.outcome.covered_by == first.outcome.order
    assert second.registration.order == first.outcome.order
    assert ControlOrder.objects.count() == 1


# --- outside the county ------------------------------------------------------------------------


def test_a_destination_outside_the_county_becomes_an_outgoing_assist_entry(users, county):
    risk_area(level="high")
    result = register(
        users.village_officer,
        destination_code="",
        outside_county=True,
        outside_code=HONGSHAN,
        destination_address="武汉市洪山区关山大道1号",
    )
    reg = result.registration
    assert result.outcome is None
    assert reg.outside_county
    assert reg.destination_division is None
    assert reg.category == "high_risk_arrival"
    assert not LoopTask.objects.exists()
    assert not ControlOrder.objects.exists()
    letter = AssistRequest.objects.get()
    assert (letter.direction, letter.status, letter.counterpart_code) == (
        "outgoing",
        "open",
        HONGSHAN,
    )
    assert letter.counterpart == "湖北省武汉市洪山区新冠肺炎疫情防控指挥部"
    assert letter.number == "眉防协〔2022〕1号"
    entry = AssistRequestEntry.objects.get()
    assert (entry.person, entry.arrival, entry.category) == (reg.person, reg, "high_risk_arrival")


def test_one_open_letter_per_counterpart(users, county):
    outside = {"destination_code": "", "outside_county": True}
    register(users.commander, outside_code=HONGSHAN, **outside)
    register(
        users.commander, id_number=OTHER_NEW_ID, name="钱外来", outside_code="420102", **outside
    )
    register(
        users.commander,
        id_number=OTHER_NEW_ID,
        name="钱外来",
        arrived_on=TODAY.isoformat(),
        outside_code=HONGSHAN,
        **outside,
    )
    letters = {a.counterpart_code: a for a in AssistRequest.objects.all()}
    assert set(letters) == {HONGSHAN, "420102"}
    assert letters[HONGSHAN].entries.count() == 2
    services.assist_request_mark_sent(actor=users.commander, assist_request=letters[HONGSHAN])
    register(users.commander, arrived_on=TODAY.isoformat(), outside_code=HONGSHAN, **outside)
    assert AssistRequest.objects.filter(counterpart_code=HONGSHAN).count() == 2


# --- who may register where ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lab_staff", "leader", "epidemiologist"])
def test_roles_that_may_not_register(users, county, role):
    with pytest.raises(Forbidden):
        register(getattr(users, role))
    assert not TravelRegistration.objects.exists()


def test_a_registrant_registers_only_for_grids_in_their_jurisdiction(users, county):
    with pytest.raises(ValidationFailed) as exc:
        register(users.town_officer, destination_code=GRID_B)
    assert exc.value.errors == {"destination_code": ["目的网格不存在或不在您的管辖范围内"]}
    assert register(users.other_town_officer, destination_code=GRID_B).registration.pk


def test_checkpoint_staff_and_the_hq_register_for_any_grid(users, county):
    checkpoint = User.objects.create(
        username="kk", role=Role.CHECKPOINT_STAFF, jurisdiction=county.town_a
    )
    result = services.arrival_register(
        actor=checkpoint, data=arrival_data(destination_code=GRID_B), channel="checkpoint", now=NOW
    )
    # Checkpoint staff may not edit people: the person is created by the arrival service.
    assert result.person_created
    assert result.registration.person.division_id == GRID_B
    assert register(users.commander, id_number=OTHER_NEW_ID, destination_code=GRID_B)


def test_bad_input_writes_nothing(users, people):
    before = (Person.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        register(users.grid_worker, left_on="2022-08-04", arrived_on="2022-08-01", phone="1")
    assert set(exc.value.errors) == {"arrived_on", "phone"}
    assert (Person.objects.count(), AuditEvent.objects.count()) == before
    assert not TravelRegistration.objects.exists()


def test_the_audit_holds_ids_not_personal_data(users, county):
    reg = register(users.grid_worker).registration
    event = AuditEvent.objects.get(verb="travel.arrival.register")
    assert event.target_id == str(reg.pk)
    text = str(event.data)
    assert NEW_ID not in text
    assert "13512345678" not in text
    assert "赵新来" not in text


# --- the public self-report ----------------------------------------------------------------------


def submit(key="10.0.0.1", **overrides):
    return services.self_report_submit(data=arrival_data(**overrides), now=NOW)


def test_a_self_report_answers_with_a_receipt_code(county):
    receipt = submit()
    assert len(receipt) == 8
    assert set(receipt) <= set(services.RECEIPT_ALPHABET)
    reg = TravelRegistration.objects.get()
    assert (reg.channel, reg.receipt_code, reg.created_by) == ("self_report", receipt, None)
    event = AuditEvent.objects.get(verb="people.person.create")
    assert event.actor_id is None


def test_the_same_trip_sent_again_gets_the_same_receipt_and_writes_nothing(county):
    receipt = submit()
    counts = (
        TravelRegistration.objects.count(),
        Person.objects.count(),
        LoopTask.objects.count(),
        AuditEvent.objects.count(),
    )
    assert submit(symptoms="咳嗽") == receipt  # the same trip, even with another detail
    assert (
        TravelRegistration.objects.count(),
        Person.objects.count(),
        LoopTask.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def test_another_trip_of_the_same_person_is_a_new_report(county):
    first = submit()
    second = submit(arrived_on=TODAY.isoformat())
    assert first != second
    assert TravelRegistration.objects.count() == 2
    assert Person.objects.count() == 1


def test_a_self_report_stays_within_the_qr_codes_village(county):
    with pytest.raises(ValidationFailed) as exc:
        services.self_report_submit(
            data=arrival_data(destination_code=GRID_B),
            now=NOW,
            within="610326107201",
        )
    assert list(exc.value.errors) == ["destination_code"]


@override_settings(FANGKONG={**settings.FANGKONG, "SELF_REPORT_RATE": "3/600"})
def test_requests_over_the_rate_are_refused_for_that_client_only(county):
    for _ in range(3):
        rate_limit_hit(scope="selfreport", key="10.0.0.1")
    with pytest.raises(RateLimited) as exc:
        rate_limit_hit(scope="selfreport", key="10.0.0.1")
    assert exc.value.status == 429
    assert 0 < exc.value.retry_after <= 601
    assert "提交过于频繁" in str(exc.value.message)
    rate_limit_hit(scope="selfreport", key="10.0.0.2")  # another client is not affected
    # The table never holds an address.
    assert not RateCounter.objects.filter(key__contains="10.0.0").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_trip_sent_twice_at_once_gets_one_record_and_one_receipt(county):
    """Two phones (or a double tap) submit the same new trip at the same moment: the unique
    dedupe key lets one win; the other answers with the winner's receipt."""
    barrier = threading.Barrier(4)
    receipts: list[str] = []
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait()
            receipts.append(submit(key=f"10.0.0.{index}"))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(receipts)) == 1
    assert TravelRegistration.objects.count() == 1
    assert Person.objects.filter(id_number=NEW_ID).count() == 1
