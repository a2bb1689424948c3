"""The Word letter of an outgoing assist request: title, number, counterpart, body, and the
table of listed people in the [I] shape of real-formats §3; an audited export."""

from __future__ import annotations

import io

import pytest
from docx import Document

from fangkong.core.exceptions import Forbidden, NotFound
from fangkong.core.models import AuditEvent
from fangkong.travel import services
from fangkong.travel.letters import LETTER_TITLE, TABLE_HEADER
from fangkong.travel.models import AssistRequest

from .factories import (
    HONGSHAN,
    NEW_ID,
    NOW,
    OTHER_NEW_ID,
    TODAY,
    arrival_data,
    docx_table,
    risk_area,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(users, county):
    risk_area(level="high")
    outside = {"destination_code": "", "outside_county": True, "outside_code": HONGSHAN}
    for data in (
        arrival_data(destination_address="武汉市洪山区关山大道1号", **outside),
        arrival_data(
            name="钱外来",
            id_number=OTHER_NEW_ID,
            phone="13600001111",
            origin_code="420102",
            origin_address="",
            transport="car",
            vehicle_no="鄂AD12345",
            destination_address="武汉市洪山区珞喻路2号",
            **outside,
        ),
    ):
        services.arrival_register(actor=users.commander, data=data, channel="grid_entry", now=NOW)
    return AssistRequest.objects.get()


def test_the_letter_has_the_title_number_counterpart_and_body(users, letter):
    file = services.assist_request_letter(actor=users.commander, assist_request=letter)
    document = Document(io.BytesIO(file.content))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[0] == LETTER_TITLE
    assert texts[1] == "眉防协〔2022〕1号"
    assert texts[2] == "湖北省武汉市洪山区新冠肺炎疫情防控指挥部："
    assert "以下 2 名人员" in texts[3]
    assert "眉县新冠肺炎疫情防控指挥部" in texts
    assert f"{TODAY.year}年{TODAY.month}月{TODAY.day}日" in texts
    assert file.filename.endswith(".docx")
    assert file.rows == 2


def test_the_table_lists_every_person_in_full(users, letter):
    file = services.assist_request_letter(actor=users.commander, assist_request=letter)
    table = docx_table(file.content)
    assert tuple(table[0]) == TABLE_HEADER
    assert table[1] == [
        "1",
        "赵新来",
        "男",
        NEW_ID,
        "13512345678",
        "高风险地区来返人员",
        "北京市朝阳区望京街道",
        "2022-08-02",
        "武汉市洪山区关山大道1号",
        "抵达 2022-08-03，火车 G1002",
    ]
    assert table[2][:5] == ["2", "钱外来", "女", OTHER_NEW_ID, "13600001111"]
    assert table[2][5] == "来返人员"  # from Wuhan: no risk area, no category
    assert table[2][6] == "湖北省武汉市江岸区"
    assert table[2][9] == "抵达 2022-08-03，自驾（汽车） 鄂AD12345"


def test_feedback_appears_in_the_remarks(users, letter):
    entry = letter.entries.order_by("pk").first()
    services.assist_entry_feedback(actor=users.commander, entry=entry, feedback="已落实居家隔离")
    table = docx_table(
        services.assist_request_letter(actor=users.commander, assist_request=letter).content
    )
    assert table[1][9].endswith("；已落实居家隔离")


def test_the_export_is_audited_with_ids_only(users, letter):
    services.assist_request_letter(actor=users.commander, assist_request=letter)
    event = AuditEvent.objects.get(verb="travel.assist.export")
    assert event.target_id == str(letter.pk)
    assert event.data["entries"] == 2
    assert set(event.data["person_ids"]) == set(letter.entries.values_list("person_id", flat=True))
    text = str(event.data)
    assert NEW_ID not in text
    assert "赵新来" not in text


def test_only_roles_that_may_reveal_get_the_letter(users, letter):
    with pytest.raises(Forbidden):
        services.assist_request_letter(actor=users.leader, assist_request=letter)
    assert not AuditEvent.objects.filter(verb="travel.assist.export").exists()


def test_an_incoming_request_has_no_letter(users, county):
    incoming = services.assist_request_create(
        actor=users.commander, direction="incoming", counterpart="朝阳区指挥部"
    )
    with pytest.raises(NotFound):
        services.assist_request_letter(actor=users.commander, assist_request=incoming)
