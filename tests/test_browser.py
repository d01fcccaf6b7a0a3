"""The coordinator's and counsel's main journeys in a real browser: Debian's chromium,
driven headless by Playwright (never a browser downloaded at run time)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_server import PASSWORD, Server, start

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (scripts/setup-env.sh installs Debian's "
                        "package)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    running = start(tmp_path_factory.mktemp("browser") / "home")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def _sign_in(browser: object, server: Server, user: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 720})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{server.url}/cases/fresh-case")
    assert page.url.endswith("/login")  # not signed in: sent to the sign-in page
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def test_coordinator_returns_every_outstanding_page_and_counsel_sees_it_kept(
        browser: object, server: Server, tmp_path: Path) -> None:
    context, page = _sign_in(browser, server, "fresh-coordinator")
    due = page.locator("section", has=page.get_by_role("heading",
                                                        name="Due in the next 14 days"))
    assert "return-documents" in due.inner_text()

    page.get_by_role("link", name="Mack A. West Jr. v. Noah Dizon").click()
    status = page.locator("#term-return-documents [data-status]")
    assert status.get_attribute("data-status") == "pending"
    page.get_by_role("link", name="Record viewed / returned pages").click()

    # Submitting without pages: the message sits next to the field.
    page.get_by_role("button", name="Record").click()
    error = page.locator("#pages-error")
    assert "Name at least one page" in error.inner_text()
    assert page.get_by_label("Pages (Bates ranges, e.g. D-18..D-28, D-30)").get_attribute(
        "aria-invalid") == "true"

    page.get_by_label("All pages still out", exact=False).check()
    page.get_by_role("radio", name="Pages returned").check()
    page.get_by_role("button", name="Record").click()
    page.wait_for_url(lambda url: "/cases/fresh-case?notice=" in url)
    assert "returned" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(tmp_path / "coordinator.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")
    context.close()

    context, page = _sign_in(browser, server, "fresh-counsel")
    page.goto(f"{server.url}/cases/fresh-case")
    assert page.locator("#term-return-documents [data-status]").get_attribute(
        "data-status") == "satisfied"
    returned = page.locator("#documents tr[data-page='D-27'] td").nth(6)  # Returned column
    assert returned.inner_text() != ""
    assert "OUT" not in page.locator("#documents").inner_text()
    context.close()


def test_small_laptop_screen_has_no_horizontal_page_scroll(browser: object,
                                                           server: Server) -> None:
    context, page = _sign_in(browser, server, "fresh-counsel")
    page.set_viewport_size({"width": 1024, "height": 640})
    page.goto(f"{server.url}/cases/fresh-case")
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0
    context.close()
