"""A visitor scans a market's venue code on a phone, in Debian's chromium: the first visit asks
for name and ID number; the phone remembers them, so the next scan is one tap; the answer shows
the time in and a check-out button, which records the time out.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import datetime as dt

from fangkong.core.tests.idgen import make_resident_id
from fangkong.places.models import CheckIn, Place
from tests.browser.support import BROWSER, assert_fits_phone, launch, phone_page, shot, sync_api

pytestmark = BROWSER

VISITOR_ID = make_resident_id("610326", dt.date(1985, 7, 7), 17)


def test_a_phone_checks_in_remembers_the_visitor_and_checks_out(live_server, county):
    place = Place.objects.create(
        code="MKT34567",
        name="齐镇农贸市场",
        kind="market",
        division=county.village_a,
        address="齐镇街道1号",
    )
    url = f"{live_server.url}/v/{place.code}/"
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = phone_page(browser)
            page.goto(url)
            expect(page.locator("#place-name")).to_have_text("齐镇农贸市场")
            assert_fits_phone(page)
            page.fill("#id_name", "钱来逛")
            page.fill("#id_id_number", VISITOR_ID)
            shot(page, "checkin-01-first-visit")
            page.click("#checkin-button")
            expect(page.locator("#checked-in-at")).to_be_visible()
            assert_fits_phone(page)
            shot(page, "checkin-02-checked-in")

            # The next scan, on the same phone: remembered, one tap.
            page.context.clear_cookies()  # as on another day: no "already here" cookie
            page.goto(url)
            expect(page.locator("#remembered-name")).to_contain_text("钱")
            expect(page.locator("#identity-fields")).to_be_hidden()
            shot(page, "checkin-03-remembered")
            page.click("#checkin-button")
            expect(page.locator("#checked-in-at")).to_be_visible()
            page.locator("#checkout-form button").click()
            expect(page.locator("body")).to_contain_text("离开")
            shot(page, "checkin-04-checked-out")
        finally:
            browser.close()
    checkins = list(CheckIn.objects.order_by("pk"))
    assert len(checkins) == 2
    assert {c.id_number for c in checkins} == {VISITOR_ID}
    assert checkins[0].out_imputed
    assert not checkins[1].out_imputed  # scanned out
