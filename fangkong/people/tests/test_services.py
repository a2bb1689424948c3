"""people services: every write audited once, bad input named field by field, nothing half-done."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent, AuditReason
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Household, Person, PersonRevision
from fangkong.people.selectors import person_history
from fangkong.people.services import (
    household_add_member,
    household_create,
    person_create,
    person_merge,
    person_reveal,
    person_update,
)

pytestmark = pytest.mark.django_db

ZHAO_ID = make_resident_id("610326", dt.date(1985, 4, 12), 37)  # male
PII = ("赵", "13612340000", ZHAO_ID, ZHAO_ID[:14], "一组8号")


def _assert_no_pii(event, *values):
    text = json.dumps(event.data, ensure_ascii=False)
    for value in (*PII, *values):
        assert value not in text, f"{value!r} leaked into audit data {text}"


def _create_zhao(actor, county, **extra):
    fields = {
        "name": "赵志刚",
        "division_code": county.grid_a.code,
        "id_number": ZHAO_ID,
        "phone": "13612340000",
        "address": "眉县齐镇齐镇村一组8号",
    }
    fields.update(extra)
    return person_create(actor=actor, **fields)


# --- person_create -----------------------------------------------------------------------------


def test_create_derives_birth_date_and_sex_and_audits_once(users, county):
    # when
    person = _create_zhao(users.grid_worker, county)
    # then
    person.refresh_from_db()
    assert (person.id_type, person.id_number) == ("resident_id", ZHAO_ID)
    assert (person.birth_date, person.sex) == (dt.date(1985, 4, 12), "M")
    assert person.division_id == "610326107201001"
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("people.person.create", users.grid_worker.pk)
    assert (event.target_type, event.target_id) == ("people.person", str(person.pk))
    _assert_no_pii(event)


def test_legacy_15_digit_number_is_stored_as_18_digits(users, county):
    person = person_create(
        actor=users.commander,
        name="老证",
        division_code=county.grid_a.code,
        id_number="110223790813697",
    )
    person.refresh_from_db()
    assert person.id_number == "110223197908136972"
    assert person.birth_date == dt.date(1979, 8, 13)


def test_lower_case_x_is_stored_upper_case(users, county):
    person = person_create(
        actor=users.commander,
        name="小写",
        division_code="610326107201001",
        id_number="11010519491231002x",
    )
    assert person.id_number == "11010519491231002X"
    assert person.sex == "F"


def test_phone_is_stored_normalised(users, county):
    person = _create_zhao(users.commander, county, phone="+86 136-1234-0000")
    assert Person.objects.get(pk=person.pk).phone == "13612340000"


def test_bad_input_names_each_bad_field_and_writes_nothing(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        person_create(
            actor=users.commander,
            name="",
            division_code="999999999",
            id_number="360426199101010072",
            phone="12345",
            sex="X",
            relation_to_head="boss",
        )
    errors = excinfo.value.errors
    assert set(errors) == {"name", "division_code", "id_number", "phone", "sex", "relation_to_head"}
    assert all(errors[field] for field in errors)
    assert "校验码" in errors["id_number"][0]
    assert excinfo.value.as_dict()["code"] == "invalid"
    assert not Person.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"birth_date": "1985-04-13"}, "birth_date"),
        ({"sex": "F"}, "sex"),
        ({"sex": "女"}, "sex"),
        ({"birth_date": "1985/13/01"}, "birth_date"),
    ],
)
def test_birth_date_and_sex_given_separately_must_agree_with_the_number(
    users, county, extra, field
):
    with pytest.raises(ValidationFailed) as excinfo:
        _create_zhao(users.commander, county, **extra)
    assert field in excinfo.value.errors
    assert not Person.objects.exists()


def test_agreeing_birth_date_and_sex_are_accepted(users, county):
    person = _create_zhao(users.commander, county, birth_date="1985年04月12日", sex="男")
    assert (person.birth_date, person.sex) == (dt.date(1985, 4, 12), "M")


def test_duplicate_document_is_a_conflict_and_nothing_is_written(users, county, people):
    # given the head of household in grid A1a; when someone registers the same number
    with pytest.raises(Conflict) as excinfo:
        person_create(
            actor=users.commander,
            name="张建国",
            division_code=county.grid_b.code,
            id_number=people.head.id_number.lower(),
        )
    # then
    assert excinfo.value.status == 409
    assert excinfo.value.code == "people.duplicate"
    assert "id_number" in excinfo.value.errors
    assert Person.objects.count() == 3
    assert not AuditEvent.objects.exists()


def test_the_same_number_under_another_document_type_is_another_document(users, county):
    person_create(
        actor=users.commander,
        name="甲",
        division_code="610326107201001",
        id_type="taiwan_permit",
        id_number="12345678",
    )
    person_create(
        actor=users.commander,
        name="乙",
        division_code="610326107201001",
        id_type="passport",
        id_number="12345678",
    )
    assert Person.objects.filter(id_number="12345678").count() == 2


def test_people_without_documents_are_deduplicated_by_name_birth_date_and_phone(users, county):
    # given an infant without a document
    person_create(
        actor=users.grid_worker,
        name="赵小宝",
        division_code="610326107201001",
        id_type="none",
        birth_date="2020-01-05",
        phone="13612340000",
    )
    # when the same infant is registered again
    with pytest.raises(Conflict) as excinfo:
        person_create(
            actor=users.grid_worker,
            name="赵小宝",
            division_code="610326107201001",
            birth_date="2020-01-05",
            phone="+8613612340000",
        )
    # then
    assert excinfo.value.status == 409
    assert Person.objects.count() == 1
    assert AuditEvent.objects.count() == 1
    # and a twin (same phone, other name) is a different person
    person_create(
        actor=users.grid_worker,
        name="赵小贝",
        division_code="610326107201001",
        birth_date="2020-01-05",
        phone="13612340000",
    )
    assert Person.objects.count() == 2


def test_no_document_type_with_a_number_is_refused(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        person_create(
            actor=users.commander,
            name="甲",
            division_code="610326107201001",
            id_type="none",
            id_number="E12345678",
        )
    assert "id_number" in excinfo.value.errors


def test_division_outside_the_actors_scope_is_refused_as_missing(users, county):
    with pytest.raises(ValidationFailed) as outside:
        _create_zhao(users.grid_worker, county, division_code=county.grid_b.code)
    with pytest.raises(ValidationFailed) as missing:
        _create_zhao(users.grid_worker, county, division_code="610326107201999")
    assert outside.value.errors == missing.value.errors
    assert not Person.objects.exists()


def test_household_outside_the_actors_scope_is_refused_as_missing(users, county):
    household_b = Household.objects.create(address="横渠一组", division=county.grid_b)
    with pytest.raises(ValidationFailed) as excinfo:
        _create_zhao(users.grid_worker, county, household_id=household_b.pk)
    assert "household_id" in excinfo.value.errors


@pytest.mark.parametrize("role", ["leader", "lab_staff", "epidemiologist"])
def test_read_only_roles_are_forbidden(users, county, role):
    with pytest.raises(Forbidden) as excinfo:
        _create_zhao(getattr(users, role), county)
    assert excinfo.value.status == 403
    assert not Person.objects.exists()
    assert not AuditEvent.objects.exists()


# --- person_update -----------------------------------------------------------------------------


def test_update_keeps_the_old_values_in_a_revision_and_audits_field_names(users, people):
    # when
    person_update(
        actor=users.grid_worker,
        person=people.head,
        changes={"phone": "13811112222", "address": "眉县齐镇齐镇村一组13号"},
    )
    # then
    head = Person.objects.get(pk=people.head.pk)
    assert (head.phone, head.address) == ("13811112222", "眉县齐镇齐镇村一组13号")
    revision = PersonRevision.objects.get(person=head)
    assert revision.verb == "update"
    assert revision.actor == users.grid_worker
    assert revision.before == {"phone": "13912345678", "address": "眉县齐镇齐镇村一组12号"}
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("people.person.update", users.grid_worker.pk)
    assert event.data == {"fields": ["phone", "address"]}
    _assert_no_pii(event, "13811112222", "13912345678", "一组13号")


def test_update_without_a_change_writes_nothing(users, people):
    person_update(actor=users.commander, person=people.head, changes={"phone": "+86 13912345678"})
    assert not PersonRevision.objects.exists()
    assert not AuditEvent.objects.exists()


def test_update_names_every_bad_field_and_changes_nothing(users, people):
    with pytest.raises(ValidationFailed) as excinfo:
        person_update(
            actor=users.commander,
            person=people.head,
            changes={"name": "", "phone": "1", "id_number": "123", "created_at": "x"},
        )
    assert set(excinfo.value.errors) == {"created_at"}
    with pytest.raises(ValidationFailed) as excinfo:
        person_update(
            actor=users.commander,
            person=people.head,
            changes={"name": "", "phone": "1", "id_number": "123", "division_code": "6"},
        )
    assert set(excinfo.value.errors) == {"name", "phone", "id_number", "division_code"}
    head = Person.objects.get(pk=people.head.pk)
    assert (head.name, head.phone) == ("张建国", "13912345678")
    assert not AuditEvent.objects.exists()


def test_update_to_another_persons_number_is_a_conflict(users, people):
    with pytest.raises(Conflict):
        person_update(
            actor=users.commander, person=people.other, changes={"id_number": people.head.id_number}
        )
    assert Person.objects.get(pk=people.other.pk).id_number != people.head.id_number
    assert not AuditEvent.objects.exists()


def test_update_of_the_number_rederives_birth_date_and_sex(users, people):
    new_number = make_resident_id("610326", dt.date(1971, 3, 15), 12)  # even: female
    person_update(actor=users.commander, person=people.head, changes={"id_number": new_number})
    head = Person.objects.get(pk=people.head.pk)
    assert (head.birth_date, head.sex) == (dt.date(1971, 3, 15), "F")
    before = PersonRevision.objects.get().before
    assert before["birth_date"] == "1970-03-15"
    assert before["sex"] == "M"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"birth_date": "1980-01-01"}, "birth_date"), ({"sex": "F"}, "sex")],
)
def test_update_of_birth_date_or_sex_alone_must_still_agree_with_the_number(
    users, people, changes, field
):
    with pytest.raises(ValidationFailed) as excinfo:
        person_update(actor=users.commander, person=people.head, changes=changes)
    assert field in excinfo.value.errors
    head = Person.objects.get(pk=people.head.pk)
    assert (head.birth_date, head.sex) == (dt.date(1970, 3, 15), "M")


def test_moving_a_person_to_a_division_outside_scope_is_refused_as_missing(users, people, county):
    with pytest.raises(ValidationFailed) as excinfo:
        person_update(
            actor=users.grid_worker,
            person=people.head,
            changes={"division_code": county.grid_b.code},
        )
    assert "division_code" in excinfo.value.errors
    assert Person.objects.get(pk=people.head.pk).division_id == county.grid_a.code


def test_moving_a_person_records_the_old_division(users, people, county):
    person_update(
        actor=users.town_officer, person=people.head, changes={"division_code": "610326107201002"}
    )
    assert PersonRevision.objects.get().before == {"division_id": "610326107201001"}
    assert AuditEvent.objects.get().data == {"fields": ["division"]}


def test_leader_cannot_update(users, people):
    with pytest.raises(Forbidden):
        person_update(actor=users.leader, person=people.head, changes={"notes": "x"})
    assert not PersonRevision.objects.exists()


# --- person_merge ------------------------------------------------------------------------------


def test_merge_keeps_both_histories_fills_blanks_and_repoints_the_household_head(users, people):
    # given a duplicate record of the head, without a document, with its own history
    duplicate = person_create(
        actor=users.grid_worker,
        name="张建国",
        division_code="610326107201001",
        id_type="none",
        notes="外出务工返乡",
    )
    person_update(actor=users.grid_worker, person=duplicate, changes={"phone": "13500001111"})
    Household.objects.filter(pk=people.household.pk).update(head=duplicate)
    keep = people.head
    person_update(actor=users.grid_worker, person=keep, changes={"address": "新地址1号"})
    AuditEvent.objects.all().delete()
    # when
    survivor = person_merge(actor=users.town_officer, keep=keep, merge=duplicate)
    # then the merged record stays, pointing at the survivor
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk
    assert survivor.notes == "外出务工返乡"  # a blank filled from the merged record
    assert survivor.phone == "13912345678"  # a value the survivor had is kept
    # both histories are readable from the survivor
    verbs = sorted((r.person_id == keep.pk, r.verb) for r in person_history(person=survivor))
    assert verbs == [(False, "update"), (True, "merge"), (True, "update")]
    merge_revision = PersonRevision.objects.get(verb="merge")
    assert merge_revision.before == {"notes": "", "merged_id": duplicate.pk}
    # the household head is re-pointed
    assert Household.objects.get(pk=people.household.pk).head_id == keep.pk
    # one audit event, ids only
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id, event.target_id) == (
        "people.person.merge",
        users.town_officer.pk,
        str(keep.pk),
    )
    assert event.data == {"merged_id": duplicate.pk, "filled": ["notes"]}
    _assert_no_pii(event, "外出务工返乡", "张建国")


def test_merge_moves_the_document_to_a_survivor_without_one(users, people, county):
    keep = person_create(
        actor=users.commander, name="王小明", division_code=county.grid_b.code, id_type="none"
    )
    number = people.other.id_number
    person_merge(actor=users.commander, keep=keep, merge=people.other)
    keep.refresh_from_db()
    people.other.refresh_from_db()
    assert (keep.id_type, keep.id_number) == ("resident_id", number)
    assert (people.other.id_type, people.other.id_number) == ("none", None)
    assert people.other.merged_into_id == keep.pk


def test_merging_two_different_documents_is_a_conflict(users, people):
    with pytest.raises(Conflict):
        person_merge(actor=users.commander, keep=people.head, merge=people.spouse)
    people.spouse.refresh_from_db()
    assert people.spouse.merged_into_id is None
    assert not AuditEvent.objects.exists()


def test_merging_a_person_with_itself_or_twice_is_refused(users, people, county):
    with pytest.raises(ValidationFailed):
        person_merge(actor=users.commander, keep=people.head, merge=people.head)
    dup = person_create(
        actor=users.commander, name="张建国", division_code=county.grid_a.code, id_type="none"
    )
    person_merge(actor=users.commander, keep=people.head, merge=dup)
    with pytest.raises(ValidationFailed):
        person_merge(actor=users.commander, keep=people.spouse, merge=dup)


def test_leader_cannot_merge(users, people):
    with pytest.raises(Forbidden):
        person_merge(actor=users.leader, keep=people.head, merge=people.spouse)


# --- person_reveal -----------------------------------------------------------------------------


def test_reveal_requires_a_reason_and_audits_it_beside_the_event(users, people):
    person_reveal(actor=users.town_officer, person=people.head, reason="核实返乡人员身份")
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id, event.target_id) == (
        "people.person.reveal",
        users.town_officer.pk,
        str(people.head.pk),
    )
    assert event.data == {}
    assert AuditReason.objects.get(event=event).text == "核实返乡人员身份"


@pytest.mark.parametrize("reason", ["", " ", "查", "长" * 201])
def test_reveal_with_a_bad_reason_is_refused_and_not_audited(users, people, reason):
    with pytest.raises(ValidationFailed) as excinfo:
        person_reveal(actor=users.town_officer, person=people.head, reason=reason)
    assert "reason" in excinfo.value.errors
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", ["leader", "lab_staff"])
def test_roles_that_cannot_reveal_are_forbidden(users, people, role):
    with pytest.raises(Forbidden):
        person_reveal(actor=getattr(users, role), person=people.head, reason="核实身份信息")
    assert not AuditEvent.objects.exists()


# --- households --------------------------------------------------------------------------------


def test_household_create_sets_the_head_and_audits_ids_only(users, people, county):
    household = household_create(
        actor=users.grid_worker,
        address="眉县齐镇齐镇村一组20号",
        division_code=county.grid_a.code,
    )
    assert household.division_id == county.grid_a.code
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("people.household.create", users.grid_worker.pk)
    assert event.data == {"division": "610326107201001", "head_id": None}
    _assert_no_pii(event, "一组20号")


def test_household_create_with_a_head_moves_the_head_in(users, county):
    head = _create_zhao(users.commander, county)
    AuditEvent.objects.all().delete()
    household = household_create(
        actor=users.commander, address="一组8号", division_code=county.grid_a.code, head_id=head.pk
    )
    head.refresh_from_db()
    assert (head.household_id, head.relation_to_head) == (household.pk, "head")
    assert household.head_id == head.pk
    assert AuditEvent.objects.get().data == {"division": "610326107201001", "head_id": head.pk}


def test_household_create_names_every_bad_field_and_writes_nothing(users, people, county):
    with pytest.raises(ValidationFailed) as excinfo:
        household_create(
            actor=users.grid_worker,
            address=" ",
            division_code=county.grid_b.code,
            head_id=people.other.pk,  # outside the worker's grid
        )
    assert set(excinfo.value.errors) == {"address", "division_code", "head_id"}
    assert Household.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_add_member_records_the_relation_and_audits_once(users, people, county):
    child = person_create(
        actor=users.grid_worker, name="张小宝", division_code=county.grid_a.code, id_type="none"
    )
    AuditEvent.objects.all().delete()
    household_add_member(
        actor=users.grid_worker, household=people.household, person=child, relation="child"
    )
    child.refresh_from_db()
    assert (child.household_id, child.relation_to_head) == (people.household.pk, "child")
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("people.person.update", users.grid_worker.pk)
    assert sorted(event.data["fields"]) == ["household", "relation_to_head"]
    assert PersonRevision.objects.get(person=child).before == {
        "household_id": None,
        "relation_to_head": "",
    }


def test_add_member_as_head_makes_them_the_head(users, people, county):
    newcomer = person_create(
        actor=users.grid_worker, name="张新", division_code=county.grid_a.code, id_type="none"
    )
    household_add_member(
        actor=users.grid_worker, household=people.household, person=newcomer, relation="head"
    )
    assert Household.objects.get(pk=people.household.pk).head_id == newcomer.pk
    assert AuditEvent.objects.filter(verb="people.household.set_head").count() == 1


def test_add_member_with_a_bad_relation_changes_nothing(users, people, county):
    with pytest.raises(ValidationFailed) as excinfo:
        household_add_member(
            actor=users.commander, household=people.household, person=people.other, relation="pet"
        )
    assert "relation_to_head" in excinfo.value.errors
    people.other.refresh_from_db()
    assert people.other.household_id is None


def test_add_member_to_a_household_outside_scope_is_refused(users, people, county):
    household_b = Household.objects.create(address="横渠一组", division=county.grid_b)
    with pytest.raises(ValidationFailed) as excinfo:
        household_add_member(
            actor=users.grid_worker, household=household_b, person=people.spouse, relation="spouse"
        )
    assert "household_id" in excinfo.value.errors
