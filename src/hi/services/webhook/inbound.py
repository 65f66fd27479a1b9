"""Receiving events: Standard Webhooks requests to /hooks/<key>/, verified, stored and published as webhook.received."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hi.integrations.api import (
    UNAVAILABLE,
    InboundEvent,
    InboundReceiver,
    InboundRejected,
    Integration,
    SignatureError,
    origin,
    publish,
    standard_webhooks,
)

from .rotation import signing_secrets

#: Why a signature was refused, as stored in the inbound log (the sender only hears "invalid signature").
REASONS = {
    "missing_header": "a Standard Webhooks header is missing",
    "bad_id": "webhook-id is malformed",
    "bad_timestamp": "webhook-timestamp is not whole Unix seconds",
    "stale": "webhook-timestamp is more than 5 minutes old",
    "future": "webhook-timestamp is more than 5 minutes ahead",
    "no_match": "webhook-signature does not match the body under the endpoint's secret",
}


class WebhookReceiver(InboundReceiver):
    """Verifies a sender's Standard Webhooks signature with the endpoint's secret and publishes what it sent."""

    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """The webhook-signature must match under the current secret (or one retired less than 24 h ago)."""
        secrets = signing_secrets(integration)
        if not secrets:
            raise InboundRejected(503, "the endpoint has no signing secret yet", public_reason=UNAVAILABLE)
        try:
            standard_webhooks.verify(request.headers, body, secrets)
        except SignatureError as exc:
            reason = REASONS.get(exc.reason, exc.reason)
            public = "stale or future timestamp" if exc.reason in ("stale", "future") else "invalid signature"
            raise InboundRejected(401, reason, public_reason=public) from None

    def event_id(self, request: HttpRequest, payload: Any) -> str:
        """The sender's webhook-id: the same on its retries, so a redelivery is recognised."""
        return request.headers.get(standard_webhooks.ID_HEADER, "")

    def event_type(self, payload: Any) -> str:
        """The sender's `type` field ('' when it sent none)."""
        value = payload.get("type")
        return value[:100] if isinstance(value, str) else ""

    def process(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the worker: publish webhook.received with the sender's type and body, and where it has been."""
        integration = inbound_event.integration
        data = {
            "integration": str(integration.pk),
            "name": integration.name,
            "webhook_id": inbound_event.provider_event_id,
            "type": inbound_event.event_type,
            "payload": payload,
            # The hi installations the message came through (Hi-Origin): forwarding stops at a loop.
            "via": origin.via_of(inbound_event.headers),
        }
        publish("webhook.received", data, integration.workspace_id, integration=integration)
