"""Outbound delivery: the event hook that records a delivery per matching endpoint, and the directive that sends it."""
from __future__ import annotations

import logging
import time
from typing import Any

from django.utils import timezone

import hi
from hi.integrations.api import (
    EVENT_TYPES,
    BreakerOpen,
    Directive,
    DirectiveFailed,
    DirectiveHandler,
    DirectiveRetry,
    Event,
    EventHook,
    IllegalTransition,
    Integration,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    UnsafeDestination,
    attribute_values,
    deactivate,
    is_own_receive_url,
    origin,
)

from . import deliveries
from .client import body_bytes, parse_headers, post, signed_headers, wants, wire_timestamp
from .deliveries import TOPIC_DELIVER
from .models import Delivery
from .rotation import signing_secrets

logger = logging.getLogger(__name__)

#: Retries after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery is dead.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
GONE_REASON = "The receiver answered 410 Gone"
TEST_EVENT_TYPE = "webhook.test"
TEST_EVENT_DATA = {"message": "Test event from hi"}
RECEIVED_EVENT_TYPE = "webhook.received"
#: Why a delivery URL that is one of this hi's own receive URLs is refused.
OWN_URL = "it is one of this hi's own receive URLs, and forwarding events to it would loop."


def received_via(data: Any) -> list[str]:
    """The hi installations a webhook.received event's message went through before (its `via`)."""
    via = data.get("via") if isinstance(data, dict) else None
    return [str(entry) for entry in via] if isinstance(via, list) else []


def queue_delivery(event: Event, integration: Integration) -> None:
    """Record the event's delivery to this endpoint when its filter selects it (skipped while disabled)."""
    if event.type == RECEIVED_EVENT_TYPE and event.integration_id == integration.pk:
        return  # what an endpoint sent in is never echoed back to it (no loops)
    if not wants(attribute_values(integration).get("events") or "*", event.type):
        return
    # A message that already went through this hi would come back again and again (the framework's outbound/origin.py): kept as skipped.
    loop = origin.loop_reason(received_via(event.data)) if event.type == RECEIVED_EVENT_TYPE else ""
    deliveries.for_event(event, integration, skip_reason=f"Not forwarded: {loop}." if loop else "")


def test_events() -> dict[str, Any]:
    """The events a test can send, with the data each carries: webhook.test, then every catalogued type's example."""
    return {TEST_EVENT_TYPE: TEST_EVENT_DATA, **{name: EVENT_TYPES[name] for name in sorted(EVENT_TYPES)}}


def queue_test_delivery(integration: Integration, event_type: str = TEST_EVENT_TYPE) -> Delivery:
    """The "Send test event" action: one delivery of a test event, whatever the filter; KeyError for an unknown type."""
    # The type is webhook.test, or any catalogued type, sent with its example data.
    data = test_events()[event_type]
    return deliveries.create(integration, event_type, wire_timestamp(timezone.now()), data, kind=Delivery.Kind.TEST)


def refusal_hint(error: Exception) -> str:
    """What a 401 or 403 from the receiver probably means (empty for other errors)."""
    if not isinstance(error, ProviderAuthError):
        return ""
    if error.status == 403:
        return " (403: usually the receiver's own authentication; check the extra headers)"
    return " (401: the receiver refused the signature; check that it has this endpoint's secret)"


def _disable(integration: Integration, reason: str) -> None:
    """Deactivate the endpoint with the reason the operator reads (no-op when it is no longer active)."""
    integration.refresh_from_db()
    try:
        deactivate(integration, "hi", reason=reason)
    except IllegalTransition:
        pass


def _failed_attempt(delivery: Delivery, error: Exception, final: bool) -> None:
    """After a failed POST: give up when it was the last attempt, and disable a persistently failing endpoint."""
    said = f"{error}{refusal_hint(error)}"
    if final:
        deliveries.finish_failed(delivery, f"Gave up after {delivery.attempts} attempts: {said}")
    else:
        deliveries.note(delivery, f"Will retry: {said}")
    reason = deliveries.disable_reason(delivery.integration)
    if reason:
        logger.warning("Webhook endpoint %s disabled automatically: %s", delivery.integration_id, reason)
        _disable(delivery.integration, reason)


