"""accounts services: every write audited once, bad input named field by field, nothing half-done."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.accounts.models import ApiToken, GridWorker, Responsibility, User
from fangkong.accounts.services import (
    grid_worker_assign,
    grid_worker_create,
    responsibility_assign,
    token_create,
    token_revoke,
    user_create,
)
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent

pytestmark = pytest.mark.django_db

STRONG = "Qizhen-2020-epidemic"


def _only_event():
    event = AuditEvent.objects.get()
    return event, json.dumps(event.data, ensure_ascii=False)


# --- user_create -------------------------------------------------------------------------------


def test_admin_creates_a_town_officer(users, county):
    user = user_create(
        actor=users.admin,
        username="qizhen_li",
        password=STRONG,
        role="town_officer",
        jurisdiction_code="610326107",
        display_name="李干部",
        phone="+86 139 0000 1111",
    )
    user.refresh_from_db()
    assert (user.role, user.jurisdiction_id, user.phone) == (
        "town_officer",
        "610326107",
        "13900001111",
    )
    assert user.check_password(STRONG)
    event, data = _only_event()
    assert (event.verb, event.actor_id, event.target_id) == (
        "accounts.user.create",
        users.admin.pk,
        str(user.pk),
    )
    assert event.data == {"role": "town_officer", "jurisdiction": "610326107"}
    assert "李干部" not in data
    assert "13900001111" not in data


def test_command_line_creates_an_account_without_a_password(county):
    user = user_create(
        actor=None, username="hq2", password=None, role="commander", jurisdiction_code="610326"
    )
    assert not user.has_usable_password()
    assert AuditEvent.objects.get().actor_id is None


def test_user_create_names_every_bad_field_and_writes_nothing(users, county):
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        user_create(
            actor=users.admin,
            username="hq",  # taken
            password="123",
            role="mayor",
            jurisdiction_code="999999",
            phone="12345",
        )
    assert set(excinfo.value.errors) == {
        "username",
        "password",
        "role",
        "jurisdiction_code",
        "phone",
    }
    assert User.objects.count() == before
    assert not AuditEvent.objects.exists()


def test_jurisdiction_is_required_except_for_administrators(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        user_create(
            actor=users.admin,
            username="x",
            password=STRONG,
            role="grid_worker",
            jurisdiction_code="",
        )
    assert "jurisdiction_code" in excinfo.value.errors
    admin = user_create(
        actor=users.superuser,
        username="admin2",
        password=STRONG,
        role="admin",
        jurisdiction_code=None,
    )
    assert admin.scope_codes() is None
    assert admin.is_staff


def test_scoped_administrator_cannot_create_a_county_wide_account(users, county):
    # given an administrator limited to town A
    admin_a = user_create(
        actor=users.superuser,
        username="admin_a",
        password=STRONG,
        role="admin",
        jurisdiction_code="610326107",
    )
    AuditEvent.objects.all().delete()
    # when it creates an administrator without a jurisdiction (which would see everything)
    with pytest.raises(ValidationFailed) as excinfo:
        user_create(
            actor=admin_a, username="admin_all", password=STRONG, role="admin", jurisdiction_code=""
        )
    # then it is refused and nothing is written
    assert "jurisdiction_code" in excinfo.value.errors
    assert not User.objects.filter(username="admin_all").exists()
    assert not AuditEvent.objects.exists()


def test_jurisdiction_outside_the_actors_scope_is_refused_as_missing(users, county):
    admin_a = user_create(
        actor=users.superuser,
        username="admin_a",
        password=STRONG,
        role="admin",
        jurisdiction_code="610326107",
    )
    with pytest.raises(ValidationFailed) as outside:
        user_create(
            actor=admin_a,
            username="b1",
            password=STRONG,
            role="town_officer",
            jurisdiction_code="610326101",
        )
    with pytest.raises(ValidationFailed) as missing:
        user_create(
            actor=admin_a,
            username="b2",
            password=STRONG,
            role="town_officer",
            jurisdiction_code="610326199",
        )
    assert outside.value.errors == missing.value.errors


@pytest.mark.parametrize("role", ["leader", "town_officer", "grid_worker", "epidemiologist"])
def test_roles_that_do_not_manage_accounts_are_forbidden(users, county, role):
    with pytest.raises(Forbidden):
        user_create(
            actor=getattr(users, role),
            username="new",
            password=STRONG,
            role="grid_worker",
            jurisdiction_code="610326107201001",
        )
    assert not User.objects.filter(username="new").exists()
    assert not AuditEvent.objects.exists()


def test_anonymous_cannot_create_accounts(county):
    with pytest.raises(Forbidden):
        user_create(
            actor=AnonymousUser(),
            username="x",
            password=STRONG,
            role="leader",
            jurisdiction_code="610326",
        )


# --- tokens ------------------------------------------------------------------------------------


def test_token_create_stores_only_a_digest_and_audits_without_the_token(users):
    _token, raw = token_create(actor=users.town_officer, user=users.town_officer, name="手机")
    assert raw.startswith("fk_")
    assert len(raw) > 40
    stored = ApiToken.objects.get()
    assert stored.digest == ApiToken.digest_for(raw)
    assert raw not in {stored.digest, stored.prefix}
    assert stored.prefix == raw[:10]
    event, data = _only_event()
    assert (event.verb, event.actor_id) == ("accounts.token.create", users.town_officer.pk)
    assert event.data == {"user_id": users.town_officer.pk}
    assert raw not in data


def test_token_for_someone_else_needs_an_administrator(users):
    with pytest.raises(Forbidden):
        token_create(actor=users.town_officer, user=users.village_officer)
    assert not ApiToken.objects.exists()
    token, _ = token_create(actor=users.admin, user=users.village_officer)
    assert token.user == users.village_officer


def test_token_revoke_stamps_the_time_and_audits_once(users):
    token, _ = token_create(actor=None, user=users.town_officer)
    AuditEvent.objects.all().delete()
    token_revoke(actor=users.town_officer, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    event, _ = _only_event()
    assert (event.verb, event.actor_id) == ("accounts.token.revoke", users.town_officer.pk)


def test_revoking_someone_elses_token_is_forbidden(users):
    token, _ = token_create(actor=None, user=users.town_officer)
    with pytest.raises(Forbidden):
        token_revoke(actor=users.other_town_officer, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


# --- grid workers ------------------------------------------------------------------------------


def test_grid_worker_create_assigns_small_grids_and_audits_codes_only(users, county):
    AuditEvent.objects.all().delete()
    worker = grid_worker_create(
        actor=users.commander,
        name="网格员丙",
        phone="13700001111",
        grid_codes=["610326107201002", "610326101201001"],
    )
    assert sorted(worker.grids.values_list("code", flat=True)) == [
        "610326101201001",
        "610326107201002",
    ]
    event, data = _only_event()
    assert (event.verb, event.actor_id) == ("accounts.grid_worker.create", users.commander.pk)
    assert event.data == {"grids": ["610326101201001", "610326107201002"]}
    assert "网格员丙" not in data
    assert "13700001111" not in data


def test_grid_worker_create_names_every_bad_field_and_writes_nothing(users, county):
    before = GridWorker.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        grid_worker_create(
            actor=users.commander,
            name=" ",
            phone="110",
            grid_codes=["610326107201", "610326999999001"],
            user=users.grid_worker,  # already a grid worker
        )
    errors = excinfo.value.errors
    assert set(errors) == {"name", "phone", "grid_codes", "user"}
    assert len(errors["grid_codes"]) == 2  # one missing code, one village that is no small grid
    assert GridWorker.objects.count() == before
    assert not AuditEvent.objects.exists()


def test_grid_worker_needs_at_least_one_grid(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        grid_worker_create(actor=users.commander, name="丁", grid_codes=[])
    assert "grid_codes" in excinfo.value.errors


def test_grid_worker_assign_replaces_the_grids(users, county):
    worker = GridWorker.objects.get(user=users.grid_worker)
    grid_worker_assign(actor=users.admin, worker=worker, grid_codes=["610326107201002"])
    assert list(worker.grids.values_list("code", flat=True)) == ["610326107201002"]
    event, _ = _only_event()
    assert (event.verb, event.data) == (
        "accounts.grid_worker.assign",
        {"grids": ["610326107201002"]},
    )


def test_grid_worker_assign_refuses_villages_and_unknown_codes(users, county):
    worker = GridWorker.objects.get(user=users.grid_worker)
    with pytest.raises(ValidationFailed) as excinfo:
        grid_worker_assign(actor=users.admin, worker=worker, grid_codes=["610326107201"])
    assert "grid_codes" in excinfo.value.errors
    assert list(worker.grids.values_list("code", flat=True)) == ["610326107201001"]


# --- responsibility (四包抓) --------------------------------------------------------------------


def test_responsibility_assign_names_a_holder_and_audits_without_the_name(users, county):
    holder = responsibility_assign(
        actor=users.commander,
        division_code="610326107",
        tier="county_leader",
        name="王副县长",
        title="副县长",
        phone="13900000004",
    )
    assert (holder.division_id, holder.tier, holder.phone) == (
        "610326107",
        "county_leader",
        "13900000004",
    )
    event, data = _only_event()
    assert (event.verb, event.actor_id) == ("accounts.responsibility.assign", users.commander.pk)
    assert event.data == {"division": "610326107", "tier": "county_leader"}
    assert "王副县长" not in data


def test_the_same_holder_twice_is_a_conflict(users, county):
    responsibility_assign(
        actor=users.commander, division_code="610326107", tier="county_leader", name="王副县长"
    )
    with pytest.raises(Conflict) as excinfo:
        responsibility_assign(
            actor=users.commander, division_code="610326107", tier="county_leader", name="王副县长"
        )
    assert excinfo.value.status == 409
    assert Responsibility.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_responsibility_bad_input_names_every_field(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        responsibility_assign(
            actor=users.commander, division_code="", tier="boss", name="", phone="1"
        )
    assert set(excinfo.value.errors) == {"division_code", "tier", "name", "phone"}
    assert not Responsibility.objects.exists()


def test_leader_cannot_assign_responsibility(users, county):
    with pytest.raises(Forbidden):
        responsibility_assign(
            actor=users.leader, division_code="610326107", tier="cadre", name="某"
        )
