"""paginate: the one way lists are paged, on the web and in the API."""

from __future__ import annotations

import pytest
from django.test import override_settings

from fangkong.core.models import AuditEvent
from fangkong.core.pagination import paginate

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(db):
    AuditEvent.objects.bulk_create(
        [AuditEvent(verb="t", target_type="x", target_id=str(i)) for i in range(1, 9)]
    )
    return AuditEvent.objects.order_by("pk")


def test_pages_count_and_slice(events, django_assert_num_queries):
    with django_assert_num_queries(2):
        page = paginate(events, page=2, page_size=3)
    assert [e.target_id for e in page.items] == ["4", "5", "6"]
    assert (page.count, page.page, page.page_size, page.pages) == (8, 2, 3, 3)
    assert page.has_previous
    assert page.has_next


def test_page_past_the_end_is_empty_not_an_error(events):
    page = paginate(events, page=99, page_size=3)
    assert page.items == []
    assert page.count == 8
    assert not page.has_next


@override_settings(FANGKONG={"PAGE_SIZE": 2, "MAX_PAGE_SIZE": 5})
@pytest.mark.parametrize(
    ("page", "page_size", "expected_page", "expected_size"),
    [
        ("x", None, 1, 2),
        ("-3", "abc", 1, 2),
        (None, 1000, 1, 5),
        ("2", "0", 2, 1),
    ],
)
def test_bad_page_parameters_fall_back_to_safe_values(
    events, page, page_size, expected_page, expected_size
):
    result = paginate(events, page=page, page_size=page_size)
    assert (result.page, result.page_size) == (expected_page, expected_size)


def test_empty_list_has_one_page(db):
    page = paginate(AuditEvent.objects.all(), page=1, page_size=10)
    assert (page.count, page.pages, page.has_next, page.has_previous) == (0, 1, False, False)
