"""The pages and the API of health checks: the public personal link, the grid worker's home
list, door visits with photos, alerts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core import timeutils
from fangkong.core.models import AuditEvent
from fangkong.quarantine import services_health as svc
from fangkong.quarantine.models import Alert, DoorVisit, HealthCheck

from .test_health_support import live_orders_fixture  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
GIF = b"GIF89a" + b"\0" * 64


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.FANGKONG = {**settings.FANGKONG, "SELF_REPORT_RATE": "1000/600"}


def test_public_link_shows_status_takes_a_check_and_nothing_personal(
    client, users, live_orders, people
):
    link = svc.health_link_create(actor=users.grid_worker, order=live_orders.head)
    url = reverse("quarantine_self:page", args=[link.token])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "未报告" in html
    for secret in (people.head.name, people.head.id_number, people.head.phone, "张"):
        assert secret not in html
    answer = client.post(url, {"temperature": "36.6", "symptoms": ["cough"]})
    assert answer.status_code == 200
    assert "已提交" in answer.content.decode()
    check = HealthCheck.objects.get(order=live_orders.head)
    assert check.source == HealthCheck.Source.SELF
    assert check.abnormal
    assert Alert.objects.get().kind == Alert.Kind.SYMPTOM
    again = client.post(url, {"temperature": "36.6"})
    assert again.status_code == 409  # the slot is done: said so, nothing new
    assert "已经报告过" in again.content.decode()
    assert HealthCheck.objects.count() == 1


@pytest.mark.parametrize(("due", "slot"), [(0, "pm"), (24, "am")])
def test_public_link_reports_for_the_slot_of_the_county_due_hours(
    client, users, live_orders, due, slot
):
    """The morning lasts until the county's morning due hour (0: none; 24: the whole day)."""
    from fangkong.quarantine.models import QuarantineSettings

    QuarantineSettings.objects.create(morning_due_hour=due)
    link = svc.health_link_create(actor=users.grid_worker, order=live_orders.head)
    client.post(reverse("quarantine_self:page", args=[link.token]), {"temperature": "36.5"})
    assert HealthCheck.objects.get(order=live_orders.head).slot == slot


def test_public_link_bad_temperature_is_named(client, users, live_orders):
    link = svc.health_link_create(actor=users.grid_worker, order=live_orders.head)
    answer = client.post(reverse("quarantine_self:page", args=[link.token]), {"temperature": "30"})
    assert answer.status_code == 400
    assert "体温须在" in answer.content.decode()
    assert not HealthCheck.objects.exists()


def test_revoked_unknown_or_closed_links_answer_the_same_page(client, users, live_orders):
    link = svc.health_link_create(actor=users.grid_worker, order=live_orders.head)
    url = reverse("quarantine_self:page", args=[link.token])
    svc.health_link_revoke(actor=users.grid_worker, order=live_orders.head)
    for target in (url, reverse("quarantine_self:page", args=["x" * 43])):
        answer = client.get(target)
        assert answer.status_code == 404
        assert "链接无效或已失效" in answer.content.decode()
    link = svc.health_link_create(actor=users.grid_worker, order=live_orders.head)
    live_orders.head.status = "released"
    live_orders.head.save()
    answer = client.get(reverse("quarantine_self:page", args=[link.token]))
    assert answer.status_code == 404


def test_public_link_is_rate_limited(client, users, live_orders, settings):
    settings.FANGKONG = {**settings.FANGKONG, "SELF_REPORT_RATE": "2/600"}
    url = reverse("quarantine_self:page", args=["nothing"])
    assert client.post(url, {"temperature": "36"}).status_code == 404
    assert client.post(url, {"temperature": "36"}).status_code == 404
    assert client.post(url, {"temperature": "36"}).status_code == 429


def test_home_list_for_the_grid_worker_and_nobody_else(login, users, live_orders, people):
    page = login(users.grid_worker).get(reverse("quarantine_health:home"))
    html = page.content.decode()
    assert page.status_code == 200
    assert people.head.name in html
    assert "未报" in html
    assert people.other.name not in html
    login(users.grid_worker).post(
        reverse("quarantine_health:check", args=[live_orders.head.pk]),
        {"slot": "am", "temperature": "36.7"},
    )
    assert (
        "36.7" in login(users.grid_worker).get(reverse("quarantine_health:home")).content.decode()
    )
    other = login(users.other_grid_worker).get(reverse("quarantine_health:home")).content.decode()
    assert people.head.name not in other
    answer = login(users.other_grid_worker).post(
        reverse("quarantine_health:check", args=[live_orders.head.pk]),
        {"slot": "pm", "temperature": "36.7"},
    )
    assert answer.status_code == 404
    assert (
        login(users.other_grid_worker)
        .get(reverse("quarantine_health:link", args=[live_orders.head.pk]))
        .status_code
        == 404
    )


