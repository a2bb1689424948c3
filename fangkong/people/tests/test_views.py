"""People and household pages: scope, roles, forms, reveal, masking, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from fangkong.core.models import AuditEvent
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Household, Person, PersonRevision
from fangkong.people.services import person_create, person_update

pytestmark = pytest.mark.django_db

# (url name, the fixture object the url points at): every people/household page.
READ_PAGES = [
    ("people:list", None),
    ("people:detail", "head"),
    ("people:household_list", None),
    ("people:household_detail", "household"),
]
WRITE_PAGES = [
    ("people:create", None),
    ("people:edit", "head"),
    ("people:merge", "head"),
    ("people:household_create", None),
    ("people:household_add_member", "household"),
]
OBJECT_PAGES = [(n, t) for n, t in READ_PAGES + WRITE_PAGES if t is not None]
ALL_PAGES = READ_PAGES + WRITE_PAGES


def _url(name: str, target: str | None, people) -> str:
    if target is None:
        return reverse(name)
    return reverse(name, args=[getattr(people, target).pk])


def _snapshot() -> tuple:
    """Everything a denied request must leave untouched."""
    return (
        AuditEvent.objects.count(),
        PersonRevision.objects.count(),
        list(Person.objects.order_by("pk").values()),
        list(Household.objects.order_by("pk").values()),
    )


def _edit_post(person: Person, **changes) -> dict:
    data = {
        "name": person.name,
        "id_type": person.id_type,
        "id_number": "",
        "sex": person.sex,
        "birth_date": "",
        "phone": "",
        "division_code": person.division_id,
        "household_id": str(person.household_id or ""),
        "relation_to_head": person.relation_to_head,
        "address": person.address,
        "notes": person.notes,
    }
    data.update(changes)
    return data


def _write_posts(people, county) -> dict[str, dict]:
    return {
        "people:create": {
            "name": "赵六",
            "id_type": "none",
            "phone": "13511112222",
            "division_code": county.grid_a.code,
        },
        "people:edit": _edit_post(people.head, name="张建军"),
        "people:merge": {"person_id": str(people.spouse.pk)},
        "people:household_create": {
            "address": "齐镇村一组99号",
            "division_code": county.grid_a.code,
        },
        "people:household_add_member": {"person_id": str(people.other.pk), "relation": "child"},
    }


# --- permission matrix -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "target"), [*ALL_PAGES, ("people:reveal", "head")])
def test_anonymous_is_sent_to_login(login, people, name, target):
    before = _snapshot()
    client = login(None)
    response = (
        client.post(_url(name, target, people))
        if name == "people:reveal"
        else client.get(_url(name, target, people))
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "target"), OBJECT_PAGES)
def test_grid_worker_of_another_grid_gets_404_on_object_pages(login, users, people, name, target):
    response = login(users.other_grid_worker).get(_url(name, target, people))
    assert response.status_code == 404
    assert "张建国" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "target"),
    [(n, t) for n, t in WRITE_PAGES if t is not None] + [("people:reveal", "head")],
)
def test_grid_worker_of_another_grid_cannot_write_out_of_scope(
    login, users, people, county, name, target
):
    data = _write_posts(people, county).get(name, {"reason": "核实身份"})
    before = _snapshot()
    response = login(users.other_grid_worker).post(_url(name, target, people), data)
    assert response.status_code == 404
    assert _snapshot() == before


def test_list_pages_hide_people_and_households_of_other_grids(login, users, people, county):
    client = login(users.other_grid_worker)
    listing = client.get(reverse("people:list")).content.decode()
    assert "王小明" in listing
    assert "张建国" not in listing
    assert "李秀英" not in listing
    filtered = client.get(reverse("people:list"), {"division": county.grid_a.code})
    assert "张建国" not in filtered.content.decode()
    households = client.get(reverse("people:household_list")).content.decode()
    assert reverse("people:household_detail", args=[people.household.pk]) not in households


@pytest.mark.parametrize("role", ["grid_worker", "town_officer", "commander"])
@pytest.mark.parametrize(("name", "target"), ALL_PAGES)
def test_roles_in_scope_open_every_page(login, users, people, role, name, target):
    response = login(getattr(users, role)).get(_url(name, target, people))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "target"), READ_PAGES)
def test_leader_reads_every_page(login, users, people, name, target):
    response = login(users.leader).get(_url(name, target, people))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "target"), WRITE_PAGES)
def test_leader_gets_403_on_write_pages_and_nothing_changes(
    login, users, people, county, name, target
):
    client = login(users.leader)
    url = _url(name, target, people)
    before = _snapshot()
    assert client.get(url).status_code == 403
    assert client.post(url, _write_posts(people, county)[name]).status_code == 403
    assert _snapshot() == before


def test_leader_sees_no_write_buttons(login, users, people):
    client = login(users.leader)
    listing = client.get(reverse("people:list")).content.decode()
    detail = client.get(reverse("people:detail", args=[people.head.pk])).content.decode()
    household = client.get(
        reverse("people:household_detail", args=[people.household.pk])
    ).content.decode()
    assert reverse("people:create") not in listing
    assert reverse("people:edit", args=[people.head.pk]) not in detail
    assert reverse("people:household_add_member", args=[people.household.pk]) not in household


# --- list, search, masking -------------------------------------------------------------------


def test_search_by_name_prefix_shows_matching_people_only(login, users, people):
    response = login(users.town_officer).get(reverse("people:list"), {"q": "张建"})
    content = response.content.decode()
    assert "张建国" in content
    assert "李秀英" not in content
    assert reverse("people:detail", args=[people.head.pk]) in content


def test_search_by_id_number_and_phone(login, users, people):
    client = login(users.town_officer)
    by_id = client.get(reverse("people:list"), {"q": people.spouse.id_number.lower()})
    by_phone = client.get(reverse("people:list"), {"q": "+86 137 1234 5678"})
    assert "李秀英" in by_id.content.decode()
    assert "张建国" not in by_id.content.decode()
    assert "李秀英" in by_phone.content.decode()
    assert "张建国" not in by_phone.content.decode()


def test_filter_by_address(login, users, people):
    response = login(users.commander).get(reverse("people:list"), {"address": "横渠"})
    content = response.content.decode()
    assert "王小明" in content
    assert "张建国" not in content


def test_htmx_search_returns_the_results_partial_only(login, users, people):
    response = login(users.town_officer).get(
        reverse("people:list"), {"q": "张"}, headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert "张建国" in content
    assert "<nav" not in content.split("pagination")[0]
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(login, users, people):
    response = login(users.town_officer).get(
        reverse("people:list"),
        {"q": "张"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_list_masks_per_role(login, users, people):
    head = people.head
    commander = login(users.commander).get(reverse("people:list")).content.decode()
    worker = login(users.grid_worker).get(reverse("people:list")).content.decode()
    leader = login(users.leader).get(reverse("people:list")).content.decode()
    for content in (commander, worker, leader):
        assert head.id_number not in content
        assert head.id_number[:6] + "**********" + head.id_number[-2:] in content
    assert "张建国" in commander
    assert "139****5678" in commander
    assert "13912345678" not in commander
    assert "13912345678" in worker
    assert "张建国" not in leader
    assert "张**" in leader
    assert "139****5678" in leader


def test_list_query_count_does_not_grow_with_rows(
    login, users, people, county, django_assert_max_num_queries
):
    client = login(users.grid_worker)
    client.get(reverse("people:list"))  # session and caches warm
    for n in range(40):
        Person.objects.create(
            name=f"测试{n}",
            id_number=make_resident_id("610326", dt.date(1980, 1, 1) + dt.timedelta(days=n), 1),
            phone=f"135{n:08d}",
            division=county.grid_a,
            household=people.household,
            address="眉县齐镇齐镇村一组12号",
        )
    with django_assert_max_num_queries(10):
        response = client.get(reverse("people:list"))
    assert response.context["page"].count == 42
    assert len(response.context["rows"]) == 42


def test_list_is_paginated(login, users, people, county, settings):
    settings.FANGKONG = {**settings.FANGKONG, "PAGE_SIZE": 2}
    client = login(users.commander)
    first = client.get(reverse("people:list"))
    second = client.get(reverse("people:list"), {"page": 2})
    assert [r["name"] for r in first.context["rows"]] == ["张建国", "李秀英"]
    assert [r["name"] for r in second.context["rows"]] == ["王小明"]
    assert "page=2" in first.content.decode()


# --- detail and reveal -----------------------------------------------------------------------


def test_detail_masks_and_links_the_household(login, users, people):
    head = people.head
    response = login(users.town_officer).get(reverse("people:detail", args=[head.pk]))
    content = response.content.decode()
    assert "张建国" in content
    assert head.id_number not in content
    assert "13912345678" not in content
    assert reverse("people:household_detail", args=[people.household.pk]) in content
    assert reverse("people:reveal", args=[head.pk]) in content


def test_roles_without_reveal_do_not_see_the_reveal_action(login, users, people):
    response = login(users.leader).get(reverse("people:detail", args=[people.head.pk]))
    content = response.content.decode()
    assert reverse("people:reveal", args=[people.head.pk]) not in content
    assert "查看完整信息" not in content


def test_reveal_refused_for_roles_without_reveal(login, users, people):
    before = _snapshot()
    response = login(users.leader).post(
        reverse("people:reveal", args=[people.head.pk]), {"reason": "领导要求查看"}
    )
    assert response.status_code == 403
    assert people.head.id_number not in response.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_reveal_requires_a_reason(login, users, people, reason):
    response = login(users.town_officer).post(
        reverse("people:reveal", args=[people.head.pk]), {"reason": reason}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "reason" in response.context["reveal_form"].errors
    assert "请填写查看完整信息的理由" in content
    assert people.head.id_number not in content
    assert AuditEvent.objects.count() == 0


def test_reveal_too_short_reason_uses_the_service_rule(login, users, people):
    response = login(users.town_officer).post(
        reverse("people:reveal", args=[people.head.pk]), {"reason": "查"}
    )
    assert "至少2个字" in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_reveal_writes_one_audit_event_and_shows_the_full_id_once(login, users, people):
    head = people.head
    client = login(users.town_officer)
    response = client.post(reverse("people:reveal", args=[head.pk]), {"reason": "流调核实身份"})
    content = response.content.decode()
    assert response.status_code == 200
    assert head.id_number in content
    assert "13912345678" in content
    assert "1970-03-15" in content
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get()
    assert event.verb == "people.person.reveal"
    assert event.actor == users.town_officer
    assert event.target_id == str(head.pk)
    assert event.reason.text == "流调核实身份"
    again = client.get(reverse("people:detail", args=[head.pk])).content.decode()
    assert head.id_number not in again
    assert AuditEvent.objects.count() == 1


def test_detail_shows_history_field_names_and_old_values_only_to_reveal_roles(login, users, people):
    person_update(actor=users.town_officer, person=people.head, changes={"phone": "13700001111"})
    url = reverse("people:detail", args=[people.head.pk])
    officer = login(users.town_officer).get(url).content.decode()
    leader = login(users.leader).get(url).content.decode()
    for content in (officer, leader):
        assert "手机号" in content
        assert "town_a" in content
    assert "139****5678" in officer  # the old phone, masked like the live one
    assert "13912345678" not in officer
    assert "139****5678" not in leader


def test_merged_record_redirects_to_the_kept_one_and_is_listed(login, users, people, county):
    duplicate = person_create(
        actor=users.town_officer, name="张建国", division_code=county.grid_a.code, phone=""
    )
    client = login(users.town_officer)
    client.post(reverse("people:merge", args=[people.head.pk]), {"person_id": duplicate.pk})
    response = client.get(reverse("people:detail", args=[duplicate.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[people.head.pk])
    kept = client.get(response["Location"]).content.decode()
    assert f"#{duplicate.pk}" in kept
    assert "已并入本记录的人员" in kept


# --- create / edit ---------------------------------------------------------------------------


def test_create_errors_name_each_field_and_keep_the_input(login, users, county):
    data = {
        "name": "赵六",
        "id_type": "resident_id",
        "id_number": "360426199101010072",
        "phone": "12345",
        "division_code": county.grid_a.code,
        "address": "齐镇村一组7号",
        "notes": "新迁入",
    }
    response = login(users.grid_worker).post(reverse("people:create"), data)
    content = response.content.decode()
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"id_number", "phone"}
    assert 'id="id_id_number_error"' in content
    assert 'id="id_phone_error"' in content
    for typed in ("赵六", "360426199101010072", "12345", "齐镇村一组7号", "新迁入"):
        assert typed in content
    assert not Person.objects.filter(name="赵六").exists()
    assert AuditEvent.objects.count() == 0


def test_create_requires_name_and_grid(login, users, county):
    response = login(users.commander).post(reverse("people:create"), {"id_type": "none"})
    errors = response.context["form"].errors
    assert "姓名不能为空" in errors["name"]
    assert "division_code" in errors


def test_create_rejects_a_grid_outside_scope(login, users, county):
    response = login(users.grid_worker).post(
        reverse("people:create"),
        {"name": "赵六", "id_type": "none", "division_code": county.grid_b.code},
    )
    assert "division_code" in response.context["form"].errors
    assert not Person.objects.filter(name="赵六").exists()


def test_create_offers_only_grids_in_scope(login, users, county):
    content = login(users.grid_worker).get(reverse("people:create")).content.decode()
    assert f'value="{county.grid_a.code}"' in content
    assert f'value="{county.grid_a2.code}"' not in content
    assert f'value="{county.grid_b.code}"' not in content


def test_create_duplicate_id_number_is_reported_on_the_field(login, users, people, county):
    response = login(users.town_officer).post(
        reverse("people:create"),
        {
            "name": "张建国",
            "id_type": "resident_id",
            "id_number": people.head.id_number,
            "division_code": county.grid_a.code,
        },
    )
    assert "证件号码重复" in response.context["form"].errors["id_number"]
    assert Person.objects.filter(name="张建国").count() == 1


def test_create_saves_and_opens_the_new_person(login, users, county, people):
    number = make_resident_id("610326", dt.date(2001, 5, 6), 42)
    response = login(users.grid_worker).post(
        reverse("people:create"),
        {
            "name": "赵六",
            "id_type": "resident_id",
            "id_number": number,
            "phone": "+86 135 1111 2222",
            "division_code": county.grid_a.code,
            "household_id": str(people.household.pk),
            "relation_to_head": "child",
        },
    )
    person = Person.objects.get(name="赵六")
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[person.pk])
    assert (person.phone, person.birth_date, person.sex) == (
        "13511112222",
        dt.date(2001, 5, 6),
        "F",
    )
    assert person.household == people.household
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor) == ("people.person.create", users.grid_worker)


def test_create_from_a_household_prefills_it(login, users, people):
    response = login(users.grid_worker).get(
        reverse("people:create"), {"household": people.household.pk}
    )
    assert response.context["form"].initial["household_id"] == str(people.household.pk)


def test_edit_sends_only_the_changed_fields(login, users, people):
    head = people.head
    response = login(users.town_officer).post(
        reverse("people:edit", args=[head.pk]), _edit_post(head, address="眉县齐镇齐镇村一组13号")
    )
    assert response.status_code == 302
    head.refresh_from_db()
    assert head.address == "眉县齐镇齐镇村一组13号"
    assert head.phone == "13912345678"
    assert head.id_number.startswith("610326")
    event = AuditEvent.objects.get()
    assert (event.verb, event.data["fields"]) == ("people.person.update", ["address"])
    assert PersonRevision.objects.get().before == {"address": "眉县齐镇齐镇村一组12号"}


def test_edit_does_not_put_masked_values_in_the_form(login, users, people):
    content = (
        login(users.town_officer)
        .get(reverse("people:edit", args=[people.head.pk]))
        .content.decode()
    )
    assert people.head.id_number not in content
    assert "13912345678" not in content
    assert "139****5678" in content  # placeholder


def test_edit_error_names_the_field_and_changes_nothing(login, users, people):
    head = people.head
    response = login(users.town_officer).post(
        reverse("people:edit", args=[head.pk]), _edit_post(head, phone="1391234", name="张建军")
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert "张建军" in response.content.decode()
    head.refresh_from_db()
    assert head.name == "张建国"
    assert AuditEvent.objects.count() == 0


def test_edit_without_changes_writes_nothing(login, users, people):
    response = login(users.town_officer).post(
        reverse("people:edit", args=[people.head.pk]), _edit_post(people.head)
    )
    assert response.status_code == 302
    assert AuditEvent.objects.count() == 0


# --- merge -----------------------------------------------------------------------------------


def test_merge_search_confirm_and_merge(login, users, people, county):
    duplicate = person_create(
        actor=users.town_officer,
        name="张建国",
        division_code=county.grid_a.code,
        phone="13912345678",
        notes="重复登记",
    )
    client = login(users.town_officer)
    url = reverse("people:merge", args=[people.head.pk])
    search = client.get(url, {"q": "张建国"}).content.decode()
    assert f"person_id={duplicate.pk}" in search
    confirm = client.get(url, {"person_id": duplicate.pk})
    assert confirm.context["other"] == duplicate
    assert "确认合并" in confirm.content.decode()
    response = client.post(url, {"person_id": duplicate.pk})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == people.head
    assert AuditEvent.objects.filter(verb="people.person.merge").count() == 1


def test_merge_with_an_out_of_scope_person_is_a_field_error(login, users, people):
    response = login(users.town_officer).post(
        reverse("people:merge", args=[people.head.pk]), {"person_id": people.other.pk}
    )
    assert response.status_code == 200
    assert "人员不存在" in response.context["form"].errors["person_id"]
    assert Person.objects.filter(merged_into__isnull=False).count() == 0


def test_merge_with_itself_is_refused(login, users, people):
    response = login(users.town_officer).post(
        reverse("people:merge", args=[people.head.pk]), {"person_id": people.head.pk}
    )
    assert "不能与自身合并" in response.context["form"].errors["person_id"]
    assert AuditEvent.objects.count() == 0


def test_merge_with_different_id_numbers_is_refused(login, users, people):
    response = login(users.town_officer).post(
        reverse("people:merge", args=[people.head.pk]), {"person_id": people.spouse.pk}
    )
    assert "两人证件号码不同" in response.content.decode()
    assert AuditEvent.objects.count() == 0


# --- households ------------------------------------------------------------------------------


def test_household_detail_shows_address_grid_head_and_members(login, users, people):
    response = login(users.grid_worker).get(
        reverse("people:household_detail", args=[people.household.pk])
    )
    content = response.content.decode()
    assert "眉县齐镇齐镇村一组12号" in content
    assert "一组" in content
    for member in (people.head, people.spouse):
        assert member.name in content
        assert reverse("people:detail", args=[member.pk]) in content
    assert "户主" in content
    assert "配偶" in content
    assert "王小明" not in content


def test_household_list_masks_for_leader(login, users, people):
    leader = login(users.leader).get(reverse("people:household_list")).content.decode()
    officer = login(users.town_officer).get(reverse("people:household_list")).content.decode()
    assert "眉县齐镇齐镇村一组12号" in officer
    assert "张建国" in officer
    assert "眉县齐镇齐镇村一组12号" not in leader
    assert "张建国" not in leader


def test_household_list_query_count_does_not_grow(
    login, users, county, people, django_assert_max_num_queries
):
    client = login(users.commander)
    client.get(reverse("people:household_list"))
    for n in range(30):
        Household.objects.create(address=f"眉县齐镇齐镇村一组{n + 20}号", division=county.grid_a)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("people:household_list"))
    assert response.context["page"].count == 31


def test_household_create_errors_and_success(login, users, county, people):
    client = login(users.grid_worker)
    bad = client.post(
        reverse("people:household_create"), {"address": "", "division_code": county.grid_b.code}
    )
    assert set(bad.context["form"].errors) == {"address", "division_code"}
    assert Household.objects.count() == 1
    good = client.post(
        reverse("people:household_create"),
        {"address": "齐镇村一组20号", "division_code": county.grid_a.code, "head_id": ""},
    )
    household = Household.objects.get(address="齐镇村一组20号")
    assert good["Location"] == reverse("people:household_detail", args=[household.pk])
    assert AuditEvent.objects.get().verb == "people.household.create"


def test_household_create_with_head_from_another_grid_is_refused(login, users, people, county):
    response = login(users.grid_worker).post(
        reverse("people:household_create"),
        {
            "address": "齐镇村一组20号",
            "division_code": county.grid_a.code,
            "head_id": people.other.pk,
        },
    )
    assert "户主不存在" in response.context["form"].errors["head_id"]
    assert Household.objects.count() == 1


def test_household_add_member_search_and_add(login, users, people, county):
    newcomer = person_create(
        actor=users.grid_worker, name="张小宝", division_code=county.grid_a.code
    )
    client = login(users.grid_worker)
    url = reverse("people:household_add_member", args=[people.household.pk])
    found = client.get(url, {"q": "张"}, headers={"HX-Request": "true"}).content.decode()
    assert "张小宝" in found
    assert "张建国" not in found  # already a member
    AuditEvent.objects.all().delete()
    missing = client.post(url, {"person_id": newcomer.pk})
    assert "relation" in missing.context["form"].errors
    response = client.post(url, {"person_id": newcomer.pk, "relation": "child"})
    assert response["Location"] == reverse("people:household_detail", args=[people.household.pk])
    newcomer.refresh_from_db()
    assert (newcomer.household, newcomer.relation_to_head) == (people.household, "child")
    assert AuditEvent.objects.get().verb == "people.person.update"


def test_household_add_member_cannot_pick_a_person_out_of_scope(login, users, people):
    response = login(users.grid_worker).post(
        reverse("people:household_add_member", args=[people.household.pk]),
        {"person_id": people.other.pk, "relation": "child"},
    )
    assert "人员不存在" in response.context["form"].errors["person_id"]
    people.other.refresh_from_db()
    assert people.other.household_id is None
