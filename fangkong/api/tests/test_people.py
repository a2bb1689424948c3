"""People and households over the API: masking by role, reveal and its audit, history, paging."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.models import AuditEvent, AuditReason
from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.models import Person


def _json(client, method, path, body):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def _masked_id(number: str) -> str:
    return number[:6] + "*" * 10 + number[-2:]


def test_leader_sees_surname_masked_id_and_masked_phone(world, client_for):
    head = world.people.head
    body = client_for("leader").get(f"/api/v1/people/{head.pk}").json()
    assert body["name"] == "张**"
    assert body["id_number"] == _masked_id(head.id_number)
    assert re.fullmatch(r"610326\*{10}\d[\dX]", body["id_number"])
    assert body["phone"] == "139****5678"
    assert body["address"] != head.address
    assert "12号" not in body["address"]
    assert body["birth_date"] is None
    assert body["notes"] == ""
    assert body["masked"] is True


def test_grid_worker_sees_full_name_and_phone_but_masked_id(world, client_for):
    head = world.people.head
    body = client_for("grid_worker").get(f"/api/v1/people/{head.pk}").json()
    assert body["name"] == "张建国"
    assert body["phone"] == "13912345678"
    assert body["address"] == head.address
    assert body["id_number"] == _masked_id(head.id_number)
    assert body["birth_year"] == 1970
    assert body["birth_date"] is None


def test_commander_sees_full_name_but_masked_phone(world, client_for):
    body = client_for("commander").get(f"/api/v1/people/{world.people.head.pk}").json()
    assert body["name"] == "张建国"
    assert body["phone"] == "139****5678"


def test_lists_are_masked_like_details(world, client_for):
    body = client_for("leader").get("/api/v1/people").json()
    names = {row["name"] for row in body["results"]}
    assert names == {"张**", "李**", "王**", "赵**"}
    assert all("*" in row["id_number"] for row in body["results"])
    assert all("****" in row["phone"] for row in body["results"])


def test_no_answer_outside_reveal_carries_a_full_id_number(world, client_for):
    client = client_for("commander")
    numbers = [p.id_number for p in Person.objects.all()]
    pages = [
        client.get("/api/v1/people"),
        client.get(f"/api/v1/people/{world.people.head.pk}"),
        client.get(f"/api/v1/households/{world.people.household.pk}"),
        client.get("/api/v1/households"),
        client.get(f"/api/v1/people/{world.people.head.pk}/history"),
    ]
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        assert not any(number in text for number in numbers)


def test_household_detail_lists_masked_members_for_the_leader(world, client_for):
    body = client_for("leader").get(f"/api/v1/households/{world.people.household.pk}").json()
    assert body["head_name"] == "张**"
    assert "12号" not in body["address"]
    assert [m["name"] for m in body["members"]] == ["张**", "李**"]
    assert [m["relation_to_head"] for m in body["members"]] == ["head", "spouse"]


def test_reveal_returns_the_unmasked_person_and_audits_it_without_pii(world, client_for):
    head = world.people.head
    client = client_for("grid_worker")
    response = _json(client, "post", f"/api/v1/people/{head.pk}/reveal", {"reason": "核对流调信息"})
    assert response.status_code == 200
    body = response.json()
    assert body["id_number"] == head.id_number
    assert body["birth_date"] == "1970-03-15"
    assert body["masked"] is False

    event = AuditEvent.objects.get(verb="people.person.reveal")
    assert event.actor == world.users.grid_worker
    assert (event.target_type, event.target_id) == ("people.person", str(head.pk))
    payload = json.dumps(event.data, ensure_ascii=False)
    for pii in (head.name, head.id_number, head.phone, head.address, "1970-03-15"):
        assert pii not in payload
    assert AuditReason.objects.get(event=event).text == "核对流调信息"


def test_reveal_needs_a_reason(world, client_for):
    client = client_for("commander")
    before = AuditEvent.objects.count()
    response = _json(client, "post", f"/api/v1/people/{world.people.head.pk}/reveal", {})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert "*" in client.get(f"/api/v1/people/{world.people.head.pk}").json()["id_number"]
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("viewer", ["leader", "lab_staff"])
def test_roles_that_cannot_reveal_get_403(world, users, api_client, viewer):
    client = api_client(getattr(users, viewer))
    before = AuditEvent.objects.count()
    response = _json(
        client, "post", f"/api/v1/people/{world.people.head.pk}/reveal", {"reason": "想看"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert world.people.head.id_number not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_create_person_returns_201_with_what_the_viewer_may_see(world, client_for):
    number = make_resident_id("610326", dt.date(2010, 2, 3), 82)
    response = _json(
        client_for("commander"),
        "post",
        "/api/v1/people",
        {
            "name": "张小花",
            "id_number": number[:-1] + number[-1].lower(),
            "phone": "+86 138 0013 8000",
            "division_code": world.county.grid_a2.code,
            "address": "眉县齐镇齐镇村二组1号",
            "household_id": None,
        },
    )
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert person.id_number == number
    assert person.phone == "13800138000"
    assert (person.sex, person.birth_date) == ("F", dt.date(2010, 2, 3))
    assert body["name"] == "张小花"
    assert body["phone"] == "138****8000"
    assert body["id_number"] == _masked_id(number)
    assert body["division_code"] == world.county.grid_a2.code


def test_person_without_document_needs_id_type_none(world, client_for):
    client = client_for("grid_worker")
    body = {"name": "新生儿", "division_code": world.county.grid_a.code, "birth_date": "2020-02-01"}
    refused = _json(client, "post", "/api/v1/people", body)
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["id_number"]
    created = _json(client, "post", "/api/v1/people", {**body, "id_type": "none"})
    assert created.status_code == 201
    assert created.json()["id_type"] == "none"


def test_birth_date_must_agree_with_the_id_number(world, client_for):
    response = _json(
        client_for("grid_worker"),
        "post",
        "/api/v1/people",
        {
            "name": "钱多多",
            "id_number": make_resident_id("610326", dt.date(1985, 5, 5), 13),
            "birth_date": "1985-05-06",
            "sex": "女",
            "division_code": world.county.grid_a.code,
        },
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"birth_date", "sex"}


def test_patch_changes_only_the_fields_sent_and_keeps_history_without_values(world, client_for):
    head = world.people.head
    client = client_for("town_officer")
    response = _json(
        client,
        "patch",
        f"/api/v1/people/{head.pk}",
        {"phone": "13700001234", "division_code": world.county.grid_a2.code},
    )
    assert response.status_code == 200, response.content.decode()
    head.refresh_from_db()
    assert (head.name, head.phone, head.division_id) == (
        "张建国",
        "13700001234",
        world.county.grid_a2.code,
    )
    assert response.json()["division_code"] == world.county.grid_a2.code

    history = client.get(f"/api/v1/people/{head.pk}/history").json()
    assert history["count"] == 1
    [revision] = history["results"]
    assert revision["verb"] == "update"
    assert revision["fields"] == ["division_code", "phone"]
    assert set(revision) == {"verb", "verb_label", "at", "fields", "merged_id"}
    assert "13912345678" not in json.dumps(history)

    event = AuditEvent.objects.get(verb="people.person.update")
    assert sorted(event.data["fields"]) == ["division", "phone"]


def test_patch_with_bad_values_names_them_and_changes_nothing(world, client_for):
    head = world.people.head
    response = _json(
        client_for("grid_worker"),
        "patch",
        f"/api/v1/people/{head.pk}",
        {"name": None, "phone": "110", "relation_to_head": "boss"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "phone", "relation_to_head"}
    head.refresh_from_db()
    assert (head.name, head.phone, head.relation_to_head) == ("张建国", "13912345678", "head")


def test_patch_cannot_move_a_person_out_of_scope(world, client_for):
    head = world.people.head
    response = _json(
        client_for("grid_worker"),
        "patch",
        f"/api/v1/people/{head.pk}",
        {"division_code": world.county.grid_b.code},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["division_code"]
    head.refresh_from_db()
    assert head.division_id == world.county.grid_a.code


def test_search_by_name_prefix_id_number_and_phone(world, client_for):
    client = client_for("commander")
    head = world.people.head

    def found(q):
        return [row["id"] for row in client.get("/api/v1/people", {"q": q}).json()["results"]]

    assert found("张建") == [head.pk]
    assert found(head.id_number) == [head.pk]
    assert found("+8613912345678") == [head.pk]
    assert found("孙") == []


def test_people_filter_by_division_and_household(world, client_for):
    client = client_for("commander")
    in_b = client.get("/api/v1/people", {"division": world.county.town_b.code}).json()
    assert [r["id"] for r in in_b["results"]] == [world.people.other.pk]
    members = client.get("/api/v1/people", {"household": world.people.household.pk}).json()
    assert {r["id"] for r in members["results"]} == {world.people.head.pk, world.people.spouse.pk}


def test_household_create_and_add_member(world, client_for):
    client = client_for("grid_worker")
    created = _json(
        client,
        "post",
        "/api/v1/households",
        {
            "address": "眉县齐镇齐镇村一组20号",
            "division_code": world.county.grid_a.code,
            "head_id": world.loner.pk,
        },
    )
    assert created.status_code == 201, created.content.decode()
    household = created.json()
    assert household["head_id"] == world.loner.pk
    assert household["head_name"] == "赵小军"

    spouse = world.people.spouse
    added = _json(
        client,
        "post",
        f"/api/v1/households/{household['id']}/members",
        {"person_id": spouse.pk, "relation": "spouse"},
    )
    assert added.status_code == 200, added.content.decode()
    members = {m["id"]: m["relation_to_head"] for m in added.json()["members"]}
    assert members == {world.loner.pk: "head", spouse.pk: "spouse"}
    spouse.refresh_from_db()
    assert spouse.household_id == household["id"]


def test_households_filter_by_address(world, client_for):
    client = client_for("commander")
    assert client.get("/api/v1/households", {"q": "一组12号"}).json()["count"] == 1
    assert client.get("/api/v1/households", {"q": "五组"}).json()["count"] == 0


def test_list_pages_have_one_shape(world, client_for):
    client = client_for("commander")
    first = client.get("/api/v1/people", {"page_size": 3}).json()
    assert set(first) == {"count", "page", "page_size", "pages", "results"}
    assert (first["count"], first["page"], first["page_size"], first["pages"]) == (4, 1, 3, 2)
    assert len(first["results"]) == 3
    second = client.get("/api/v1/people", {"page_size": 3, "page": 2}).json()
    assert len(second["results"]) == 1
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])
    beyond = client.get("/api/v1/people", {"page_size": 3, "page": 9}).json()
    assert (beyond["count"], beyond["results"]) == (4, [])


def test_page_size_is_capped_at_the_configured_maximum(world, client_for, settings):
    settings.FANGKONG = {**settings.FANGKONG, "MAX_PAGE_SIZE": 2}
    body = client_for("commander").get("/api/v1/divisions", {"page_size": 1000}).json()
    assert body["page_size"] == 2
    assert len(body["results"]) == 2
    assert body["pages"] == 4  # 8 divisions


def test_people_list_query_count_does_not_grow_with_the_page(world, client_for):
    client = client_for("commander")
    client.get("/api/v1/me")  # the token's last-used time is written once, not per request

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/people").status_code == 200
        return len(captured)

    few = queries()
    for n in range(10):
        Person.objects.create(
            name=f"测试{chr(0x4E00 + n)}",
            id_number=make_resident_id("610326", dt.date(1980, 1, 1), 100 + n),
            division=world.county.grid_a2,
        )
    assert queries() == few


def test_household_detail_query_count_does_not_grow_with_members(world, client_for):
    client = client_for("commander")
    path = f"/api/v1/households/{world.people.household.pk}"
    client.get(path)
    with CaptureQueriesContext(connection) as small:
        client.get(path)
    for n in range(5):
        Person.objects.create(
            name=f"成员{n}",
            id_number=make_resident_id("610326", dt.date(2015, 1, 1), 200 + n),
            division=world.county.grid_a,
            household=world.people.household,
            relation_to_head="child",
        )
    with CaptureQueriesContext(connection) as large:
        body = client.get(path).json()
    assert len(body["members"]) == 7
    assert len(large) == len(small)
