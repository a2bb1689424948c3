"""API: /policy-editions (read, in force, adjust, activate) and /regions, with the permission
matrix."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fangkong.policy.models import EditionActivation, PolicyEdition

from .factories import activate

BASE = "/api/v1"
READERS = ["commander", "leader", "grid_worker", "village_officer", "epidemiologist", "admin"]
NOT_MANAGERS = ["leader", "town_officer", "village_officer", "grid_worker", "epidemiologist"]


def _post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "url",
    [
        "/policy-editions",
        "/policy-editions/v9",
        "/policy-editions/in-force",
        "/policy-activations",
        "/regions/110105",
        "/regions/tree",
    ],
)
def test_anonymous_is_401(api_client, db, url):
    assert api_client(None).get(BASE + url).status_code == 401


@pytest.mark.parametrize("role", READERS)
def test_everyone_lists_the_editions(users, api_client, role):
    response = api_client(getattr(users, role)).get(BASE + "/policy-editions")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert [e["code"] for e in body["results"]] == ["v7", "rural-2021", "v8", "v9", "twenty", "ten"]


def test_edition_detail_has_phases_and_test_days(users, api_client):
    body = api_client(users.grid_worker).get(BASE + "/policy-editions/v9").json()
    assert body["issued_on"] == "2022-06-28"
    assert body["lookback_days"] == 2
    assert body["lookback_days_max"] == 4
    close = body["rules"][0]
    assert close["category"] == "close_contact"
    assert close["phases"] == [
        {"kind": "centralized", "kind_label": "集中隔离", "days": 7, "test_days": [1, 2, 3, 5, 7]},
        {"kind": "home_monitoring", "kind_label": "居家健康监测", "days": 3, "test_days": [3]},
    ]
    assert (
        close["summary"]
        == "集中隔离 7 天（第1、2、3、5、7天检测） + 居家健康监测 3 天（第3天检测）"
    )
    assert [r["category"] for r in body["rules"]] == [
        "close_contact",
        "secondary_contact",
        "entrant",
        "high_risk_arrival",
        "medium_risk_arrival",
        "low_risk_arrival",
        "case",
    ]
    assert body["downgrade_rules"][0] == {
        "from_level": "high",
        "to_level": "medium",
        "days": 7,
        "screening": True,
        "after_downgrade": False,
        "summary": "高风险 → 中风险：连续 7 天无新增感染，且全员核酸筛查阴性",
    }


def test_unknown_edition_is_404(users, api_client):
    response = api_client(users.commander).get(BASE + "/policy-editions/v10")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_in_force_by_date(users, api_client, county):
    client = api_client(users.leader)
    body = client.get(BASE + "/policy-editions/in-force?on=2022-07-01").json()
    assert (body["source"], body["edition"]["code"], body["effective_from"]) == (
        "national",
        "v9",
        None,
    )
    activate("v8", dt.date(2022, 6, 1), county.root)
    body = client.get(BASE + "/policy-editions/in-force?on=2022-07-01").json()
    assert (body["source"], body["edition"]["code"], body["effective_from"]) == (
        "activation",
        "v8",
        "2022-06-01",
    )
    assert client.get(BASE + "/policy-editions/in-force?on=2020-01-01").status_code == 404
    assert client.get(BASE + "/policy-editions/in-force?on=yesterday").status_code == 400
    assert client.get(BASE + "/policy-editions/in-force").json()["on"]


# --- local adjustment ------------------------------------------------------------------------------


def test_commander_adjusts_within_the_ceilings(users, api_client, county):
    response = _post(
        api_client(users.commander),
        BASE + "/policy-editions",
        {
            "base": "v9",
            "code": "v9-meixian",
            "name": "第九版（眉县）",
            "rules": {
                "close_contact": {
                    "phases": [
                        {"kind": "centralized", "days": 5, "test_days": [1, 3, 5]},
                        {"kind": "home_monitoring", "days": 3, "test_days": [3]},
                    ]
                },
                "low_risk_arrival": None,
            },
            "lookback_days": 3,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["base_code"], body["lookback_days"]) == ("local", "v9", 3)
    assert "low_risk_arrival" not in [r["category"] for r in body["rules"]]
    assert body["rules"][0]["counts_from"] == "last_exposure"


def test_adjustment_beyond_the_ceiling_is_400_naming_category_and_ceiling(
    users, api_client, county
):
    response = _post(
        api_client(users.commander),
        BASE + "/policy-editions",
        {
            "base": "v9",
            "code": "v9-strict",
            "name": "加码",
            "rules": {"low_risk_arrival": {"phases": [{"kind": "home_isolation", "days": 3}]}},
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "rules.low_risk_arrival": [
            "低风险地区来返人员：不得采取集中隔离或居家隔离（国家方案上限：落地检测 3 天）"
        ]
    }
    assert not PolicyEdition.objects.filter(kind="local").exists()


def test_adjustment_input_errors(users, api_client, county):
    client = api_client(users.commander)
    response = _post(client, BASE + "/policy-editions", {"base": "v99", "code": "x1", "name": "x"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"base": ["国家方案不存在"]}
    response = _post(
        client,
        BASE + "/policy-editions",
        {"base": "v9", "code": "x1", "name": "x", "rules": {"case": {"phases": [{"kind": "spa"}]}}},
    )
    assert response.status_code == 400
    response = _post(client, BASE + "/policy-editions", {"base": "v9", "code": "x1", "colour": 1})
    assert response.status_code == 400
    assert "colour" in response.json()["errors"]


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_only_hq_adjusts(users, api_client, county, role):
    response = _post(
        api_client(getattr(users, role)),
        BASE + "/policy-editions",
        {"base": "v9", "code": "v9-x", "name": "x"},
    )
    assert response.status_code == 403
    assert not PolicyEdition.objects.filter(kind="local").exists()


# --- activation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["commander", "admin"])
def test_hq_activates(users, api_client, county, role):
    client = api_client(getattr(users, role))
    response = _post(
        client,
        BASE + "/policy-editions/twenty/activate",
        {"effective_from": "2022-11-14", "reason": "县指挥部通知"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["edition_code"], body["effective_from"], body["activated_by"]) == (
        "twenty",
        "2022-11-14",
        getattr(users, role).username,
    )
    again = _post(client, BASE + "/policy-editions/v9/activate", {"effective_from": "2022-11-14"})
    assert again.status_code == 409
    listing = client.get(BASE + "/policy-activations").json()
    assert [a["edition_code"] for a in listing["results"]] == ["twenty"]


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_only_hq_activates(users, api_client, county, role):
    response = _post(
        api_client(getattr(users, role)),
        BASE + "/policy-editions/v9/activate",
        {"effective_from": "2022-07-01"},
    )
    assert response.status_code == 403
    assert not EditionActivation.objects.exists()


def test_activation_errors(users, api_client, county):
    client = api_client(users.commander)
    response = _post(
        client, BASE + "/policy-editions/v9/activate", {"effective_from": "2022-06-01"}
    )
    assert response.status_code == 400
    assert "effective_from" in response.json()["errors"]
    assert (
        _post(
            client, BASE + "/policy-editions/v10/activate", {"effective_from": "2022-07-01"}
        ).status_code
        == 404
    )


# --- regions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["grid_worker", "lab_staff", "leader"])
def test_region_lookup(users, api_client, role):
    client = api_client(getattr(users, role))
    assert client.get(BASE + "/regions/110105").json() == {
        "code": "110105",
        "full_name": "北京市朝阳区",
        "name": "朝阳区",
        "level": 3,
        "level_label": "县级",
        "parent_code": "1101",
    }
    assert client.get(BASE + "/regions/110000").json()["code"] == "11"
    assert client.get(BASE + "/regions/11").json()["parent_code"] is None
    town = client.get(BASE + "/regions/110105001").json()
    assert (town["code"], town["full_name"], town["level"], town["parent_code"]) == (
        "110105001",
        "北京市朝阳区",
        None,
        "110105",
    )


def test_unknown_region_is_404_with_a_message(users, api_client):
    response = api_client(users.grid_worker).get(BASE + "/regions/999999")
    assert response.status_code == 404
    assert response.json()["message"] == "未知的区划代码 999999（不在 GB/T 2260 区划代码表中）"
    assert api_client(users.grid_worker).get(BASE + "/regions/12ab").status_code == 404


def test_region_tree(users, api_client):
    tree = api_client(users.grid_worker).get(BASE + "/regions/tree").json()
    assert {"code": "11", "name": "北京市"} in tree["provinces"]
    assert {"code": "1101", "name": "市辖区"} in tree["cities"]["11"]
    assert {"code": "110105", "name": "朝阳区"} in tree["counties"]["1101"]
