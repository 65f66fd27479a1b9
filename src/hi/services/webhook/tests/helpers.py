"""Shared steps of the webhook service's tests: an endpoint on a local sink, events, and running the worker's work."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hi.integrations.api import Directive, IntegrationType, publish
from hi.integrations.testing import claim, execute, setup

SECRET = "whsec_Y2FuYXJ5LXNlY3JldC1mb3Itd2ViaG9vay10ZXN0cw=="


def add_endpoint(workspace, url, **extra):
    """An active webhook endpoint delivering to `url`, signing with SECRET unless told otherwise."""
    raw = {"url": url, "secret": SECRET, **extra}
    return setup.add_integration(workspace, IntegrationType.WEBHOOK, extra.pop("name", "Endpoint"), raw, actor="test")


def emit(capture, workspace, event_type, data=None):
    """Publish an event and run its hooks (as the commit would)."""
    with capture(execute=True):
        with transaction.atomic():
            return publish(event_type, data or {"id": 1}, workspace)


def run_due():
    """Claim and execute every due directive; return their statuses."""
    return [execute(directive, "w") for directive in claim("w", 50)]


def make_due():
    """Make every queued directive due now (time travel past its backoff)."""
    Directive.objects.filter(status="queued").update(next_run_at=timezone.now())


def event_deliveries():
    """The deliveries of events and test events (the delivery log also keeps set-up pings, marked as such)."""
    from hi.services.webhook.models import Delivery

    return Delivery.objects.exclude(kind=Delivery.Kind.PING)
