"""A test event sent in the foreground (`manage.py webhook test`): the same delivery the worker would make, sent now."""
from __future__ import annotations

import time
from typing import Any

from hi.integrations.api import Integration, run_directive_now

from .handlers import queue_test_delivery
from .models import Delivery

WORKER = "cli"
#: How long to wait for the outcome when a running worker took the delivery first.
WAIT_S = 45.0


def send_test_now(integration: Integration, event_type: str) -> dict[str, Any]:
    """Queue a test delivery of `event_type` (KeyError if not a test type), send it here and say how it went."""
    # Its first attempt runs in this process unless a worker took it first; a failed attempt is retried like
    # any delivery.
    delivery = queue_test_delivery(integration, event_type)
    if not run_directive_now(delivery.directive_id, WORKER):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not Delivery.objects.filter(pk=delivery.pk, attempts__gt=0).exists():
            time.sleep(0.2)
    delivery.refresh_from_db()
    return outcome(delivery)


def outcome(delivery: Delivery) -> dict[str, Any]:
    """A test delivery's first result, as the command prints it."""
    attempt = delivery.attempt_log.order_by("-at", "-id").first()
    return {
        "delivery": delivery.pk, "webhook_id": delivery.message_id, "type": delivery.event_type,
        "delivered": delivery.status == Delivery.Status.DELIVERED, "status": delivery.status,
        "status_code": attempt.status_code if attempt else None, "latency_ms": attempt.latency_ms if attempt else None,
        # Not delivered: the delivery's reason says what hi makes of it ("Will retry: … (401: …)").
        "error": "" if delivery.status == Delivery.Status.DELIVERED else (delivery.reason or (attempt.error if attempt else "")),
        "answer": attempt.response_body[:300] if attempt else "",
    }


def outcome_line(result: dict[str, Any]) -> str:
    """One line for a test delivery's outcome."""
    head = f"Test event {result['type']} (delivery #{result['delivery']}, {result['webhook_id']})"
    if result["delivered"]:
        return f"{head} delivered: HTTP {result['status_code']} in {result['latency_ms']} ms."
    answer = f" The receiver answered: {result['answer']}" if result["answer"] else ""
    code = f"HTTP {result['status_code']}" if result["status_code"] else "no answer"
    return f"{head} not delivered ({code}): {result['error'] or result['status']}.{answer}"
