"""Vehicle plates (GA 36-2018), train and flight numbers: known cases, then the plate grammar
as hypothesis properties (every plate the grammar makes is accepted, however it is typed, and
every plate broken in one place is refused)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.validators import (
    PLATE_LETTERS,
    PLATE_PROVINCES,
    PLATE_SUFFIXES,
    FormatError,
    normalize_flight_no,
    normalize_plate,
    normalize_train_no,
)

DIGITS = "0123456789"

# --- known plates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "plate"),
    [
        ("陕C12345", "陕C12345"),
        ("浙G·12345", "浙G12345"),  # the Yiwu export's spelling
        ("陕c 1234挂", "陕C1234挂"),  # trailer, lower case and a space
        ("粤Z1234港", "粤Z1234港"),
        ("京A1234学", "京A1234学"),
        ("陕CD12345", "陕CD12345"),  # small new-energy, pure electric
        ("陕CFA2345", "陕CFA2345"),  # small new-energy, not pure electric
        ("陕C12345D", "陕C12345D"),  # large new-energy
        ("陕Ｃ１２３４５", "陕C12345"),  # full-width
    ],
)
def test_valid_plates_are_normalised(typed, plate):
    assert normalize_plate(typed) == plate


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "不能为空"),
        ("XC12345", "第一位"),
        ("陕112345", "第二位"),
        ("陕I12345", "第二位"),
        ("陕C1O345", "I 和 O"),
        ("陕C1234", "长度"),
        ("陕C1234567", "长度"),
        ("陕C123挂5", "普通号牌"),
        ("陕CA12345", "新能源"),  # 8 characters, but A is not D/F
        ("陕CD1234A", "新能源"),  # small NEV ends in 4 digits
        ("陕C1234AD", "新能源"),  # large NEV: 5 digits before D/F
    ],
)
def test_bad_plates_are_refused_with_a_reason(typed, says):
    with pytest.raises(FormatError) as exc:
        normalize_plate(typed)
    assert says in str(exc.value)


def test_the_new_energy_letter_set_can_be_widened():
    # The older any-rule pattern accepted A-K in the NEV letter position (domain-rules §2.4).
    with pytest.raises(FormatError):
        normalize_plate("陕CA12345")
    assert normalize_plate("陕CA12345", nev_letters="ABCDEFGHJK") == "陕CA12345"


# --- the grammar as properties -----------------------------------------------------------------

province = st.sampled_from(PLATE_PROVINCES)
office = st.sampled_from(PLATE_LETTERS)
serial_char = st.sampled_from(PLATE_LETTERS + DIGITS)
digit = st.sampled_from(DIGITS)
nev = st.sampled_from("DF")


def _join(parts):
    return "".join(parts)


ordinary = st.tuples(
    province,
    office,
    st.lists(serial_char, min_size=4, max_size=4).map(_join),
    st.sampled_from(PLATE_LETTERS + DIGITS + PLATE_SUFFIXES),
).map(_join)
nev_small = st.tuples(
    province, office, nev, serial_char, st.lists(digit, min_size=4, max_size=4).map(_join)
).map(_join)
nev_large = st.tuples(
    province, office, st.lists(digit, min_size=5, max_size=5).map(_join), nev
).map(_join)
plates = st.one_of(ordinary, nev_small, nev_large)


@given(plates)
def test_every_plate_of_the_grammar_is_accepted_unchanged(plate):
    assert normalize_plate(plate) == plate


@given(plates, st.sampled_from([" ", "·", "•", "-", "  "]), st.integers(min_value=1, max_value=6))
def test_how_a_plate_is_typed_does_not_matter(plate, separator, at):
    typed = (plate[:at] + separator + plate[at:]).lower()
    assert normalize_plate(typed) == plate


@given(plates, st.sampled_from("IO"), st.integers(min_value=1, max_value=7))
def test_a_plate_with_i_or_o_is_refused(plate, letter, at):
    at = min(at, len(plate) - 1)
    with pytest.raises(FormatError):
        normalize_plate(plate[:at] + letter + plate[at + 1 :])


@given(plates, st.sampled_from("ABCXYZ甲港"))
def test_a_plate_without_a_province_is_refused(plate, first):
    with pytest.raises(FormatError, match="第一位"):
        normalize_plate(first + plate[1:])


@given(plates)
def test_a_plate_too_short_or_too_long_is_refused(plate):
    # (An 8-character NEV plate less its last character can be a valid ordinary plate.)
    with pytest.raises(FormatError):
        normalize_plate(plate[:6])
    with pytest.raises(FormatError):
        normalize_plate(plate + "12")


@given(nev_small)
def test_a_small_new_energy_plate_without_d_or_f_is_refused(plate):
    with pytest.raises(FormatError, match="新能源"):
        normalize_plate(plate[:2] + "A" + plate[3:])


@given(nev_large)
def test_a_large_new_energy_plate_without_d_or_f_at_the_end_is_refused(plate):
    with pytest.raises(FormatError, match="新能源"):
        normalize_plate(plate[:-1] + "A")


# --- trains and flights ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [("G1002", "G1002"), ("g 1002", "G1002"), ("K1234次", "K1234"), ("6061", "6061")],
)
def test_train_numbers(typed, number):
    assert normalize_train_no(typed) == number


@pytest.mark.parametrize("typed", ["", "GG1002", "G12345", "X123", "高铁"])
def test_bad_train_numbers(typed):
    with pytest.raises(FormatError):
        normalize_train_no(typed)


@pytest.mark.parametrize(
    ("typed", "number"),
    [("MU5123", "MU5123"), ("mu 5123", "MU5123"), ("3U8888", "3U8888"), ("CA1234A", "CA1234A")],
)
def test_flight_numbers(typed, number):
    assert normalize_flight_no(typed) == number


@pytest.mark.parametrize("typed", ["", "MUU5123", "MU51234", "MU", "东航5123"])
def test_bad_flight_numbers(typed):
    with pytest.raises(FormatError):
        normalize_flight_no(typed)
