"""Arrival lists through the import engine, with real .xlsx files (title rows, text and
number cells): the returnee form, the Yiwu exports, the assist list (协查名单); bad rows
reported, a re-import unchanged, rollback undoing the registrations and cancelling orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from fangkong.control.models import ControlOrder, LoopTask
from fangkong.core.exceptions import ValidationFailed
from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.imports.services import import_job_rollback, import_job_start
from fangkong.travel.models import AssistRequest, TravelRegistration

from .factories import GRID_A, GRID_B, activate, risk_area, write_xlsx

pytestmark = pytest.mark.django_db

LIU = make_resident_id("610326", dt.date(1988, 6, 1), 51)
WU = make_resident_id("420111", dt.date(1990, 2, 14), 62)
ZHENG = make_resident_id("330782", dt.date(1979, 9, 1), 71)
QIAN = make_resident_id("110105", dt.date(1982, 3, 3), 83)

RETURNEE_HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "出发地（省市县）",
    "途经地",
    "返回日期",
    "交通方式",
    "车次/航班/车牌",
    "现住址",
    "所属村（社区）",
    "健康码颜色",
    "行程码是否带星",
    "48小时核酸",
    "核酸采样日期",
    "疫苗接种剂次",
    "管控措施",
    "包联干部",
    "备注",
]


@pytest.fixture(autouse=True)
def _setup(county):
    cache.clear()
    activate("v9")
    risk_area(level="high", start=local_today() - dt.timedelta(days=20))


def day(n: int) -> dt.date:
    return local_today() - dt.timedelta(days=n)


def run(actor, path, *, kind="arrivals", **options):
    with open(path, "rb") as handle:
        job = import_job_start(
            actor=actor, kind=kind, upload=handle, filename=path.name, options=options
        )
    job.refresh_from_db()
    return job


def errors_by_row(job):
    return {e.row_number: e for e in job.row_errors.all()}


def returnee_rows():
    """The composite returnee form of real-formats §2.3: phones as number cells."""
    return [
        [
            1,
            "刘返乡",
            "男",
            LIU,
            13912345678,
            "北京市朝阳区",
            "",
            day(2),
            "火车",
            "G1002",
            "齐镇村5组",
            "齐镇村",
            "绿码",
            "否",
            "阴性",
            "",
            3,
            "",
            "李某",
            "",
        ],
        [
            2,
            "吴返乡",
            "女",
            WU,
            "13712345679",
            "湖北省武汉市洪山区关山街道",
            "",
            day(1),
            "自驾",
            "鄂A·12345",
            "横渠村一组",
            "横渠村",
            "绿码",
            "否",
            "阴性",
            "",
            3,
            "",
            "",
            "",
        ],
        [
            3,
            "坏号码",
            "男",
            LIU[:-1] + ("0" if LIU[-1] != "0" else "1"),
            "13612345678",
            "北京市朝阳区",
            "",
            day(1),
            "火车",
            "G1",
            "",
            "齐镇村",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            4,
            "火星人",
            "男",
            ZHENG,
            "13612345670",
            "火星基地",
            "",
            day(1),
            "飞机",
            "MU5123",
            "",
            "齐镇村",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            5,
            "车牌错",
            "男",
            QIAN,
            "13612345671",
            "北京市朝阳区",
            "",
            day(1),
            "自驾",
            "京A1234",
            "",
            "齐镇村",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]


def test_the_returnee_form_with_a_title_row(tmp_path, users):
    path = write_xlsx(
        tmp_path / "returnees.xlsx",
        RETURNEE_HEADER,
        returnee_rows(),
        title="齐镇返乡人员登记表（2022年1月）",
    )
    job = run(users.commander, path, division=GRID_A)
    assert job.status == "done", job.message
    assert (job.created, job.error_rows) == (2, 3)
    liu = TravelRegistration.objects.get(person__id_number=LIU)
    assert liu.channel == "pushed_list"
    assert liu.origin_code == "110105"
    assert (liu.left_on, liu.arrived_on) == (day(2), day(2))  # 离开日期 defaults to the arrival
    assert liu.destination_division_id == GRID_A  # 齐镇村 has two grids: the default one
    assert liu.transport == "train"
    assert liu.reported_phone == "13912345678"  # rescued from a number cell
    assert liu.category == "high_risk_arrival"
    assert liu.order is not None
    assert liu.order.status == "proposed"
    assert LoopTask.objects.filter(source_type="arrival", source_id=str(liu.pk)).exists()
    wu = TravelRegistration.objects.get(person__id_number=WU)
    assert (wu.origin_code, wu.origin_address) == ("420111", "关山街道")
    assert wu.destination_division_id == GRID_B  # 横渠村 has one grid
    assert wu.vehicle_no == "鄂A12345"
    assert wu.order is None  # Wuhan is not a risk area here
    errors = errors_by_row(job)
    assert set(errors) == {5, 6, 7}  # the sheet's rows (title, header, then data)
    assert "身份证号校验码错误" in str(errors[5].errors)
    assert "火星基地" in str(errors[6].errors)
    assert "车牌号" in str(errors[7].errors)


def test_importing_the_same_file_again_changes_nothing(tmp_path, users):
    path = write_xlsx(tmp_path / "returnees.xlsx", RETURNEE_HEADER, returnee_rows())
    run(users.commander, path, division=GRID_A)
    again = run(users.commander, path, division=GRID_A)
    assert (again.created, again.unchanged, again.error_rows) == (0, 2, 3)
    assert TravelRegistration.objects.count() == 2


def test_the_yiwu_recent_arrivals_export(tmp_path, users):
    header = ["序号", "姓名", "身份证号", "电话号码", "来源地", "所在镇街", "抵义时间"]
    rows = [
        [1, "郑来眉", ZHENG, "13812345678", "浙江省金华市义乌市稠城街道", "齐镇", day(1)],
        [2, "钱来眉", QIAN, "", "北京市朝阳区望京街道", "横渠镇", day(2)],
    ]
    job = run(
        users.commander,
        write_xlsx(tmp_path / "近期来义_20220801.xlsx", header, rows),
        division=GRID_A,
    )
    assert (job.created, job.error_rows) == (2, 0), job.message
    zheng = TravelRegistration.objects.get(person__id_number=ZHENG)
    assert (zheng.origin_code, zheng.origin_address) == ("330782", "稠城街道")
    assert zheng.destination_division_id == GRID_A  # 齐镇: the default grid lies in it
    assert zheng.transport == "other"
    qian = TravelRegistration.objects.get(person__id_number=QIAN)
    assert qian.destination_division_id == GRID_B  # 横渠镇 has one village with one grid
    assert qian.reported_phone == ""
    assert qian.risk_level == "high"


def test_the_yiwu_declaration_export_with_document_types(tmp_path, users):
    header = [
        "序号",
        "姓名",
        "证件类型",
        "证件号",
        "手机号",
        "来源地",
        "途径城市",
        "来义居所",
        "来义时间",
    ]
    rows = [
        [1, "金护照", "护照", "E12345678", "13812345670", "北京市朝阳区", "", "齐镇村一组", day(1)],
        [2, "李身份", "身份证", WU, "13812345671", "湖北省武汉市洪山区", "", "齐镇村二组", day(1)],
    ]
    job = run(
        users.commander, write_xlsx(tmp_path / "来返义申报.xlsx", header, rows), division=GRID_A
    )
    assert (job.created, job.error_rows) == (2, 0), job.message
    passport = TravelRegistration.objects.get(person__id_number="E12345678")
    assert passport.person.id_type == "passport"


def test_rows_without_a_place_and_without_a_default_grid_are_reported(tmp_path, users):
    header = ["姓名", "身份证号", "手机号", "出发地", "返回日期", "所属村（社区）"]
    rows = [["刘返乡", LIU, "13912345678", "北京市朝阳区", day(1), "齐镇村"]]
    job = run(users.commander, write_xlsx(tmp_path / "a.xlsx", header, rows))
    assert job.error_rows == 1
    assert "多个小网格" in str(errors_by_row(job)[2].errors)


def test_rollback_deletes_the_registrations_and_cancels_their_orders(tmp_path, users):
    path = write_xlsx(tmp_path / "returnees.xlsx", RETURNEE_HEADER, returnee_rows())
    job = run(users.commander, path, division=GRID_A)
    order = TravelRegistration.objects.get(person__id_number=LIU).order
    import_job_rollback(actor=users.commander, job=job)
    assert not TravelRegistration.objects.exists()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not LoopTask.objects.filter(order=order, status="open").exists()
    # Arrivals with no measure opened a task too: nobody is chased about them any more.
    assert LoopTask.objects.filter(order__isnull=True).exists()
    assert not LoopTask.objects.filter(status="open").exists()


def test_who_may_import_arrival_lists(tmp_path, users):
    path = write_xlsx(tmp_path / "returnees.xlsx", RETURNEE_HEADER, returnee_rows())
    with pytest.raises(ValidationFailed) as exc:
        run(users.lab_staff, path)
    assert "kind" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        run(users.grid_worker, path, division=GRID_B)  # a default grid outside the scope
    assert "division" in exc.value.errors
    job = run(users.grid_worker, path, division=GRID_A)
    assert job.created == 1  # 刘 in grid A; 吴 in 横渠村 is outside the grid worker's scope
    assert "不在您的管辖范围内" in str(errors_by_row(job)[3].errors)


# --- assist lists ------------------------------------------------------------------------------

ASSIST_HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "人员类别",
    "暴露地点",
    "暴露时间",
    "末次暴露时间",
    "推送地",
    "现住址/落地地址",
    "所属村（社区）",
    "核查结果",
    "管控措施",
    "反馈单位",
    "反馈时间",
    "备注",
]


def assist_rows():
    return [
        [
            1,
            "刘密接",
            "男",
            LIU,
            "139****5678",
            "密接",
            "北京市朝阳区望京街道某超市",
            day(4),
            day(3),
            "北京市",
            "齐镇村一组",
            "齐镇村",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            2,
            "吴伴随",
            "女",
            WU,
            "13712345679",
            "时空伴随",
            "湖北省武汉市洪山区",
            day(3),
            day(3),
            "武汉市",
            "横渠村一组",
            "横渠村",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            3,
            "脱敏者",
            "男",
            "3405**********001X",
            "13712345670",
            "密接",
            "北京市朝阳区",
            day(3),
            day(3),
            "",
            "",
            "齐镇村",
            "",
            "",
            "",
            "",
            "",
        ],
    ]


def test_an_assist_list_creates_the_letter_and_puts_everyone_in_the_loop(tmp_path, users):
    path = write_xlsx(
        tmp_path / "协查名单.xlsx",
        ASSIST_HEADER,
        assist_rows(),
        title="关于协助开展疫情相关风险人员排查管控的函（附件）",
    )
    job = run(
        users.commander,
        path,
        kind="assist_list",
        division=GRID_A,
        number="京朝防协〔2022〕88号",
        counterpart="北京市朝阳区疫情防控指挥部",
        counterpart_code="110105",
    )
    assert (job.created, job.error_rows) == (2, 1), job.message
    letter = AssistRequest.objects.get()
    assert (letter.direction, letter.number, letter.counterpart_code) == (
        "incoming",
        "京朝防协〔2022〕88号",
        "110105",
    )
    assert letter.import_job_id == job.pk
    liu = TravelRegistration.objects.get(person__id_number=LIU)
    assert liu.channel == "assist_request"
    assert liu.assist_request == letter
    assert liu.reported_phone == ""  # the masked phone is "not provided"
    assert liu.category == "close_contact"  # the list's 人员类别
    assert liu.order.category == "close_contact"
    assert liu.order.counts_from == "last_exposure"
    assert liu.order.anchor_date == day(3)
    task = LoopTask.objects.get(source_type="arrival", source_id=str(liu.pk))
    assert task.title == "密切接触者（协查）：北京市朝阳区"
    wu = TravelRegistration.objects.get(person__id_number=WU)
    assert wu.category == ""  # 时空伴随 from a place that is not a risk area
    assert "脱敏" in str(errors_by_row(job)[5].errors)


def test_an_assist_list_for_a_recorded_letter(tmp_path, users):
    from fangkong.travel.services import assist_request_create

    letter = assist_request_create(
        actor=users.commander, direction="incoming", counterpart="朝阳区指挥部"
    )
    path = write_xlsx(tmp_path / "名单.xlsx", ASSIST_HEADER, assist_rows()[:1])
    job = run(
        users.commander, path, kind="assist_list", assist_request=str(letter.pk), division=GRID_A
    )
    assert job.created == 1
    assert TravelRegistration.objects.get().assist_request == letter
    assert AssistRequest.objects.count() == 1


def test_assist_lists_are_the_hqs(tmp_path, users):
    path = write_xlsx(tmp_path / "名单.xlsx", ASSIST_HEADER, assist_rows())
    with pytest.raises(ValidationFailed) as exc:
        run(users.town_officer, path, kind="assist_list", counterpart="x")
    assert "kind" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        run(users.commander, path, kind="assist_list")
    assert "counterpart" in exc.value.errors


def test_rolling_back_an_assist_list_removes_the_letter_it_recorded(tmp_path, users):
    path = write_xlsx(tmp_path / "名单.xlsx", ASSIST_HEADER, assist_rows())
    job = run(
        users.commander, path, kind="assist_list", counterpart="朝阳区指挥部", division=GRID_A
    )
    orders = list(ControlOrder.objects.all())
    assert orders
    import_job_rollback(actor=users.commander, job=job)
    assert not TravelRegistration.objects.exists()
    assert not AssistRequest.objects.exists()
    assert {o.status for o in ControlOrder.objects.all()} == {"cancelled"}
