"""core.scope: the one data-scope filter, applied through viewer.scope_codes().

core may not import the domain apps, so these tests scope a core table (AuditEvent) on a
column that holds division codes; geo, accounts and people test the same filter on theirs.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fangkong.core.models import AuditEvent
from fangkong.core.scope import code_in_scope, scope_by_division, scope_q, subtree_q, viewer_codes

pytestmark = pytest.mark.django_db

TREE = [
    "610326",
    "610326101",
    "610326101201",
    "610326101201001",
    "610326107",
    "610326107201",
    "610326107201001",
    "610326107201002",
    "610326108",  # a sibling town: "610326108" sorts after "610326107:", never inside it
    "6103261070",  # not a real code, but shows the range is by characters
]


@pytest.fixture
def rows(db):
    AuditEvent.objects.bulk_create(
        [AuditEvent(verb="t", target_type="geo.division", target_id=code) for code in TREE]
    )
    return AuditEvent.objects.all()


def _viewer(codes, *, authenticated=True):
    return SimpleNamespace(is_authenticated=authenticated, scope_codes=lambda: codes)


def _codes(qs):
    return sorted(qs.values_list("target_id", flat=True))


def test_subtree_is_the_code_and_every_code_that_starts_with_it(rows):
    assert _codes(rows.filter(subtree_q("target_id", "610326107"))) == [
        "610326107",
        "6103261070",
        "610326107201",
        "610326107201001",
        "610326107201002",
    ]


def test_subtree_filter_is_one_range_condition(rows):
    sql = str(rows.filter(subtree_q("target_id", "610326107")).query)
    assert ">= 610326107" in sql
    assert "< 610326107:" in sql
    assert "LIKE" not in sql.upper()


def test_viewer_with_several_roots_sees_the_union(rows):
    viewer = _viewer(["610326107201001", "610326101"])
    assert _codes(scope_by_division(rows, viewer=viewer, field="target_id")) == [
        "610326101",
        "610326101201",
        "610326101201001",
        "610326107201001",
    ]


def test_none_means_county_wide_and_leaves_the_queryset_alone(rows):
    assert scope_q(viewer=_viewer(None), field="target_id") is None
    assert scope_by_division(rows, viewer=_viewer(None), field="target_id").count() == len(TREE)


@pytest.mark.parametrize(
    "viewer",
    [
        None,
        _viewer(None, authenticated=False),
        _viewer([]),
        SimpleNamespace(is_authenticated=True),  # an object without scope_codes at all
    ],
    ids=["none", "anonymous", "no-jurisdiction", "no-scope-codes"],
)
def test_anonymous_and_scopeless_viewers_see_nothing(rows, viewer):
    assert viewer_codes(viewer) == []
    assert scope_by_division(rows, viewer=viewer, field="target_id").count() == 0
    assert code_in_scope(viewer=viewer, code="610326") is False


def test_code_in_scope_answers_for_single_codes():
    viewer = _viewer(["610326107"])
    assert code_in_scope(viewer=viewer, code="610326107201001") is True
    assert code_in_scope(viewer=viewer, code="610326107") is True
    assert code_in_scope(viewer=viewer, code="610326101201001") is False
    assert code_in_scope(viewer=viewer, code="610326") is False
    assert code_in_scope(viewer=viewer, code="") is False
    assert code_in_scope(viewer=viewer, code=None) is False
    assert code_in_scope(viewer=_viewer(None), code="999999") is True
