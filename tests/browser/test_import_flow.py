"""A town officer uploads a roster with bad rows, watches the job finish, downloads the error
file, and exports the people list; in Debian's chromium.

Run with `pytest -m browser`. Skipped when /usr/bin/chromium is missing. Screenshots of every
step go to var/screenshots/import-*.png for a person to look at.

The upload has more rows than IMPORT_INLINE_MAX_ROWS, so it goes to the task queue; the test
settings' ImmediateBackend runs the task when the upload commits. A second job is left pending
and run from the test while the page polls: the progress requests are passed through
Playwright (route.fetch), so the live server only touches the shared in-memory database while
the test waits in a Playwright call, never at the same time as the test's own run.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

from conftest import PASSWORD
from fangkong.core.tests.idgen import make_resident_id
from fangkong.imports import services
from fangkong.people.models import Person
from tests.browser.support import BROWSER, launch, shot, sync_api

pytestmark = BROWSER

HEADER = ["姓名", "证件号码", "性别", "出生日期", "手机号", "现住址", "网格编码"]
GRID_A = "610326107201001"


def _shot(page, name: str) -> None:
    shot(page, f"import-{name}")


def _roster(path: Path) -> tuple[Path, list[str]]:
    """A county-style sheet: a title row above the header, 6 good rows, 2 bad ones."""
    rows = []
    for n in range(6):
        born = dt.date(1960 + n, 1 + n, 10 + n)
        number = make_resident_id("610326", born, 301 + 2 * n)
        rows.append(
            [
                f"吴{'一二三四五六'[n]}",
                number,
                "男",
                born.isoformat(),
                f"1390000{n:04d}",
                f"眉县齐镇齐镇村一组{20 + n}号",
                GRID_A,
            ]
        )
    good = make_resident_id("610326", dt.date(1977, 7, 7), 401)
    bad_checksum = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows.append(
        [
            "郑错号",
            bad_checksum,
            "男",
            "1977-07-07",
            "13900009991",
            "眉县齐镇齐镇村一组30号",
            GRID_A,
        ]
    )
    rows.append(
        [
            "郑错电话",
            make_resident_id("610326", dt.date(1978, 8, 8), 403),
            "男",
            "1978-08-08",
            "1390000",
            "眉县齐镇齐镇村一组31号",
            GRID_A,
        ]
    )
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("花名册")
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, "齐镇齐镇村一组人员花名册")
    text = book.add_format({"num_format": "@"})
    for c, label in enumerate(HEADER):
        sheet.write_string(1, c, label)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, text)
    book.close()
    return path, ["郑错号", "郑错电话"]


def _read(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_upload_watch_progress_download_errors_and_export(
    live_server, users, people, settings, tmp_path, monkeypatch
):
    # Playwright's sync API keeps an event loop on this thread; the ORM calls the test makes
    # between browser steps are ordinary blocking calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FANGKONG = {**settings.FANGKONG, "IMPORT_INLINE_MAX_ROWS": 3}
    roster, bad_names = _roster(tmp_path / "齐镇一组花名册.xlsx")
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
            )
            page = context.new_page()
            page.set_default_timeout(10_000)

            page.goto(live_server.url + "/")
            page.fill("input[name=username]", users.town_officer.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            expect(page.locator("input[name=password]")).to_have_count(0)

            page.get_by_role("button", name="基础数据").click()  # the menu that holds it
            page.get_by_role("link", name="导入", exact=True).first.click()
            expect(page).to_have_url(f"{live_server.url}/imports/")
            expect(page.locator("#job-table")).to_contain_text("还没有导入记录")
            _shot(page, "01-history-empty")

            page.get_by_role("link", name="导入名单").first.click()
            expect(page.locator("#import-columns")).to_contain_text("证件号码")
            expect(page.locator("select[name=kind]")).to_have_value("people")
            _shot(page, "02-upload-form")

            page.set_input_files("input[name=file]", str(roster))
            page.get_by_role("button", name="上传并导入").click()

            # The job ran in the task queue; the page shows where it ended.
            expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
            expect(page.locator("#job-state")).to_contain_text("完成")
            bar = page.locator("#job-progress .progress-bar")
            expect(bar).to_have_text("100 %")
            expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
            expect(page.locator('[data-stat="created"]')).to_have_text("6")
            expect(page.locator('[data-stat="errors"]')).to_have_text("2")
            bad_table = page.locator("#bad-rows")
            expect(bad_table.locator("tbody tr")).to_have_count(2)
            expect(bad_table).to_contain_text("郑错号")
            expect(bad_table.locator('tr[data-row="9"]')).to_contain_text("证件号码")
            expect(bad_table.locator('tr[data-row="10"]')).to_contain_text("手机号")
            _shot(page, "03-job-done")
            job_url = page.url
            assert Person.objects.filter(name__startswith="吴").count() == 6

            with page.expect_download() as download_info:
                page.click("#job-errors-download")
            download = download_info.value
            assert download.suggested_filename == "齐镇一组花名册_错误行.xlsx"
            saved = tmp_path / "errors.xlsx"
            download.save_as(str(saved))
            header, *rows = _read(saved)
            assert header == [*HEADER, "错误原因"]
            assert [row[0] for row in rows] == bad_names
            assert "证件号码" in rows[0][-1]
            assert "手机号" in rows[1][-1]
            assert rows[1][4] == "1390000"  # the cell as the user wrote it

            page.get_by_role("link", name="导入记录").first.click()
            expect(page.locator("#job-table tbody tr")).to_have_count(1)
            expect(page.locator("#job-table")).to_contain_text("齐镇一组花名册.xlsx")
            _shot(page, "04-history")

            # A job waiting for the worker: the page polls, and follows it to the end.
            pending = services.import_job_create(
                actor=users.town_officer,
                kind="people",
                upload=io.BytesIO(roster.read_bytes()),
                filename="第二批.xlsx",
            )
            polls: list[str] = []

            def through_playwright(route):
                polls.append(route.request.url)
                route.fulfill(response=route.fetch())

            page.route("**/progress/", through_playwright)
            page.goto(f"{live_server.url}/imports/{pending.pk}/")
            status = page.locator("#job-status")
            expect(status).to_have_attribute("data-status", "pending")
            expect(bar).to_have_text("0 %")
            expect(page.locator("#job-status")).to_have_attribute("hx-trigger", "every 1s")
            page.wait_for_timeout(1500)
            assert polls, "the page did not poll while the job was pending"
            _shot(page, "05-pending")
            services.import_job_run(actor=users.town_officer, job=pending)
            expect(status).to_have_attribute("data-status", "done", timeout=5_000)
            expect(bar).to_have_text("100 %")
            expect(page.locator("#job-state")).to_contain_text("完成")
            expect(page.locator('[data-stat="unchanged"]')).to_have_text("6")  # same rows again
            expect(page.locator('[data-stat="created"]')).to_have_text("0")
            _shot(page, "06-polled-to-done")
            seen = len(polls)
            page.wait_for_timeout(2500)
            assert len(polls) == seen, "the page kept polling a finished job"
            page.unroute("**/progress/")

            # Export the list: masked by default, full with a reason.
            page.goto(live_server.url + "/people/?q=吴")
            expect(page.locator("#people-results")).to_contain_text("吴一")
            with page.expect_download() as download_info:
                page.click("#export-masked")
            masked = tmp_path / "masked.xlsx"
            download_info.value.save_as(str(masked))
            header, *rows = _read(masked)
            assert {dict(zip(header, r, strict=False))["姓名"] for r in rows} >= {"吴一", "吴六"}
            assert all("*" in str(dict(zip(header, r, strict=False))["证件号码"]) for r in rows)
            page.click("#export-full-open")
            page.fill("#export-reason", "核对一组人员名单")
            _shot(page, "07-export-reason")
            with page.expect_download() as download_info:
                page.click("#export-full-submit")
            full = tmp_path / "full.xlsx"
            download_info.value.save_as(str(full))
            header, *rows = _read(full)
            numbers = {str(dict(zip(header, r, strict=False))["证件号码"]) for r in rows}
            assert all("*" not in n for n in numbers)

            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                locale="zh-CN",
                is_mobile=True,
                has_touch=True,
                storage_state=context.storage_state(),
            ).new_page()
            phone.goto(job_url)
            expect(phone.locator("#job-state")).to_contain_text("完成")
            _shot(phone, "08-phone-job")
            phone.goto(live_server.url + "/imports/new/")
            expect(phone.locator("input[name=file]")).to_be_visible()
            _shot(phone, "09-phone-upload")
        finally:
            browser.close()
