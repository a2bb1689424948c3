"""Deciding contacts and putting them into the loop, secondary contacts, and the refusals.

The clock is passed as `now=`; the edition in force is the national one issued by then (no
county activation), so each test picks a day under the edition it is about.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.control.models import ControlOrder, LoopTask, SourceType
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.tracing import services_contacts as svc
from fangkong.tracing.models import Case, Contact, DeclaredCoworker
from fangkong.travel.models import AssistRequest

TZ = ZoneInfo("Asia/Shanghai")
V8_DAY = dt.datetime(2021, 8, 10, 10, 0, tzinfo=TZ)
V9_DAY = dt.datetime(2022, 8, 10, 10, 0, tzinfo=TZ)
TWENTY_DAY = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
TEN_DAY = dt.datetime(2022, 12, 20, 10, 0, tzinfo=TZ)
OUTSIDER_ID = make_resident_id("110105", dt.date(1988, 4, 9), 17)
NEWCOMER_ID = make_resident_id("610326", dt.date(1995, 6, 1), 52)


def make_case(person: Person, day: dt.datetime, code: str = "眉病〔2022〕1号") -> Case:
    return Case.objects.create(
        code=code,
        person=person,
        classification="confirmed",
        onset_date=day.date() - dt.timedelta(days=1),
        report_date=day.date(),
        division=person.division,
    )


def candidate(case: Case, person: Person, **extra) -> Contact:
    fields = {
        "case": case,
        "person": person,
        "name": person.name,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "phone": person.phone,
        "evidence_kind": Contact.Evidence.CHECKIN,
        "evidence": {"items": [{"kind": "checkin", "place_id": 1}]},
    }
    fields.update(extra)
    return Contact.objects.create(**fields)


@pytest.mark.parametrize(
    ("now", "phase_kinds", "total_days"),
    [
        (V8_DAY, ["centralized", "home_monitoring"], 21),  # 8th: 14 d centralized + 7
        (V9_DAY, ["centralized", "home_monitoring"], 10),  # 9th: 7 + 3
        (TWENTY_DAY, ["centralized", "home_isolation"], 8),  # twenty: 5 + 3
        (TEN_DAY, ["home_isolation"], 5),  # ten: 5 days at home
    ],
    ids=["v8", "v9", "twenty", "ten"],
)
def test_a_close_contact_gets_the_order_of_the_edition_counted_from_the_last_exposure(
    users, people, now, phase_kinds, total_days
):
    case = make_case(people.head, now)
    exposure = now - dt.timedelta(days=1)
    contact = candidate(case, people.other, last_exposure_at=exposure)

    svc.contact_decide(
        actor=users.epidemiologist,
        contact=contact,
        status="close",
        reason="同桌就餐两小时",
        now=now,
    )

    contact.refresh_from_db()
    assert contact.status == "close"
    assert contact.decided_by == users.epidemiologist
    order = contact.order
    assert order is not None
    assert order.person_id == people.other.pk
    assert order.division_id == people.other.division_id  # the grid worker of grid B
    assert order.category == "close_contact"
    assert (order.source_type, order.source_id) == (SourceType.CONTACT, str(contact.pk))
    assert [p["kind"] for p in order.phases] == phase_kinds
    assert order.end_date == exposure.date() + dt.timedelta(days=total_days)
    task = LoopTask.objects.get(order=order)
    assert task.division_id == people.other.division_id
    assert people.other.name not in task.title
    assert case.code in task.title


def test_a_late_found_close_contact_serves_only_the_remaining_days(users, people):
    case = make_case(people.head, V9_DAY)
    exposure = V9_DAY - dt.timedelta(days=5)
    contact = candidate(case, people.other, last_exposure_at=exposure)

    svc.contact_decide(
        actor=users.epidemiologist, contact=contact, status="close", reason="同车", now=V9_DAY
    )

    order = ControlOrder.objects.get(pk=Contact.objects.get(pk=contact.pk).order_id)
    assert order.phases[0]["start"] == V9_DAY.date().isoformat()  # not the exposure day + 1
    assert order.end_date == exposure.date() + dt.timedelta(days=10)


def test_deciding_twice_is_refused_and_nothing_changes(users, people):
    case = make_case(people.head, V9_DAY)
    contact = candidate(case, people.other, last_exposure_at=V9_DAY - dt.timedelta(days=1))
    svc.contact_decide(
        actor=users.epidemiologist, contact=contact, status="general", reason="同场所不同时段"
    )
    with pytest.raises(Conflict) as exc:
        svc.contact_decide(
            actor=users.epidemiologist, contact=contact, status="close", reason="再次判定"
        )
    assert "已判定" in str(exc.value.message)
    contact.refresh_from_db()
    assert contact.status == "general"
    assert contact.order_id is None


def test_decide_needs_a_reason_and_refuses_a_future_exposure(users, people):
    case = make_case(people.head, V9_DAY)
    contact = candidate(case, people.other)
    with pytest.raises(ValidationFailed) as exc:
        svc.contact_decide(
            actor=users.epidemiologist,
            contact=contact,
            status="close",
            reason="  ",
            last_exposure_at=V9_DAY + dt.timedelta(hours=2),
            now=V9_DAY,
        )
    assert set(exc.value.errors) == {"reason", "last_exposure_at"}
    with pytest.raises(ValidationFailed) as exc:
        svc.contact_decide(
            actor=users.epidemiologist, contact=contact, status="close", reason="同餐", now=V9_DAY
        )
    assert "last_exposure_at" in exc.value.errors  # a close contact needs the exposure
    contact.refresh_from_db()
    assert contact.status == "candidate"
    assert not ControlOrder.objects.exists()


def test_the_case_itself_is_never_a_contact(users, people):
    case = make_case(people.head, V9_DAY)
    with pytest.raises(ValidationFailed) as exc:
        svc.contact_add_manual(
            actor=users.epidemiologist,
            case=case,
            name=people.head.name,
            id_type="resident_id",
            id_number=people.head.id_number,
        )
    assert "id_number" in exc.value.errors
    itself = candidate(case, people.head, last_exposure_at=V9_DAY - dt.timedelta(days=1))
    with pytest.raises(ValidationFailed) as exc:
        svc.contact_decide(actor=users.epidemiologist, contact=itself, status="close", reason="x")
    assert "contact" in exc.value.errors


def test_only_investigators_decide(users, people):
    case = make_case(people.head, V9_DAY)
    contact = candidate(case, people.other, last_exposure_at=V9_DAY - dt.timedelta(days=1))
    for user in (users.grid_worker, users.leader):
        with pytest.raises(Forbidden):
            svc.contact_decide(actor=user, contact=contact, status="close", reason="同餐")


def test_a_close_contact_living_outside_goes_onto_the_assist_letter(users, people):
    case = make_case(people.head, V9_DAY)
    contact = svc.contact_add_manual(
        actor=users.epidemiologist,
        case=case,
        name="赵外地",
        id_type="resident_id",
        id_number=OUTSIDER_ID,
        phone="13500001111",
        setting="dining",
        last_exposure_at=V9_DAY - dt.timedelta(days=2),
        now=V9_DAY,
    )
    svc.contact_decide(
        actor=users.epidemiologist,
        contact=contact,
        status="close",
        reason="同桌就餐",
        outside_code="110105",
        now=V9_DAY,
    )
    contact.refresh_from_db()
    assert contact.order_id is None
    entry = contact.assist_entry
    assert entry is not None
    assert entry.category == "close_contact"
    letter = entry.request
    assert letter.direction == AssistRequest.Direction.OUTGOING
    assert letter.counterpart_code == "110105"
    person = Person.objects.get(id_number=OUTSIDER_ID)  # registered now, under the county
    assert contact.person_id == person.pk
    assert person.division.level == 0


def test_an_unregistered_contact_in_a_grid_is_registered_and_gets_the_order(users, people, county):
    case = make_case(people.head, V9_DAY)
    contact = svc.contact_add_manual(
        actor=users.epidemiologist,
        case=case,
        name="钱新人",
        id_type="resident_id",
        id_number=NEWCOMER_ID,
        last_exposure_at=V9_DAY - dt.timedelta(days=1),
        status="close",
        reason="同工作",
        division_code=county.grid_a2.code,
        now=V9_DAY,
    )
    person = Person.objects.get(id_number=NEWCOMER_ID)
    assert person.division_id == county.grid_a2.code
    assert contact.order is not None
    assert contact.order.division_id == county.grid_a2.code


def test_a_close_contact_without_a_known_home_is_refused(users, people):
    case = make_case(people.head, V9_DAY)
    with pytest.raises(ValidationFailed) as exc:
        svc.contact_add_manual(
            actor=users.epidemiologist,
            case=case,
            name="钱新人",
            id_type="resident_id",
            id_number=NEWCOMER_ID,
            last_exposure_at=V9_DAY - dt.timedelta(days=1),
            status="close",
            reason="同工作",
            now=V9_DAY,
        )
    assert "division_code" in exc.value.errors
    assert not Contact.objects.exists()
    assert not Person.objects.filter(id_number=NEWCOMER_ID)


def _close_contact_with_household(users, people, now) -> Contact:
    case = make_case(people.other, now, code="眉病〔2022〕2号")
    contact = candidate(
        case, people.head, evidence_kind="vehicle", last_exposure_at=now - dt.timedelta(days=1)
    )
    return svc.contact_decide(
        actor=users.epidemiologist, contact=contact, status="close", reason="同车", now=now
    )


def test_secondary_contacts_come_from_the_household_and_declared_coworkers(users, people):
    close = _close_contact_with_household(users, people, V9_DAY)
    svc.coworker_declare(
        actor=users.epidemiologist,
        contact=close,
        rows=[{"name": "孙同事", "id_type": "resident_id", "id_number": NEWCOMER_ID}],
    )
    new = svc.secondaries_propose(actor=users.epidemiologist, contact=close)

    assert {(c.id_number, c.evidence_kind) for c in new} == {
        (people.spouse.id_number, "household"),
        (NEWCOMER_ID, "coworker"),
    }
    assert all(c.degree == 2 and c.via_id == close.pk and c.status == "candidate" for c in new)
    # Proposing again adds nobody.
    assert svc.secondaries_propose(actor=users.epidemiologist, contact=close) == []

    spouse = Contact.objects.get(id_number=people.spouse.id_number)
    svc.contact_decide(
        actor=users.epidemiologist,
        contact=spouse,
        status="close",
        reason="同住",
        last_exposure_at=V9_DAY - dt.timedelta(hours=3),
        now=V9_DAY,
    )
    spouse.refresh_from_db()
    assert spouse.order.category == "secondary_contact"
    assert [p["kind"] for p in spouse.order.phases] == ["home_isolation"]  # 9th: 7 d at home


@pytest.mark.parametrize("now", [TWENTY_DAY, TEN_DAY], ids=["twenty", "ten"])
def test_no_secondary_contacts_under_editions_without_them(users, people, now):
    close = _close_contact_with_household(users, people, now)
    with pytest.raises(Conflict) as exc:
        svc.secondaries_propose(actor=users.epidemiologist, contact=close)
    assert "不判定密接的密接" in str(exc.value.message)
    assert Contact.objects.filter(degree=2).count() == 0


def test_coworkers_need_a_close_contact_and_valid_rows(users, people):
    case = make_case(people.head, V9_DAY)
    undecided = candidate(case, people.other)
    with pytest.raises(Conflict):
        svc.coworker_declare(
            actor=users.epidemiologist,
            contact=undecided,
            rows=[{"name": "孙同事", "id_number": NEWCOMER_ID}],
        )
    close = _close_contact_with_household(users, people, V9_DAY)
    with pytest.raises(ValidationFailed) as exc:
        svc.coworker_declare(
            actor=users.epidemiologist,
            contact=close,
            rows=[{"name": "孙同事", "id_number": "123"}],
        )
    assert "rows.1.id_number" in exc.value.errors
    assert not DeclaredCoworker.objects.exists()


def test_refresh_finds_the_household_and_keeps_decisions(users, people):
    case = make_case(people.head, V9_DAY)
    stale = candidate(case, people.other)  # a check-in candidate the engine no longer finds

    counts = svc.candidates_refresh(actor=users.epidemiologist, case=case, now=V9_DAY)

    assert counts["added"] == 1
    assert counts["removed"] == 1
    assert not Contact.objects.filter(pk=stale.pk).exists()
    spouse = Contact.objects.get(case=case)
    assert spouse.id_number == people.spouse.id_number
    assert spouse.status == "candidate"
    assert spouse.evidence_kind == "household"
    assert spouse.person_id == people.spouse.pk
    svc.contact_decide(
        actor=users.epidemiologist, contact=spouse, status="general", reason="分居两周", now=V9_DAY
    )
    manual = svc.contact_add_manual(
        actor=users.epidemiologist,
        case=case,
        name="钱新人",
        id_type="resident_id",
        id_number=NEWCOMER_ID,
        now=V9_DAY,
    )

    again = svc.candidates_refresh(actor=users.epidemiologist, case=case, now=V9_DAY)

    assert again["added"] == 0
    assert again["removed"] == 0
    spouse.refresh_from_db()
    assert spouse.status == "general"
    assert spouse.reason == "分居两周"
    assert Contact.objects.filter(pk=manual.pk).exists()  # manual ones are kept
    with pytest.raises(Forbidden):
        svc.candidates_refresh(actor=users.leader, case=case, now=V9_DAY)
