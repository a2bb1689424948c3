"""API of arrivals and assist requests: the registration answers with the proposed order
(category, phases with dates and test days) or why none; lists are scoped and masked; the
permission matrix; the Word letter."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache

from fangkong.core.timeutils import local_today
from fangkong.travel import services
from fangkong.travel.models import AssistRequest, TravelRegistration

from .factories import (
    GRID_B,
    HONGSHAN,
    NEW_ID,
    activate,
    docx_table,
    recent_arrival_data,
    risk_area,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def payload(**overrides):
    data = recent_arrival_data(**overrides)
    data.setdefault("outside_county", False)
    return data


@pytest.fixture
def v9(county):
    activate("v9")
    risk_area(level="high", start=local_today() - dt.timedelta(days=20))


def test_registering_answers_201_with_the_proposed_order(api_client, users, v9):
    response = post_json(api_client(users.grid_worker), "/api/v1/arrivals", payload())
    assert response.status_code == 201, response.content
    body = response.json()
    reg = TravelRegistration.objects.get()
    assert body["id"] == reg.pk
    assert body["risk_level"] == "high"
    assert body["category"] == "high_risk_arrival"
    assert body["category_label"] == "高风险地区来返人员"
    order = body["order"]
    assert order["status"] == "proposed"
    assert order["counts_from"] == "left_area"
    left_on = local_today() - dt.timedelta(days=3)
    assert order["anchor_date"] == left_on.isoformat()
    phase = order["phases"][0]
    assert phase["kind"] == "centralized"
    assert phase["days"] == 7
    assert phase["end"] == (left_on + dt.timedelta(days=7)).isoformat()
    # days 1-2 have passed; days 3, 5, 7 from leaving remain (found today = day 3)
    assert phase["test_days"] == [(left_on + dt.timedelta(days=n)).isoformat() for n in (3, 5, 7)]
    assert body["no_order_reason"] == ""
    assert body["task_id"] is not None
    assert body["person"]["id_number"] == NEW_ID[:6] + "*" * 10 + NEW_ID[-2:]


def test_an_arrival_from_nowhere_risky_says_why_there_is_no_measure(api_client, users, county):
    activate("v9")
    body = post_json(api_client(users.grid_worker), "/api/v1/arrivals", payload()).json()
    assert body["order"] is None
    assert "不属于风险地区" in body["no_order_reason"]
    assert body["task_id"] is not None  # the grid worker still acknowledges and visits


def test_an_arrival_bound_outside_the_county(api_client, users, v9):
    body = post_json(
        api_client(users.commander),
        "/api/v1/arrivals",
        payload(destination_code="", outside_county=True, outside_code=HONGSHAN),
    ).json()
    assert body["order"] is None
    assert body["task_id"] is None
    assert "协查函" in body["no_order_reason"]
    assert AssistRequest.objects.get().entries.count() == 1


def test_bad_input_is_400_with_every_field_named(api_client, users, county):
    response = post_json(
        api_client(users.grid_worker),
        "/api/v1/arrivals",
        payload(
            left_on="2099-01-01",
            origin_code="999999",
            id_number=NEW_ID[:-1] + ("1" if NEW_ID[-1] != "1" else "2"),
            phone="12",
            transport="car",
            vehicle_no="陕C12345X",
        ),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"left_on", "origin_code", "id_number", "phone", "vehicle_no"}
    assert errors["id_number"] == ["身份证号校验码错误"]
    assert not TravelRegistration.objects.exists()


def test_unknown_fields_are_refused(api_client, users, county):
    response = post_json(api_client(users.grid_worker), "/api/v1/arrivals", {**payload(), "x": 1})
    assert response.status_code == 400
    assert "x" in response.json()["errors"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("grid_worker", 201),
        ("village_officer", 201),
        ("town_officer", 201),
        ("commander", 201),
        ("admin", 201),
        ("leader", 403),
        ("epidemiologist", 403),
        ("lab_staff", 403),
    ],
)
def test_who_may_register(api_client, users, county, role, status):
    response = post_json(api_client(getattr(users, role)), "/api/v1/arrivals", payload())
    assert response.status_code == status


def test_registering_outside_the_jurisdiction_is_refused(api_client, users, county):
    response = post_json(
        api_client(users.grid_worker), "/api/v1/arrivals", payload(destination_code=GRID_B)
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"destination_code": ["目的网格不存在或不在您的管辖范围内"]}


def test_no_credentials_is_401(api_client, county):
    assert api_client(None).get("/api/v1/arrivals").status_code == 401


@pytest.fixture
def two(users, v9):
    a = services.arrival_register(
        actor=users.commander, data=recent_arrival_data(), channel="grid_entry"
    ).registration
    b = services.arrival_register(
        actor=users.commander,
        data=recent_arrival_data(
            name="王外来", id_number="11010519491231002X", destination_code=GRID_B
        ),
        channel="grid_entry",
    ).registration
    return a, b


def test_the_list_is_scoped_paginated_and_masked(api_client, users, two):
    a, _b = two
    body = api_client(users.grid_worker).get("/api/v1/arrivals").json()
    assert body["count"] == 1
    assert [r["id"] for r in body["results"]] == [a.pk]
    assert body["results"][0]["person"]["name"] == "赵新来"
    body = api_client(users.leader).get("/api/v1/arrivals", {"page_size": 1}).json()
    assert body["count"] == 2
    assert body["pages"] == 2
    names = {
        r["person"]["name"]
        for r in api_client(users.leader).get("/api/v1/arrivals").json()["results"]
    }
    assert names == {"赵**", "王**"}


def test_list_filters(api_client, users, two):
    _a, b = two
    client = api_client(users.commander)
    assert [
        r["id"] for r in client.get("/api/v1/arrivals", {"division": GRID_B}).json()["results"]
    ] == [b.pk]
    assert client.get("/api/v1/arrivals", {"risk_level": "none"}).json()["count"] == 0
    assert client.get("/api/v1/arrivals", {"origin": "11"}).json()["count"] == 2
    assert client.get("/api/v1/arrivals", {"arrived_from": "2099-01-01"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("grid_worker", 200),
        ("leader", 200),
        ("other_grid_worker", 404),
        ("other_town_officer", 404),
    ],
)
def test_detail_in_and_out_of_scope(api_client, users, two, role, status):
    a, _b = two
    assert api_client(getattr(users, role)).get(f"/api/v1/arrivals/{a.pk}").status_code == status


# --- assist requests -------------------------------------------------------------------------


@pytest.fixture
def letter(users, v9):
    services.arrival_register(
        actor=users.commander,
        data=recent_arrival_data(destination_code="", outside_county=True, outside_code=HONGSHAN),
        channel="grid_entry",
    )
    return AssistRequest.objects.get()


def test_assist_requests_list_and_detail(api_client, users, letter):
    client = api_client(users.commander)
    body = client.get("/api/v1/assist-requests").json()
    assert body["count"] == 1
    assert body["results"][0]["direction"] == "outgoing"
    assert body["results"][0]["entry_count"] == 1
    detail = client.get(f"/api/v1/assist-requests/{letter.pk}").json()
    assert detail["entries"][0]["person"]["name"] == "赵新来"
    assert detail["entries"][0]["origin_name"] == "北京市朝阳区"


def test_assist_requests_are_for_county_wide_viewers(api_client, users, letter):
    client = api_client(users.grid_worker)
    assert client.get("/api/v1/assist-requests").json()["count"] == 0
    assert client.get(f"/api/v1/assist-requests/{letter.pk}").status_code == 404


def test_recording_an_incoming_letter(api_client, users, county):
    body = {
        "number": "鄂洪防协〔2022〕15号",
        "counterpart": "洪山区疫情防控指挥部",
        "counterpart_code": HONGSHAN,
    }
    response = post_json(api_client(users.commander), "/api/v1/assist-requests", body)
    assert response.status_code == 201
    assert response.json()["direction"] == "incoming"
    assert post_json(api_client(users.leader), "/api/v1/assist-requests", body).status_code == 403
    bad = post_json(api_client(users.commander), "/api/v1/assist-requests", {"counterpart": ""})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"counterpart": ["请填写对方单位"]}


@pytest.mark.parametrize(
    ("role", "status"), [("commander", 200), ("epidemiologist", 200), ("leader", 403)]
)
def test_the_letter_download(api_client, users, letter, role, status):
    response = api_client(getattr(users, role)).get(
        f"/api/v1/assist-requests/{letter.pk}/letter.docx"
    )
    assert response.status_code == status
    if status == 200:
        table = docx_table(response.content)
        assert table[0][0] == "序号"
        assert table[1][3] == NEW_ID
