"""Sites, rooms and stays: what staff see happen when they assign, transfer, check out."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
from django.db import connection, connections
from django.utils import timezone

from conftest import _user
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.policy.models import PolicyEdition
from fangkong.quarantine import selectors_sites as sel
from fangkong.quarantine import services_sites as svc
from fangkong.quarantine.models import PhaseTransfer, QuarantineSettings, Room, Stay
from fangkong.tracing.models import Case, Cluster, Contact

TZ = timezone.get_fixed_timezone(480)
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
TODAY = NOW.date()


def make_order(
    person, division, *, cen_start=TODAY, cen_days=7, status="active", source=("manual", "")
):
    cen_end = cen_start + dt.timedelta(days=cen_days - 1)
    home_start = cen_end + dt.timedelta(days=1)
    home_end = home_start + dt.timedelta(days=6)
    return ControlOrder.objects.create(
        person=person,
        division=division,
        category="close_contact",
        edition=PolicyEdition.objects.order_by("pk").first(),
        counts_from="last_exposure",
        anchor_date=cen_start,
        start_date=cen_start,
        end_date=home_end,
        phases=[
            {
                "kind": "centralized",
                "days": cen_days,
                "start": cen_start.isoformat(),
                "end": cen_end.isoformat(),
                "test_days": [],
            },
            {
                "kind": "home_monitoring",
                "days": 7,
                "start": home_start.isoformat(),
                "end": home_end.isoformat(),
                "test_days": [],
            },
        ],
        status=status,
        source_type=source[0],
        source_id=source[1],
    )


@pytest.fixture
def w(county, users, people):
    site = svc.site_create(
        actor=users.commander,
        data={
            "name": "眉县宾馆",
            "kind": "hotel",
            "division_code": county.town_a.code,
            "address": "齐镇1号",
            "manager_name": "刘经理",
            "manager_phone": "0917-5541234",
        },
    )
    other_site = svc.site_create(
        actor=users.commander,
        data={
            "name": "横渠宿舍",
            "kind": "dormitory",
            "division_code": county.town_b.code,
            "address": "横渠2号",
            "manager_name": "陈老师",
            "manager_phone": "0917-5541235",
        },
    )
    svc.rooms_add(
        actor=users.commander,
        site=site,
        data={"floor_from": 2, "floor_to": 3, "room_from": 1, "room_to": 3, "capacity": 2},
    )
    svc.rooms_add(actor=users.commander, site=other_site, data={"numbers": ["101"], "floor": 1})
    staff = _user("site_a", Role.SITE_STAFF, county.root)
    other_staff = _user("site_b", Role.SITE_STAFF, county.root)
    svc.staff_add(actor=users.commander, site=site, user_id=staff.pk, duty="manager")
    svc.staff_add(actor=users.commander, site=other_site, user_id=other_staff.pk, duty="manager")
    rooms = {r.number: r for r in Room.objects.filter(site=site)}
    return SimpleNamespace(
        site=site,
        other_site=other_site,
        staff=staff,
        other_staff=other_staff,
        rooms=rooms,
        other_room=Room.objects.get(site=other_site),
    )


def test_rooms_in_bulk_by_floor_and_number(w):
    assert sorted(w.rooms) == ["201", "202", "203", "301", "302", "303"]
    assert {r.capacity for r in w.rooms.values()} == {2}


def test_adding_a_room_twice_names_the_field(w, users):
    with pytest.raises(ValidationFailed) as exc:
        svc.rooms_add(actor=users.commander, site=w.site, data={"numbers": "201,204"})
    assert "numbers" in exc.value.errors
    assert not Room.objects.filter(number="204").exists()


def test_only_site_admins_create_sites(users, county):
    with pytest.raises(Forbidden):
        svc.site_create(actor=users.grid_worker, data={"name": "x"})


def test_site_staff_see_only_their_sites(w, users):
    assert list(sel.site_queryset(viewer=w.staff)) == [w.site]
    assert set(sel.site_queryset(viewer=users.leader)) == {w.site, w.other_site}
    assert list(sel.site_queryset(viewer=users.town_officer)) == [w.site]
    with pytest.raises(NotFound):
        sel.access_site_by_id(viewer=w.other_staff, site_id=w.site.pk)


def test_assign_occupies_the_room_and_is_audited(w, people, county):
    order = make_order(people.head, county.grid_a)
    assert [o.pk for o in sel.awaiting_rooms(viewer=w.staff, today=TODAY)] == [order.pk]
    stay = svc.stay_assign(actor=w.staff, order=order, room=w.rooms["201"], now=NOW)
    assert Room.objects.get(pk=w.rooms["201"].pk).status == "occupied"
    assert sel.awaiting_rooms(viewer=w.staff, today=TODAY) == []
    event = AuditEvent.objects.filter(verb="quarantine.stay.assign").get()
    assert event.data["order_id"] == order.pk
    assert stay.cohort == ""


def test_refusals(w, people, county, users):
    inactive = make_order(people.other, county.grid_b, status="proposed")
    with pytest.raises(Conflict, match="未在执行中"):
        svc.stay_assign(actor=w.staff, order=inactive, room=w.rooms["201"], now=NOW)
    later = make_order(people.head, county.grid_a, cen_start=TODAY + dt.timedelta(days=3))
    with pytest.raises(Conflict, match="不在集中隔离阶段"):
        svc.stay_assign(actor=w.staff, order=later, room=w.rooms["201"], now=NOW)
    ControlOrder.objects.filter(pk=later.pk).update(status="cancelled")
    order = make_order(people.head, county.grid_a)
    svc.stay_assign(actor=w.staff, order=order, room=w.rooms["201"], now=NOW)
    with pytest.raises(Conflict, match="已入住 眉县宾馆 隔离点"):
        svc.stay_assign(actor=w.staff, order=order, room=w.rooms["202"], now=NOW)
    Room.objects.filter(pk=w.rooms["203"].pk).update(status="out_of_service")
    Room.objects.filter(pk=w.rooms["301"].pk).update(status="disinfection")
    spouse = make_order(people.spouse, county.grid_a)
    with pytest.raises(Conflict, match="停用"):
        svc.stay_assign(actor=w.staff, order=spouse, room=w.rooms["203"], now=NOW)
    with pytest.raises(Conflict, match="待消杀"):
        svc.stay_assign(actor=w.staff, order=spouse, room=w.rooms["301"], now=NOW)
    # another site's staff: out of scope looks like missing
    with pytest.raises(NotFound):
        svc.stay_assign(actor=w.other_staff, order=spouse, room=w.rooms["202"], now=NOW)
    with pytest.raises(Forbidden):
        svc.stay_assign(actor=users.grid_worker, order=spouse, room=w.rooms["202"], now=NOW)
    assert Stay.objects.count() == 1


def test_household_sharing_and_full_room(w, people, county):
    head = make_order(people.head, county.grid_a)
    spouse = make_order(people.spouse, county.grid_a)
    stranger = make_order(people.other, county.grid_b)
    svc.stay_assign(actor=w.staff, order=head, room=w.rooms["201"], now=NOW)
    with pytest.raises(Conflict, match="同户"):
        svc.stay_assign(actor=w.staff, order=stranger, room=w.rooms["201"], now=NOW)
    svc.stay_assign(actor=w.staff, order=spouse, room=w.rooms["201"], now=NOW)
    with pytest.raises(Conflict, match="已满"):
        svc.stay_assign(actor=w.staff, order=stranger, room=w.rooms["201"], now=NOW)


def test_never_sharing(w, people, county, users):
    svc.settings_update(actor=users.commander, data={"sharing": "never"})
    svc.stay_assign(
        actor=w.staff, order=make_order(people.head, county.grid_a), room=w.rooms["201"], now=NOW
    )
    with pytest.raises(Conflict, match="单人单间"):
        svc.stay_assign(
            actor=w.staff,
            order=make_order(people.spouse, county.grid_a),
            room=w.rooms["201"],
            now=NOW,
        )


def test_contacts_of_different_outbreaks_never_share(w, people, county):
    cluster = Cluster.objects.create(code="C1", name="某聚集")
    case_a = Case.objects.create(
        code="A1",
        person=people.other,
        classification="confirmed",
        report_date=TODAY,
        cluster=cluster,
    )
    case_b = Case.objects.create(
        code="B1", person=people.other, classification="confirmed", report_date=TODAY
    )
    ca = Contact.objects.create(case=case_a, name="甲", id_number="x1")
    cb = Contact.objects.create(case=case_b, name="乙", id_number="x2")
    head = make_order(people.head, county.grid_a, source=("contact", str(ca.pk)))
    spouse = make_order(people.spouse, county.grid_a, source=("contact", str(cb.pk)))
    stay = svc.stay_assign(actor=w.staff, order=head, room=w.rooms["201"], now=NOW)
    assert stay.cohort == f"cluster:{cluster.pk}"
    with pytest.raises(Conflict, match="不同疫情的密接不得同住一间"):
        svc.stay_assign(actor=w.staff, order=spouse, room=w.rooms["201"], now=NOW)
    other = svc.stay_assign(actor=w.staff, order=spouse, room=w.rooms["202"], now=NOW)
    assert other.cohort == f"case:{case_b.pk}"


def test_checkout_leaves_room_awaiting_disinfection(w, people, county):
    stay = svc.stay_assign(
        actor=w.staff, order=make_order(people.head, county.grid_a), room=w.rooms["201"], now=NOW
    )
    svc.stay_checkout(actor=w.staff, stay=stay, reason="hospital", note="", now=NOW)
    room = Room.objects.get(pk=w.rooms["201"].pk)
    assert room.status == "disinfection"
    svc.room_disinfected(actor=w.staff, room=room)
    assert Room.objects.get(pk=room.pk).status == "free"
    with pytest.raises(ValidationFailed):
        svc.stay_checkout(actor=w.staff, stay=stay, reason="nonsense", now=NOW)


def test_transfer_across_sites_records_the_move(w, people, county, users):
    order = make_order(people.head, county.grid_a)
    stay = svc.stay_assign(actor=users.commander, order=order, room=w.rooms["201"], now=NOW)
    new = svc.stay_transfer(
        actor=users.commander, stay=stay, room=w.other_room, reason="房间维修", now=NOW
    )
    old = Stay.objects.get(pk=stay.pk)
    assert (old.out_reason, new.transfer_from_id, new.site_id) == (
        "transfer",
        stay.pk,
        w.other_site.pk,
    )
    assert PhaseTransfer.objects.get().kind == "site_to_site"
    assert Room.objects.get(pk=w.rooms["201"].pk).status == "disinfection"


def test_move_home_at_end_of_centralized_phase(w, people, county, users):
    order = make_order(people.head, county.grid_a, cen_start=TODAY - dt.timedelta(days=6))
    stay = svc.stay_assign(actor=users.commander, order=order, room=w.rooms["201"], now=NOW)
    with pytest.raises(ValidationFailed):
        svc.order_move_home(actor=users.commander, order=order, escort="赵师傅", now=NOW)
    assert Stay.objects.get(pk=stay.pk).checked_out_at is None
    later = NOW + dt.timedelta(days=1)
    move = svc.order_move_home(
        actor=users.commander, order=order, escort="赵师傅", vehicle_plate="陕C12345", now=later
    )
    assert (move.kind, move.to_division_id) == ("site_to_home", county.grid_a.code)
    assert Stay.objects.get(pk=stay.pk).out_reason == "phase_end"
    order.refresh_from_db()
    assert (order.status, order.current_phase) == ("phase_changed", 1)


def test_settings_ranges(users):
    with pytest.raises(ValidationFailed) as exc:
        svc.settings_update(
            actor=users.commander, data={"morning_due_hour": 24, "fever_threshold": "39"}
        )
    assert set(exc.value.errors) == {"morning_due_hour", "fever_threshold"}
    row = svc.settings_update(actor=users.commander, data={"fever_threshold": "37.5"})
    assert str(row.fever_threshold) == "37.5"
    assert QuarantineSettings.objects.count() == 1


def test_occupancy_and_forecast(w, people, county, users):
    svc.stay_assign(
        actor=w.staff, order=make_order(people.head, county.grid_a), room=w.rooms["201"], now=NOW
    )
    make_order(
        people.spouse, county.grid_a, status="proposed", cen_start=TODAY + dt.timedelta(days=2)
    )
    occ = sel.occupancy(viewer=users.commander, start=TODAY, days=3)
    row = next(r for r in occ["sites"] if r["site_id"] == w.site.pk)
    assert row["people"] == [1, 1, 1]
    assert (row["beds"], row["occupied"], row["free"]) == (12, 1, 5)
    fc = sel.forecast(viewer=users.commander, today=TODAY)
    assert [d["people"] for d in fc["days"][:3]] == [1, 1, 2]
    # same household: one room under the household rule
    assert [d["rooms_needed"] for d in fc["days"][:3]] == [1, 1, 1]
    assert fc["days"][0]["rooms"] == 7


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_racing_for_the_last_bed(county, users, people):
    site = svc.site_create(
        actor=users.commander,
        data={
            "name": "竞争点",
            "kind": "hotel",
            "division_code": county.root.code,
            "address": "1",
            "manager_name": "王",
            "manager_phone": "0917-1",
        },
    )
    room = svc.rooms_add(actor=users.commander, site=site, data={"numbers": ["101"]})[0]
    orders = [make_order(people.head, county.grid_a), make_order(people.other, county.grid_b)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(order):
        try:
            barrier.wait()
            svc.stay_assign(actor=users.commander, order=order, room=room, now=NOW)
            results.append("ok")
        except Conflict as exc:
            results.append(str(exc.message))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "该房间刚刚已满，请换一间。"]
    assert Stay.objects.filter(room=room).count() == 1
