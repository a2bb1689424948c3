"""policy.services: risk areas (validation messages, widening, ending, downgrades) and editions
(activation, local adjustment). Every write leaves exactly one audit event."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.policy.models import EditionActivation, PolicyEdition, RiskArea
from fangkong.policy.services import (
    edition_activate,
    edition_adjust,
    risk_area_confirm_downgrade,
    risk_area_create,
    risk_area_end,
    risk_area_update,
)

from .factories import activate, edition, risk_area

D = dt.date
TODAY = D(2022, 7, 10)


def _create(users, **fields):
    values = {"level": "high", "region_code": "110105", "start_date": D(2022, 7, 1)}
    values.update(fields)
    return risk_area_create(actor=users.commander, today=TODAY, **values)


def _errors(exc: ValidationFailed) -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in exc.errors.items()}


# --- risk_area_create -----------------------------------------------------------------------------


def test_create_fills_the_name_from_the_table_and_audits(users):
    area = _create(users, detail=" 松榆里社区 ", notice="北京市朝阳区通告")
    assert (area.region_code, area.region_name, area.detail) == (
        "110105",
        "北京市朝阳区",
        "松榆里社区",
    )
    assert area.division is None
    assert area.created_by == users.commander
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor, event.target_id) == (
        "policy.risk_area.create",
        users.commander,
        str(area.pk),
    )
    assert event.data == {
        "level": "high",
        "region_code": "110105",
        "start_date": "2022-07-01",
        "end_date": None,
        "source": "manual",
    }


def test_create_normalizes_province_and_city_codes(users):
    assert _create(users, region_code="110000").region_code == "11"
    assert _create(users, region_code="330100").region_name == "浙江省杭州市"


def test_create_keeps_a_given_name(users):
    area = _create(users, region_code="110105001", region_name="东华门街道")
    assert (area.region_code, area.region_name) == ("110105001", "北京市朝阳区东华门街道")


def test_a_division_of_the_county_sets_division(users, county):
    area = _create(users, region_code="610326107201")
    assert area.division == county.village_a
    assert area.region_name == "陕西省宝鸡市眉县齐镇齐镇村"


def test_the_county_itself_is_inside(users, county):
    assert _create(users, region_code="610326").division == county.root


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"region_code": "999999"},
            "region_code",
            "未知的区划代码 999999（不在 GB/T 2260 区划代码表中）",
        ),
        ({"region_code": "abc"}, "region_code", "区划代码应为 6 位数字"),
        ({"region_code": ""}, "region_code", "请填写区划代码"),
        ({"region_code": "999999001"}, "region_code", "前 6 位 999999 不是已知的县级区划"),
        ({"region_code": "610326199"}, "region_code", "本县没有区划代码 610326199"),
        ({"level": "extreme"}, "level", "风险等级须为高、中、低风险之一"),
        ({"start_date": D(2022, 7, 11)}, "start_date", "起始日期不能晚于今天"),
        ({"start_date": None}, "start_date", "请填写日期"),
        ({"start_date": "2022/07/01"}, "start_date", "日期格式应为 YYYY-MM-DD"),
        ({"end_date": D(2022, 6, 30)}, "end_date", "截止日期不能早于起始日期"),
        ({"last_case_on": D(2022, 7, 11)}, "last_case_on", "最近新增感染日期不能晚于今天"),
        ({"source": "rumour"}, "source", "未知的来源"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(users, county, fields, field, message):
    with pytest.raises(ValidationFailed) as caught:
        _create(users, **fields)
    errors = _errors(caught.value)
    assert any(message in m for m in errors[field]), errors
    assert not RiskArea.objects.exists()
    assert not AuditEvent.objects.exists()


def test_every_bad_field_is_named_at_once(users):
    with pytest.raises(ValidationFailed) as caught:
        _create(users, level="x", region_code="999999", start_date=D(2030, 1, 1))
    assert set(caught.value.errors) == {"level", "region_code", "start_date"}


def test_start_may_be_today(users):
    assert _create(users, start_date=TODAY).start_date == TODAY


def test_an_identical_area_is_a_conflict(users):
    first = _create(users, detail="松榆里")
    with pytest.raises(Conflict) as caught:
        _create(users, detail="松榆里")
    assert f"#{first.pk}" in str(caught.value.message)
    assert _create(users, detail="松榆里", level="medium").level == "medium"


@pytest.mark.parametrize(
    "role", ["leader", "town_officer", "village_officer", "grid_worker", "epidemiologist"]
)
def test_only_hq_writes_risk_areas(users, role):
    with pytest.raises(Forbidden):
        risk_area_create(
            actor=getattr(users, role), level="high", region_code="110105", start_date=TODAY
        )
    assert not RiskArea.objects.exists()


def test_admins_and_the_system_write_risk_areas(users):
    risk_area_create(actor=users.admin, level="high", region_code="110105", start_date=TODAY)
    risk_area_create(actor=None, level="high", region_code="110106", start_date=TODAY)
    assert RiskArea.objects.count() == 2


# --- risk_area_update -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "changes", "widened"),
    [
        ({}, {"start_date": D(2022, 6, 28)}, True),
        ({}, {"start_date": D(2022, 7, 3)}, False),
        ({"level": "medium"}, {"level": "high"}, True),
        ({}, {"level": "low"}, False),
        ({"detail": "松榆里"}, {"detail": ""}, True),
        ({}, {"detail": "松榆里"}, False),
        ({}, {"region_code": "1101"}, True),
        ({"region_code": "1101", "region_name": "北京市市辖区"}, {"region_code": "110105"}, False),
        ({"end_date": D(2022, 7, 5)}, {"end_date": D(2022, 7, 8)}, True),
        ({"end_date": D(2022, 7, 5)}, {"end_date": None}, True),
        ({"end_date": D(2022, 7, 12)}, {"end_date": D(2022, 7, 15)}, False),
        ({}, {"notice": "新的通告"}, False),
    ],
)
def test_update_says_when_the_area_got_wider(users, start, changes, widened):
    area = risk_area(**start)
    updated, got = risk_area_update(actor=users.commander, area=area, changes=changes, today=TODAY)
    assert got is widened
    for name, value in changes.items():
        assert getattr(updated, name) == value
    event = AuditEvent.objects.get(verb="policy.risk_area.update")
    assert event.data["widened"] is widened
    assert set(changes) <= set(event.data["fields"])


def test_update_renames_from_the_table_when_the_code_changes(users):
    area = risk_area()
    area, _widened = risk_area_update(
        actor=users.commander, area=area, changes={"region_code": "310106"}, today=TODAY
    )
    assert area.region_name == "上海市静安区"


def test_update_without_change_writes_nothing(users):
    area = risk_area()
    assert risk_area_update(actor=users.commander, area=area, changes={"level": "high"})[1] is False
    assert not AuditEvent.objects.exists()


def test_update_refuses_bad_input(users):
    area = risk_area()
    with pytest.raises(ValidationFailed) as caught:
        risk_area_update(
            actor=users.commander,
            area=area,
            changes={"end_date": D(2022, 6, 1), "region_code": "123456", "division": "x"},
            today=TODAY,
        )
    assert set(caught.value.errors) == {"division"}
    with pytest.raises(ValidationFailed) as caught:
        risk_area_update(
            actor=users.commander,
            area=area,
            changes={"end_date": D(2022, 6, 1), "region_code": "123456"},
            today=TODAY,
        )
    assert set(caught.value.errors) == {"end_date", "region_code"}
    area.refresh_from_db()
    assert (area.region_code, area.end_date) == ("110105", None)


def test_update_needs_hq(users):
    with pytest.raises(Forbidden):
        risk_area_update(actor=users.grid_worker, area=risk_area(), changes={"level": "low"})


# --- risk_area_end --------------------------------------------------------------------------------


def test_end_sets_the_last_day_with_a_reason(users):
    area = risk_area()
    risk_area_end(actor=users.commander, area=area, end_date=D(2022, 7, 9), reason="解除通告")
    area.refresh_from_db()
    assert area.end_date == D(2022, 7, 9)
    event = AuditEvent.objects.get(verb="policy.risk_area.end")
    assert event.reason.text == "解除通告"


def test_end_refuses_a_date_before_the_start_and_a_missing_reason(users):
    area = risk_area()
    with pytest.raises(ValidationFailed) as caught:
        risk_area_end(actor=users.commander, area=area, end_date=D(2022, 6, 30), reason=" ")
    assert _errors(caught.value) == {
        "reason": ["请填写结束依据（如解除通告）"],
        "end_date": ["截止日期不能早于起始日期 2022-07-01"],
    }


# --- risk_area_confirm_downgrade ------------------------------------------------------------------


def _inside(county, **fields):
    values = {"region_code": "610326107", "region_name": "眉县齐镇", "division": county.town_a}
    values.update(fields)
    return risk_area(**values)


def test_confirm_a_9th_edition_downgrade_step_by_step(users, county):
    activate("v9", D(2022, 7, 1), county.root)
    high = _inside(county, last_case_on=D(2022, 7, 2))
    with pytest.raises(ValidationFailed) as caught:
        risk_area_confirm_downgrade(
            actor=users.commander, area=high, on=D(2022, 7, 8), today=D(2022, 7, 10)
        )
    assert _errors(caught.value) == {"on": ["按现行方案最早可于 2022-07-09 降级（7 天无新增感染）"]}
    medium = risk_area_confirm_downgrade(
        actor=users.commander,
        area=high,
        on=D(2022, 7, 9),
        reason="第7天筛查全阴",
        today=D(2022, 7, 10),
    )
    high.refresh_from_db()
    assert high.end_date == D(2022, 7, 8)
    assert (medium.level, medium.start_date, medium.source, medium.previous) == (
        "medium",
        D(2022, 7, 9),
        "downgrade",
        high,
    )
    assert (medium.region_code, medium.division, medium.end_date) == (
        "610326107",
        county.town_a,
        None,
    )
    event = AuditEvent.objects.get(verb="policy.risk_area.downgrade")
    assert event.data == {
        "from": "high",
        "to": "medium",
        "on": "2022-07-09",
        "screening": True,
        "new_id": medium.pk,
    }
    # Medium after a downgrade: 3 more days.
    low = risk_area_confirm_downgrade(
        actor=users.commander, area=medium, on=D(2022, 7, 12), today=D(2022, 7, 12)
    )
    assert (low.level, low.start_date, low.previous) == ("low", D(2022, 7, 12), medium)


def test_the_ten_measures_lift_to_low_after_five_days(users, county):
    high = _inside(county, start_date=D(2022, 12, 10))
    low = risk_area_confirm_downgrade(
        actor=users.commander, area=high, on=D(2022, 12, 15), today=D(2022, 12, 20)
    )
    assert low.level == "low"


def test_a_lifting_rule_creates_no_area(users, county):
    base = edition("ten")
    lifting = PolicyEdition.objects.create(
        code="lift",
        name="解除",
        short_name="解除",
        issued_on=D(2022, 12, 8),
        kind="local",
        base=base,
        jurisdiction=county.root,
        rules=base.rules,
        downgrade_rules=[{"from": "high", "to": None, "days": 5, "screening": False}],
    )
    EditionActivation.objects.create(
        edition=lifting, jurisdiction=county.root, effective_from=D(2022, 12, 8)
    )
    high = _inside(county, start_date=D(2022, 12, 10))
    assert (
        risk_area_confirm_downgrade(
            actor=users.commander, area=high, on=D(2022, 12, 15), today=D(2022, 12, 16)
        )
        is None
    )
    high.refresh_from_db()
    assert high.end_date == D(2022, 12, 14)
    assert RiskArea.objects.count() == 1


def test_downgrade_refuses_a_future_date(users, county):
    high = _inside(county, start_date=D(2022, 12, 1))
    with pytest.raises(ValidationFailed) as caught:
        risk_area_confirm_downgrade(
            actor=users.commander, area=high, on=D(2022, 12, 21), today=D(2022, 12, 20)
        )
    assert "降级日期不能晚于今天" in _errors(caught.value)["on"]


def test_downgrade_refused_outside_the_county(users, county):
    with pytest.raises(Conflict):
        risk_area_confirm_downgrade(
            actor=users.commander, area=risk_area(), on=D(2022, 7, 20), today=D(2022, 7, 20)
        )
    assert not AuditEvent.objects.exists()


def test_downgrade_needs_hq(users, county):
    with pytest.raises(Forbidden):
        risk_area_confirm_downgrade(actor=users.leader, area=_inside(county), on=D(2022, 7, 20))


# --- edition_activate ------------------------------------------------------------------------------


def test_activate_from_a_past_date_is_audited(users, county):
    activation = edition_activate(
        actor=users.commander,
        edition=edition("v9"),
        effective_from=D(2022, 7, 1),
        reason="县指挥部通知",
    )
    assert (activation.jurisdiction, activation.activated_by) == (county.root, users.commander)
    event = AuditEvent.objects.get()
    assert (event.verb, event.data) == (
        "policy.edition.activate",
        {"edition": "v9", "effective_from": "2022-07-01"},
    )
    assert event.reason.text == "县指挥部通知"


def test_activate_refuses_a_date_before_the_edition_was_issued(users, county):
    with pytest.raises(ValidationFailed) as caught:
        edition_activate(actor=users.commander, edition=edition("v9"), effective_from=D(2022, 6, 1))
    assert _errors(caught.value) == {
        "effective_from": ["生效日期不能早于国家方案的发布日期 2022-06-28"]
    }


def test_one_activation_per_day(users, county):
    edition_activate(actor=users.commander, edition=edition("v9"), effective_from=D(2022, 7, 1))
    with pytest.raises(Conflict):
        edition_activate(actor=users.admin, edition=edition("v8"), effective_from=D(2022, 7, 1))
    assert EditionActivation.objects.count() == 1


def test_activate_needs_a_county_and_hq(users, db):
    with pytest.raises(Forbidden):
        edition_activate(actor=users.town_officer, edition=edition("v9"), effective_from=TODAY)


def test_activate_without_a_county_is_refused(db):
    with pytest.raises(ValidationFailed) as caught:
        edition_activate(actor=None, edition=edition("v9"), effective_from=TODAY)
    assert "edition" in caught.value.errors


# --- edition_adjust --------------------------------------------------------------------------------


def test_adjust_creates_a_local_edition_and_audits(users, county):
    local = edition_adjust(
        actor=users.commander,
        base=edition("v9"),
        code="V9-Meixian",
        name="第九版（眉县）",
        rules_changes={"low_risk_arrival": None},
        lookback_days=3,
        notes="低风险地区来返人员不再落地检",
    )
    assert (local.code, local.kind, local.base.code, local.jurisdiction) == (
        "v9-meixian",
        "local",
        "v9",
        county.root,
    )
    assert local.created_by == users.commander
    event = AuditEvent.objects.get()
    assert event.verb == "policy.edition.adjust"
    assert event.data == {
        "code": "v9-meixian",
        "base": "v9",
        "categories": ["low_risk_arrival"],
        "lookback_days": 3,
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"code": "v9"}, "code", "代码已被使用"),
        ({"code": "九版"}, "code", "代码须为 2–40 位小写字母、数字或连字符，如 v9-meixian"),
        ({"name": " "}, "name", "请填写名称"),
        ({"lookback_days": 0}, "lookback_days", "密接追溯天数须为正整数"),
        ({"rules_changes": []}, "rules", "须为对象：人员类别 -> 管控规则"),
        ({"rules_changes": {"case": "hospital"}}, "rules.case", "须为对象"),
    ],
)
def test_adjust_refuses_bad_input(users, county, kwargs, field, message):
    values = {"code": "v9-local", "name": "本县", "rules_changes": {}}
    values.update(kwargs)
    with pytest.raises(ValidationFailed) as caught:
        edition_adjust(actor=users.commander, base=edition("v9"), **values)
    assert message in _errors(caught.value)[field]
    assert not PolicyEdition.objects.filter(kind="local").exists()


def test_adjust_only_from_a_national_edition(users, county):
    local = edition_adjust(
        actor=users.commander, base=edition("v9"), code="v9-a", name="甲", rules_changes={}
    )
    with pytest.raises(ValidationFailed) as caught:
        edition_adjust(actor=users.commander, base=local, code="v9-b", name="乙", rules_changes={})
    assert _errors(caught.value) == {"base": ["只能在国家方案的基础上调整"]}


def test_adjust_needs_hq(users, county):
    with pytest.raises(Forbidden):
        edition_adjust(
            actor=users.leader, base=edition("v9"), code="v9-a", name="甲", rules_changes={}
        )
