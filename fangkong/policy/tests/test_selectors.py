"""policy.selectors: the edition in force on a date, risk levels of an origin, downgrades."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import NotFound
from fangkong.policy.rules import plan_measure, rule_for
from fangkong.policy.selectors import (
    access_edition_by_code,
    access_risk_area_by_id,
    activation_in_force,
    activation_list,
    county_root,
    downgrade_for,
    edition_in_force,
    edition_list,
    risk_area_list,
    risk_level_at,
)
from fangkong.policy.services import edition_activate

from .factories import activate, edition, risk_area

D = dt.date


def test_county_root_is_the_level_zero_division(county):
    assert county_root() == county.root


def test_county_root_is_none_before_the_tree_exists(db):
    assert county_root() is None


# --- the edition in force ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2020, 9, 14), None),
        (D(2020, 9, 15), "v7"),
        (D(2021, 1, 19), "v7"),
        (D(2021, 1, 20), "rural-2021"),
        (D(2021, 5, 13), "rural-2021"),
        (D(2021, 5, 14), "v8"),
        (D(2022, 6, 27), "v8"),
        (D(2022, 6, 28), "v9"),
        (D(2022, 11, 10), "v9"),
        (D(2022, 11, 11), "twenty"),
        (D(2022, 12, 6), "twenty"),
        (D(2022, 12, 7), "ten"),
        (D(2026, 1, 1), "ten"),
    ],
)
def test_without_activations_the_latest_national_edition_applies(county, on, expected):
    found = edition_in_force(on=on)
    assert (found.code if found else None) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2021, 5, 31), "v8"),  # before the first activation: the national default
        (D(2021, 6, 1), "v8"),
        (D(2022, 6, 30), "v8"),  # the county has not switched to the 9th edition yet
        (D(2022, 7, 5), "v9"),
        (D(2022, 12, 31), "v9"),  # activations persist past later national editions
    ],
)
def test_the_latest_activation_on_or_before_the_date_applies(county, on, expected):
    activate("v8", D(2021, 6, 1), county.root)
    activate("v9", D(2022, 7, 5), county.root)
    assert edition_in_force(on=on).code == expected


def test_an_activation_in_the_past_applies_from_its_date(county, users):
    edition_activate(
        actor=users.commander, edition=edition("twenty"), effective_from=D(2022, 11, 14)
    )
    assert edition_in_force(on=D(2022, 11, 13)).code == "twenty"  # national default
    assert activation_in_force(on=D(2022, 11, 13)) is None
    assert activation_in_force(on=D(2022, 11, 14)).edition.code == "twenty"


def test_activating_a_new_edition_never_rewrites_an_order_already_issued(county, users, people):
    v9 = edition("v9")
    activate("v9", D(2022, 7, 1), county.root)
    plan = plan_measure(
        rule_for(v9, "close_contact"), anchor=D(2022, 11, 10), found_on=D(2022, 11, 10)
    )
    order = ControlOrder.objects.create(
        person=people.head,
        division=county.grid_a,
        category="close_contact",
        edition=v9,
        counts_from=plan.counts_from,
        anchor_date=plan.anchor,
        start_date=plan.start,
        end_date=plan.end,
        phases=plan.phases_json(),
        source_type="manual",
    )
    stored = list(order.phases)
    edition_activate(
        actor=users.commander, edition=edition("twenty"), effective_from=D(2022, 11, 11)
    )
    order.refresh_from_db()
    assert edition_in_force(on=D(2022, 11, 11)).code == "twenty"
    assert order.edition_id == v9.pk
    assert order.phases == stored
    assert order.phases[0]["days"] == 7  # still the 9th edition's 7 days, not 5


def test_a_local_adjustment_in_force(county):
    from fangkong.policy.models import PolicyEdition

    base = edition("v9")
    local = PolicyEdition.objects.create(
        code="v9-local",
        name="本县",
        short_name="本县",
        issued_on=D(2022, 7, 2),
        kind="local",
        base=base,
        jurisdiction=county.root,
        rules=base.rules,
    )
    activate("v9-local", D(2022, 7, 3), county.root)
    assert edition_in_force(on=D(2022, 7, 3)) == local


def test_edition_lists_are_for_logged_in_accounts(users):
    assert edition_list(viewer=AnonymousUser()).count() == 0
    assert edition_list(viewer=users.grid_worker).count() == 6
    assert edition_list(viewer=users.grid_worker, kind="local").count() == 0
    with pytest.raises(NotFound):
        access_edition_by_code(viewer=users.grid_worker, code="v10")
    with pytest.raises(NotFound):
        access_edition_by_code(viewer=AnonymousUser(), code="v9")
    assert access_edition_by_code(viewer=users.leader, code="v9").short_name == "第九版"


def test_activation_list_is_newest_first(users, county, django_assert_num_queries):
    activate("v8", D(2021, 6, 1), county.root)
    activate("v9", D(2022, 7, 5), county.root)
    with django_assert_num_queries(1):
        rows = [(a.edition.code, a.effective_from) for a in activation_list(viewer=users.leader)]
    assert rows == [("v9", D(2022, 7, 5)), ("v8", D(2021, 6, 1))]
    assert activation_list(viewer=AnonymousUser()).count() == 0


# --- risk levels ---------------------------------------------------------------------------------


def test_an_area_covers_the_codes_under_it(db):
    area = risk_area(level="medium", region_code="11", region_name="北京市")
    assert risk_level_at(origin_code="110105", on=D(2022, 7, 2)) == ("medium", area)
    assert risk_level_at(origin_code="110105001002", on=D(2022, 7, 2)) == ("medium", area)
    assert risk_level_at(origin_code="12", on=D(2022, 7, 2)) == (None, None)


def test_an_area_does_not_cover_a_wider_origin(db):
    risk_area(region_code="110105")
    assert risk_level_at(origin_code="11", on=D(2022, 7, 2)) == (None, None)
    assert risk_level_at(origin_code="1101", on=D(2022, 7, 2)) == (None, None)


def test_a_detail_must_be_in_the_origin_address(db):
    area = risk_area(region_code="110105", detail="松榆里社区 5号楼")
    assert risk_level_at(
        origin_code="110105", origin_address="北京市朝阳区松榆里社区5号楼2单元", on=D(2022, 7, 2)
    ) == ("high", area)
    assert risk_level_at(
        origin_code="110105", origin_address="北京市朝阳区松榆里社区6号楼", on=D(2022, 7, 2)
    ) == (None, None)
    assert risk_level_at(origin_code="110105", on=D(2022, 7, 2)) == (None, None)


@pytest.mark.parametrize(
    ("on", "covered"),
    [
        (D(2022, 6, 30), False),
        (D(2022, 7, 1), True),  # first day
        (D(2022, 7, 10), True),  # last day
        (D(2022, 7, 11), False),
    ],
)
def test_an_area_covers_its_days_inclusive(db, on, covered):
    risk_area(start_date=D(2022, 7, 1), end_date=D(2022, 7, 10))
    assert (risk_level_at(origin_code="110105", on=on)[0] == "high") is covered


def test_an_area_without_end_is_in_force_from_its_start(db):
    risk_area(start_date=D(2022, 7, 1))
    assert risk_level_at(origin_code="110105", on=D(2023, 1, 1))[0] == "high"


def test_the_highest_level_wins(db):
    risk_area(level="low", region_code="11", start_date=D(2022, 6, 1))
    high = risk_area(level="high", region_code="110105", detail="松榆里")
    risk_area(level="medium", region_code="1101")
    level, area = risk_level_at(origin_code="110105", origin_address="松榆里1号", on=D(2022, 7, 2))
    assert (level, area) == ("high", high)
    level, _area = risk_level_at(origin_code="110105", origin_address="别处", on=D(2022, 7, 2))
    assert level == "medium"


def test_no_match(db):
    risk_area(region_code="310106")
    assert risk_level_at(origin_code="110105", on=D(2022, 7, 2)) == (None, None)
    assert risk_level_at(origin_code="", on=D(2022, 7, 2)) == (None, None)


def test_risk_level_at_is_one_query(db, django_assert_num_queries):
    for code in ("11", "1101", "110105", "110105001", "310106", "32"):
        risk_area(region_code=code)
    with django_assert_num_queries(1):
        risk_level_at(origin_code="110105001001", on=D(2022, 7, 2))


# --- risk area lists ------------------------------------------------------------------------------


def test_risk_area_list_filters(users, county, django_assert_num_queries):
    inside = risk_area(
        level="medium", region_code="610326107", region_name="眉县齐镇", division=county.town_a
    )
    ended = risk_area(
        level="high", region_code="110105", end_date=D(2022, 7, 5), notice="朝阳区通告"
    )
    other = risk_area(level="low", region_code="310106", region_name="上海市静安区")
    with django_assert_num_queries(1):
        rows = list(risk_area_list(viewer=users.grid_worker))
    assert set(rows) == {inside, ended, other}
    assert list(risk_area_list(viewer=users.leader, level="medium")) == [inside]
    assert set(risk_area_list(viewer=users.leader, active_on=D(2022, 7, 6))) == {inside, other}
    assert list(risk_area_list(viewer=users.leader, inside_county=True)) == [inside]
    assert set(risk_area_list(viewer=users.leader, inside_county=False)) == {ended, other}
    assert list(risk_area_list(viewer=users.leader, q="静安")) == [other]
    assert list(risk_area_list(viewer=users.leader, q="通告")) == [ended]
    assert list(risk_area_list(viewer=users.leader, q="6103")) == [inside]
    assert risk_area_list(viewer=AnonymousUser()).count() == 0


def test_access_risk_area_by_id(users):
    area = risk_area()
    assert access_risk_area_by_id(viewer=users.grid_worker, area_id=area.pk) == area
    for viewer, area_id in [(users.grid_worker, area.pk + 1), (AnonymousUser(), area.pk)]:
        with pytest.raises(NotFound):
            access_risk_area_by_id(viewer=viewer, area_id=area_id)
    with pytest.raises(NotFound):
        access_risk_area_by_id(viewer=users.grid_worker, area_id="x")


# --- downgrades ------------------------------------------------------------------------------------


def test_downgrade_for_an_area_inside_the_county(county):
    activate("v9", D(2022, 7, 1), county.root)
    area = risk_area(region_code="610326107", division=county.town_a, last_case_on=D(2022, 7, 3))
    proposal = downgrade_for(area=area, today=D(2022, 7, 5))
    assert (proposal.to_level, proposal.earliest_on, proposal.needs_screening) == (
        "medium",
        D(2022, 7, 10),
        True,
    )


def test_downgrade_clock_runs_from_the_start_without_a_last_case(county):
    area = risk_area(region_code="610326107", division=county.town_a, start_date=D(2022, 11, 20))
    proposal = downgrade_for(area=area, today=D(2022, 11, 22))  # twenty measures in force
    assert (proposal.to_level, proposal.earliest_on) == ("low", D(2022, 11, 25))


def test_an_area_from_a_downgrade_takes_the_shorter_rule(county):
    high = risk_area(region_code="610326107", division=county.town_a, end_date=D(2022, 7, 9))
    medium = risk_area(
        level="medium",
        region_code="610326107",
        division=county.town_a,
        start_date=D(2022, 7, 10),
        source="downgrade",
        previous=high,
    )
    proposal = downgrade_for(area=medium, today=D(2022, 7, 11))
    assert (proposal.to_level, proposal.days, proposal.earliest_on) == ("low", 3, D(2022, 7, 13))


def test_no_downgrade_outside_the_county_or_after_the_end(county):
    outside = risk_area(region_code="110105")
    assert downgrade_for(area=outside, today=D(2022, 7, 5)) is None
    ended = risk_area(region_code="610326107", division=county.town_a, end_date=D(2022, 7, 3))
    assert downgrade_for(area=ended, today=D(2022, 7, 5)) is None
    low = risk_area(level="low", region_code="610326101", division=county.town_b)
    assert downgrade_for(area=low, today=D(2022, 7, 5)) is None


def test_edition_list_is_one_query(users, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = [(e.code, e.base) for e in edition_list(viewer=users.leader)]
    assert [code for code, _base in rows] == ["v7", "rural-2021", "v8", "v9", "twenty", "ten"]


def test_edition_in_force_takes_at_most_three_queries(county, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert edition_in_force(on=D(2022, 7, 1)).code == "v9"


def test_the_cached_level_of_the_barrier_agrees_with_risk_level_at(db, settings):
    """risk_level_cached keeps the day's areas per process; whatever the origin, it gives the
    level risk_level_at gives for an origin without a street address."""
    from fangkong.policy.selectors import _areas_on_day, risk_level_cached

    settings.FANGKONG = {**settings.FANGKONG, "PUBLIC_CACHE_SECONDS": 60}
    _areas_on_day.forget(D(2022, 7, 2))
    risk_area(level="low", region_code="11", start_date=D(2022, 6, 1))
    risk_area(level="high", region_code="110105", detail="松榆里")  # needs an address
    risk_area(level="medium", region_code="1101")
    risk_area(level="high", region_code="310106", end_date=D(2022, 7, 1))  # ended
    risk_area(level="high", region_code="420111", start_date=D(2022, 7, 3))  # not yet
    on = D(2022, 7, 2)
    for code in ("110105", "110105001", "110228", "1201", "310106", "420111", "", "11"):
        assert (
            risk_level_cached(origin_code=code, on=on) == risk_level_at(origin_code=code, on=on)[0]
        ), code
    assert risk_level_cached(origin_code="110105", on=on) == "medium"
    _areas_on_day.forget(on)  # other tests of this process start from an empty cache
