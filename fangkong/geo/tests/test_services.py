"""geo services: create, update and import divisions; audited, scoped, all-or-nothing per row."""

from __future__ import annotations

import pytest

from fangkong.core.exceptions import Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.geo.models import Division
from fangkong.geo.services import division_create, division_import, division_update, kind_for_code

pytestmark = pytest.mark.django_db


def test_create_a_small_grid_under_a_village(users, county):
    # when
    grid = division_create(
        actor=users.commander, code="610326107201003", name="三组", parent_code="610326107201"
    )
    # then
    grid.refresh_from_db()
    assert (grid.level, grid.parent_id, grid.kind) == (3, "610326107201", "rural")
    assert grid.full_name == "眉县/齐镇/齐镇村/三组"
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("geo.division.create", users.commander.pk)
    assert (event.target_type, event.target_id) == ("geo.division", "610326107201003")


def test_create_the_county_when_there_is_none(db, django_user_model):
    admin = django_user_model.objects.create(username="root", is_superuser=True, role="admin")
    county = division_create(actor=admin, code="610326", name="眉县", parent_code=None)
    assert (county.level, county.parent_id) == (0, None)
    assert AuditEvent.objects.filter(verb="geo.division.create").count() == 1


def test_bad_input_names_every_field_and_writes_nothing(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        division_create(
            actor=users.commander, code="61032X", name="", parent_code="610326107201", kind="city"
        )
    errors = excinfo.value.errors
    assert set(errors) == {"code", "name", "kind"}
    assert Division.objects.count() == 8
    assert not AuditEvent.objects.exists()


def test_child_code_must_extend_the_parent_code(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        division_create(
            actor=users.commander, code="610326101201009", name="错组", parent_code="610326107201"
        )
    assert "code" in excinfo.value.errors


def test_existing_code_is_refused(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        division_create(
            actor=users.commander, code="610326107201001", name="一组", parent_code="610326107201"
        )
    assert excinfo.value.errors["code"]


def test_a_second_county_needs_a_parent(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        division_create(actor=users.superuser, code="610327", name="陇县", parent_code=None)
    assert "parent_code" in excinfo.value.errors


def test_small_grids_have_no_children(users, county):
    with pytest.raises(ValidationFailed) as excinfo:
        division_create(
            actor=users.commander,
            code="610326107201001001",
            name="楼",
            parent_code="610326107201001",
        )
    assert "parent_code" in excinfo.value.errors


def test_parent_outside_the_actors_scope_is_refused_as_missing(users, county, django_user_model):
    # given a system administrator whose jurisdiction is town A
    admin_a = django_user_model.objects.create(
        username="admin_a", role="admin", jurisdiction=county.town_a
    )
    # when it adds under town B's village, the answer is the same as for a missing parent
    with pytest.raises(ValidationFailed) as outside:
        division_create(
            actor=admin_a, code="610326101201002", name="二组", parent_code="610326101201"
        )
    with pytest.raises(ValidationFailed) as missing:
        division_create(
            actor=admin_a, code="610326199201002", name="二组", parent_code="610326199201"
        )
    assert outside.value.errors["parent_code"] == missing.value.errors["parent_code"]
    assert not Division.objects.filter(code="610326101201002").exists()


@pytest.mark.parametrize("role", ["leader", "town_officer", "grid_worker", "lab_staff"])
def test_roles_that_do_not_manage_divisions_are_forbidden(users, county, role):
    with pytest.raises(Forbidden):
        division_create(
            actor=getattr(users, role),
            code="610326107201003",
            name="三组",
            parent_code="610326107201",
        )
    assert not AuditEvent.objects.exists()


def test_anonymous_is_forbidden(county):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Forbidden):
        division_create(actor=AnonymousUser(), code="610326102", name="x", parent_code="610326")


def test_update_records_the_changed_field_names(users, county):
    division_update(actor=users.commander, division=county.grid_a, name="一组（东）", kind="urban")
    county.grid_a.refresh_from_db()
    assert (county.grid_a.name, county.grid_a.kind) == ("一组（东）", "urban")
    event = AuditEvent.objects.get()
    assert event.verb == "geo.division.update"
    assert event.data == {"fields": ["name", "kind"]}
    assert "一组" not in str(event.data)


def test_update_without_changes_writes_nothing(users, county):
    division_update(actor=users.commander, division=county.grid_a, name="一组")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"name": "  "}, "name"), ({"kind": "city"}, "kind"), ({"name": "长" * 101}, "name")],
)
def test_update_bad_input_names_the_field_and_changes_nothing(users, county, changes, field):
    with pytest.raises(ValidationFailed) as excinfo:
        division_update(actor=users.commander, division=county.grid_a, **changes)
    assert field in excinfo.value.errors
    county.grid_a.refresh_from_db()
    assert (county.grid_a.name, county.grid_a.kind) == ("一组", "rural")
    assert not AuditEvent.objects.exists()


