"""Pages and API of the test schedules: lists, entering results, release, PDFs, verification."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from fangkong.core.models import AuditEvent
from fangkong.people.presenters import person_display
from fangkong.quarantine import certificates
from fangkong.quarantine.models import Certificate, SamplingTask
from fangkong.quarantine.services_tests import order_release_certify, tasks_sync

from .helpers_tests import at, check_in, make_order, make_site, resolve_all, site_staff

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def released(users, people):
    order = make_order(people.head)
    tasks_sync(now=at(dt.date(2022, 7, 2)))
    resolve_all(order)
    return order_release_certify(
        actor=users.grid_worker, order=order, now=at(dt.date(2022, 7, 11), 10)
    )


def _today_order(person, **kw):
    """An order whose first test day is today (real clock: the pages use it)."""
    return make_order(person, anchor=TODAY() - dt.timedelta(days=1), **kw)


def test_list_shows_todays_tasks_in_scope_and_records_a_result(login, users, people):
    _today_order(people.head)
    _today_order(people.other)
    tasks_sync()
    page = login(users.grid_worker).get("/quarantine/tests/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "张**" in text or "张建国" in text
    assert "王小明" not in text
    assert "王**" not in text
    task = SamplingTask.objects.get(person=people.head, due_date=TODAY())
    client = login(users.grid_worker)
    assert (
        client.post(f"/quarantine/tests/{task.pk}/sampled/", {"tube_code": "A1"}).status_code == 302
    )
    bad = client.post(f"/quarantine/tests/{task.pk}/result/", {"result": ""})
    assert bad.status_code == 400
    assert "请选择检测结果" in bad.content.decode()
    ok = client.post(f"/quarantine/tests/{task.pk}/result/", {"result": "negative", "ct_N": "38"})
    assert ok.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.result, task.ct_values) == ("resulted", "negative", {"N": 38.0})
    other = SamplingTask.objects.filter(person=people.other).first()
    assert client.post(f"/quarantine/tests/{other.pk}/sampled/").status_code == 404


def test_site_staff_see_their_sites_tasks(county, login, people):
    site = make_site(county)
    order = _today_order(people.head)
    check_in(order, site)
    _today_order(people.spouse)
    tasks_sync()
    text = login(site_staff(site)).get("/quarantine/tests/").content.decode()
    assert site.name in text
    assert text.count('data-task="') == 1


def test_release_page_shows_missing_then_issues_certificate(login, users, people):
    order = make_order(people.head)
    tasks_sync(now=at(dt.date(2022, 7, 2)))
    client = login(users.grid_worker)
    page = client.get(f"/quarantine/tests/orders/{order.pk}/release/")
    assert "检测结果未出" in page.content.decode()
    refused = client.post(f"/quarantine/tests/orders/{order.pk}/release/", {"reason": ""})
    assert refused.status_code == 400
    assert "检测结果未出" in refused.content.decode()
    assert not Certificate.objects.exists()
    resolve_all(order)
    done = client.post(f"/quarantine/tests/orders/{order.pk}/release/", {"reason": ""})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "眉解隔〔" in page
    assert "下载证明" in page


def _pdf_text(content: bytes) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:
        return ""
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages)


def test_certificate_pdf_is_a_pdf_and_audited(login, users, people, released):
    response = login(users.grid_worker).get(f"/quarantine/tests/certificates/{released.pk}.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    if text:
        assert released.number in text
    # What the PDF is made from: the number, the masked ID, the verification link.
    html = certificates.certificate_html(
        certificate=released,
        person=person_display(viewer=users.grid_worker, person=people.head),
        url=f"https://fk.example/q/{released.verify_code}/",
    )
    assert released.number in html
    assert people.head.id_number not in html
    assert people.head.id_number[:6] + "**********" in html
    assert AuditEvent.objects.filter(verb="quarantine.certificate.download").count() == 1
    other = login(users.other_grid_worker)
    assert other.get(f"/quarantine/tests/certificates/{released.pk}.pdf").status_code == 404


def test_notice_pdf(login, users, people):
    order = make_order(people.head)
    response = login(users.grid_worker).get(f"/quarantine/tests/orders/{order.pk}/notice.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(verb="quarantine.notice.download").exists()


def test_public_verification_shows_dates_but_no_name(client, people, released):
    page = client.get(f"/q/{released.verify_code}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "证明真实有效" in text
    assert released.number in text
    start = released.start_date.isoformat()
    assert start in text
    assert "2022-07-11" in text
    assert people.head.name not in text
    assert people.head.name[0] + "*" not in text
    assert people.head.id_number[:6] + "*" not in text
    assert people.head.id_number not in text
    missing = client.get("/q/nope-nope/")
    assert missing.status_code == 404
    assert "未找到该证明" in missing.content.decode()
    api = client.get(f"/api/v1/certificates/verify/{released.verify_code}")
    assert api.status_code == 200
    assert api.json() == {
        "valid": True,
        "number": released.number,
        "start_date": start,
        "end_date": "2022-07-11",
    }
    assert client.get("/api/v1/certificates/verify/nope").status_code == 404


def test_api_tasks_result_and_release(api_client, users, people):
    order = _today_order(people.head, code="v8")
    tasks_sync()
    client = api_client(users.grid_worker)
    listed = client.get(f"/api/v1/sampling-tasks?date={TODAY().isoformat()}")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["order_id"] == order.pk
    assert row["status"] == "pending"
    sampled = client.post(
        f"/api/v1/sampling-tasks/{row['id']}/sampled",
        json.dumps({"tube_code": "T9"}),
        content_type="application/json",
    )
    assert sampled.json()["status"] == "sampled"
    bad = client.post(
        f"/api/v1/sampling-tasks/{row['id']}/result",
        json.dumps({"result": "negative", "ct_values": {"N": 99}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "ct_values" in bad.json()["errors"]
    good = client.post(
        f"/api/v1/sampling-tasks/{row['id']}/result",
        json.dumps({"result": "negative", "ct_values": {"N": 36}}),
        content_type="application/json",
    )
    assert good.status_code == 200
    assert good.json()["result"] == "negative"
    refused = client.post(
        f"/api/v1/control-orders/{order.pk}/release-certify",
        json.dumps({}),
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert {"end_date", "test_days"} <= set(refused.json()["errors"])
    leader_rows = api_client(users.leader).get("/api/v1/sampling-tasks?status=resulted").json()
    assert [(r["id"], r["result"], r["tube_code"]) for r in leader_rows] == [
        (row["id"], "negative", "T9")
    ]
    assert api_client(users.other_grid_worker).get("/api/v1/sampling-tasks").json() == []


def test_api_certificate_detail_and_pdf(api_client, users, released):
    client = api_client(users.grid_worker)
    detail = client.get(f"/api/v1/certificates/{released.pk}")
    assert detail.status_code == 200
    assert detail.json()["number"] == released.number
    assert detail.json()["verify_url"].endswith(f"/q/{released.verify_code}/")
    pdf = client.get(f"/api/v1/certificates/{released.pk}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert (
        api_client(users.other_grid_worker).get(f"/api/v1/certificates/{released.pk}").status_code
        == 404
    )
