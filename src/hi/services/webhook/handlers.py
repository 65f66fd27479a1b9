"""Outbound delivery: an event hook that queues one directive per matching endpoint, and its handler."""
from __future__ import annotations

from hi.integrations import ssrf
from hi.integrations.directives import DirectiveFailed, DirectiveHandler, DirectiveRetry, enqueue
from hi.integrations.events import EventHook
from hi.integrations.http import ProviderAuthError, ProviderRejected
from hi.integrations.models import Directive, Event, Integration, IntegrationState
from hi.integrations.store import attribute_values

from .client import body_bytes, post_signed, wants

TOPIC_DELIVER = "webhook.deliver"
#: Retries after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery is dead.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
GONE_REASON = "The receiver answered 410 Gone"


def queue_delivery(event: Event, integration: Integration) -> None:
    """For an active endpoint whose events filter selects this event, queue its delivery."""
    if integration.state != IntegrationState.ACTIVE:
        return
    if not wants(attribute_values(integration).get("events") or "*", event.type):
        return
    payload = {"event_id": str(event.pk), "type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}
    enqueue(integration, TOPIC_DELIVER, payload, dedupe_key=f"{event.pk}:{integration.pk}")


def message_id(directive: Directive) -> str:
    """The webhook-id: the same for every attempt of a delivery (the receiver's idempotency key)."""
    return f"msg_{directive.pk}"


def deliver(directive: Directive) -> None:
    """POST the signed event; apply the response rules (410 disables, throttles honour Retry-After)."""
    from hi.integrations import lifecycle

    integration = directive.integration
    values = attribute_values(integration)
    url, secret = values["url"], values.get("secret") or ""
    if not secret:
        raise DirectiveRetry("The endpoint has no signing secret yet; it gets one when activated.")
    try:
        ssrf.check_url(url, resolve=True)  # again at send time: DNS may have changed
    except ssrf.UnresolvableHost as exc:
        raise DirectiveRetry(str(exc)) from None
    except ssrf.UnsafeURL as exc:
        raise DirectiveFailed(f"Refused to call the endpoint: {exc}") from None
    payload = directive.payload
    body = body_bytes(payload["type"], payload["timestamp"], payload.get("data"))
    try:
        post_signed(url, message_id(directive), body, secret, integration=integration)
    except ProviderRejected as exc:
        if exc.status == 410:
            integration.refresh_from_db()
            try:
                lifecycle.deactivate(integration, "hi", reason=GONE_REASON)
            except lifecycle.IllegalTransition:
                pass
            raise DirectiveFailed(f"{GONE_REASON}; the endpoint is disabled.") from None
        raise DirectiveRetry(f"The receiver answered {exc.status}: {exc}") from None
    except ProviderAuthError as exc:
        # A receiver refusing a delivery is not hi's credentials failing: retry on the schedule.
        raise DirectiveRetry(f"The receiver answered {exc.status}: {exc}") from None
    # ProviderUnavailable / ProviderRateLimited (429, 502, 503, 504, timeouts) propagate: the engine
    # retries them, not before their Retry-After.


DELIVER_HANDLER = DirectiveHandler(TOPIC_DELIVER, deliver, schedule=SCHEDULE, max_attempts=8)
DELIVERY_HOOK = EventHook("*", queue_delivery)


TEST_EVENT_TYPE = "webhook.test"


def queue_test_delivery(integration: Integration) -> Directive:
    """The "Send test event" action: one delivery of a webhook.test event, whatever the filter."""
    from django.utils import timezone

    payload = {"type": TEST_EVENT_TYPE, "timestamp": timezone.now().isoformat(), "data": {"message": "Test event from hi"}}
    return enqueue(integration, TOPIC_DELIVER, payload)
