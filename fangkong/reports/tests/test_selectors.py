"""Selectors behind the audit log, the division tree and the map."""

from __future__ import annotations

import pytest

from fangkong.core.audit import audit_record
from fangkong.core.exceptions import NotFound
from fangkong.geo.models import Division
from fangkong.reports.selectors import (
    audit_event_list,
    audit_filter_choices,
    division_map,
    division_search,
    division_tree_children,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["commander", "leader", "town_officer", "grid_worker"])
def test_audit_event_list_is_missing_for_non_administrators(users, who):
    with pytest.raises(NotFound):
        audit_event_list(viewer=getattr(users, who))
    with pytest.raises(NotFound):
        audit_filter_choices(viewer=getattr(users, who))


def test_audit_event_list_brings_actor_and_reason_in_one_query(
    users, county, django_assert_num_queries
):
    for i in range(5):
        audit_record(
            actor=users.town_officer,
            verb="people.person.reveal",
            target_type="people.person",
            target_id=i,
            reason=f"核实{i}",
        )

    with django_assert_num_queries(1):
        events = list(audit_event_list(viewer=users.admin))
        reasons = [(e.actor.username, e.reason.text) for e in events]

    assert reasons[0] == ("town_a", "核实4")
    assert len(reasons) == 5


def test_audit_filter_choices_lists_verbs_and_target_types(users, county):
    audit_record(actor=users.commander, verb="geo.division.update", target=county.town_a)
    audit_record(
        actor=None, verb="accounts.token.create", target_type="accounts.apitoken", target_id=1
    )

    choices = audit_filter_choices(viewer=users.superuser)

    assert choices == {
        "verbs": ["accounts.token.create", "geo.division.update"],
        "target_types": ["accounts.apitoken", "geo.division"],
    }


def test_tree_children_stay_in_scope_and_count_grandchildren(
    users, county, django_assert_num_queries
):
    with django_assert_num_queries(1):
        children = division_tree_children(viewer=users.commander, parent_codes=[county.root.code])

    towns = {d.code: d.n_children for d in children[county.root.code]}
    assert towns == {county.town_a.code: 1, county.town_b.code: 1}
    scoped = division_tree_children(viewer=users.town_officer, parent_codes=[county.root.code])
    assert [d.code for d in scoped[county.root.code]] == [county.town_a.code]


def test_division_search_by_name_and_code_prefix_in_scope(users, county):
    by_name = division_search(viewer=users.commander, q="横渠")
    by_code = division_search(viewer=users.town_officer, q="6103261072")

    assert [d.code for d in by_name] == [county.town_b.code, county.village_b.code]
    assert [d.code for d in by_code] == [
        county.village_a.code,
        county.grid_a.code,
        county.grid_a2.code,
    ]
    assert division_search(viewer=users.town_officer, q="横渠") == []


def test_division_map_accepts_geometries_features_and_collections(users, county):
    square = [[[107.7, 34.2], [107.8, 34.2], [107.8, 34.3], [107.7, 34.2]]]
    Division.objects.filter(code=county.town_a.code).update(
        boundary={
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square}}
            ],
        }
    )
    Division.objects.filter(code=county.town_b.code).update(
        boundary={"type": "MultiPolygon", "coordinates": [square]}
    )

    data = division_map(viewer=users.commander, division=county.root)

    geometries = {f["id"]: f["geometry"] for f in data["features"]}
    assert geometries[county.town_a.code] == {"type": "MultiPolygon", "coordinates": [square]}
    assert geometries[county.town_b.code]["type"] == "MultiPolygon"


def test_division_map_ignores_broken_boundaries(users, county):
    Division.objects.filter(code=county.town_a.code).update(boundary={"type": "Point"})
    Division.objects.filter(code=county.town_b.code).update(boundary=[1, 2])

    assert division_map(viewer=users.commander, division=county.root)["features"] == []
