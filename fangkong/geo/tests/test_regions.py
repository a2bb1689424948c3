"""The GB/T 2260 table: the migration's data, code lookups, name resolution, the cascader tree."""

from __future__ import annotations

import csv

import pytest

from fangkong.core.validators import FormatError
from fangkong.geo.models import Region
from fangkong.geo.regions import (
    DATA_FILE,
    region_children,
    region_find_by_name,
    region_get,
    region_lookup,
    region_match_name,
    regions_tree_json,
)


def test_the_migration_loads_the_whole_file(db):
    with DATA_FILE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert Region.objects.count() == len(rows) > 3000
    assert Region.objects.filter(level=1).count() == 34  # 31 mainland + Taiwan, HK, Macau
    assert set(Region.objects.filter(level=1).values_list("code", flat=True)) >= {
        "710000",
        "810000",
        "820000",
    }


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("110105", "北京市朝阳区"),  # not 北京市市辖区朝阳区
        ("120101", "天津市和平区"),
        ("310106", "上海市静安区"),
        ("500229", "重庆市城口县"),  # Chongqing's "县" placeholder city left out too
        ("419001", "河南省济源市"),  # province-administered county-level city
        ("620201", "甘肃省嘉峪关市"),  # a county named like its city is not repeated
        ("610326", "陕西省宝鸡市眉县"),
        ("152502", "内蒙古自治区锡林郭勒盟锡林浩特市"),
    ],
)
def test_full_names(db, code, full_name):
    assert region_get(code).full_name == full_name


def test_a_city_without_counties_is_one_row(db):
    dongguan = region_get("441900")
    assert (dongguan.level, dongguan.full_name, dongguan.prefix) == (2, "广东省东莞市", "4419")
    assert region_children("4419") == []


def test_region_get_takes_any_form(db):
    assert region_get("11").code == "110000"
    assert region_get("1101").code == "110100"
    assert region_get("110105").prefix == "110105"
    assert region_get("110105001") is None
    assert region_get("abc") is None
    assert region_get("999999") is None


# --- lookups -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("11", ("11", "北京市")),
        ("110000", ("11", "北京市")),
        ("３３０１００", ("3301", "浙江省杭州市")),  # full-width digits
        (" 3301 ", ("3301", "浙江省杭州市")),
        ("330106", ("330106", "浙江省杭州市西湖区")),
        ("110105001", ("110105001", "北京市朝阳区")),
        ("110105001002", ("110105001002", "北京市朝阳区")),
        ("110105001002003", ("110105001002003", "北京市朝阳区")),
        ("441900003", ("441900003", "广东省东莞市")),
        ("810000", ("81", "香港特别行政区")),
    ],
)
def test_region_lookup(db, code, expected):
    assert region_lookup(code) == expected


def test_a_long_code_takes_the_callers_name(db):
    assert region_lookup("110105001", name="东华门街道") == ("110105001", "北京市朝阳区东华门街道")
    assert region_lookup("110105001", name="北京市朝阳区东华门街道")[1] == "北京市朝阳区东华门街道"


def test_a_long_code_of_the_county_reads_its_divisions(county):
    assert region_lookup("610326107201") == ("610326107201", "陕西省宝鸡市眉县齐镇齐镇村")
    assert region_lookup("610326107201001")[1] == "陕西省宝鸡市眉县齐镇齐镇村一组"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("999999", "未知的区划代码 999999（不在 GB/T 2260 区划代码表中）"),
        ("110001", "未知的区划代码 110001（不在 GB/T 2260 区划代码表中）"),
        ("1105", "未知的区划代码 1105（不在 GB/T 2260 区划代码表中）"),
        ("10", "未知的区划代码 10（不在 GB/T 2260 区划代码表中）"),
        ("110100", None),  # a city code written with six digits is fine
        ("999999001", "区划代码 999999001 的前 6 位 999999 不是已知的县级区划"),
        ("110000001", "区划代码 110000001 的前 6 位 110000 不是已知的县级区划"),
        ("110100001", "区划代码 110100001 的前 6 位 110100 不是已知的县级区划"),
        (
            "11010",
            "区划代码应为 6 位数字（省、市也可写作 2 位、4 位），或 9、12、15 位的乡镇、村级代码",
        ),
        ("", "区划代码应为 6 位数字（省、市也可写作 2 位、4 位），或 9、12、15 位的乡镇、村级代码"),
        (
            "1101AB",
            "区划代码应为 6 位数字（省、市也可写作 2 位、4 位），或 9、12、15 位的乡镇、村级代码",
        ),
    ],
)
def test_region_lookup_refuses_unknown_codes_in_chinese(db, code, message):
    if message is None:
        assert region_lookup(code)[0] == "1101"
        return
    with pytest.raises(FormatError) as caught:
        region_lookup(code)
    assert str(caught.value.message) == message


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("北京市朝阳区", "110105"),
        ("北京 朝阳区", "110105"),
        ("北京市 朝阳", "110105"),
        ("上海市 上海市 静安区", "310106"),
        ("上海市市辖区静安区", "310106"),
        ("内蒙古", "15"),
        ("内蒙古自治区", "15"),
        ("广西壮族自治区南宁市", "4501"),
        ("浙江省杭州市西湖区", "330106"),
        ("浙江杭州西湖区", "330106"),
        ("杭州市西湖区", "330106"),  # without the province
        ("吉林市", "2202"),  # the city, not 吉林省 + "市"
        ("吉林省", "22"),
        ("延边朝鲜族自治州", "2224"),
        ("新疆伊犁哈萨克自治州", "6540"),
        ("重庆市城口县", "500229"),
        ("湖北省神农架林区", "429021"),
        ("广东省东莞市", "4419"),
        ("  陕西省宝鸡市眉县  ", "610326"),
    ],
)
def test_region_find_by_name(db, text, code):
    assert region_find_by_name(text) == code


def test_the_rest_of_the_text_is_the_detail(db):
    match = region_match_name("北京市朝阳区松榆里社区5号楼")
    assert (match.code, match.full_name, match.rest) == (
        "110105",
        "北京市朝阳区",
        "松榆里社区5号楼",
    )
    match = region_match_name("广东省东莞市东城街道")
    assert (match.code, match.rest) == ("4419", "东城街道")


def test_a_short_county_name_needs_a_separator(db):
    # "朝阳门街道" is in Dongcheng: "朝阳" here is not 朝阳区.
    match = region_match_name("北京市朝阳门街道")
    assert (match.code, match.rest) == ("11", "朝阳门街道")


@pytest.mark.parametrize("text", ["朝阳区", "", "   ", "火星基地", "市辖区"])
def test_ambiguous_or_unknown_names(db, text):
    assert region_find_by_name(text) is None


# --- the cascader -------------------------------------------------------------------------------


def test_regions_tree_json(db):
    tree = regions_tree_json()
    assert len(tree["provinces"]) == 34
    assert tree["provinces"][0] == {"code": "11", "name": "北京市"}
    assert {"code": "6103", "name": "宝鸡市"} in tree["cities"]["61"]
    assert {"code": "610326", "name": "眉县"} in tree["counties"]["6103"]
    assert "4419" not in tree["counties"]  # Dongguan has no counties
    assert regions_tree_json() is tree  # built once per process


def test_lookups_work_from_the_file_when_the_table_was_flushed(transactional_db):
    from fangkong.geo import regions

    Region.objects.all().delete()
    regions._index.cache_clear()
    try:
        assert region_lookup("110105") == ("110105", "北京市朝阳区")
    finally:
        regions._index.cache_clear()
