"""Browser tests' fixtures: Debian's chromium driven by Playwright, a fresh page per test, screenshots for humans."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in the main thread, which makes Django refuse
# ORM calls from the test body unless told that this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def require_chromium() -> None:
    """Skip without Debian's chromium, except in CI where a missing browser is a failure."""
    if CHROMIUM.exists():
        return
    message = f"Debian's chromium is not installed at {CHROMIUM}; install it with `apt-get install chromium`."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module (never a downloaded one)."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context (own cookies), downloads accepted."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot for humans in test-artifacts/ (never asserted)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
