"""A town officer logs in, finds a person and opens the household, in Debian's chromium.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing (never
`playwright install`: the browser is the operating system's). Screenshots of every step go to
var/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from conftest import PASSWORD
from tests.browser.support import BROWSER, launch, shot, sync_api

pytestmark = BROWSER


def _shot(page, name: str) -> None:
    shot(page, f"people-{name}")


def test_town_officer_finds_a_person_and_opens_the_household(live_server, users, people):
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(10_000)

            page.goto(live_server.url + "/")
            expect(page.locator("input[name=password]")).to_be_visible()
            _shot(page, "01-login")
            page.fill("input[name=username]", users.town_officer.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            expect(page.locator("input[name=password]")).to_have_count(0)
            _shot(page, "02-home")

            page.get_by_role("link", name="人员", exact=True).first.click()
            expect(page).to_have_url(f"{live_server.url}/people/")
            results = page.locator("#people-results")
            expect(results).to_contain_text("李秀英")
            page.fill("#people-q", "张建国")  # htmx swaps the results while typing
            expect(results).not_to_contain_text("李秀英")
            expect(results.get_by_role("link", name="张建国")).to_be_visible()
            expect(page).to_have_url(re.compile(r"/people/\?q=" + re.escape(quote("张建国"))))
            _shot(page, "03-search")

            results.get_by_role("link", name="张建国").click()
            expect(page.locator("#person-name")).to_contain_text("张建国")
            expect(page.locator("#person-id-number")).to_contain_text("**********")
            _shot(page, "04-person")

            page.click("#household-link")
            expect(page.locator("#household-address")).to_contain_text("眉县齐镇齐镇村一组12号")
            members = page.locator("#household-members")
            expect(members).to_contain_text("张建国")
            expect(members).to_contain_text("李秀英")
            expect(members).to_contain_text("户主")
            expect(members).to_contain_text("配偶")
            household_url = page.url
            _shot(page, "05-household")

            members.get_by_role("link", name="张建国").click()
            page.get_by_role("button", name="查看完整信息").click()
            expect(page.locator("#reveal-box")).to_have_class(re.compile(r"\bshow\b"))
            page.fill("textarea[name=reason]", "流调核实身份")
            _shot(page, "06-reveal-reason")
            page.get_by_role("button", name="确认查看").click()
            expect(page.locator("#person-id-number")).to_have_text(people.head.id_number)
            expect(page.locator("#reveal-notice")).to_be_visible()
            _shot(page, "07-revealed")

            page.goto(live_server.url + "/people/new/")
            page.fill("input[name=name]", "赵六")
            page.fill("input[name=id_number]", "360426199101010072")
            page.get_by_role("button", name="保存").click()
            expect(page.locator("#id_id_number_error")).to_be_visible()
            expect(page.locator("input[name=name]")).to_have_value("赵六")
            _shot(page, "08-create-error")

            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                storage_state=context.storage_state(),
            ).new_page()
            phone.goto(live_server.url + "/people/")
            expect(phone.locator("#people-results")).to_contain_text("李秀英")
            _shot(phone, "09-phone-search")
            phone.goto(household_url)
            expect(phone.locator("#household-members")).to_contain_text("李秀英")
            _shot(phone, "10-phone-household")
        finally:
            browser.close()
