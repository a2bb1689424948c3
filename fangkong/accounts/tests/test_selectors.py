"""accounts selectors: scoped lists, the escalation chain, bearer tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from fangkong.accounts.models import ApiToken, GridWorker, Responsibility
from fangkong.accounts.selectors import (
    access_user_by_id,
    escalation_chain,
    grid_worker_list,
    responsibility_list,
    user_for_token,
    user_list,
)
from fangkong.accounts.services import token_create, token_revoke
from fangkong.core.exceptions import NotFound

pytestmark = pytest.mark.django_db

ALL_WITH_JURISDICTION = [
    "epi",
    "gw_a",
    "gw_b",
    "hq",
    "lab",
    "leader",
    "town_a",
    "town_b",
    "village_a",
]


def _usernames(qs):
    return [u.username for u in qs]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("commander", ALL_WITH_JURISDICTION),
        ("town_officer", ["gw_a", "town_a", "village_a"]),
        ("village_officer", ["gw_a", "village_a"]),
        ("grid_worker", ["gw_a"]),
        ("other_grid_worker", ["gw_b"]),
        ("admin", sorted([*ALL_WITH_JURISDICTION, "admin", "root"])),
        ("superuser", sorted([*ALL_WITH_JURISDICTION, "admin", "root"])),
    ],
)
def test_user_list_shows_accounts_whose_jurisdiction_is_in_scope(
    users, viewer, expected, django_assert_num_queries
):
    account = getattr(users, viewer)
    account.scope_codes()  # computed once per request, cached on the user
    with django_assert_num_queries(1):
        assert _usernames(user_list(viewer=account)) == expected


def test_user_list_for_anonymous_is_empty(users):
    assert _usernames(user_list(viewer=AnonymousUser())) == []


def test_user_list_filters_by_role(users):
    assert _usernames(user_list(viewer=users.commander, role="grid_worker")) == ["gw_a", "gw_b"]


def test_access_user_outside_scope_is_the_same_not_found_as_missing(users):
    viewer = users.town_officer
    assert (
        access_user_by_id(viewer=viewer, user_id=users.village_officer.pk).username == "village_a"
    )
    with pytest.raises(NotFound) as outside:
        access_user_by_id(viewer=viewer, user_id=users.other_town_officer.pk)
    with pytest.raises(NotFound) as missing:
        access_user_by_id(viewer=viewer, user_id=999_999)
    with pytest.raises(NotFound):
        access_user_by_id(viewer=viewer, user_id="abc")
    assert outside.value.as_dict() == missing.value.as_dict()


def test_grid_worker_list_follows_the_grids_in_scope(users, county):
    assert [w.name for w in grid_worker_list(viewer=users.commander)] == ["网格员甲", "网格员乙"]
    assert [w.name for w in grid_worker_list(viewer=users.town_officer)] == ["网格员甲"]
    assert [w.name for w in grid_worker_list(viewer=users.commander, division="610326101")] == [
        "网格员乙"
    ]
    assert list(grid_worker_list(viewer=AnonymousUser())) == []


def test_a_worker_with_grids_in_two_towns_is_listed_once(users, county):
    worker = GridWorker.objects.get(user=users.grid_worker)
    worker.grids.add(county.grid_a2, county.grid_b)
    names = [w.name for w in grid_worker_list(viewer=users.commander)]
    assert names == ["网格员甲", "网格员乙"]


def test_inactive_grid_workers_are_not_listed(users):
    GridWorker.objects.filter(user=users.other_grid_worker).update(active=False)
    assert [w.name for w in grid_worker_list(viewer=users.commander)] == ["网格员甲"]


def test_responsibility_list_is_scoped(users, county):
    Responsibility.objects.create(division=county.town_a, tier="county_leader", name="甲")
    Responsibility.objects.create(division=county.town_b, tier="county_leader", name="乙")
    assert [r.name for r in responsibility_list(viewer=users.commander)] == ["乙", "甲"]
    assert [r.name for r in responsibility_list(viewer=users.town_officer)] == ["甲"]
    assert [r.name for r in responsibility_list(viewer=users.grid_worker)] == []


@pytest.fixture
def chain_holders(county, users):
    """四包抓 holders from the county down to grid A1a, created out of order."""
    Responsibility.objects.create(
        division=county.root, tier="commander", name="县指挥部", phone="13900000005"
    )
    Responsibility.objects.create(
        division=county.grid_a, tier="cadre", name="包组干部", phone="13900000002"
    )
    Responsibility.objects.create(
        division=county.town_a, tier="county_leader", name="包镇县领导", phone="13900000004"
    )
    Responsibility.objects.create(
        division=county.village_a, tier="town_leader", name="包村镇领导", phone="13900000003"
    )
    # a holder in another town never appears in A's chain
    Responsibility.objects.create(division=county.town_b, tier="county_leader", name="别镇领导")


def test_escalation_chain_runs_from_grid_worker_to_commander(
    county, users, chain_holders, django_assert_num_queries
):
    with django_assert_num_queries(3):
        chain = escalation_chain(division=county.grid_a)
    assert [(link.tier, link.name) for link in chain] == [
        ("grid_worker", "网格员甲"),
        ("cadre", "包组干部"),
        ("town_leader", "包村镇领导"),
        ("county_leader", "包镇县领导"),
        ("commander", "县指挥部"),
    ]
    assert [link.division_code for link in chain] == [
        "610326107201001",
        "610326107201001",
        "610326107201",
        "610326107",
        "610326",
    ]
    assert chain[0].user_id == users.grid_worker.pk
    assert chain[3].division_name == "齐镇"


def test_escalation_chain_of_a_village_starts_at_its_own_holders(county, users, chain_holders):
    chain = escalation_chain(division=county.village_a)
    assert [link.tier for link in chain] == ["town_leader", "county_leader", "commander"]


def test_escalation_chain_of_an_unstaffed_grid_goes_straight_up(county, chain_holders):
    chain = escalation_chain(division=county.grid_a2)
    assert [link.tier for link in chain] == ["town_leader", "county_leader", "commander"]


def test_token_finds_its_active_user_and_marks_it_used(users):
    token, raw = token_create(actor=None, user=users.town_officer)
    assert user_for_token(token=raw) == users.town_officer
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_unknown_and_empty_tokens_find_nobody(users):
    token, raw = token_create(actor=None, user=users.town_officer)
    assert user_for_token(token="fk_not-a-token") is None
    assert user_for_token(token="") is None
    token_revoke(actor=None, token=token)
    assert user_for_token(token=raw) is None


def test_token_of_an_inactive_user_finds_nobody(users):
    _, raw = token_create(actor=None, user=users.town_officer)
    users.town_officer.is_active = False
    users.town_officer.save(update_fields=["is_active"])
    assert user_for_token(token=raw) is None


def test_last_used_is_written_at_most_every_five_minutes(users, django_assert_num_queries):
    token, raw = token_create(actor=None, user=users.town_officer)
    recent = timezone.now() - dt.timedelta(minutes=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    with django_assert_num_queries(1):
        user_for_token(token=raw)
    token.refresh_from_db()
    assert token.last_used_at == recent
