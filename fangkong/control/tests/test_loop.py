"""The closed loop: steps in order, the one-tap confirmation, visits, and escalation by the
county's clocks (a fake clock throughout: every call gets now=)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from fangkong.control.models import ControlOrder, LoopEscalation, LoopSettings, LoopStep, LoopTask
from fangkong.control.services import (
    loop_escalate,
    loop_settings_update,
    loop_step_complete,
    order_cancel,
    order_confirm,
)
from fangkong.control.tasks import loop_tick_task
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent

from .conftest import NOW
from .factories import propose

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def _steps(task) -> dict[str, LoopStep]:
    return {s.kind: s for s in LoopStep.objects.filter(task=task)}


@pytest.fixture
def task(users, people, v9):
    """An arrival from a high-risk area in grid A1a, opened at NOW (ack +2 h, visit +12 h,
    in place +24 h; town told 4 h late, county 12 h late)."""
    return propose(users.commander, people.head, now=NOW).task


# --- steps -----------------------------------------------------------------------------------


def test_steps_go_in_order(users, task):
    steps = _steps(task)
    with pytest.raises(Conflict) as exc:
        loop_step_complete(actor=users.grid_worker, step=steps["visit"], outcome="verified")
    assert "签收" in str(exc.value.message)
    with pytest.raises(Conflict):
        loop_step_complete(actor=users.grid_worker, step=steps["in_place"])
    assert not LoopStep.objects.filter(done_at__isnull=False).exists()


def test_the_grid_worker_walks_the_task_to_an_active_order(users, task):
    steps = _steps(task)
    at = NOW + 30 * M
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=at)
    loop_step_complete(
        actor=users.grid_worker, step=steps["visit"], outcome="verified", note="", now=at + H
    )
    task.refresh_from_db()
    assert task.status == "open"
    # "措施已落实" confirms the proposed order
    done = loop_step_complete(actor=users.grid_worker, step=steps["in_place"], now=at + 2 * H)
    assert (done.done_at, done.done_by) == (at + 2 * H, users.grid_worker)
    order = ControlOrder.objects.get(pk=task.order_id)
    assert (order.status, order.confirmed_by) == ("active", users.grid_worker)
    task.refresh_from_db()
    assert (task.status, task.closed_at) == ("done", at + 2 * H)
    verbs = list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-4:] == [
        "control.loop_step.complete",
        "control.loop_step.complete",
        "control.order.confirm",
        "control.loop_step.complete",
    ]


def test_in_place_on_an_order_already_confirmed_just_records_it(users, task):
    order_confirm(actor=users.village_officer, order=task.order, now=NOW)
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    loop_step_complete(actor=users.grid_worker, step=steps["visit"], outcome="verified", now=NOW)
    loop_step_complete(actor=users.grid_worker, step=steps["in_place"], now=NOW)
    assert LoopTask.objects.get(pk=task.pk).status == "done"
    assert ControlOrder.objects.get(pk=task.order_id).confirmed_by == users.village_officer


def test_a_task_without_an_order_closes_after_the_visit(users, people, v9):
    task = propose(users.commander, people.head, now=NOW, category=None, anchor=None).task
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    loop_step_complete(actor=users.grid_worker, step=steps["visit"], outcome="verified", now=NOW)
    assert LoopTask.objects.get(pk=task.pk).status == "done"


def test_a_step_is_done_once(users, task):
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    with pytest.raises(Conflict):
        loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)


def test_a_visit_needs_an_outcome_and_a_note_unless_verified(users, task):
    steps = _steps(task)
    with pytest.raises(ValidationFailed) as exc:
        loop_step_complete(actor=users.grid_worker, step=steps["ack"], outcome="verified")
    assert "outcome" in exc.value.errors  # only a visit has an outcome
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    with pytest.raises(ValidationFailed) as exc:
        loop_step_complete(actor=users.grid_worker, step=steps["visit"], now=NOW)
    assert "outcome" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        loop_step_complete(actor=users.grid_worker, step=steps["visit"], outcome="maybe", now=NOW)
    assert "outcome" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        loop_step_complete(
            actor=users.grid_worker, step=steps["visit"], outcome="not_found", now=NOW
        )
    assert "note" in exc.value.errors


@pytest.mark.parametrize("outcome", ["not_found", "moved_away"])
def test_not_found_keeps_the_task_open_and_tells_the_village(users, county, task, outcome):
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    step = loop_step_complete(
        actor=users.grid_worker,
        step=steps["visit"],
        outcome=outcome,
        note="敲门无人，邻居称外出",
        now=NOW + H,
    )
    step.refresh_from_db()
    assert step.done_at is None
    assert (step.outcome, step.note) == (outcome, "敲门无人，邻居称外出")
    assert step.escalation == 1
    escalation = LoopEscalation.objects.get(step=step)
    assert (escalation.level, escalation.division_id) == (1, county.village_a.code)
    assert LoopTask.objects.get(pk=task.pk).status == "open"
    assert AuditEvent.objects.filter(verb="control.loop_step.report").count() == 1
    # the worker finds the person later
    loop_step_complete(
        actor=users.grid_worker, step=steps["visit"], outcome="verified", now=NOW + 3 * H
    )
    step.refresh_from_db()
    assert step.done_at == NOW + 3 * H
    assert step.outcome == "verified"


def test_wrong_address_with_a_note_finishes_the_visit(users, task):
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW)
    step = loop_step_complete(
        actor=users.grid_worker,
        step=steps["visit"],
        outcome="wrong_address",
        note="实住二组",
        now=NOW,
    )
    assert step.done_at == NOW


@pytest.mark.parametrize("role", ["village_officer", "town_officer", "commander"])
def test_officers_in_scope_may_complete_steps(users, task, role):
    step = loop_step_complete(actor=getattr(users, role), step=_steps(task)["ack"], now=NOW)
    assert step.done_by == getattr(users, role)


@pytest.mark.parametrize("role", ["leader", "epidemiologist", "admin", "lab_staff"])
def test_other_roles_may_not_complete_steps(users, task, role):
    with pytest.raises(Forbidden):
        loop_step_complete(actor=getattr(users, role), step=_steps(task)["ack"], now=NOW)


@pytest.mark.parametrize("role", ["other_grid_worker", "other_town_officer"])
def test_out_of_scope_steps_are_not_found(users, task, role):
    with pytest.raises(NotFound):
        loop_step_complete(actor=getattr(users, role), step=_steps(task)["ack"], now=NOW)
    assert not LoopStep.objects.filter(done_at__isnull=False).exists()


def test_a_cancelled_order_closes_the_task(users, task):
    order_cancel(actor=users.commander, order=task.order, reason="登记有误", now=NOW)
    with pytest.raises(Conflict):
        loop_step_complete(actor=users.grid_worker, step=_steps(task)["ack"], now=NOW)


# --- escalation with a fake clock ------------------------------------------------------------


def _levels(step) -> list[tuple[int, str]]:
    return list(
        LoopEscalation.objects.filter(step=step)
        .order_by("level")
        .values_list("level", "division_id")
    )


def test_nothing_escalates_before_the_deadline(task):
    assert loop_escalate(now=NOW + 2 * H) == 0  # ack due exactly now: not late yet
    assert not LoopEscalation.objects.exists()


def test_the_village_is_told_a_minute_after_the_deadline(county, task):
    ack = _steps(task)["ack"]
    assert loop_escalate(now=NOW + 2 * H + M) == 1
    ack.refresh_from_db()
    assert (ack.escalation, ack.escalated_at) == (1, NOW + 2 * H + M)
    assert _levels(ack) == [(1, county.village_a.code)]
    audit = AuditEvent.objects.get(verb="control.loop.escalate")
    assert audit.actor_id is None
    assert audit.data["village"] == 1


def test_the_town_after_town_after_hours(county, task):
    ack = _steps(task)["ack"]
    loop_escalate(now=NOW + 2 * H + M)
    assert loop_escalate(now=NOW + 2 * H + 4 * H - M) == 0
    assert loop_escalate(now=NOW + 2 * H + 4 * H) == 1
    assert _levels(ack) == [(1, county.village_a.code), (2, county.town_a.code)]


def test_the_county_after_county_after_hours(county, task):
    steps = _steps(task)
    loop_escalate(now=NOW + 2 * H + M)
    loop_escalate(now=NOW + 6 * H)
    # 12 h past the ack deadline; the visit deadline (NOW + 12 h) passed 2 h ago
    assert loop_escalate(now=NOW + 14 * H) == 2
    assert _levels(steps["ack"]) == [
        (1, county.village_a.code),
        (2, county.town_a.code),
        (3, county.root.code),
    ]
    assert _levels(steps["visit"]) == [(1, county.village_a.code)]


def test_a_late_tick_writes_every_level_it_skipped(county, task):
    ack = _steps(task)["ack"]
    assert loop_escalate(now=NOW + 2 * H + 12 * H) == 4  # ack: village+town+county, visit: village
    assert [lvl for lvl, _code in _levels(ack)] == [1, 2, 3]


def test_escalation_is_idempotent(task):
    first = loop_escalate(now=NOW + 20 * H)
    assert first > 0
    assert loop_escalate(now=NOW + 20 * H) == 0
    assert loop_escalate(now=NOW + 20 * H + M) == 0
    assert LoopEscalation.objects.count() == first


def test_done_steps_never_escalate(users, task):
    steps = _steps(task)
    loop_step_complete(actor=users.grid_worker, step=steps["ack"], now=NOW + H)
    assert loop_escalate(now=NOW + 5 * H) == 0
    loop_step_complete(
        actor=users.grid_worker, step=steps["visit"], outcome="verified", now=NOW + 13 * H
    )
    # the visit was done late, but it is done: only in_place can still escalate
    assert loop_escalate(now=NOW + 24 * H + M) == 1
    assert list(LoopEscalation.objects.values_list("step__kind", flat=True)) == ["in_place"]


def test_closed_tasks_never_escalate(users, task):
    order_cancel(actor=users.commander, order=task.order, reason="登记有误", now=NOW)
    assert loop_escalate(now=NOW + 48 * H) == 0


def test_settings_changes_apply_to_the_next_run(users, county, task):
    ack = _steps(task)["ack"]
    loop_escalate(now=NOW + 2 * H + M)
    loop_settings_update(actor=users.commander, town_after_hours=1, county_after_hours=2)
    assert loop_escalate(now=NOW + 3 * H) == 1
    assert loop_escalate(now=NOW + 4 * H) == 1
    assert [lvl for lvl, _code in _levels(ack)] == [1, 2, 3]


def test_new_clocks_set_the_deadlines_of_new_tasks(users, people, v9, county):
    loop_settings_update(actor=users.commander, ack_hours=1, visit_hours=4, in_place_hours=6)
    task = propose(users.commander, people.spouse, now=NOW).task
    ack = _steps(task)["ack"]
    assert ack.due_at == NOW + H
    assert loop_escalate(now=NOW + H + M) == 1


def test_a_village_level_task_escalates_to_itself_then_up(users, county, people, v9):
    task = propose(users.commander, people.head, now=NOW, division=county.village_a).task
    loop_escalate(now=NOW + 14 * H)
    ack = _steps(task)["ack"]
    assert _levels(ack) == [
        (1, county.village_a.code),
        (2, county.town_a.code),
        (3, county.root.code),
    ]


# --- settings --------------------------------------------------------------------------------


def test_settings_update_is_for_the_commander_and_admins(users, county):
    for role in ("grid_worker", "town_officer", "leader"):
        with pytest.raises(Forbidden):
            loop_settings_update(actor=getattr(users, role), ack_hours=1)
    row = loop_settings_update(actor=users.admin, ack_hours=1)
    assert (row.ack_hours, row.division_id, row.updated_by) == (1, county.root.code, users.admin)
    audit = AuditEvent.objects.get(verb="control.loop_settings.update")
    assert audit.data == {"changed": {"ack_hours": 1}}


def test_settings_update_refuses_bad_values(users, county):
    cases = [
        ({"ack_hours": 0}, "ack_hours"),
        ({"ack_hours": "两小时"}, "ack_hours"),
        ({"visit_hours": 1000}, "visit_hours"),
        ({"ack_hours": 20, "visit_hours": 10}, "visit_hours"),
        ({"town_after_hours": 12, "county_after_hours": 12}, "county_after_hours"),
        ({"bogus": 3}, "bogus"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            loop_settings_update(actor=users.commander, **values)
        assert field in exc.value.errors, values
    assert not LoopSettings.objects.exists()  # nothing written, not even the defaults


# --- command and task ------------------------------------------------------------------------


def test_loop_tick_command_prints_the_count(task):
    # the task was opened at NOW (2022): by the real clock its three steps are long overdue,
    # so each is told to the village, the town and the county at once
    out = io.StringIO()
    call_command("loop_tick", stdout=out)
    assert "新上报 9 条" in out.getvalue()
    out = io.StringIO()
    call_command("loop_tick", stdout=out)
    assert "新上报 0 条" in out.getvalue()


def test_loop_tick_task_runs_the_escalation(task):
    result = loop_tick_task.enqueue()
    assert result.return_value == {"escalated": LoopEscalation.objects.count()}
    assert LoopEscalation.objects.count() == 9
