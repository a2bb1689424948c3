"""The Unfold back office: who gets in, masked people, and writes through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from conftest import PASSWORD, _user
from fangkong.accounts.models import ApiToken, GridWorker, Responsibility, User
from fangkong.accounts.selectors import user_for_token
from fangkong.accounts.services import token_create
from fangkong.core.audit import audit_record
from fangkong.core.models import AuditEvent, AuditReason
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person, PersonRevision

pytestmark = pytest.mark.django_db

OUR_MODELS = [
    AuditEvent,
    AuditReason,
    Division,
    User,
    GridWorker,
    Responsibility,
    ApiToken,
    Person,
    Household,
    PersonRevision,
]


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _add(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def _change(model, pk) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def test_every_model_is_registered_with_unfold():
    from unfold.admin import ModelAdmin

    for model in OUR_MODELS:
        assert isinstance(admin.site._registry[model], ModelAdmin), model


@pytest.mark.parametrize("who", ["admin", "superuser"])
@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_administrators_see_every_list(login, users, people, who, model):
    response = login(getattr(users, who)).get(_changelist(model))

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["commander", "town_officer", "grid_worker"])
def test_other_roles_do_not_get_into_the_back_office(login, users, who):
    response = login(getattr(users, who)).get(reverse("admin:index"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_the_admin_role_sees_no_models(login, users, people):
    users.commander.is_staff = True
    users.commander.save(update_fields=["is_staff"])
    client = login(users.commander)

    assert client.get(_changelist(Person)).status_code == 403
    assert client.get(_changelist(AuditEvent)).status_code == 403


def test_person_list_is_masked(login, users, people):
    response = login(users.admin).get(_changelist(Person))

    html = response.content.decode()
    assert people.head.id_number not in html
    assert people.head.phone not in html
    assert people.head.name not in html
    assert "139****5678" in html
    assert people.head.id_number[:6] + "**********" in html


def test_person_detail_is_read_only_and_masked(login, users, people):
    client = login(users.admin)

    response = client.get(_change(Person, people.head.pk))
    posted = client.post(_change(Person, people.head.pk), {"name": "改名"})

    html = response.content.decode()
    assert response.status_code == 200
    assert people.head.id_number not in html
    assert people.head.phone not in html
    assert posted.status_code == 403
    people.head.refresh_from_db()
    assert people.head.name == "张建国"


def test_person_search_finds_by_phone(login, users, people):
    response = login(users.admin).get(_changelist(Person), {"q": people.other.phone})

    assert list(response.context["cl"].result_list) == [people.other]


def test_audit_events_cannot_be_added_changed_or_deleted(login, users, county):
    event = audit_record(actor=users.commander, verb="geo.division.update", target=county.town_a)
    client = login(users.superuser)

    assert client.get(_add(AuditEvent)).status_code == 403
    assert client.post(_change(AuditEvent, event.pk), {"verb": "x"}).status_code == 403
    delete = reverse("admin:core_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.verb == "geo.division.update"


def test_division_added_in_the_admin_goes_through_the_service(login, users, county):
    response = login(users.admin).post(
        _add(Division),
        {
            "code": "610326107201003",
            "name": "三组",
            "parent": county.village_a.code,
            "kind": "rural",
        },
    )

    assert response.status_code == 302
    division = Division.objects.get(code="610326107201003")
    assert division.level == 3
    assert division.full_name.endswith("/三组")
    assert AuditEvent.objects.filter(verb="geo.division.create", actor=users.admin).count() == 1


def test_division_refused_by_the_service_shows_the_reason_and_writes_nothing(login, users, county):
    events = AuditEvent.objects.count()

    response = login(users.admin).post(
        _add(Division),
        {
            "code": "610326101201009",
            "name": "错组",
            "parent": county.village_a.code,
            "kind": "rural",
        },
    )

    assert response.status_code == 200
    assert "下级代码必须以上级代码开头并且更长" in response.content.decode()
    assert not Division.objects.filter(code="610326101201009").exists()
    assert AuditEvent.objects.count() == events


def test_division_renamed_in_the_admin_is_audited(login, users, county):
    response = login(users.admin).post(
        _change(Division, county.town_a.code),
        {"name": "齐镇（新）", "kind": "rural", "boundary": ""},
    )

    assert response.status_code == 302
    county.town_a.refresh_from_db()
    assert county.town_a.name == "齐镇（新）"
    assert AuditEvent.objects.filter(verb="geo.division.update").count() == 1


def test_user_created_in_the_admin_goes_through_the_service(login, users, county):
    response = login(users.admin).post(
        _add(User),
        {
            "username": "village_b",
            "display_name": "横渠村干部",
            "phone": "+86 13900001111",
            "role": "village_officer",
            "jurisdiction": county.village_b.code,
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    created = User.objects.get(username="village_b")
    assert created.phone == "13900001111"
    assert created.check_password(PASSWORD)
    assert created.jurisdiction_id == county.village_b.code
    assert (
        AuditEvent.objects.filter(verb="accounts.user.create", target_id=str(created.pk)).count()
        == 1
    )


def test_user_without_a_jurisdiction_is_refused_with_a_reason(login, users, county):
    response = login(users.admin).post(
        _add(User),
        {
            "username": "nobody",
            "role": "town_officer",
            "jurisdiction": "",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "请选择区划" in response.content.decode()
    assert not User.objects.filter(username="nobody").exists()


def test_user_role_change_in_the_admin_is_audited(login, users, county):
    officer = users.town_officer
    response = login(users.admin).post(
        _change(User, officer.pk),
        {
            "display_name": officer.display_name,
            "phone": "",
            "role": "village_officer",
            "jurisdiction": county.village_a.code,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    officer.refresh_from_db()
    assert (officer.role, officer.jurisdiction_id) == ("village_officer", county.village_a.code)
    event = AuditEvent.objects.get(verb="accounts.user.update")
    assert event.data["fields"] == ["role", "jurisdiction"]


def test_password_set_in_the_admin_is_audited_without_the_password(login, users):
    url = reverse("admin:auth_user_password_change", args=[users.grid_worker.pk])
    new = "Another-pass-2021"

    response = login(users.admin).post(
        url, {"usable_password": "true", "password1": new, "password2": new}
    )

    assert response.status_code == 302
    users.grid_worker.refresh_from_db()
    assert users.grid_worker.check_password(new)
    event = AuditEvent.objects.get(verb="accounts.user.set_password")
    assert event.actor == users.admin
    assert new not in str(event.data)


def test_grid_worker_added_in_the_admin_goes_through_the_service(login, users, county):
    response = login(users.admin).post(
        _add(GridWorker),
        {"name": "网格员丙", "phone": "13800000003", "grids": [county.grid_a2.code]},
    )

    assert response.status_code == 302
    worker = GridWorker.objects.get(name="网格员丙")
    assert list(worker.grids.values_list("code", flat=True)) == [county.grid_a2.code]
    assert AuditEvent.objects.filter(verb="accounts.grid_worker.create").count() == 1


def test_grid_worker_list_masks_phones(login, users):
    html = login(users.admin).get(_changelist(GridWorker)).content.decode()

    assert "13800000001" not in html
    assert "138****0001" in html


def test_responsibility_added_in_the_admin_goes_through_the_service(login, users, county):
    response = login(users.admin).post(
        _add(Responsibility),
        {
            "division": county.town_a.code,
            "tier": "county_leader",
            "name": "赵县长",
            "title": "副县长",
            "phone": "13912340000",
        },
    )

    assert response.status_code == 302
    assert Responsibility.objects.get(name="赵县长").division_id == county.town_a.code
    assert AuditEvent.objects.filter(verb="accounts.responsibility.assign").count() == 1


def test_api_tokens_are_revoked_through_the_service(login, users):
    token, raw = token_create(actor=None, user=users.commander, name="对接")

    response = login(users.admin).post(
        _changelist(ApiToken), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )

    assert response.status_code == 302
    assert user_for_token(token=raw) is None
    event = AuditEvent.objects.get(verb="accounts.token.revoke")
    assert event.actor == users.admin


def test_api_tokens_cannot_be_added_in_the_admin(login, users):
    assert login(users.admin).get(_add(ApiToken)).status_code == 403


def test_an_administrator_cannot_change_a_superusers_password(login, users):
    url = reverse("admin:auth_user_password_change", args=[users.superuser.pk])
    new = "Another-pass-2021"

    response = login(users.admin).post(
        url, {"usable_password": "true", "password1": new, "password2": new}
    )

    assert response.status_code == 403
    users.superuser.refresh_from_db()
    assert users.superuser.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(verb="accounts.user.set_password").exists()


def test_a_town_administrator_sees_only_the_town_in_the_admin(login, users, county, people):
    town_admin = _user("town_admin", "admin", county.town_a, is_staff=True)
    client = login(town_admin)

    # Django's admin answers a missing object with a redirect to the index.
    assert client.get(_change(User, users.other_town_officer.pk)).status_code == 302
    assert client.get(_change(User, users.town_officer.pk)).status_code == 200
    assert client.get(_change(Person, people.other.pk)).status_code == 302
    assert client.get(_change(Person, people.head.pk)).status_code == 200
    listed = client.get(_changelist(Division)).context["cl"].result_list
    assert {d.code for d in listed} == {
        county.town_a.code,
        county.village_a.code,
        county.grid_a.code,
        county.grid_a2.code,
    }
