"""Where each account's scope comes from (accounts.scope.scope_codes_for)."""

from __future__ import annotations

import pytest

from fangkong.accounts.models import GridWorker
from fangkong.accounts.scope import scope_codes_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("account", "codes"),
    [
        ("commander", ["610326"]),
        ("leader", ["610326"]),
        ("town_officer", ["610326107"]),
        ("other_town_officer", ["610326101"]),
        ("village_officer", ["610326107201"]),
        ("grid_worker", ["610326107201001"]),
        ("other_grid_worker", ["610326101201001"]),
        ("epidemiologist", ["610326"]),
        ("admin", None),
        ("superuser", None),
    ],
)
def test_scope_codes_per_account(users, account, codes):
    assert getattr(users, account).scope_codes() == codes


def test_grid_worker_sees_only_its_grids_even_with_a_wider_jurisdiction(users, county):
    # given a grid worker whose account says "town A" but who is assigned two grids
    user = users.grid_worker
    user.jurisdiction = county.town_a
    user.save(update_fields=["jurisdiction"])
    user.grid_worker.grids.add(county.grid_a2)
    # when / then
    assert scope_codes_for(user) == ["610326107201001", "610326107201002"]


def test_grid_worker_without_grids_falls_back_to_its_jurisdiction(users, county):
    users.grid_worker.grid_worker.grids.clear()
    assert scope_codes_for(users.grid_worker) == ["610326107201001"]


def test_inactive_grid_worker_record_falls_back_to_the_account_jurisdiction(users, county):
    GridWorker.objects.filter(user=users.grid_worker).update(active=False)
    users.grid_worker.refresh_from_db()
    users.grid_worker.jurisdiction = county.village_a
    assert scope_codes_for(users.grid_worker) == ["610326107201"]


def test_inactive_account_sees_nothing(users):
    users.commander.is_active = False
    assert scope_codes_for(users.commander) == []
    users.superuser.is_active = False
    assert scope_codes_for(users.superuser) == []


def test_account_without_jurisdiction_sees_nothing(db, django_user_model):
    user = django_user_model.objects.create(username="x", role="town_officer")
    assert scope_codes_for(user) == []


def test_administrator_with_a_jurisdiction_is_limited_to_it(db, django_user_model, county):
    user = django_user_model.objects.create(username="a", role="admin", jurisdiction=county.town_b)
    assert scope_codes_for(user) == ["610326101"]


def test_scope_is_computed_once_per_user_object(users, django_assert_num_queries):
    user = users.grid_worker
    user.scope_codes()
    with django_assert_num_queries(0):
        assert user.scope_codes() == ["610326107201001"]
