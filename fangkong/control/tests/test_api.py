"""Control orders and the loop over the API: scope, roles, masking, errors in the one format."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fangkong.control.models import ControlOrder, LoopSettings, LoopStep
from fangkong.control.services import loop_escalate, order_confirm
from fangkong.core import timeutils

from .conftest import NOW
from .factories import propose

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def _post(client, path, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def _put(client, path, body):
    return client.put(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def head(users, people, v9):
    return propose(users.commander, people.head, now=NOW)


@pytest.fixture
def other(users, people, v9):
    return propose(users.commander, people.other, now=NOW)


# --- orders ----------------------------------------------------------------------------------


def test_list_orders_in_scope_and_masked(api_client, users, head, other):
    body = api_client(users.leader).get("/api/v1/control-orders").json()
    assert body["count"] == 2
    assert {r["person"]["name"] for r in body["results"]} == {"张**", "王**"}
    body = api_client(users.grid_worker).get("/api/v1/control-orders").json()
    assert [r["id"] for r in body["results"]] == [head.order.pk]
    row = body["results"][0]
    assert row["person"]["name"] == "张建国"
    assert row["status"] == "proposed"
    assert row["category"] == "high_risk_arrival"
    assert row["phases"][0]["test_days"] == [
        "2022-07-02",
        "2022-07-03",
        "2022-07-04",
        "2022-07-06",
        "2022-07-08",
    ]


def test_list_filters(api_client, users, head, other, county):
    client = api_client(users.commander)
    body = client.get("/api/v1/control-orders", {"division": county.town_b.code}).json()
    assert [r["id"] for r in body["results"]] == [other.order.pk]
    body = client.get("/api/v1/control-orders", {"status": "open"}).json()
    assert body["count"] == 2
    body = client.get("/api/v1/control-orders", {"category": "close_contact"}).json()
    assert body["count"] == 0
    response = client.get("/api/v1/control-orders", {"category": "nonsense"})
    assert response.status_code == 400
    assert "category" in response.json()["errors"]


def test_order_detail_has_history_and_tasks(api_client, users, head):
    body = api_client(users.village_officer).get(f"/api/v1/control-orders/{head.order.pk}").json()
    assert [e["verb"] for e in body["history"]] == ["propose"]
    assert body["history"][0]["data"]["found_on"] == "2022-07-02"
    assert [s["kind"] for s in body["tasks"][0]["steps"]] == ["ack", "visit", "in_place"]
    assert body["end_date"] == "2022-07-08"
    assert body["edition_code"] == "t-v9"


def test_order_out_of_scope_is_404(api_client, users, head):
    response = api_client(users.other_grid_worker).get(f"/api/v1/control-orders/{head.order.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = _post(
        api_client(users.other_grid_worker), f"/api/v1/control-orders/{head.order.pk}/confirm"
    )
    assert response.status_code == 404
    assert ControlOrder.objects.get().status == "proposed"


@pytest.mark.parametrize("role", ["leader", "epidemiologist", "lab_staff"])
def test_read_only_roles_get_403_on_actions(api_client, users, head, role):
    client = api_client(getattr(users, role))
    path = f"/api/v1/control-orders/{head.order.pk}"
    assert client.get(path).status_code == 200
    for action, body in [
        ("confirm", {}),
        ("change", {"reason": "测试", "category": "close_contact"}),
        ("cancel", {"reason": "测试"}),
        ("transfer-out", {"reason": "测试"}),
        ("release", {}),
        ("advance-phase", None),
    ]:
        response = _post(client, f"{path}/{action}", body)
        assert response.status_code == 403, action
    assert ControlOrder.objects.get().status == "proposed"


def test_confirm_with_a_change_and_its_reason(api_client, users, head):
    client = api_client(users.town_officer)
    path = f"/api/v1/control-orders/{head.order.pk}/confirm"
    response = _post(client, path, {"category": "medium_risk_arrival"})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = _post(client, path, {"category": "medium_risk_arrival", "reason": "核实为中风险"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["category"] == "medium_risk_arrival"
    assert [e["verb"] for e in body["history"]] == ["propose", "confirm"]
    response = _post(client, path, {})
    assert response.status_code == 409
    assert response.json()["code"] == "control.not_proposed"


def test_unknown_fields_are_refused(api_client, users, head):
    response = _post(
        api_client(users.commander),
        f"/api/v1/control-orders/{head.order.pk}/cancel",
        {"reason": "x", "bogus": 1},
    )
    assert response.status_code == 400
    assert "bogus" in response.json()["errors"]


def test_change_cancel_transfer(api_client, users, head, other):
    client = api_client(users.commander)
    path = f"/api/v1/control-orders/{head.order.pk}"
    response = _post(client, f"{path}/change", {"category": "close_contact"})
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = _post(
        client,
        f"{path}/change",
        {"category": "close_contact", "anchor_date": "2022-07-01", "reason": "流调确认"},
    )
    assert response.status_code == 200
    assert [p["kind"] for p in response.json()["phases"]] == ["centralized", "home_monitoring"]
    response = _post(client, f"{path}/cancel", {"reason": "登记有误"})
    assert response.json()["status"] == "cancelled"
    response = _post(
        client,
        f"/api/v1/control-orders/{other.order.pk}/transfer-out",
        {"reason": "返回原籍", "destination": "610113"},
    )
    assert response.json()["status"] == "transferred_out"


def test_release_refusal_names_the_missing_conditions(api_client, users, people, v9):
    today = timeutils.local_today()
    order = propose(
        users.commander, people.head, anchor=today - dt.timedelta(days=1), found_on=today
    ).order
    order_confirm(actor=users.commander, order=order)
    response = _post(api_client(users.grid_worker), f"/api/v1/control-orders/{order.pk}/release")
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"end_date", "test_days"}
    assert "尚不能解除" in body["message"]


def test_advance_phase(api_client, users, people, v9):
    order = propose(users.commander, people.head, now=NOW, category="close_contact").order
    order_confirm(actor=users.commander, order=order, now=NOW)
    client = api_client(users.grid_worker)
    response = _post(client, f"/api/v1/control-orders/{order.pk}/advance-phase")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["current_phase"]) == ("phase_changed", 1)
    response = _post(client, f"/api/v1/control-orders/{order.pk}/advance-phase")
    assert response.status_code == 409


# --- loop ------------------------------------------------------------------------------------


def test_inbox_and_step_completion(api_client, users, head, other):
    client = api_client(users.grid_worker)
    body = client.get("/api/v1/loop/inbox").json()
    assert [t["id"] for t in body["results"]] == [head.task.pk]
    task = body["results"][0]
    assert task["person"]["phone"] == "13912345678"
    assert task["order"]["phases"][0]["kind"] == "centralized"
    assert task["steps"][0]["overdue"] is True  # the 2022 clock is long past
    ack, visit, in_place = (s["id"] for s in task["steps"])
    response = _post(client, f"/api/v1/loop/steps/{visit}/complete", {"outcome": "verified"})
    assert response.status_code == 409
    assert response.json()["code"] == "control.step_order"
    assert _post(client, f"/api/v1/loop/steps/{ack}/complete").status_code == 200
    response = _post(client, f"/api/v1/loop/steps/{visit}/complete", {"outcome": "not_found"})
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    response = _post(client, f"/api/v1/loop/steps/{visit}/complete", {"outcome": "verified"})
    assert response.json()["steps"][1]["done"] is True
    response = _post(client, f"/api/v1/loop/steps/{in_place}/complete")
    assert response.json()["status"] == "done"
    assert ControlOrder.objects.get(pk=head.order.pk).status == "active"
    assert client.get("/api/v1/loop/inbox").json()["count"] == 0


@pytest.mark.parametrize(("role", "status"), [("other_grid_worker", 404), ("leader", 403)])
def test_step_permission(api_client, users, head, role, status):
    ack = LoopStep.objects.get(task=head.task, kind="ack")
    response = _post(api_client(getattr(users, role)), f"/api/v1/loop/steps/{ack.pk}/complete")
    assert response.status_code == status
    ack.refresh_from_db()
    assert ack.done_at is None


def test_anonymous_gets_401(api_client):
    assert api_client(None).get("/api/v1/loop/inbox").status_code == 401
    assert api_client(None).get("/api/v1/control-orders").status_code == 401


def test_overview(api_client, users, head, other, county):
    loop_escalate(now=NOW + 3 * H)
    body = api_client(users.commander).get("/api/v1/loop/overview").json()
    assert body["division_code"] == county.root.code
    rows = {r["code"]: r for r in body["rows"]}
    assert rows[county.town_a.code]["open_tasks"] == 1
    assert body["total"]["escalated_village"] == 2
    response = api_client(users.other_town_officer).get(
        "/api/v1/loop/overview", {"division": county.town_a.code}
    )
    assert response.status_code == 404


def test_settings_read_and_write(api_client, users, county):
    assert api_client(users.grid_worker).get("/api/v1/loop/settings").json()["ack_hours"] == 2
    body = {
        "ack_hours": 1,
        "visit_hours": 6,
        "in_place_hours": 12,
        "town_after_hours": 2,
        "county_after_hours": 6,
    }
    assert _put(api_client(users.grid_worker), "/api/v1/loop/settings", body).status_code == 403
    assert not LoopSettings.objects.exists()
    response = _put(api_client(users.commander), "/api/v1/loop/settings", body)
    assert response.status_code == 200
    assert response.json()["visit_hours"] == 6
    response = _put(api_client(users.commander), "/api/v1/loop/settings", {**body, "ack_hours": 24})
    assert response.status_code == 400
    assert "visit_hours" in response.json()["errors"]
    assert LoopSettings.objects.get().ack_hours == 1


def test_status_filter_knows_every_status(api_client, users, head):
    from fangkong.control.models import OrderStatus

    client = api_client(users.commander)
    for status in [*OrderStatus.values, "open"]:
        assert client.get("/api/v1/control-orders", {"status": status}).status_code == 200
    response = client.get("/api/v1/control-orders", {"status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
