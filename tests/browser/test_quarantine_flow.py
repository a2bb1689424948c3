"""A quarantine site's staff member runs one person's stay in Debian's chromium: on the site page
she assigns the person awaiting a room to the free room and sees the room occupied with the
person (masked as her role shows names); she records the morning and the evening temperature on
the site's check page and sees both recorded; on the order's release page she releases the
person and sees the certificate number (眉解隔〔YYYY〕N号) and its download link, and the room
is now awaiting disinfection. The public verification page of the certificate, opened without
logging in, says it is genuine, shows its dates and never the person's name.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

from conftest import PASSWORD, _user
from fangkong.accounts.roles import Role
from fangkong.control.models import ControlOrder, OrderStatus
from fangkong.core.timeutils import local_today
from fangkong.people.presenters import person_display
from fangkong.policy.models import PolicyEdition
from fangkong.quarantine import services_sites, services_tests
from fangkong.quarantine.models import Certificate, HealthCheck, Room, SamplingTask, Stay
from fangkong.quarantine.tests.helpers_tests import resolve_all
from fangkong.travel.tests.factories import activate
from tests.browser.support import BROWSER, launch, phone_page, shot, sync_api

pytestmark = BROWSER


def _world(county, users, people) -> SimpleNamespace:
    """A close contact (the household head) whose 7 days of centralized quarantine end today,
    both past test days resulted negative; a hotel in his town with one free room 101; a
    member of the hotel's staff."""
    activate("v9")
    today = local_today()
    start = today - dt.timedelta(days=6)
    order = ControlOrder.objects.create(
        person=people.head,
        division_id=people.head.division_id,
        category="close_contact",
        edition=PolicyEdition.objects.get(code="v9"),
        counts_from="last_exposure",
        anchor_date=start - dt.timedelta(days=1),
        start_date=start,
        end_date=today,
        phases=[
            {
                "kind": "centralized",
                "days": 7,
                "start": start.isoformat(),
                "end": today.isoformat(),
                "test_days": [
                    (today - dt.timedelta(days=5)).isoformat(),
                    (today - dt.timedelta(days=1)).isoformat(),
                ],
            }
        ],
        status=OrderStatus.ACTIVE,
        source_type="manual",
    )
    services_tests.tasks_sync(actor=None)  # the loop worker makes one task per test day
    resolve_all(order)  # the lab's results: all negative
    site = services_sites.site_create(
        actor=users.commander,
        data={
            "name": "眉县宾馆",
            "kind": "hotel",
            "division_code": county.town_a.code,
            "address": "齐镇1号",
            "manager_name": "刘经理",
            "manager_phone": "0917-5541234",
        },
    )
    services_sites.rooms_add(
        actor=users.commander, site=site, data={"numbers": ["101"], "floor": 1}
    )
    staff = _user("site_a", Role.SITE_STAFF, county.root)
    services_sites.staff_add(actor=users.commander, site=site, user_id=staff.pk, duty="medical")
    return SimpleNamespace(order=order, site=site, staff=staff, room=Room.objects.get(site=site))


