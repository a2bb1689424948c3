"""The permission matrix of issue 4's routes: policy editions and activations, regions, risk
areas and sweeps, arrivals and assist requests, control orders and their actions, the loop.

Every route x every kind of viewer, against one world built through the services: the county on
the 9th edition, a high-risk area (北京市朝阳区) declared by the HQ, an arrival from it registered
for grid A (so a proposed order and a loop task exist), a second sweep of the area that finds
it, an arrival the grid worker registered for outside the county (an outgoing assist letter),
a high-risk area inside the county that may be downgraded today, an active order served out
and one due to move to its next phase.

Who may do what (issue 4's role table): anonymous -> 401; editions, regions, risk areas and
sweep counts are public rules that every logged-in account reads; arrivals, orders and tasks
of grid A are missing (404) for the other grid worker and absent from their lists; the HQ alone
writes editions, risk areas, assist letters and the loop clocks; the grid worker, the town
officer and the commander work on orders and steps in their scope; the leader reads county-wide
and writes nothing (403). A refused request leaves the database as it was and audits nothing;
a successful write audits exactly one event of its verb by the caller.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from fangkong.control.contracts import OrderRequest
from fangkong.control.models import (
    ControlOrder,
    ControlOrderEvent,
    LoopEscalation,
    LoopSettings,
    LoopStep,
    LoopTask,
    StepKind,
)
from fangkong.control.services import order_confirm, order_propose_bulk
from fangkong.core import timeutils
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea
from fangkong.policy.services import edition_activate
from fangkong.travel import selectors as travel_selectors
from fangkong.travel.models import (
    AssistRequest,
    AssistRequestEntry,
    Channel,
    SweepHit,
    SweepRun,
    TravelRegistration,
)
from fangkong.travel.services import arrival_register
from fangkong.travel.sweep import risk_area_declare, sweep_run

from .conftest import VIEWERS

CHAOYANG = "110105"  # 北京市朝阳区: the high-risk area
HONGSHAN = "420111"  # 湖北省武汉市洪山区: outside the county, and a new area's code

ALL_OK = dict.fromkeys(VIEWERS, 200) | {"anonymous": 401}
READ = ALL_OK | {"other_grid_worker": 404}
CHANGE = READ | {"leader": 403}
HQ_ONLY = dict.fromkeys(VIEWERS, 403) | {"anonymous": 401, "commander": 200}
HQ_CREATE = HQ_ONLY | {"commander": 201}
REGISTER_IN_GRID_A = {
    "anonymous": 401,
    "other_grid_worker": 400,  # grid A is not a destination this worker may register for
    "grid_worker": 201,
    "town_officer": 201,
    "commander": 201,
    "leader": 403,
}
# Assist letters are the county HQ's correspondence: read by county-wide accounts only.
COUNTY_WIDE_READ = dict.fromkeys(VIEWERS, 404) | {"anonymous": 401, "commander": 200, "leader": 200}
# An arrival bound outside the county belongs to no grid: its registrant (here the grid worker)
# and the county-wide accounts read it, as they read it among a sweep's hits and on the letter.
OUTSIDE_READ = dict.fromkeys(VIEWERS, 404) | {
    "anonymous": 401,
    "grid_worker": 200,
    "commander": 200,
    "leader": 200,
}
# The Word letter holds people in full: only roles that may reveal (the leader may not).
LETTER = COUNTY_WIDE_READ | {"leader": 403}
NOT_GRID_A = frozenset({"other_grid_worker"})
NOT_COUNTY_WIDE = frozenset({"other_grid_worker", "grid_worker", "town_officer"})


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str  # the path as the OpenAPI document writes it
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    body: Callable[[SimpleNamespace], dict[str, Any]] | None = None
    # Lists: does the answer show the world's object? (False expected for `hidden_from`.)
    shows_grid_a: Callable[[SimpleNamespace, dict[str, Any]], bool] | None = None
    hidden_from: frozenset[str] = NOT_GRID_A
    verb: str | None = None  # writes (and audited reads): the audit verb a success records
    # Successful writes: what the caller would notice afterwards (reads the database).
    done: Callable[[SimpleNamespace], bool] | None = None


def _ids(body: dict[str, Any]) -> set[int]:
    return {row["id"] for row in body["results"]}


def _today() -> dt.date:
    return timeutils.local_today()


def _days(n: int) -> str:
    return (_today() + dt.timedelta(days=n)).isoformat()


def _order(w: SimpleNamespace, name: str) -> ControlOrder:
    return ControlOrder.objects.get(pk=getattr(w, name).pk)


def _arrival_data(seq: int, **overrides: Any) -> dict[str, Any]:
    """An arrival (as the API sends it) who left Beijing Chaoyang three days ago by train,
    bound for grid A."""
    data: dict[str, Any] = {
        "name": "赵新来",
        "id_type": "resident_id",
        "id_number": make_resident_id("110105", dt.date(1991, 5, 6), seq),
        "phone": "13512345678",
        "origin_code": CHAOYANG,
        "origin_address": "望京街道",
        "left_on": _days(-3),
        "arrived_on": _days(-2),
        "transport": "train",
        "vehicle_no": "G1002",
        "seat": "05车12F",
        "destination_code": "610326107201001",
        "destination_address": "眉县齐镇齐镇村一组8号",
        "outside_county": False,
        "outside_code": "",
        "symptoms": "",
    }
    data.update(overrides)
    return data


def _active_order(
    *, actor: Any, person: Person, category: str, anchor_days_ago: int, confirmed_days_ago: int
) -> ControlOrder:
    """An order proposed and confirmed in the past (the services take the clock as `now`)."""
    then = timeutils.now() - dt.timedelta(days=confirmed_days_ago)
    request = OrderRequest(
        person_id=person.pk,
        division_code=person.division_id,
        category=category,
        anchor_date=_today() - dt.timedelta(days=anchor_days_ago),
        found_on=_today() - dt.timedelta(days=confirmed_days_ago),
        source_type="contact",
        source_id=str(person.pk),
        title="密接判定",
        task_kind="order",
    )
    order = order_propose_bulk(actor=actor, requests=[request], now=then)[0].order
    return order_confirm(actor=actor, order=order, now=then)


@pytest.fixture
def loop_world(world) -> SimpleNamespace:
    """The conftest world plus issue 4's objects (see the module docstring), all made through
    the services on the real clock, as the API will read them."""
    hq = world.users.commander
    today = _today()
    activation = edition_activate(
        actor=hq,
        edition=PolicyEdition.objects.get(code="v9"),
        effective_from=today - dt.timedelta(days=60),
        reason="县指挥部通知",
    )
    area, _first_sweep = risk_area_declare(
        actor=hq,
        level="high",
        region_code=CHAOYANG,
        start_date=today - dt.timedelta(days=20),
        notice="北京市第 1 号通告",
    )
    result = arrival_register(actor=hq, data=_arrival_data(35), channel=Channel.GRID_ENTRY)
    assert result.outcome is not None
    assert result.outcome.order is not None
    sweep = sweep_run(actor=hq, area=area)  # finds the arrival, already under its order
    # The grid worker registers someone bound outside the county: an outgoing assist letter.
    outside = arrival_register(
        actor=world.users.grid_worker,
        data=_arrival_data(
            44,
            name="钱外出",
            destination_code="",
            destination_address="武汉市洪山区珞喻路 100 号",
            outside_county=True,
            outside_code=HONGSHAN,
        ),
        channel=Channel.GRID_ENTRY,
    ).registration
    letter_id = travel_selectors.outgoing_request_id_for(arrival=outside)
    assert letter_id is not None
    local_area, _sweep = risk_area_declare(
        actor=hq,
        level="high",
        region_code=world.county.village_b.code,
        start_date=today - dt.timedelta(days=20),
        last_case_on=today - dt.timedelta(days=10),  # 9th edition: 7 days -> medium
    )
    served = _active_order(
        actor=hq,
        person=world.people.spouse,
        category="high_risk_arrival",
        anchor_days_ago=20,
        confirmed_days_ago=19,
    )
    two_phases = _active_order(
        actor=hq,
        person=world.loner,
        category="close_contact",  # 7 days centralized, then 3 of home monitoring from today
        anchor_days_ago=8,
        confirmed_days_ago=7,
    )
    return SimpleNamespace(
        **vars(world),
        activation=activation,
        area=area,
        local_area=local_area,
        sweep=sweep,
        arrival=result.registration,
        order=result.outcome.order,
        task=result.outcome.task,
        ack=LoopStep.objects.get(task=result.outcome.task, kind=StepKind.ACK),
        outside=outside,
        letter=AssistRequest.objects.get(pk=letter_id),
        served=served,
        two_phases=two_phases,
    )


ROUTES = [
    # --- policy editions (public rules: every account reads; the HQ activates and adjusts) ---
    Route(
        "list editions",
        "get",
        "/policy-editions",
        lambda w: "/api/v1/policy-editions",
        ALL_OK,
        shows_grid_a=lambda w, b: "v9" in {row["code"] for row in b["results"]},
        hidden_from=frozenset(),
    ),
    Route(
        "edition in force",
        "get",
        "/policy-editions/in-force",
        lambda w: "/api/v1/policy-editions/in-force",
        ALL_OK,
    ),
    Route(
        "edition detail",
        "get",
        "/policy-editions/{code}",
        lambda w: "/api/v1/policy-editions/v9",
        ALL_OK,
    ),
    Route(
        "adjust edition",
        "post",
        "/policy-editions",
        lambda w: "/api/v1/policy-editions",
        HQ_CREATE,
        body=lambda w: {
            "base": "v9",
            "code": "v9-meixian",
            "name": "第九版（眉县）",
            "rules": {"low_risk_arrival": None},
        },
        verb="policy.edition.adjust",
        done=lambda w: PolicyEdition.objects.filter(code="v9-meixian", kind="local").exists(),
    ),
    Route(
        "activate edition",
        "post",
        "/policy-editions/{code}/activate",
        lambda w: "/api/v1/policy-editions/v9/activate",
        HQ_CREATE,
        body=lambda w: {"effective_from": _days(0), "reason": "县指挥部第 2 号通知"},
        verb="policy.edition.activate",
        done=lambda w: EditionActivation.objects.filter(effective_from=_today()).exists(),
    ),
    Route(
        "list activations",
        "get",
        "/policy-activations",
        lambda w: "/api/v1/policy-activations",
        ALL_OK,
        shows_grid_a=lambda w, b: w.activation.pk in _ids(b),
        hidden_from=frozenset(),
    ),
    # --- regions (reference data for logged-in accounts) ---
    Route("region tree", "get", "/regions/tree", lambda w: "/api/v1/regions/tree", ALL_OK),
    Route(
        "region lookup",
        "get",
        "/regions/{code}",
        lambda w: f"/api/v1/regions/{CHAOYANG}",
        ALL_OK,
    ),
    # --- risk areas and sweeps (everyone reads; the HQ declares, changes, ends, downgrades) ---
    Route(
        "list risk areas",
        "get",
        "/risk-areas",
        lambda w: "/api/v1/risk-areas",
        ALL_OK,
        shows_grid_a=lambda w, b: {w.area.pk, w.local_area.pk} <= _ids(b),
        hidden_from=frozenset(),
    ),
    Route(
        "declare risk area",
        "post",
        "/risk-areas",
        lambda w: "/api/v1/risk-areas",
        HQ_CREATE,
        body=lambda w: {"level": "medium", "region_code": HONGSHAN, "start_date": _days(-5)},
        verb="policy.risk_area.create",
        done=lambda w: RiskArea.objects.filter(region_code=HONGSHAN, level="medium").exists(),
    ),
    Route(
        "risk area detail",
        "get",
        "/risk-areas/{area_id}",
        lambda w: f"/api/v1/risk-areas/{w.area.pk}",
        ALL_OK,
    ),
    Route(
        "change risk area",
        "patch",
        "/risk-areas/{area_id}",
        lambda w: f"/api/v1/risk-areas/{w.area.pk}",
        HQ_ONLY,
        body=lambda w: {"notice": "北京市第 2 号通告"},
        verb="policy.risk_area.update",
        done=lambda w: RiskArea.objects.get(pk=w.area.pk).notice == "北京市第 2 号通告",
    ),
    Route(
        "end risk area",
        "post",
        "/risk-areas/{area_id}/end",
        lambda w: f"/api/v1/risk-areas/{w.area.pk}/end",
        HQ_ONLY,
        body=lambda w: {"end_date": _days(0), "reason": "北京市解除通告"},
        verb="policy.risk_area.end",
        done=lambda w: RiskArea.objects.get(pk=w.area.pk).end_date == _today(),
    ),
    Route(
        "confirm downgrade",
        "post",
        "/risk-areas/{area_id}/confirm-downgrade",
        lambda w: f"/api/v1/risk-areas/{w.local_area.pk}/confirm-downgrade",
        HQ_ONLY,
        body=lambda w: {"on": _days(0), "reason": "连续 7 天无新增感染，全员筛查阴性"},
        verb="policy.risk_area.downgrade",
        done=lambda w: RiskArea.objects.filter(previous=w.local_area, level="medium").exists(),
    ),
    Route(
        "list sweeps",
        "get",
        "/sweeps",
        lambda w: "/api/v1/sweeps",
        ALL_OK,
        shows_grid_a=lambda w, b: w.sweep.pk in _ids(b),
        hidden_from=frozenset(),
    ),
    Route(
        "sweep detail with the people found",
        "get",
        "/sweeps/{sweep_id}",
        lambda w: f"/api/v1/sweeps/{w.sweep.pk}",
        ALL_OK,
        shows_grid_a=lambda w, b: w.arrival.pk in {h["arrival_id"] for h in b["hits"]["results"]},
    ),
    # --- arrivals and assist letters ---
    Route(
        "register arrival",
        "post",
        "/arrivals",
        lambda w: "/api/v1/arrivals",
        REGISTER_IN_GRID_A,
        body=lambda w: _arrival_data(61, name="孙新到"),
        verb="travel.arrival.register",
        done=lambda w: TravelRegistration.objects.filter(reported_name="孙新到").exists(),
    ),
    Route(
        "list arrivals",
        "get",
        "/arrivals",
        lambda w: "/api/v1/arrivals",
        ALL_OK,
        shows_grid_a=lambda w, b: w.arrival.pk in _ids(b),
    ),
    Route(
        "arrival detail",
        "get",
        "/arrivals/{arrival_id}",
        lambda w: f"/api/v1/arrivals/{w.arrival.pk}",
        READ,
    ),
    Route(
        "arrival bound outside the county",
        "get",
        "/arrivals/{arrival_id}",
        lambda w: f"/api/v1/arrivals/{w.outside.pk}",
        OUTSIDE_READ,
    ),
    Route(
        "list assist letters",
        "get",
        "/assist-requests",
        lambda w: "/api/v1/assist-requests",
        ALL_OK,
        shows_grid_a=lambda w, b: w.letter.pk in _ids(b),
        hidden_from=NOT_COUNTY_WIDE,
    ),
    Route(
        "record incoming assist letter",
        "post",
        "/assist-requests",
        lambda w: "/api/v1/assist-requests",
        HQ_CREATE,
        body=lambda w: {
            "number": "朝防协〔2022〕15号",
            "counterpart": "北京市朝阳区新冠肺炎疫情防控指挥部",
            "counterpart_code": CHAOYANG,
            "subject": "协查来返人员",
        },
        verb="travel.assist.create",
        done=lambda w: AssistRequest.objects.filter(direction="incoming").exists(),
    ),
    Route(
        "assist letter detail",
        "get",
        "/assist-requests/{request_id}",
        lambda w: f"/api/v1/assist-requests/{w.letter.pk}",
        COUNTY_WIDE_READ,
    ),
    Route(
        "assist letter as Word",
        "get",
        "/assist-requests/{request_id}/letter.docx",
        lambda w: f"/api/v1/assist-requests/{w.letter.pk}/letter.docx",
        LETTER,
        verb="travel.assist.export",  # personal data in full: every download is audited
    ),
    # --- control orders ---
    Route(
        "list orders",
        "get",
        "/control-orders",
        lambda w: "/api/v1/control-orders",
        ALL_OK,
        shows_grid_a=lambda w, b: w.order.pk in _ids(b),
    ),
    Route(
        "order detail",
        "get",
        "/control-orders/{order_id}",
        lambda w: f"/api/v1/control-orders/{w.order.pk}",
        READ,
    ),
    Route(
        "confirm order",
        "post",
        "/control-orders/{order_id}/confirm",
        lambda w: f"/api/v1/control-orders/{w.order.pk}/confirm",
        CHANGE,
        body=lambda w: {},
        verb="control.order.confirm",
        done=lambda w: _order(w, "order").status == "active",
    ),
    Route(
        "change order",
        "post",
        "/control-orders/{order_id}/change",
        lambda w: f"/api/v1/control-orders/{w.order.pk}/change",
        CHANGE,
        body=lambda w: {"reason": "核实离开日期为四天前", "anchor_date": _days(-4)},
        verb="control.order.change",
        done=lambda w: _order(w, "order").anchor_date.isoformat() == _days(-4),
    ),
    Route(
        "cancel order",
        "post",
        "/control-orders/{order_id}/cancel",
        lambda w: f"/api/v1/control-orders/{w.order.pk}/cancel",
        CHANGE,
        body=lambda w: {"reason": "身份核实有误"},
        verb="control.order.cancel",
        done=lambda w: _order(w, "order").status == "cancelled",
    ),
    Route(
        "transfer order out",
        "post",
        "/control-orders/{order_id}/transfer-out",
        lambda w: f"/api/v1/control-orders/{w.order.pk}/transfer-out",
        CHANGE,
        body=lambda w: {"reason": "已返回武汉", "destination": HONGSHAN},
        verb="control.order.transfer_out",
        done=lambda w: _order(w, "order").status == "transferred_out",
    ),
    Route(
        "release served order",
        "post",
        "/control-orders/{order_id}/release",
        lambda w: f"/api/v1/control-orders/{w.served.pk}/release",
        CHANGE,
        body=lambda w: {"reason": "期满，检测均为阴性"},
        verb="control.order.release",
        done=lambda w: _order(w, "served").status == "released",
    ),
    Route(
        "advance order to its next phase",
        "post",
        "/control-orders/{order_id}/advance-phase",
        lambda w: f"/api/v1/control-orders/{w.two_phases.pk}/advance-phase",
        CHANGE,
        verb="control.order.advance_phase",
        done=lambda w: _order(w, "two_phases").current_phase == 1,
    ),
    # --- the loop ---
    Route(
        "inbox",
        "get",
        "/loop/inbox",
        lambda w: "/api/v1/loop/inbox",
        ALL_OK,
        shows_grid_a=lambda w, b: w.task.pk in _ids(b),
    ),
    Route(
        "complete a step",
        "post",
        "/loop/steps/{step_id}/complete",
        lambda w: f"/api/v1/loop/steps/{w.ack.pk}/complete",
        CHANGE,
        body=lambda w: {},
        verb="control.loop_step.complete",
        done=lambda w: LoopStep.objects.get(pk=w.ack.pk).done_at is not None,
    ),
    Route(
        "loop overview",
        "get",
        "/loop/overview",
        lambda w: "/api/v1/loop/overview",
        ALL_OK,
        shows_grid_a=lambda w, b: b["total"]["open_tasks"] > 0,
    ),
    Route("loop clocks", "get", "/loop/settings", lambda w: "/api/v1/loop/settings", ALL_OK),
    Route(
        "change loop clocks",
        "put",
        "/loop/settings",
        lambda w: "/api/v1/loop/settings",
        HQ_ONLY,
        body=lambda w: {
            "ack_hours": 1,
            "visit_hours": 6,
            "in_place_hours": 12,
            "town_after_hours": 2,
            "county_after_hours": 6,
        },
        verb="control.loop_settings.update",
        done=lambda w: LoopSettings.objects.get().visit_hours == 6,
    ),
]

MATRIX = {(route.method, route.template) for route in ROUTES}  # test_permissions.py unions it

CASES = [
    pytest.param(route, viewer, id=f"{route.name}-{viewer}")
    for route in ROUTES
    for viewer in VIEWERS
]

SNAPSHOT_MODELS = (
    Person,
    PolicyEdition,
    EditionActivation,
    RiskArea,
    SweepRun,
    SweepHit,
    TravelRegistration,
    AssistRequest,
    AssistRequestEntry,
    ControlOrder,
    ControlOrderEvent,
    LoopTask,
    LoopStep,
    LoopEscalation,
    LoopSettings,
)


def _snapshot() -> dict[str, Any]:
    """Every row a route of issue 4 could write, and the audit trail."""
    tables = {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS
    }
    return tables | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


@pytest.mark.parametrize(("route", "viewer"), CASES)
def test_route_answers_each_viewer_by_scope_and_role(loop_world, client_for, route, viewer):
    client = client_for(viewer)
    before = _snapshot()
    kwargs: dict[str, Any] = {}
    if route.body is not None:
        kwargs = {"data": json.dumps(route.body(loop_world)), "content_type": "application/json"}

    response = getattr(client, route.method)(route.path(loop_world), **kwargs)

    expected = route.expect[viewer]
    assert response.status_code == expected, response.content.decode(errors="replace")[:2000]
    if expected >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "errors"}
        assert body["message"]
        assert _snapshot() == before, "a refused request changed the database"
        return
    if route.shows_grid_a is not None:
        shown = route.shows_grid_a(loop_world, response.json())
        assert shown is (viewer not in route.hidden_from)
    if route.verb is not None:
        user = getattr(loop_world.users, viewer)
        new = AuditEvent.objects.exclude(pk__in=before["audit"])
        assert new.filter(verb=route.verb).count() == 1
        assert new.filter(verb=route.verb, actor=user).count() == 1
    elif route.method == "get":
        after = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
        assert after == before["audit"], "a read wrote an audit event"
    if route.done is not None:
        assert route.done(loop_world), "the write did not take effect"


def test_the_world_is_what_the_matrix_assumes(loop_world):
    """Guards the fixture: a change in the services that empties the world would otherwise
    turn the 404 and 'hidden' cases into vacuous passes."""
    w = loop_world
    assert (w.order.status, w.order.division_id) == ("proposed", w.county.grid_a.code)
    assert w.arrival.risk_level == "high"
    assert w.arrival.order_id == w.order.pk
    assert [s.kind for s in w.task.steps.order_by("seq")] == ["ack", "visit", "in_place"]
    assert SweepHit.objects.filter(sweep=w.sweep, arrival=w.arrival).exists()
    assert (w.letter.direction, w.letter.entries.count()) == ("outgoing", 1)
    assert w.outside.destination_division_id is None
    assert w.outside.created_by_id == w.users.grid_worker.pk
    assert w.local_area.division_id == w.county.village_b.code
    assert (w.served.status, w.served.end_date < _today()) == ("active", True)
    assert (w.two_phases.status, w.two_phases.current_phase) == ("active", 0)
    assert w.two_phases.phases[1]["start"] == _days(0)
