"""Shared steps of the WhatsApp service's tests: an integration on the simulator, Meta's notifications, the worker's work."""
from __future__ import annotations

import time
from typing import Callable

from django.utils import timezone

from hi.integrations.api import Directive, DirectiveStatus, Integration, IntegrationType, receive_path
from hi.integrations.testing import claim, execute, process_pending, setup
from hi.integrations.testing.inbound import post_as_provider

#: Canaries: they must never show up in HTML, logs, diagnostics or errors.
TOKEN = "EAAG-wa-canary-token-7c41"
APP_SECRET = "wa-app-secret-canary-2b9e"
VERIFY_TOKEN = "wa-verify-token-canary-55d1"
CUSTOMER = "5511987654321"


def attributes(sim, **extra) -> dict:
    """Raw attributes of a WhatsApp integration against the simulator."""
    return {
        "phone_number_id": sim.phone_number_id, "business_account_id": sim.business_account_id, "access_token": TOKEN,
        "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "api_base_url": sim.url, "api_version": "v23.0", **extra,
    }


def add_whatsapp(workspace, sim, name: str = "WhatsApp", **extra) -> Integration:
    """An active WhatsApp integration on the simulator."""
    return setup.add_integration(workspace, IntegrationType.WHATSAPP, name, attributes(sim, **extra), actor="test")


def deliver(sim, integration: Integration, timeout_s: float = 10.0) -> list[int]:
    """Post the simulator's notifications since the last call to the integration's receive URL, as Meta would; their statuses."""
    # As Meta would: its exact bytes and signature.
    sim.drain(timeout_s)
    done = getattr(sim, "hi_delivered", 0)
    records = list(sim.notifications[done:])
    sim.hi_delivered = done + len(records)
    return [
        post_as_provider(receive_path(integration), r["raw"], {"X-Hub-Signature-256": r["signature"]}).status_code for r in records
    ]


def process() -> int:
    """The worker's inbound passes until nothing is left (notifications first become items, then items apply)."""
    total = 0
    while (done := process_pending()):
        total += done
    return total


def run_directives(time_travel: bool = True) -> int:
    """Claim and execute every directive due now; with time travel, scheduled ones and retries are due at once."""
    ran = 0
    while True:
        if time_travel:
            Directive.objects.filter(status=DirectiveStatus.QUEUED).update(next_run_at=timezone.now())
        batch = claim("test", 50)
        if not batch:
            return ran
        for directive in batch:
            execute(directive, "test")
        ran += len(batch)


def work(sim, integration: Integration, rounds: int = 1) -> None:
    """What Meta and the worker do, `rounds` times: sends run, notifications arrive and are processed."""
    for _ in range(rounds):
        run_directives()
        deliver(sim, integration)
        process()


def work_until(sim, integration: Integration, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Repeat the work until `done()` (AssertionError when it never is)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        work(sim, integration)
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("the work never reached the expected state")


def customer_writes(sim, integration: Integration, text: str, wa_id: str = CUSTOMER, **extra) -> None:
    """A customer's message, delivered and processed (their 24-hour window opens)."""
    sim.customer_says(wa_id, text, **extra)
    deliver(sim, integration)
    process()
