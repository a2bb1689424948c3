"""What every browser test shares: Debian's chromium (never `playwright install`), the skip
when it is missing, screenshots under var/screenshots/ (git-ignored), a phone-sized page."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-component-update"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 375, "height": 812}

# `pytestmark = BROWSER` in a test module: marked `browser`, skipped without chromium.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="浏览器测试已跳过：未安装 /usr/bin/chromium"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def phone_page(browser, *, timeout_ms: int = 10_000):
    """A new page as a phone shows it, in Chinese."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return page


def assert_fits_phone(page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
