"""Divisions over the API: filters, create, the escalation chain, coverage; and /me."""

from __future__ import annotations

import json

from fangkong.accounts.services import responsibility_assign
from fangkong.core.models import AuditEvent
from fangkong.geo.models import Division


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()
    return [row["code"] for row in response.json()["results"]]


def test_divisions_filter_by_parent_level_and_subtree(world, client_for):
    client = client_for("commander")
    county = world.county
    assert _codes(client.get("/api/v1/divisions", {"parent": county.village_a.code})) == [
        county.grid_a.code,
        county.grid_a2.code,
    ]
    assert _codes(client.get("/api/v1/divisions", {"level": 1})) == [
        county.town_b.code,
        county.town_a.code,
    ]
    assert _codes(client.get("/api/v1/divisions", {"level": 0})) == [county.root.code]
    assert _codes(client.get("/api/v1/divisions", {"within": county.town_b.code})) == [
        county.town_b.code,
        county.village_b.code,
        county.grid_b.code,
    ]


def test_division_rows_describe_level_kind_and_parent(world, client_for):
    body = client_for("town_officer").get("/api/v1/divisions", {"level": 2}).json()
    assert body["results"] == [
        {
            "code": "610326107201",
            "name": "齐镇村",
            "level": 2,
            "level_label": "村/社区（中网格）",
            "parent_code": "610326107",
            "kind": "rural",
            "kind_label": "乡村",
            "full_name": "眉县/齐镇/齐镇村",
        }
    ]


def test_grid_worker_sees_only_their_grid(world, client_for):
    assert _codes(client_for("grid_worker").get("/api/v1/divisions")) == [world.county.grid_a.code]
    response = client_for("grid_worker").get(f"/api/v1/divisions/{world.county.village_a.code}")
    assert response.status_code == 404


def test_commander_creates_a_small_grid(world, client_for):
    client = client_for("commander")
    response = client.post(
        "/api/v1/divisions",
        data=json.dumps({"code": "610326107201003", "name": "三组", "parent_code": "610326107201"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content.decode()
    assert response.json()["level"] == 3
    division = Division.objects.get(code="610326107201003")
    assert (division.parent_id, division.level, division.full_name) == (
        "610326107201",
        3,
        "眉县/齐镇/齐镇村/三组",
    )
    assert AuditEvent.objects.filter(
        verb="geo.division.create", target_id="610326107201003", actor=world.users.commander
    ).exists()


def test_create_division_names_the_bad_fields(world, client_for):
    client = client_for("commander")
    response = client.post(
        "/api/v1/divisions",
        data=json.dumps({"code": "6103261072x", "name": "", "parent_code": "610399", "kind": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["kind"]  # the schema rejects the enum first
    response = client.post(
        "/api/v1/divisions",
        data=json.dumps({"code": "6103261072x", "name": "", "parent_code": "610399"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"code", "name", "parent_code"}
    assert not Division.objects.filter(code__startswith="6103261072x").exists()


def test_duplicate_division_code_is_named(world, client_for):
    response = client_for("commander").post(
        "/api/v1/divisions",
        data=json.dumps(
            {"code": world.county.grid_a.code, "name": "一组", "parent_code": "610326107201"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_division_detail_shows_the_escalation_chain_with_masked_phones(world, client_for):
    responsibility_assign(
        actor=None,
        division_code=world.county.town_a.code,
        tier="county_leader",
        name="刘副县长",
        title="副县长",
        phone="13311112222",
    )
    responsibility_assign(
        actor=None,
        division_code=world.county.village_a.code,
        tier="town_leader",
        name="陈镇长",
        title="镇长",
        phone="13333334444",
    )
    body = client_for("grid_worker").get(f"/api/v1/divisions/{world.county.grid_a.code}").json()
    assert body["code"] == world.county.grid_a.code
    assert [a["code"] for a in body["ancestors"]] == ["610326", "610326107", "610326107201"]
    chain = [(link["tier"], link["name"], link["phone"]) for link in body["escalation_chain"]]
    assert chain == [
        ("grid_worker", "网格员甲", "138****0001"),
        ("town_leader", "陈镇长", "133****4444"),
        ("county_leader", "刘副县长", "133****2222"),
    ]
    assert body["escalation_chain"][2]["title"] == "副县长"
    assert "13311112222" not in json.dumps(body)


def test_coverage_reports_totals_rows_and_blind_spots(world, client_for):
    body = (
        client_for("town_officer")
        .get(f"/api/v1/divisions/{world.county.village_a.code}/coverage")
        .json()
    )
    assert body["division"]["code"] == world.county.village_a.code
    total = body["total"]
    assert (total["households"], total["people"], total["small_grids"], total["grid_workers"]) == (
        1,
        3,
        2,
        1,
    )
    assert total["grids_without_worker"] == 1
    assert total["has_blind_spots"] is True
    rows = {row["code"]: row for row in body["rows"]}
    assert rows[world.county.grid_a.code]["people"] == 3
    assert rows[world.county.grid_a.code]["households_per_worker"] == 1.0
    assert rows[world.county.grid_a2.code]["grid_workers"] == 0
    assert body["grids_without_worker"] == [{"code": world.county.grid_a2.code, "name": "二组"}]
    assert body["overloaded_workers"] == []
    assert body["max_households"] > 0


def test_coverage_flags_an_overloaded_worker(world, client_for, settings):
    settings.FANGKONG = {**settings.FANGKONG, "GRID_WORKER_MAX_HOUSEHOLDS": 0}
    body = (
        client_for("commander").get(f"/api/v1/divisions/{world.county.root.code}/coverage").json()
    )
    assert [w["name"] for w in body["overloaded_workers"]] == ["网格员甲"]
    assert body["overloaded_workers"][0]["grids"] == [world.county.grid_a.code]


def test_me_describes_role_jurisdiction_and_scope(world, client_for):
    body = client_for("grid_worker").get("/api/v1/me").json()
    assert body["username"] == "gw_a"
    assert (body["role"], body["role_label"]) == ("grid_worker", "网格员")
    assert body["jurisdiction_code"] == world.county.grid_a.code
    assert body["scope_codes"] == [world.county.grid_a.code]
    assert body["permissions"]["can_reveal"] is True
    leader = client_for("leader").get("/api/v1/me").json()
    assert leader["role_label"] == "县领导（只读）"
    assert leader["permissions"] == {
        "can_reveal": False,
        "can_edit_people": False,
        "can_edit_divisions": False,
        "can_view_audit": False,
    }


def test_me_for_a_county_wide_administrator_has_no_scope_limit(world, users, api_client):
    body = api_client(users.superuser).get("/api/v1/me").json()
    assert body["scope_codes"] is None
    assert body["jurisdiction_code"] is None
