"""Cross-app fixtures: a small county tree, a user for every role, people in two grids.

Tree (codes nest, like the real one):
    610326 眉县
      610326107 齐镇 (town A)          610326101 横渠镇 (town B)
        610326107201 village A1           610326101201 village B1
          610326107201001 grid A1a           610326101201001 grid B1a
          610326107201002 grid A1b
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client

from fangkong.accounts.models import GridWorker, User
from fangkong.accounts.roles import Role
from fangkong.accounts.services import token_create
from fangkong.core.tests.idgen import make_resident_id
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person

PASSWORD = "Fangkong-test-2020"


def _division(
    code: str, name: str, parent: Division | None, level: int, kind: str = "rural"
) -> Division:
    return Division.objects.create(
        code=code,
        name=name,
        parent=parent,
        level=level,
        kind=kind,
        full_name=(f"{parent.full_name}/{name}" if parent else name),
    )


@pytest.fixture
def county(db) -> SimpleNamespace:
    root = _division("610326", "眉县", None, 0)
    town_a = _division("610326107", "齐镇", root, 1)
    town_b = _division("610326101", "横渠镇", root, 1)
    village_a = _division("610326107201", "齐镇村", town_a, 2)
    village_b = _division("610326101201", "横渠村", town_b, 2)
    grid_a = _division("610326107201001", "一组", village_a, 3)
    grid_a2 = _division("610326107201002", "二组", village_a, 3)
    grid_b = _division("610326101201001", "一组", village_b, 3)
    return SimpleNamespace(
        root=root,
        town_a=town_a,
        town_b=town_b,
        village_a=village_a,
        village_b=village_b,
        grid_a=grid_a,
        grid_a2=grid_a2,
        grid_b=grid_b,
    )


def _user(username: str, role: str, jurisdiction: Division | None, **extra) -> User:
    user = User(
        username=username, role=role, jurisdiction=jurisdiction, display_name=username, **extra
    )
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def users(county) -> SimpleNamespace:
    """One account per role that the permission matrices use."""
    grid_worker = _user("gw_a", Role.GRID_WORKER, county.grid_a)
    GridWorker.objects.create(user=grid_worker, name="网格员甲", phone="13800000001").grids.set(
        [county.grid_a]
    )
    other_worker = _user("gw_b", Role.GRID_WORKER, county.grid_b)
    GridWorker.objects.create(user=other_worker, name="网格员乙", phone="13800000002").grids.set(
        [county.grid_b]
    )
    return SimpleNamespace(
        commander=_user("hq", Role.COMMANDER, county.root),
        leader=_user("leader", Role.LEADER, county.root),
        town_officer=_user("town_a", Role.TOWN_OFFICER, county.town_a),
        other_town_officer=_user("town_b", Role.TOWN_OFFICER, county.town_b),
        village_officer=_user("village_a", Role.VILLAGE_OFFICER, county.village_a),
        grid_worker=grid_worker,
        other_grid_worker=other_worker,
        epidemiologist=_user("epi", Role.EPIDEMIOLOGIST, county.root),
        lab_staff=_user("lab", Role.LAB_STAFF, county.root),
        admin=_user("admin", Role.ADMIN, None, is_staff=True),
        superuser=_user("root", Role.ADMIN, None, is_staff=True, is_superuser=True),
    )


@pytest.fixture
def people(county) -> SimpleNamespace:
    """A household in grid A1a (两口之家) and one person in grid B1a."""
    household = Household.objects.create(address="眉县齐镇齐镇村一组12号", division=county.grid_a)
    head = Person.objects.create(
        name="张建国",
        id_number=make_resident_id("610326", dt.date(1970, 3, 15), 11),
        sex="M",
        birth_date=dt.date(1970, 3, 15),
        phone="13912345678",
        division=county.grid_a,
        household=household,
        relation_to_head="head",
        address="眉县齐镇齐镇村一组12号",
    )
    household.head = head
    household.save(update_fields=["head"])
    spouse = Person.objects.create(
        name="李秀英",
        id_number=make_resident_id("610326", dt.date(1972, 8, 2), 22),
        sex="F",
        birth_date=dt.date(1972, 8, 2),
        phone="13712345678",
        division=county.grid_a,
        household=household,
        relation_to_head="spouse",
        address="眉县齐镇齐镇村一组12号",
    )
    other = Person.objects.create(
        name="王小明",
        id_number=make_resident_id("610326", dt.date(1990, 1, 1), 31),
        sex="M",
        birth_date=dt.date(1990, 1, 1),
        phone="13612345678",
        division=county.grid_b,
        address="眉县横渠镇横渠村一组3号",
    )
    return SimpleNamespace(household=household, head=head, spouse=spouse, other=other)


@pytest.fixture
def login():
    """login(user) -> a Django test Client with that user logged in (None: anonymous)."""

    def _login(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return _login


@pytest.fixture
def api_client():
    """api_client(user) -> a Client sending `Authorization: Bearer <token>` (None: no header)."""

    def _client(user: User | None) -> Client:
        if user is None:
            return Client()
        _, raw = token_create(actor=None, user=user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return _client


@pytest.fixture(autouse=True)
def _data_migrations_restored(request):
    """A transactional test (live_server, transactional_db) runs on a database that an earlier
    transactional test may have flushed, and a flush also empties what the data migrations
    loaded (the national policy editions). Put them back before such a test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    if not (transactional or {"transactional_db", "live_server"} & set(request.fixturenames)):
        yield
        return
    if not transactional:
        request.getfixturevalue("transactional_db")
    from fangkong.policy.models import PolicyEdition
    from fangkong.policy.presets import presets_apply

    if not PolicyEdition.objects.filter(kind=PolicyEdition.Kind.NATIONAL).exists():
        presets_apply(PolicyEdition)
    yield