def test_site_staff_checks_in_records_temperatures_and_releases(live_server, county, users, people):
    w = _world(county, users, people)
    shown = person_display(viewer=w.staff, person=people.head)["name"]  # as her role sees it
    expect = sync_api.expect
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = phone_page(browser, timeout_ms=15_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", w.staff.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()

            # 1. The site page: the person awaits a room; she puts him in room 101.
            page.goto(f"{live_server.url}/quarantine/sites/{w.site.pk}/")
            awaiting = page.locator("#awaiting tr", has_text=shown)
            expect(awaiting).to_contain_text("密切接触者")
            awaiting.locator("select[name=room_id]").select_option(label="101（0/1）")
            awaiting.locator("button[type=submit]").click()
            expect(page.get_by_role("alert")).to_contain_text("已安排入住 101")
            stay_row = page.locator("#stays tr", has_text=shown)
            expect(stay_row).to_contain_text("101")
            expect(page.locator("#awaiting")).to_contain_text("没有待安排的人员")
            expect(page.locator("span.badge", has_text="101")).to_have_attribute("title", "已入住")
            assert people.head.id_number not in page.inner_text("body")
            shot(page, "quarantine-01-assigned")

            # 2. The site's check page: the morning and the evening temperature.
            page.goto(f"{live_server.url}/quarantine/home/site/{w.site.pk}/checks/")
            row = page.locator("tbody tr", has_text=shown)
            expect(row).to_contain_text("101")
            page.select_option("select[name=slot]", "am")
            row.locator(f"input[name=t-{w.order.pk}]").fill("36.5")
            page.get_by_role("button", name="全部保存").click()
            expect(page.locator("body")).to_contain_text("已记录 1 人")
            row = page.locator("tbody tr", has_text=shown)
            expect(row.locator("td").nth(2)).to_contain_text("36.5")
            page.select_option("select[name=slot]", "pm")
            row.locator(f"input[name=t-{w.order.pk}]").fill("36.8")
            page.get_by_role("button", name="全部保存").click()
            expect(page.locator("body")).to_contain_text("已记录 1 人")
            row = page.locator("tbody tr", has_text=shown)
            expect(row.locator("td").nth(2)).to_contain_text("36.5")
            expect(row.locator("td").nth(3)).to_contain_text("36.8")
            shot(page, "quarantine-02-checks")

            # 3. The release page: release, the certificate number and its download link.
            page.goto(f"{live_server.url}/quarantine/tests/orders/{w.order.pk}/release/")
            expect(page.locator("body")).to_contain_text(shown)
            expect(page.locator("#missing")).to_have_count(0)
            page.get_by_role("button", name="解除隔离并签发证明").click()
            year = local_today().year
            notice = page.locator(".alert-success")
            expect(notice).to_contain_text(re.compile(rf"证明编号：眉解隔〔{year}〕\d+号"))
            download = notice.get_by_role("link", name="下载证明")
            expect(download).to_be_visible()
            assert re.search(r"/certificates/\d+", download.get_attribute("href") or "")
            shot(page, "quarantine-03-released")

            page.goto(f"{live_server.url}/quarantine/sites/{w.site.pk}/")
            expect(page.locator("#stays")).to_contain_text("暂无在住人员")
            expect(page.locator("span.badge", has_text="101")).to_have_attribute("title", "待消杀")
            expect(page.locator("span.badge", has_text="101")).to_contain_text("已消杀")
            shot(page, "quarantine-04-disinfection")

            assert errors == []
        finally:
            browser.close()

    # 4. The public verification page (its code from the certificate row), without logging in.
    certificate = Certificate.objects.get(order=w.order)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            public = phone_page(browser)  # a fresh context: no session cookie
            public.on("pageerror", lambda exc: errors.append(str(exc)))
            public.goto(f"{live_server.url}/q/{certificate.verify_code}/")
            card = public.locator("main")
            expect(card).to_contain_text("证明真实有效")
            expect(card).to_contain_text(certificate.number)
            expect(card).to_contain_text(w.order.start_date.isoformat())
            expect(card).to_contain_text(local_today().isoformat())
            text = public.inner_text("body")
            assert people.head.name not in text
            assert shown not in text
            assert people.head.id_number not in text
            shot(public, "quarantine-05-verify")
            assert errors == []
        finally:
            browser.close()

    w.order.refresh_from_db()
    assert w.order.status == OrderStatus.RELEASED
    stay = Stay.objects.get(order=w.order)
    assert stay.checked_out_at is not None
    assert stay.out_reason == Stay.OutReason.RELEASE
    assert sorted(HealthCheck.objects.filter(order=w.order).values_list("slot", flat=True)) == [
        "am",
        "pm",
    ]
    assert Room.objects.get(pk=w.room.pk).status == Room.Status.DISINFECTION
    assert certificate.number.startswith(f"眉解隔〔{local_today().year}〕")
    assert not SamplingTask.objects.filter(order=w.order).exclude(status="resulted").exists()
