"""API of checkpoints, shifts and coverage gaps: behaviour and the permission matrix."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core import timeutils
from fangkong.travel.models import Checkpoint, DutyShift

from .test_checkpoints_services import add_shift, make_checkpoint

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def cp(county, users) -> Checkpoint:
    return make_checkpoint(actor=users.commander, division=county.town_a, leader_id=users.leader.pk)


def _shift_body(**overrides):
    start = timeutils.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=8)).isoformat(),
        "staff_name": "李值守",
        "staff_phone": "13912345678",
        "post": "党员先锋岗",
        "is_volunteer": True,
    }
    body.update(overrides)
    return body


def test_anonymous_gets_401(api_client, cp):
    for url in (f"{API}/checkpoints", f"{API}/checkpoints/{cp.pk}", f"{API}/checkpoints/coverage"):
        assert api_client(None).get(url).status_code == 401
    assert (
        api_client(None).post(f"{API}/checkpoints", {}, content_type="application/json").status_code
        == 401
    )


def test_create_list_get(api_client, users, county):
    client = api_client(users.town_officer)
    response = client.post(
        f"{API}/checkpoints",
        {
            "name": "凤州站",
            "kind": "bus_station",
            "division_code": county.town_a.code,
            "leader_phone": "13912345678",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind_label"] == "汽车站"
    assert body["leader_phone"] == "139****5678"
    listed = client.get(f"{API}/checkpoints").json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert client.get(f"{API}/checkpoints/{body['id']}").json()["name"] == "凤州站"


def test_create_reports_every_bad_field(api_client, users, county):
    response = api_client(users.commander).post(
        f"{API}/checkpoints",
        {"name": "", "kind": "airport", "division_code": "999999"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    text = str(body)
    assert "name" in text
    assert "kind" in text
    assert "division_code" in text
    assert not Checkpoint.objects.exists()


def test_unknown_fields_are_refused(api_client, users, county):
    response = api_client(users.commander).post(
        f"{API}/checkpoints",
        {"name": "x", "kind": "road", "division_code": county.town_a.code, "colour": "red"},
        content_type="application/json",
    )
    assert response.status_code in (400, 422)


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("commander", 200, 200),
        ("admin", 200, 200),
        ("town_officer", 200, 200),
        ("other_town_officer", 404, 404),
        ("leader", 200, 403),
        ("epidemiologist", 200, 403),
        ("village_officer", 404, 404),
    ],
)
def test_permission_matrix(api_client, users, cp, who, read, write):
    client = api_client(getattr(users, who))
    assert client.get(f"{API}/checkpoints/{cp.pk}").status_code == read
    assert client.get(f"{API}/checkpoints/{cp.pk}/shifts").status_code == read
    patch = client.patch(
        f"{API}/checkpoints/{cp.pk}", {"location": "新址"}, content_type="application/json"
    )
    assert patch.status_code == write
    created = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts", _shift_body(), content_type="application/json"
    )
    assert created.status_code == (201 if write == 200 else write)


def test_shifts_add_list_delete(api_client, users, cp):
    client = api_client(users.commander)
    response = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts", _shift_body(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    shift_id = response.json()["id"]
    listed = client.get(f"{API}/checkpoints/{cp.pk}/shifts").json()["results"]
    assert [s["id"] for s in listed] == [shift_id]
    assert listed[0]["post"] == "党员先锋岗"
    assert (
        api_client(users.leader).delete(f"{API}/checkpoints/{cp.pk}/shifts/{shift_id}").status_code
        == 403
    )
    assert client.delete(f"{API}/checkpoints/{cp.pk}/shifts/{shift_id}").status_code == 204
    assert client.delete(f"{API}/checkpoints/{cp.pk}/shifts/{shift_id}").status_code == 404
    assert not DutyShift.objects.exists()


def test_shift_validation_messages(api_client, users, cp):
    start = timeutils.now()
    client = api_client(users.commander)
    too_long = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts",
        _shift_body(
            starts_at=start.isoformat(), ends_at=(start + dt.timedelta(hours=30)).isoformat()
        ),
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert "24小时" in too_long.content.decode()
    backwards = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts",
        _shift_body(
            starts_at=start.isoformat(), ends_at=(start - dt.timedelta(hours=1)).isoformat()
        ),
        content_type="application/json",
    )
    assert backwards.status_code == 400
    assert "晚于开始时间" in backwards.content.decode()
    phone = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts",
        _shift_body(staff_phone="1234"),
        content_type="application/json",
    )
    assert phone.status_code == 400
    assert "staff_phone" in phone.content.decode()
    assert not DutyShift.objects.exists()


def test_coverage(api_client, users, cp, county):
    add_shift(cp, timeutils.now() - dt.timedelta(hours=1), 25)
    make_checkpoint(actor=users.commander, division=county.town_b, name="汽车站")
    body = api_client(users.leader).get(f"{API}/checkpoints/coverage").json()
    by_name = {c["checkpoint"]["name"]: c for c in body}
    mine = by_name["凤州收费站出口"]
    assert mine["needs_you"] is True
    assert len(mine["gaps"]) == 1
    assert 23.5 <= mine["gaps"][0]["hours"] <= 24
    assert by_name["汽车站"]["needs_you"] is False
    assert by_name["汽车站"]["gap_hours"] == 48
    scoped = api_client(users.other_town_officer).get(f"{API}/checkpoints/coverage").json()
    assert [c["checkpoint"]["name"] for c in scoped] == ["汽车站"]


def test_patch_deactivates(api_client, users, cp):
    client = api_client(users.commander)
    response = client.patch(
        f"{API}/checkpoints/{cp.pk}", {"active": False}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert client.get(f"{API}/checkpoints/coverage").json() == []
    refused = client.post(
        f"{API}/checkpoints/{cp.pk}/shifts", _shift_body(), content_type="application/json"
    )
    assert refused.status_code == 409
