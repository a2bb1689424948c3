"""An epidemiologist traces a case in Debian's chromium: on the case page the contacts section
finds the candidates (the case's spouse at home, a stranger checked in at the same market at
the same time) with their evidence in words; she confirms the spouse as a close contact and the
stranger as a general contact, each with a reason, and sees both in the decided lists. The
chain graph of the case's cluster is then drawn (an ECharts canvas, no script error) and its
list view names the two contacts.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt

from conftest import PASSWORD
from fangkong.control.models import ControlOrder
from fangkong.core.timeutils import local_today, now
from fangkong.places.models import CheckIn, Place
from fangkong.tracing import services_cases
from fangkong.tracing.models import Case, Cluster, Contact
from fangkong.travel.tests.factories import activate
from tests.browser.support import BROWSER, launch, shot, sync_api

pytestmark = BROWSER


def _world(county, users, people) -> Case:
    """A confirmed case (the household head) in a cluster, checked in at a market yesterday
    for an hour; the person of grid B1a there half an hour later, overlapping."""
    activate("v9")
    cluster = Cluster.objects.create(code="JJ-01", name="齐镇农贸市场聚集", division=county.grid_a)
    case = services_cases.case_create(  # with its investigation, as the "new case" form does
        actor=users.epidemiologist,
        data={
            "person_id": people.head.pk,
            "classification": "confirmed",
            "onset_date": local_today() - dt.timedelta(days=1),
            "report_date": local_today(),
            "cluster_id": cluster.pk,
        },
    )
    market = Place.objects.create(
        code="MKT70001", name="齐镇农贸市场", kind="market", division=county.grid_a, address="齐镇"
    )
    came = now() - dt.timedelta(days=1)
    for person, start in ((people.head, came), (people.other, came + dt.timedelta(minutes=30))):
        CheckIn.objects.create(
            place=market,
            person=person,
            name=person.name,
            id_number=person.id_number,
            checked_in_at=start,
            checked_out_at=start + dt.timedelta(hours=1),
            out_imputed=False,
            source="scan",
        )
    return case


def test_an_epidemiologist_confirms_contacts_and_sees_the_chain(live_server, county, users, people):
    case = _world(county, users, people)
    expect = sync_api.expect
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", users.epidemiologist.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()

            # The case page loads its contacts section; the investigator looks for candidates.
            page.goto(f"{live_server.url}/tracing/cases/{case.pk}/")
            section = page.locator("#contacts-section")
            expect(section.locator("#contacts-refresh")).to_be_visible()
            section.locator("#contacts-refresh").click()
            expect(section.locator("#contacts-notice")).to_contain_text("新增 2 人")
            candidates = section.locator("#candidate-table")
            spouse = candidates.locator("tr", has_text=people.spouse.name)
            stranger = candidates.locator("tr", has_text=people.other.name)
            expect(spouse).to_contain_text("同住")  # household evidence
            expect(stranger).to_contain_text("齐镇农贸市场")  # the place of the check-ins
            assert people.other.id_number not in section.inner_text()  # masked
            shot(page, "tracing-01-candidates")

            spouse.locator("input[name=reason]").fill("同住家庭成员，共同生活")
            spouse.locator("button[value=close]").click()
            expect(section.locator("#contacts-notice")).to_contain_text("已提出管控措施")
            stranger = section.locator("#candidate-table tr", has_text=people.other.name)
            stranger.locator("input[name=reason]").fill("同场所不同摊位，未近距离接触")
            stranger.locator("button[value=general]").click()
            expect(section.locator("#contacts-notice")).to_contain_text("一般接触者")
            expect(section.locator("#no-candidates")).to_be_visible()

            decided = section.locator("table.decided-table")
            close_row = decided.locator("tr", has_text=people.spouse.name)
            general_row = decided.locator("tr", has_text=people.other.name)
            expect(close_row).to_contain_text("同住家庭成员，共同生活")
            expect(general_row).to_contain_text("同场所不同摊位，未近距离接触")
            shot(page, "tracing-02-decided")

            # The chain graph of the case's cluster: drawn, and its list names both contacts.
            page.goto(f"{live_server.url}/tracing/chains/?cluster={case.cluster_id}")
            # The case and its two contacts (chains.js marks the box once it drew them).
            expect(page.locator("#chain-graph")).to_have_attribute("data-nodes", "3")
            expect(page.locator("#chain-graph canvas").first).to_be_visible()
            expect(page.locator("#chain-graph-status")).to_have_text("")
            table = page.locator("#chain-table")
            expect(table).to_contain_text(case.code)
            table.locator("details summary").first.click()
            expect(table.locator("li")).to_have_count(2)
            expect(table.locator("li", has_text=people.spouse.name[0])).to_contain_text(
                "密切接触者"
            )
            expect(table.locator("li", has_text=people.other.name[0])).to_contain_text("一般接触者")
            shot(page, "tracing-03-chain")
            assert errors == []
        finally:
            browser.close()

    decisions = dict(Contact.objects.filter(case=case).values_list("id_number", "status"))
    assert decisions == {people.spouse.id_number: "close", people.other.id_number: "general"}
    close = Contact.objects.get(case=case, status="close")
    assert ControlOrder.objects.get(pk=close.order_id).category == "close_contact"
