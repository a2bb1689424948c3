"""The HQ declares a risk area with the province → city → county picker and sees what the
sweep found, in Debian's chromium (`pytest -m browser`; skipped without /usr/bin/chromium).
Screenshots go to var/screenshots/risk-*.png for a person to look at."""

from __future__ import annotations

from conftest import PASSWORD
from fangkong.policy.models import RiskArea
from tests.browser.support import BROWSER, assert_fits_phone, launch, phone_page, shot, sync_api

from .test_sweep_support import activate_edition, days, make_arrival

pytestmark = BROWSER


def _shot(page, name: str) -> None:
    shot(page, f"risk-{name}")


def _login(page, url: str, user) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    sync_api.expect(page.locator("input[name=password]")).to_have_count(0)


def test_the_hq_declares_an_area_and_sees_the_sweep(live_server, county, users):
    expect = sync_api.expect
    activate_edition(county)
    reg = make_arrival(county, left_on=days(-3), origin_address="北京市朝阳区松榆里社区5号楼")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="zh-CN"
            ).new_page()
            page.set_default_timeout(10_000)
            _login(page, live_server.url, users.commander)

            page.get_by_role("button", name="来返与闭环").click()  # the menu that holds it
            page.get_by_role("link", name="风险地区", exact=True).first.click()
            expect(page).to_have_url(f"{live_server.url}/risk-areas/")
            page.get_by_role("link", name="发布风险地区").click()
            page.select_option("#rc-province", label="北京市")
            page.select_option("#rc-city", label="市辖区")
            page.select_option("#rc-county", label="朝阳区")
            expect(page.locator("#id_region_code")).to_have_value("110105")
            expect(page.locator("#id_region_name")).to_have_value("北京市朝阳区")
            page.fill("#id_detail", "松榆里社区")
            page.fill("#id_start_date", days(-5).isoformat())
            page.fill("#id_notice", "北京市朝阳区通告")
            _shot(page, "01-form")
            page.get_by_role("button", name="发布并回溯排查").click()

            expect(page.locator("[data-testid=sweep-counts]")).to_contain_text("1")
            expect(page.locator("[data-testid=hit-table]")).to_contain_text(reg.person.name)
            expect(page.locator("[data-testid=hit-table]")).to_contain_text("已提出管控措施")
            _shot(page, "02-sweep")

            phone = phone_page(browser)
            _login(phone, live_server.url, users.commander)
            phone.goto(live_server.url + "/risk-areas/")
            expect(phone.locator("[data-testid=risk-table]")).to_contain_text("松榆里社区")
            assert_fits_phone(phone)
            _shot(phone, "03-list-phone")
        finally:
            browser.close()
    assert RiskArea.objects.get().detail == "松榆里社区"
