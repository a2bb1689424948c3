"""The public self-report page on a 375 px phone, in Debian's chromium: nothing wider than the
screen, the origin cascader (province -> city -> county) filling the region code, a bad
submission keeping what was typed, then the receipt.

Run with `pytest -m browser`; skipped when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import re

from fangkong.core.timeutils import local_today
from fangkong.travel.models import TravelRegistration
from tests.browser.support import BROWSER, assert_fits_phone, launch, shot, sync_api

from .factories import GRID_A2, NEW_ID

pytestmark = BROWSER


def _shot(page, name: str) -> None:
    shot(page, f"selfreport-{name}")


def _no_horizontal_scroll(page) -> None:
    assert_fits_phone(page)


def test_a_phone_reports_an_arrival_through_the_village_qr(live_server, county):
    expect = sync_api.expect
    left = (local_today() - dt.timedelta(days=3)).isoformat()
    arrived = (local_today() - dt.timedelta(days=1)).isoformat()
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(
                viewport={"width": 375, "height": 812},
                locale="zh-CN",
                is_mobile=True,
                has_touch=True,
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{live_server.url}/r/610326107201/")
            expect(page.locator("#origin-cascader")).to_be_visible()  # JavaScript took over
            expect(page.locator("#origin-code-fallback")).to_be_hidden()
            _no_horizontal_scroll(page)
            _shot(page, "01-form")

            page.fill("#id_name", "赵新来")
            page.fill("#id_id_number", NEW_ID)
            page.fill("#id_phone", "1351234")  # too short: the page says so, keeps the rest
            page.select_option("#origin-province", label="北京市")
            page.select_option("#origin-city", label="市辖区")
            page.select_option("#origin-county", label="朝阳区")
            expect(page.locator("#id_origin_code")).to_have_value("110105")
            page.fill("#id_left_on", left)
            page.fill("#id_arrived_on", arrived)
            page.select_option("#id_transport", "train")
            page.fill("#id_vehicle_no", "G1002")
            page.select_option("#id_destination_code", GRID_A2)
            page.fill("#id_destination_address", "齐镇村二组6号")
            page.click("button[type=submit]")

            expect(page.locator("[data-field=phone]")).to_contain_text("手机号")
            expect(page.locator("#id_name")).to_have_value("赵新来")
            expect(page.locator("#origin-county")).to_have_value("110105")
            _no_horizontal_scroll(page)
            _shot(page, "02-error")

            page.fill("#id_phone", "13512345678")
            page.click("button[type=submit]")
            expect(page.locator("#receipt-code")).to_have_text(re.compile(r"^[A-Z2-9]{8}$"))
            receipt = page.locator("#receipt-code").inner_text()
            _no_horizontal_scroll(page)
            _shot(page, "03-receipt")
        finally:
            browser.close()
    # (the database is read outside Playwright's event loop)
    reg = TravelRegistration.objects.get()  # one: the bad submission wrote nothing
    assert reg.receipt_code == receipt
    assert (reg.origin_code, reg.destination_division_id) == ("110105", GRID_A2)
