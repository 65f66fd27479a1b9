"""Shared steps of the iFood service's tests: an integration on the simulator, and running the worker's work."""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable

from django.utils import timezone

from hi.integrations.api import Directive, DirectiveStatus, IntegrationType
from hi.integrations.testing import claim, execute, process_pending, setup
from hi.services.ifood import polling

CLIENT_ID = "hi-test-client"
#: A canary: it must never show up in HTML, logs, diagnostics or errors.
SECRET = "ifood-canary-secret-5f3a9c"
MERCHANTS = ["6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a01", "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a02"]


def attributes(sim, **extra) -> dict:
    """Raw attributes of an iFood integration against the simulator."""
    return {"client_id": CLIENT_ID, "client_secret": SECRET, "merchant_ids": ",".join(MERCHANTS), "api_base_url": sim.url, **extra}


def add_ifood(workspace, sim, name: str = "iFood", **extra):
    """An active iFood integration on the simulator (polling unless told otherwise)."""
    return setup.add_integration(workspace, IntegrationType.IFOOD, name, attributes(sim, **extra), actor="test")


def sign(body: bytes, secret: str = SECRET) -> str:
    """X-IFood-Signature: lowercase hex HMAC-SHA256 of the raw body under the client secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def run_directives(time_travel: bool = True) -> int:
    """Claim and execute every directive due now; with time travel, retries become due at once (past their backoff)."""
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


def work(integration, *, rounds: int = 1, time_travel: bool = True) -> None:
    """What the worker does, `rounds` times: poll, process stored events, run the directives (due ones only, without time travel)."""
    for _ in range(rounds):
        polling.poll(integration)
        process_pending()
        run_directives(time_travel)


def work_until(integration, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Repeat the worker's work until `done()` (AssertionError when it never is)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        work(integration)
        if done():
            return
    raise AssertionError("the worker's work never reached the expected state")
