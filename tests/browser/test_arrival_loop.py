"""The core loop end to end, in Debian's chromium: a person arriving from a high-risk area
reports through the village's QR page on a phone; the grid worker of the destination grid finds
the task in their inbox, acknowledges it, visits, and puts the proposed measure in place, which
makes the order active.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import re

from conftest import PASSWORD
from fangkong.control.models import ControlOrder, LoopTask
from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.policy.models import PolicyEdition
from fangkong.policy.services import edition_activate
from fangkong.travel.models import TravelRegistration
from fangkong.travel.sweep import risk_area_declare
from tests.browser.support import BROWSER, launch, phone_page, shot, sync_api

pytestmark = BROWSER

ARRIVING_ID = make_resident_id("610326", dt.date(1993, 4, 12), 27)


def _shot(page, name: str) -> None:
    shot(page, f"arrival-loop-{name}")


def _phone(browser):
    return phone_page(browser)


def test_an_arrival_goes_from_the_qr_page_to_an_active_order(live_server, county, users):
    today = local_today()
    edition_activate(
        actor=users.commander,
        edition=PolicyEdition.objects.get(code="v9"),
        effective_from=dt.date(2022, 6, 28),
        reason="演示：第九版",
    )
    risk_area_declare(
        actor=users.commander,
        level="high",
        region_code="110105",
        start_date=today - dt.timedelta(days=10),
        notice="北京市朝阳区高风险区",
    )
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # 1. The resident scans the village's QR code and reports.
            page = _phone(browser)
            page.goto(f"{live_server.url}/r/{county.village_a.code}/")
            page.fill("#id_name", "孙来返")
            page.fill("#id_id_number", ARRIVING_ID)
            page.fill("#id_phone", "13587654321")
            page.select_option("#origin-province", label="北京市")
            page.select_option("#origin-city", label="市辖区")
            page.select_option("#origin-county", label="朝阳区")
            page.fill("#id_left_on", (today - dt.timedelta(days=1)).isoformat())
            page.fill("#id_arrived_on", today.isoformat())
            page.select_option("#id_transport", "train")
            page.fill("#id_vehicle_no", "G87")
            page.select_option("#id_destination_code", county.grid_a.code)
            page.fill("#id_destination_address", "齐镇村一组30号")
            _shot(page, "01-report")
            page.click("button[type=submit]")
            expect(page.locator("#receipt-code")).to_have_text(re.compile(r"^[A-Z2-9]{8}$"))
            _shot(page, "02-receipt")

            # 2. The grid worker of grid A1a opens the inbox on their phone.
            page = _phone(browser)
            page.goto(live_server.url + "/loop/inbox/")
            page.fill("input[name=username]", users.grid_worker.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.goto(live_server.url + "/loop/inbox/")
            card = page.locator("[id^=task-]").filter(has_text="孙来返")
            expect(card).to_contain_text("高风险")
            _shot(page, "03-inbox")
            card.get_by_role("button", name="签收").click()
            card.locator("select[name=outcome]").select_option("verified")
            card.get_by_role("button", name="已上门核实").click()
            expect(card).to_contain_text("集中隔离医学观察")
            _shot(page, "04-visited")
            card.get_by_role("button", name="措施已落实").click()
            expect(card).to_contain_text("已办结")
            _shot(page, "05-in-place")
        finally:
            browser.close()

    registration = TravelRegistration.objects.get(person__id_number=ARRIVING_ID)
    assert registration.channel == "self_report"
    assert registration.risk_level == "high"
    order = ControlOrder.objects.get(pk=registration.order_id)
    assert order.status == "active"
    assert order.category == "high_risk_arrival"
    assert order.confirmed_by_id == users.grid_worker.pk
    # 9th edition: 7 days of centralized quarantine counted from leaving the area.
    assert [p["kind"] for p in order.phases] == ["centralized"]
    assert order.end_date == today - dt.timedelta(days=1) + dt.timedelta(days=7)
    task = LoopTask.objects.get(order=order)
    assert task.status == "done"
    assert task.division_id == county.grid_a.code
