"""The demo outbreak: a confirmed case in a market cluster, its check-ins, the candidates the
engine finds, and the household decided close contacts with measures in the inboxes."""

from __future__ import annotations

import pytest

from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import Forbidden
from fangkong.demo.services import demo_seed, demo_seed_loop, demo_seed_outbreak
from fangkong.places.models import CheckIn
from fangkong.tracing.models import Case, Contact

pytestmark = pytest.mark.django_db
COUNTY = "610326"


@pytest.fixture
def outbreak():
    demo_seed(actor=None, county_code=COUNTY, people=1500, seed=7)
    demo_seed_loop(actor=None, county_code=COUNTY, seed=7)
    return demo_seed_outbreak(actor=None, county_code=COUNTY, seed=7)


def test_a_case_with_candidates_from_the_household_and_the_market(outbreak):
    case = Case.objects.get()
    assert case.code == outbreak.case_code
    assert case.classification == "confirmed"
    assert case.cluster.code == outbreak.cluster_code
    assert outbreak.checkins == CheckIn.objects.count() >= 20
    kinds = set(Contact.objects.filter(case=case).values_list("evidence_kind", flat=True))
    assert "checkin" in kinds  # market companions found by the engine
    assert outbreak.candidates == Contact.objects.filter(case=case).count()
    assert case.investigation.timeline.filter(source="checkin").count() == 2


def test_the_household_is_decided_close_with_measures(outbreak):
    close = Contact.objects.filter(status=Contact.Status.CLOSE)
    assert close.count() == outbreak.close_contacts
    for contact in close:
        assert contact.evidence_kind == "household"
        assert contact.order_id is not None
        assert ControlOrder.objects.get(pk=contact.order_id).category == "close_contact"


def test_seeding_the_outbreak_again_writes_nothing(outbreak):
    again = demo_seed_outbreak(actor=None, county_code=COUNTY, seed=7)
    assert again.skipped
    assert Case.objects.count() == 1


def test_only_the_command_line_or_a_superuser_may_seed_it(users):
    with pytest.raises(Forbidden):
        demo_seed_outbreak(actor=users.commander, county_code=COUNTY, seed=1)
