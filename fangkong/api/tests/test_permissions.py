"""The permission matrix: every API route x every kind of viewer.

anonymous -> 401; the grid worker of another grid -> grid A objects are missing (404) and absent
from lists; the own grid worker, the town officer and the commander -> allowed; the leader ->
reads allowed, writes 403. A refused write leaves the database as it was and audits nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from fangkong.accounts.models import ApiToken
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person, PersonRevision

from .conftest import VIEWERS
from .test_imports import MATRIX as IMPORT_MATRIX
from .test_permissions_checkpoints import MATRIX as CHECKPOINT_MATRIX
from .test_permissions_loop import MATRIX as LOOP_MATRIX
from .test_permissions_quarantine import MATRIX as QUARANTINE_MATRIX
from .test_permissions_tracing import MATRIX as TRACING_MATRIX

ALL_OK = dict.fromkeys(VIEWERS, 200) | {"anonymous": 401}
READ = ALL_OK | {"other_grid_worker": 404}
CHANGE = READ | {"leader": 403}
CREATE_IN_GRID_A = {
    "anonymous": 401,
    "other_grid_worker": 400,  # grid A is not a division this worker may use
    "grid_worker": 201,
    "town_officer": 201,
    "commander": 201,
    "leader": 403,
}
CREATE_DIVISION = dict.fromkeys(VIEWERS, 403) | {"anonymous": 401, "commander": 201}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str  # the path as the OpenAPI document writes it
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    body: Callable[[SimpleNamespace], dict[str, Any]] | None = None
    # Lists: does the answer show the grid A object? (False expected for the other grid worker.)
    shows_grid_a: Callable[[SimpleNamespace, dict[str, Any]], bool] | None = None
    verb: str | None = None  # writes: the audit verb a success records


def _codes(body: dict[str, Any]) -> set[str]:
    return {row["code"] for row in body["results"]}


def _ids(body: dict[str, Any]) -> set[int]:
    return {row["id"] for row in body["results"]}


ROUTES = [
    Route(
        "list divisions",
        "get",
        "/divisions",
        lambda w: "/api/v1/divisions",
        ALL_OK,
        shows_grid_a=lambda w, b: w.county.grid_a.code in _codes(b),
    ),
    Route(
        "create division",
        "post",
        "/divisions",
        lambda w: "/api/v1/divisions",
        CREATE_DIVISION,
        body=lambda w: {
            "code": "610326107201003",
            "name": "三组",
            "parent_code": w.county.village_a.code,
        },
        verb="geo.division.create",
    ),
    Route(
        "division detail",
        "get",
        "/divisions/{code}",
        lambda w: f"/api/v1/divisions/{w.county.grid_a.code}",
        READ,
    ),
    Route(
        "division coverage",
        "get",
        "/divisions/{code}/coverage",
        lambda w: f"/api/v1/divisions/{w.county.grid_a.code}/coverage",
        READ,
    ),
    Route(
        "list people",
        "get",
        "/people",
        lambda w: "/api/v1/people",
        ALL_OK,
        shows_grid_a=lambda w, b: w.people.head.pk in _ids(b),
    ),
    Route(
        "search people",
        "get",
        "/people",
        lambda w: "/api/v1/people?q=13912345678",
        ALL_OK,
        shows_grid_a=lambda w, b: w.people.head.pk in _ids(b),
    ),
    Route(
        "create person",
        "post",
        "/people",
        lambda w: "/api/v1/people",
        CREATE_IN_GRID_A,
        body=lambda w: {
            "name": "周新生",
            "id_number": make_resident_id("610326", dt.date(1999, 9, 9), 71),
            "phone": "13600001111",
            "division_code": w.county.grid_a.code,
            "address": "眉县齐镇齐镇村一组30号",
        },
        verb="people.person.create",
    ),
    Route(
        "person detail",
        "get",
        "/people/{person_id}",
        lambda w: f"/api/v1/people/{w.people.head.pk}",
        READ,
    ),
    Route(
        "update person",
        "patch",
        "/people/{person_id}",
        lambda w: f"/api/v1/people/{w.people.head.pk}",
        CHANGE,
        body=lambda w: {"notes": "已电话联系"},
        verb="people.person.update",
    ),
    Route(
        "reveal person",
        "post",
        "/people/{person_id}/reveal",
        lambda w: f"/api/v1/people/{w.people.head.pk}/reveal",
        CHANGE,
        body=lambda w: {"reason": "流调核实身份"},
        verb="people.person.reveal",
    ),
    Route(
        "person history",
        "get",
        "/people/{person_id}/history",
        lambda w: f"/api/v1/people/{w.people.head.pk}/history",
        READ,
    ),
    Route(
        "list households",
        "get",
        "/households",
        lambda w: "/api/v1/households",
        ALL_OK,
        shows_grid_a=lambda w, b: w.people.household.pk in _ids(b),
    ),
    Route(
        "create household",
        "post",
        "/households",
        lambda w: "/api/v1/households",
        CREATE_IN_GRID_A,
        body=lambda w: {"address": "眉县齐镇齐镇村一组40号", "division_code": w.county.grid_a.code},
        verb="people.household.create",
    ),
    Route(
        "household detail",
        "get",
        "/households/{household_id}",
        lambda w: f"/api/v1/households/{w.people.household.pk}",
        READ,
    ),
    Route(
        "add household member",
        "post",
        "/households/{household_id}/members",
        lambda w: f"/api/v1/households/{w.people.household.pk}/members",
        CHANGE,
        body=lambda w: {"person_id": w.loner.pk, "relation": "child"},
        verb="people.person.update",
    ),
    Route("me", "get", "/me", lambda w: "/api/v1/me", ALL_OK),
]

CASES = [
    pytest.param(route, viewer, id=f"{route.name}-{viewer}")
    for route in ROUTES
    for viewer in VIEWERS
]


def _snapshot() -> dict[str, Any]:
    """Everything a write could touch (tokens only change their last-used time)."""
    return {
        "divisions": list(Division.objects.order_by("code").values()),
        "people": list(Person.objects.order_by("pk").values()),
        "households": list(Household.objects.order_by("pk").values()),
        "revisions": PersonRevision.objects.count(),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        "tokens": list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
    }


@pytest.mark.parametrize(("route", "viewer"), CASES)
def test_route_answers_each_viewer_by_scope_and_role(world, client_for, route, viewer):
    client = client_for(viewer)
    before = _snapshot()
    kwargs: dict[str, Any] = {}
    if route.body is not None:
        kwargs = {"data": json.dumps(route.body(world)), "content_type": "application/json"}

    response = getattr(client, route.method)(route.path(world), **kwargs)

    expected = route.expect[viewer]
    assert response.status_code == expected, response.content.decode()
    body = response.json()
    if expected >= 400:
        assert set(body) == {"code", "message", "errors"}
        assert body["message"]
        assert _snapshot() == before, "a refused request changed the database"
        return
    if route.shows_grid_a is not None:
        assert route.shows_grid_a(world, body) is (viewer != "other_grid_worker")
    if route.verb is not None:
        user = getattr(world.users, viewer)
        assert (
            AuditEvent.objects.filter(verb=route.verb, actor=user)
            .exclude(pk__in=before["audit"])
            .count()
            == 1
        )
    elif route.method == "get":
        assert (
            list(AuditEvent.objects.values_list("pk", flat=True).order_by("pk")) == before["audit"]
        ), "a read wrote an audit event"


def test_every_api_route_is_in_the_matrix(client_for):
    """A new route must be added to ROUTES: compare with the OpenAPI document."""
    schema = client_for("anonymous").get("/api/v1/openapi.json").json()
    documented = {
        (method, path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    covered = {(r.method, r.template) for r in ROUTES} | IMPORT_MATRIX  # test_imports.py
    covered |= LOOP_MATRIX  # test_permissions_loop.py: issue 4's routes
    covered |= CHECKPOINT_MATRIX  # test_permissions_checkpoints.py: issue 5's routes
    covered |= TRACING_MATRIX  # test_permissions_tracing.py: issue 6's routes
    covered |= QUARANTINE_MATRIX  # test_permissions_quarantine.py: issue 7's routes
    assert documented == covered
