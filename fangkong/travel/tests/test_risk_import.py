"""Risk-area lists: the State Council JSON, a province's text bulletin, spreadsheets through
the import engine, and the command line. Files are written here with the quirks of
real-formats.md §6."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from fangkong.control.models import ControlOrder
from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.imports.services import import_job_rollback, import_job_start
from fangkong.policy.models import RiskArea
from fangkong.travel.importers_risk import (
    parse_bulletin_text,
    parse_risk_list,
    parse_state_council_json,
    risk_level_value,
    risk_list_import,
)
from fangkong.travel.models import SweepRun

from .test_sweep_support import TODAY, activate_edition, days, make_arrival


@pytest.fixture
def edition(county):
    """A known edition in force for the county (see test_sweep_support)."""
    return activate_edition(county)


STATE_COUNCIL = {
    "data": {
        "end_update_time": "2022-05-08 0时",
        "hcount": 3,
        "mcount": 5,  # wrong on purpose: the list has 3 community strings
        "lcount": 1,
        "highlist": [
            {
                "type": "2",
                "province": "北京市",
                "city": "朝阳区",  # Beijing: the district as "city", the street as "county"
                "county": "潘家园街道",
                "area_name": "北京市 朝阳区 潘家园街道",
                "communitys": ["松榆里社区", "武圣东里社区"],
            },
            {
                "type": "2",
                "province": "上海市",
                "city": "上海市",  # municipality: the city repeats the province
                "county": "静安区",
                "area_name": "上海市 上海市 静安区",
                "communitys": ["静安寺街道愚园路608弄"],
            },
            {
                "type": "1",  # the whole county
                "province": "河北省",
                "city": "石家庄市",
                "county": "藁城区",
                "communitys": None,
            },
        ],
        "middlelist": [
            {
                "type": "2",
                "province": "北京市",
                "city": "朝阳区",
                "county": "高碑店（地区）乡",
                "communitys": ["百子湾南二路76号院其余楼宇（除外6号楼）"],
            },
            {
                "type": "2",
                "province": "内蒙古自治区",
                "city": "呼和浩特市",
                "county": "新城区",
                "communitys": ["华侨新村小区"],
            },
            {
                "type": "2",
                "province": "火星省",
                "city": "某市",
                "county": "某区",
                "communitys": ["某社区"],
            },
        ],
        "lowlist": [
            {
                "type": "2",
                "province": "北京市",
                "city": "朝阳区",
                "county": "双井街道",
                "communitys": ["双井街道除高中风险区以外区域"],
            }
        ],
    },
    "code": 0,
    "msg": "查询成功",
}

BULLETIN = """根据“国务院客户端”APP对全国疫情中高风险地区目录调整的情况，2021年10月25日11时，全国2个高风险地区，4个中风险地区。
高风险地区（2个）
内蒙古（1个）：
阿拉善盟额济纳旗达来呼布镇
北京（1个）：
昌平区北七家镇宏福苑社区
中风险地区（4个）
内蒙古（2个）：
呼和浩特市新城区华侨新村小区
锡林郭勒盟二连浩特市某某小区
宁夏（1个）：
银川市兴庆区丽景街街道某某小区
贵州（1个）：
月亮市某区某小区
"""


def _areas(qs=None):
    qs = qs if qs is not None else RiskArea.objects.all()
    return {(a.level, a.region_code, a.detail) for a in qs}


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("高风险", "high"),
        ("高风险地区", "high"),
        (" 中风险区 ", "medium"),
        ("低", "low"),
        ("封控区", "high"),
        ("管控区", "medium"),
        ("防范区", "low"),
        ("HIGH", "high"),
        ("ｈｉｇｈ", "high"),
        ("很高", None),
        ("", None),
    ],
)
def test_level_words(text, level):
    assert risk_level_value(text) == level


def test_the_state_council_json_gives_one_area_per_community_and_whole_counties():
    parsed = parse_state_council_json(json.dumps(STATE_COUNCIL, ensure_ascii=False))

    assert parsed.updated == "2022-05-08 0时"
    listed = [(a.level, a.place, a.detail) for a in parsed.areas]
    assert ("high", "北京市 朝阳区 潘家园街道", "松榆里社区") in listed
    assert ("high", "北京市 朝阳区 潘家园街道", "武圣东里社区") in listed
    assert ("high", "河北省 石家庄市 藁城区", "") in listed  # type "1", communitys null
    assert ("low", "北京市 朝阳区 双井街道", "双井街道") in listed  # "除高中风险区以外区域"
    assert len(parsed.areas) == 8
    # hcount (3 strings) matches; mcount 5 does not: a note, not an error.
    assert len(parsed.notes) == 1
    assert "5" in parsed.notes[0]
    assert "3" in parsed.notes[0]


def test_the_2021_aggregator_and_the_history_dataset_variants():
    aggregator = {
        "updated_date": "2021-01-28 15:00:00",
        "high_count": "2",
        "high_list": [
            {
                "type": "2",
                "province": "北京市",
                "city": "大兴区",
                "county": "天宫院街道",
                "communitys": ["融汇社区"],
                "county_code": "110115010",
            },
            {
                "type": "1",
                "province": "河北省",
                "city": "石家庄市",
                "county": "藁城区",
                "communitys": None,
                "county_code": "130109",
            },
        ],
    }
    parsed = parse_state_council_json(json.dumps(aggregator, ensure_ascii=False))
    assert [(a.code, a.detail) for a in parsed.areas] == [("110115010", "融汇社区"), ("130109", "")]
    assert not parsed.notes

    history = [
        {
            "end_update_time": "2021-10-24 9时",
            "hcount": 1,
            "mcount": 0,
            "hlist": [["北京市", "昌平区", "北七家镇", "旧的社区"]],
            "mlist": [],
        },
        {
            "end_update_time": "2021-10-25 11时",
            "hcount": 1,
            "mcount": 1,
            "hlist": [["北京市", "昌平区", "北七家镇", "宏福苑社区"]],
            "mlist": [["内蒙古自治区", "额济纳旗", "达来呼布镇", ""]],
        },
    ]
    parsed = parse_state_council_json(json.dumps(history, ensure_ascii=False))
    assert parsed.updated == "2021-10-25 11时"  # the latest snapshot
    assert [(a.level, a.detail) for a in parsed.areas] == [("high", "宏福苑社区"), ("medium", "")]


def test_the_text_bulletin_reads_levels_provinces_and_lines():
    parsed = parse_bulletin_text(BULLETIN)

    assert [(a.level, a.place) for a in parsed.areas] == [
        ("high", "内蒙古 阿拉善盟额济纳旗达来呼布镇"),
        ("high", "北京 昌平区北七家镇宏福苑社区"),
        ("medium", "内蒙古 呼和浩特市新城区华侨新村小区"),
        ("medium", "内蒙古 锡林郭勒盟二连浩特市某某小区"),
        ("medium", "宁夏 银川市兴庆区丽景街街道某某小区"),
        ("medium", "贵州 月亮市某区某小区"),
    ]
    assert parsed.areas[0].where == "第 4 行"
    assert not parsed.notes  # every declared count matches
    assert "2021年10月25日11时" in parsed.updated


def test_a_bulletin_whose_counts_do_not_add_up_says_so():
    text = BULLETIN.replace("高风险地区（2个）", "高风险地区（3个）")
    parsed = parse_bulletin_text(text)
    assert any("3" in note and "2" in note for note in parsed.notes)


def test_gbk_text_and_bad_files():
    parsed = parse_risk_list(BULLETIN.encode("gbk"))
    assert parsed.format == "text"
    assert len(parsed.areas) == 6
    with pytest.raises(ValidationFailed) as empty:
        parse_risk_list(b"  \n")
    assert "file" in empty.value.errors
    with pytest.raises(ValidationFailed):
        parse_risk_list(b'{"data": {"nothing": []}}')
    with pytest.raises(ValidationFailed):
        parse_risk_list(b'{"highlist": [')
    with pytest.raises(ValidationFailed):
        parse_risk_list("这不是名单\n只是一段文字".encode())


# --- importing a published list ---------------------------------------------------------------


@pytest.mark.django_db
def test_importing_the_json_creates_the_good_areas_and_reports_the_bad(county, users, edition):
    result = risk_list_import(
        actor=users.commander,
        content=json.dumps(STATE_COUNCIL, ensure_ascii=False).encode(),
        start_date=TODAY,
        notice="国务院客户端 5月8日",
    )

    assert _areas() == {
        ("high", "110105", "松榆里社区"),
        ("high", "110105", "武圣东里社区"),
        ("high", "310106", "静安寺街道愚园路608弄"),
        ("high", "130109", ""),
        ("medium", "110105", "百子湾南二路76号院其余楼宇（除外6号楼）"),
        ("medium", "150102", "华侨新村小区"),
        ("low", "110105", "双井街道"),
    }
    songyu = RiskArea.objects.get(detail="松榆里社区")
    assert songyu.region_name == "北京市朝阳区潘家园街道"
    assert songyu.source == "import"
    assert songyu.notice == "国务院客户端 5月8日"
    gaobeidian = RiskArea.objects.get(level="medium", region_code="110105")
    assert gaobeidian.region_name == "北京市朝阳区高碑店（地区）乡"  # full-width brackets kept
    assert len(result.created) == 7
    assert [(e[0], e[2]) for e in result.errors] == [
        ("middlelist 第 3 项第 1 个社区", "无法识别地区“火星省 某市 某区”")
    ]
    assert result.notes
    assert len(result.sweeps) == 7  # one per new area (start today: arrivals of today)


@pytest.mark.django_db
def test_importing_the_same_list_again_changes_nothing(county, users, edition):
    content = json.dumps(STATE_COUNCIL, ensure_ascii=False).encode()
    risk_list_import(actor=users.commander, content=content, start_date=days(-1))

    again = risk_list_import(actor=users.commander, content=content, start_date=TODAY)

    assert again.created == []
    assert again.unchanged == 7  # still designated: today's snapshot adds nothing
    assert RiskArea.objects.count() == 7


@pytest.mark.django_db
def test_importing_the_bulletin_sweeps_each_new_area(county, users, edition):
    hit = make_arrival(
        county,
        left_on=days(-3),
        origin_code="110114",
        origin_address="北京市昌平区北七家镇宏福苑社区8号楼",
    )
    miss = make_arrival(county, left_on=days(-3), origin_code="110114", origin_address="回龙观")

    result = risk_list_import(
        actor=users.commander, content=BULLETIN.encode("gbk"), start_date=days(-5)
    )

    assert _areas() == {
        ("high", "152923", "达来呼布镇"),
        ("high", "110114", "北七家镇宏福苑社区"),
        ("medium", "150102", "华侨新村小区"),
        ("medium", "152501", "某某小区"),
        ("medium", "640104", "丽景街街道某某小区"),
    }
    assert [e[0] for e in result.errors] == ["第 14 行"]
    assert "月亮市" in result.errors[0][2]
    assert len(result.sweeps) == 5
    assert (result.found, result.proposed) == (1, 1)
    order = ControlOrder.objects.get()
    assert order.person_id == hit.person_id
    assert not ControlOrder.objects.filter(person_id=miss.person_id).exists()


@pytest.mark.django_db
def test_a_place_inside_the_county_becomes_one_of_our_divisions(county, users, edition):
    text = "高风险地区（1个）\n陕西（1个）：\n宝鸡市眉县齐镇齐镇村3号楼\n"

    result = risk_list_import(actor=users.commander, content=text.encode(), start_date=TODAY)

    (area,) = result.created
    assert area.region_code == county.village_a.code
    assert area.division_id == county.village_a.code
    assert area.detail == "3号楼"


@pytest.mark.django_db
def test_only_the_hq_imports_lists_and_dates_are_checked(county, users, edition):
    content = BULLETIN.encode()
    with pytest.raises(Forbidden):
        risk_list_import(actor=users.town_officer, content=content, start_date=TODAY)
    with pytest.raises(ValidationFailed) as bad:
        risk_list_import(actor=users.commander, content=content, start_date=days(1), end_date=TODAY)
    assert set(bad.value.errors) == {"start_date", "end_date"}
    assert not RiskArea.objects.exists()


@pytest.mark.django_db
def test_the_command_imports_a_file(county, users, edition, tmp_path):
    path = tmp_path / "guizhou-1026.txt"
    path.write_bytes(BULLETIN.encode("gbk"))
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_risk_areas",
        str(path),
        "--start",
        TODAY.isoformat(),
        "--notice",
        "贵州通报",
        stdout=out,
        stderr=err,
    )

    assert RiskArea.objects.count() == 5
    assert set(RiskArea.objects.values_list("notice", flat=True)) == {"贵州通报"}
    assert RiskArea.objects.filter(created_by__isnull=True).count() == 5  # the system
    text = out.getvalue()
    assert "新登记 5 个风险地区" in text
    assert "月亮市" in text
    with pytest.raises(CommandError):
        call_command("import_risk_areas", str(path), "--start", "2022-13-01", stdout=out)
    with pytest.raises(CommandError):
        call_command("import_risk_areas", str(tmp_path / "missing.txt"), "--start", "2022-01-01")
    with pytest.raises(CommandError):
        call_command(
            "import_risk_areas",
            str(path),
            "--start",
            TODAY.isoformat(),
            "--as",
            "town_a",
            stdout=out,
        )


# --- spreadsheets through the import engine ---------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _xlsx(path, header, rows, *, title=None):
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("风险地区")
    row = 0
    if title:
        sheet.merge_range(0, 0, 0, len(header) - 1, title)
        row = 1
    for col, text in enumerate(header):
        sheet.write_string(row, col, text)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for values in rows:
        row += 1
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write_string(row, col, str(value))
    book.close()
    return path


def _run(actor, path, **kwargs):
    with open(path, "rb") as handle:
        job = import_job_start(
            actor=actor, kind="risk_areas", upload=handle, filename=path.name, **kwargs
        )
    job.refresh_from_db()
    return job


HEADER = [
    "序号",
    "风险等级",
    "省",
    "市",
    "县（区）",
    "具体地区/社区",
    "起始日期",
    "截止日期",
    "依据通告",
]


@pytest.mark.django_db
def test_a_spreadsheet_list_through_the_engine(county, users, edition, media, tmp_path):
    reg = make_arrival(
        county, left_on=days(-2), origin_code="310106", origin_address="上海市静安区愚园路608弄12号"
    )
    rows = [
        ["1", "高风险", "上海市", "上海市", "静安区", "愚园路608弄", days(-4), None, "上海通告"],
        ["2", "中风险区", "内蒙古", "呼和浩特市", "新城区", "华侨新村小区", days(-1), None, ""],
        ["3", "封控区", "陕西省", "宝鸡市", "眉县", "齐镇齐镇村", TODAY, None, "本县通告"],
        ["4", "很高", "北京市", "", "朝阳区", "", days(-1), None, ""],  # bad level
        ["5", "高风险", "火星省", "", "某区", "", days(-1), None, ""],  # unknown place
        ["6", "低风险", "北京市", "", "朝阳区", "", None, None, ""],  # no start
        ["7", "高风险", "北京市", "", "朝阳区", "", days(2), None, ""],  # future start
    ]
    path = _xlsx(
        tmp_path / "风险地区.xlsx", HEADER, rows, title="全省中高风险地区名单（2022年5月8日）"
    )

    job = _run(users.commander, path)

    assert job.status == "done", job.message
    assert (job.created, job.updated, job.unchanged, job.error_rows) == (3, 0, 0, 4)
    errors = {e.row_number: e.errors for e in job.row_errors.all()}
    assert set(errors) == {6, 7, 8, 9}
    assert "level" in errors[6]
    assert "火星省" in " ".join(errors[7]["province"])
    assert "start_date" in errors[8]
    assert "起始日期不能晚于今天" in " ".join(errors[9]["start_date"])
    inside = RiskArea.objects.get(level="high", division__isnull=False)
    assert inside.region_code == county.village_a.code
    assert RiskArea.objects.filter(import_job=job).count() == 3
    # Each new area with a start up to today was swept; the Shanghai one found the arrival.
    sweep = SweepRun.objects.get(risk_area__region_code="310106")
    assert sweep.found == 1
    assert sweep.orders_proposed == 1
    assert ControlOrder.objects.get().person_id == reg.person_id

    again = _run(users.commander, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    # A new end date for the same area updates it (narrower: no sweep).
    rows[0][7] = TODAY
    changed = _run(users.commander, _xlsx(tmp_path / "v2.xlsx", HEADER, rows[:1]))
    assert (changed.created, changed.updated) == (0, 1)
    assert RiskArea.objects.get(region_code="310106").end_date == TODAY


@pytest.mark.django_db
def test_a_one_column_list_and_codes(county, users, edition, media, tmp_path):
    header = ["风险等级", "地区", "区划代码", "具体地区", "开始日期"]
    rows = [
        ["高风险", "北京市朝阳区潘家园街道", "", "松榆里社区", TODAY],
        ["中风险", "", "110114", "", TODAY],
        ["中风险", "", "999999", "", TODAY],
    ]
    job = _run(users.commander, _xlsx(tmp_path / "one.csv.xlsx", header, rows))

    assert (job.created, job.error_rows) == (2, 1)
    assert _areas() == {("high", "110105", "松榆里社区"), ("medium", "110114", "")}
    (error,) = job.row_errors.all()
    assert "code" in error.errors


@pytest.mark.django_db
def test_only_the_hq_may_import_a_list(county, users, edition, media, tmp_path):
    path = _xlsx(tmp_path / "x.xlsx", HEADER, [["1", "高风险", "北京市", "", "朝阳区", "", TODAY]])
    with pytest.raises(ValidationFailed):
        _run(users.town_officer, path)
    assert not RiskArea.objects.exists()


@pytest.mark.django_db
def test_rollback_deletes_unused_areas_and_refuses_used_ones(
    county, users, edition, media, tmp_path
):
    unused = _run(
        users.commander,
        _xlsx(tmp_path / "a.xlsx", HEADER, [["1", "高风险", "北京市", "", "昌平区", "", TODAY]]),
    )
    import_job_rollback(actor=users.commander, job=unused)
    assert not RiskArea.objects.exists()

    make_arrival(county, left_on=days(-1), origin_code="110105")
    used = _run(
        users.commander,
        _xlsx(tmp_path / "b.xlsx", HEADER, [["1", "高风险", "北京市", "", "朝阳区", "", days(-2)]]),
    )
    with pytest.raises(Conflict):
        import_job_rollback(actor=users.commander, job=used)
    assert RiskArea.objects.count() == 1


@pytest.mark.django_db
def test_the_generic_import_command_runs_the_risk_list(county, users, edition, media, tmp_path):
    path = _xlsx(tmp_path / "c.xlsx", HEADER, [["1", "中风险", "北京市", "", "朝阳区", "", TODAY]])
    call_command("import", "risk_areas", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    area = RiskArea.objects.get()
    assert area.created_by_id == users.superuser.pk  # the command acts as the first superuser
    assert area.source == "import"


@pytest.mark.django_db
def test_the_command_line_as_the_system_sweeps_too(county, users, edition, media, tmp_path):
    # Without any superuser `fangkong import` acts as the system (no account): the areas, the
    # sweep and the measures it proposes are recorded without an actor.
    users.superuser.delete()
    reg = make_arrival(county, left_on=days(-1), origin_code="110114")
    path = _xlsx(
        tmp_path / "d.xlsx", HEADER, [["1", "高风险", "北京市", "", "昌平区", "", days(-3)]]
    )

    call_command("import", "risk_areas", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    area = RiskArea.objects.get()
    assert area.created_by_id is None
    sweep = SweepRun.objects.get()
    assert sweep.actor_id is None
    assert sweep.orders_proposed == 1
    order = ControlOrder.objects.get()
    assert order.person_id == reg.person_id
    assert order.proposed_by_id is None
