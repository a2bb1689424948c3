"""API of investigations (assign a team and an investigator, conclude), teams, and moving a case
into a cluster: what the case page does, from a script."""

from __future__ import annotations

import json

from fangkong.core.timeutils import local_today
from fangkong.tracing.models import Case, Investigation

TODAY = local_today()


def _send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _case(client, person) -> int:
    answer = _send(
        client,
        "post",
        "/api/v1/cases",
        {"person_id": person.pk, "classification": "confirmed", "report_date": str(TODAY)},
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_a_team_is_made_and_the_investigation_assigned_then_concluded(users, people, api_client):
    epi = api_client(users.epidemiologist)
    case_id = _case(epi, people.head)
    team = _send(
        epi,
        "post",
        "/api/v1/teams",
        {"name": "第一流调组", "leader_id": users.epidemiologist.pk, "member_ids": []},
    )
    assert team.status_code == 201, team.content
    team_id = team.json()["id"]
    assert [t["name"] for t in epi.get("/api/v1/teams").json()["results"]] == ["第一流调组"]

    url = f"/api/v1/cases/{case_id}/investigation"
    assigned = _send(
        epi, "post", url, {"team_id": team_id, "investigator_id": users.epidemiologist.pk}
    )
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["team_name"] == "第一流调组"
    assert assigned.json()["status"] == "open"

    empty = _send(epi, "post", url, {"conclusions": "  "})
    assert empty.status_code == 400
    assert "conclusions" in empty.json()["errors"]

    done = _send(epi, "post", url, {"conclusions": "家庭聚集，传染源为外地返乡亲属。"})
    assert done.json()["status"] == "closed"
    assert Investigation.objects.get(case_id=case_id).closed_at is not None
    assert epi.get(url).json()["conclusions"].startswith("家庭聚集")


def test_an_unknown_team_or_a_non_investigator_is_refused(users, people, api_client):
    epi = api_client(users.epidemiologist)
    case_id = _case(epi, people.head)
    url = f"/api/v1/cases/{case_id}/investigation"
    assert "team_id" in _send(epi, "post", url, {"team_id": 999}).json()["errors"]
    answer = _send(epi, "post", url, {"investigator_id": users.grid_worker.pk})
    assert answer.status_code == 400
    assert "investigator" in answer.json()["errors"]


def test_a_leader_reads_but_may_not_assign(users, people, api_client):
    case_id = _case(api_client(users.epidemiologist), people.head)
    leader = api_client(users.leader)
    url = f"/api/v1/cases/{case_id}/investigation"
    assert leader.get(url).status_code == 200
    assert _send(leader, "post", url, {"conclusions": "x"}).status_code == 403
    assert api_client(users.grid_worker).get(url).status_code in (403, 404)


def test_a_case_is_put_into_a_cluster_and_taken_out(users, people, api_client):
    epi = api_client(users.epidemiologist)
    case_id = _case(epi, people.head)
    cluster = _send(epi, "post", "/api/v1/clusters", {"name": "齐镇婚宴", "kind": "wedding"})
    cluster_id = cluster.json()["id"]
    put = _send(epi, "put", f"/api/v1/cases/{case_id}/cluster", {"cluster_id": cluster_id})
    assert put.status_code == 200, put.content
    assert Case.objects.get(pk=case_id).cluster_id == cluster_id
    renamed = _send(epi, "patch", f"/api/v1/clusters/{cluster_id}", {"name": "齐镇某村婚宴"})
    assert renamed.json()["name"] == "齐镇某村婚宴"
    assert renamed.json()["case_count"] == 1
    _send(epi, "put", f"/api/v1/cases/{case_id}/cluster", {"cluster_id": None})
    assert Case.objects.get(pk=case_id).cluster_id is None


def test_a_cluster_in_a_division_outside_the_scope_is_refused_like_a_missing_one(
    county, users, api_client
):
    officer = api_client(users.town_officer)  # not a tracing writer: refused before anything
    assert _send(officer, "post", "/api/v1/clusters", {"name": "x"}).status_code == 403
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role

    epi_b = User.objects.create(
        username="epi_b", role=Role.EPIDEMIOLOGIST, jurisdiction=county.town_b
    )
    answer = _send(
        api_client(epi_b),
        "post",
        "/api/v1/clusters",
        {"name": "甲镇聚集", "division_code": county.town_a.code},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["division_code"] == ["区划不存在"]
