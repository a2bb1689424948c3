"""The plan and the treemap, without a database: determinism, valid numbers, exact tiling."""

from __future__ import annotations

import itertools
import random

import pytest

from fangkong.core.validators import parse_resident_id
from fangkong.demo import geometry, names
from fangkong.demo.population import Unit, build_plan

COUNTY = Unit("610326", "眉县", 0, "rural", None, "陕西省宝鸡市眉县")
TOWNS = [
    Unit("610326001", "首善街道", 1, "urban", "610326"),
    Unit("610326107", "齐镇", 1, "rural", "610326"),
]
VILLAGES = [
    Unit("610326001002", "东关社区", 2, "urban", "610326001"),
    Unit("610326001207", "三和村", 2, "rural", "610326001"),
    Unit("610326107200", "齐镇村", 2, "rural", "610326107"),
    Unit("610326107219", "党家寨村", 2, "rural", "610326107"),
]


def _plan(people: int = 5000, seed: int = 1, limit: int = 300):
    return build_plan(
        county=COUNTY, towns=TOWNS, villages=VILLAGES, people=people, seed=seed, worker_limit=limit
    )


def test_the_plan_is_a_function_of_seed_and_size():
    assert _plan().people == _plan().people
    assert _plan().people != _plan(seed=2).people
    assert len(_plan(people=4321).people) == 4321


def test_every_planned_id_number_parses_and_agrees_with_sex_and_birth_date():
    plan = _plan(people=20000)
    numbers = []
    for _, _, id_type, number, sex, birth, *_ in plan.people:
        if number is None:
            assert id_type == "none"
            continue
        parsed = parse_resident_id(number)
        assert (parsed.address_code, parsed.sex, parsed.birth_date) == ("610326", sex, birth)
        numbers.append(number)
    assert len(numbers) > 19600  # all but some newborns
    assert len(set(numbers)) == len(numbers)


def test_the_age_pyramid_is_plausible():
    plan = _plan(people=20000)
    ages = [2020 - row[5].year for row in plan.people]
    share = lambda lo, hi: sum(lo <= a < hi for a in ages) / len(ages)  # noqa: E731
    assert 0.12 < share(0, 15) < 0.24
    assert 0.50 < share(15, 60) < 0.68
    assert 0.15 < share(60, 120) < 0.30
    assert max(ages) <= 101


def test_addresses_name_the_group_or_the_building():
    plan = _plan()
    addresses = {row[10] for row in plan.people}
    assert any(
        a.startswith("陕西省宝鸡市眉县齐镇齐镇村一组") and a.endswith("号") for a in addresses
    )
    assert any("东关社区" in a and "号楼" in a and "单元" in a for a in addresses)


def test_a_village_named_after_a_family_is_full_of_that_family():
    plan = _plan(people=20000)
    dang = [row[1] for row in plan.people if row[7].startswith("610326107219")]
    assert sum(name.startswith("党") for name in dang) / len(dang) > 0.1


def test_squarify_tiles_the_rectangle_exactly():
    rect = (107.6, 34.05, 108.1, 34.35)
    weights = [random.Random(3).uniform(1, 50) for _ in range(23)]
    cells = geometry.squarify(weights, rect)
    assert len(cells) == len(weights)
    total = sum((e - w) * (n - s) for w, s, e, n in cells)
    assert total == pytest.approx((rect[2] - rect[0]) * (rect[3] - rect[1]), rel=1e-12)
    for (w, s, e, n), weight in zip(cells, weights, strict=True):
        assert rect[0] <= w < e <= rect[2]
        assert rect[1] <= s < n <= rect[3]
        share = (e - w) * (n - s) / total
        assert share == pytest.approx(weight / sum(weights), rel=1e-9)
    # No two cells overlap.
    for i, a in enumerate(cells):
        for b in cells[i + 1 :]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 1e-12 or overlap_y <= 1e-12


def test_squarified_cells_are_roughly_square_on_the_ground():
    rect = (107.6, 34.05, 108.1, 34.35)
    cells = geometry.squarify([1.0] * 16, rect)
    import math

    scale = math.cos(math.radians(34.2))
    for w, s, e, n in cells:
        ratio = ((e - w) * scale) / (n - s)
        assert 1 / 3 < ratio < 3


def test_polygons_are_closed_counter_clockwise_rings():
    poly = geometry.polygon((1.0, 2.0, 3.0, 4.0))
    ring = poly["coordinates"][0]
    assert poly["type"] == "Polygon"
    assert ring[0] == ring[-1]
    area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    assert area2 > 0  # counter-clockwise
    assert geometry.bbox(poly) == (1.0, 2.0, 3.0, 4.0)


def test_chinese_group_numbers():
    assert [names.villager_group(n) for n in (1, 10, 12, 20, 23)] == [
        "一组",
        "十组",
        "十二组",
        "二十组",
        "二十三组",
    ]
    assert names.romanize("齐镇") == "qizhen"
    assert names.romanize("龘镇") is None
