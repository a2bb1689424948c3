"""clean_person_fields: every bad field named at once; numbers normalised; derived values win."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.tests.idgen import make_resident_id
from fangkong.people.validation import clean_person_fields

NUMBER = make_resident_id("610326", dt.date(1985, 4, 12), 37)  # male


def test_a_full_record_is_cleaned():
    out, errors = clean_person_fields(
        {
            "name": "  赵志刚 ",
            "id_number": NUMBER.lower(),
            "phone": "+86 136 1234 0000",
            "address": " 一组8号 ",
            "notes": " 返乡 ",
            "relation_to_head": "child",
        }
    )
    assert errors == {}
    assert out == {
        "name": "赵志刚",
        "id_type": "resident_id",
        "id_number": NUMBER,
        "birth_date": dt.date(1985, 4, 12),
        "sex": "M",
        "phone": "13612340000",
        "address": "一组8号",
        "notes": "返乡",
        "relation_to_head": "child",
    }


def test_without_a_number_the_type_is_none():
    out, errors = clean_person_fields({"name": "赵小宝"})
    assert errors == {}
    assert (out["id_type"], out["id_number"]) == ("none", None)


def test_every_bad_field_is_named_at_once():
    _, errors = clean_person_fields(
        {
            "name": "赵2",
            "id_type": "library_card",
            "birth_date": "yesterday",
            "sex": "?",
            "phone": "12",
            "address": "长" * 201,
            "relation_to_head": "boss",
        }
    )
    assert set(errors) == {
        "name",
        "id_type",
        "birth_date",
        "sex",
        "phone",
        "address",
        "relation_to_head",
    }


@pytest.mark.parametrize(
    ("name", "ok"),
    [("张三", True), ("", False), ("   ", False), ("张" * 51, False), ("张3", False)],
)
def test_name_rules(name, ok):
    _, errors = clean_person_fields({"name": name})
    assert ("name" not in errors) is ok


def test_the_number_is_required_unless_the_type_is_none():
    _, errors = clean_person_fields({"name": "甲", "id_type": "passport"})
    assert "id_number" in errors
    _, errors = clean_person_fields({"name": "甲", "id_type": "none", "id_number": "E12345678"})
    assert "id_number" in errors


@pytest.mark.parametrize(
    ("birth", "sex", "bad"),
    [
        ("1985-04-12", "M", set()),
        ("1985/04/12", "男", set()),
        ("19850412", "U", set()),  # "unknown" never contradicts the number
        ("1985-04-13", "M", {"birth_date"}),
        ("1985-04-12", "F", {"sex"}),
        ("1985-04-12", "女", {"sex"}),
    ],
)
def test_birth_date_and_sex_must_agree_with_the_resident_id(birth, sex, bad):
    out, errors = clean_person_fields(
        {"name": "甲", "id_number": NUMBER, "birth_date": birth, "sex": sex}
    )
    assert set(errors) == bad
    if not bad:
        assert (out["birth_date"], out["sex"]) == (dt.date(1985, 4, 12), "M")


def test_without_a_resident_id_birth_date_and_sex_are_taken_as_given():
    out, errors = clean_person_fields(
        {
            "name": "Smith",
            "id_type": "passport",
            "id_number": "E12345678",
            "birth_date": "1990-02-03",
            "sex": "f",
        }
    )
    assert errors == {}
    assert (out["birth_date"], out["sex"]) == (dt.date(1990, 2, 3), "F")


def test_a_future_birth_date_is_refused():
    _, errors = clean_person_fields({"name": "甲", "birth_date": "2999-01-01"})
    assert "birth_date" in errors


def test_partial_cleaning_only_touches_the_given_fields():
    out, errors = clean_person_fields({"phone": ""}, partial=True)
    assert errors == {}
    assert out == {"phone": ""}
