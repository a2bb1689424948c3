"""The case pages: list with counts and filters, registering, the case page and its forms,
the report download, clusters and teams; scope and roles."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core.models import AuditEvent
from fangkong.core.timeutils import local_today
from fangkong.tracing import services_cases
from fangkong.tracing.models import Case, CaseEvent, Cluster, InvestigationTeam, TimelineEntry

TODAY = local_today()


def _case(actor, person, **extra):
    data = {"person_id": person.pk, "classification": "confirmed", "report_date": str(TODAY)}
    return services_cases.case_create(actor=actor, data={**data, **extra})


def test_list_shows_counts_and_filters(users, people, login):
    a = _case(users.epidemiologist, people.head)
    b = _case(users.epidemiologist, people.other, classification="asymptomatic")
    client = login(users.leader)
    response = client.get("/tracing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert a.code in html
    assert b.code in html
    assert 'data-count="total">2<' in html
    assert 'data-count="asymptomatic">1<' in html
    html = client.get("/tracing/", {"classification": "asymptomatic"}).content.decode()
    assert b.code in html
    assert a.code not in html
    assert people.head.name not in client.get("/tracing/").content.decode()  # leader: surname only
    assert "流调" in html  # the nav entry


def test_roles_without_tracing_get_403(users, login):
    for user in (users.grid_worker, users.town_officer, users.lab_staff):
        assert login(user).get("/tracing/").status_code == 403
    assert login(users.leader).get("/tracing/cases/new/").status_code == 403


def test_register_case_page(users, people, login):
    client = login(users.epidemiologist)
    assert client.get("/tracing/cases/new/").status_code == 200
    response = client.post(
        "/tracing/cases/new/",
        {
            "name": people.other.name,
            "id_type": "resident_id",
            "id_number": people.other.id_number,
            "classification": "confirmed",
            "source": "local",
            "report_date": str(TODAY - dt.timedelta(days=1)),
            "onset_date": str(TODAY),
        },
    )
    assert response.status_code == 200
    assert "发病日期不能晚于报告日期" in response.content.decode()
    assert not Case.objects.exists()
    response = client.post(
        "/tracing/cases/new/",
        {
            "name": people.other.name,
            "id_type": "resident_id",
            "id_number": people.other.id_number,
            "classification": "confirmed",
            "source": "local",
            "report_date": str(TODAY),
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tracing/cases/{case.pk}/"


def test_case_page_forms(users, people, login):
    case = _case(users.epidemiologist, people.head, classification="suspected")
    client = login(users.epidemiologist)
    html = client.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert case.code in html
    assert f'hx-get="/tracing/contacts/case/{case.pk}/"' in html
    response = client.post(
        f"/tracing/cases/{case.pk}/reclassify/", {"classification": "confirmed", "reason": ""}
    )
    assert response.status_code == 400
    assert "请填写订正分类的原因" in response.content.decode()
    client.post(
        f"/tracing/cases/{case.pk}/reclassify/",
        {"classification": "confirmed", "reason": "核酸阳性"},
    )
    case.refresh_from_db()
    assert case.classification == "confirmed"
    assert CaseEvent.objects.filter(case=case, verb="reclassified").count() == 1

    starts = timezone.localtime(timezone.now() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/tracing/cases/{case.pk}/timeline/",
        {"starts_at": starts, "location": "县医院发热门诊", "activity": "就诊"},
    )
    entry = TimelineEntry.objects.get()
    assert "县医院发热门诊" in client.get(f"/tracing/cases/{case.pk}/").content.decode()
    client.post(f"/tracing/cases/{case.pk}/timeline/{entry.pk}/remove/")
    assert not TimelineEntry.objects.exists()

    client.post(f"/tracing/cases/{case.pk}/conclude/", {"conclusions": "家庭聚集", "close": "on"})
    case.investigation.refresh_from_db()
    assert case.investigation.status == "closed"

    leader_html = login(users.leader).get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "家庭聚集" in leader_html
    assert f"/tracing/cases/{case.pk}/reclassify/" not in leader_html
    assert (
        login(users.leader)
        .post(
            f"/tracing/cases/{case.pk}/reclassify/", {"classification": "suspected", "reason": "x"}
        )
        .status_code
        == 403
    )


def test_report_download_is_audited(users, people, login):
    case = _case(users.epidemiologist, people.head)
    response = login(users.leader).get(f"/tracing/cases/{case.pk}/report.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".docx" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(verb="tracing.report.export").count() == 1


def test_missing_case_is_404(users, login):
    assert login(users.epidemiologist).get("/tracing/cases/999/").status_code == 404


def test_clusters_and_teams_pages(users, people, login):
    client = login(users.epidemiologist)
    response = client.post("/tracing/clusters/", {"name": "", "kind": "wedding"})
    assert "请填写聚集性疫情名称" in response.content.decode()
    response = client.post("/tracing/clusters/", {"name": "某村婚宴", "kind": "wedding"})
    cluster = Cluster.objects.get()
    assert response["Location"] == f"/tracing/clusters/{cluster.pk}/"
    case = _case(users.epidemiologist, people.head)
    client.post(f"/tracing/cases/{case.pk}/cluster/", {"cluster": str(cluster.pk)})
    html = client.get(f"/tracing/clusters/{cluster.pk}/").content.decode()
    assert case.code in html
    assert f"/tracing/chains/?cluster={cluster.pk}" in html

    client.post(
        "/tracing/teams/",
        {"name": "第一组", "leader_id": str(users.epidemiologist.pk)},
    )
    team = InvestigationTeam.objects.get()
    assert "第一组" in client.get("/tracing/teams/").content.decode()
    client.post(
        f"/tracing/cases/{case.pk}/assign/",
        {"team": str(team.pk), "investigator": str(users.epidemiologist.pk)},
    )
    case.investigation.refresh_from_db()
    assert case.investigation.team_id == team.pk