def test_update_by_a_leader_is_forbidden(users, county):
    with pytest.raises(Forbidden):
        division_update(actor=users.leader, division=county.grid_a, name="改名")


def test_import_creates_parents_before_children_and_reports_bad_rows(users, county):
    # given rows in any order, a child before its parent, and two bad rows
    rows = [
        {"code": "610326107202001", "name": "新村一组", "parent_code": "610326107202"},
        {"code": "610326107202", "name": "新村", "parent_code": "610326107"},
        {"code": "610326107299001", "name": "孤组", "parent_code": "610326107299"},
        {"code": "6103261072AB", "name": "", "parent_code": "610326107"},
        {"code": "610326107201", "name": "齐镇村（更名）", "parent_code": "610326107"},
    ]
    # when
    result = division_import(actor=users.commander, rows=rows)
    # then
    assert (result.created, result.updated) == (2, 1)
    assert sorted(e["row"] for e in result.errors) == [4, 5]
    bad = {e["row"]: e["errors"] for e in result.errors}
    assert "parent_code" in bad[4]
    assert set(bad[5]) == {"code", "name"}
    assert Division.objects.get(code="610326107202001").level == 3
    assert Division.objects.get(code="610326107202").kind == "rural"
    assert Division.objects.get(code="610326107201").name == "齐镇村（更名）"
    event = AuditEvent.objects.get()
    assert event.verb == "geo.division.import"
    assert event.data == {"created": 2, "updated": 1, "errors": 2}


def test_import_into_an_empty_database_starts_with_the_county(db, django_user_model):
    admin = django_user_model.objects.create(username="root", is_superuser=True, role="admin")
    result = division_import(
        actor=admin,
        rows=[
            {"code": "610326001", "name": "首善街道", "parent_code": "610326"},
            {"code": "610326", "name": "眉县", "parent_code": ""},
            {"code": "610326001001", "name": "东关社区", "parent_code": "610326001"},
        ],
    )
    assert result.created == 3
    assert not result.errors
    assert Division.objects.get(code="610326001").kind == "urban"
    assert Division.objects.get(code="610326001001").kind == "urban"


def test_import_does_not_touch_divisions_outside_the_actors_scope(users, county, django_user_model):
    admin_a = django_user_model.objects.create(
        username="admin_a", role="admin", jurisdiction=county.town_a
    )
    result = division_import(
        actor=admin_a, rows=[{"code": "610326101201", "name": "改名", "parent_code": "610326101"}]
    )
    assert result.updated == 0
    assert [e["row"] for e in result.errors] == [2]
    assert Division.objects.get(code="610326101201").name == "横渠村"


def test_import_refuses_an_unknown_kind(users, county):
    result = division_import(
        actor=users.commander,
        rows=[{"code": "610326102", "name": "新镇", "parent_code": "610326", "kind": "city"}],
    )
    assert result.created == 0
    assert "kind" in result.errors[0]["errors"]
    assert not Division.objects.filter(code="610326102").exists()


def test_import_by_a_town_officer_is_forbidden(users, county):
    with pytest.raises(Forbidden):
        division_import(actor=users.town_officer, rows=[])


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("610326001", "", "urban"),  # 001-099 street
        ("610326107", "", "rural"),  # 100-199 town
        ("610326201", "", "rural"),  # 200-399 township
        ("610326400", "", "other"),  # 400-599 state farms and the like
        ("610326001001", "", "urban"),  # residents' committee 001-199
        ("610326107201", "", "rural"),  # villagers' committee 200-399
        ("610326107201001", "东城小区", "urban"),
        ("610326107201002", "三组", "rural"),
    ],
)
def test_kind_follows_the_statistical_code_rules(code, name, kind):
    assert kind_for_code(code, name) == kind
