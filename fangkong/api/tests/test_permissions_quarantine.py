"""The permission matrix of issue 7's routes: quarantine sites, rooms, staff and stays, moving
home, occupancy, forecast and settings; health checks, personal links, the home list, door
visits and alerts; test schedules, release with a certificate, and the PDFs.

Every route x every kind of viewer, against one world built through the services (site A in
town A with rooms on floors 2-3 and three staff: a site worker, a medical worker and a spare;
site B in town B with its own site worker; grid A people: one staying in room 201, one awaiting
a room, one at home with a personal link, one whose centralized phase ended yesterday, one
ready for release, one already released with a certificate; a fever check and its alert; a
pending and a sampled test).

Who may do what (quarantine/permissions.py, and each service's own checks): anonymous -> 401;
sites, rooms and staff lists are changed by the site admins (commander, admin); people at a site
are assigned, moved and checked out by the site's workers (its staff, the site admins); people
at home are looked after by the home carers of their grid; the READERS read sites, occupancy
and the forecast, every other role is refused (403). The data scope: a grid worker of grid B, a
town officer of town B and the site worker of site B find grid A's people and site A missing
(404) and absent from lists. A refused request leaves the database as it was and audits
nothing; a successful write audits exactly one event of its verb by the caller; a successful
read writes nothing at all (the PDFs, whose download is audited, excepted).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from conftest import _user
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, ControlOrderEvent
from fangkong.core import timeutils
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.policy.models import PolicyEdition
from fangkong.quarantine import services_health, services_tests
from fangkong.quarantine import services_sites as svc
from fangkong.quarantine.models import (
    Alert,
    Certificate,
    DoorVisit,
    HealthCheck,
    HealthLink,
    PhaseTransfer,
    QuarantineSettings,
    Room,
    SamplingTask,
    Site,
    SiteStaff,
    Stay,
)

VIEWERS = (
    "anonymous",
    "commander",
    "admin",
    "leader",
    "epidemiologist",
    "town_officer",
    "other_town_officer",
    "village_officer",
    "grid_worker",
    "other_grid_worker",
    "lab_staff",
    "site_staff",
    "other_site_staff",
    "medical_staff",
    "checkpoint_staff",
    "inspector",
    "liaison",
)
ADMINS = frozenset({"commander", "admin"})
SITE_A_WORKERS = ADMINS | {"site_staff", "medical_staff"}
# Who sees site A (county-wide readers, the town A officer, site A's staff).
SEES_SITE_A = SITE_A_WORKERS | {"leader", "epidemiologist", "town_officer"}
NON_READERS = frozenset({"lab_staff", "checkpoint_staff", "inspector", "liaison"})
GRID_A_CARERS = frozenset({"town_officer", "village_officer", "grid_worker"})
COUNTY_READERS = frozenset({"leader", "epidemiologist"})
OUT_OF_SCOPE = frozenset({"other_town_officer", "other_grid_worker", "other_site_staff"})
LOGGED_IN = frozenset(VIEWERS) - {"anonymous"}
READERS = LOGGED_IN - NON_READERS


def expect(default: int, **groups: tuple[frozenset[str] | set[str], int]) -> dict[str, int]:
    """{viewer: status}: anonymous 401, then each group's status (later groups win), else
    `default`."""
    out = dict.fromkeys(VIEWERS, default) | {"anonymous": 401}
    for viewers, status in groups.values():
        out |= dict.fromkeys(viewers, status)
    return out


def site_object(ok: frozenset[str] | set[str], status: int) -> dict[str, int]:
    """A route on site A (or its rooms and stays): `ok` succeed; other viewers who see site A
    and the roles that read no site are refused (403); the rest find it missing (404)."""
    return expect(404, seers=(SEES_SITE_A, 403), non=(NON_READERS, 403), ok=(ok, status))


def today() -> dt.date:
    return timeutils.local_today()


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str  # the path as the OpenAPI document writes it
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    body: Callable[[SimpleNamespace], Any] | None = None
    form: bool = False  # multipart form instead of JSON
    # Lists: does the answer show the world's object? `seen_by`: the viewers who must see it
    # (every other viewer answered 200 must not).
    shows: Callable[[SimpleNamespace, Any], bool] | None = None
    seen_by: frozenset[str] = frozenset()
    verb: str | None = None  # the audit verb a success records
    also: frozenset[str] = field(default_factory=frozenset)  # other verbs the same write records
    # Successful writes: what the caller would notice afterwards (reads the database).
    done: Callable[[SimpleNamespace], bool] | None = None


def _person(name: str, birth: dt.date, serial: int, division) -> Person:
    return Person.objects.create(
        name=name,
        id_number=make_resident_id("610326", birth, serial),
        sex="M",
        birth_date=birth,
        phone=f"13{serial:09d}",
        division=division,
        address="眉县齐镇齐镇村一组30号",
    )


def _order(person: Person, phases: list[tuple[str, dt.date, dt.date]]) -> ControlOrder:
    return ControlOrder.objects.create(
        person=person,
        division_id=person.division_id,
        category="close_contact",
        edition=PolicyEdition.objects.order_by("pk").first(),
        counts_from="last_exposure",
        anchor_date=phases[0][1],
        start_date=phases[0][1],
        end_date=phases[-1][2],
        phases=[
            {
                "kind": kind,
                "days": (end - start).days + 1,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "test_days": [],
            }
            for kind, start, end in phases
        ],
        status="active",
        source_type="manual",
        source_id="",
    )


def _check_in(order: ControlOrder, room: Room) -> Stay:
    room.status = Room.Status.OCCUPIED
    room.save(update_fields=["status"])
    return Stay.objects.create(
        order=order,
        person=order.person,
        site=room.site,
        room=room,
        household_id=order.person.household_id,
        checked_in_at=timeutils.now() - dt.timedelta(days=3),
    )


@pytest.fixture
def q_world(world) -> SimpleNamespace:
    county, users, people = world.county, world.users, world.people
    hq = users.commander
    day = today()
    site_data = {"kind": "hotel", "manager_name": "刘经理", "manager_phone": "0917-5541234"}
    site = svc.site_create(
        actor=hq,
        data={"name": "眉县宾馆", "division_code": county.town_a.code, "address": "齐镇1号"}
        | site_data,
    )
    other_site = svc.site_create(
        actor=hq,
        data={"name": "横渠宿舍", "division_code": county.town_b.code, "address": "横渠2号"}
        | site_data,
    )
    svc.rooms_add(
        actor=hq,
        site=site,
        data={"floor_from": 2, "floor_to": 3, "room_from": 1, "room_to": 3, "capacity": 2},
    )
    svc.rooms_add(actor=hq, site=other_site, data={"numbers": ["101"], "floor": 1})
    staff = SimpleNamespace(
        site_staff=_user("site_a", Role.SITE_STAFF, county.root),
        medical_staff=_user("med_a", Role.MEDICAL_STAFF, county.root),
        spare=_user("site_spare", Role.SITE_STAFF, county.root),
        other_site_staff=_user("site_b", Role.SITE_STAFF, county.root),
    )
    svc.staff_add(actor=hq, site=site, user_id=staff.site_staff.pk, duty="manager")
    svc.staff_add(actor=hq, site=site, user_id=staff.medical_staff.pk, duty="medical")
    svc.staff_add(actor=hq, site=site, user_id=staff.spare.pk, duty="logistics")
    svc.staff_add(actor=hq, site=other_site, user_id=staff.other_site_staff.pk, duty="manager")
    extra = {
        "checkpoint_staff": _user("cp_a", Role.CHECKPOINT_STAFF, county.town_a),
        "inspector": _user("inspector", Role.INSPECTOR, county.root),
        "liaison": _user("liaison_a", Role.LIAISON, county.town_a),
        "site_staff": staff.site_staff,
        "medical_staff": staff.medical_staff,
        "other_site_staff": staff.other_site_staff,
    }
    rooms = {r.number: r for r in Room.objects.filter(site=site)}
    d = dt.timedelta
    grid_a = county.grid_a
    # Staying in 201 (centralized from today), assigned through the service.
    staying = _order(
        people.head,
        [("centralized", day, day + d(days=6)), ("home_monitoring", day + d(7), day + d(13))],
    )
    stay = svc.stay_assign(actor=hq, order=staying, room=rooms["201"])
    # Awaiting a room (centralized from today).
    waiting = _order(people.spouse, [("centralized", day, day + d(days=6))])
    # At home (home isolation), with a personal link.
    home = _order(world.loner, [("home_isolation", day - d(days=1), day + d(days=5))])
    services_health.health_link_create(actor=users.grid_worker, order=home)
    # Centralized phase ended yesterday, still in room 301: ready to move home.
    mover = _order(
        _person("孙志强", dt.date(1980, 4, 4), 61, grid_a),
        [("centralized", day - d(days=7), day - d(days=1)), ("home_monitoring", day, day + d(6))],
    )
    _check_in(mover, rooms["301"])
    # Served in full, still in room 302: ready for release.
    releasable = _order(
        _person("周文华", dt.date(1981, 5, 5), 62, grid_a),
        [("centralized", day - d(days=7), day - d(days=1))],
    )
    _check_in(releasable, rooms["302"])
    # Released from room 303 with a certificate (the room now awaits disinfection).
    released = _order(
        _person("吴海燕", dt.date(1982, 6, 6), 63, grid_a),
        [("centralized", day - d(days=8), day - d(days=1))],
    )
    _check_in(released, rooms["303"])
    certificate = services_tests.order_release_certify(actor=hq, order=released)
    # A fever this morning (an alert handed over, at site A) and two tests.
    services_health.health_check_record(
        actor=hq, order=staying, day=day, slot="am", temperature="38.6", symptoms=["fever"]
    )
    alert = Alert.objects.get(order=staying)
    task_kw = {"phase_index": 0, "phase_kind": "centralized", "site": site, "division": grid_a}
    pending = SamplingTask.objects.create(
        order=staying, person=staying.person, due_date=day, **task_kw
    )
    sampled = SamplingTask.objects.create(
        order=mover,
        person=mover.person,
        due_date=day - d(days=1),
        status=SamplingTask.Status.SAMPLED,
        tube_code="T-0001",
        sampled_at=timeutils.now() - d(hours=20),
        **task_kw,
    )
    return SimpleNamespace(
        **vars(world),
        viewers=SimpleNamespace(**vars(users), **extra),
        site=site,
        other_site=other_site,
        rooms=rooms,
        staff=staff,
        staying=staying,
        stay=stay,
        waiting=waiting,
        home=home,
        mover=mover,
        releasable=releasable,
        released=released,
        certificate=certificate,
        alert=alert,
        pending=pending,
        sampled=sampled,
    )


def _ids(body: list[dict[str, Any]], key: str = "id") -> set[int]:
    return {row[key] for row in body}


ROUTES = [
    # --- sites, rooms, staff ---
    Route(
        "list sites",
        "get",
        "/quarantine-sites",
        lambda w: "/api/v1/quarantine-sites",
        expect(200, non=(NON_READERS, 403)),
        shows=lambda w, b: w.site.pk in _ids(b),
        seen_by=SEES_SITE_A,
    ),
    Route(
        "create site",
        "post",
        "/quarantine-sites",
        lambda w: "/api/v1/quarantine-sites",
        expect(403, ok=(ADMINS, 201)),
        body=lambda w: {
            "name": "齐镇卫生院隔离点",
            "kind": "hospital",
            "division_code": w.county.town_a.code,
            "address": "齐镇3号",
            "manager_name": "王院长",
            "manager_phone": "0917-5541236",
        },
        verb="quarantine.site.create",
        done=lambda w: Site.objects.filter(name="齐镇卫生院隔离点").exists(),
    ),
    Route(
        "site detail",
        "get",
        "/quarantine-sites/{site_id}",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}",
        site_object(SEES_SITE_A, 200),
    ),
    Route(
        "update site",
        "patch",
        "/quarantine-sites/{site_id}",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}",
        site_object(ADMINS, 200),
        body=lambda w: {"note": "北楼启用"},
        verb="quarantine.site.update",
        done=lambda w: Site.objects.get(pk=w.site.pk).note == "北楼启用",
    ),
    Route(
        "add rooms",
        "post",
        "/quarantine-sites/{site_id}/rooms",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}/rooms",
        site_object(ADMINS, 201),
        body=lambda w: {"numbers": ["401", "402"], "floor": 4},
        verb="quarantine.rooms.add",
        done=lambda w: Room.objects.filter(site=w.site, number="402").exists(),
    ),
    Route(
        "update room",
        "patch",
        "/quarantine-rooms/{room_id}",
        lambda w: f"/api/v1/quarantine-rooms/{w.rooms['303'].pk}",
        site_object(SITE_A_WORKERS, 200),
        body=lambda w: {"note": "空调待修"},
        verb="quarantine.room.update",
        done=lambda w: Room.objects.get(pk=w.rooms["303"].pk).note == "空调待修",
    ),
    Route(
        "add staff",
        "post",
        "/quarantine-sites/{site_id}/staff",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}/staff",
        site_object(ADMINS, 201),
        body=lambda w: {"user_id": w.staff.other_site_staff.pk, "duty": "security"},
        verb="quarantine.staff.add",
        done=lambda w: SiteStaff.objects.filter(
            site=w.site, user=w.staff.other_site_staff, active=True
        ).exists(),
    ),
    Route(
        "remove staff",
        "delete",
        "/quarantine-sites/{site_id}/staff/{user_id}",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}/staff/{w.staff.spare.pk}",
        site_object(ADMINS, 204),
        verb="quarantine.staff.remove",
        done=lambda w: (
            not SiteStaff.objects.filter(site=w.site, user=w.staff.spare, active=True).exists()
        ),
    ),
    # --- stays ---
    Route(
        "people staying at a site",
        "get",
        "/quarantine-sites/{site_id}/stays",
        lambda w: f"/api/v1/quarantine-sites/{w.site.pk}/stays",
        site_object(SEES_SITE_A, 200),
        shows=lambda w, b: w.stay.pk in _ids(b),
        seen_by=SEES_SITE_A,
    ),
    Route(
        "assign a room",
        "post",
        "/stays",
        lambda w: "/api/v1/stays",
        site_object(SITE_A_WORKERS, 201),
        body=lambda w: {"order_id": w.waiting.pk, "room_id": w.rooms["202"].pk},
        verb="quarantine.stay.assign",
        done=lambda w: Stay.objects.filter(order=w.waiting, checked_out_at__isnull=True).exists(),
    ),
    Route(
        "transfer",
        "post",
        "/stays/{stay_id}/transfer",
        lambda w: f"/api/v1/stays/{w.stay.pk}/transfer",
        site_object(SITE_A_WORKERS, 201),
        body=lambda w: {"room_id": w.rooms["202"].pk, "reason": "空调故障"},
        verb="quarantine.stay.transfer",
        done=lambda w: Stay.objects.filter(transfer_from=w.stay, room=w.rooms["202"]).exists(),
    ),
    Route(
        "check out",
        "post",
        "/stays/{stay_id}/checkout",
        lambda w: f"/api/v1/stays/{w.stay.pk}/checkout",
        site_object(SITE_A_WORKERS, 200),
        body=lambda w: {"reason": "hospital", "note": "转定点医院"},
        verb="quarantine.stay.checkout",
        done=lambda w: Stay.objects.get(pk=w.stay.pk).out_reason == "hospital",
    ),
    Route(
        "move home",
        "post",
        "/control-orders/{order_id}/move-home",
        lambda w: f"/api/v1/control-orders/{w.mover.pk}/move-home",
        # Grid A's carers and the county readers see the order but are no site's workers.
        site_object(SITE_A_WORKERS, 201) | dict.fromkeys(GRID_A_CARERS, 403),
        body=lambda w: {"escort": "赵师傅", "vehicle_plate": "陕C12345"},
        verb="quarantine.order.move_home",
        also=frozenset({"control.order.advance_phase"}),
        done=lambda w: PhaseTransfer.objects.filter(order=w.mover, kind="site_to_home").exists(),
    ),
    # --- occupancy, forecast, awaiting, settings ---
    Route(
        "occupancy",
        "get",
        "/quarantine/occupancy",
        lambda w: "/api/v1/quarantine/occupancy",
        expect(200, non=(NON_READERS, 403)),
        shows=lambda w, b: w.site.pk in _ids(b["sites"], "site_id"),
        seen_by=SEES_SITE_A,
    ),
    Route(
        "forecast",
        "get",
        "/quarantine/forecast",
        lambda w: "/api/v1/quarantine/forecast",
        expect(200, non=(NON_READERS, 403)),
    ),
    Route(
        "awaiting a room",
        "get",
        "/quarantine/awaiting",
        lambda w: "/api/v1/quarantine/awaiting",
        expect(200, non=(NON_READERS, 403)),
        shows=lambda w, b: w.waiting.pk in _ids(b, "order_id"),
        # Site staff place people from anywhere in their jurisdiction (theirs is the county).
        seen_by=READERS - {"other_town_officer", "other_grid_worker"},
    ),
    Route(
        "settings",
        "get",
        "/quarantine/settings",
        lambda w: "/api/v1/quarantine/settings",
        expect(200),
    ),
    Route(
        "change settings",
        "put",
        "/quarantine/settings",
        lambda w: "/api/v1/quarantine/settings",
        expect(403, ok=(ADMINS, 200)),
        body=lambda w: {"fever_threshold": "37.5"},
        verb="quarantine.settings.update",
        done=lambda w: str(QuarantineSettings.objects.get().fever_threshold) == "37.5",
    ),
    # --- health checks, links, home list, door visits, alerts ---
    Route(
        "record a health check",
        "post",
        "/health-checks",
        lambda w: "/api/v1/health-checks",
        expect(
            404,
            county=(COUNTY_READERS, 403),
            ok=(SITE_A_WORKERS | GRID_A_CARERS, 201),
        ),
        body=lambda w: {
            "order_id": w.staying.pk,
            "day": today().isoformat(),
            "slot": "pm",
            "temperature": "36.5",
        },
        verb="health_check.record",
        done=lambda w: HealthCheck.objects.filter(order=w.staying, slot="pm").exists(),
    ),
    Route(
        "health checks",
        "get",
        "/health-checks",
        lambda w: "/api/v1/health-checks",
        expect(200),
        shows=lambda w, b: w.staying.pk in _ids(b, "order_id"),
        seen_by=SITE_A_WORKERS | GRID_A_CARERS | COUNTY_READERS,
    ),
    Route(
        "new personal link",
        "post",
        "/control-orders/{order_id}/health-link",
        lambda w: f"/api/v1/control-orders/{w.home.pk}/health-link",
        expect(404, county=(COUNTY_READERS, 403), ok=(ADMINS | GRID_A_CARERS, 201)),
        verb="health_link.create",
        done=lambda w: (
            HealthLink.objects.filter(order=w.home, revoked_at__isnull=True)
            .exclude(token=w.link_token)
            .exists()
        ),
    ),
    Route(
        "revoke personal link",
        "delete",
        "/control-orders/{order_id}/health-link",
        lambda w: f"/api/v1/control-orders/{w.home.pk}/health-link",
        expect(404, county=(COUNTY_READERS, 403), ok=(ADMINS | GRID_A_CARERS, 204)),
        verb="health_link.revoke",
        done=lambda w: (
            not HealthLink.objects.filter(order=w.home, revoked_at__isnull=True).exists()
        ),
    ),
    Route(
        "home list",
        "get",
        "/quarantine/home-list",
        lambda w: "/api/v1/quarantine/home-list",
        expect(200),
        shows=lambda w, b: w.home.pk in _ids(b, "order_id"),
        seen_by=ADMINS | GRID_A_CARERS | COUNTY_READERS,
    ),
    Route(
        "door visit",
        "post",
        "/door-visits",
        lambda w: "/api/v1/door-visits",
        expect(404, county=(COUNTY_READERS, 403), ok=(ADMINS | GRID_A_CARERS, 201)),
        body=lambda w: {"order_id": w.home.pk, "outcome": "seal_intact", "note": "封条完好"},
        form=True,
        verb="door_visit.record",
        done=lambda w: DoorVisit.objects.filter(order=w.home).exists(),
    ),
    Route(
        "open alerts",
        "get",
        "/quarantine/alerts",
        lambda w: "/api/v1/quarantine/alerts",
        expect(200),
        shows=lambda w, b: w.alert.pk in _ids(b),
        # A new alert is the grid worker's and the site's (village and town see it later).
        seen_by=SITE_A_WORKERS | COUNTY_READERS | {"grid_worker"},
    ),
    Route(
        "resolve an alert",
        "post",
        "/quarantine/alerts/{alert_id}/resolve",
        lambda w: f"/api/v1/quarantine/alerts/{w.alert.pk}/resolve",
        expect(404, county=(COUNTY_READERS, 403), ok=(SITE_A_WORKERS | {"grid_worker"}, 200)),
        body=lambda w: {"resolution": "已送发热门诊"},
        verb="alert.resolve",
        done=lambda w: Alert.objects.get(pk=w.alert.pk).resolved_at is not None,
    ),
    # --- tests, release, certificates, documents ---
    Route(
        "sampling tasks",
        "get",
        "/sampling-tasks",
        lambda w: "/api/v1/sampling-tasks",
        expect(200),
        shows=lambda w, b: w.pending.pk in _ids(b),
        seen_by=SITE_A_WORKERS | GRID_A_CARERS | COUNTY_READERS | {"lab_staff"},
    ),
    Route(
        "mark sampled",
        "post",
        "/sampling-tasks/{task_id}/sampled",
        lambda w: f"/api/v1/sampling-tasks/{w.pending.pk}/sampled",
        expect(
            404,
            county=(COUNTY_READERS, 403),
            ok=(SITE_A_WORKERS | GRID_A_CARERS | {"lab_staff"}, 200),
        ),
        body=lambda w: {"tube_code": "T-0002"},
        verb="quarantine.task.sampled",
        done=lambda w: SamplingTask.objects.get(pk=w.pending.pk).status == "sampled",
    ),
    Route(
        "record a result",
        "post",
        "/sampling-tasks/{task_id}/result",
        lambda w: f"/api/v1/sampling-tasks/{w.sampled.pk}/result",
        expect(
            404,
            county=(COUNTY_READERS, 403),
            ok=(SITE_A_WORKERS | GRID_A_CARERS | {"lab_staff"}, 200),
        ),
        body=lambda w: {"result": "negative"},
        verb="quarantine.task.result",
        done=lambda w: SamplingTask.objects.get(pk=w.sampled.pk).result == "negative",
    ),
    Route(
        "release with a certificate",
        "post",
        "/control-orders/{order_id}/release-certify",
        lambda w: f"/api/v1/control-orders/{w.releasable.pk}/release-certify",
        expect(
            404,
            county=(COUNTY_READERS | {"lab_staff"}, 403),
            ok=(SITE_A_WORKERS | GRID_A_CARERS, 201),
        ),
        body=lambda w: {"reason": ""},
        verb="quarantine.order.release_certify",
        also=frozenset({"control.order.release"}),
        done=lambda w: Certificate.objects.filter(order=w.releasable).exists(),
    ),
    Route(
        "certificate",
        "get",
        "/certificates/{certificate_id}",
        lambda w: f"/api/v1/certificates/{w.certificate.pk}",
        expect(404, ok=(SITE_A_WORKERS | GRID_A_CARERS | COUNTY_READERS | {"lab_staff"}, 200)),
    ),
    Route(
        "certificate PDF",
        "get",
        "/certificates/{certificate_id}/pdf",
        lambda w: f"/api/v1/certificates/{w.certificate.pk}/pdf",
        expect(404, ok=(SITE_A_WORKERS | GRID_A_CARERS | COUNTY_READERS | {"lab_staff"}, 200)),
        verb="quarantine.certificate.download",
    ),
    Route(
        "notice PDF",
        "get",
        "/control-orders/{order_id}/notice.pdf",
        lambda w: f"/api/v1/control-orders/{w.staying.pk}/notice.pdf",
        expect(404, ok=(SITE_A_WORKERS | GRID_A_CARERS | COUNTY_READERS | {"lab_staff"}, 200)),
        verb="quarantine.notice.download",
    ),
]

PUBLIC = {("get", "/certificates/verify/{code}")}  # no login: test_public_* below
MATRIX = {(route.method, route.template) for route in ROUTES} | PUBLIC

CASES = [
    pytest.param(route, viewer, id=f"{route.name}-{viewer}")
    for route in ROUTES
    for viewer in VIEWERS
]

SNAPSHOT_MODELS = (
    Site,
    Room,
    SiteStaff,
    Stay,
    PhaseTransfer,
    QuarantineSettings,
    HealthCheck,
    HealthLink,
    Alert,
    DoorVisit,
    SamplingTask,
    Certificate,
    ControlOrder,
    ControlOrderEvent,
    Person,
)


def _snapshot() -> dict[str, Any]:
    """Every row a route of issue 7 could write, and the audit trail."""
    tables = {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS
    }
    return tables | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


def _client(api_client, w: SimpleNamespace, viewer: str) -> Client:
    if viewer == "anonymous":
        return Client()
    return api_client(getattr(w.viewers, viewer))


def _send(client: Client, route: Route, w: SimpleNamespace) -> Any:
    kwargs: dict[str, Any] = {}
    if route.body is not None and route.form:
        kwargs = {"data": route.body(w)}
    elif route.body is not None:
        kwargs = {"data": json.dumps(route.body(w)), "content_type": "application/json"}
    return getattr(client, route.method)(route.path(w), **kwargs)


@pytest.mark.parametrize(("route", "viewer"), CASES)
def test_route_answers_each_viewer_by_role(q_world, api_client, route, viewer):
    w = q_world
    w.link_token = HealthLink.objects.get(order=w.home).token
    client = _client(api_client, w, viewer)  # making a token audits it: before the snapshot
    before = _snapshot()

    response = _send(client, route, w)

    expected = route.expect[viewer]
    assert response.status_code == expected, response.content.decode(errors="replace")[:2000]
    if expected >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "errors"}
        assert body["message"]
        assert _snapshot() == before, "a refused request changed the database"
        return
    if route.shows is not None:
        seen = route.shows(w, response.json())
        assert seen is (viewer in route.seen_by), "the world's object shown to the wrong viewer"
    if route.verb is not None:
        user = getattr(w.viewers, viewer)
        new = AuditEvent.objects.exclude(pk__in=before["audit"])
        verbs = list(new.values_list("verb", flat=True))
        assert new.filter(verb=route.verb, actor=user).count() == 1, verbs
        assert set(verbs) <= {route.verb} | route.also, verbs
        assert verbs.count(route.verb) == 1, verbs
    else:  # reads: nothing written, nothing audited
        assert _snapshot() == before, "a read changed the database or wrote an audit event"
    if route.done is not None:
        assert route.done(w), "the write did not take effect"


def test_the_world_is_what_the_matrix_assumes(q_world):
    """Guards the fixture: an empty world would turn the 'shows' checks and the 404s of the
    other grid, town and site into vacuous passes."""
    w = q_world
    grid_a = w.county.grid_a.code
    assert w.site.division_id == w.county.town_a.code
    assert w.other_site.division_id == w.county.town_b.code
    orders = [w.staying, w.waiting, w.home, w.mover, w.releasable, w.released]
    assert {o.division_id for o in orders} == {grid_a}
    assert (w.stay.site_id, w.stay.room_id) == (w.site.pk, w.rooms["201"].pk)
    assert Stay.objects.filter(order=w.mover, site=w.site, checked_out_at__isnull=True).exists()
    assert not Stay.objects.filter(order=w.waiting).exists()
    assert (w.alert.site_id, w.alert.level, w.alert.resolved_at) == (w.site.pk, 0, None)
    assert w.certificate.order_id == w.released.pk
    assert HealthLink.objects.filter(order=w.home, revoked_at__isnull=True).count() == 1
    assert set(
        SiteStaff.objects.filter(site=w.site, active=True).values_list("user", flat=True)
    ) == {
        w.staff.site_staff.pk,
        w.staff.medical_staff.pk,
        w.staff.spare.pk,
    }


# --- the public routes: no login, no personal data --------------------------------------------


def _personal_data(w: SimpleNamespace, person: Person) -> list[str]:
    return [person.name, person.id_number, person.phone, person.address, person.name[0] + "*"]


def test_public_certificate_verify_shows_no_personal_data(q_world):
    w = q_world
    before = _snapshot()
    response = Client().get(f"/api/v1/certificates/verify/{w.certificate.verify_code}")
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body == {
        "valid": True,
        "number": w.certificate.number,
        "start_date": w.certificate.start_date.isoformat(),
        "end_date": w.certificate.end_date.isoformat(),
    }
    text = response.content.decode()
    for value in _personal_data(w, w.released.person):
        assert value not in text
    assert _snapshot() == before
    missing = Client().get("/api/v1/certificates/verify/no-such-code")
    assert missing.status_code == 404


def test_public_verify_page_shows_no_personal_data(q_world):
    w = q_world
    response = Client().get(f"/q/{w.certificate.verify_code}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert w.certificate.number in text
    for value in _personal_data(w, w.released.person):
        assert value not in text


def test_public_personal_link_shows_no_personal_data(q_world):
    """The /h/ link is opened by the person without logging in: the page names nobody."""
    w = q_world
    token = HealthLink.objects.get(order=w.home).token
    before = _snapshot()
    response = Client().get(f"/h/{token}/")
    assert response.status_code == 200
    text = response.content.decode()
    person = w.home.person
    for value in (person.id_number, person.phone, person.address):
        assert value not in text
    assert person.name not in text
    assert _snapshot() == before
    assert Client().get("/h/not-a-token/").status_code == 404
