"""Home, division tree, division coverage page, map data and audit log: end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import GridWorker
from fangkong.accounts.services import responsibility_assign
from fangkong.core.audit import audit_record
from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.geo.models import Division
from fangkong.people.models import Household, Person

pytestmark = pytest.mark.django_db

DIVISION_PAGES = ["reports:division", "reports:division_geojson", "reports:division_children"]

# (who, which division, expected status) for every page about one division.
MATRIX = [
    ("other_grid_worker", "grid_a", 404),
    ("other_grid_worker", "town_a", 404),
    ("grid_worker", "grid_a", 200),
    ("grid_worker", "grid_a2", 404),
    ("grid_worker", "town_a", 404),
    ("village_officer", "village_a", 200),
    ("village_officer", "town_b", 404),
    ("town_officer", "town_a", 200),
    ("town_officer", "grid_a", 200),
    ("town_officer", "town_b", 404),
    ("other_town_officer", "grid_a", 404),
    ("commander", "town_a", 200),
    ("commander", "grid_a", 200),
    ("commander", "root", 200),
    ("admin", "root", 200),
]


def _square(x: float, y: float, size: float = 0.05) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _snapshot() -> tuple:
    return (
        AuditEvent.objects.count(),
        list(Division.objects.order_by("code").values()),
        Person.objects.count(),
        Household.objects.count(),
    )


# --- Anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reports:home", "reports:divisions", "reports:audit"])
def test_anonymous_is_sent_to_login(login, county, name):
    response = login(None).get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", DIVISION_PAGES)
def test_anonymous_is_sent_to_login_from_division_pages(login, county, name):
    response = login(None).get(reverse(name, args=[county.town_a.code]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- The permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize("name", DIVISION_PAGES)
@pytest.mark.parametrize(("who", "target", "status"), MATRIX)
def test_division_pages_answer_only_inside_the_scope(
    login, county, users, people, name, who, target, status
):
    before = _snapshot()

    response = login(getattr(users, who)).get(reverse(name, args=[getattr(county, target).code]))

    assert response.status_code == status
    assert _snapshot() == before


def test_unknown_division_is_404_like_an_out_of_scope_one(login, users):
    assert (
        login(users.commander).get(reverse("reports:division", args=["999999"])).status_code == 404
    )


# --- Home ------------------------------------------------------------------------------------


def test_home_for_grid_worker_shows_own_grid_and_its_households(login, users, county, people):
    response = login(users.grid_worker).get(reverse("reports:home"))

    assert response.status_code == 200
    html = response.content.decode()
    households_link = reverse("people:household_list") + f"?division={county.grid_a.code}"
    assert households_link in html
    assert county.grid_b.code not in html
    assert "横渠镇" not in html
    assert reverse("reports:audit") not in html
    assert 'data-stat="households">1<' in html
    assert 'data-stat="people">2<' in html


def test_home_for_commander_shows_county_numbers_and_tree_shortcut(login, users, county, people):
    response = login(users.commander).get(reverse("reports:home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "眉县" in html
    assert 'data-stat="households">1<' in html
    assert 'data-stat="people">3<' in html
    assert 'data-stat="grid_workers">2<' in html
    assert reverse("reports:divisions") in html
    assert reverse("reports:division", args=[county.root.code]) in html
    assert reverse("reports:audit") not in html
    assert reverse("admin:index") not in html


def test_home_for_town_officer_shows_only_the_town(login, users, county, people):
    response = login(users.town_officer).get(reverse("reports:home"))

    html = response.content.decode()
    assert "齐镇" in html
    assert "横渠镇" not in html
    assert 'data-stat="people">2<' in html


def test_home_flags_blind_spots(login, users, county, people):
    # grid A1b has no grid worker: one blind spot in town A, listed as needing attention.
    response = login(users.commander).get(reverse("reports:home"))

    html = response.content.decode()
    assert 'data-stat="blind_spots">1<' in html
    assert "需要关注的下级" in html
    assert reverse("reports:division", args=[county.town_a.code]) in html


def test_home_for_admin_links_audit_log_and_back_office(login, users, county):
    response = login(users.admin).get(reverse("reports:home"))

    html = response.content.decode()
    assert reverse("reports:audit") in html
    assert reverse("admin:index") in html
    assert reverse("geo:division_import") in html


def test_home_without_jurisdiction_says_so(login, county, users):
    users.town_officer.jurisdiction = None
    users.town_officer.save(update_fields=["jurisdiction"])

    response = login(users.town_officer).get(reverse("reports:home"))

    assert "尚未设置管辖范围" in response.content.decode()


# --- Tree ------------------------------------------------------------------------------------


def test_tree_shows_the_roots_and_their_children(login, users, county):
    response = login(users.commander).get(reverse("reports:divisions"))

    html = response.content.decode()
    assert "眉县" in html
    assert "齐镇" in html
    assert "横渠镇" in html
    assert reverse("reports:division_children", args=[county.town_a.code]) in html


def test_tree_of_a_grid_worker_is_their_grid(login, users, county):
    response = login(users.grid_worker).get(reverse("reports:divisions"))

    html = response.content.decode()
    assert reverse("reports:division", args=[county.grid_a.code]) in html
    assert "眉县" not in html
    assert "横渠镇" not in html


def test_tree_children_fragment_lists_the_children(login, users, county):
    response = login(users.town_officer).get(
        reverse("reports:division_children", args=[county.town_a.code])
    )

    html = response.content.decode()
    assert "齐镇村" in html
    assert reverse("reports:division_children", args=[county.village_a.code]) in html
    assert "<html" not in html


def test_tree_search_stays_inside_the_scope(login, users, county):
    own = login(users.commander).get(reverse("reports:divisions"), {"q": "横渠"})
    other = login(users.town_officer).get(reverse("reports:divisions"), {"q": "横渠"})

    assert reverse("reports:division", args=[county.town_b.code]) in own.content.decode()
    assert reverse("reports:division", args=[county.town_b.code]) not in other.content.decode()
    assert "没有找到匹配的区划" in other.content.decode()


# --- Division page ---------------------------------------------------------------------------


def test_division_page_shows_children_with_coverage(login, users, county, people):
    response = login(users.commander).get(reverse("reports:division", args=[county.root.code]))

    assert response.status_code == 200
    rows = {row.code: row for row in response.context["coverage"].rows}
    assert set(rows) == {county.town_a.code, county.town_b.code}
    assert (rows[county.town_a.code].households, rows[county.town_a.code].people) == (1, 2)
    assert rows[county.town_a.code].grids_without_worker == 1
    html = response.content.decode()
    assert f'<tr class="has-blind" data-code="{county.town_a.code}">' in html
    assert f'<tr class="" data-code="{county.town_b.code}">' in html


def test_division_page_lists_the_blind_spots(login, users, county, people):
    Household.objects.create(address="齐镇村未分组", division=county.village_a)

    response = login(users.commander).get(reverse("reports:division", args=[county.town_a.code]))

    html = response.content.decode()
    without = html.split('id="grids-without-worker"')[1].split("</div>\n    </div>")[0]
    assert county.grid_a2.code in without
    assert county.grid_a.code not in without
    outside = html.split('id="households-outside"')[1].split("</ul>")[0]
    assert "齐镇村" in outside
    assert "1 户" in outside


def test_division_page_lists_overloaded_workers(login, users, county, people, settings):
    settings.FANGKONG = {**settings.FANGKONG, "GRID_WORKER_MAX_HOUSEHOLDS": 0}

    response = login(users.commander).get(reverse("reports:division", args=[county.root.code]))

    overloaded = response.content.decode().split('id="overloaded-workers"')[1].split("</ul>")[0]
    assert "网格员甲" in overloaded
    assert "网格员乙" not in overloaded


def test_breadcrumbs_link_only_inside_the_scope(login, users, county):
    response = login(users.town_officer).get(reverse("reports:division", args=[county.grid_a.code]))

    html = response.content.decode().split('class="breadcrumb"')[1].split("</ol>")[0]
    assert reverse("reports:division", args=[county.root.code]) not in html
    assert "眉县" in html
    assert reverse("reports:division", args=[county.town_a.code]) in html
    assert reverse("reports:division", args=[county.village_a.code]) in html


def test_escalation_chain_shows_names_titles_and_masked_phones(login, users, county):
    responsibility_assign(
        actor=None,
        division_code=county.town_a.code,
        tier="county_leader",
        name="赵县长",
        title="副县长",
        phone="13912345678",
    )

    response = login(users.grid_worker).get(reverse("reports:division", args=[county.grid_a.code]))

    chain = response.content.decode().split('id="escalation-chain"')[1].split("</ol>")[0]
    assert "网格员甲" in chain
    assert "赵县长" in chain
    assert "副县长" in chain
    assert "139****5678" in chain
    assert "13912345678" not in chain
    assert "13800000001" not in chain
    assert chain.index("网格员甲") < chain.index("赵县长")


def test_division_page_for_a_grid_has_no_children_table(login, users, county, people):
    response = login(users.grid_worker).get(reverse("reports:division", args=[county.grid_a.code]))

    html = response.content.decode()
    assert 'id="coverage-table"' not in html
    assert 'data-stat="people">2<' in html


def test_division_page_offers_management_only_to_editors(login, users, county):
    url = reverse("reports:division", args=[county.town_a.code])
    create = reverse("geo:division_create", args=[county.town_a.code])

    assert create in login(users.commander).get(url).content.decode()
    assert create not in login(users.town_officer).get(url).content.decode()


def _grow_county(county, towns: int, people_per_grid: int) -> None:
    """More towns, villages, grids, workers, households and people: a bigger county."""
    serial = 100
    for t in range(towns):
        town = Division.objects.create(
            code=f"610326{200 + t:03d}", name=f"镇{t}", parent=county.root, level=1
        )
        for v in range(2):
            village = Division.objects.create(
                code=f"{town.code}{201 + v:03d}", name=f"村{t}-{v}", parent=town, level=2
            )
            for g in range(2):
                grid = Division.objects.create(
                    code=f"{village.code}{1 + g:03d}", name=f"{g + 1}组", parent=village, level=3
                )
                if g == 0:
                    GridWorker.objects.create(name=f"网格员{t}{v}").grids.set([grid])
                household = Household.objects.create(address="某地", division=grid)
                for _ in range(people_per_grid):
                    serial += 1
                    Person.objects.create(
                        name="某人",
                        id_number=make_resident_id("610326", dt.date(1980, 1, 1), serial),
                        division=grid,
                        household=household,
                    )


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["commander", "town_officer", "grid_worker"])
def test_division_page_makes_a_constant_number_of_queries(
    login, users, county, people, django_assert_max_num_queries, who
):
    client = login(getattr(users, who))
    target = {"commander": county.root, "town_officer": county.town_a, "grid_worker": county.grid_a}
    url = reverse("reports:division", args=[target[who].code])
    small = _count_queries(client, url)

    _grow_county(county, towns=4, people_per_grid=3)
    with django_assert_max_num_queries(18):
        assert client.get(url).status_code == 200
    assert _count_queries(client, url) == small


def test_home_page_query_count_does_not_grow_with_the_county(login, users, county, people):
    client = login(users.commander)
    small = _count_queries(client, reverse("reports:home"))

    _grow_county(county, towns=3, people_per_grid=2)

    assert _count_queries(client, reverse("reports:home")) == small


# --- Map data --------------------------------------------------------------------------------


def test_geojson_is_a_feature_collection_of_the_children(login, users, county):
    Division.objects.filter(code=county.town_a.code).update(boundary=_square(107.7, 34.2))
    Division.objects.filter(code=county.town_b.code).update(
        boundary={"type": "Feature", "properties": {}, "geometry": _square(107.8, 34.2)}
    )

    response = login(users.commander).get(
        reverse("reports:division_geojson", args=[county.root.code])
    )

    data = response.json()
    assert data["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in data["features"]}
    assert set(features) == {county.town_a.code, county.town_b.code}
    assert features[county.town_a.code]["properties"]["name"] == "齐镇"
    assert features[county.town_b.code]["geometry"]["type"] == "Polygon"


def test_geojson_leaves_out_children_without_a_boundary(login, users, county):
    Division.objects.filter(code=county.town_a.code).update(boundary=_square(107.7, 34.2))

    response = login(users.commander).get(
        reverse("reports:division_geojson", args=[county.root.code])
    )

    assert [f["properties"]["code"] for f in response.json()["features"]] == [county.town_a.code]


def test_geojson_of_a_small_grid_is_the_grid_itself(login, users, county):
    Division.objects.filter(code=county.grid_a.code).update(boundary=_square(107.7, 34.2, 0.01))

    response = login(users.grid_worker).get(
        reverse("reports:division_geojson", args=[county.grid_a.code])
    )

    assert [f["properties"]["code"] for f in response.json()["features"]] == [county.grid_a.code]


def test_division_page_embeds_the_numbers_the_map_colours_by(login, users, county, people):
    response = login(users.commander).get(reverse("reports:division", args=[county.root.code]))

    rows = response.context["map_rows"]
    assert rows[county.town_a.code]["people"] == 2
    assert rows[county.town_a.code]["blind"] == 1
    assert rows[county.town_b.code]["blind"] == 0
    assert 'id="division-map-rows"' in response.content.decode()
    assert "vendor/echarts/echarts.min.js" in response.content.decode()


# --- Audit log -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("commander", 404),
        ("leader", 404),
        ("town_officer", 404),
        ("grid_worker", 404),
        ("epidemiologist", 404),
        ("admin", 200),
        ("superuser", 200),
    ],
)
def test_audit_page_is_only_for_administrators(login, users, who, status):
    response = login(getattr(users, who)).get(reverse("reports:audit"))

    assert response.status_code == status


def test_audit_link_in_navbar_only_for_administrators(login, users, county):
    assert (
        reverse("reports:audit")
        in login(users.admin).get(reverse("reports:divisions")).content.decode()
    )
    assert (
        reverse("reports:audit")
        not in login(users.commander).get(reverse("reports:divisions")).content.decode()
    )


def test_audit_page_shows_the_reason_beside_the_event(login, users, people):
    audit_record(
        actor=users.town_officer,
        verb="people.person.reveal",
        target=people.head,
        reason="流调核实密接身份",
    )

    response = login(users.admin).get(reverse("reports:audit"))

    html = response.content.decode()
    row = html.split('id="audit-table"')[1].split("</tr>")[1]
    assert "people.person.reveal" in row
    assert "查看完整信息" in row
    assert "流调核实密接身份" in row
    assert f"#{people.head.pk}" in row
    assert "town_a" in row


def test_audit_page_filters_by_actor_verb_target_and_dates(login, users, county):
    audit_record(actor=users.commander, verb="geo.division.create", target=county.town_a)
    audit_record(
        actor=users.town_officer,
        verb="people.person.create",
        target_type="people.person",
        target_id=7,
    )
    old = audit_record(
        actor=users.town_officer,
        verb="people.person.update",
        target_type="people.person",
        target_id=7,
    )
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=10))
    client = login(users.admin)
    url = reverse("reports:audit")

    def verbs(**params) -> list[str]:
        page = client.get(url, params).context["page"]
        return sorted(e.verb for e in page.items)

    assert verbs(actor="town_a") == ["people.person.create", "people.person.update"]
    assert verbs(actor=str(users.commander.pk)) == ["geo.division.create"]
    assert verbs(verb="people.") == ["people.person.create", "people.person.update"]
    assert verbs(verb="geo.division.create") == ["geo.division.create"]
    assert verbs(target_type="people.person", target_id="7") == [
        "people.person.create",
        "people.person.update",
    ]
    today = timezone.localdate()
    assert verbs(date_from=today.isoformat()) == ["geo.division.create", "people.person.create"]
    assert verbs(date_to=(today - dt.timedelta(days=5)).isoformat()) == ["people.person.update"]


def test_audit_page_rejects_a_reversed_date_range_in_chinese(login, users):
    response = login(users.admin).get(
        reverse("reports:audit"), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )

    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_audit_page_is_paginated(login, users, county):
    for _ in range(55):
        audit_record(actor=users.commander, verb="geo.division.update", target=county.town_a)
    client = login(users.admin)

    first = client.get(reverse("reports:audit"))
    second = client.get(reverse("reports:audit"), {"page": 2})

    assert len(first.context["page"].items) == 50
    assert first.context["page"].count == 55
    assert len(second.context["page"].items) == 5
    assert "page=2" in first.content.decode()


def test_audit_page_query_count_is_constant(login, users, county, django_assert_max_num_queries):
    for i in range(30):
        audit_record(
            actor=users.commander,
            verb="people.person.reveal",
            target_type="people.person",
            target_id=i,
            reason="核实",
        )

    client = login(users.admin)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("reports:audit"))

    assert response.status_code == 200


def test_the_home_page_flags_checkpoints_nobody_mans_to_their_leader(county, users, login):
    """A checkpoint led by the town officer, with no shift in the next 48 hours."""
    from fangkong.travel.models import Checkpoint

    Checkpoint.objects.create(
        name="齐镇高速出口",
        kind="highway_exit",
        division=county.town_a,
        leader=users.town_officer,
    )
    page = login(users.town_officer).get("/").content.decode()
    assert 'id="duty-gaps"' in page
    assert "/checkpoints/coverage/" in page
    page = login(users.grid_worker).get("/").content.decode()
    assert 'id="duty-gaps"' not in page
