"""Risk-area pages: the list with downgrade dates, declare / change / end / downgrade, what a
sweep found, the list import; and who may do what."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.control.models import ControlOrder
from fangkong.policy.models import RiskArea
from fangkong.travel.models import SweepRun
from fangkong.travel.sweep import risk_area_declare

from .test_risk_import import STATE_COUNCIL
from .test_sweep_support import TODAY, activate_edition, days, make_arrival

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(county):
    """A known edition in force for the county (see test_sweep_support)."""
    return activate_edition(county)


READERS = [
    "commander",
    "leader",
    "town_officer",
    "village_officer",
    "grid_worker",
    "epidemiologist",
    "lab_staff",
    "admin",
]
NON_MANAGERS = ["leader", "town_officer", "village_officer", "grid_worker", "epidemiologist"]


def _inside_area(county, users, **extra):
    values = {
        "level": "high",
        "region_code": county.village_a.code,
        "start_date": days(-10),
        "last_case_on": days(-8),
    }
    values.update(extra)
    area, _sweep = risk_area_declare(actor=users.commander, **values)
    return area


def _form(**extra):
    data = {
        "level": "high",
        "region_code": "110105",
        "region_name": "",
        "detail": "",
        "start_date": days(-5).isoformat(),
        "end_date": "",
        "notice": "北京市通告",
        "last_case_on": "",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("role", READERS)
def test_everyone_with_a_role_reads_the_list(county, users, edition, login, role):
    _inside_area(county, users)
    response = login(getattr(users, role)).get(reverse("risk:list"))
    assert response.status_code == 200
    assert "齐镇村" in response.content.decode()
    manager = role in ("commander", "admin")
    assert ('href="/risk-areas/new/"' in response.content.decode()) is manager
    assert ('data-testid="downgrade-form"' in response.content.decode()) is manager


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("risk:list"))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_an_area_inside_the_county_shows_the_downgrade_date_the_edition_allows(
    county, users, edition, login
):
    # High -> medium after 7 days without a new infection, counted from the last one (T-8).
    _inside_area(county, users)
    outside, _sweep = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-10)
    )

    page = login(users.leader).get(reverse("risk:list")).content.decode()

    assert f"{days(-1).isoformat()} 起可降为中风险" in page
    assert "全员核酸筛查阴性" in page
    detail = login(users.leader).get(reverse("risk:detail", args=[outside.pk])).content.decode()
    assert "起可降为" not in detail  # outside the county: no downgrade proposal


def test_list_filters(county, users, edition, login):
    _inside_area(county, users)
    risk_area_declare(
        actor=users.commander,
        level="medium",
        region_code="110105",
        start_date=days(-9),
        end_date=days(-2),
    )
    client = login(users.commander)

    active = client.get(reverse("risk:list")).content.decode()
    assert "齐镇村" in active
    assert "北京市朝阳区" not in active
    ended = client.get(reverse("risk:list"), {"status": "ended"}).content.decode()
    assert "北京市朝阳区" in ended
    assert "齐镇村" not in ended
    outside = client.get(reverse("risk:list"), {"status": "all", "inside": "0"}).content.decode()
    assert "北京市朝阳区" in outside
    assert "齐镇村" not in outside
    medium = client.get(reverse("risk:list"), {"status": "all", "level": "medium"}).content.decode()
    assert "北京市朝阳区" in medium
    assert "齐镇村" not in medium
    search = client.get(reverse("risk:list"), {"status": "all", "q": "1101"}).content.decode()
    assert "北京市朝阳区" in search
    assert "齐镇村" not in search


def test_the_list_page_costs_few_queries(
    county, users, edition, login, django_assert_max_num_queries
):
    for n in range(5):
        _inside_area(county, users, start_date=days(-10 - n))
    client = login(users.commander)
    client.get(reverse("risk:list"))
    with django_assert_max_num_queries(30):
        client.get(reverse("risk:list"))


@pytest.mark.parametrize("role", NON_MANAGERS)
def test_only_the_hq_may_declare(county, users, edition, login, role):
    client = login(getattr(users, role))
    assert client.get(reverse("risk:create")).status_code == 403
    assert client.post(reverse("risk:create"), _form()).status_code == 403
    assert client.get(reverse("risk:import")).status_code == 403
    assert not RiskArea.objects.exists()


def test_declaring_an_area_shows_what_the_sweep_found(county, users, edition, login):
    reg = make_arrival(county, left_on=days(-3))
    client = login(users.commander)
    assert client.get(reverse("risk:create")).status_code == 200

    response = client.post(reverse("risk:create"), _form())

    sweep = SweepRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:sweep", args=[sweep.pk])
    page = client.get(response["Location"]).content.decode()
    assert "找到 1 人" in page  # the message
    assert reg.person.name in page  # the commander sees names in full
    order = ControlOrder.objects.get()
    assert reverse("control:order_detail", args=[order.pk]) in page
    assert "已提出管控措施" in page


def test_a_bad_form_names_the_field_and_writes_nothing(county, users, edition, login):
    client = login(users.commander)
    response = client.post(
        reverse("risk:create"), _form(region_code="999999", start_date=days(3).isoformat())
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "999999" in page
    assert "起始日期不能晚于今天" in page
    assert not RiskArea.objects.exists()


def test_widening_in_the_edit_form_sweeps_again(county, users, edition, login):
    make_arrival(county, left_on=days(-6))
    area, first = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-3)
    )
    assert first.found == 0
    client = login(users.commander)
    assert client.get(reverse("risk:edit", args=[area.pk])).status_code == 200

    response = client.post(
        reverse("risk:edit", args=[area.pk]),
        _form(region_name=area.region_name, start_date=days(-7).isoformat(), notice=""),
    )

    second = SweepRun.objects.exclude(pk=first.pk).get()
    assert response["Location"] == reverse("risk:sweep", args=[second.pk])
    assert second.orders_proposed == 1
    unchanged = client.post(
        reverse("risk:edit", args=[area.pk]),
        _form(region_name=area.region_name, start_date=days(-7).isoformat(), notice=""),
    )
    assert unchanged["Location"] == reverse("risk:detail", args=[area.pk])
    assert (
        login(users.leader).post(reverse("risk:edit", args=[area.pk]), _form()).status_code == 403
    )


def test_ending_an_area(county, users, edition, login):
    area = _inside_area(county, users)
    assert (
        login(users.town_officer)
        .post(reverse("risk:end", args=[area.pk]), {"end_date": TODAY, "reason": "解除"})
        .status_code
        == 403
    )
    client = login(users.commander)
    missing_reason = client.post(reverse("risk:end", args=[area.pk]), {"end_date": TODAY})
    assert missing_reason.status_code == 200
    response = client.post(
        reverse("risk:end", args=[area.pk]), {"end_date": TODAY.isoformat(), "reason": "解除通告"}
    )
    assert response.status_code == 302
    area.refresh_from_db()
    assert area.end_date == TODAY


def test_confirming_a_downgrade(county, users, edition, login):
    area = _inside_area(county, users)
    url = reverse("risk:downgrade", args=[area.pk])
    assert login(users.leader).post(url, {"on": TODAY.isoformat()}).status_code == 403

    client = login(users.commander)
    too_early = client.post(url, {"on": days(-2).isoformat(), "reason": ""})
    assert too_early.status_code == 200
    assert days(-1).isoformat() in too_early.content.decode()
    response = client.post(url, {"on": TODAY.isoformat(), "reason": "连续7天无新增"})

    lower = RiskArea.objects.get(previous=area)
    assert response["Location"] == reverse("risk:detail", args=[lower.pk])
    assert lower.level == "medium"
    assert lower.start_date == TODAY
    area.refresh_from_db()
    assert area.end_date == days(-1)


def test_the_sweep_page_lists_only_the_people_in_the_viewers_scope(county, users, edition, login):
    in_a = make_arrival(county, left_on=days(-2), division=county.grid_a)
    in_b = make_arrival(county, left_on=days(-2), division=county.grid_b)
    away = make_arrival(county, left_on=days(-2), outside_code="320102")
    _area, sweep = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-5)
    )
    url = reverse("risk:sweep", args=[sweep.pk])

    hq = login(users.commander).get(url).content.decode()
    town_a = login(users.town_officer).get(url).content.decode()
    town_b = login(users.other_town_officer).get(url).content.decode()
    leader = login(users.leader).get(url).content.decode()

    assert all(p.person.name in hq for p in (in_a, in_b, away))
    assert in_a.person.name in town_a
    assert in_b.person.name not in town_a
    assert away.person.name not in town_a
    assert in_b.person.name in town_b
    assert in_a.person.name not in town_b
    assert in_a.person.name not in leader  # the leader sees surnames only
    assert in_a.person.id_number not in hq  # ID numbers are masked for everyone
    assert "转县外协查" in hq
    assert (
        login(users.commander).get(reverse("risk:sweep", args=[sweep.pk + 99])).status_code == 404
    )
    only_outside = login(users.commander).get(url, {"outcome": "outside"}).content.decode()
    assert away.person.name in only_outside
    assert in_a.person.name not in only_outside


def test_the_detail_page_lists_the_sweeps(county, users, edition, login):
    make_arrival(county, left_on=days(-2))
    area, sweep = risk_area_declare(
        actor=users.commander, level="high", region_code="110105", start_date=days(-5)
    )
    page = login(users.grid_worker).get(reverse("risk:detail", args=[area.pk])).content.decode()
    assert reverse("risk:sweep", args=[sweep.pk]) in page
    assert (
        login(users.grid_worker).get(reverse("risk:detail", args=[area.pk + 9])).status_code == 404
    )


def test_importing_a_published_list_from_the_page(county, users, edition, login):
    client = login(users.commander)
    page = client.get(reverse("risk:import")).content.decode()
    assert "/imports/new/?kind=risk_areas" in page

    upload = SimpleUploadedFile(
        "2022050800.json", json.dumps(STATE_COUNCIL, ensure_ascii=False).encode()
    )
    response = client.post(
        reverse("risk:import"),
        {"file": upload, "start_date": TODAY.isoformat(), "notice": "国务院客户端"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "新登记 7 个地区" in page
    assert "火星省" in page
    assert RiskArea.objects.count() == 7

    bad = client.post(
        reverse("risk:import"),
        {"file": SimpleUploadedFile("x.txt", "随便写的文字".encode()), "start_date": TODAY},
    )
    assert "没有读到风险地区" in bad.content.decode()


def test_the_tabular_import_is_offered_on_the_engine_page(county, users, edition, login):
    page = login(users.commander).get(reverse("imports:new"), {"kind": "risk_areas"})
    assert page.status_code == 200
    assert "风险地区名单" in page.content.decode()
    kinds = login(users.town_officer).get(reverse("imports:new")).content.decode()
    assert "风险地区名单" not in kinds


def test_the_nav_links_the_risk_areas(users, login):
    page = login(users.grid_worker).get(reverse("reports:home")).content.decode()
    assert 'href="/risk-areas/"' in page
