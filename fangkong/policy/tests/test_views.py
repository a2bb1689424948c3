"""The editions pages: what everyone sees, who may activate and adjust, errors next to fields."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from fangkong.core.timeutils import local_today
from fangkong.policy.models import EditionActivation, PolicyEdition

from .factories import activate

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
MANAGERS = ["commander", "admin", "superuser"]
NOT_MANAGERS = [
    "leader",
    "town_officer",
    "village_officer",
    "grid_worker",
    "epidemiologist",
    "lab_staff",
]
LIST = reverse("policy:list")
ACTIVATE = reverse("policy:activate")
ADJUST = reverse("policy:adjust")


def _text(response) -> str:
    return response.content.decode()


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, ACTIVATE, ADJUST, reverse("policy:detail", args=["v9"])])
def test_anonymous_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


@pytest.mark.parametrize("role", READERS)
def test_everyone_logged_in_reads_the_side_by_side_table(users, login, role):
    response = login(getattr(users, role)).get(LIST)
    assert response.status_code == 200
    page = _text(response)
    for name in ("第七版", "农村冬春方案", "第八版", "第九版", "二十条", "新十条"):
        assert name in page
    assert 'id="presets-table"' in page
    assert "集中隔离 7 天（第1、2、3、5、7天检测） + 居家健康监测 3 天（第3天检测）" in page
    assert "落地检测 3 天（第1、3天检测）" in page
    assert "密接追溯天数" in page
    assert "风险地区降级" in page
    assert 'href="/policy/"' in page  # the nav link


def test_the_table_has_one_row_per_category_and_a_dash_when_not_determined(users, login):
    page = _text(login(users.leader).get(LIST))
    rows = re.findall(r'<tr data-row="([a-z_]+)">', page)
    assert rows == [
        "close_contact",
        "secondary_contact",
        "entrant",
        "high_risk_arrival",
        "medium_risk_arrival",
        "low_risk_arrival",
        "case",
        "rural_returnee",
        "lookback_days",
        "risk_levels",
        "downgrade_rules",
    ]
    low_row = page.split('<tr data-row="low_risk_arrival">')[1].split("</tr>")[0]
    assert low_row.count("—") == 4  # v7, rural, v8, ten


def test_the_edition_in_force_today_is_marked(users, login, county):
    page = _text(login(users.leader).get(LIST))
    assert "（本县未启用方案，按最新国家方案）" in page
    assert "<strong>新十条</strong>" in page
    activate("v9", local_today() - dt.timedelta(days=3), county.root)
    page = _text(login(users.leader).get(LIST))
    assert "<strong>第九版</strong>" in page
    head = page.split('data-edition="v9"')[1].split("</th>")[0]
    assert "今日适用" in head
    assert 'id="activations"' in page
    assert page.count("table-warning") == 2


@pytest.mark.parametrize("role", ["leader", "grid_worker"])
def test_readers_see_no_manager_buttons(users, login, role):
    page = _text(login(getattr(users, role)).get(LIST))
    assert ACTIVATE not in page
    assert ADJUST not in page


def test_managers_see_the_buttons(users, login):
    page = _text(login(users.commander).get(LIST))
    assert ACTIVATE in page
    assert ADJUST in page


@pytest.mark.parametrize("role", READERS)
def test_edition_detail(users, login, role):
    response = login(getattr(users, role)).get(reverse("policy:detail", args=["twenty"]))
    assert response.status_code == 200
    page = _text(response)
    assert "二十条" in page
    assert "— 本版不规定" in page  # secondary contacts
    assert "高风险 → 低风险：连续 5 天无新增感染，且全员核酸筛查阴性" in page
    assert "[S11]" in page


def test_unknown_edition_is_404(users, login):
    assert login(users.commander).get(reverse("policy:detail", args=["v10"])).status_code == 404


# --- activating ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_open_the_activation_form(users, login, role):
    response = login(getattr(users, role)).get(ACTIVATE + "?edition=v9")
    assert response.status_code == 200
    assert 'value="v9" selected' in _text(response)


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_others_may_not_activate(users, login, role):
    client = login(getattr(users, role))
    assert client.get(ACTIVATE).status_code == 403
    response = client.post(ACTIVATE, {"edition": "v9", "effective_from": "2022-07-01"})
    assert response.status_code == 403
    assert not EditionActivation.objects.exists()


def test_activate_from_a_past_date(users, login, county):
    response = login(users.commander).post(
        ACTIVATE, {"edition": "v9", "effective_from": "2022-07-01", "reason": "县指挥部通知"}
    )
    assert response.status_code == 302
    activation = EditionActivation.objects.get()
    assert (activation.edition.code, activation.effective_from) == ("v9", dt.date(2022, 7, 1))


def test_activation_errors_are_shown_next_to_the_field(users, login, county):
    response = login(users.commander).post(
        ACTIVATE, {"edition": "v9", "effective_from": "2022-06-01"}
    )
    assert response.status_code == 200
    assert 'data-field="effective_from">生效日期不能早于国家方案的发布日期 2022-06-28' in _text(
        response
    )
    activate("v8", dt.date(2021, 6, 1), county.root)
    response = login(users.commander).post(
        ACTIVATE, {"edition": "v7", "effective_from": "2021-06-01"}
    )
    assert "已有启用记录" in _text(response)
    assert EditionActivation.objects.count() == 1


# --- adjusting ----------------------------------------------------------------------------------


def _adjust_form(base: PolicyEdition, **overrides) -> dict[str, str]:
    """The form as the page renders it for `base`, then `overrides`."""
    from fangkong.policy.presenters import CATEGORY_ORDER

    data = {"base": base.code, "code": f"{base.code}-local", "name": "本县", "lookback_days": "2"}
    for category in CATEGORY_ORDER:
        rule = (base.rules or {}).get(category)
        if rule:
            data[f"{category}-apply"] = "on"
        for index, phase in enumerate((rule or {}).get("phases") or []):
            data[f"{category}-{index}-kind"] = phase["kind"]
            data[f"{category}-{index}-days"] = "" if phase["days"] is None else str(phase["days"])
            data[f"{category}-{index}-tests"] = ",".join(str(d) for d in phase["test_days"])
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_open_the_adjustment_form(users, login, county, role):
    response = login(getattr(users, role)).get(ADJUST + "?base=v9")
    assert response.status_code == 200
    page = _text(response)
    assert 'name="close_contact-0-tests" value="1,2,3,5,7"' in page
    assert "不规定（不得新增）" in page  # rural returnees under the 9th edition


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_others_may_not_adjust(users, login, county, role):
    client = login(getattr(users, role))
    assert client.get(ADJUST).status_code == 403
    from .factories import edition

    assert client.post(ADJUST, _adjust_form(edition("v9"))).status_code == 403
    assert not PolicyEdition.objects.filter(kind="local").exists()


def test_a_milder_adjustment_is_saved(users, login, county):
    from .factories import edition

    data = _adjust_form(
        edition("v9"),
        **{
            "close_contact-0-days": "5",
            "close_contact-0-tests": "1、3，5",
            "low_risk_arrival-apply": None,
        },
    )
    response = login(users.commander).post(ADJUST, data)
    assert response.status_code == 302, _text(response)
    local = PolicyEdition.objects.get(kind="local")
    assert response["Location"] == reverse("policy:detail", args=[local.code])
    assert local.rules["close_contact"]["phases"][0] == {
        "kind": "centralized",
        "days": 5,
        "test_days": [1, 3, 5],
    }
    assert "low_risk_arrival" not in local.rules
    page = _text(login(users.commander).get(response["Location"]))
    assert "本县调整" in page


def test_quarantine_for_low_risk_arrivals_is_refused_next_to_the_category(users, login, county):
    from .factories import edition

    data = _adjust_form(
        edition("v9"),
        **{"low_risk_arrival-0-kind": "home_isolation", "low_risk_arrival-0-tests": "1"},
    )
    response = login(users.commander).post(ADJUST, data)
    assert response.status_code == 200
    assert (
        'data-field="low_risk_arrival-apply">低风险地区来返人员：不得采取集中隔离或居家隔离'
        "（国家方案上限：落地检测 3 天）"
    ) in _text(response)
    assert not PolicyEdition.objects.filter(kind="local").exists()


def test_adding_a_category_is_refused(users, login, county):
    from .factories import edition

    data = _adjust_form(
        edition("twenty"),
        **{
            "secondary_contact-apply": "on",
            "secondary_contact-0-kind": "home_isolation",
            "secondary_contact-0-days": "7",
        },
    )
    page = _text(login(users.commander).post(ADJUST, data))
    assert "密接的密接：国家方案未规定此类人员的管控措施，不得擅自扩大管控人群范围" in page


def test_phase_errors_are_shown_on_their_row(users, login, county):
    from .factories import edition

    data = _adjust_form(
        edition("v9"),
        **{
            "close_contact-0-tests": "1,2,9",
            "close_contact-1-days": "x",
            "case-1-days": "3",  # a row with days but no kind
            "lookback_days": "6",
        },
    )
    page = _text(login(users.commander).post(ADJUST, data))
    assert 'data-field="close_contact-1-days">天数须为正整数（留空表示至解除）' in page
    assert 'data-field="case-1-kind">请选择措施类型' in page
    assert not PolicyEdition.objects.filter(kind="local").exists()
    data = _adjust_form(edition("v9"), **{"close_contact-0-tests": "1,2,9", "lookback_days": "6"})
    page = _text(login(users.commander).post(ADJUST, data))
    assert 'data-field="close_contact-0-tests">检测日第 9 天超出本分段的 7 天' in page
    data = _adjust_form(edition("v9"), lookback_days="6")
    page = _text(login(users.commander).post(ADJUST, data))
    assert "密接追溯天数不得超过 4 天" in page
