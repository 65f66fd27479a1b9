"""The live iFood demo in a real browser: an order placed at the simulator arrives in the console, is confirmed, becomes confirmed."""
from __future__ import annotations

import io
import re
import subprocess
import threading
from decimal import Decimal
from typing import Iterator

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from hi.integrations.api import Integration, IntegrationState, IntegrationType
from hi.integrations.testing import processes
from hi.integrations.testing.browser import browser, page, screenshot  # noqa: F401 - shared fixtures
from hi.orders.models import Order
from hi.services.ifood.simulator import IFoodSimulator

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "ifood-demo-browser-passphrase-7"
#: The worker polls iFood this often here (`make run` uses 5 s, production 30 s).
POLL_INTERVAL_S = "1"
#: The order list and the order page refresh every 5 s: placement, one poll, the fetch, one refresh, and a margin.
ARRIVAL_TIMEOUT_MS = 20_000
#: The directive to iFood, its CFM event on the next poll, one refresh of the order page, and a margin.
CONFIRMED_TIMEOUT_MS = 20_000


@pytest.fixture
def demo_sim() -> Iterator[IFoodSimulator]:
    """The iFood simulator as `make run` starts it (default credential and merchants), not placing orders yet."""
    sim = IFoodSimulator().start()
    yield sim
    sim.stop_background()
    sim.stop()


@pytest.fixture
def demo(live_server, demo_sim: IFoodSimulator, settings, tmp_path, monkeypatch) -> Integration:
    """What `make run` sets up before the console starts: `hi_setup --demo` against the running simulator."""
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("HI_DEMO", raising=False)
    monkeypatch.setenv("HI_ADMIN_PASSWORD", ADMIN_PASSWORD)
    call_command("hi_setup", "--demo", "--demo-url", f"ifood={demo_sim.url}", stdout=io.StringIO())
    integration = Integration.objects.get(workspace__slug="default", integration_type=IntegrationType.IFOOD.type_id)
    assert integration.state == IntegrationState.ACTIVE
    return integration


class Worker:
    """A real `manage.py hi_worker` on the test database, its output drained (and kept) so that it never blocks."""

    def __init__(self) -> None:
        """Start a worker polling iFood often, its output read as it comes."""
        self.process = processes.start_worker(env={"HI_IFOOD_POLL_INTERVAL_S": POLL_INTERVAL_S})
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        """Keep the worker's output lines."""
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self) -> None:
        """Stop it as Ctrl-C does, or kill it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)

    def output(self) -> str:
        """What it printed, for failure messages."""
        return "".join(self.lines[-60:])


@pytest.fixture
def worker(demo: Integration) -> Iterator[Worker]:
    """The worker `make run` starts beside the console, polling iFood every second."""
    running = Worker()
    yield running
    running.stop()


def log_in_as_admin(page: Page, base_url: str) -> None:
    """Log in as the operator hi_setup created."""
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + "/")


def test_a_placed_ifood_order_arrives_live_and_becomes_confirmed_after_ifoods_event(
    live_server, demo: Integration, demo_sim: IFoodSimulator, worker: Worker, page: Page  # noqa: F811
) -> None:
    # Given the operator logged in to the demo, looking at the (empty) Orders list
    log_in_as_admin(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="No orders yet")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    # When the simulator starts placing orders, as the demo's does
    demo_sim.start_placing(2.0)

    # Then an order from the iFood demo appears in the list by itself (no reload)
    rows = page.locator("#order-table tr[data-order]")
    try:
        expect(rows.first).to_be_visible(timeout=ARRIVAL_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"no order arrived; the worker said:\n{worker.output()}") from exc
    assert page.evaluate("window.__notReloaded === true"), "the list was reloaded instead of refreshed"
    ref = rows.first.get_attribute("data-order")
    row = page.locator(f'#order-table tr[data-order="{ref}"]')
    expect(row).to_contain_text("iFood (demo)")
    expect(row.locator(".badge")).to_have_text("New")
    screenshot(page, "ifood-demo-orders")

    # When they open it
    page.get_by_role("link", name=ref).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(ref)))).to_be_visible()
    status = page.locator("#order-live .badge[data-status]")
    expect(status).to_have_attribute("data-status", "new")
    external_id = Order.objects.get(ref=ref).external_id
    expect(page.locator(".page-head")).to_contain_text(external_id)
    sim_order = demo_sim.book.orders[external_id]
    # the total shown is iFood's order amount, in exact cents
    amount = Decimal(str(sim_order.details["total"]["orderAmount"]))
    expect(page.locator("td[data-total]")).to_have_attribute("data-total", str(int(amount * 100)))

    # And click Confirm
    page.locator("#order-live").get_by_role("button", name="Confirm", exact=True).click()

    # Then the page says hi is waiting for iFood, and the order is still new
    expect(page.locator("#order-live .banner.waiting")).to_contain_text("Waiting for iFood")
    expect(status).to_have_attribute("data-status", "new")

    # And once iFood's CFM event arrives, the page shows the order confirmed by itself
    try:
        expect(status).to_have_attribute("data-status", "confirmed", timeout=CONFIRMED_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"the order never became confirmed; the worker said:\n{worker.output()}") from exc
    expect(status).to_have_text("Confirmed")
    expect(page.locator("#order-live .banner.waiting")).to_have_count(0)
    expect(page.locator("#order-live").get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
    screenshot(page, "ifood-demo-confirmed")

    # And iFood was really told: one confirm call, and the order is confirmed there
    assert len(demo_sim.requests_to(f"/order/v1.0/orders/{external_id}/confirm")) == 1
    assert demo_sim.book.orders[external_id].status == "CONFIRMED"
