"""Staff pages of arrivals: who may see and do what (permission matrix, out of scope = 404),
the entry form showing the proposed measure, the HQ view, QR posters and assist requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from fangkong.core.models import AuditEvent
from fangkong.core.timeutils import local_today
from fangkong.travel import services
from fangkong.travel.models import AssistRequest, TravelRegistration

from .factories import (
    GRID_A,
    GRID_B,
    HONGSHAN,
    NEW_ID,
    activate,
    docx_table,
    recent_arrival_data,
    risk_area,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def arrivals(users, county):
    """A high-risk arrival in grid A1a and a plain one in grid B1a, on the real clock."""
    activate("v9")
    risk_area(level="high", start=local_today() - dt.timedelta(days=20))
    a = services.arrival_register(
        actor=users.commander, data=recent_arrival_data(), channel="grid_entry"
    ).registration
    b = services.arrival_register(
        actor=users.commander,
        data=recent_arrival_data(
            name="王外来",
            id_number="11010519491231002X",
            origin_code="420111",
            destination_code=GRID_B,
            destination_address="眉县横渠镇横渠村一组2号",
        ),
        channel="grid_entry",
    ).registration
    return a, b


def form_post(**overrides):
    data = recent_arrival_data(**overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- the list --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, county):
    response = client.get("/arrivals/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_list_shows_the_arrivals_in_scope_masked(login, users, arrivals):
    a, b = arrivals
    html = login(users.grid_worker).get("/arrivals/").content.decode()
    assert f"/arrivals/{a.pk}/" in html
    assert f"/arrivals/{b.pk}/" not in html
    assert "赵新来" in html  # grid workers see full names
    assert NEW_ID not in html
    assert NEW_ID[:6] + "**" in html
    assert "高风险" in html


def test_the_leader_reads_county_wide_with_surnames_only(login, users, arrivals):
    a, b = arrivals
    response = login(users.leader).get("/arrivals/")
    html = response.content.decode()
    assert f"/arrivals/{a.pk}/" in html
    assert f"/arrivals/{b.pk}/" in html
    assert "赵新来" not in html
    assert "赵**" in html
    assert "/arrivals/new/" not in html


def test_list_filters(login, users, arrivals):
    a, b = arrivals
    client = login(users.commander)
    html = client.get("/arrivals/", {"risk_level": "high"}).content.decode()
    assert f"/arrivals/{a.pk}/" in html
    assert f"/arrivals/{b.pk}/" not in html
    html = client.get("/arrivals/", {"origin": "武汉"}).content.decode()
    assert f"/arrivals/{b.pk}/" in html
    assert f"/arrivals/{a.pk}/" not in html
    html = client.get("/arrivals/", {"division": "610326101"}).content.decode()
    assert f"/arrivals/{b.pk}/" in html
    assert f"/arrivals/{a.pk}/" not in html
    future = (local_today() + dt.timedelta(days=1)).isoformat()
    assert "还没有" not in client.get("/arrivals/", {"arrived_from": future}).content.decode()
    assert (
        f"/arrivals/{a.pk}/"
        not in client.get("/arrivals/", {"arrived_from": future}).content.decode()
    )


# --- entry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("grid_worker", 200),
        ("village_officer", 200),
        ("town_officer", 200),
        ("commander", 200),
        ("admin", 200),
        ("leader", 403),
        ("epidemiologist", 403),
        ("lab_staff", 403),
    ],
)
def test_who_may_open_the_entry_form(login, users, role, status):
    assert login(getattr(users, role)).get("/arrivals/new/").status_code == status


def test_entry_shows_the_proposed_measure_with_dates_and_test_days(login, users, county):
    activate("v9")
    risk_area(level="high", start=local_today() - dt.timedelta(days=20))
    client = login(users.grid_worker)
    response = client.post("/arrivals/new/", form_post())
    assert response.status_code == 302
    reg = TravelRegistration.objects.get()
    assert response["Location"] == f"/arrivals/{reg.pk}/?new=1"
    html = client.get(response["Location"]).content.decode()
    assert "系统建议的措施" in html
    assert "高风险地区来返人员" in html
    assert "集中隔离医学观察" in html
    order = reg.order
    for day in order.phases[0]["test_days"]:
        assert day in html
    assert f"/loop/orders/{order.pk}/" in html
    assert reg.channel == "grid_entry"
    assert reg.created_by == users.grid_worker


def test_entry_errors_are_shown_next_to_the_fields_and_nothing_is_saved(login, users, county):
    response = login(users.grid_worker).post(
        "/arrivals/new/",
        form_post(left_on="2099-01-01", phone="123", transport="car", vehicle_no="陕CA12345"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "离开日期不能晚于今天" in html
    assert "新能源号牌" in html
    assert "手机号应为11位" in html
    assert not TravelRegistration.objects.exists()


def test_entry_for_a_grid_outside_the_jurisdiction_is_refused(login, users, county):
    html = login(users.grid_worker).get("/arrivals/new/").content.decode()
    assert f'value="{GRID_B}"' not in html
    response = login(users.grid_worker).post("/arrivals/new/", form_post(destination_code=GRID_B))
    assert "目的网格不存在或不在您的管辖范围内" in response.content.decode()
    assert not TravelRegistration.objects.exists()


# --- detail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("grid_worker", 200),
        ("village_officer", 200),
        ("town_officer", 200),
        ("commander", 200),
        ("leader", 200),
        ("other_grid_worker", 404),
        ("other_town_officer", 404),
    ],
)
def test_detail_in_and_out_of_scope(login, users, arrivals, role, status):
    a, _b = arrivals
    assert login(getattr(users, role)).get(f"/arrivals/{a.pk}/").status_code == status


def test_detail_shows_the_trip_the_risk_area_and_the_loop_task(login, users, arrivals):
    a, _b = arrivals
    html = login(users.village_officer).get(f"/arrivals/{a.pk}/").content.decode()
    assert "北京市朝阳区" in html
    assert "G1002" in html
    assert "高风险地区来返：北京市朝阳区" in html  # the loop task
    assert f"/loop/orders/{a.order_id}/" in html


def test_a_missing_arrival_is_404(login, users, county):
    assert login(users.commander).get("/arrivals/999999/").status_code == 404


# --- HQ view ---------------------------------------------------------------------------------


def test_the_hq_view_counts_by_origin_and_day(login, users, arrivals):
    response = login(users.commander).get("/arrivals/hq/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="hq-stats"' in html
    stats = response.context["stats"]
    assert stats["total"] == 2
    assert {r["name"] for r in stats["by_province"]} == {"北京市", "湖北省"}
    assert {r["name"] for r in stats["by_city"]} == {"北京市", "武汉市"}
    arrived = (local_today() - dt.timedelta(days=2)).isoformat()
    assert {"day": arrived, "n": 2, "risky": 1} in stats["by_day"]
    assert stats["by_level"]["high"] == 1


def test_the_hq_view_is_scoped(login, users, arrivals):
    stats = login(users.grid_worker).get("/arrivals/hq/").context["stats"]
    assert stats["total"] == 1


def test_hq_stats_use_a_constant_number_of_queries(users, arrivals, django_assert_max_num_queries):
    from fangkong.travel.selectors import arrival_stats

    today = local_today()
    with django_assert_max_num_queries(12):
        arrival_stats(
            viewer=users.commander, date_from=today - dt.timedelta(days=30), date_to=today
        )


def test_the_list_selector_uses_a_constant_number_of_queries(
    users, arrivals, django_assert_max_num_queries
):
    from fangkong.travel.presenters import arrival_display
    from fangkong.travel.selectors import arrival_list

    with django_assert_max_num_queries(4):
        rows = list(arrival_list(viewer=users.commander)[:50])
        [arrival_display(viewer=users.commander, reg=r) for r in rows]


# --- QR posters ------------------------------------------------------------------------------


def test_the_qr_page_lists_the_county_and_its_villages_for_the_hq(login, users, county):
    response = login(users.commander).get("/arrivals/qr/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 3
    assert "http://testserver/r/610326/" in html
    assert "http://testserver/r/610326107201/" in html
    assert "http://testserver/r/610326101201/" in html


def test_a_grid_worker_gets_their_villages_poster_only(login, users, county):
    html = login(users.grid_worker).get("/arrivals/qr/").content.decode()
    assert "/r/610326107201/" in html
    assert "/r/610326101201/" not in html
    assert "/r/610326/" not in html
    assert login(users.grid_worker).get("/arrivals/qr/610326101201/").status_code == 404


def test_the_printable_poster(login, users, county):
    response = login(users.village_officer).get("/arrivals/qr/610326107201/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "返（来）眉人员扫码报备" in html
    assert "齐镇村" in html
    assert "<svg" in html
    assert "size: A4" in html


def test_the_png_download(login, users, county):
    response = login(users.commander).get("/arrivals/qr/610326107201.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_roles_that_do_not_register_have_no_posters(login, users, county):
    assert login(users.leader).get("/arrivals/qr/").status_code == 403


# --- assist requests -------------------------------------------------------------------------


@pytest.fixture
def outgoing(users, county):
    activate("v9")
    risk_area(level="high", start=local_today() - dt.timedelta(days=20))
    reg = services.arrival_register(
        actor=users.commander,
        data=recent_arrival_data(
            destination_code="",
            outside_county=True,
            outside_code=HONGSHAN,
            destination_address="武汉市洪山区关山大道1号",
        ),
        channel="grid_entry",
    ).registration
    return AssistRequest.objects.get(), reg


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("commander", 200),
        ("admin", 200),
        ("leader", 200),
        ("epidemiologist", 200),
        ("town_officer", 404),
        ("grid_worker", 404),
    ],
)
def test_who_reads_assist_requests(login, users, outgoing, role, status):
    letter, _reg = outgoing
    client = login(getattr(users, role))
    assert client.get("/arrivals/assist/").status_code == status
    assert client.get(f"/arrivals/assist/{letter.pk}/").status_code == status


def test_the_outgoing_letter_lists_the_person(login, users, outgoing):
    letter, reg = outgoing
    html = login(users.commander).get(f"/arrivals/assist/{letter.pk}/").content.decode()
    assert "赵新来" in html
    assert "北京市朝阳区" in html
    assert f"/arrivals/{reg.pk}/" in html
    assert 'id="letter-download"' in html


@pytest.mark.parametrize(
    ("role", "status"),
    [("commander", 200), ("admin", 200), ("epidemiologist", 200), ("leader", 403)],
)
def test_the_word_letter_is_for_roles_that_may_reveal(login, users, outgoing, role, status):
    letter, _reg = outgoing
    response = login(getattr(users, role)).get(f"/arrivals/assist/{letter.pk}/letter.docx")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml"
        )
        table = docx_table(response.content)
        assert table[1][1] == "赵新来"
        assert table[1][3] == NEW_ID
        event = AuditEvent.objects.get(verb="travel.assist.export")
        assert event.actor_id == getattr(users, role).pk
        assert NEW_ID not in str(event.data)
    else:
        assert not AuditEvent.objects.filter(verb="travel.assist.export").exists()


def test_recording_an_incoming_letter(login, users, county):
    client = login(users.commander)
    response = client.post(
        "/arrivals/assist/new/",
        {
            "number": "鄂洪防协〔2022〕15号",
            "counterpart": "洪山区疫情防控指挥部",
            "counterpart_code": HONGSHAN,
            "dated": local_today().isoformat(),
        },
    )
    letter = AssistRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/arrivals/assist/{letter.pk}/"
    assert (letter.direction, letter.counterpart_code) == ("incoming", HONGSHAN)
    response = client.post(
        "/arrivals/assist/new/", {"counterpart": "", "counterpart_code": "999999"}
    )
    html = response.content.decode()
    assert "请填写对方单位" in html
    assert "对方区划代码" in html
    assert (
        login(users.leader).post("/arrivals/assist/new/", {"counterpart": "x"}).status_code == 403
    )


def test_an_incoming_letter_has_no_word_letter(login, users, county):
    letter = services.assist_request_create(
        actor=users.commander, direction="incoming", counterpart="洪山区疫情防控指挥部"
    )
    assert (
        login(users.commander).get(f"/arrivals/assist/{letter.pk}/letter.docx").status_code == 404
    )


def test_feedback_send_and_close(login, users, outgoing):
    letter, _reg = outgoing
    client = login(users.commander)
    entry = letter.entries.get()
    client.post(
        f"/arrivals/assist/{letter.pk}/entries/{entry.pk}/feedback/",
        {"feedback": "已找到，居家隔离"},
    )
    entry.refresh_from_db()
    assert entry.feedback == "已找到，居家隔离"
    client.post(f"/arrivals/assist/{letter.pk}/send/")
    letter.refresh_from_db()
    assert letter.status == "sent"
    client.post(f"/arrivals/assist/{letter.pk}/close/", {"reason": "对方已反馈"})
    letter.refresh_from_db()
    assert letter.status == "closed"
    assert login(users.leader).post(f"/arrivals/assist/{letter.pk}/send/").status_code == 403


def test_the_nav_has_the_arrivals_link(login, users, county):
    html = login(users.grid_worker).get("/arrivals/").content.decode()
    assert '<a class="dropdown-item" href="/arrivals/">来返报备</a>' in html
    assert GRID_A  # (the grid fixture is in use)
