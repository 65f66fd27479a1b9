"""The console in a real browser: log in, add a demo integration, pause, resume, diagnostics, live refresh."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from hi.integrations.config import lifecycle, setup
from hi.integrations.models import Integration
from hi.integrations.testing.browser import browser, page, screenshot  # noqa: F401 - the browser and page fixtures
from hi.integrations.types import IntegrationType
from hi.services.demo.simulator import DemoSimulator
from hi.workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.browser

USERNAME = "op"
PASSWORD = "a-long-test-passphrase-42"
API_KEY = "demo-key"
MANAGE_URL = re.compile(r"/integrations/[0-9a-f-]{36}/$")
# The cards region polls every 5 s; one poll plus a margin.
LIVE_REFRESH_TIMEOUT_MS = 8_000


@pytest.fixture
def console(live_server) -> str:
    """The live server's base URL, speaking plain HTTP like `make run` on 127.0.0.1."""
    return live_server.url


@pytest.fixture
def default_workspace(console) -> Workspace:
    """The default workspace with an operator who can log in."""
    workspace = Workspace.objects.create(slug="default", name="Default")
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=Role.OPERATOR)
    return workspace


@pytest.fixture
def simulator() -> Iterator[DemoSimulator]:
    """The demo provider, on a free port of 127.0.0.1."""
    sim = DemoSimulator().start()
    yield sim
    sim.stop()


def log_in(page: Page, base_url: str) -> None:
    """Open the console, get sent to the login page, log in, land on the dashboard."""
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", name="Log in to hi")).to_be_visible()
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + "/")
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()


def state_badge(page: Page):
    """The state badge of the manage page."""
    return page.locator("#state .badge")


def test_add_pause_resume_and_download_diagnostics(
    console: str, default_workspace: Workspace, simulator: DemoSimulator, page: Page
) -> None:
    # Given an operator on an empty dashboard and a demo provider that is down
    log_in(page, console)
    expect(page.get_by_role("heading", name="No integrations yet")).to_be_visible()
    simulator.faults.status = 503

    # When they add a Demo provider integration
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add integration").click()
    page.locator("#type-list").get_by_role("link").filter(has_text="Demo provider").click()
    expect(page.get_by_role("heading", name="Add Demo provider")).to_be_visible()
    page.get_by_label("API URL").fill(simulator.url)
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Test and add").click()

    # Then the connection test fails next to the form, and nothing is saved
    error = page.locator(".form-error[role=alert]")
    expect(error).to_contain_text("Could not connect to the provider.")
    expect(error).to_have_attribute("data-error-code", "cannot_connect")
    expect(page.get_by_label("API URL")).to_have_value(simulator.url)
    expect(page.get_by_label("API key")).to_have_value("")  # secrets are write-only
    assert Integration.objects.count() == 0
    dashboard = page.context.new_page()
    dashboard.goto(console + "/")
    expect(dashboard.get_by_role("heading", name="No integrations yet")).to_be_visible()
    expect(dashboard.locator(".integration-card")).to_have_count(0)
    dashboard.close()

    # When the provider is back and they submit again (re-typing the key)
    simulator.faults.status = None
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Test and add").click()

    # Then the integration is added and active, on its manage page
    expect(page).to_have_url(MANAGE_URL)
    expect(page.get_by_role("heading", name="Demo Store")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Demo Store was added: active.")
    expect(state_badge(page)).to_have_text("Active")
    assert Integration.objects.get().state == "active"

    # When they pause it, then it is paused
    page.locator("#state").get_by_role("button", name="Pause").click()
    expect(state_badge(page)).to_have_text("Paused")
    expect(page.locator(".messages")).to_contain_text("Demo Store is paused")
    expect(page.locator("#state").get_by_role("button", name="Resume")).to_be_visible()

    # When they resume it, then it is active again
    page.locator("#state").get_by_role("button", name="Resume").click()
    expect(state_badge(page)).to_have_text("Active")
    expect(page.locator(".messages")).to_contain_text("Demo Store is active.")
    expect(page.locator("#state").get_by_role("button", name="Pause")).to_be_visible()
    screenshot(page, "manage")

    # When they download the diagnostics
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download diagnostics").click()
    download = download_info.value

    # Then it is JSON describing the integration, with the API key redacted
    assert download.suggested_filename.endswith(".json")
    text = Path(download.path()).read_text()
    document = json.loads(text)
    assert document["integration"]["state"] == "active"
    assert document["integration"]["unique_id"] == "acct-demo"
    assert document["attributes"]["api_key"] == "**REDACTED**"
    assert API_KEY not in text
    assert "**REDACTED**" in text


def test_dashboard_refreshes_live(console: str, default_workspace: Workspace, simulator: DemoSimulator, page: Page) -> None:
    # Given an active demo integration and an operator looking at the dashboard
    integration = setup.add_integration(
        default_workspace,
        IntegrationType.DEMO,
        "",
        {"api_url": simulator.url, "api_key": API_KEY, "catalog": "active", "page_size": "100", "sync_on_activate": "true"},
        actor="test",
    )
    assert integration.state == "active"
    log_in(page, console)
    card = page.locator(f'.integration-card[data-integration="{integration.pk}"]')
    expect(card.get_by_role("heading", name="Demo Store")).to_be_visible()
    badge = card.locator(".badge")
    expect(badge).to_have_text("Active")
    page.evaluate("window.__notReloaded = true")

    # When the integration is paused elsewhere (the page has loaded; the first poll is 5 s away)
    lifecycle.pause(integration, actor="test")

    # Then the card shows it within one poll, without a reload
    expect(badge).to_have_text("Paused", timeout=LIVE_REFRESH_TIMEOUT_MS)
    expect(badge).to_have_attribute("data-state", "paused")
    expect(card.locator(".reason")).to_have_text("Paused by test.")
    assert page.evaluate("window.__notReloaded === true")
    screenshot(page, "dashboard")
