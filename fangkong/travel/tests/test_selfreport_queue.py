"""The public page stores a submission and answers; the task worker registers it.

Here, as in production, nothing registers inline (LOOP_INLINE off), so the tests see the
submission wait, then run the processing themselves, or the loop worker command.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from fangkong.control.models import LoopTask
from fangkong.core.models import AuditEvent
from fangkong.travel import services
from fangkong.travel.models import SelfReport, TravelRegistration

from .factories import OTHER_NEW_ID, TODAY, activate, arrival_data

pytestmark = pytest.mark.django_db

WORKER = {**settings.FANGKONG, "LOOP_INLINE": False}  # as in production


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def submit(**overrides):
    return services.self_report_submit(data=arrival_data(**overrides))


@override_settings(FANGKONG=WORKER)
def test_the_page_only_stores_the_submission_and_the_worker_registers_it(county):
    activate()
    receipt = submit()
    report = SelfReport.objects.get()
    assert (report.status, report.receipt_code) == ("pending", receipt)
    assert report.payload["id_number"]  # kept until registered
    assert not TravelRegistration.objects.exists()
    assert submit() == receipt  # sent again before the worker ran: same receipt, no new row
    assert SelfReport.objects.count() == 1

    assert services.self_reports_process() == {"done": 1, "failed": 0}

    report.refresh_from_db()
    registration = TravelRegistration.objects.get()
    assert (report.status, report.registration_id, report.payload) == ("done", registration.pk, {})
    assert registration.receipt_code == receipt
    assert registration.channel == "self_report"
    # The grid worker's clock runs from when the person reported, not when the worker ran.
    task = LoopTask.objects.get()
    assert task.opened_at == report.submitted_at
    assert AuditEvent.objects.filter(verb="travel.self_report.process").count() == 1
    assert submit() == receipt  # and after it ran
    assert TravelRegistration.objects.count() == 1


@override_settings(FANGKONG=WORKER)
def test_a_submission_that_cannot_be_registered_is_kept_with_its_reason(county):
    activate()
    good = submit()
    bad = submit(id_number=OTHER_NEW_ID, phone="13600000000")
    # The grid chosen on the page was removed before the worker got to it.
    report = SelfReport.objects.get(receipt_code=bad)
    report.payload["destination_code"] = "610326107201099"
    report.save()

    assert services.self_reports_process() == {"done": 1, "failed": 1}

    assert TravelRegistration.objects.get().receipt_code == good
    report.refresh_from_db()
    assert report.status == "failed"
    assert "destination_code" in report.error
    assert report.payload["id_number"] == OTHER_NEW_ID  # nothing the person typed is lost


@override_settings(FANGKONG=WORKER)
def test_the_task_drains_the_whole_backlog(county):
    activate()
    for day in range(3):
        submit(arrived_on=(TODAY - dt.timedelta(days=day)).isoformat())
    assert SelfReport.objects.filter(status="pending").count() == 3
    out = io.StringIO()
    call_command("loop_worker", "--once", stdout=out)
    assert "登记扫码报备 3 条，失败 0 条" in out.getvalue()
    assert TravelRegistration.objects.count() == 3
    assert not SelfReport.objects.filter(status="pending").exists()


@override_settings(FANGKONG=WORKER)
def test_the_hq_sees_what_waits_and_what_failed(county, users, login):
    activate()
    submit()
    bad = submit(id_number=OTHER_NEW_ID, phone="13600000000")
    SelfReport.objects.filter(receipt_code=bad).update(status="failed", error="destination_code")
    page = login(users.commander).get("/arrivals/hq/").content.decode()
    assert "待处理 1 条" in page
    assert "处理失败 1 条" in page
    assert bad in page
    assert OTHER_NEW_ID not in page
    page = login(users.town_officer).get("/arrivals/hq/").content.decode()
    assert "hq-selfreport-queue" not in page


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="UNLOGGED tables are PostgreSQL's",
)
def test_rate_counters_are_unlogged_on_postgresql():
    """Counters need no crash safety; an unlogged table lets their upsert commit without
    waiting for the disk (the submission itself is flushed as before)."""
    from django.db import connection

    from fangkong.travel.models import RateCounter

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s",
            [RateCounter._meta.db_table],
        )
        assert cursor.fetchone()[0] == "u"
