"""A real browser for the UI tests: Debian's chromium driven by Playwright (its own browser download cannot work here)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

# A root container has no user namespaces for Chromium's sandbox, and /dev/shm may be small.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
WAIT_MS = 60_000  # how long a locator waits for the page: the code server may still be loading the definitions


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/setup.sh installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    yield context.new_page()
    context.close()
