"""A grid worker on a phone, in Debian's chromium: the daily list of people at home shows the
household head under home isolation with no morning temperature yet ("未报"); she opens
"记录体温" on his card (the form is copied in when the card opens), types 36.6 for the morning and
saves; the list now shows 36.6℃ for the morning. The person of the other grid is not listed.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import datetime as dt

from conftest import PASSWORD
from fangkong.core.timeutils import local_today
from fangkong.people.presenters import person_display
from fangkong.quarantine.models import HealthCheck
from fangkong.quarantine.tests.test_health_support import make_order
from tests.browser.support import BROWSER, launch, phone_page, shot, sync_api

pytestmark = BROWSER


def test_grid_worker_records_a_morning_check_from_the_home_list(live_server, county, users, people):
    start = local_today() - dt.timedelta(days=1)
    order = make_order(people.head, start=start)
    make_order(people.other, start=start)  # grid B: not on this worker's list
    shown = person_display(viewer=users.grid_worker, person=people.head)["name"]
    expect = sync_api.expect
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = phone_page(browser, timeout_ms=15_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", users.grid_worker.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()

            page.goto(f"{live_server.url}/quarantine/home/")
            card = page.locator(f"#order-{order.pk}")
            expect(card).to_contain_text(shown)
            expect(card).to_contain_text("未报")
            expect(page.locator("body")).not_to_contain_text(people.other.name)
            card.get_by_text("记录体温").click()
            form = card.locator("form")
            expect(form).to_have_count(1)
            form.locator("select[name=slot]").select_option("am")
            form.locator("input[name=temperature]").fill("36.6")
            form.get_by_role("button", name="保存").click()
            expect(page.get_by_role("alert")).to_contain_text("体温已记录")
            expect(page.locator(f"#order-{order.pk}")).to_contain_text("36.6℃")
            shot(page, "home-01-checked")
        finally:
            browser.close()
    assert not errors, errors
    check = HealthCheck.objects.get(order=order)
    assert (check.slot, str(check.temperature), check.source) == ("am", "36.6", "grid_worker")
