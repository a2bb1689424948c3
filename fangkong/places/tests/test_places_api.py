"""API of the place registry: create/list/detail/patch/close, posters, stay rules, and who may."""

from __future__ import annotations

import pytest

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.places.models import Place, StayRule
from fangkong.places.services_places import place_create

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _payload(division, **extra):
    data = {
        "name": "齐镇农贸市场",
        "kind": "market",
        "division_code": division.code,
        "address": "齐镇街道12号",
        "person_in_charge": "赵大海",
        "contact_phone": "13912340000",
    }
    data.update(extra)
    return data


def _place(users, division):
    return place_create(
        actor=users.commander,
        name="齐镇中心小学",
        kind="school",
        division_code=division.code,
        address="齐镇街道1号",
        contact_phone="13912340000",
    )


def test_create_list_get_patch_close(county, users, api_client):
    client = api_client(users.town_officer)
    response = client.post(
        f"{API}/places", _payload(county.village_a), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["code"]) == 8
    assert body["kind_label"] == "农贸市场"
    assert body["contact_phone"] == "13912340000"
    place_id = body["id"]

    listed = client.get(f"{API}/places?kind=market&active=true").json()
    assert listed["count"] == 1
    assert listed["results"][0]["code"] == body["code"]
    assert client.get(f"{API}/places?q={body['code']}").json()["count"] == 1

    response = client.patch(
        f"{API}/places/{place_id}", {"name": "齐镇新市场"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "齐镇新市场"
    assert response.json()["code"] == body["code"]

    response = client.post(
        f"{API}/places/{place_id}/close", {"reason": "停业"}, content_type="application/json"
    )
    assert response.json()["active"] is False
    response = client.post(
        f"{API}/places/{place_id}/close", {"reopen": True}, content_type="application/json"
    )
    assert response.json()["active"] is True


def test_bad_input_is_400_with_every_field(county, users, api_client):
    client = api_client(users.commander)
    response = client.post(
        f"{API}/places",
        _payload(county.village_a, name="", kind="casino", contact_phone="abc"),
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"name", "kind", "contact_phone"} <= set(errors)
    response = client.post(
        f"{API}/places", {**_payload(county.village_a), "extra": 1}, content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("who", "create", "read", "close"),
    [
        ("commander", 201, 200, 200),
        ("admin", 201, 200, 200),
        ("town_officer", 201, 200, 200),
        ("village_officer", 201, 200, 200),
        ("inspector", 201, 200, 200),
        ("other_town_officer", 400, 404, 404),
        ("leader", 403, 200, 403),
        ("epidemiologist", 403, 200, 403),
        ("anonymous", 401, 401, 401),
    ],
)
def test_api_permission_matrix(county, users, api_client, who, create, read, close):
    place = _place(users, county.village_a)
    if who == "inspector":
        user = User.objects.create(
            username="insp", role=Role.INSPECTOR, jurisdiction=county.village_a
        )
    elif who == "anonymous":
        user = None
    else:
        user = getattr(users, who)
    client = api_client(user)
    response = client.post(
        f"{API}/places", _payload(county.village_a), content_type="application/json"
    )
    assert response.status_code == create
    assert client.get(f"{API}/places/{place.pk}").status_code == read
    response = client.post(f"{API}/places/{place.pk}/close", {}, content_type="application/json")
    assert response.status_code == close


def test_list_is_scoped(county, users, api_client):
    _place(users, county.village_a)
    assert api_client(users.commander).get(f"{API}/places").json()["count"] == 1
    assert api_client(users.other_town_officer).get(f"{API}/places").json()["count"] == 0


def test_posters(county, users, api_client, settings):
    settings.FANGKONG = {**settings.FANGKONG, "PUBLIC_BASE_URL": "https://fk.example.cn"}
    place = _place(users, county.village_a)
    client = api_client(users.leader)
    png = client.get(f"{API}/places/{place.pk}/poster.png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert place.code in png["Content-Disposition"]
    pdf = client.get(f"{API}/places/{place.pk}/poster.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert (
        api_client(users.other_town_officer).get(f"{API}/places/{place.pk}/poster.png").status_code
        == 404
    )


def test_stay_rules(users, api_client):
    rules = api_client(users.town_officer).get(f"{API}/places/stay-rules").json()
    market = next(r for r in rules if r["kind"] == "market")
    assert (market["stay_minutes"], market["cap_minutes"], market["is_default"]) == (60, 240, True)

    client = api_client(users.commander)
    response = client.put(
        f"{API}/places/stay-rules",
        [{"kind": "market", "stay_minutes": 30, "cap_minutes": 120}],
        content_type="application/json",
    )
    assert response.status_code == 200
    market = next(r for r in response.json() if r["kind"] == "market")
    assert (market["stay_minutes"], market["is_default"]) == (30, False)

    response = client.put(
        f"{API}/places/stay-rules",
        [{"kind": "hotel", "stay_minutes": 2000, "cap_minutes": 100}],
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "hotel.cap_minutes" in response.json()["errors"]

    response = api_client(users.town_officer).put(
        f"{API}/places/stay-rules",
        [{"kind": "market", "stay_minutes": 10, "cap_minutes": 20}],
        content_type="application/json",
    )
    assert response.status_code == 403
    assert StayRule.objects.get().stay_minutes == 30


def test_openapi_documents_the_routes(client):
    schema = client.get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    for path in (
        f"{API}/places",
        f"{API}/places/{{place_id}}",
        f"{API}/places/{{place_id}}/close",
        f"{API}/places/{{place_id}}/poster.pdf",
        f"{API}/places/{{place_id}}/poster.png",
        f"{API}/places/stay-rules",
    ):
        assert path in paths, path
    assert paths[f"{API}/places"]["post"]["tags"] == ["重点场所"]
