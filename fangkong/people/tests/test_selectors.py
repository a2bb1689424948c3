"""people selectors: the permission matrix over every list, search, access_*, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.accounts.models import User
from fangkong.accounts.selectors import user_list
from fangkong.core.exceptions import NotFound
from fangkong.core.tests.idgen import make_resident_id
from fangkong.geo.selectors import division_list
from fangkong.people.models import Household, Person, PersonRevision
from fangkong.people.selectors import (
    access_household_by_id,
    access_person_by_id,
    household_list,
    household_members,
    person_find_duplicate,
    person_history,
    person_list,
)

pytestmark = pytest.mark.django_db

ALL_PEOPLE = ["张建国", "李秀英", "王小明"]
ALL_USERS = ["epi", "gw_a", "gw_b", "hq", "lab", "leader", "town_a", "town_b", "village_a"]
A_GRID = ["610326107201001"]
A_VILLAGE = ["610326107201", "610326107201001", "610326107201002"]
A_TOWN = ["610326107", *A_VILLAGE]
COUNTY = [
    "610326",
    "610326101",
    "610326101201",
    "610326101201001",
    *A_TOWN,
]


@pytest.fixture
def world(users, people, county):
    """The conftest people plus a household in grid B1a, and two odd accounts."""
    household_b = Household.objects.create(
        address="眉县横渠镇横渠村一组3号", division=county.grid_b, head=people.other
    )
    inactive = User.objects.create(
        username="gone", role="commander", jurisdiction=county.root, is_active=False
    )
    nowhere = User.objects.create(username="nowhere", role="town_officer", jurisdiction=None)
    return {
        "anonymous": AnonymousUser(),
        "other_grid_worker": users.other_grid_worker,
        "grid_worker": users.grid_worker,
        "village_officer": users.village_officer,
        "town_officer": users.town_officer,
        "commander": users.commander,
        "leader": users.leader,
        "admin": users.admin,
        "superuser": users.superuser,
        "inactive": inactive,
        "no_jurisdiction": nowhere,
        "household_a": people.household.pk,
        "household_b": household_b.pk,
    }


# viewer -> (people, households, divisions, users) it may list
MATRIX = {
    "anonymous": ([], [], [], []),
    "other_grid_worker": (["王小明"], ["b"], ["610326101201001"], ["gw_b"]),
    "grid_worker": (["张建国", "李秀英"], ["a"], A_GRID, ["gw_a"]),
    "village_officer": (["张建国", "李秀英"], ["a"], A_VILLAGE, ["gw_a", "village_a"]),
    "town_officer": (["张建国", "李秀英"], ["a"], A_TOWN, ["gw_a", "town_a", "village_a"]),
    "commander": (ALL_PEOPLE, ["a", "b"], COUNTY, sorted([*ALL_USERS, "gone"])),
    "leader": (ALL_PEOPLE, ["a", "b"], COUNTY, sorted([*ALL_USERS, "gone"])),
    "admin": (
        ALL_PEOPLE,
        ["a", "b"],
        COUNTY,
        sorted([*ALL_USERS, "admin", "gone", "nowhere", "root"]),
    ),
    "superuser": (
        ALL_PEOPLE,
        ["a", "b"],
        COUNTY,
        sorted([*ALL_USERS, "admin", "gone", "nowhere", "root"]),
    ),
    "inactive": ([], [], [], []),
    "no_jurisdiction": ([], [], [], []),
}


@pytest.mark.parametrize("viewer_key", list(MATRIX))
def test_permission_matrix_over_every_list(world, viewer_key, django_assert_num_queries):
    # given
    viewer = world[viewer_key]
    people_, households, divisions, usernames = MATRIX[viewer_key]
    household_ids = sorted(world[f"household_{h}"] for h in households)
    if getattr(viewer, "is_authenticated", False):
        viewer.scope_codes()  # computed once per request and cached on the user
    # an empty scope is answered without asking the database at all
    queries = 1 if divisions else 0
    # when / then: each list is at most one query, whatever the viewer; people bring their
    # divisions in one more (a prefetch, so that the name index drives name searches)
    with django_assert_num_queries(queries + (1 if people_ else 0)):
        assert sorted(p.name for p in person_list(viewer=viewer)) == sorted(people_)
    with django_assert_num_queries(queries):
        assert [h.pk for h in household_list(viewer=viewer)] == household_ids
    with django_assert_num_queries(queries):
        assert sorted(d.code for d in division_list(viewer=viewer)) == sorted(divisions)
    with django_assert_num_queries(queries):
        assert [u.username for u in user_list(viewer=viewer)] == usernames


def test_grid_worker_sees_only_its_grid_even_when_its_jurisdiction_is_the_town(world, county):
    worker = world["grid_worker"]
    worker.jurisdiction = county.town_a
    worker.save(update_fields=["jurisdiction"])
    worker = User.objects.get(pk=worker.pk)
    Person.objects.create(name="赵四", id_type="none", division=county.grid_a2)
    assert sorted(p.name for p in person_list(viewer=worker)) == ["张建国", "李秀英"]


def test_list_rows_need_no_further_queries(world, django_assert_num_queries):
    viewer = world["commander"]
    viewer.scope_codes()
    with django_assert_num_queries(2):
        rows = [
            (p.division.name, p.household_id and p.household.address)
            for p in person_list(viewer=viewer)
        ]
    assert len(rows) == 3
    with django_assert_num_queries(1):
        heads = [(h.division.name, h.head.name) for h in household_list(viewer=viewer)]
    assert heads == [("一组", "张建国"), ("一组", "王小明")]


@pytest.mark.parametrize("viewer_key", ["anonymous", "other_grid_worker", "inactive"])
def test_access_person_out_of_scope_is_the_same_as_missing(world, people, viewer_key):
    viewer = world[viewer_key]
    with pytest.raises(NotFound) as outside:
        access_person_by_id(viewer=viewer, person_id=people.head.pk)
    with pytest.raises(NotFound) as missing:
        access_person_by_id(viewer=viewer, person_id=999_999)
    assert outside.value.as_dict() == missing.value.as_dict()
    assert outside.value.status == 404


def test_access_person_in_scope_returns_it(world, people):
    assert access_person_by_id(viewer=world["grid_worker"], person_id=people.head.pk) == people.head


@pytest.mark.parametrize("bad_id", ["abc", None, "1; DROP TABLE"])
def test_access_with_a_malformed_id_is_not_found(world, bad_id):
    with pytest.raises(NotFound):
        access_person_by_id(viewer=world["commander"], person_id=bad_id)
    with pytest.raises(NotFound):
        access_household_by_id(viewer=world["commander"], household_id=bad_id)


def test_access_household_out_of_scope_is_the_same_as_missing(world):
    viewer = world["grid_worker"]
    assert (
        access_household_by_id(viewer=viewer, household_id=world["household_a"]).pk
        == world["household_a"]
    )
    with pytest.raises(NotFound) as outside:
        access_household_by_id(viewer=viewer, household_id=world["household_b"])
    with pytest.raises(NotFound) as missing:
        access_household_by_id(viewer=viewer, household_id=999_999)
    assert outside.value.as_dict() == missing.value.as_dict()


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张", ["张建国"]),
        ("张建", ["张建国"]),
        ("建国", []),  # a name search is a prefix search
        ("13912345678", ["张建国"]),
        ("+86 139 1234 5678", ["张建国"]),
        ("139****5678", []),
        (make_resident_id("610326", dt.date(1972, 8, 2), 22), ["李秀英"]),
        ("王", ["王小明"]),
    ],
)
def test_search_by_name_prefix_phone_and_document(world, q, expected):
    assert [p.name for p in person_list(viewer=world["commander"], q=q)] == expected


def test_search_by_legacy_15_digit_and_lower_case_x(world, county):
    Person.objects.create(
        name="老证件", id_number="110223197908136972", sex="M", division=county.grid_a
    )
    Person.objects.create(
        name="小写", id_number="11010519491231002X", sex="F", division=county.grid_a
    )
    viewer = world["commander"]
    assert [p.name for p in person_list(viewer=viewer, q="110223790813697")] == ["老证件"]
    assert [p.name for p in person_list(viewer=viewer, q="11010519491231002x")] == ["小写"]


def test_search_by_other_document_number(world, county):
    Person.objects.create(
        name="Smith", id_type="passport", id_number="E12345678", division=county.grid_a
    )
    assert [p.name for p in person_list(viewer=world["commander"], q="e12345678")] == ["Smith"]


def test_search_never_leaves_the_scope(world):
    assert list(person_list(viewer=world["grid_worker"], q="王")) == []


def test_filters_by_division_household_and_address(world, people):
    viewer = world["commander"]
    assert sorted(p.name for p in person_list(viewer=viewer, division="610326107")) == [
        "张建国",
        "李秀英",
    ]
    assert [p.name for p in person_list(viewer=viewer, household_id=world["household_b"])] == []
    assert [p.name for p in person_list(viewer=viewer, address="横渠村")] == ["王小明"]
    assert [h.pk for h in household_list(viewer=viewer, q="横渠")] == [world["household_b"]]
    assert [h.pk for h in household_list(viewer=viewer, division="610326107")] == [
        world["household_a"]
    ]


def test_merged_records_are_hidden_unless_asked_for(world, people):
    Person.objects.filter(pk=people.spouse.pk).update(merged_into=people.head)
    viewer = world["commander"]
    assert "李秀英" not in [p.name for p in person_list(viewer=viewer)]
    assert "李秀英" in [p.name for p in person_list(viewer=viewer, include_merged=True)]
    with pytest.raises(NotFound):
        access_person_by_id(viewer=viewer, person_id=people.spouse.pk)
    assert (
        access_person_by_id(viewer=viewer, person_id=people.spouse.pk, include_merged=True)
        == people.spouse
    )
    assert [p.name for p in household_members(household=people.household)] == ["张建国"]


def test_household_members_in_one_query(world, people, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert [p.name for p in household_members(household=people.household)] == [
            "张建国",
            "李秀英",
        ]


def test_history_includes_records_merged_into_the_person(world, people):
    PersonRevision.objects.create(person=people.head, verb="update", before={"phone": "1"})
    PersonRevision.objects.create(person=people.spouse, verb="update", before={"phone": "2"})
    PersonRevision.objects.create(person=people.other, verb="update", before={"phone": "3"})
    Person.objects.filter(pk=people.spouse.pk).update(merged_into=people.head)
    history = person_history(person=people.head)
    assert sorted(r.before["phone"] for r in history) == ["1", "2"]


def test_duplicate_by_document_or_by_name_birth_and_phone(world, people):
    head = people.head
    assert (
        person_find_duplicate(
            id_type="resident_id", id_number=head.id_number, name="", birth_date=None, phone=""
        )
        == head
    )
    assert (
        person_find_duplicate(
            id_type="resident_id",
            id_number=head.id_number,
            name="",
            birth_date=None,
            phone="",
            exclude_id=head.pk,
        )
        is None
    )
    assert (
        person_find_duplicate(
            id_type="none",
            id_number=None,
            name="张建国",
            birth_date=head.birth_date,
            phone="13912345678",
        )
        == head
    )
    # all three must agree; a different phone is a different person
    assert (
        person_find_duplicate(
            id_type="none",
            id_number=None,
            name="张建国",
            birth_date=head.birth_date,
            phone="13900000000",
        )
        is None
    )
    # without a birth date or a phone nothing is matched
    assert (
        person_find_duplicate(
            id_type="none", id_number=None, name="张建国", birth_date=None, phone="13912345678"
        )
        is None
    )


def test_name_search_is_driven_by_the_name_index_not_the_county_range(world):
    """Regression: over 330,000 people SQLite walked the whole county's division range
    (p95 419 ms) because a range on the scope and a range on the name looked alike to it."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner choice; PostgreSQL decides from statistics")
    qs = person_list(viewer=world["commander"], q="张建")
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "person_name_scope_idx" in plan
    assert [p.name for p in qs] == ["张建国"]
