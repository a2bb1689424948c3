"""One error format: 400 names every bad field in Chinese, 401/403/404/405/409 look alike."""

from __future__ import annotations

import json
import re

import pytest

from fangkong.core.models import AuditEvent
from fangkong.people.models import Household, Person

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _assert_error(response, status, code=None):
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert CHINESE.search(body["message"]), body
    if code is not None:
        assert body["code"] == code
    for messages in body["errors"].values():
        assert messages
        assert all(CHINESE.search(m) for m in messages), body
    return body


def test_create_person_names_every_bad_field_and_writes_nothing(world, client_for):
    client = client_for("commander")
    before = Person.objects.count(), AuditEvent.objects.count()
    response = _post(
        client,
        "/api/v1/people",
        {
            "name": "",
            "id_number": "360426199101010072",  # the check character should be 1
            "phone": "12345",
            "division_code": "610326999999001",
        },
    )
    body = _assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"name", "id_number", "phone", "division_code"}
    assert "校验" in " ".join(body["errors"]["id_number"])
    assert (Person.objects.count(), AuditEvent.objects.count()) == before


def test_missing_name_is_named_even_when_the_key_is_absent(world, client_for):
    response = _post(
        client_for("grid_worker"),
        "/api/v1/people",
        {"id_type": "none", "division_code": world.county.grid_a.code},
    )
    body = _assert_error(response, 400)
    assert list(body["errors"]) == ["name"]


def test_wrong_json_types_name_each_field(world, client_for):
    response = _post(
        client_for("grid_worker"),
        "/api/v1/people",
        {"name": 12, "household_id": "abc", "id_type": "identity_card", "nickname": "x"},
    )
    body = _assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"name", "household_id", "id_type", "nickname"}
    assert body["errors"]["household_id"] == ["应为整数"]
    assert body["errors"]["nickname"] == ["不支持此字段"]
    assert body["errors"]["id_type"] == [
        "取值无效，可选：'resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit', "
        "'foreign_permanent_id', 'none'"
    ]


def test_missing_required_body_fields_are_named(world, client_for):
    path = f"/api/v1/households/{world.people.household.pk}/members"
    body = _assert_error(_post(client_for("grid_worker"), path, {}), 400)
    assert body["errors"] == {"person_id": ["此项为必填项"], "relation": ["此项为必填项"]}


def test_body_that_is_not_json_is_400(world, client_for):
    response = client_for("grid_worker").post(
        "/api/v1/people", data="{name: 张三", content_type="application/json"
    )
    _assert_error(response, 400, "invalid_json")


def test_body_that_is_not_an_object_is_400(world, client_for):
    body = _assert_error(_post(client_for("grid_worker"), "/api/v1/people", ["张三"]), 400)
    assert body["errors"] == {"__all__": ["应为 JSON 对象"]}


def test_empty_body_is_400_naming_what_is_required(world, client_for):
    client = client_for("grid_worker")
    body = _assert_error(client.post("/api/v1/people", content_type="application/json"), 400)
    assert set(body["errors"]) == {"name", "id_number", "division_code"}
    path = f"/api/v1/households/{world.people.household.pk}/members"
    body = _assert_error(client.post(path, content_type="application/json"), 400)
    assert body["errors"] == {"person_id": ["此项为必填项"], "relation": ["此项为必填项"]}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("/api/v1/divisions?level=9", "level"),
        ("/api/v1/divisions?level=-1", "level"),
        ("/api/v1/divisions?level=town", "level"),
        ("/api/v1/divisions?parent=abc", "parent"),
        ("/api/v1/people?division=61x", "division"),
        ("/api/v1/people?household=0", "household"),
        ("/api/v1/households?page=0", "page"),
        ("/api/v1/people?page_size=many", "page_size"),
    ],
)
def test_bad_query_values_are_400_naming_the_parameter(world, client_for, query, param):
    body = _assert_error(client_for("commander").get(query), 400, "invalid")
    assert list(body["errors"]) == [param]


def test_bad_path_id_is_400_naming_it(world, client_for):
    body = _assert_error(client_for("commander").get("/api/v1/people/abc"), 400)
    assert list(body["errors"]) == ["person_id"]


def test_bad_query_and_bad_body_are_reported_together(world, client_for):
    path = f"/api/v1/households/{world.people.household.pk}/members"
    body = _assert_error(
        _post(client_for("grid_worker"), path, {"person_id": "x", "relation": "cousin"}), 400
    )
    assert set(body["errors"]) == {"person_id", "relation"}


def test_duplicate_document_number_is_409(world, client_for):
    before = Person.objects.count()
    response = _post(
        client_for("town_officer"),
        "/api/v1/people",
        {
            "name": "张建国",
            "id_number": world.people.head.id_number.lower(),
            "division_code": world.county.grid_a2.code,
        },
    )
    body = _assert_error(response, 409, "people.duplicate")
    assert "id_number" in body["errors"]
    assert Person.objects.count() == before


def test_patch_to_a_taken_document_number_is_409(world, client_for):
    response = client_for("commander").patch(
        f"/api/v1/people/{world.people.spouse.pk}",
        data=json.dumps({"id_number": world.people.head.id_number}),
        content_type="application/json",
    )
    _assert_error(response, 409, "people.duplicate")
    world.people.spouse.refresh_from_db()
    assert world.people.spouse.id_number != world.people.head.id_number


def test_unknown_household_member_is_400_naming_person_id(world, client_for):
    path = f"/api/v1/households/{world.people.household.pk}/members"
    body = _assert_error(
        _post(
            client_for("grid_worker"),
            path,
            {"person_id": world.people.other.pk, "relation": "child"},
        ),
        400,
    )
    assert list(body["errors"]) == ["person_id"]
    world.people.other.refresh_from_db()
    assert world.people.other.household_id is None


def test_household_without_address_names_the_fields(world, client_for):
    before = Household.objects.count()
    body = _assert_error(
        _post(client_for("commander"), "/api/v1/households", {"division_code": "1"}), 400
    )
    assert set(body["errors"]) == {"address", "division_code"}
    assert Household.objects.count() == before


def test_missing_object_and_object_outside_scope_answer_the_same(world, client_for):
    client = client_for("other_grid_worker")
    outside = client.get(f"/api/v1/people/{world.people.head.pk}")
    missing = client.get("/api/v1/people/999999")
    _assert_error(outside, 404, "not_found")
    assert outside.json() == missing.json()


def test_no_credentials_is_401_json_with_a_bearer_challenge(world, client_for):
    response = client_for("anonymous").get("/api/v1/people")
    body = _assert_error(response, 401, "unauthorized")
    assert body["errors"] == {}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_method_is_405_in_the_same_format(world, client_for):
    response = client_for("commander").delete(f"/api/v1/people/{world.people.head.pk}")
    _assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]
    assert Person.objects.filter(pk=world.people.head.pk).exists()


@pytest.mark.parametrize("path", ["/api/v1/persons", "/api/v1/", "/api/v1/people/1/x"])
def test_unknown_api_path_is_404_json(world, client_for, path):
    _assert_error(client_for("commander").get(path), 404, "not_found")


def test_api_answers_are_not_cached(world, client_for):
    response = client_for("commander").get(f"/api/v1/people/{world.people.head.pk}")
    assert response["Cache-Control"] == "no-store"
