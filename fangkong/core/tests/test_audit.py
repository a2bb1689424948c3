"""audit_record: one row per write, ids only, never personal data."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fangkong.core.audit import AuditPayloadError, audit_record
from fangkong.core.context import current_ip
from fangkong.core.models import AuditEvent, AuditReason
from fangkong.core.tests.idgen import make_resident_id

pytestmark = pytest.mark.django_db


def test_event_records_actor_verb_target_and_ip(county, users):
    # given a request context with a client IP
    token = current_ip.set("10.1.2.3")
    try:
        # when
        event = audit_record(
            actor=users.commander, verb="geo.division.update", target=county.town_a, data={"x": 1}
        )
    finally:
        current_ip.reset(token)
    # then
    event.refresh_from_db()
    assert event.actor_id == users.commander.pk
    assert event.verb == "geo.division.update"
    assert (event.target_type, event.target_id) == ("geo.division", "610326107")
    assert event.data == {"x": 1}
    assert event.ip == "10.1.2.3"
    assert event.at is not None


def test_command_line_writes_have_no_actor(db):
    event = audit_record(actor=None, verb="demo.seed", target_type="geo.division", target_id=7)
    assert event.actor_id is None
    assert event.target_id == "7"
    assert event.ip is None


def test_reason_is_kept_beside_the_event_not_in_its_data(users):
    event = audit_record(
        actor=users.commander,
        verb="people.person.reveal",
        target_type="people.person",
        target_id=1,
        reason="核实密接身份",
    )
    assert AuditReason.objects.get(event=event).text == "核实密接身份"
    assert "核实密接身份" not in json.dumps(event.data, ensure_ascii=False)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "张三"},
        {"phone": "x"},
        {"id_number": "x"},
        {"address": "x"},
        {"birth_date": "x"},
        {"nested": {"name": "张三"}},
        {"note": "电话13812345678"},
        {"note": "+8613812345678"},
        {"values": ["ok", "13812345678"]},
        {"number": 13812345678},
        {"doc": make_resident_id("610326", dt.date(1970, 3, 15), 11)},
        {"doc": "身份证11010519491231002x已核实"},
    ],
)
def test_payload_with_personal_data_is_refused_and_nothing_is_written(users, data):
    with pytest.raises(AuditPayloadError):
        audit_record(actor=users.commander, verb="x.y", target_type="t", target_id=1, data=data)
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"division": "610326"},
        {"division": "610326107"},
        {"division": "610326107201"},
        {"division": "610326107201001"},
        {"grids": ["610326107201001", "130102001001001"]},
        {"jurisdiction": "130102001001"},
        {"fields": ["name", "phone", "id_number"]},
        {"created": 12, "updated": 0, "errors": 1},
        {"person_id": 12345678901},
    ],
)
def test_division_codes_counts_and_field_names_are_allowed(users, data):
    # Division codes are ids (a Hebei village code starts with 13 and is 12 digits long, a
    # small grid code is 15 digits): they must never be mistaken for phones or ID numbers.
    event = audit_record(actor=users.commander, verb="x.y", target_type="t", target_id=1, data=data)
    assert event.data == data
