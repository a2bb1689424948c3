"""The permission matrix of issue 5's routes: checkpoints and their duty shifts, checkpoint
passages, places (with their posters and the stay rules) and venue-code check-ins.

Every route x every kind of viewer, against one world built through the services: a checkpoint
at the entrance of grid A (齐镇) with a shift running now and one later today (so the next 48
hours have gaps), a passage registered there, a market in grid A and a check-in made on its
public page.

Who may do what (issue 5's role table): anonymous -> 401. Checkpoints, shifts and coverage:
everyone in scope reads them (the other grid worker finds grid A's checkpoint missing, 404, and
absent from lists); the HQ and the town officer write, other roles 403. Passages: the HQ, the
town officer (and checkpoint staff) register and read them; other roles 403. Places: everyone in
scope reads; the HQ and the town officer (also village officers and inspectors) write; only the
HQ sets stay rules. Check-ins: the HQ's account posts and checks them out, and reads them
(with epidemiologists); everyone else 403. A refused request leaves the database as it was and
audits nothing; a successful write audits exactly one event of its verb by the caller; a
successful read (and an idempotent retry) writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from fangkong.control.models import LoopTask
from fangkong.core import timeutils
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.places.models import CheckIn, Place, StayRule
from fangkong.places.selectors_checkins import checkin_place
from fangkong.places.services_checkins import checkin_record
from fangkong.places.services_places import place_create
from fangkong.travel.models import (
    Checkpoint,
    CheckpointPassage,
    DutyShift,
    PassageOccupant,
    TravelRegistration,
)
from fangkong.travel.services_checkpoints import checkpoint_create, duty_shift_create
from fangkong.travel.services_passages import passage_register

from .conftest import VIEWERS

HANGZHOU = "330106"  # 浙江省杭州市西湖区: not a risk area, so a passage from there flags no one
WORLD_KEY = "matrix-passage-1"

ALL_OK = dict.fromkeys(VIEWERS, 200) | {"anonymous": 401}
READ = ALL_OK | {"other_grid_worker": 404}
# Checkpoints, shifts and places in grid A: the HQ and the town officer of 齐镇 keep them.
CHANGE = READ | {"grid_worker": 403, "leader": 403}
CREATE_IN_GRID_A = dict.fromkeys(VIEWERS, 403) | {
    "anonymous": 401,
    "town_officer": 201,
    "commander": 201,
}
DELETE = CHANGE | {"town_officer": 204, "commander": 204}
# Passages: the roles that register them (checkpoint staff, HQ, town officer in scope).
PASSAGE_READ = dict.fromkeys(VIEWERS, 403) | {
    "anonymous": 401,
    "town_officer": 200,
    "commander": 200,
}
PASSAGE_CREATE = PASSAGE_READ | {"town_officer": 201, "commander": 201}
HQ_ONLY = dict.fromkeys(VIEWERS, 403) | {"anonymous": 401, "commander": 200}
HQ_CREATE = HQ_ONLY | {"commander": 201}
NOT_GRID_A = frozenset({"other_grid_worker"})


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str  # the path as the OpenAPI document writes it
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    body: Callable[[SimpleNamespace], Any] | None = None
    # Lists: does the answer show the world's object? (False expected for `hidden_from`.)
    shows_grid_a: Callable[[SimpleNamespace, Any], bool] | None = None
    hidden_from: frozenset[str] = NOT_GRID_A
    verb: str | None = None  # writes: the audit verb a success records
    # Successful writes: what the caller would notice afterwards (reads the database).
    done: Callable[[SimpleNamespace], bool] | None = None


def _ids(body: dict[str, Any]) -> set[int]:
    return {row["id"] for row in body["results"]}


def _checkpoint(w: SimpleNamespace) -> Checkpoint:
    return Checkpoint.objects.get(pk=w.checkpoint.pk)


def _place(w: SimpleNamespace) -> Place:
    return Place.objects.get(pk=w.place.pk)


def _occupant(seq: int, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "钱司机",
        "id_type": "resident_id",
        "id_number": make_resident_id(HANGZHOU, dt.date(1980, 2, 3), seq),
        "phone": "13511112222",
        "temperature": "36.5",
    }
    data.update(overrides)
    return data


def _passage_data(seq: int, **overrides: Any) -> dict[str, Any]:
    """A car from Hangzhou bound for grid A, its driver at 36.5 ℃: nobody is flagged."""
    data: dict[str, Any] = {
        "direction": "in",
        "plate": "浙A12345",
        "vehicle_type": "小型汽车",
        "origin_code": HANGZHOU,
        "destination_code": "610326107201001",
        "destination_address": "眉县齐镇齐镇村一组8号",
        "purpose": "探亲",
        "occupants": [_occupant(seq)],
    }
    data.update(overrides)
    return data


def _checkin_row(w: SimpleNamespace, seq: int, name: str) -> dict[str, Any]:
    return {
        "place_code": w.place.code,
        "name": name,
        "id_number": make_resident_id("610326", dt.date(1985, 4, 5), seq),
        "phone": "13700001111",
        "idempotency_key": f"matrix-checkin-{seq}",
    }


@pytest.fixture
def checkpoint_world(world) -> SimpleNamespace:
    """The conftest world plus issue 5's objects (see the module docstring), all made through
    the services on the real clock, as the API will read them."""
    hq = world.users.commander
    now = timeutils.now()
    checkpoint = checkpoint_create(
        actor=hq,
        data={
            "name": "齐镇村口卡口",
            "kind": "village_entrance",
            "division_code": world.county.grid_a.code,
            "location": "齐镇村东口",
            "responsible_unit": "齐镇人民政府",
            "leader_name": "刘镇长",
            "leader_phone": "13900001111",
            "leader_id": world.users.town_officer.pk,
        },
    )
    running = duty_shift_create(
        actor=hq,
        checkpoint=checkpoint,
        data={
            "starts_at": now - dt.timedelta(hours=2),
            "ends_at": now + dt.timedelta(hours=6),
            "staff_name": "周值守",
            "staff_phone": "13800002222",
            "post": "党员先锋岗",
        },
    )
    later = duty_shift_create(
        actor=hq,
        checkpoint=checkpoint,
        data={
            "starts_at": now + dt.timedelta(hours=10),
            "ends_at": now + dt.timedelta(hours=18),
            "staff_name": "吴志愿",
            "is_volunteer": True,
        },
    )
    passage = passage_register(
        actor=hq, checkpoint=checkpoint, data=_passage_data(51), idempotency_key=WORLD_KEY
    ).passage
    place = place_create(
        actor=hq,
        name="齐镇农贸市场",
        kind="market",
        division_code=world.county.grid_a.code,
        address="眉县齐镇齐镇村一组1号",
        person_in_charge="郑经理",
        contact_phone="13600003333",
    )
    audit_before = list(AuditEvent.objects.values_list("pk", flat=True))
    checkin, created = checkin_record(
        actor=None,
        place=checkin_place(code=place.code),
        data={
            "name": "冯扫码",
            "id_number": make_resident_id("610326", dt.date(1983, 3, 3), 61),
            "phone": "13700002222",
            "checked_in_at": (now - dt.timedelta(minutes=30)).isoformat(),
        },
    )
    assert created
    public_audit = list(AuditEvent.objects.exclude(pk__in=audit_before))
    return SimpleNamespace(
        **vars(world),
        checkpoint=checkpoint,
        running=running,
        later=later,
        passage=passage,
        place=place,
        checkin=checkin,
        public_audit=public_audit,
    )


ROUTES = [
    # --- checkpoints: everyone in scope reads; the HQ and the town officer keep them ---
    Route(
        "coverage gaps",
        "get",
        "/checkpoints/coverage",
        lambda w: "/api/v1/checkpoints/coverage",
        ALL_OK,
        shows_grid_a=lambda w, b: w.checkpoint.pk in {row["checkpoint"]["id"] for row in b},
    ),
    Route(
        "list checkpoints",
        "get",
        "/checkpoints",
        lambda w: "/api/v1/checkpoints",
        ALL_OK,
        shows_grid_a=lambda w, b: w.checkpoint.pk in _ids(b),
    ),
    Route(
        "create checkpoint",
        "post",
        "/checkpoints",
        lambda w: "/api/v1/checkpoints",
        CREATE_IN_GRID_A,
        body=lambda w: {
            "name": "齐镇西口卡口",
            "kind": "village_entrance",
            "division_code": w.county.grid_a.code,
        },
        verb="travel.checkpoint.create",
        done=lambda w: Checkpoint.objects.filter(name="齐镇西口卡口").exists(),
    ),
    Route(
        "checkpoint detail",
        "get",
        "/checkpoints/{checkpoint_id}",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}",
        READ,
    ),
    Route(
        "update checkpoint",
        "patch",
        "/checkpoints/{checkpoint_id}",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}",
        CHANGE,
        body=lambda w: {"location": "齐镇村东口（新址）"},
        verb="travel.checkpoint.update",
        done=lambda w: _checkpoint(w).location == "齐镇村东口（新址）",
    ),
    Route(
        "stand checkpoint down",
        "patch",
        "/checkpoints/{checkpoint_id}",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}",
        CHANGE,
        body=lambda w: {"active": False},
        verb="travel.checkpoint.deactivate",
        done=lambda w: _checkpoint(w).active is False,
    ),
    Route(
        "list shifts",
        "get",
        "/checkpoints/{checkpoint_id}/shifts",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}/shifts",
        READ,
        shows_grid_a=lambda w, b: {w.running.pk, w.later.pk} <= _ids(b),
    ),
    Route(
        "add shift",
        "post",
        "/checkpoints/{checkpoint_id}/shifts",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}/shifts",
        CHANGE | {"town_officer": 201, "commander": 201},
        body=lambda w: {
            "starts_at": (timeutils.now() + dt.timedelta(hours=6)).isoformat(),
            "ends_at": (timeutils.now() + dt.timedelta(hours=10)).isoformat(),
            "staff_name": "王补班",
        },
        verb="travel.duty_shift.create",
        done=lambda w: DutyShift.objects.filter(staff_name="王补班").exists(),
    ),
    Route(
        "delete a future shift",
        "delete",
        "/checkpoints/{checkpoint_id}/shifts/{shift_id}",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}/shifts/{w.later.pk}",
        DELETE,
        verb="travel.duty_shift.delete",
        done=lambda w: not DutyShift.objects.filter(pk=w.later.pk).exists(),
    ),
    # --- passages: the roles that register them, in the checkpoint's scope ---
    Route(
        "register passage",
        "post",
        "/checkpoints/{checkpoint_id}/passages",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}/passages",
        PASSAGE_CREATE,
        body=lambda w: _passage_data(52, plate="陕C54321", idempotency_key="matrix-passage-2"),
        verb="travel.passage.register",
        done=lambda w: CheckpointPassage.objects.filter(plate="陕C54321").exists(),
    ),
    Route(
        "register passage again (same key)",
        "post",
        "/checkpoints/{checkpoint_id}/passages",
        lambda w: f"/api/v1/checkpoints/{w.checkpoint.pk}/passages",
        PASSAGE_READ,  # 200: the first passage again, nothing written
        body=lambda w: _passage_data(51, idempotency_key=WORLD_KEY),
        shows_grid_a=lambda w, b: b["id"] == w.passage.pk,
        hidden_from=frozenset(),
    ),
    Route(
        "list passages",
        "get",
        "/passages",
        lambda w: "/api/v1/passages",
        PASSAGE_READ,
        shows_grid_a=lambda w, b: w.passage.pk in _ids(b),
        hidden_from=frozenset(),
    ),
    Route(
        "passage counts",
        "get",
        "/passages/counts",
        lambda w: "/api/v1/passages/counts",
        PASSAGE_READ,
        shows_grid_a=lambda w, b: b["total"] >= 1,
        hidden_from=frozenset(),
    ),
    Route(
        "passage detail",
        "get",
        "/passages/{passage_id}",
        lambda w: f"/api/v1/passages/{w.passage.pk}",
        PASSAGE_READ,
    ),
    # --- places: everyone in scope reads; the HQ and local officers keep them ---
    Route(
        "list places",
        "get",
        "/places",
        lambda w: "/api/v1/places",
        ALL_OK,
        shows_grid_a=lambda w, b: w.place.pk in _ids(b),
    ),
    Route(
        "create place",
        "post",
        "/places",
        lambda w: "/api/v1/places",
        CREATE_IN_GRID_A,
        body=lambda w: {
            "name": "齐镇惠民超市",
            "kind": "supermarket",
            "division_code": w.county.grid_a.code,
            "address": "眉县齐镇齐镇村一组9号",
        },
        verb="places.place.create",
        done=lambda w: Place.objects.filter(name="齐镇惠民超市").exists(),
    ),
    Route(
        "stay rules",
        "get",
        "/places/stay-rules",
        lambda w: "/api/v1/places/stay-rules",
        ALL_OK,
    ),
    Route(
        "set stay rules",
        "put",
        "/places/stay-rules",
        lambda w: "/api/v1/places/stay-rules",
        HQ_ONLY,
        body=lambda w: [{"kind": "market", "stay_minutes": 30, "cap_minutes": 120}],
        verb="places.stay_rule.set",
        done=lambda w: StayRule.objects.filter(kind="market", stay_minutes=30).exists(),
    ),
    Route(
        "place detail",
        "get",
        "/places/{place_id}",
        lambda w: f"/api/v1/places/{w.place.pk}",
        READ,
    ),
    Route(
        "update place",
        "patch",
        "/places/{place_id}",
        lambda w: f"/api/v1/places/{w.place.pk}",
        CHANGE,
        body=lambda w: {"address": "眉县齐镇齐镇村一组10号"},
        verb="places.place.update",
        done=lambda w: _place(w).address == "眉县齐镇齐镇村一组10号",
    ),
    Route(
        "close place",
        "post",
        "/places/{place_id}/close",
        lambda w: f"/api/v1/places/{w.place.pk}/close",
        CHANGE,
        body=lambda w: {"reason": "停业整顿"},
        verb="places.place.close",
        done=lambda w: _place(w).active is False,
    ),
    Route(
        "poster as PDF",
        "get",
        "/places/{place_id}/poster.pdf",
        lambda w: f"/api/v1/places/{w.place.pk}/poster.pdf",
        READ,
    ),
    Route(
        "poster as PNG",
        "get",
        "/places/{place_id}/poster.png",
        lambda w: f"/api/v1/places/{w.place.pk}/poster.png",
        READ,
    ),
    # --- check-ins: the HQ's account posts and checks out; the HQ (and epidemiologists) read ---
    Route(
        "post one check-in",
        "post",
        "/checkins",
        lambda w: "/api/v1/checkins",
        HQ_CREATE,
        body=lambda w: _checkin_row(w, 71, "陈单条"),
        verb="places.checkin.record_bulk",  # one audit event per API call
        done=lambda w: CheckIn.objects.filter(name="陈单条", source="api").exists(),
    ),
    Route(
        "post a batch of check-ins",
        "post",
        "/checkins",
        lambda w: "/api/v1/checkins",
        HQ_CREATE,
        body=lambda w: {"items": [_checkin_row(w, 72, "褚批一"), _checkin_row(w, 73, "卫批二")]},
        verb="places.checkin.record_bulk",  # one event for the whole batch
        done=lambda w: CheckIn.objects.filter(name__in=["褚批一", "卫批二"]).count() == 2,
    ),
    Route(
        "list check-ins",
        "get",
        "/checkins",
        lambda w: "/api/v1/checkins",
        HQ_ONLY,
        shows_grid_a=lambda w, b: w.checkin.pk in _ids(b),
        hidden_from=frozenset(),
    ),
    Route(
        "check out",
        "post",
        "/checkins/{checkin_id}/checkout",
        lambda w: f"/api/v1/checkins/{w.checkin.pk}/checkout",
        HQ_ONLY,
        body=lambda w: {},
        verb="places.checkin.checkout",
        done=lambda w: CheckIn.objects.get(pk=w.checkin.pk).out_imputed is False,
    ),
]

MATRIX = {(route.method, route.template) for route in ROUTES}  # test_permissions.py unions it

CASES = [
    pytest.param(route, viewer, id=f"{route.name}-{viewer}")
    for route in ROUTES
    for viewer in VIEWERS
]

SNAPSHOT_MODELS = (
    Checkpoint,
    DutyShift,
    CheckpointPassage,
    PassageOccupant,
    TravelRegistration,
    LoopTask,
    Person,
    Place,
    StayRule,
    CheckIn,
)


def _snapshot() -> dict[str, Any]:
    """Every row a route of issue 5 could write, and the audit trail."""
    tables = {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS
    }
    return tables | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


@pytest.mark.parametrize(("route", "viewer"), CASES)
def test_route_answers_each_viewer_by_scope_and_role(checkpoint_world, client_for, route, viewer):
    w = checkpoint_world
    client = client_for(viewer)
    before = _snapshot()
    kwargs: dict[str, Any] = {}
    if route.body is not None:
        kwargs = {"data": json.dumps(route.body(w)), "content_type": "application/json"}

    response = getattr(client, route.method)(route.path(w), **kwargs)

    expected = route.expect[viewer]
    assert response.status_code == expected, response.content.decode(errors="replace")[:2000]
    if expected >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "errors"}
        assert body["message"]
        assert _snapshot() == before, "a refused request changed the database"
        return
    if route.shows_grid_a is not None:
        shown = route.shows_grid_a(w, response.json())
        assert shown is (viewer not in route.hidden_from)
    if route.verb is not None:
        user = getattr(w.users, viewer)
        new = AuditEvent.objects.exclude(pk__in=before["audit"])
        assert new.count() == 1, list(new.values_list("verb", flat=True))
        assert new.filter(verb=route.verb, actor=user).count() == 1
    else:  # reads, posters, an idempotent retry: nothing written, nothing audited
        assert _snapshot() == before, "a read changed the database or wrote an audit event"
    if route.done is not None:
        assert route.done(w), "the write did not take effect"


def test_the_world_is_what_the_matrix_assumes(checkpoint_world):
    """Guards the fixture: a change in the services that empties the world would otherwise
    turn the 404 and 'hidden' cases into vacuous passes."""
    w = checkpoint_world
    grid_a = w.county.grid_a.code
    assert (w.checkpoint.division_id, w.checkpoint.active) == (grid_a, True)
    assert (w.place.division_id, w.place.active) == (grid_a, True)
    assert w.passage.checkpoint_id == w.checkpoint.pk
    assert w.passage.flagged is False
    assert w.later.starts_at > timeutils.now()  # deletable: not over yet
    assert (w.checkin.place_id, w.checkin.out_imputed) == (w.place.pk, True)
    # The public page's check-in is the hot path: no audit event by design.
    assert w.public_audit == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/passages/{passage}", None),
        ("post", "/api/v1/checkpoints/{checkpoint}/passages", "passage"),
        ("get", "/api/v1/checkpoints/{checkpoint}", None),
        ("get", "/api/v1/places/{place}", None),
    ],
)
def test_the_other_town_officer_finds_town_a_objects_missing(
    checkpoint_world, api_client, method, path, body
):
    """The six viewers have no passage writer outside 齐镇: the officer of another town may
    register and read passages, but not at 齐镇's checkpoint (404, like missing)."""
    w = checkpoint_world
    client = api_client(w.users.other_town_officer)
    before = _snapshot()
    url = path.format(passage=w.passage.pk, checkpoint=w.checkpoint.pk, place=w.place.pk)
    kwargs: dict[str, Any] = {}
    if body:
        data = _passage_data(53, idempotency_key="matrix-passage-town-b")
        kwargs = {"data": json.dumps(data), "content_type": "application/json"}

    response = getattr(client, method)(url, **kwargs)

    assert response.status_code == 404, response.content.decode()
    assert set(response.json()) == {"code", "message", "errors"}
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("url", "shows"),
    [
        ("/api/v1/passages", lambda w, b: w.passage.pk in _ids(b)),
        ("/api/v1/passages/counts", lambda w, b: b["total"] > 0),
        ("/api/v1/checkpoints", lambda w, b: w.checkpoint.pk in _ids(b)),
        ("/api/v1/places", lambda w, b: w.place.pk in _ids(b)),
    ],
)
def test_lists_hide_town_a_from_the_other_town_officer(checkpoint_world, api_client, url, shows):
    w = checkpoint_world
    response = api_client(w.users.other_town_officer).get(url)
    assert response.status_code == 200, response.content.decode()
    assert shows(w, response.json()) is False
