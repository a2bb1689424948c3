"""The grid worker's inbox on a phone (375 px wide), in Debian's chromium: acknowledge, visit,
"措施已落实", each a tap that swaps the card, ending with an active order.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt

from conftest import PASSWORD
from fangkong.control.models import ControlOrder
from fangkong.core import timeutils
from tests.browser.support import BROWSER, assert_fits_phone, launch, shot, sync_api

from .factories import propose

pytestmark = BROWSER


def _shot(page, name: str) -> None:
    shot(page, f"loop-{name}")


def _fits(page) -> None:
    assert_fits_phone(page)


def test_grid_worker_puts_the_measure_in_place_from_a_phone(live_server, users, people, v9):
    today = timeutils.local_today()
    outcome = propose(
        users.commander, people.head, anchor=today - dt.timedelta(days=1), found_on=today
    )
    expect = sync_api.expect
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
            page.goto(live_server.url + "/loop/inbox/")
            page.fill("input[name=username]", users.grid_worker.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.goto(live_server.url + "/loop/inbox/")
            card = page.locator(f"#task-{outcome.task.pk}")
            expect(card).to_contain_text("张建国")
            expect(card).to_contain_text("13912345678")
            expect(card.locator(".deadline").first).to_contain_text("剩")
            _fits(page)
            _shot(page, "01-inbox")

            card.get_by_role("button", name="签收").click()
            expect(card.locator("select[name=outcome]")).to_be_visible()
            _fits(page)
            _shot(page, "02-acknowledged")

            card.locator("select[name=outcome]").select_option("verified")
            card.get_by_role("button", name="已上门核实").click()
            expect(card.get_by_role("button", name="措施已落实")).to_be_visible()
            expect(card).to_contain_text("集中隔离医学观察")
            expect(card.get_by_role("link", name="调整措施")).to_be_visible()
            _fits(page)
            _shot(page, "03-visited")

            card.get_by_role("button", name="措施已落实").click()
            expect(card).to_contain_text("已办结")
            _fits(page)
            _shot(page, "04-in-place")
        finally:
            browser.close()
    order = ControlOrder.objects.get(pk=outcome.order.pk)
    assert order.status == "active"
    assert order.confirmed_by_id == users.grid_worker.pk
