"""Display masking (GB/T 35273-2020 §7.2): the shapes users see on screens and in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from fangkong.core.tests.idgen import make_resident_id


def test_resident_id_keeps_address_code_and_last_two_characters():
    assert mask_id_number("34012219800101101X") == "340122**********1X"


def test_masked_id_number_hides_birth_date_and_sequence():
    number = make_resident_id("610326", dt.date(1970, 3, 15), 11)
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert "19700315" not in masked
    assert masked[6:16] == "*" * 10


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 1, 1)),
    sequence=st.integers(0, 999),
)
def test_no_masked_id_number_shows_its_birth_date(birth, sequence):
    number = make_resident_id("610326", birth, sequence)
    masked = mask_id_number(number)
    assert masked.startswith("610326")
    assert masked.endswith(number[-2:])
    assert f"{birth:%Y%m%d}" not in masked


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("E12345678", "E******78"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_other_document_numbers_keep_first_and_last_two(value, expected):
    assert mask_id_number(value) == expected


def test_phone_shows_three_and_four():
    assert mask_phone("13812341234") == "138****1234"


@pytest.mark.parametrize(("value", "expected"), [("", ""), (None, ""), ("12345", "*****")])
def test_short_or_empty_phone_is_fully_hidden(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("张建国", "张**"),
        ("欧阳娜娜", "欧***"),
        ("John Smith", "J***"),
        ("", ""),
        (None, ""),
    ],
)
def test_name_shows_the_surname_only(value, expected):
    assert mask_name(value) == expected


def test_address_keeps_the_village_level_and_hides_the_house():
    assert mask_address("眉县齐镇齐镇村一组12号") == "眉县齐镇齐镇***"
    assert mask_address("齐镇") == "齐镇***"
    assert mask_address("") == ""
