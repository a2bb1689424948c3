"""The format validators of domain-rules.md §2: known vectors, then properties (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.validators import (
    PROVINCE_PREFIXES,
    FormatError,
    clean_text,
    id_check_char,
    normalize_document,
    normalize_mobile,
    normalize_resident_id,
    parse_resident_id,
    upgrade_legacy_id,
)

TODAY = dt.date(2020, 11, 17)

# --- resident ID numbers: the verified vectors of domain-rules §2.1 ---------------------------


def test_female_vector_derives_birth_date_and_sex():
    # given the GB 11643 example number with an X check character
    # when
    parsed = parse_resident_id("11010519491231002X", today=TODAY)
    # then
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.address_code == "110105"


def test_male_vector_from_1880_is_accepted():
    parsed = parse_resident_id("440524188001010014", today=TODAY)
    assert parsed.birth_date == dt.date(1880, 1, 1)
    assert parsed.sex == "M"


def test_valid_vector_is_accepted_and_the_next_check_digit_is_not():
    assert parse_resident_id("360426199101010071", today=TODAY).number == "360426199101010071"
    with pytest.raises(FormatError, match="校验码"):
        parse_resident_id("360426199101010072", today=TODAY)


def test_legacy_15_digit_number_is_upgraded_to_18_digits():
    # given a GB 11643-1989 number (no century, no check character)
    # when
    parsed = parse_resident_id("110223790813697", today=TODAY)
    # then "19" is inserted before the year and the MOD 11-2 check is appended
    assert parsed.number == "110223197908136972"
    assert parsed.birth_date == dt.date(1979, 8, 13)
    assert parsed.sex == "M"
    assert upgrade_legacy_id("110223790813697") == "110223197908136972"


def test_lower_case_x_is_normalised_to_upper_case():
    assert normalize_resident_id("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_spaces_and_excel_apostrophe_are_tolerated():
    typed = "'１１０１０５ １９４９１２３１ ００２ｘ"
    assert parse_resident_id(typed, today=TODAY).number == "11010519491231002X"


def test_future_birth_date_is_rejected():
    number = make_resident_id("610326", dt.date(2021, 1, 1), 11)
    with pytest.raises(FormatError, match="晚于今天"):
        parse_resident_id(number, today=TODAY)


def test_birth_date_today_is_accepted():
    number = make_resident_id("610326", TODAY, 12)
    assert parse_resident_id(number, today=TODAY).birth_date == TODAY


def test_february_30_is_rejected_even_with_a_correct_check_character():
    first17 = "61032619900230011"
    number = first17 + id_check_char(first17)
    with pytest.raises(FormatError, match="不是有效日期"):
        parse_resident_id(number, today=TODAY)


def test_february_29_in_a_leap_year_is_accepted():
    number = make_resident_id("610326", dt.date(2000, 2, 29), 21)
    assert parse_resident_id(number, today=TODAY).birth_date == dt.date(2000, 2, 29)


def test_birth_before_1880_is_rejected_as_too_old():
    number = make_resident_id("610326", dt.date(1879, 12, 31), 11)
    with pytest.raises(FormatError, match="过早"):
        parse_resident_id(number, today=TODAY)


def test_bad_province_prefix_is_rejected():
    number = make_resident_id("000000", dt.date(1990, 1, 1), 11)
    with pytest.raises(FormatError, match="省级代码"):
        parse_resident_id(number, today=TODAY)


def test_address_code_that_no_longer_exists_is_accepted():
    # 110103 was Beijing's Chongwen district, merged into Dongcheng in 2010: people keep it.
    number = make_resident_id("110103", dt.date(1960, 5, 4), 33)
    assert parse_resident_id(number, today=TODAY).address_code == "110103"


def test_residence_permit_and_foreign_permanent_id_prefixes_are_accepted():
    for address in ("810000", "820000", "830000", "911234"):
        number = make_resident_id(address, dt.date(1985, 6, 1), 41)
        assert parse_resident_id(number, today=TODAY).number == number


@pytest.mark.parametrize(
    "value",
    ["", None, "   ", "1101051949123100", "1101051949123100XX", "11010519491231002Y", "abc"],
)
def test_malformed_numbers_are_rejected_with_a_message(value):
    with pytest.raises(FormatError) as excinfo:
        parse_resident_id(value, today=TODAY)
    assert str(excinfo.value.message)


def test_check_character_table_follows_mod_11_2():
    # S = sum(a_i * W_i); Y = S mod 11 maps 0..10 to 1 0 X 9 8 7 6 5 4 3 2
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"
    assert id_check_char("00000000000000000") == "1"


# --- properties ---------------------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCE_PREFIXES))
address_codes = st.builds(
    lambda p, rest: p + f"{rest:04d}", provinces, st.integers(min_value=0, max_value=9999)
)
birth_dates = st.dates(min_value=dt.date(1880, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@given(address=address_codes, birth=birth_dates, sequence=sequences)
def test_any_generated_valid_number_round_trips_and_derives_sex_and_birth(address, birth, sequence):
    number = make_resident_id(address, birth, sequence)
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.sex == ("M" if sequence % 2 == 1 else "F")
    assert parse_resident_id(number.lower(), today=TODAY).number == number


@given(
    address=address_codes,
    birth=birth_dates,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from("0123456789X"),
)
def test_any_single_character_change_of_a_valid_number_is_rejected(
    address, birth, sequence, position, replacement
):
    # MOD 11-2 detects every single substitution, so whatever else the change does to the
    # date or the prefix, the changed number never passes.
    number = make_resident_id(address, birth, sequence)
    assume(number[position] != replacement)
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(FormatError):
        parse_resident_id(changed, today=TODAY)


@given(
    address=address_codes,
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)),
    sequence=sequences,
)
def test_legacy_upgrade_always_yields_a_valid_18_digit_number(address, birth, sequence):
    legacy = f"{address}{birth:%y%m%d}{sequence:03d}"
    parsed = parse_resident_id(legacy, today=TODAY)
    assert len(parsed.number) == 18
    assert parsed.number == make_resident_id(address, birth, sequence)
    assert parsed.birth_date == birth
    assert parse_resident_id(parsed.number, today=TODAY).number == parsed.number


# --- mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("13812345678.0", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("(+86) 19912345678", "19912345678"),
    ],
)
def test_mobile_numbers_are_normalised_to_11_digits(typed, expected):
    assert normalize_mobile(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "029-88888888", "abc"],
)
def test_bad_mobile_numbers_are_rejected_with_a_message(typed):
    with pytest.raises(FormatError, match="手机号"):
        normalize_mobile(typed)


@given(second=st.integers(3, 9), rest=st.integers(0, 10**9 - 1))
def test_any_mainland_mobile_survives_every_prefix_style(second, rest):
    number = f"1{second}{rest:09d}"
    for typed in (number, "+86" + number, "0086" + number, f"{number[:3]} {number[3:]}"):
        assert normalize_mobile(typed) == number


# --- other documents (domain-rules §2.5) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "typed", "expected"),
    [
        ("passport", "E12345678", "E12345678"),
        ("passport", "e12345678", "E12345678"),
        ("passport", "G12345678", "G12345678"),
        ("passport", "EA1234567", "EA1234567"),
        ("hk_macau_permit", "C12345678", "C12345678"),
        ("hk_macau_permit", "CA0000001", "CA0000001"),
        ("hk_macau_permit", "H1234567800", "H1234567800"),
        ("hk_macau_permit", "H12345678(00)", "H1234567800"),
        ("hk_macau_permit", "M12345678", "M12345678"),
        ("taiwan_permit", "12345678", "12345678"),
        ("taiwan_permit", "1234567801", "1234567801"),
        ("resident_id", "11010519491231002x", "11010519491231002X"),
        ("resident_id", "110223790813697", "110223197908136972"),
    ],
)
def test_other_documents_are_normalised(id_type, typed, expected):
    assert normalize_document(id_type, typed) == expected


@pytest.mark.parametrize(
    ("id_type", "typed"),
    [
        ("passport", "E12"),
        ("passport", "护照E1234567"),
        ("passport", "E12345678!"),
        ("hk_macau_permit", "C1234567"),
        ("hk_macau_permit", "CI1234567"),
        ("hk_macau_permit", "X12345678"),
        ("taiwan_permit", "1234567"),
        ("taiwan_permit", "A1234567"),
        ("resident_id", "360426199101010072"),
    ],
)
def test_bad_documents_are_rejected_with_a_message(id_type, typed):
    with pytest.raises(FormatError) as excinfo:
        normalize_document(id_type, typed)
    assert str(excinfo.value.message)


def test_foreign_permanent_id_must_start_with_9_and_a_resident_id_must_not():
    foreign = make_resident_id("911234", dt.date(1985, 6, 1), 41)
    assert normalize_document("foreign_permanent_id", foreign) == foreign
    with pytest.raises(FormatError, match="外国人永久居留"):
        normalize_document("resident_id", foreign)
    with pytest.raises(FormatError, match="应以9开头"):
        normalize_document("foreign_permanent_id", "11010519491231002X")


def test_unknown_document_type_is_a_format_error_not_a_crash():
    with pytest.raises(FormatError):
        normalize_document("library_card", "12345678")


def test_clean_text_removes_invisible_characters_and_full_width_forms():
    assert clean_text("\ufeff１３８\u200b 1234 5678\n") == "13812345678"
    assert clean_text(None) == ""
