"""API: /api/v1/risk-areas and /api/v1/sweeps, with the permission matrix."""

from __future__ import annotations

import json

import pytest

from fangkong.control.models import ControlOrder
from fangkong.policy.models import RiskArea
from fangkong.travel.models import SweepRun
from fangkong.travel.sweep import risk_area_declare

from .test_sweep_support import TODAY, activate_edition, days, make_arrival

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(county):
    """A known edition in force for the county (see test_sweep_support)."""
    return activate_edition(county)


BASE = "/api/v1"


def _post(client, path, data):
    return client.post(f"{BASE}{path}", json.dumps(data), content_type="application/json")


def _patch(client, path, data):
    return client.patch(f"{BASE}{path}", json.dumps(data), content_type="application/json")


def _body(**extra):
    data = {"level": "high", "region_code": "110105", "start_date": days(-5).isoformat()}
    data.update(extra)
    return data


def test_declaring_answers_201_with_the_area_and_the_sweep(county, users, edition, api_client):
    reg = make_arrival(county, left_on=days(-3))

    response = _post(api_client(users.commander), "/risk-areas", _body(detail=""))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["level"] == "high"
    assert body["region_code"] == "110105"
    assert body["region_name"] == "北京市朝阳区"
    assert body["in_force"] is True
    assert body["inside_county"] is False
    assert body["downgrade"] is None
    sweep = body["sweep"]
    assert sweep["found"] == 1
    assert sweep["orders_proposed"] == 1
    assert sweep["expired"] == 0
    assert sweep["window_from"] == days(-5).isoformat()
    assert ControlOrder.objects.get().person_id == reg.person_id


@pytest.mark.parametrize(
    "role", ["leader", "town_officer", "village_officer", "grid_worker", "epidemiologist"]
)
def test_only_the_hq_writes(county, users, edition, api_client, role):
    client = api_client(getattr(users, role))
    assert _post(client, "/risk-areas", _body()).status_code == 403
    area, _sweep = risk_area_declare(
        actor=users.commander, level="medium", region_code="110105", start_date=days(-2)
    )
    assert _patch(client, f"/risk-areas/{area.pk}", {"level": "high"}).status_code == 403
    assert (
        _post(
            client, f"/risk-areas/{area.pk}/end", {"end_date": TODAY.isoformat(), "reason": "x"}
        ).status_code
        == 403
    )
    assert (
        _post(
            client, f"/risk-areas/{area.pk}/confirm-downgrade", {"on": TODAY.isoformat()}
        ).status_code
        == 403
    )
    # ... and everyone reads.
    assert client.get(f"{BASE}/risk-areas").status_code == 200
    assert client.get(f"{BASE}/risk-areas/{area.pk}").status_code == 200
    area.refresh_from_db()
    assert area.level == "medium"
    assert area.end_date is None


def test_unauthenticated_gets_401(client):
    assert client.get(f"{BASE}/risk-areas").status_code == 401


def test_bad_input_names_each_field_and_writes_nothing(county, users, edition, api_client):
    client = api_client(users.commander)
    response = _post(
        client,
        "/risk-areas",
        {"level": "extreme", "region_code": "999999", "start_date": days(2).isoformat()},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"level", "region_code", "start_date"}
    missing = _post(client, "/risk-areas", {"level": "high"})
    assert missing.status_code == 400
    assert {"region_code", "start_date"} <= set(missing.json()["errors"])
    unknown = _post(client, "/risk-areas", {**_body(), "colour": "red"})
    assert unknown.status_code in (400, 422)
    assert not RiskArea.objects.exists()
    assert not SweepRun.objects.exists()


def test_list_filters_and_pages(county, users, edition, api_client):
    risk_area_declare(
        actor=users.commander,
        level="high",
        region_code=county.village_a.code,
        start_date=days(-10),
    )
    risk_area_declare(
        actor=users.commander,
        level="medium",
        region_code="110105",
        start_date=days(-9),
        end_date=days(-2),
    )
    client = api_client(users.town_officer)

    everything = client.get(f"{BASE}/risk-areas").json()
    assert everything["count"] == 2
    assert everything["page"] == 1
    active = client.get(f"{BASE}/risk-areas", {"status": "active"}).json()
    assert [a["region_code"] for a in active["results"]] == [county.village_a.code]
    ended = client.get(f"{BASE}/risk-areas", {"status": "ended"}).json()
    assert [a["region_code"] for a in ended["results"]] == ["110105"]
    inside = client.get(f"{BASE}/risk-areas", {"inside_county": "true"}).json()
    assert [a["inside_county"] for a in inside["results"]] == [True]
    on_day = client.get(f"{BASE}/risk-areas", {"active_on": days(-5).isoformat()}).json()
    assert on_day["count"] == 2
    level = client.get(f"{BASE}/risk-areas", {"level": "medium"}).json()
    assert level["count"] == 1
    paged = client.get(f"{BASE}/risk-areas", {"page_size": 1, "page": 2}).json()
    assert paged["pages"] == 2
    assert len(paged["results"]) == 1
    assert client.get(f"{BASE}/risk-areas", {"status": "soon"}).status_code in (400, 422)


