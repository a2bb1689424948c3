"""Loop and order pages: what each role sees and may do, htmx card swaps, and 404 out of scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fangkong.control.models import ControlOrder, ControlOrderEvent, LoopSettings, LoopStep
from fangkong.control.services import loop_escalate, order_confirm
from fangkong.core import timeutils
from fangkong.core.models import AuditEvent

from .conftest import NOW
from .factories import propose

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def head_task(users, people, v9):
    return propose(users.commander, people.head, now=NOW).task


@pytest.fixture
def other_task(users, people, v9):
    return propose(users.commander, people.other, now=NOW).task


def _snapshot() -> tuple:
    return (
        AuditEvent.objects.count(),
        ControlOrderEvent.objects.count(),
        list(ControlOrder.objects.order_by("pk").values("status", "category", "end_date")),
        list(LoopStep.objects.order_by("pk").values("done_at", "outcome", "escalation")),
        list(LoopSettings.objects.values()),
    )


def _step(task, kind: str) -> LoopStep:
    return LoopStep.objects.get(task=task, kind=kind)


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["control:inbox", "control:overview", "control:order_list", "control:settings"]
)
def test_pages_need_a_login(login, name):
    response = login(None).get(reverse(name))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


# --- inbox -----------------------------------------------------------------------------------


def test_grid_worker_inbox_shows_the_person_and_the_clock(login, users, head_task, other_task):
    response = login(users.grid_worker).get(reverse("control:inbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "张建国" in html
    assert "13912345678" in html
    assert "王小明" not in html  # grid B1a is not theirs
    assert f'id="task-{head_task.pk}"' in html
    assert "签收" in html
    assert "超时" in html
    assert "集中隔离医学观察" in html
    assert "2022-07-08" in html
    assert 'name="viewport"' in html
    assert reverse("control:inbox") in html  # the nav link "待办"


def test_leader_sees_masked_people_and_no_buttons(login, users, head_task):
    html = login(users.leader).get(reverse("control:inbox")).content.decode()
    assert "张**" in html
    assert "张建国" not in html
    assert "13912345678" not in html
    assert reverse("control:step_complete", args=[_step(head_task, "ack").pk]) not in html


def test_ack_by_htmx_swaps_the_card(login, users, head_task):
    ack = _step(head_task, "ack")
    response = login(users.grid_worker).post(
        reverse("control:step_complete", args=[ack.pk]), **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article")
    assert f'id="task-{head_task.pk}"' in html
    assert "已上门核实" in html  # the next step's button
    ack.refresh_from_db()
    assert ack.done_by == users.grid_worker


def test_visit_error_comes_back_in_the_card(login, users, head_task):
    client = login(users.grid_worker)
    client.post(reverse("control:step_complete", args=[_step(head_task, "ack").pk]), **HTMX)
    visit = _step(head_task, "visit")
    response = client.post(
        reverse("control:step_complete", args=[visit.pk]), {"outcome": "not_found"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "须写明情况" in html
    visit.refresh_from_db()
    assert visit.outcome == ""
    response = client.post(
        reverse("control:step_complete", args=[visit.pk]),
        {"outcome": "not_found", "note": "家中无人"},
        **HTMX,
    )
    html = response.content.decode()
    assert "村（社区）已收到提醒" in html
    assert "家中无人" in html
    visit.refresh_from_db()
    assert (visit.done_at, visit.escalation) == (None, 1)


def test_in_place_tap_confirms_the_order(login, users, head_task):
    client = login(users.grid_worker)
    client.post(reverse("control:step_complete", args=[_step(head_task, "ack").pk]), **HTMX)
    client.post(
        reverse("control:step_complete", args=[_step(head_task, "visit").pk]),
        {"outcome": "verified"},
        **HTMX,
    )
    card = client.get(reverse("control:inbox")).content.decode()
    assert "措施已落实" in card
    assert "调整措施" in card
    response = client.post(
        reverse("control:step_complete", args=[_step(head_task, "in_place").pk]), **HTMX
    )
    assert "已办结" in response.content.decode()
    assert ControlOrder.objects.get(pk=head_task.order_id).status == "active"
    # the task left the inbox
    assert f'id="task-{head_task.pk}"' not in client.get(reverse("control:inbox")).content.decode()


def test_plain_post_redirects_to_the_inbox_with_a_message(login, users, head_task):
    client = login(users.grid_worker)
    visit = _step(head_task, "visit")
    response = client.post(reverse("control:step_complete", args=[visit.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("control:inbox")
    assert "请先完成“签收”" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [("other_grid_worker", 404), ("other_town_officer", 404), ("leader", 403), ("lab_staff", 403)],
)
def test_step_permission_matrix(login, users, head_task, role, status):
    before = _snapshot()
    response = login(getattr(users, role)).post(
        reverse("control:step_complete", args=[_step(head_task, "ack").pk]), **HTMX
    )
    assert response.status_code == status
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["grid_worker", "village_officer", "town_officer", "commander"])
def test_step_allowed_roles(login, users, head_task, role):
    response = login(getattr(users, role)).post(
        reverse("control:step_complete", args=[_step(head_task, "ack").pk]), **HTMX
    )
    assert response.status_code == 200
    assert _step(head_task, "ack").done_by == getattr(users, role)


def test_get_on_a_step_is_not_allowed(login, users, head_task):
    response = login(users.grid_worker).get(
        reverse("control:step_complete", args=[_step(head_task, "ack").pk])
    )
    assert response.status_code == 405


# --- overview --------------------------------------------------------------------------------


def test_overview_for_the_commander_with_drill_down(login, users, county, head_task, other_task):
    client = login(users.commander)
    html = client.get(reverse("control:overview")).content.decode()
    assert "齐镇" in html
    assert "横渠镇" in html
    assert f"?division={county.town_a.code}" in html
    assert "需要您督办" in html
    html = client.get(
        reverse("control:overview"), {"division": county.town_a.code}
    ).content.decode()
    assert "齐镇村" in html
    assert "横渠镇" not in html


def test_overview_lists_escalated_steps_for_the_village(login, users, head_task):
    loop_escalate(now=NOW + 3 * H)
    html = login(users.village_officer).get(reverse("control:overview")).content.decode()
    assert "需要您督办" in html
    assert head_task.title in html
    assert "张建国" in html
    # the town has nothing at its level yet
    html = login(users.town_officer).get(reverse("control:overview")).content.decode()
    assert 'data-testid="supervise-count">0<' in html


def test_overview_of_a_division_out_of_scope_is_404(login, users, county):
    response = login(users.other_town_officer).get(
        reverse("control:overview"), {"division": county.town_a.code}
    )
    assert response.status_code == 404


def test_grid_worker_overview_has_no_supervision_list(login, users, head_task):
    html = login(users.grid_worker).get(reverse("control:overview")).content.decode()
    assert "需要您督办" not in html
    assert "一组" in html


# --- orders ----------------------------------------------------------------------------------


def test_order_list_with_filters(login, users, head_task, other_task, county):
    client = login(users.commander)
    html = client.get(reverse("control:order_list")).content.decode()
    assert f"#{head_task.order_id}" in html
    assert f"#{other_task.order_id}" in html
    html = client.get(
        reverse("control:order_list"), {"division": county.town_b.code, "status": "proposed"}
    ).content.decode()
    assert f"#{other_task.order_id}<" in html
    assert f"#{head_task.order_id}<" not in html
    html = client.get(reverse("control:order_list"), {"status": "active"}).content.decode()
    assert "没有符合条件的管控措施" in html
    # a bad filter value is ignored, not an error
    assert client.get(reverse("control:order_list"), {"status": "x"}).status_code == 200


def test_order_list_follows_the_scope(login, users, head_task, other_task):
    html = login(users.other_grid_worker).get(reverse("control:order_list")).content.decode()
    assert f"#{other_task.order_id}<" in html
    assert f"#{head_task.order_id}<" not in html


def test_order_detail_shows_phases_tests_history_and_actions(login, users, head_task):
    url = reverse("control:order_detail", args=[head_task.order_id])
    html = login(users.grid_worker).get(url).content.decode()
    assert "集中隔离医学观察" in html
    for day in ("2022-07-02", "2022-07-03", "2022-07-04", "2022-07-06", "2022-07-08"):
        assert day in html
    assert "提出措施" in html  # history
    assert reverse("control:order_confirm", args=[head_task.order_id]) in html
    assert reverse("control:order_cancel", args=[head_task.order_id]) in html


def test_leader_reads_the_order_without_action_forms(login, users, head_task):
    html = (
        login(users.leader)
        .get(reverse("control:order_detail", args=[head_task.order_id]))
        .content.decode()
    )
    assert "只能查看" in html
    assert reverse("control:order_confirm", args=[head_task.order_id]) not in html


def test_order_out_of_scope_is_404(login, users, head_task):
    url = reverse("control:order_detail", args=[head_task.order_id])
    assert login(users.other_grid_worker).get(url).status_code == 404


def test_confirm_change_and_release_through_the_page(login, users, head_task):
    client = login(users.village_officer)
    order_id = head_task.order_id
    response = client.post(reverse("control:order_confirm", args=[order_id]), {})
    assert response.status_code == 302
    assert ControlOrder.objects.get(pk=order_id).status == "active"
    # a change without a reason is refused on the page, nothing changed
    response = client.post(
        reverse("control:order_change", args=[order_id]), {"change-category": "close_contact"}
    )
    assert response.status_code == 400
    assert "请填写理由" in response.content.decode()
    assert ControlOrder.objects.get(pk=order_id).category == "high_risk_arrival"
    response = client.post(
        reverse("control:order_change", args=[order_id]),
        {
            "change-category": "close_contact",
            "change-anchor_date": "2022-07-01",
            "change-reason": "流调确认为密接",
        },
    )
    assert response.status_code == 302
    assert ControlOrder.objects.get(pk=order_id).category == "close_contact"
    # by the real clock the 2022 measure is long over: it can be released
    response = client.post(reverse("control:order_release", args=[order_id]), {})
    assert response.status_code == 302
    assert ControlOrder.objects.get(pk=order_id).status == "released"


def test_release_refused_on_the_page_says_what_is_missing(login, users, people, v9):
    today = timeutils.local_today()
    order = propose(
        users.commander, people.head, anchor=today - dt.timedelta(days=1), found_on=today
    ).order
    order_confirm(actor=users.commander, order=order)
    response = login(users.grid_worker).post(reverse("control:order_release", args=[order.pk]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "尚未期满" in html
    assert "检测日未到" in html
    assert ControlOrder.objects.get(pk=order.pk).status == "active"


def test_confirm_conflict_is_shown(login, users, people, v9, head_task):
    order_confirm(actor=users.commander, order=head_task.order, now=NOW)
    response = login(users.commander).post(
        reverse("control:order_confirm", args=[head_task.order_id]), {}
    )
    assert response.status_code == 409
    assert "只有待确认的措施可以确认" in response.content.decode()


def test_cancel_and_transfer_need_reasons(login, users, head_task, other_task):
    client = login(users.commander)
    response = client.post(reverse("control:order_cancel", args=[head_task.order_id]), {})
    assert response.status_code == 400
    response = client.post(
        reverse("control:order_cancel", args=[head_task.order_id]), {"cancel-reason": "登记有误"}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("control:order_transfer", args=[other_task.order_id]),
        {"transfer-reason": "返回原籍", "transfer-destination": "610113"},
    )
    assert response.status_code == 302
    statuses = dict(ControlOrder.objects.values_list("pk", "status"))
    assert statuses == {head_task.order_id: "cancelled", other_task.order_id: "transferred_out"}


def test_advance_phase_refusal_is_a_message(login, users, people, v9):
    order = propose(users.commander, people.head, now=NOW, category="close_contact").order
    order_confirm(actor=users.commander, order=order, now=NOW)
    client = login(users.commander)
    html = client.post(
        reverse("control:order_advance", args=[order.pk]), follow=True
    ).content.decode()
    # by the real clock (after 2022) the next phase has started: it moves
    assert "已转入下一分段" in html
    assert ControlOrder.objects.get(pk=order.pk).status == "phase_changed"


@pytest.mark.parametrize(
    ("role", "status"),
    [("leader", 403), ("epidemiologist", 403), ("other_grid_worker", 404), ("lab_staff", 403)],
)
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("control:order_confirm", {}),
        ("control:order_cancel", {"cancel-reason": "测试"}),
        ("control:order_transfer", {"transfer-reason": "测试"}),
        ("control:order_change", {"change-reason": "测试", "change-category": "close_contact"}),
        ("control:order_advance", {}),
        ("control:order_release", {}),
    ],
)
def test_order_action_permission_matrix(login, users, head_task, role, status, name, data):
    before = _snapshot()
    response = login(getattr(users, role)).post(reverse(name, args=[head_task.order_id]), data)
    assert response.status_code == status
    assert _snapshot() == before


# --- settings --------------------------------------------------------------------------------


def test_commander_changes_the_clocks(login, users, county):
    client = login(users.commander)
    html = client.get(reverse("control:settings")).content.decode()
    assert 'value="2"' in html
    assert "disabled" not in html
    data = {
        "ack_hours": "1",
        "visit_hours": "8",
        "in_place_hours": "20",
        "town_after_hours": "3",
        "county_after_hours": "10",
    }
    response = client.post(reverse("control:settings"), data)
    assert response.status_code == 302
    row = LoopSettings.objects.get()
    assert (row.ack_hours, row.visit_hours, row.county_after_hours) == (1, 8, 10)
    response = client.post(reverse("control:settings"), {**data, "county_after_hours": "2"})
    assert response.status_code == 200
    assert "上报县的时间须晚于上报镇的时间" in response.content.decode()
    assert LoopSettings.objects.get().county_after_hours == 10


def test_others_read_the_clocks_but_may_not_change_them(login, users, county):
    client = login(users.grid_worker)
    html = client.get(reverse("control:settings")).content.decode()
    assert "disabled" in html
    response = client.post(reverse("control:settings"), {"ack_hours": "1"})
    assert response.status_code == 403
    assert not LoopSettings.objects.exists()
