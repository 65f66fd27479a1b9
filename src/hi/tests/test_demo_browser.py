"""`make run`'s demo in a browser: a demo iFood order's WhatsApp confirmation is delivered, and the customer's reply reaches the inbox."""
from __future__ import annotations

import io
import re
import threading
from typing import Iterator

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from hi.integrations.api import Integration, IntegrationState, IntegrationType
from hi.integrations.testing import processes
from hi.integrations.testing.browser import browser, page, screenshot  # noqa: F401 - shared fixtures
from hi.messaging.models import Message
from hi.services.ifood import demo as ifood_demo
from hi.services.ifood.simulator import IFoodSimulator
from hi.services.whatsapp.simulator import WhatsAppSimulator

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "whatsapp-demo-browser-passphrase-3"
#: A poll of iFood, the order's details, the notification's send, three statuses and a refresh, with a margin.
DELIVERED_TIMEOUT_MS = 40_000
#: The customer answers once the template is read; then a notification and the inbox's 5 s refresh.
REPLY_TIMEOUT_MS = 30_000


@pytest.fixture
def sims() -> Iterator[tuple[IFoodSimulator, WhatsAppSimulator]]:
    """Both simulators as `make run` starts them: customers with their own numbers, who answer a read confirmation."""
    ifood = IFoodSimulator().start()
    ifood.customer_phones = list(ifood_demo.CUSTOMER_PHONES[:1])
    whatsapp = WhatsAppSimulator(seed=5).start()
    whatsapp.reply_probability, whatsapp.status_delay_s = 1.0, 0.3
    yield ifood, whatsapp
    whatsapp.stop()
    ifood.stop_background()
    ifood.stop()


@pytest.fixture
def demo(live_server, sims, settings, tmp_path, monkeypatch) -> Integration:
    """What `make run` sets up before the console starts: `hi_setup --demo` against both running simulators."""
    ifood, whatsapp = sims
    settings.VAR_DIR = tmp_path
    settings.HI_BASE_URL = live_server.url  # the receive URL the WhatsApp simulator posts to
    monkeypatch.delenv("HI_DEMO", raising=False)
    monkeypatch.setenv("HI_ADMIN_PASSWORD", ADMIN_PASSWORD)
    call_command("hi_setup", "--demo", "--demo-url", f"ifood={ifood.url}", "--demo-url", f"whatsapp={whatsapp.url}", stdout=io.StringIO())
    integration = Integration.objects.get(workspace__slug="default", integration_type=IntegrationType.WHATSAPP.type_id)
    assert integration.state == IntegrationState.ACTIVE and whatsapp.callback_url.startswith(live_server.url)
    return integration


class Worker:
    """A real `manage.py hi_worker` on the test database, its output drained so that it never blocks."""

    def __init__(self) -> None:
        """Start a worker polling iFood every second, its output read as it comes."""
        self.process = processes.start_worker(env={"HI_IFOOD_POLL_INTERVAL_S": "1"})
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """Stop it, or kill it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a stuck worker is killed
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        """What it printed, for failure messages."""
        return "".join(self.lines[-60:])


@pytest.fixture
def worker(demo) -> Iterator[Worker]:
    """The worker `make run` starts beside the console."""
    running = Worker()
    yield running
    running.stop()


def test_a_demo_order_gets_its_whatsapp_confirmation_delivered_and_the_customers_reply_lands_in_the_inbox(
    live_server, demo: Integration, sims, worker: Worker, page: Page  # noqa: F811
) -> None:
    ifood, whatsapp = sims
    # Given the operator logged in to the demo
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live_server.url + "/")

    # When a customer places an order on iFood
    ifood.place_order()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    rows = page.locator("#order-table tr[data-order]")
    try:
        expect(rows.first).to_be_visible(timeout=DELIVERED_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"no order arrived; the worker said:\n{worker.output()}") from exc
    ref = rows.first.get_attribute("data-order")
    page.get_by_role("link", name=ref).click()

    # Then the order's page shows the WhatsApp confirmation sent to its customer, until WhatsApp says it was delivered
    confirmation = page.locator('#order-messages li[data-kind="template"]')
    try:
        expect(confirmation).to_have_attribute("data-status", re.compile(r"^(delivered|read)$"), timeout=DELIVERED_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"no delivered confirmation; statuses {list(Message.objects.values_list('status', flat=True))}; "
                             f"the worker said:\n{worker.output()}") from exc
    expect(confirmation).to_contain_text("order_confirmed")
    screenshot(page, "whatsapp-demo-order")
    sent = whatsapp.sent[0]["body"]
    assert sent["to"] == "5511987654321" and sent["template"]["name"] == "order_confirmed"

    # And the customer's "Obrigado!" arrives in the inbox by itself
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    conversation = page.locator('#conversation-list tr[data-contact="+5511987654321"]')
    try:
        expect(conversation).to_contain_text("Obrigado!", timeout=REPLY_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"no reply in the inbox; the worker said:\n{worker.output()}") from exc
    expect(conversation.locator("[data-unread]")).to_have_text("1")
    screenshot(page, "whatsapp-demo-inbox")

    # When the operator opens the conversation, the reply box is open (the customer just wrote)
    conversation.get_by_role("link").first.click()
    expect(page.locator('[data-window="open"]')).to_be_visible()
    page.get_by_role("textbox", name="Your message").fill("De nada! Bom apetite.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator('#thread li[data-kind="text"][data-status]').last).to_contain_text("De nada! Bom apetite.")
