"""Checkpoints and duty rosters: gap detection over the next 48 hours (fake clock via now=),
validation messages, who may write, and the coverage query count."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.exceptions import Conflict, Forbidden, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.travel import selectors_checkpoints as sel
from fangkong.travel import services_checkpoints as svc
from fangkong.travel.models import Checkpoint, DutyShift

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2022, 3, 20, 8, 0, tzinfo=TZ)
H = dt.timedelta(hours=1)


def make_checkpoint(*, actor: Any, division: Any, **overrides: Any) -> Checkpoint:
    data = {
        "name": "凤州收费站出口",
        "kind": Checkpoint.Kind.HIGHWAY_EXIT,
        "division_code": division.code,
        "location": "G316国道凤州段",
        "responsible_unit": "凤州镇人民政府",
        "leader_name": "王镇长",
        "leader_phone": "13912345678",
    }
    data.update(overrides)
    return svc.checkpoint_create(actor=actor, data=data)


def add_shift(checkpoint: Checkpoint, start: dt.datetime, hours: float, name: str = "李值守"):
    """A shift straight in the table (the gap tests are about reading, not writing)."""
    return DutyShift.objects.create(
        checkpoint=checkpoint,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        staff_name=name,
    )


def gaps(checkpoint: Checkpoint, now: dt.datetime = NOW) -> list[tuple[dt.datetime, float]]:
    [cov] = sel.coverage_for(checkpoints=[checkpoint], now=now)
    return [(g.start, g.hours) for g in cov.gaps]


@pytest.fixture
def cp(county, users) -> Checkpoint:
    return make_checkpoint(actor=users.commander, division=county.town_a)


# --- gap detection ---------------------------------------------------------------------------


def test_no_shifts_is_one_48_hour_gap(cp):
    assert gaps(cp) == [(NOW, 48.0)]


def test_shifts_covering_the_whole_window_leave_no_gap(cp):
    for i in range(6):
        add_shift(cp, NOW + i * 8 * H, 8)
    assert gaps(cp) == []
    [cov] = sel.coverage_for(checkpoints=[cp], now=NOW)
    assert all(slot.state == "covered" for slot in cov.timeline())
    assert len(cov.timeline()) == 48


def test_overlapping_and_adjacent_shifts_merge(cp):
    add_shift(cp, NOW, 8)  # 08-16
    add_shift(cp, NOW + 6 * H, 8)  # 14-22, overlaps
    add_shift(cp, NOW + 14 * H, 10)  # 22-08 next day, adjacent (hand-over at 22:00)
    assert gaps(cp) == [(NOW + 24 * H, 24.0)]


def test_a_gap_in_the_middle(cp):
    add_shift(cp, NOW, 20)
    add_shift(cp, NOW + 23 * H, 25)
    assert gaps(cp) == [(NOW + 20 * H, 3.0)]
    [cov] = sel.coverage_for(checkpoints=[cp], now=NOW)
    states = [slot.state for slot in cov.timeline()]
    assert states[19] == "covered"
    assert states[20:23] == ["none"] * 3
    assert states[23] == "covered"


def test_a_shift_that_started_before_now_counts_from_now(cp):
    add_shift(cp, NOW - 5 * H, 8)  # 03-11: covers 08-11
    assert gaps(cp) == [(NOW + 3 * H, 45.0)]
    [cov] = sel.coverage_for(checkpoints=[cp], now=NOW)
    assert [s.staff_name for s in cov.on_duty] == ["李值守"]


def test_shifts_outside_the_window_do_not_count(cp):
    add_shift(cp, NOW - 10 * H, 8)  # over before now
    add_shift(cp, NOW + 50 * H, 8)  # after the window
    assert gaps(cp) == [(NOW, 48.0)]


def test_partial_hour_is_marked_partial(cp, settings):
    add_shift(cp, NOW, 2.5)
    [cov] = sel.coverage_for(checkpoints=[cp], now=NOW)
    assert [s.state for s in cov.timeline()[:4]] == ["covered", "covered", "partial", "none"]


def test_inactive_checkpoints_are_ignored(cp, county, users):
    other = make_checkpoint(actor=users.commander, division=county.town_b, name="汽车站")
    svc.checkpoint_deactivate(actor=users.commander, checkpoint=other)
    found = sel.coverage_gaps(viewer=users.commander, now=NOW)
    assert [c.checkpoint.pk for c in found] == [cp.pk]


def test_covered_checkpoints_are_not_listed(cp, county, users):
    for i in range(2):
        add_shift(cp, NOW + i * 24 * H, 24)
    assert sel.coverage_gaps(viewer=users.commander, now=NOW) == []


def test_coverage_is_scoped(cp, county, users):
    make_checkpoint(actor=users.commander, division=county.town_b, name="汽车站")
    names = {c.checkpoint.name for c in sel.coverage_gaps(viewer=users.other_town_officer, now=NOW)}
    assert names == {"汽车站"}


def test_coverage_queries_do_not_grow_with_checkpoints(county, users, django_assert_num_queries):
    for i in range(3):
        c = make_checkpoint(actor=users.commander, division=county.town_a, name=f"卡口{i}")
        add_shift(c, NOW, 8)
    with django_assert_num_queries(2):
        small = sel.coverage_gaps(viewer=users.commander, now=NOW)
    for i in range(3, 20):
        c = make_checkpoint(actor=users.commander, division=county.town_b, name=f"卡口{i}")
        add_shift(c, NOW + 4 * H, 8)
    with django_assert_num_queries(2):
        big = sel.coverage_gaps(viewer=users.commander, now=NOW)
    assert len(small) == 3
    assert len(big) == 20


def test_gaps_for_leader(cp, county, users):
    led = make_checkpoint(
        actor=users.commander, division=county.town_b, name="火车站", leader_id=users.leader.pk
    )
    assert [c.checkpoint.pk for c in sel.gaps_for_leader(user=users.leader, now=NOW)] == [led.pk]
    # A town officer sees the gaps of the checkpoints in their town.
    town = sel.gaps_for_leader(user=users.town_officer, now=NOW)
    assert [c.checkpoint.pk for c in town] == [cp.pk]
    # Roles that keep no rosters and lead nothing see none.
    assert sel.gaps_for_leader(user=users.grid_worker, now=NOW) == []


# --- validation ------------------------------------------------------------------------------


def _errors(exc_info: Any) -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in exc_info.value.errors.items()}


def test_shift_ending_before_it_starts_is_refused(cp, users):
    with pytest.raises(ValidationFailed) as exc:
        svc.duty_shift_create(
            actor=users.commander,
            checkpoint=cp,
            data={"starts_at": NOW, "ends_at": NOW - H, "staff_name": "李值守"},
        )
    assert "结束时间必须晚于开始时间" in _errors(exc)["ends_at"][0]
    assert not DutyShift.objects.exists()


def test_shift_longer_than_24_hours_is_refused(cp, users):
    with pytest.raises(ValidationFailed) as exc:
        svc.duty_shift_create(
            actor=users.commander,
            checkpoint=cp,
            data={"starts_at": NOW, "ends_at": NOW + 25 * H, "staff_name": "李值守"},
        )
    assert "不能超过24小时" in _errors(exc)["ends_at"][0]


def test_bad_phone_and_missing_name_are_named(cp, users):
    with pytest.raises(ValidationFailed) as exc:
        svc.duty_shift_create(
            actor=users.commander,
            checkpoint=cp,
            data={"starts_at": "2022-03-20T08:00", "ends_at": "", "staff_phone": "12345"},
        )
    errors = _errors(exc)
    assert "手机号" in errors["staff_phone"][0]
    assert "值守人员" in errors["staff_name"][0]
    assert "结束时间" in errors["ends_at"][0]


def test_valid_shift_is_saved_and_audited_without_personal_data(cp, users):
    shift = svc.duty_shift_create(
        actor=users.commander,
        checkpoint=cp,
        data={
            "starts_at": "2022-03-20T08:00",  # naive: local time
            "ends_at": "2022-03-20T16:00",
            "staff_name": "李值守",
            "staff_phone": "+86 139 1234 5678",
            "post": "党员先锋岗",
            "is_volunteer": True,
        },
    )
    assert shift.starts_at == NOW
    assert shift.staff_phone == "13912345678"
    event = AuditEvent.objects.get(verb="travel.duty_shift.create")
    assert event.data == {"checkpoint": cp.pk}


def test_checkpoint_fields_are_checked_together(county, users):
    with pytest.raises(ValidationFailed) as exc:
        svc.checkpoint_create(
            actor=users.town_officer,
            data={
                "name": "",
                "kind": "airport",
                "division_code": county.town_b.code,
                "leader_phone": "abc",
            },
        )
    errors = _errors(exc)
    assert set(errors) == {"name", "kind", "division_code", "leader_phone"}
    assert "管辖范围" in errors["division_code"][0]
    assert not Checkpoint.objects.exists()


def test_landline_is_accepted_for_the_leader(county, users):
    cp = make_checkpoint(actor=users.commander, division=county.town_a, leader_phone="0917-4712345")
    assert cp.leader_phone == "0917-4712345"


def test_update_changes_only_given_fields(cp, users):
    svc.checkpoint_update(actor=users.town_officer, checkpoint=cp, data={"location": "新址"})
    cp.refresh_from_db()
    assert cp.location == "新址"
    assert cp.name == "凤州收费站出口"
    event = AuditEvent.objects.get(verb="travel.checkpoint.update")
    assert event.data["fields"] == ["location"]


def test_roster_for_a_day_is_saved_whole_or_not_at_all(cp, users):
    day = dt.datetime(2022, 3, 21, tzinfo=TZ)
    rows = [
        {"starts_at": day + i * 8 * H, "ends_at": day + (i + 1) * 8 * H, "staff_name": f"值守{i}"}
        for i in range(3)
    ]
    rows[2]["staff_phone"] = "123"
    with pytest.raises(ValidationFailed) as exc:
        svc.duty_roster_create(actor=users.commander, checkpoint=cp, rows=rows)
    assert list(_errors(exc)) == ["rows.3.staff_phone"]
    assert not DutyShift.objects.exists()
    rows[2]["staff_phone"] = ""
    shifts = svc.duty_roster_create(actor=users.commander, checkpoint=cp, rows=rows)
    assert len(shifts) == 3
    day_start = dt.datetime(2022, 3, 21, tzinfo=TZ)
    assert gaps(cp, now=day_start)[0] == (day_start + 24 * H, 24.0)


# --- who may ---------------------------------------------------------------------------------


def test_read_only_roles_may_not_write(cp, users):
    for user in (users.leader, users.village_officer, users.grid_worker, users.epidemiologist):
        with pytest.raises(Forbidden):
            svc.checkpoint_update(actor=user, checkpoint=cp, data={"location": "x"})
        with pytest.raises(Forbidden):
            svc.duty_shift_create(
                actor=user,
                checkpoint=cp,
                data={"starts_at": NOW, "ends_at": NOW + H, "staff_name": "李"},
            )


def test_town_officer_writes_only_in_their_town(cp, users):
    with pytest.raises(Forbidden):
        svc.checkpoint_deactivate(actor=users.other_town_officer, checkpoint=cp)
    svc.checkpoint_deactivate(actor=users.town_officer, checkpoint=cp)
    with pytest.raises(Conflict):
        svc.duty_shift_create(
            actor=users.town_officer,
            checkpoint=cp,
            data={"starts_at": NOW, "ends_at": NOW + H, "staff_name": "李"},
        )


def test_a_past_shift_stays_on_record(cp, users):
    shift = add_shift(cp, NOW, 8)
    with pytest.raises(Conflict):
        svc.duty_shift_delete(actor=users.commander, shift=shift, now=NOW + 9 * H)
    svc.duty_shift_delete(actor=users.commander, shift=shift, now=NOW)
    assert not DutyShift.objects.exists()
