"""The grid worker's inbox on a phone (375 px wide), in Debian's chromium: acknowledge, visit,
"措施已落实", each a tap that swaps the card, ending with an active order.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import PASSWORD
from fangkong.control.models import ControlOrder
from fangkong.core import timeutils

from .factories import propose

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-component-update"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="浏览器测试已跳过：未安装 /usr/bin/chromium"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"loop-{name}.png"), full_page=True)


def _fits(page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width} px wide"


def test_grid_worker_puts_the_measure_in_place_from_a_phone(live_server, users, people, v9):
    today = timeutils.local_today()
    outcome = propose(
        users.commander, people.head, anchor=today - dt.timedelta(days=1), found_on=today
    )
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
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
