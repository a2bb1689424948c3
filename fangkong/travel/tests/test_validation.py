"""clean_arrival: every bad input of issue 4's list gets a message naming the field and the
reason, all at once; good input comes back normalised."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.travel.validation import clean_arrival, transport_value

from .factories import CHAOYANG, GRID_A, NEW_ID, TODAY, arrival_data

pytestmark = pytest.mark.django_db


def clean(**overrides):
    return clean_arrival(arrival_data(**overrides), today=TODAY)


def test_a_good_arrival_is_normalised(county):
    data, errors = clean(
        id_number=NEW_ID.lower(),
        phone="+86 135 1234 5678",
        vehicle_no="g 1002",
        origin_code="110105",
    )
    assert errors == {}
    assert data["id_number"] == NEW_ID
    assert data["phone"] == "13512345678"
    assert data["vehicle_no"] == "G1002"
    assert data["origin_code"] == CHAOYANG
    assert data["origin_name"] == "北京市朝阳区"
    assert data["left_on"] == TODAY - dt.timedelta(days=3)
    assert data["destination_code"] == GRID_A
    assert data["sex"] == "M"
    assert data["birth_date"] == dt.date(1991, 5, 6)


def test_arrival_before_departure(county):
    _data, errors = clean(left_on="2022-08-03", arrived_on="2022-08-01")
    assert errors == {"arrived_on": ["抵达日期不能早于离开日期"]}


def test_departure_in_the_future(county):
    _data, errors = clean(left_on="2022-08-06", arrived_on="2022-08-05")
    assert errors == {"left_on": ["离开日期不能晚于今天"]}


def test_arrival_today_is_fine_but_tomorrow_is_not(county):
    assert clean(arrived_on=TODAY.isoformat())[1] == {}
    _data, errors = clean(arrived_on=(TODAY + dt.timedelta(days=1)).isoformat())
    assert errors == {"arrived_on": ["抵达日期不能晚于今天"]}


def test_unreadable_and_missing_dates(county):
    _data, errors = clean(left_on="8月1日", arrived_on="")
    assert errors["left_on"] == ["离开日期：日期格式应为 YYYY-MM-DD"]
    assert errors["arrived_on"] == ["抵达日期不能为空"]


def test_unknown_region_code(county):
    _data, errors = clean(origin_code="999999")
    assert list(errors) == ["origin_code"]
    assert "出发地区划代码" in errors["origin_code"][0]
    assert "999999" in errors["origin_code"][0]


def test_missing_origin(county):
    _data, errors = clean(origin_code="")
    assert errors["origin_code"] == ["出发地不能为空：请选择省、市、县（区），或填写出发地区划代码"]


def test_id_number_with_a_bad_check_digit(county):
    bad = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    _data, errors = clean(id_number=bad)
    assert errors == {"id_number": ["身份证号校验码错误"]}


def test_bad_phone(county):
    _data, errors = clean(phone="1234567")
    assert errors == {"phone": ["手机号应为11位大陆手机号（1开头，第二位为3-9）"]}


def test_phone_is_required_on_a_form_but_not_on_a_list(county):
    assert clean(phone="")[1] == {"phone": ["手机号不能为空"]}
    _data, errors = clean_arrival(arrival_data(phone=""), today=TODAY, from_list=True)
    assert errors == {}


@pytest.mark.parametrize(
    ("plate", "says"),
    [
        ("陕C1234", "车牌号长度不对"),  # ordinary, one short
        ("陕CI2345", "I 和 O"),
        ("京A12345678", "车牌号长度不对"),
        ("陕CA12345", "新能源号牌"),  # NEV: the serial must start with D or F
        ("陕C1234AD", "新能源号牌"),  # NEV large: five digits then D/F
        ("AB12345", "第一位"),
    ],
)
def test_a_plate_that_is_not_a_plate(county, plate, says):
    _data, errors = clean(transport="car", vehicle_no=plate)
    assert list(errors) == ["vehicle_no"]
    assert says in errors["vehicle_no"][0]


def test_good_plates_ordinary_and_new_energy(county):
    for typed, plate in [
        ("陕C·12345", "陕C12345"),
        ("陕cd12345", "陕CD12345"),
        ("陕C12345F", "陕C12345F"),
    ]:
        data, errors = clean(transport="car", vehicle_no=typed)
        assert errors == {}
        assert data["vehicle_no"] == plate


def test_vehicle_number_by_transport(county):
    assert clean(transport="flight", vehicle_no="mu5123")[0]["vehicle_no"] == "MU5123"
    assert "航班号" in clean(transport="flight", vehicle_no="东航")[1]["vehicle_no"][0]
    assert "车次" in clean(transport="train", vehicle_no="高铁")[1]["vehicle_no"][0]
    assert clean(transport="bus", vehicle_no="西安-眉县班车")[1] == {}
    assert clean(transport="car", vehicle_no="")[1] == {"vehicle_no": ["自驾须填写车牌号"]}


def test_transport_words(county):
    assert transport_value("自驾") == "car"
    assert transport_value("高铁") == "train"
    assert transport_value("飞机") == "flight"
    assert transport_value("客车") == "bus"
    assert transport_value("骑马") is None
    assert clean(transport="骑马")[1]["transport"] == [
        "交通方式无效：应为自驾、火车、飞机、客车或其他"
    ]


def test_destination_must_be_a_small_grid(county):
    _data, errors = clean(destination_code="610326107201")  # a village, not a grid
    assert errors == {"destination_code": ["目的网格不存在：须为本县的小网格"]}
    assert clean(destination_code="")[1] == {"destination_code": ["请选择目的地所在网格"]}


def test_outside_county_needs_a_known_region(county):
    data, errors = clean(destination_code="", outside_county=True, outside_code="420111")
    assert errors == {}
    assert data["outside_code"] == "420111"
    assert data["outside_county"]
    _data, errors = clean(destination_code="", outside_county="on", outside_code="")
    assert errors == {"outside_code": ["目的地在县外时须填写目的地区划代码"]}


def test_from_abroad_needs_the_country(county):
    data, errors = clean(origin_code="", from_abroad=True, origin_country="韩国")
    assert errors == {}
    assert data["origin_name"] == "韩国"
    assert clean(origin_code="", from_abroad=True)[1] == {
        "origin_country": ["境外来返须填写出发国家（地区）"]
    }


def test_an_arrival_needs_a_document(county):
    _data, errors = clean(id_type="none", id_number="")
    assert list(errors) == ["id_type"]


def test_every_bad_field_is_reported_at_once(county):
    _data, errors = clean(
        name="",
        id_number="123",
        phone="abc",
        origin_code="999999",
        left_on="2022-08-04",
        arrived_on="2022-08-01",
        transport="car",
        vehicle_no="陕Z",
        destination_code="1",
        destination_address="",
    )
    assert set(errors) == {
        "name",
        "id_number",
        "phone",
        "origin_code",
        "arrived_on",
        "vehicle_no",
        "destination_code",
        "destination_address",
    }