def deliver(directive: Directive) -> None:
    """POST the delivery, signed; log the attempt; apply the response rules (2xx, 410, throttles, retries)."""
    delivery = Delivery.objects.filter(pk=directive.payload.get("delivery")).select_related("integration").first()
    if delivery is None:
        raise DirectiveFailed("The delivery no longer exists (pruned or removed).")
    if delivery.directive_id != directive.pk:  # a replay from the Directives page
        Delivery.objects.filter(pk=delivery.pk).update(directive=directive, status=Delivery.Status.PENDING)
    integration = delivery.integration
    values = attribute_values(integration)
    url, secrets = values["url"], signing_secrets(integration, values.get("secret") or "")
    if not secrets:
        raise DirectiveRetry("The endpoint has no signing secret yet; it gets one when activated.")
    final = directive.attempts >= directive.max_attempts
    if is_own_receive_url(url):
        deliveries.finish_failed(delivery, f"Refused to call the endpoint: {OWN_URL}")
        raise DirectiveFailed(f"Refused to call the endpoint: {OWN_URL}")
    try:
        extra = parse_headers(values.get("headers") or "")
    except ValueError as exc:
        deliveries.finish_failed(delivery, f"The extra headers are not valid: {exc}")
        raise DirectiveFailed(f"The extra headers are not valid: {exc}") from None
    body = body_bytes(delivery.event_type, delivery.timestamp, delivery.data)
    via = received_via(delivery.data) if delivery.event_type == RECEIVED_EVENT_TYPE else []
    headers = signed_headers(delivery.message_id, body, secrets, extra, via=via)
    logged = deliveries.redacted_headers({**headers, "User-Agent": f"hi/{hi.__version__}"}, extra)
    started = time.monotonic()
    sent_secrets = [*secrets, *extra.values()]
    try:
        response = post(url, body, headers, sent_secrets, integration=integration)
    except BreakerOpen as exc:
        deliveries.note(delivery, f"Waiting: {exc}")  # nothing was sent, no attempt used
        raise
    except UnsafeDestination as exc:
        # The guard checks every connection (DNS may have changed since the URL was saved): nothing was sent.
        deliveries.finish_failed(delivery, f"Refused to call the endpoint: {exc}")
        raise DirectiveFailed(f"Refused to call the endpoint: {exc}") from None
    except ProviderError as exc:
        latency = int((time.monotonic() - started) * 1000)
        deliveries.record_attempt(
            delivery, url, logged, body, ok=False, status_code=exc.status, response_body=exc.excerpt, latency_ms=latency, error=str(exc),
            secrets=sent_secrets
        )
        if isinstance(exc, ProviderRejected) and exc.status == 410:
            deliveries.finish_failed(delivery, f"{GONE_REASON}; the endpoint is disabled.")
            _disable(integration, GONE_REASON)
            raise DirectiveFailed(f"{GONE_REASON}; the endpoint is disabled.") from None
        _failed_attempt(delivery, exc, final)
        if isinstance(exc, (ProviderRejected, ProviderAuthError)):
            # Any other refusal (a 4xx, a redirect, 401/403) is the receiver's, not hi's credentials: retry on the schedule.
            raise DirectiveRetry(f"The receiver answered {exc.status}: {exc}") from None
        raise  # 429, 5xx, timeouts: the engine retries them, not before their Retry-After
    latency = int((time.monotonic() - started) * 1000)
    deliveries.record_attempt(
        delivery, url, logged, body, ok=True, status_code=response.status_code,
        response_body=response.text[: deliveries.MAX_BODY_LOGGED * 2], latency_ms=latency, secrets=sent_secrets
    )


DELIVER_HANDLER = DirectiveHandler(TOPIC_DELIVER, deliver, schedule=SCHEDULE, max_attempts=8)
DELIVERY_HOOK = EventHook("*", queue_delivery)
