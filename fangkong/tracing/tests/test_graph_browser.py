"""The chains page in Debian's chromium: a cluster of 3,000 nodes is drawn from the server's
layout (no layout in the browser), without a script error, and a click on a case opens it.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots go to
var/screenshots/ (git-ignored).
"""

from __future__ import annotations

import time

from conftest import PASSWORD
from tests.browser.support import BROWSER, launch, shot, sync_api

from .test_graph import big_cluster

pytestmark = BROWSER

DRAWN = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chain-graph'));
  if (!chart) return 0;
  const option = chart.getOption();
  const series = option && option.series;
  return series && series.length ? series[0].data.length : 0;
}"""


def test_a_cluster_of_3000_nodes_is_drawn_without_errors(live_server, county, users):
    cluster = big_cluster(county)
    expect = sync_api.expect
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_server.url + "/accounts/login/")
            page.fill("input[name=username]", users.leader.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")

            started = time.monotonic()
            page.goto(f"{live_server.url}/tracing/chains/?cluster={cluster.pk}")
            page.wait_for_function(f"({DRAWN})() === 3000")
            drawn_in = time.monotonic() - started
            expect(page.locator("#chain-graph canvas").first).to_be_visible()
            expect(page.locator("#chain-graph-status")).to_have_text("")
            expect(page.locator("#chain-table")).to_contain_text("眉病〔2022〕100号")
            shot(page, "chains-3000")
            assert errors == []
            assert drawn_in < 15, f"drawing 3,000 nodes took {drawn_in:.1f} s"
        finally:
            browser.close()