def test_detail_carries_the_downgrade_proposal(county, users, edition, api_client):
    area, _sweep = risk_area_declare(
        actor=users.commander,
        level="high",
        region_code=county.village_a.code,
        start_date=days(-10),
        last_case_on=days(-9),
    )
    body = api_client(users.grid_worker).get(f"{BASE}/risk-areas/{area.pk}").json()
    assert body["inside_county"] is True
    assert body["downgrade"] == {
        "from_level": "high",
        "to_level": "medium",
        "earliest_on": days(-2).isoformat(),
        "days": 7,
        "needs_screening": True,
    }
    assert api_client(users.grid_worker).get(f"{BASE}/risk-areas/999999").status_code == 404


def test_patch_widens_and_sweeps(county, users, edition, api_client):
    make_arrival(county, left_on=days(-6))
    area, _first = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-3)
    )
    client = api_client(users.commander)

    widened = _patch(client, f"/risk-areas/{area.pk}", {"start_date": days(-7).isoformat()})
    narrowed = _patch(client, f"/risk-areas/{area.pk}", {"notice": "新通告"})

    assert widened.status_code == 200
    assert widened.json()["sweep"]["orders_proposed"] == 1
    assert narrowed.json()["sweep"] is None
    assert narrowed.json()["notice"] == "新通告"
    bad = _patch(client, f"/risk-areas/{area.pk}", {"end_date": days(-9).isoformat()})
    assert bad.status_code == 400
    assert "end_date" in bad.json()["errors"]


def test_end_and_confirm_downgrade(county, users, edition, api_client):
    client = api_client(users.commander)
    area, _sweep = risk_area_declare(
        actor=users.commander,
        level="high",
        region_code=county.village_a.code,
        start_date=days(-10),
        last_case_on=days(-9),
    )

    early = _post(client, f"/risk-areas/{area.pk}/confirm-downgrade", {"on": days(-3).isoformat()})
    assert early.status_code == 400
    assert "on" in early.json()["errors"]

    response = _post(
        client,
        f"/risk-areas/{area.pk}/confirm-downgrade",
        {"on": TODAY.isoformat(), "reason": "连续7天无新增"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ended"]["end_date"] == days(-1).isoformat()
    assert body["created"]["level"] == "medium"
    assert body["created"]["previous_id"] == area.pk

    lower = body["created"]["id"]
    no_reason = _post(client, f"/risk-areas/{lower}/end", {"end_date": TODAY.isoformat()})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    ended = _post(
        client, f"/risk-areas/{lower}/end", {"end_date": TODAY.isoformat(), "reason": "解除通告"}
    )
    assert ended.status_code == 200
    assert ended.json()["end_date"] == TODAY.isoformat()


def test_sweep_detail_pages_the_people_in_scope_masked(county, users, edition, api_client):
    in_a = [make_arrival(county, left_on=days(-2), division=county.grid_a) for _ in range(3)]
    in_b = make_arrival(county, left_on=days(-2), division=county.grid_b)
    _area, sweep = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-5)
    )

    hq = (
        api_client(users.commander)
        .get(f"{BASE}/sweeps/{sweep.pk}", {"page_size": 2, "page": 1})
        .json()
    )
    assert hq["found"] == 4
    assert hq["orders_proposed"] == 4
    assert hq["hits"]["count"] == 4
    assert hq["hits"]["pages"] == 2
    first = hq["hits"]["results"][0]
    assert first["outcome"] == "proposed"
    assert first["order_id"]
    assert first["person"]["id_number"] != in_a[0].person.id_number
    assert "*" in first["person"]["id_number"]

    town_b = api_client(users.other_town_officer).get(f"{BASE}/sweeps/{sweep.pk}").json()
    assert [h["arrival_id"] for h in town_b["hits"]["results"]] == [in_b.pk]
    leader = api_client(users.leader).get(f"{BASE}/sweeps/{sweep.pk}").json()
    assert all(h["person"]["name"] != in_b.person.name for h in leader["hits"]["results"])
    only = (
        api_client(users.commander).get(f"{BASE}/sweeps/{sweep.pk}", {"outcome": "covered"}).json()
    )
    assert only["hits"]["count"] == 0
    assert api_client(users.commander).get(f"{BASE}/sweeps/{sweep.pk + 5}").status_code == 404


def test_sweep_list(county, users, edition, api_client):
    area, sweep = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-5)
    )
    body = api_client(users.grid_worker).get(f"{BASE}/sweeps", {"risk_area": area.pk}).json()
    assert [s["id"] for s in body["results"]] == [sweep.pk]
    assert (
        api_client(users.grid_worker).get(f"{BASE}/sweeps", {"risk_area": 999}).status_code == 404
    )


def test_the_api_documents_the_risk_area_routes(client):
    schema = client.get(f"{BASE}/openapi.json").json()
    assert "/api/v1/risk-areas" in schema["paths"]
    assert "/api/v1/sweeps/{sweep_id}" in schema["paths"]
    tags = {t for op in schema["paths"]["/api/v1/risk-areas"].values() for t in op["tags"]}
    assert tags == {"风险地区"}