def test_home_list_api_and_link_api(api_client, users, live_orders, people):
    rows = api_client(users.grid_worker).get("/api/v1/quarantine/home-list").json()
    assert [r["order_id"] for r in rows] == [live_orders.head.pk]
    assert rows[0]["name"] == people.head.name
    assert rows[0]["am"] is None
    assert (
        api_client(users.other_grid_worker)
        .post(f"/api/v1/control-orders/{live_orders.head.pk}/health-link")
        .status_code
        == 404
    )
    made = api_client(users.grid_worker).post(
        f"/api/v1/control-orders/{live_orders.head.pk}/health-link"
    )
    assert made.status_code == 201
    assert "/h/" in made.json()["url"]
    gone = api_client(users.grid_worker).delete(
        f"/api/v1/control-orders/{live_orders.head.pk}/health-link"
    )
    assert gone.status_code == 204


def test_health_check_api_single_duplicate_and_batch(api_client, users, live_orders):
    client = api_client(users.grid_worker)
    body = {"order_id": live_orders.head.pk, "slot": "am", "temperature": "38.5"}
    first = client.post("/api/v1/health-checks", body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["abnormal"] is True
    second = client.post("/api/v1/health-checks", body, content_type="application/json")
    assert second.status_code == 409
    assert "重复" in second.json()["message"]
    bad = client.post(
        "/api/v1/health-checks",
        {**body, "slot": "pm", "temperature": "99"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "temperature" in bad.json()["errors"]
    batch = client.post(
        "/api/v1/health-checks",
        {
            "items": [
                {**body, "slot": "pm", "temperature": "36.5", "day": ""},
                {**body, "slot": "am", "day": timeutils.local_today().isoformat()},
                {"order_id": live_orders.other.pk, "slot": "am", "temperature": "36"},
            ]
        },
        content_type="application/json",
    )
    assert batch.status_code == 200
    data = batch.json()
    assert data["duplicates"] == 1
    assert set(data["errors"]) == {"0", "2"}
    listed = client.get(f"/api/v1/health-checks?order_id={live_orders.head.pk}").json()
    assert len(listed) == 1
    alerts = api_client(users.commander).get("/api/v1/quarantine/alerts").json()
    assert alerts[0]["kind"] == "fever"
    assert alerts[0]["handed_over_at"]
    resolve = client.post(
        f"/api/v1/quarantine/alerts/{alerts[0]['id']}/resolve",
        {"resolution": ""},
        content_type="application/json",
    )
    assert resolve.status_code == 400
    resolve = client.post(
        f"/api/v1/quarantine/alerts/{alerts[0]['id']}/resolve",
        {"resolution": "已转发热门诊"},
        content_type="application/json",
    )
    assert resolve.status_code == 200
    assert resolve.json()["resolved_at"]
    assert api_client(users.commander).get("/api/v1/quarantine/alerts").json() == []


def test_door_visit_photo_checks_and_scoped_photo_view(api_client, login, users, live_orders):
    client = api_client(users.grid_worker)
    url = "/api/v1/door-visits"
    gif = client.post(
        url,
        {"order_id": live_orders.head.pk, "outcome": "seal_intact", "photo": io.BytesIO(GIF)},
    )
    assert gif.status_code == 400
    assert "photo" in gif.json()["errors"]
    big = SimpleUploadedFile("a.png", PNG + b"\0" * (5 * 1024 * 1024), content_type="image/png")
    answer = client.post(url, {"order_id": live_orders.head.pk, "outcome": "present", "photo": big})
    assert answer.status_code == 400
    assert "photo" in answer.json()["errors"]
    assert not DoorVisit.objects.exists()
    ok = client.post(
        url,
        {
            "order_id": live_orders.head.pk,
            "outcome": "seal_intact",
            "photo": SimpleUploadedFile("门.png", PNG, content_type="image/png"),
        },
    )
    assert ok.status_code == 201
    assert ok.json()["has_photo"]
    visit = DoorVisit.objects.get()
    assert "门" not in visit.photo.name
    assert (
        api_client(users.other_grid_worker)
        .post(url, {"order_id": live_orders.head.pk, "outcome": "present"})
        .status_code
        == 404
    )
    photo_url = reverse("quarantine_health:visit_photo", args=[visit.pk])
    assert login(users.other_grid_worker).get(photo_url).status_code == 404
    shown = login(users.grid_worker).get(photo_url)
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(verb="door_visit.photo_view").count() == 1
    rows = api_client(users.grid_worker).get("/api/v1/quarantine/home-list").json()
    assert rows[0]["last_visit"]


def test_alert_page_lists_and_resolves(login, users, live_orders, people):
    svc.health_check_record(
        actor=users.grid_worker,
        order=live_orders.head,
        day=live_orders.head.start_date,
        slot="am",
        temperature="39.0",
        symptoms=[],
    )
    page = login(users.commander).get(reverse("quarantine_health:alerts"))
    assert "已转发热门诊" in page.content.decode()
    assert (
        login(users.other_grid_worker)
        .get(reverse("quarantine_health:alerts"))
        .content.decode()
        .count("alert-row")
        == 0
    )
    alert = Alert.objects.get()
    login(users.grid_worker).post(
        reverse("quarantine_health:alert_resolve", args=[alert.pk]), {"resolution": "已就诊"}
    )
    alert.refresh_from_db()
    assert alert.resolution == "已就诊"


def test_home_list_queries_do_not_grow_with_people(users, county, live_orders):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.control.tests.factories import many_people
    from fangkong.quarantine import selectors_health as sel

    from .test_health_support import make_order

    today = timeutils.local_today()
    users.grid_worker.scope_codes()
    with CaptureQueriesContext(connection) as few:
        assert len(sel.home_list(viewer=users.grid_worker, day=today)) == 1
    for person in many_people(25, grids=[county.grid_a]):
        make_order(person, start=live_orders.head.start_date, kind="tests_only")
    with CaptureQueriesContext(connection) as many:
        rows = sel.home_list(viewer=users.grid_worker, day=today)
    assert len(rows) == 26
    assert len(many.captured_queries) == len(few.captured_queries)


def test_centralized_people_are_not_on_the_home_list(users, people):
    from .test_health_support import make_order

    make_order(
        people.head, start=timeutils.local_today() - dt.timedelta(days=1), kind="centralized"
    )
    from fangkong.quarantine import selectors_health as sel

    assert sel.home_list(viewer=users.grid_worker, day=timeutils.local_today()) == []


def test_site_check_entry_page_records_all_at_once(login, users, county, people):
    from fangkong.accounts.models import User
    from fangkong.accounts.roles import Role
    from fangkong.quarantine.models import Room, Site, SiteStaff, Stay

    from .test_health_support import make_order

    start = timeutils.local_today() - dt.timedelta(days=1)
    order_a = make_order(people.head, start=start, kind="centralized")
    order_b = make_order(people.other, start=start, kind="centralized")
    site = Site.objects.create(
        name="点",
        kind="hotel",
        division=county.town_a,
        address="1",
        manager_name="m",
        manager_phone="1",
    )
    staff = User.objects.create(username="s2", role=Role.SITE_STAFF, jurisdiction=county.town_a)
    SiteStaff.objects.create(site=site, user=staff, duty="medical")
    for n, order in enumerate((order_a, order_b)):
        room = Room.objects.create(site=site, number=f"10{n}")
        Stay.objects.create(
            order=order,
            person_id=order.person_id,
            site=site,
            room=room,
            checked_in_at=timeutils.now(),
        )
    url = reverse("quarantine_health:site_checks", args=[site.pk])
    assert login(users.grid_worker).get(url).status_code == 404
    page = login(staff).get(url)
    assert page.status_code == 200
    assert people.other.name in page.content.decode()
    login(staff).post(url, {"slot": "pm", f"t-{order_a.pk}": "36.5", f"t-{order_b.pk}": "37.8"})
    assert HealthCheck.objects.filter(slot="pm").count() == 2
    assert Alert.objects.get().order_id == order_b.pk
