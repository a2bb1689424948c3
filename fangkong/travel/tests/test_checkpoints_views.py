"""Checkpoint pages: the list, detail with timeline and roster forms, entry, the coverage view,
and who may see or change what (out of scope = 404, read-only roles = 403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fangkong.core import timeutils
from fangkong.travel.models import Checkpoint, DutyShift

from .test_checkpoints_services import add_shift, make_checkpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def cp(county, users) -> Checkpoint:
    return make_checkpoint(actor=users.commander, division=county.town_a, leader_id=users.leader.pk)


def _shift_post(**overrides):
    start = timeutils.local_now().replace(minute=0, second=0, microsecond=0)
    data = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "staff_name": "李值守",
        "staff_phone": "13912345678",
        "post": "党员先锋岗",
        "is_volunteer": "on",
    }
    data.update(overrides)
    return data


def test_anonymous_is_sent_to_login(login, cp):
    for url in (
        reverse("checkpoints:list"),
        reverse("checkpoints:detail", args=[cp.pk]),
        reverse("checkpoints:coverage"),
    ):
        response = login(None).get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_list_shows_duty_and_next_gap(login, users, cp):
    add_shift(cp, timeutils.now() - dt.timedelta(hours=1), 4, name="王在岗")
    page = login(users.commander).get(reverse("checkpoints:list")).content.decode()
    assert "凤州收费站出口" in page
    assert "王在岗" in page
    assert "高速公路出口" in page
    assert "卡口值守" in page  # the nav link


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("commander", 200),
        ("town_officer", 200),
        ("other_town_officer", 404),
        ("leader", 200),
        ("village_officer", 404),  # the checkpoint is in the town, above the village
        ("admin", 200),
    ],
)
def test_detail_permission_matrix(login, users, cp, who, status):
    response = login(getattr(users, who)).get(reverse("checkpoints:detail", args=[cp.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("commander", 302),
        ("town_officer", 302),
        ("other_town_officer", 404),
        ("leader", 403),
        ("epidemiologist", 403),
    ],
)
def test_adding_a_shift_permission_matrix(login, users, cp, who, status):
    url = reverse("checkpoints:shift_create", args=[cp.pk])
    response = login(getattr(users, who)).post(url, _shift_post())
    assert response.status_code == status
    assert DutyShift.objects.count() == (1 if status == 302 else 0)


def test_detail_shows_timeline_and_roster(login, users, cp):
    login(users.commander).post(reverse("checkpoints:shift_create", args=[cp.pk]), _shift_post())
    page = login(users.commander).get(reverse("checkpoints:detail", args=[cp.pk])).content
    page = page.decode()
    assert "李值守" in page
    assert "党员先锋岗" in page
    assert "志愿者" in page
    assert "139****5678" in page  # the commander sees phones masked
    assert page.count('class="tl-hour') >= 48
    assert 'data-state="covered"' in page
    assert 'data-state="none"' in page
    assert 'id="shift-form"' in page


def test_leader_sees_needs_you_and_no_forms(login, users, cp):
    page = login(users.leader).get(reverse("checkpoints:detail", args=[cp.pk])).content.decode()
    assert "需要您安排" in page
    assert 'id="shift-form"' not in page


def test_bad_shift_shows_messages_next_to_fields(login, users, cp):
    start = timeutils.local_now().replace(minute=0, second=0, microsecond=0)
    response = login(users.commander).post(
        reverse("checkpoints:shift_create", args=[cp.pk]),
        _shift_post(
            ends_at=(start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), staff_phone="12"
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "结束时间必须晚于开始时间" in page
    assert 'data-field="staff_phone"' in page
    assert not DutyShift.objects.exists()


def test_roster_for_a_day(login, users, cp):
    day = (timeutils.local_today() + dt.timedelta(days=1)).isoformat()
    response = login(users.town_officer).post(
        reverse("checkpoints:roster_create", args=[cp.pk]),
        {
            "day": day,
            "pattern": "3x8",
            "staff_name_1": "甲",
            "staff_name_2": "乙",
            "staff_name_3": "丙",
            "post_2": "党员先锋岗",
        },
    )
    assert response.status_code == 302
    hours = [(s.ends_at - s.starts_at).total_seconds() / 3600 for s in DutyShift.objects.all()]
    assert hours == [8, 8, 8]


def test_create_and_edit_checkpoint(login, users, county):
    client = login(users.town_officer)
    response = client.post(
        reverse("checkpoints:create"),
        {"name": "村口卡点", "kind": "village_entrance", "division_code": county.village_a.code},
    )
    cp = Checkpoint.objects.get(name="村口卡点")
    assert response.status_code == 302
    response = client.post(
        reverse("checkpoints:edit", args=[cp.pk]),
        {
            "name": "村口卡点",
            "kind": "village_entrance",
            "division_code": county.village_a.code,
            "location": "村委会东",
        },
    )
    assert response.status_code == 302
    cp.refresh_from_db()
    assert cp.location == "村委会东"


def test_create_out_of_scope_division_is_refused(login, users, county):
    response = login(users.town_officer).post(
        reverse("checkpoints:create"),
        {"name": "汽车站", "kind": "bus_station", "division_code": county.town_b.code},
    )
    assert response.status_code == 200
    assert "管辖范围" in response.content.decode()
    assert not Checkpoint.objects.exists()


def test_create_page_is_forbidden_to_read_only_roles(login, users):
    assert login(users.leader).get(reverse("checkpoints:create")).status_code == 403


def test_coverage_page(login, users, cp, county):
    make_checkpoint(actor=users.commander, division=county.town_b, name="汽车站")
    page = login(users.leader).get(reverse("checkpoints:coverage")).content.decode()
    assert "需要您安排" in page
    assert "凤州收费站出口" in page
    assert "汽车站" in page
    page = login(users.other_town_officer).get(reverse("checkpoints:coverage")).content.decode()
    assert "需要您安排" not in page
    assert "汽车站" in page
    assert "凤州收费站出口" not in page


def test_deactivate_removes_from_coverage(login, users, cp):
    client = login(users.commander)
    client.post(reverse("checkpoints:deactivate", args=[cp.pk]))
    page = client.get(reverse("checkpoints:coverage")).content.decode()
    assert 'id="no-gaps"' in page


def test_delete_shift(login, users, cp):
    shift = add_shift(cp, timeutils.now() + dt.timedelta(hours=2), 4)
    url = reverse("checkpoints:shift_delete", args=[cp.pk, shift.pk])
    assert login(users.leader).post(url).status_code == 403
    assert login(users.commander).post(url).status_code == 302
    assert not DutyShift.objects.exists()
