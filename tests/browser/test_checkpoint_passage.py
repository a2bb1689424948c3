"""A car passes a checkpoint, in Debian's chromium: the checkpoint staff register it on a phone
with two occupants (the origin is no risk area; the passenger has 38.2 ℃); the result page
shows the passenger in red with what to do; the grid worker of the destination grid finds the
passenger in their inbox.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import re

from conftest import PASSWORD
from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.control.models import LoopTask
from fangkong.core.tests.idgen import make_resident_id
from fangkong.core.timeutils import local_today
from fangkong.policy.models import PolicyEdition
from fangkong.policy.services import edition_activate
from fangkong.travel.models import Checkpoint, CheckpointPassage, TravelRegistration
from fangkong.travel.sweep import risk_area_declare
from tests.browser.support import BROWSER, launch, phone_page, shot, sync_api

pytestmark = BROWSER

DRIVER_ID = make_resident_id("330106", dt.date(1979, 6, 1), 13)
PASSENGER_ID = make_resident_id("330106", dt.date(1990, 9, 9), 24)


def _shot(page, name: str) -> None:
    shot(page, f"checkpoint-passage-{name}")


def _phone(browser):
    return phone_page(browser)


def _log_in(page, url: str, user) -> None:
    page.goto(url)
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(url)


def test_a_feverish_passenger_goes_from_the_barrier_to_the_grid_workers_inbox(
    live_server, county, users
):
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
    staff = User(
        username="kakou",
        role=Role.CHECKPOINT_STAFF,
        jurisdiction=county.root,
        display_name="卡口值守员",
    )
    staff.set_password(PASSWORD)
    staff.save()
    checkpoint = Checkpoint.objects.create(
        name="眉县高速出口卡口",
        kind=Checkpoint.Kind.HIGHWAY_EXIT,
        division=county.town_a,
        location="G30 眉县出口",
    )
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # 1. Checkpoint staff register a car from Hangzhou (no risk area) with two people.
            page = _phone(browser)
            _log_in(page, f"{live_server.url}/passages/new/?checkpoint={checkpoint.pk}", staff)
            expect(page.locator("#id_plate")).to_be_focused()
            page.locator("#id_plate").type("浙a12345")
            expect(page.locator("#id_plate")).to_have_value("浙A12345")
            page.select_option("#origin-province", label="浙江省")
            page.select_option("#origin-city", label="杭州市")
            page.select_option("#origin-county", label="西湖区")
            page.select_option("#id_destination_code", county.grid_a.code)
            page.fill("#id_destination_address", "齐镇村一组8号")
            page.fill("#id_purpose", "探亲")
            first = page.locator("#occupants .occupant").nth(0)
            first.locator("input[name=occ_name]").fill("钱司机")
            # A scanner types the number and Enter: the cursor lands on the phone.
            first.locator("input[name=occ_id_number]").type(DRIVER_ID)
            first.locator("input[name=occ_id_number]").press("Enter")
            expect(first.locator("input[name=occ_phone]")).to_be_focused()
            page.keyboard.type("13511112222")
            first.locator("input[name=occ_temperature]").fill("36.5")
            page.click("#add-occupant")
            second = page.locator("#occupants .occupant").nth(1)
            expect(second.locator("input[name=occ_name]")).to_be_focused()
            page.keyboard.type("孙发热")
            second.locator("input[name=occ_id_number]").fill(PASSENGER_ID)
            second.locator("input[name=occ_phone]").fill("13633334444")
            second.locator("input[name=occ_temperature]").fill("38.2")
            _shot(page, "01-form")
            page.click("#submit-passage")

            # 2. The result: the passenger in red, with what to do; the driver passes.
            flagged = page.locator("#occupant-2")
            expect(flagged).to_have_class(re.compile(r"occupant-flagged"))
            expect(flagged).to_contain_text("孙发热")
            expect(flagged).to_contain_text("发热门诊")
            expect(page.locator("#occupant-1")).to_have_class(re.compile(r"occupant-ok"))
            _shot(page, "02-result")
            page.click("#next-vehicle")
            expect(page.locator("#id_plate")).to_have_value("")

            # 3. The grid worker of grid A1a finds the passenger in the inbox.
            page = _phone(browser)
            _log_in(page, live_server.url + "/loop/inbox/", users.grid_worker)
            card = page.locator("[id^=task-]").filter(has_text="孙发热")
            expect(card).to_be_visible()
            _shot(page, "03-inbox")
        finally:
            browser.close()

    passage = CheckpointPassage.objects.get()
    assert passage.plate == "浙A12345"
    assert passage.flagged
    registration = TravelRegistration.objects.get()
    assert registration.person.id_number == PASSENGER_ID
    assert registration.channel == "checkpoint"
    assert registration.symptoms == "发热 38.2℃"
    assert LoopTask.objects.filter(division_id=county.grid_a.code).count() == 1
