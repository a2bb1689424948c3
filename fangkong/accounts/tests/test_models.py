"""accounts models: the policy a user carries, token digests, one holder per tier."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from fangkong.accounts.models import ApiToken, Responsibility
from fangkong.accounts.roles import NO_ACCESS, ROLE_POLICIES, Role, policy_for

pytestmark = pytest.mark.django_db


def test_every_role_has_a_policy():
    assert set(ROLE_POLICIES) == set(Role.values)


def test_a_user_carries_its_roles_policy(users):
    assert users.leader.policy == ROLE_POLICIES[Role.LEADER]
    assert users.leader.policy.can_edit_people is False
    assert users.grid_worker.policy.can_edit_people is True


def test_a_superuser_is_a_system_administrator_whatever_its_role(users):
    users.superuser.role = Role.LAB_STAFF
    assert policy_for(users.superuser) == ROLE_POLICIES[Role.ADMIN]


def test_anonymous_and_roleless_users_get_no_access(db, django_user_model):
    assert policy_for(AnonymousUser()) == NO_ACCESS
    roleless = django_user_model.objects.create(username="nobody")
    assert policy_for(roleless) == NO_ACCESS
    assert NO_ACCESS.can_reveal is False
    assert NO_ACCESS.can_edit_people is False


def test_only_administrators_browse_the_audit_log():
    assert {role for role, p in ROLE_POLICIES.items() if p.can_view_audit} == {Role.ADMIN}


def test_token_digest_is_sha256_and_never_the_token():
    digest = ApiToken.digest_for("fk_secret")
    assert len(digest) == 64
    assert "secret" not in digest
    assert digest == ApiToken.digest_for("fk_secret")


def test_token_needs_a_digest(users):
    with transaction.atomic(), pytest.raises(IntegrityError):
        ApiToken.objects.create(user=users.commander, prefix="fk_", digest="")


def test_one_holder_per_division_tier_and_name(county):
    Responsibility.objects.create(division=county.town_a, tier="county_leader", name="王县长")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Responsibility.objects.create(division=county.town_a, tier="county_leader", name="王县长")


def test_str_never_shows_names(users, county):
    holder = Responsibility.objects.create(division=county.town_a, tier="cadre", name="刘干部")
    assert "刘" not in str(holder)
    assert "网格员" not in str(users.grid_worker.grid_worker)
