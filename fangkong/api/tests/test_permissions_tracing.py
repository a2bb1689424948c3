"""The permission matrix of issue 6's routes: cases, clusters, investigations and teams, the
timeline and the Word report, contacts (candidates, decisions, co-workers, secondaries) and
the transmission chains.

Every route x every kind of viewer, against one world built through the services: a cluster
in grid A (齐镇), a confirmed case of the grid A household head in it, a timeline entry, a team,
the candidates the engine finds (the spouse, same household), and a close contact (the loner of
grid A, exposed in August 2022 under the 9th edition, which has secondary contacts) who has
declared a co-worker.

Who may do what (issue 6's role table, tracing/permissions.py): anonymous -> 401; the
epidemiologist, the HQ and the administrator read and write; the county leader reads (a
candidate list without a refresh, and the report, whose download is audited) and writes
nothing (403); every other role is refused on lists and objects alike (403: the role check
comes before the lookup). The data scope is tested with an epidemiologist of another town: the
grid A case, its contacts and its cluster are missing (404) and absent from lists. A refused
request leaves the database as it was and audits nothing; a successful write audits exactly one
event of its verb by the caller; a successful read writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, LoopTask
from fangkong.core import timeutils
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person
from fangkong.tracing.models import (
    Case,
    CaseEvent,
    Cluster,
    Contact,
    DeclaredCoworker,
    Investigation,
    InvestigationTeam,
    TimelineEntry,
)
from fangkong.tracing.services_cases import case_create, cluster_create, team_create, timeline_add
from fangkong.tracing.services_contacts import candidates_refresh, coworker_declare

from .conftest import VIEWERS

TZ = ZoneInfo("Asia/Shanghai")
V9_EXPOSURE = dt.datetime(2022, 8, 9, 18, 0, tzinfo=TZ)  # under the 9th edition
COWORKER_ID = make_resident_id("610326", dt.date(1992, 7, 7), 81)

# The six shared viewers plus the two other tracing roles.
TRACING_VIEWERS = (*VIEWERS, "epidemiologist", "admin")
WRITERS = frozenset({"epidemiologist", "commander", "admin"})

REFUSED = dict.fromkeys(TRACING_VIEWERS, 403) | {"anonymous": 401}
READ = REFUSED | dict.fromkeys([*WRITERS, "leader"], 200)
CHANGE = REFUSED | dict.fromkeys(WRITERS, 200)
CREATE = REFUSED | dict.fromkeys(WRITERS, 201)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str  # the path as the OpenAPI document writes it
    path: Callable[[SimpleNamespace], str]
    expect: dict[str, int]
    body: Callable[[SimpleNamespace], Any] | None = None
    # Lists: does the answer show the world's object?
    shows: Callable[[SimpleNamespace, Any], bool] | None = None
    verb: str | None = None  # the audit verb a writer's success records
    leader_audited: bool = False  # the leader's 200 records the verb too (report download)
    # Successful writes: what the caller would notice afterwards (reads the database).
    done: Callable[[SimpleNamespace], bool] | None = None


def _ids(body: dict[str, Any]) -> set[int]:
    return {row["id"] for row in body["results"]}


def _case(w: SimpleNamespace) -> Case:
    return Case.objects.select_related("investigation").get(pk=w.case.pk)


@pytest.fixture
def tracing_world(world) -> SimpleNamespace:
    """The conftest world plus issue 6's objects (see the module docstring), made through the
    services on the real clock, except the close contact's decision: it is dated in 2022 so
    that secondaries can be proposed, and stored as decided (the loop is not under test)."""
    epi, hq = world.users.epidemiologist, world.users.commander
    today = timeutils.local_today()
    cluster = cluster_create(
        actor=hq, data={"name": "齐镇家庭聚集性疫情", "division_code": world.county.grid_a.code}
    )
    case = case_create(
        actor=epi,
        data={
            "person_id": world.people.head.pk,
            "classification": "suspected",
            "report_date": today.isoformat(),
            "onset_date": (today - dt.timedelta(days=1)).isoformat(),
            "cluster_id": cluster.pk,
        },
    )
    entry = timeline_add(
        actor=epi,
        investigation=case.investigation,
        data={
            "starts_at": (timeutils.now() - dt.timedelta(days=1)).isoformat(),
            "location": "齐镇农贸市场",
            "activity": "购物",
        },
    )
    team = team_create(actor=hq, name="第一流调组", leader_id=epi.pk, member_ids=[epi.pk])
    candidates_refresh(actor=epi, case=case)
    candidate = Contact.objects.get(case=case, person=world.people.spouse)
    loner = world.loner
    close = Contact.objects.create(
        case=case,
        person=loner,
        name=loner.name,
        id_type=loner.id_type,
        id_number=loner.id_number,
        phone=loner.phone,
        evidence_kind=Contact.Evidence.MANUAL,
        evidence={"items": [{"kind": "manual"}]},
        status=Contact.Status.CLOSE,
        reason="同桌就餐",
        decided_by=epi,
        decided_at=V9_EXPOSURE,
        last_exposure_at=V9_EXPOSURE,
    )
    coworker_declare(
        actor=epi,
        contact=close,
        rows=[{"name": "钱同事", "id_type": "resident_id", "id_number": COWORKER_ID}],
    )
    return SimpleNamespace(
        **vars(world),
        cluster=cluster,
        case=case,
        entry=entry,
        team=team,
        candidate=candidate,
        close=close,
    )


ROUTES = [
    # --- cases ---
    Route(
        "list cases",
        "get",
        "/cases",
        lambda w: "/api/v1/cases",
        READ,
        shows=lambda w, b: w.case.pk in _ids(b),
    ),
    Route(
        "create case",
        "post",
        "/cases",
        lambda w: "/api/v1/cases",
        CREATE,
        body=lambda w: {
            "person_id": w.people.spouse.pk,
            "classification": "asymptomatic",
            "report_date": timeutils.local_today().isoformat(),
        },
        verb="tracing.case.create",
        done=lambda w: Case.objects.filter(person=w.people.spouse).exists(),
    ),
    Route("case detail", "get", "/cases/{case_id}", lambda w: f"/api/v1/cases/{w.case.pk}", READ),
    Route(
        "update case",
        "patch",
        "/cases/{case_id}",
        lambda w: f"/api/v1/cases/{w.case.pk}",
        CHANGE,
        body=lambda w: {"treated_at": "眉县人民医院"},
        verb="tracing.case.update",
        done=lambda w: _case(w).treated_at == "眉县人民医院",
    ),
    Route(
        "reclassify case",
        "post",
        "/cases/{case_id}/reclassify",
        lambda w: f"/api/v1/cases/{w.case.pk}/reclassify",
        CHANGE,
        body=lambda w: {"classification": "confirmed", "reason": "核酸复核阳性"},
        verb="tracing.case.reclassify",
        done=lambda w: _case(w).classification == "confirmed",
    ),
    Route(
        "take case out of its cluster",
        "put",
        "/cases/{case_id}/cluster",
        lambda w: f"/api/v1/cases/{w.case.pk}/cluster",
        CHANGE,
        body=lambda w: {"cluster_id": None},
        verb="tracing.case.cluster",
        done=lambda w: _case(w).cluster_id is None,
    ),
    # --- investigation, teams, timeline, report ---
    Route(
        "investigation",
        "get",
        "/cases/{case_id}/investigation",
        lambda w: f"/api/v1/cases/{w.case.pk}/investigation",
        READ,
    ),
    Route(
        "write conclusions",
        "post",
        "/cases/{case_id}/investigation",
        lambda w: f"/api/v1/cases/{w.case.pk}/investigation",
        CHANGE,
        body=lambda w: {"conclusions": "家庭聚集，传播链清楚", "close": False},
        verb="tracing.investigation.conclude",
        done=lambda w: _case(w).investigation.conclusions == "家庭聚集，传播链清楚",
    ),
    Route(
        "list teams",
        "get",
        "/teams",
        lambda w: "/api/v1/teams",
        READ,
        shows=lambda w, b: w.team.pk in _ids(b),
    ),
    Route(
        "create team",
        "post",
        "/teams",
        lambda w: "/api/v1/teams",
        CREATE,
        body=lambda w: {"name": "第二流调组"},
        verb="tracing.team.create",
        done=lambda w: InvestigationTeam.objects.filter(name="第二流调组").exists(),
    ),
    Route(
        "timeline",
        "get",
        "/cases/{case_id}/timeline",
        lambda w: f"/api/v1/cases/{w.case.pk}/timeline",
        READ,
        shows=lambda w, b: w.entry.pk in {row["id"] for row in b},
    ),
    Route(
        "add timeline entry",
        "post",
        "/cases/{case_id}/timeline",
        lambda w: f"/api/v1/cases/{w.case.pk}/timeline",
        CREATE,
        body=lambda w: {
            "starts_at": (timeutils.now() - dt.timedelta(hours=3)).isoformat(),
            "location": "齐镇卫生院",
        },
        verb="tracing.timeline.add",
        done=lambda w: TimelineEntry.objects.filter(location="齐镇卫生院").exists(),
    ),
    Route(
        "report as Word",
        "get",
        "/cases/{case_id}/report.docx",
        lambda w: f"/api/v1/cases/{w.case.pk}/report.docx",
        READ,
        verb="tracing.report.export",
        leader_audited=True,
    ),
    # --- contacts ---
    Route(
        "contact candidates (writers refresh them)",
        "get",
        "/cases/{case_id}/contact-candidates",
        lambda w: f"/api/v1/cases/{w.case.pk}/contact-candidates",
        READ,
        shows=lambda w, b: w.candidate.pk in {row["id"] for row in b["items"]},
        verb="tracing.contact.refresh",
    ),
    Route(
        "list contacts",
        "get",
        "/cases/{case_id}/contacts",
        lambda w: f"/api/v1/cases/{w.case.pk}/contacts",
        READ,
        shows=lambda w, b: {w.candidate.pk, w.close.pk} <= {row["id"] for row in b},
    ),
    Route(
        "add a contact by hand",
        "post",
        "/cases/{case_id}/contacts",
        lambda w: f"/api/v1/cases/{w.case.pk}/contacts",
        CREATE,
        body=lambda w: {
            "name": "孙同桌",
            "id_type": "resident_id",
            "id_number": make_resident_id("610326", dt.date(1986, 5, 5), 82),
            "setting": "dining",
        },
        verb="tracing.contact.add",
        done=lambda w: Contact.objects.filter(case=w.case, name="孙同桌").exists(),
    ),
    Route(
        "decide a candidate",
        "post",
        "/cases/{case_id}/contacts",
        lambda w: f"/api/v1/cases/{w.case.pk}/contacts",
        CHANGE,
        body=lambda w: {
            "contact_id": w.candidate.pk,
            "status": "general",
            "reason": "同住，发病前已分居",
        },
        verb="tracing.contact.decide",
        done=lambda w: Contact.objects.get(pk=w.candidate.pk).status == "general",
    ),
    Route(
        "declare co-workers",
        "post",
        "/contacts/{contact_id}/coworkers",
        lambda w: f"/api/v1/contacts/{w.close.pk}/coworkers",
        CREATE,
        body=lambda w: {
            "rows": [
                {
                    "name": "李同事",
                    "id_number": make_resident_id("610326", dt.date(1993, 3, 3), 83),
                }
            ]
        },
        verb="tracing.contact.coworkers",
        done=lambda w: DeclaredCoworker.objects.filter(name="李同事").exists(),
    ),
    Route(
        "propose secondary contacts",
        "post",
        "/contacts/{contact_id}/secondaries",
        lambda w: f"/api/v1/contacts/{w.close.pk}/secondaries",
        CREATE,
        verb="tracing.contact.secondaries",
        done=lambda w: Contact.objects.filter(via=w.close, id_number=COWORKER_ID).exists(),
    ),
    # --- clusters and chains ---
    Route(
        "list clusters",
        "get",
        "/clusters",
        lambda w: "/api/v1/clusters",
        READ,
        shows=lambda w, b: w.cluster.pk in _ids(b),
    ),
    Route(
        "create cluster",
        "post",
        "/clusters",
        lambda w: "/api/v1/clusters",
        CREATE,
        body=lambda w: {"name": "齐镇农贸市场聚集性疫情", "kind": "other"},
        verb="tracing.cluster.create",
        done=lambda w: Cluster.objects.filter(name="齐镇农贸市场聚集性疫情").exists(),
    ),
    Route(
        "cluster detail",
        "get",
        "/clusters/{cluster_id}",
        lambda w: f"/api/v1/clusters/{w.cluster.pk}",
        READ,
    ),
    Route(
        "update cluster",
        "patch",
        "/clusters/{cluster_id}",
        lambda w: f"/api/v1/clusters/{w.cluster.pk}",
        CHANGE,
        body=lambda w: {"description": "一户两人"},
        verb="tracing.cluster.update",
        done=lambda w: Cluster.objects.get(pk=w.cluster.pk).description == "一户两人",
    ),
    Route(
        "chain graph",
        "get",
        "/clusters/{cluster_id}/graph",
        lambda w: f"/api/v1/clusters/{w.cluster.pk}/graph",
        READ,
        shows=lambda w, b: f"case:{w.case.pk}" in {node["id"] for node in b["nodes"]},
    ),
    Route(
        "chains",
        "get",
        "/chains",
        lambda w: "/api/v1/chains",
        READ,
        shows=lambda w, b: w.case.pk in {row["case_id"] for row in b["results"]},
    ),
]

MATRIX = {(route.method, route.template) for route in ROUTES}  # test_permissions.py unions it

CASES = [
    pytest.param(route, viewer, id=f"{route.name}-{viewer}")
    for route in ROUTES
    for viewer in TRACING_VIEWERS
]

SNAPSHOT_MODELS = (
    Case,
    CaseEvent,
    Cluster,
    Investigation,
    InvestigationTeam,
    TimelineEntry,
    Contact,
    DeclaredCoworker,
    Person,
    ControlOrder,
    LoopTask,
)


def _snapshot() -> dict[str, Any]:
    """Every row a route of issue 6 could write, and the audit trail."""
    tables = {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS
    }
    return tables | {"audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))}


def _send(client: Any, route: Route, w: SimpleNamespace) -> Any:
    kwargs: dict[str, Any] = {}
    if route.body is not None:
        kwargs = {"data": json.dumps(route.body(w)), "content_type": "application/json"}
    return getattr(client, route.method)(route.path(w), **kwargs)


@pytest.mark.parametrize(("route", "viewer"), CASES)
def test_route_answers_each_viewer_by_role(tracing_world, client_for, route, viewer):
    w = tracing_world
    client = client_for(viewer)  # making a token audits it: before the snapshot
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
        assert route.shows(w, response.json()), "the world's object is missing from the answer"
    writes = route.verb is not None and (viewer in WRITERS or route.leader_audited)
    if writes:
        user = getattr(w.users, viewer)
        new = AuditEvent.objects.exclude(pk__in=before["audit"])
        assert new.count() == 1, list(new.values_list("verb", flat=True))
        assert new.filter(verb=route.verb, actor=user).count() == 1
    else:  # reads (and the leader's candidate list): nothing written, nothing audited
        assert _snapshot() == before, "a read changed the database or wrote an audit event"
    if route.done is not None:
        assert route.done(w), "the write did not take effect"


def test_the_world_is_what_the_matrix_assumes(tracing_world):
    """Guards the fixture: an empty world would turn the 'shows' checks and the other town's
    404s into vacuous passes."""
    w = tracing_world
    grid_a = w.county.grid_a.code
    assert (w.case.division_id, w.case.cluster_id) == (grid_a, w.cluster.pk)
    assert w.cluster.division_id == grid_a
    assert w.candidate.status == "candidate"
    assert (w.close.status, w.close.degree) == ("close", 1)
    assert DeclaredCoworker.objects.filter(contact=w.close, id_number=COWORKER_ID).exists()


# --- the data scope: an epidemiologist of another town ---------------------------------------


@pytest.fixture
def town_b_epidemiologist(county) -> User:
    user = User(
        username="epi_b",
        role=Role.EPIDEMIOLOGIST,
        jurisdiction=county.town_b,
        display_name="epi_b",
    )
    user.set_unusable_password()
    user.save()
    return user


OBJECT_ROUTES = [r for r in ROUTES if "{" in r.template]
# Teams are the county's (not in a division): every reader lists them.
LIST_ROUTES = [
    r for r in ROUTES if r.shows is not None and "{" not in r.template and r.template != "/teams"
]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_the_other_town_epidemiologist_finds_grid_a_objects_missing(
    tracing_world, api_client, town_b_epidemiologist, route
):
    """Out of scope answers exactly like missing (404), and nothing is written."""
    client = api_client(town_b_epidemiologist)
    before = _snapshot()

    response = _send(client, route, tracing_world)

    assert response.status_code == 404, response.content.decode(errors="replace")[:2000]
    assert set(response.json()) == {"code", "message", "errors"}
    assert _snapshot() == before


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.name)
def test_lists_hide_grid_a_from_the_other_town_epidemiologist(
    tracing_world, api_client, town_b_epidemiologist, route
):
    response = _send(api_client(town_b_epidemiologist), route, tracing_world)
    assert response.status_code == 200, response.content.decode()
    assert route.shows(tracing_world, response.json()) is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("person_id", lambda w: w.people.spouse.pk),
        ("cluster_id", lambda w: w.cluster.pk),
        ("infected_by_id", lambda w: w.case.pk),
    ],
)
def test_the_other_town_epidemiologist_cannot_use_grid_a_records_in_a_new_case(
    tracing_world, api_client, town_b_epidemiologist, field, value
):
    """A case is registered for people, clusters and source cases the epidemiologist may see:
    grid A's answer 'does not exist' (400 on that field), and nothing is written."""
    w = tracing_world
    data: dict[str, Any] = {
        "person_id": w.people.other.pk,  # grid B: in town B's scope
        "classification": "suspected",
        "report_date": timeutils.local_today().isoformat(),
    }
    data[field] = value(w)
    client = api_client(town_b_epidemiologist)
    before = _snapshot()

    response = client.post("/api/v1/cases", data=json.dumps(data), content_type="application/json")

    assert response.status_code == 400, response.content.decode()
    assert field in response.json()["errors"]
    assert _snapshot() == before
