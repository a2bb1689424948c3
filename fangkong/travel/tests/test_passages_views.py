"""Pages and API of 过卡登记: the form at the barrier (errors next to the fields, a resend with
the same key answers with the same passage), the result page (flagged occupants in red with
what to do), the list and hourly counts, masking, and the permission matrix."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.cache import cache

from fangkong.core.timeutils import local_today
from fangkong.travel.models import CheckpointPassage, TravelRegistration

from .factories import CHAOYANG, GRID_A, activate, risk_area
from .test_passages_services import (
    DRIVER_ID,
    PASSENGER_ID,
    make_checkpoint,
    make_staff,
    occupant,
    passage_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def setup(county, users):
    activate()
    return make_checkpoint(county.town_a), make_staff(county)


def form_post(checkpoint, *, key: str = "form-key", **overrides):
    data = passage_data(**overrides)
    body = {k: v for k, v in data.items() if k != "occupants"}
    for field in ("name", "id_type", "id_number", "phone", "temperature"):
        body[f"occ_{field}"] = [o[field] for o in data["occupants"]] + [""]  # a blank row
    body["idempotency_key"] = key
    body["checkpoint"] = str(checkpoint.pk)
    return body


# --- the form ------------------------------------------------------------------------------------


def test_the_form_has_a_fresh_key_and_the_barrier_friendly_fields(login, setup):
    checkpoint, staff = setup
    client = login(staff)
    one = client.get(f"/passages/new/?checkpoint={checkpoint.pk}")
    two = client.get(f"/passages/new/?checkpoint={checkpoint.pk}")
    assert one.status_code == 200
    html = one.content.decode()
    assert 'name="idempotency_key"' in html
    assert "autofocus" in html
    assert 'inputmode="numeric"' in html
    assert "passage.js" in html
    assert one.context["key"] != two.context["key"]


def test_without_a_checkpoint_the_form_offers_the_checkpoints(login, setup):
    checkpoint, staff = setup
    response = login(staff).get("/passages/new/")
    assert response.status_code == 200
    assert checkpoint.name in response.content.decode()


def test_a_flagged_occupant_is_shown_in_red_with_what_to_do(login, setup):
    checkpoint, staff = setup
    rows = [occupant(), occupant(name="孙乘客", id_number=PASSENGER_ID, temperature="38.2")]
    client = login(staff)
    response = client.post("/passages/new/", form_post(checkpoint, occupants=rows))
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "孙乘客" in html
    assert "钱司机" in html
    assert "occupant-flagged" in html
    assert "发热门诊" in html
    assert DRIVER_ID not in html  # ID numbers masked
    assert "登记下一辆" in html
    assert TravelRegistration.objects.get().person.id_number == PASSENGER_ID


def test_a_resend_of_the_same_form_answers_with_the_same_passage(login, setup):
    checkpoint, staff = setup
    client = login(staff)
    first = client.post("/passages/new/", form_post(checkpoint, key="same"))
    second = client.post("/passages/new/", form_post(checkpoint, key="same"))
    assert first["Location"].split("?")[0] == second["Location"].split("?")[0]
    assert "retry=1" in second["Location"]
    assert CheckpointPassage.objects.count() == 1


def test_errors_are_shown_next_to_the_fields_and_nothing_is_saved(login, setup):
    checkpoint, staff = setup
    rows = [occupant(), occupant(id_number=PASSENGER_ID, temperature="43.1")]
    response = login(staff).post(
        "/passages/new/", form_post(checkpoint, plate="陕AX12345", occupants=rows)
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "新能源号牌" in html
    assert "34–43" in html
    assert response.context["rows"][1]["errors"]["temperature"]
    assert response.context["key"] == "form-key"  # the same key: a fixed resend is one passage
    assert CheckpointPassage.objects.count() == 0


# --- the list and counts -----------------------------------------------------------------------


def test_the_list_and_the_hourly_counts(login, setup):
    checkpoint, staff = setup
    client = login(staff)
    client.post("/passages/new/", form_post(checkpoint, key="a"))
    client.post(
        "/passages/new/", form_post(checkpoint, key="b", occupants=[occupant(temperature="38")])
    )
    response = client.get("/passages/")
    assert response.status_code == 200
    assert response.context["counts"]["total"] == 2
    assert len(response.context["rows"]) == 2
    flagged = client.get("/passages/?flagged=1")
    assert len(flagged.context["rows"]) == 1
    other_day = client.get(f"/passages/?date={local_today() - dt.timedelta(days=3)}")
    assert other_day.context["rows"] == []


def test_the_town_officer_sees_surnames_masked_phones(login, setup, users):
    checkpoint, staff = setup
    login(staff).post("/passages/new/", form_post(checkpoint))
    passage = CheckpointPassage.objects.get()
    html = login(users.town_officer).get(f"/passages/{passage.pk}/").content.decode()
    assert "钱司机" in html
    assert "13511112222" not in html


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("staff", 200),
        ("commander", 200),
        ("town_officer", 200),
        ("other_town_officer", 404),
        ("leader", 403),
        ("grid_worker", 403),
        (None, 302),
    ],
)
def test_who_may_open_the_form(login, setup, users, role, status):
    checkpoint, staff = setup
    user = staff if role == "staff" else getattr(users, role) if role else None
    response = login(user).get(f"/passages/new/?checkpoint={checkpoint.pk}")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("staff", 200),
        ("commander", 200),
        ("town_officer", 200),
        ("other_town_officer", 404),
        ("leader", 403),
        (None, 302),
    ],
)
def test_who_may_read_a_passage(login, setup, users, role, status):
    checkpoint, staff = setup
    login(staff).post("/passages/new/", form_post(checkpoint))
    passage = CheckpointPassage.objects.get()
    user = staff if role == "staff" else getattr(users, role) if role else None
    assert login(user).get(f"/passages/{passage.pk}/").status_code == status


# --- the API ---------------------------------------------------------------------------------------


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def api_body(**overrides):
    body = passage_data(**overrides)
    body.setdefault("idempotency_key", uuid.uuid4().hex)
    return body


def test_api_registers_201_and_a_retry_answers_200_with_the_same_body(api_client, setup):
    checkpoint, staff = setup
    risk_area(code=CHAOYANG, start=local_today() - dt.timedelta(days=5))
    client = api_client(staff)
    body = api_body(origin_code=CHAOYANG, idempotency_key="api-1")
    first = post_json(client, f"/api/v1/checkpoints/{checkpoint.pk}/passages", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["flagged"]
    assert [o["flag"] for o in data["occupants"]] == ["risk_area"] * 2
    assert "来自高风险地区" in data["occupants"][0]["actions"][0]
    assert data["occupants"][0]["arrival_id"]
    assert data["occupants"][0]["id_number"] != DRIVER_ID
    again = post_json(client, f"/api/v1/checkpoints/{checkpoint.pk}/passages", body)
    assert again.status_code == 200
    assert again.json() == data
    assert CheckpointPassage.objects.count() == 1
    assert TravelRegistration.objects.filter(destination_division_id=GRID_A).count() == 2


def test_api_takes_the_key_from_the_header(api_client, setup):
    checkpoint, staff = setup
    client = api_client(staff)
    body = api_body()
    del body["idempotency_key"]
    url = f"/api/v1/checkpoints/{checkpoint.pk}/passages"
    one = post_json(client, url, body, HTTP_IDEMPOTENCY_KEY="hdr-1")
    two = post_json(client, url, body, HTTP_IDEMPOTENCY_KEY="hdr-1")
    assert (one.status_code, two.status_code) == (201, 200)
    missing = post_json(client, url, body)
    assert missing.status_code == 400


def test_api_errors_name_the_occupant_field(api_client, setup):
    checkpoint, staff = setup
    rows = [occupant(), occupant(id_number=PASSENGER_ID, temperature="33.9")]
    response = post_json(
        api_client(staff),
        f"/api/v1/checkpoints/{checkpoint.pk}/passages",
        api_body(occupants=rows, origin_code="123456"),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "occupants[1].temperature" in errors
    assert "origin_code" in errors
    assert CheckpointPassage.objects.count() == 0


def test_api_list_detail_and_counts(api_client, setup, users):
    checkpoint, staff = setup
    client = api_client(staff)
    url = f"/api/v1/checkpoints/{checkpoint.pk}/passages"
    created = post_json(client, url, api_body()).json()
    post_json(client, url, api_body(occupants=[occupant(temperature="38.6")]))
    listing = client.get("/api/v1/passages?flagged=true").json()
    assert listing["count"] == 1
    assert listing["results"][0]["occupants"][0]["flag"] == "fever"
    assert client.get(f"/api/v1/passages/{created['id']}").json()["id"] == created["id"]
    counts = client.get(f"/api/v1/passages/counts?date={local_today()}").json()
    assert counts["total"] == 2
    assert counts["rows"][0]["checkpoint_id"] == checkpoint.pk
    # Out of scope: the other town's officer sees nothing and gets 404.
    other = api_client(users.other_town_officer)
    assert other.get("/api/v1/passages").json()["count"] == 0
    assert other.get(f"/api/v1/passages/{created['id']}").status_code == 404
    assert post_json(other, url, api_body()).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("commander", 201), ("town_officer", 201), ("leader", 403), ("epidemiologist", 403)],
)
def test_api_who_may_register(api_client, setup, users, role, status):
    checkpoint, _staff = setup
    response = post_json(
        api_client(getattr(users, role)),
        f"/api/v1/checkpoints/{checkpoint.pk}/passages",
        api_body(),
    )
    assert response.status_code == status


def test_api_anonymous_is_refused(api_client, setup):
    checkpoint, _staff = setup
    client = api_client(None)
    assert (
        post_json(client, f"/api/v1/checkpoints/{checkpoint.pk}/passages", api_body()).status_code
        == 401
    )
    assert client.get("/api/v1/passages").status_code == 401
