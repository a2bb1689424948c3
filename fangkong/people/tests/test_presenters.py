"""What each role sees of a person: masked by the table in accounts/roles.py, revealed on demand."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.accounts.models import User
from fangkong.accounts.roles import FULL, MASKED, ROLE_POLICIES, SURNAME, Role
from fangkong.people.presenters import household_display, person_display

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(people):
    people.head.notes = "独居老人，需重点关注"
    people.head.save(update_fields=["notes"])
    return people.head


def _viewer(role, county):
    return User.objects.create(username=f"v_{role}", role=role, jurisdiction=county.root)


@pytest.mark.parametrize("role", list(ROLE_POLICIES))
def test_each_role_sees_what_its_policy_says(role, person, county):
    # given a viewer of this role and the policy table
    policy = ROLE_POLICIES[role]
    viewer = _viewer(role, county)
    # when
    shown = person_display(viewer=viewer, person=person)
    # then the name is full or surname-only
    assert shown["name"] == {FULL: "张建国", SURNAME: "张**"}[policy.name]
    # the phone is 3+4 unless the role needs it
    assert shown["phone"] == {FULL: "13912345678", MASKED: "139****5678"}[policy.phone]
    # the address is cut at village level unless the role needs it
    assert (
        shown["address"]
        == {
            FULL: "眉县齐镇齐镇村一组12号",
            MASKED: "眉县齐镇齐镇***",
        }[policy.address]
    )
    # the ID number is masked for every role: birth date and sequence hidden
    assert shown["id_number"] == "610326**********" + person.id_number[-2:]
    assert shown["birth_date"] is None
    assert shown["birth_year"] == 1970
    assert shown["masked"] is True
    # notes may name people: shown only to roles that see names
    assert shown["notes"] == ("独居老人，需重点关注" if policy.name == FULL else "")


@pytest.mark.parametrize("role", list(ROLE_POLICIES))
def test_reveal_unmasks_only_for_roles_that_can_reveal(role, person, county):
    policy = ROLE_POLICIES[role]
    viewer = _viewer(role, county)
    shown = person_display(viewer=viewer, person=person, revealed=True)
    if policy.can_reveal:
        assert shown["masked"] is False
        assert shown["id_number"] == person.id_number
        assert shown["phone"] == "13912345678"
        assert shown["name"] == "张建国"
        assert shown["address"] == "眉县齐镇齐镇村一组12号"
        assert shown["birth_date"] == "1970-03-15"
    else:
        assert shown == person_display(viewer=viewer, person=person, revealed=False)
        assert shown["masked"] is True


def test_roles_that_may_reveal():
    assert {r for r, p in ROLE_POLICIES.items() if not p.can_reveal} == {
        Role.LEADER,
        Role.LAB_STAFF,
        Role.INSPECTOR,
        Role.LIAISON,
    }


def test_anonymous_sees_the_least_even_when_asking_to_reveal(person):
    shown = person_display(viewer=AnonymousUser(), person=person, revealed=True)
    assert shown["name"] == "张**"
    assert shown["phone"] == "139****5678"
    assert shown["id_number"].count("*") == 10
    assert shown["notes"] == ""


def test_superuser_is_treated_as_system_administrator(users, person):
    shown = person_display(viewer=users.superuser, person=person)
    assert shown["name"] == "张建国"
    assert shown["phone"] == "139****5678"


def test_display_carries_labels_and_ids_for_screens(users, person, people):
    shown = person_display(viewer=users.commander, person=person)
    assert shown["id"] == person.pk
    assert shown["id_type_label"] == "居民身份证"
    assert shown["sex_label"] == "男"
    assert shown["relation_label"] == "户主"
    assert shown["division_name"] == "一组"
    assert shown["household_id"] == people.household.pk


def test_person_without_document_or_phone_shows_empty_strings(users, county):
    from fangkong.people.models import Person

    infant = Person.objects.create(name="张小宝", id_type="none", division=county.grid_a)
    shown = person_display(viewer=users.commander, person=infant)
    assert (shown["id_number"], shown["phone"], shown["birth_year"]) == ("", "", None)


@pytest.mark.parametrize(
    ("role", "head_name", "address"),
    [
        ("commander", "张建国", "眉县齐镇齐镇村一组12号"),
        ("leader", "张**", "眉县齐镇齐镇***"),
        ("lab_staff", "张**", "眉县齐镇齐镇***"),
        ("grid_worker", "张建国", "眉县齐镇齐镇村一组12号"),
    ],
)
def test_household_display_masks_head_and_address_by_role(role, head_name, address, people, county):
    shown = household_display(viewer=_viewer(role, county), household=people.household)
    assert (shown["head_name"], shown["address"]) == (head_name, address)
    assert shown["head_id"] == people.head.pk
