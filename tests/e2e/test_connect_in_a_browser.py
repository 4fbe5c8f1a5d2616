"""A real browser connects a company through the emulator's consent page, then disconnects it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from addon import bootstrap
from tests.conftest import free_port
from tests.integration.connection.conftest import _close, emulator_container
from webapp import create_app

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.e2e


class _PathOnlyLog(WSGIRequestHandler):
    """Logs requests without their query string: the OAuth callback's carries an authorization code."""

    def log_request(self, code="-", size="-"):
        self.log("info", '"%s %s" %s', self.command, self.path.split("?", 1)[0], code)


@pytest.fixture
def site(tmp_path, sqlite_database_url, redis_url, emulator):
    """autobill's web app served on a free port, wired to the emulator; yields (base URL, container)."""
    port = free_port()
    container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator, AUTOBILL_WEB_PORT=str(port))
    bootstrap.set_current(container)
    server = make_server("127.0.0.1", port, create_app(container), threaded=True, request_handler=_PathOnlyLog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", container
    finally:
        server.shutdown()
        thread.join(10)
        bootstrap.set_current(None)
        _close(container)


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing (make test installs it)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_a_person_connects_a_company_in_a_browser_and_disconnects_it(site, page, emulator):
    base, container = site
    page.goto(f"{base}/companies")
    page.click("text=Connect to QuickBooks")
    page.wait_for_url(f"{emulator.url}/oauth2/authorize*")
    page.fill("#company_name", "Northwind IT")
    page.fill("#email", "nora@northwind.example")
    page.click("button[value=allow]")
    page.wait_for_url(f"{base}/companies/co_*")
    assert page.locator("h1").inner_text() == "Northwind IT"
    assert "your role: admin" in page.content()
    [company] = container.companies.list()
    assert company.status == "connected"

    page.click("text=Disconnect from QuickBooks")
    page.wait_for_selector("text=Reconnect to QuickBooks")
    assert container.companies.get(company.id).status == "disconnected"
    assert not any(token in page.content() for token in emulator.control.issued_tokens())
