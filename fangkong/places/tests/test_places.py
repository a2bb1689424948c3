"""The place registry: registration and its messages, venue codes, scope and the permission
matrix (pages and API), close/reopen, and the stay rules (defaults and the county's overrides)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.core.exceptions import Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.places import services_places
from fangkong.places.defaults import DEFAULT_STAY_RULES
from fangkong.places.models import Place, PlaceKind, StayRule
from fangkong.places.selectors_places import (
    CODE_ALPHABET,
    access_place_by_id,
    place_by_code,
    place_list,
    stay_for,
    stay_rule_table,
)
from fangkong.places.services_places import (
    place_close,
    place_create,
    place_reopen,
    place_update,
    stay_rule_set,
    stay_rules_set,
)

pytestmark = pytest.mark.django_db


def _inspector(county, division=None) -> User:
    user = User(
        username="inspector",
        role=Role.INSPECTOR,
        jurisdiction=division or county.town_a,
        display_name="inspector",
    )
    user.set_password("x-Passw0rd-x")
    user.save()
    return user


def _place(actor, division, **extra) -> Place:
    data = {
        "name": "齐镇农贸市场",
        "kind": PlaceKind.MARKET,
        "division_code": division.code,
        "address": "眉县齐镇街道12号",
        "person_in_charge": "赵大海",
        "contact_phone": "13912340000",
    }
    data.update(extra)
    return place_create(actor=actor, **data)


# --- registration ---------------------------------------------------------------------------


def test_create_generates_an_unambiguous_code_and_audits_ids_only(county, users):
    place = _place(users.town_officer, county.village_a)
    assert len(place.code) == 8
    assert set(place.code) <= set(CODE_ALPHABET)
    assert not set(place.code) & set("01OIL")
    assert place.active
    assert place.created_by == users.town_officer
    event = AuditEvent.objects.get(verb="places.place.create")
    assert event.data == {"code": place.code, "kind": "market", "division": county.village_a.code}
    assert "赵大海" not in str(event.data)
    assert "13912340000" not in str(event.data)


def test_create_reports_every_bad_field_and_writes_nothing(county, users):
    with pytest.raises(ValidationFailed) as info:
        place_create(
            actor=users.commander,
            name=" ",
            kind="casino",
            division_code="999999",
            address="",
            contact_phone="12345",
        )
    errors = info.value.errors
    assert set(errors) == {"name", "kind", "division_code", "address", "contact_phone"}
    assert "场所名称" in errors["name"][0]
    assert "场所类型" in errors["kind"][0]
    assert "区划代码不存在或不在您的管辖范围内" in errors["division_code"][0]
    assert "联系电话" in errors["contact_phone"][0]
    assert not Place.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="places.").exists()


def test_phone_accepts_mobile_with_prefix_and_landline(county, users):
    mobile = _place(users.commander, county.village_a, contact_phone="+86 139 1234 0000")
    landline = _place(users.commander, county.village_a, contact_phone="0917-5521234")
    blank = _place(users.commander, county.village_a, contact_phone="")
    assert mobile.contact_phone == "13912340000"
    assert landline.contact_phone == "0917-5521234"
    assert blank.contact_phone == ""


def test_codes_are_unique_and_a_taken_code_is_drawn_again(county, users, monkeypatch):
    first = _place(users.commander, county.village_a)
    draws = iter([first.code, first.code, "ABCDEFGH"])
    monkeypatch.setattr(services_places, "_new_code", lambda: next(draws))
    second = _place(users.commander, county.village_a, name="第二个市场")
    assert second.code == "ABCDEFGH"
    assert Place.objects.filter(code=first.code).count() == 1


def test_many_codes_are_distinct(county, users):
    codes = {_place(users.commander, county.village_a, name=f"场所{i}").code for i in range(30)}
    assert len(codes) == 30


def test_place_by_code_is_public_and_forgives_case_and_spaces(county, users):
    place = _place(users.commander, county.village_a)
    assert place_by_code(code=f" {place.code.lower()} ") == place
    assert place_by_code(code="ZZZZZZZZ") is None
    assert place_by_code(code="") is None


def test_update_changes_fields_keeps_the_code_and_audits_field_names(county, users):
    place = _place(users.town_officer, county.village_a)
    code = place.code
    place = place_update(
        actor=users.town_officer,
        place=place,
        changes={"name": "齐镇新市场", "contact_phone": "", "kind": PlaceKind.SUPERMARKET},
    )
    place.refresh_from_db()
    assert (place.name, place.kind, place.contact_phone, place.code) == (
        "齐镇新市场",
        "supermarket",
        "",
        code,
    )
    event = AuditEvent.objects.get(verb="places.place.update")
    assert event.data["fields"] == ["contact_phone", "kind", "name"]
    with pytest.raises(ValidationFailed) as info:
        place_update(actor=users.town_officer, place=place, changes={"code": "X"})
    assert "code" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        place_update(
            actor=users.town_officer, place=place, changes={"division_code": county.town_b.code}
        )
    assert "division_code" in info.value.errors


def test_close_and_reopen(county, users):
    place = _place(users.village_officer, county.village_a)
    place = place_close(actor=users.village_officer, place=place, reason="停业整顿")
    assert not place.active
    assert not Place.objects.get(pk=place.pk).active
    assert place_list(viewer=users.commander, active=False).get() == place
    place = place_reopen(actor=users.village_officer, place=place)
    assert place.active
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="places.place.").values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["places.place.close", "places.place.create", "places.place.reopen"]


# --- scope and roles (services and selectors) ----------------------------------------------


def test_scope_and_roles_in_services(county, users):
    inspector = _inspector(county)
    assert _place(inspector, county.village_a).division == county.village_a
    with pytest.raises(ValidationFailed):  # out of scope reads like unknown
        _place(users.other_town_officer, county.village_a)
    for user in (users.leader, users.grid_worker, users.epidemiologist, users.lab_staff):
        with pytest.raises(Forbidden):
            _place(user, county.village_a)
    place = _place(users.commander, county.village_a)
    with pytest.raises(Forbidden):
        place_close(actor=users.leader, place=place)
    with pytest.raises(Forbidden):
        place_close(actor=users.other_town_officer, place=place)


def test_list_filters_and_scope(county, users, django_assert_max_num_queries):
    a = _place(users.commander, county.village_a, name="齐镇中心小学", kind=PlaceKind.SCHOOL)
    b = _place(users.commander, county.town_a, name="齐镇药店", kind=PlaceKind.PHARMACY)
    c = _place(users.commander, county.village_b, name="横渠饭店", kind=PlaceKind.RESTAURANT)
    with django_assert_max_num_queries(1):
        rows = list(place_list(viewer=users.commander))
        [r.division.name for r in rows]
    assert set(rows) == {a, b, c}
    assert set(place_list(viewer=users.town_officer)) == {a, b}
    assert set(place_list(viewer=users.other_town_officer)) == {c}
    assert list(place_list(viewer=users.commander, kind="school")) == [a]
    assert list(place_list(viewer=users.commander, division=county.town_b.code)) == [c]
    assert list(place_list(viewer=users.commander, q="药店")) == [b]
    assert list(place_list(viewer=users.commander, q=c.code.lower())) == [c]
    assert list(place_list(viewer=None)) == []
    assert access_place_by_id(viewer=users.town_officer, place_id=a.pk) == a
    with pytest.raises(NotFound):
        access_place_by_id(viewer=users.other_town_officer, place_id=a.pk)
    with pytest.raises(NotFound):
        access_place_by_id(viewer=users.commander, place_id=999999)


# --- stay rules -----------------------------------------------------------------------------


def test_defaults_cover_every_kind_within_their_cap():
    assert set(DEFAULT_STAY_RULES) == set(PlaceKind.values)
    for stay, cap in DEFAULT_STAY_RULES.values():
        assert 1 <= stay <= cap <= 1440 * 7


def test_stay_for_uses_defaults_then_the_county_rule(users):
    assert stay_for(kind="market") == (60, 240)
    assert stay_for(kind="supermarket") == (45, 180)
    assert stay_for(kind="school") == (480, 600)
    stay_rule_set(actor=users.commander, kind="market", stay_minutes=30, cap_minutes="120")
    assert stay_for(kind="market") == (30, 120)
    row = next(r for r in stay_rule_table() if r["kind"] == "market")
    assert (row["is_default"], row["default_stay_minutes"]) == (False, 60)
    event = AuditEvent.objects.get(verb="places.stay_rule.set")
    assert event.data["kind"] == "market"


def test_stay_rule_validation_and_permission(users):
    with pytest.raises(ValidationFailed) as info:
        stay_rule_set(actor=users.commander, kind="market", stay_minutes=300, cap_minutes=120)
    assert "最长推定停留不能短于默认停留" in info.value.errors["cap_minutes"][0]
    with pytest.raises(ValidationFailed) as info:
        stay_rule_set(actor=users.commander, kind="nope", stay_minutes=0, cap_minutes=99999)
    assert set(info.value.errors) == {"kind", "stay_minutes", "cap_minutes"}
    with pytest.raises(ValidationFailed) as info:
        stay_rule_set(actor=users.admin, kind="market", stay_minutes="半小时", cap_minutes=60)
    assert "整数" in info.value.errors["stay_minutes"][0]
    for user in (users.town_officer, users.leader, users.epidemiologist):
        with pytest.raises(Forbidden):
            stay_rule_set(actor=user, kind="market", stay_minutes=30, cap_minutes=60)
    assert not StayRule.objects.exists()


def test_stay_rules_set_saves_all_or_nothing(users):
    with pytest.raises(ValidationFailed) as info:
        stay_rules_set(
            actor=users.commander,
            rules=[
                {"kind": "market", "stay_minutes": 30, "cap_minutes": 90},
                {"kind": "hotel", "stay_minutes": 2000, "cap_minutes": 1000},
            ],
        )
    assert list(info.value.errors) == ["hotel.cap_minutes"]
    assert not StayRule.objects.exists()
    stay_rules_set(
        actor=users.commander,
        rules=[
            {"kind": "market", "stay_minutes": 30, "cap_minutes": 90},
            {"kind": "hotel", "stay_minutes": 1440, "cap_minutes": 2880},
        ],
    )
    assert stay_for(kind="hotel") == (1440, 2880)
    assert stay_for(kind="market") == (30, 90)


# --- pages ----------------------------------------------------------------------------------


def _form(division, **extra):
    data = {
        "name": "齐镇中心小学",
        "kind": "school",
        "division_code": division.code,
        "address": "齐镇街道1号",
        "person_in_charge": "钱校长",
        "contact_phone": "0917-5521234",
    }
    data.update(extra)
    return data


def test_pages_for_a_town_officer(county, users, login):
    client = login(users.town_officer)
    assert client.get(reverse("places:new")).status_code == 200
    response = client.post(reverse("places:new"), _form(county.village_a))
    place = Place.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("places:detail", args=[place.pk])
    page = client.get(reverse("places:list")).content.decode()
    assert "齐镇中心小学" in page
    assert place.code in page
    detail = client.get(reverse("places:detail", args=[place.pk])).content.decode()
    assert "<svg" in detail
    assert reverse("places:poster_pdf", args=[place.pk]) in detail
    assert "0917-5521234" in detail
    response = client.post(
        reverse("places:edit", args=[place.pk]), _form(county.village_a, name="齐镇一小")
    )
    assert response.status_code == 302
    client.post(reverse("places:close", args=[place.pk]), {"reason": "放假"})
    place.refresh_from_db()
    assert (place.name, place.active) == ("齐镇一小", False)
    client.post(reverse("places:reopen", args=[place.pk]))
    place.refresh_from_db()
    assert place.active


def test_form_shows_the_service_messages_and_keeps_input(county, users, login):
    client = login(users.town_officer)
    response = client.post(
        reverse("places:new"),
        _form(county.village_a, name="", contact_phone="123", division_code=county.town_b.code),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "请填写场所名称" in page
    assert "联系电话应为" in page
    assert "区划代码不存在或不在您的管辖范围内" in page
    assert "齐镇街道1号" in page
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("who", "list_status", "detail_status", "create_status"),
    [
        ("commander", 200, 200, 302),
        ("admin", 200, 200, 302),
        ("town_officer", 200, 200, 302),
        ("village_officer", 200, 200, 302),
        ("inspector", 200, 200, 302),
        ("other_town_officer", 200, 404, 200),  # the form comes back: division out of scope
        ("leader", 200, 200, 403),
        ("grid_worker", 200, 200, 403),
        ("epidemiologist", 200, 200, 403),
    ],
)
def test_page_permission_matrix(
    county, users, login, who, list_status, detail_status, create_status
):
    place = _place(users.commander, county.village_a)
    user = _inspector(county) if who == "inspector" else getattr(users, who)
    client = login(user)
    assert client.get(reverse("places:list")).status_code == list_status
    # The grid worker's scope is grid_a, below village_a: the place is not in it.
    expected_detail = 404 if who == "grid_worker" else detail_status
    assert client.get(reverse("places:detail", args=[place.pk])).status_code == expected_detail
    response = client.post(reverse("places:new"), _form(county.village_a, name="新场所"))
    assert response.status_code == create_status
    close = client.post(reverse("places:close", args=[place.pk]))
    if create_status == 403:
        assert close.status_code == 403
    elif detail_status == 404:
        assert close.status_code == 404
    else:
        assert close.status_code == 302


def test_anonymous_is_sent_to_login(county, users, login):
    place = _place(users.commander, county.village_a)
    client = login(None)
    for url in (
        reverse("places:list"),
        reverse("places:detail", args=[place.pk]),
        reverse("places:poster_png", args=[place.pk]),
        reverse("places:stay_rules"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_masked_contact_for_roles_that_do_not_manage_places(county, users, login):
    place = _place(users.commander, county.village_a)
    page = login(users.leader).get(reverse("places:detail", args=[place.pk])).content.decode()
    assert "13912340000" not in page
    assert "139****0000" in page
    assert "赵大海" not in page


def test_stay_rules_page(users, login):
    client = login(users.commander)
    page = client.get(reverse("places:stay_rules")).content.decode()
    assert 'name="market-stay"' in page
    data = {}
    for row in stay_rule_table():
        data[f"{row['kind']}-stay"] = row["stay_minutes"]
        data[f"{row['kind']}-cap"] = row["cap_minutes"]
    bad = {**data, "market-stay": "500", "market-cap": "100", "pharmacy-stay": "20"}
    response = client.post(reverse("places:stay_rules"), bad)
    assert response.status_code == 200
    assert "最长推定停留不能短于默认停留" in response.content.decode()
    assert not StayRule.objects.exists()
    response = client.post(reverse("places:stay_rules"), {**data, "market-stay": "30"})
    assert response.status_code == 302
    assert stay_for(kind="market") == (30, 240)
    assert StayRule.objects.count() == 1
    reader = login(users.town_officer)
    page = reader.get(reverse("places:stay_rules")).content.decode()
    assert 'name="market-stay"' not in page
    assert reader.post(reverse("places:stay_rules"), data).status_code == 403


def test_nav_link(users, login):
    page = login(users.commander).get(reverse("places:list")).content.decode()
    assert "重点场所" in page
