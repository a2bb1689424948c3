"""Division: codes nest, so a subtree is one range of codes."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from fangkong.geo.models import Division

pytestmark = pytest.mark.django_db


def test_ancestor_codes_come_from_the_code_alone(county):
    assert county.grid_a.ancestor_codes() == [
        "610326",
        "610326107",
        "610326107201",
        "610326107201001",
    ]
    assert county.root.ancestor_codes() == ["610326"]


def test_subtree_of_a_village_holds_its_grids_only(county):
    codes = set(
        Division.objects.filter(county.village_a.subtree_q()).values_list("code", flat=True)
    )
    assert codes == {"610326107201", "610326107201001", "610326107201002"}


def test_only_small_grids_are_small_grids(county):
    assert county.grid_a.is_small_grid
    assert not county.village_a.is_small_grid


def test_str_shows_name_and_code(county):
    assert str(county.town_a) == "齐镇 (610326107)"


def test_a_code_must_be_digits(county):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Division.objects.create(code="61032610X", name="坏", parent=county.root, level=1)


def test_only_the_county_may_have_no_parent(db):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Division.objects.create(code="610326101", name="孤镇", parent=None, level=1)


def test_level_is_between_county_and_small_grid(county):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Division.objects.create(
            code="610326107201001001", name="太深", parent=county.grid_a, level=4
        )
