"""geo selectors: every list is scoped; out of scope answers like missing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.core.exceptions import NotFound
from fangkong.geo.selectors import (
    access_division_by_code,
    division_ancestors,
    division_list,
    division_root,
    division_viewer_roots,
)

pytestmark = pytest.mark.django_db


def _codes(qs):
    return [d.code for d in qs]


def test_commander_lists_the_whole_county_in_one_query(users, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert len(_codes(division_list(viewer=users.commander))) == 8


def test_town_officer_lists_the_town_subtree_only(users):
    assert _codes(division_list(viewer=users.town_officer)) == [
        "610326107",
        "610326107201",
        "610326107201001",
        "610326107201002",
    ]


def test_grid_worker_lists_only_its_grid(users, django_assert_num_queries):
    viewer = users.grid_worker
    viewer.scope_codes()  # the scope is computed once per request and cached on the user
    with django_assert_num_queries(1):
        assert _codes(division_list(viewer=viewer)) == ["610326107201001"]


def test_filters_by_parent_level_and_subtree(users):
    viewer = users.commander
    assert _codes(division_list(viewer=viewer, parent="610326")) == ["610326101", "610326107"]
    assert _codes(division_list(viewer=viewer, level=3)) == [
        "610326101201001",
        "610326107201001",
        "610326107201002",
    ]
    assert _codes(division_list(viewer=viewer, within="610326101")) == [
        "610326101",
        "610326101201",
        "610326101201001",
    ]


def test_children_outside_scope_are_not_listed(users):
    assert _codes(division_list(viewer=users.town_officer, parent="610326")) == ["610326107"]


def test_anonymous_lists_nothing(users):
    assert _codes(division_list(viewer=AnonymousUser())) == []


def test_access_out_of_scope_and_missing_raise_the_same_not_found(users):
    viewer = users.town_officer
    assert access_division_by_code(viewer=viewer, code="610326107201").name == "齐镇村"
    with pytest.raises(NotFound) as outside:
        access_division_by_code(viewer=viewer, code="610326101201")
    with pytest.raises(NotFound) as missing:
        access_division_by_code(viewer=viewer, code="610326199201")
    assert outside.value.as_dict() == missing.value.as_dict()


def test_ancestors_are_root_first_in_one_query(county, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = [d.name for d in division_ancestors(division=county.grid_a)]
    assert names == ["眉县", "齐镇", "齐镇村", "一组"]


def test_root_is_the_county(county):
    assert division_root() == county.root


def test_viewer_roots_are_the_tops_of_each_scope(users, county):
    assert division_viewer_roots(viewer=users.commander) == [county.root]
    assert division_viewer_roots(viewer=users.superuser) == [county.root]
    assert division_viewer_roots(viewer=users.town_officer) == [county.town_a]
    assert division_viewer_roots(viewer=users.grid_worker) == [county.grid_a]
