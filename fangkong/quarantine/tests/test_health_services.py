"""Health checks, alerts (fever hand-over, missed-check scan, escalation, resolve) and
personal links, through the services with a fake clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.control.models import OrderStatus
from fangkong.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.quarantine import selectors_health as sel
from fangkong.quarantine import services_health as svc
from fangkong.quarantine.models import Alert, HealthCheck

from .test_health_support import (  # noqa: F401
    NOW,
    make_order,
    orders_fixture,
    site_staff_fixture,
)

DAY = NOW.date()


def record(actor, order, **kw):
    values = {"day": DAY, "slot": "am", "temperature": "36.5", "symptoms": [], "now": NOW}
    values.update(kw)
    return svc.health_check_record(actor=actor, order=order, **values)


def test_grid_worker_records_a_normal_check(users, orders):
    check = record(users.grid_worker, orders.head)
    assert check.temperature == Decimal("36.5")
    assert not check.abnormal
    assert check.source == HealthCheck.Source.GRID_WORKER
    assert not Alert.objects.exists()
    event = AuditEvent.objects.get(verb="health_check.record")
    assert "36.5" not in str(event.data)


def test_fever_is_handed_over_at_once_and_first_on_the_hq_list(users, orders):
    record(users.grid_worker, orders.head, slot="am", temperature="36.6", symptoms=["cough"])
    record(users.grid_worker, orders.spouse, temperature="38.2")
    fever = Alert.objects.get(kind=Alert.Kind.FEVER)
    assert fever.handed_over_at == NOW
    assert fever.order_id == orders.spouse.pk
    assert Alert.objects.get(kind=Alert.Kind.SYMPTOM).handed_over_at == NOW
    assert HealthCheck.objects.get(order=orders.spouse).abnormal
    hq = list(sel.alert_list(viewer=users.commander))
    assert {a.kind for a in hq} == {"fever", "symptom"}
    # The grid worker sees them too (level 0); a village officer not yet (level 1 and up).
    assert len(sel.alert_list(viewer=users.grid_worker)) == 2
    assert len(sel.alert_list(viewer=users.village_officer)) == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"temperature": "45"}, "temperature"),
        ({"temperature": "abc"}, "temperature"),
        ({"symptoms": ["headache"]}, "symptoms"),
        ({"slot": "noon"}, "slot"),
        ({"day": DAY + dt.timedelta(days=1)}, "day"),
        ({"day": dt.date(2022, 6, 29)}, "day"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(users, orders, kw, field):
    with pytest.raises(ValidationFailed) as exc:
        record(users.grid_worker, orders.head, **kw)
    assert field in exc.value.errors
    assert not HealthCheck.objects.exists()


def test_an_order_no_longer_active_is_refused(users, orders):
    orders.head.status = OrderStatus.RELEASED
    orders.head.save()
    with pytest.raises(ValidationFailed) as exc:
        record(users.grid_worker, orders.head)
    assert exc.value.errors["order_id"] == ["该人员当前没有执行中的管控措施"]


def test_the_same_slot_twice_is_a_duplicate(users, orders):
    record(users.grid_worker, orders.head)
    with pytest.raises(Conflict) as exc:
        record(users.grid_worker, orders.head, temperature="36.8")
    assert exc.value.code == "duplicate"
    assert HealthCheck.objects.count() == 1


def test_who_may_record(users, orders, site_staff):
    with pytest.raises(NotFound):
        record(users.other_grid_worker, orders.head)
    with pytest.raises(Forbidden):
        record(users.lab_staff, orders.head)
    with pytest.raises(Forbidden):
        record(None, orders.head, source="grid_worker")
    # Site staff: only the people staying at their site.
    with pytest.raises(NotFound):
        record(site_staff.user, orders.head)
    check = record(site_staff.user, orders.other)
    assert check.source == HealthCheck.Source.SITE_STAFF
    assert record(users.commander, orders.head).source == HealthCheck.Source.OTHER
    assert record(None, orders.spouse, source="self").source == HealthCheck.Source.SELF


def test_batch_keeps_good_rows_and_reports_bad_ones_by_index(users, orders):
    record(users.grid_worker, orders.head, slot="pm")
    rows = [
        {"order_id": orders.head.pk, "day": "2022-07-02", "slot": "am", "temperature": "36.4"},
        {"order_id": orders.head.pk, "day": "2022-07-02", "slot": "pm", "temperature": "36.4"},
        {"order_id": orders.spouse.pk, "day": "2022-07-02", "slot": "am", "temperature": "50"},
        {"order_id": orders.other.pk, "day": "2022-07-02", "slot": "am", "temperature": "36"},
        {"order_id": orders.spouse.pk, "day": "2022-07-01", "slot": "pm", "temperature": "37.9"},
        {"order_id": orders.spouse.pk, "day": "2022-07-01", "slot": "pm", "temperature": "37.0"},
    ]
    result = svc.health_checks_record_bulk(actor=users.grid_worker, rows=rows, now=NOW)
    assert len(result["created"]) == 2
    assert result["duplicates"] == 2
    assert set(result["errors"]) == {2, 3}
    assert "temperature" in result["errors"][2]
    assert "order_id" in result["errors"][3]  # another grid's person: like missing
    assert Alert.objects.get().kind == Alert.Kind.FEVER
    assert AuditEvent.objects.filter(verb="health_check.record_bulk").count() == 1


def test_batch_queries_do_not_grow_with_rows(users, county, orders):
    from fangkong.control.tests.factories import many_people

    people = many_people(30, grids=[county.grid_a])
    batch = [make_order(p, start=dt.date(2022, 6, 30)) for p in people]

    def run(subset, slot):
        rows = [
            {"order_id": o.pk, "day": "2022-07-01", "slot": slot, "temperature": "38.0"}
            for o in subset
        ]
        with CaptureQueriesContext(connection) as ctx:
            result = svc.health_checks_record_bulk(actor=users.grid_worker, rows=rows, now=NOW)
        assert len(result["created"]) == len(subset), result
        return len(ctx.captured_queries)

    users.grid_worker.scope_codes()  # warms the viewer's scope
    assert run(batch[1:3], "am") == run(batch, "pm")


def test_missed_check_scan_escalation_and_late_check(users, orders):
    record(users.grid_worker, orders.head)
    at_noon = NOW.replace(hour=12, minute=5)
    assert svc.alerts_scan(now=NOW) == 0  # 09:00: not due yet
    assert svc.alerts_scan(now=at_noon) == 2  # spouse and other, not head
    assert svc.alerts_scan(now=at_noon) == 0  # idempotent
    missed = Alert.objects.filter(kind=Alert.Kind.MISSED_CHECK)
    assert {a.order_id for a in missed} == {orders.spouse.pk, orders.other.pk}
    assert svc.alerts_escalate(now=at_noon + dt.timedelta(hours=1)) == 0
    assert svc.alerts_escalate(now=at_noon + dt.timedelta(hours=3)) == 2
    assert svc.alerts_escalate(now=at_noon + dt.timedelta(hours=3)) == 0
    assert set(missed.values_list("level", flat=True)) == {Alert.Level.VILLAGE}
    assert len(sel.alert_list(viewer=users.village_officer)) == 1  # spouse: village A
    assert len(sel.alert_list(viewer=users.town_officer)) == 0
    assert svc.alerts_escalate(now=at_noon + dt.timedelta(hours=5)) == 2
    assert len(sel.alert_list(viewer=users.town_officer)) == 1
    assert svc.alerts_escalate(now=at_noon + dt.timedelta(hours=13)) == 2
    assert set(missed.values_list("level", flat=True)) == {Alert.Level.COUNTY}
    # A late check resolves the missed alert of that slot.
    record(users.grid_worker, orders.spouse, now=at_noon + dt.timedelta(hours=1))
    alert = Alert.objects.get(order=orders.spouse)
    assert alert.resolved_at is not None
    assert alert.resolution == "已补报"
    assert len(sel.alert_list(viewer=users.grid_worker)) == 0


def test_alert_resolve_needs_a_text(users, orders):
    svc.alerts_scan(now=NOW.replace(hour=13))
    alert = sel.access_alert_by_id(
        viewer=users.grid_worker, alert_id=Alert.objects.get(order=orders.head).pk
    )
    with pytest.raises(ValidationFailed) as exc:
        svc.alert_resolve(actor=users.grid_worker, alert=alert, resolution="  ")
    assert "resolution" in exc.value.errors
    svc.alert_resolve(actor=users.grid_worker, alert=alert, resolution="电话联系，已补测")
    with pytest.raises(Conflict):
        svc.alert_resolve(actor=users.grid_worker, alert=alert, resolution="再次")
    other = Alert.objects.get(order=orders.other)
    with pytest.raises(NotFound):
        sel.access_alert_by_id(viewer=users.grid_worker, alert_id=other.pk)


def test_link_replaces_the_older_one_and_holds_nothing_personal(users, orders, people):
    first = svc.health_link_create(actor=users.grid_worker, order=orders.head, now=NOW)
    second = svc.health_link_create(actor=users.grid_worker, order=orders.head, now=NOW)
    assert first.token != second.token
    assert len(second.token) >= 40
    assert sel.link_by_token(token=first.token) is None
    assert sel.link_by_token(token=second.token).order_id == orders.head.pk
    assert people.head.id_number not in second.token
    with pytest.raises(NotFound):
        svc.health_link_create(actor=users.other_grid_worker, order=orders.head)
    assert svc.health_link_revoke(actor=users.grid_worker, order=orders.head) == 1
    assert sel.link_by_token(token=second.token) is None


def test_the_hot_single_check_is_a_few_statements(users, orders):
    users.grid_worker.scope_codes()
    with CaptureQueriesContext(connection) as ctx:
        record(users.grid_worker, orders.head)
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) <= 3, sql  # settings, the insert, the audit event
