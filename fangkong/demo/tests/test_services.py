"""The demo seed on 眉县's real tree: deterministic, valid, mapped, with visible blind spots."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from fangkong.accounts.models import GridWorker, Responsibility, User
from fangkong.accounts.roles import Role
from fangkong.accounts.selectors import escalation_chain
from fangkong.core.exceptions import DomainError, Forbidden
from fangkong.core.models import AuditEvent
from fangkong.core.validators import normalize_mobile, parse_resident_id
from fangkong.demo.geometry import bbox
from fangkong.demo.services import demo_seed
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person
from fangkong.reports.selectors import division_coverage

pytestmark = pytest.mark.django_db

COUNTY = "610326"


def _seed(people: int = 1500, seed: int = 7, **kwargs):
    return demo_seed(actor=None, county_code=COUNTY, people=people, seed=seed, **kwargs)


def _snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("pk").values_list(
            "pk", "name", "id_number", "sex", "birth_date", "phone", "division_id", "address"
        )
    )


def test_same_seed_and_size_give_identical_people():
    _seed(seed=11)
    first = _snapshot()
    _seed(seed=11, reset=True)
    again = _snapshot()
    assert len(first) == 1500
    assert again == first


def test_another_seed_gives_other_people():
    _seed(seed=11)
    first = {row[2] for row in _snapshot()}
    _seed(seed=12, reset=True)
    other = {row[2] for row in _snapshot()}
    assert len(first & other) < len(first) // 10


def test_every_id_number_is_valid_for_the_county_and_matches_sex_and_birth_date():
    _seed(people=3000)
    rows = list(
        Person.objects.exclude(id_number=None).values_list("id_number", "sex", "birth_date")
    )
    assert len(rows) > 2900
    numbers = [number for number, _, _ in rows]
    assert len(set(numbers)) == len(numbers)
    for number, sex, birth in rows:
        parsed = parse_resident_id(number)
        assert parsed.number == number
        assert parsed.address_code == COUNTY
        assert parsed.sex == sex
        assert parsed.birth_date == birth


def test_people_without_a_document_are_only_newborns():
    _seed(people=3000)
    for person in Person.objects.filter(id_number=None):
        assert person.id_type == "none"
        assert (2020 - person.birth_date.year) <= 1


def test_every_person_and_household_is_in_a_small_grid_of_the_county():
    _seed()
    assert not Person.objects.exclude(division__level=Division.Level.GRID).exists()
    assert not Household.objects.exclude(division__level=Division.Level.GRID).exists()
    assert not Person.objects.exclude(division__code__startswith=COUNTY).exists()
    grids = Division.objects.filter(level=Division.Level.GRID)
    for grid in grids:
        assert len(grid.code) == 15
        assert grid.code.startswith(grid.parent_id)
        assert grid.parent.level == Division.Level.VILLAGE


def test_small_grids_are_villager_groups_in_villages_and_compounds_in_communities():
    _seed(people=6000)
    rural = Division.objects.filter(level=3, kind="rural").values_list("name", flat=True)
    urban = Division.objects.filter(level=3, kind="urban").values_list("name", flat=True)
    assert rural
    assert all(name.endswith("组") for name in rural)
    assert urban
    assert not any(name.endswith("组") for name in urban)


def test_households_have_realistic_sizes_one_head_and_plausible_addresses():
    _seed(people=3000)
    sizes = Counter(Person.objects.values_list("household_id", flat=True))
    assert set(sizes.values()) <= {1, 2, 3, 4, 5, 6}
    assert 2.6 <= 3000 / len(sizes) <= 3.3
    heads = Counter(
        Person.objects.filter(relation_to_head="head").values_list("household_id", flat=True)
    )
    assert set(heads.values()) == {1}
    assert len(heads) == len(sizes)
    for household in Household.objects.select_related("head", "division")[:200]:
        assert household.head.household_id == household.pk
        assert household.address.startswith("陕西省宝鸡市眉县")
        assert household.division.name in household.address


def test_phones_are_valid_mobiles_and_mostly_unique():
    _seed(people=3000)
    phones = [p for p in Person.objects.values_list("phone", flat=True) if p]
    assert len(phones) > 2000
    for phone in phones:
        assert normalize_mobile(phone) == phone
    assert len(set(phones)) / len(phones) > 0.95


def test_boundaries_nest_inside_their_parents():
    _seed()
    divisions = {d.code: d for d in Division.objects.filter(code__startswith=COUNTY)}
    assert all(d.boundary for d in divisions.values())
    root = bbox(divisions[COUNTY].boundary)
    assert root == (107.6, 34.05, 108.1, 34.35)
    for division in divisions.values():
        if division.parent_id is None:
            continue
        west, south, east, north = bbox(division.boundary)
        p_west, p_south, p_east, p_north = bbox(divisions[division.parent_id].boundary)
        assert p_west <= west < east <= p_east, division.code
        assert p_south <= south < north <= p_north, division.code


def test_children_tile_their_parent():
    _seed()

    def area(geometry):
        w, s, e, n = bbox(geometry)
        return (e - w) * (n - s)

    parents = Division.objects.filter(code__startswith=COUNTY, level__lte=2)
    for parent in parents:
        children = list(parent.children.all())
        total = sum(area(c.boundary) for c in children)
        assert total == pytest.approx(area(parent.boundary), rel=1e-4), parent.code


def test_coverage_shows_the_intended_blind_spots(settings):
    settings.FANGKONG = {**settings.FANGKONG, "GRID_WORKER_MAX_HOUSEHOLDS": 20}
    result = _seed(people=3000)
    hq = User.objects.get(username="hq")
    root = Division.objects.get(code=COUNTY)
    coverage = division_coverage(viewer=hq, division=root)
    assert 2 <= len(result.blind_grids) <= 12
    assert {d.code for d in coverage.grids_without_worker} == set(result.blind_grids)
    assert len(result.overloaded_workers) == 2
    assert {w.worker_id for w in coverage.overloaded} == set(result.overloaded_workers)
    assert coverage.total.people == 3000
    assert coverage.total.households_outside_grid == 0


def test_grid_workers_carry_one_or_two_grids_except_the_overloaded(settings):
    settings.FANGKONG = {**settings.FANGKONG, "GRID_WORKER_MAX_HOUSEHOLDS": 20}
    result = _seed(people=3000)
    for worker in GridWorker.objects.prefetch_related("grids"):
        grids = list(worker.grids.all())
        assert all(g.level == Division.Level.GRID for g in grids)
        if worker.pk not in result.overloaded_workers:
            assert 1 <= len(grids) <= 2


def test_a_login_for_every_role_sharing_one_password():
    result = _seed()
    usernames = [login.username for login in result.logins]
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    assert {u.role for u in users.values()} == set(Role.values)
    assert {"hq", "leader", "town_qizhen", "checkpoint", "epi", "lab", "admin"} <= set(users)
    assert users["admin"].is_superuser
    assert users["town_qizhen"].jurisdiction_id == "610326107"
    for user in users.values():
        assert user.check_password(result.password), user.username
    grid_worker = next(u for u in users.values() if u.role == Role.GRID_WORKER)
    assert grid_worker.scope_codes() == [grid_worker.jurisdiction_id]
    assert grid_worker.grid_worker.grids.get().code == grid_worker.jurisdiction_id


def test_every_division_has_its_chain_of_responsibility():
    _seed()
    assert Responsibility.objects.filter(division_id=COUNTY, tier="commander").count() == 2
    for town in Division.objects.filter(level=1):
        assert Responsibility.objects.filter(division=town, tier="county_leader").exists()
    for village in Division.objects.filter(level=2):
        assert Responsibility.objects.filter(division=village, tier="town_leader").exists()
        if village.kind == "urban":
            assert Responsibility.objects.filter(
                division=village, tier="department_leader"
            ).exists()
    grid = Division.objects.get(code="610326107200001")  # 齐镇村一组
    tiers = [link.tier for link in escalation_chain(division=grid)]
    assert tiers == [
        "grid_worker",
        "cadre",
        "town_leader",
        "county_leader",
        "commander",
        "commander",
    ]


def test_seeding_a_database_with_people_is_refused_without_reset():
    _seed()
    before = Person.objects.count()
    with pytest.raises(DomainError) as caught:
        _seed(seed=8)
    assert caught.value.code == "demo.not_empty"
    assert "--reset" in str(caught.value.message)
    assert Person.objects.count() == before


def test_seeding_the_same_demo_again_keeps_the_data_and_renews_the_password():
    first = _seed()
    before = _snapshot()
    again = _seed()
    assert again.reused
    assert _snapshot() == before
    assert again.password != first.password
    hq = User.objects.get(username="hq")
    assert hq.check_password(again.password)
    assert [login.username for login in again.logins] == [lg.username for lg in first.logins]
    assert AuditEvent.objects.filter(verb="demo.seed").count() == 2


def test_the_seed_is_one_audit_event_with_counts_only():
    _seed()
    events = list(AuditEvent.objects.filter(verb="demo.seed"))
    assert len(events) == 1
    data = events[0].data
    assert data["counts"]["people"] == 1500
    assert data["seed"] == 7
    text = str(data)
    assert "陕西" not in text
    assert not any(p.name in text for p in Person.objects.all()[:50])


def test_only_the_command_line_or_a_superuser_may_seed(users):
    with pytest.raises(Forbidden):
        demo_seed(actor=users.commander, county_code=COUNTY, people=10, seed=1)


def test_bad_arguments_name_the_field():
    with pytest.raises(DomainError) as caught:
        demo_seed(actor=None, county_code="61032", people=0, seed=1)
    assert set(caught.value.errors) == {"county", "people"}
    assert not Division.objects.exists()


def test_seed_command_prints_the_password_and_a_login_table():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "seed",
        "--people",
        "800",
        "--seed",
        "3",
        "--password",
        "Demo-2020-x",
        stdout=out,
        stderr=err,
    )
    text = out.getvalue()
    assert "Demo-2020-x" in text
    for username in ("hq", "leader", "town_qizhen", "epi", "admin"):
        assert username in text
    assert "人员" in err.getvalue()  # progress bar on stderr
    again = io.StringIO()
    call_command("seed", "--people", "800", "--seed", "3", stdout=again, stderr=err)
    assert "未重建" in again.getvalue()
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed", "--people", "801", "--seed", "3", stdout=out, stderr=err)
    call_command("seed", "--people", "900", "--seed", "3", "--reset", stdout=out, stderr=err)
    assert Person.objects.count() == 900
