"""API of cases, clusters, timelines and the report: shapes, field errors, masking, scope."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from fangkong.core.models import AuditEvent
from fangkong.core.timeutils import local_today
from fangkong.tracing.models import Case

TODAY = local_today()


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_list_get_patch_reclassify(users, people, api_client):
    epi = api_client(users.epidemiologist)
    response = _post(
        epi,
        "/api/v1/cases",
        {"person_id": people.head.pk, "classification": "suspected", "report_date": str(TODAY)},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == f"眉病〔{TODAY.year}〕1号"
    assert body["investigation_status"] == "open"
    case_id = body["id"]

    bad = _post(
        epi,
        "/api/v1/cases",
        {
            "person_id": people.other.pk,
            "classification": "confirmed",
            "report_date": str(TODAY - dt.timedelta(days=1)),
            "onset_date": str(TODAY),
        },
    )
    assert bad.status_code == 400
    assert "onset_date" in bad.json()["errors"]
    again = _post(
        epi,
        "/api/v1/cases",
        {"person_id": people.head.pk, "classification": "confirmed", "report_date": str(TODAY)},
    )
    assert again.status_code == 409

    listing = api_client(users.leader).get("/api/v1/cases", {"classification": "suspected"})
    assert listing.status_code == 200
    results = listing.json()["results"]
    assert [r["id"] for r in results] == [case_id]
    assert results[0]["person"]["name"] != people.head.name  # leader: masked
    assert results[0]["person"]["id_number"] != people.head.id_number

    patched = epi.patch(
        f"/api/v1/cases/{case_id}",
        json.dumps({"treated_at": "县医院", "outcome": "treating"}),
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert patched.json()["treated_at"] == "县医院"

    no_reason = _post(
        epi, f"/api/v1/cases/{case_id}/reclassify", {"classification": "confirmed", "reason": ""}
    )
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    done = _post(
        epi,
        f"/api/v1/cases/{case_id}/reclassify",
        {"classification": "confirmed", "reason": "核酸阳性"},
    )
    assert done.json()["classification"] == "confirmed"


def test_roles_and_scope(users, people, api_client):
    body = {"person_id": people.head.pk, "classification": "confirmed", "report_date": str(TODAY)}
    assert _post(api_client(users.leader), "/api/v1/cases", body).status_code == 403
    assert api_client(users.grid_worker).get("/api/v1/cases").status_code == 403
    assert api_client(None).get("/api/v1/cases").status_code == 401
    assert api_client(users.epidemiologist).get("/api/v1/cases/999").status_code == 404


def test_clusters_timeline_and_report(users, people, api_client):
    epi = api_client(users.epidemiologist)
    cluster = _post(epi, "/api/v1/clusters", {"name": "某厂聚集", "kind": "workplace"})
    assert cluster.status_code == 201
    cluster_id = cluster.json()["id"]
    assert _post(epi, "/api/v1/clusters", {"name": ""}).status_code == 400
    case_id = _post(
        epi,
        "/api/v1/cases",
        {
            "person_id": people.head.pk,
            "classification": "confirmed",
            "report_date": str(TODAY),
            "cluster_id": cluster_id,
        },
    ).json()["id"]
    assert epi.get(f"/api/v1/clusters/{cluster_id}").json()["case_count"] == 1
    assert [c["id"] for c in epi.get("/api/v1/clusters").json()["results"]] == [cluster_id]
    assert epi.get("/api/v1/cases", {"cluster": cluster_id}).json()["count"] == 1

    starts = (timezone.now() - dt.timedelta(hours=4)).isoformat()
    added = _post(
        epi, f"/api/v1/cases/{case_id}/timeline", {"starts_at": starts, "location": "工厂车间"}
    )
    assert added.status_code == 201
    assert added.json()["source"] == "reported"
    assert _post(epi, f"/api/v1/cases/{case_id}/timeline", {"location": "x"}).status_code == 400
    timeline = epi.get(f"/api/v1/cases/{case_id}/timeline").json()
    assert [e["location"] for e in timeline] == ["工厂车间"]

    report = api_client(users.leader).get(f"/api/v1/cases/{case_id}/report.docx")
    assert report.status_code == 200
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(
        verb="tracing.report.export", target_id=str(Case.objects.get().pk)
    ).exists()
