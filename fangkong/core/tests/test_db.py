"""prefix_q: name-prefix search that an ordinary index can serve, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from fangkong.core.db import prefix_q
from fangkong.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def verbs(db):
    for verb in ("齐家寨", "齐镇", "齐镇村", "横渠镇", "Abc"):
        AuditEvent.objects.create(verb=verb, target_type="x")
    return AuditEvent.objects.all()


def _verbs(qs):
    return sorted(qs.values_list("verb", flat=True))


def test_prefix_matches_values_that_start_with_the_text(verbs):
    assert _verbs(verbs.filter(prefix_q("verb", "齐"))) == ["齐家寨", "齐镇", "齐镇村"]
    assert _verbs(verbs.filter(prefix_q("verb", "齐镇"))) == ["齐镇", "齐镇村"]


def test_prefix_is_case_sensitive_and_not_a_substring_match(verbs):
    assert _verbs(verbs.filter(prefix_q("verb", "abc"))) == []
    assert _verbs(verbs.filter(prefix_q("verb", "镇"))) == []
    assert _verbs(verbs.filter(prefix_q("verb", "Ab"))) == ["Abc"]
