"""iFood's webhooks and polled events: one receiver verifies X-IFood-Signature and processes both in the worker."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from hi.integrations.api import HmacSha256Receiver, InboundEvent, InboundRejected, Integration, ItemInvalid, attribute_values, loads

from .client import parse_merchants
from .processing import apply_event, identify

KEEPALIVE = "KEEPALIVE"


class IFoodReceiver(HmacSha256Receiver):
    """POST /hooks/<key>/: lowercase hex HMAC-SHA256 of the raw body keyed with the client secret (iFood's webhook signature page)."""

    signature_header = "X-IFood-Signature"
    signature_encoding = "hex"

    def signing_secret(self, integration: Integration) -> str:
        """The credential's clientSecret signs iFood's webhooks."""
        return attribute_values(integration).get("client_secret") or ""

    def event_id(self, request: HttpRequest, payload: Any) -> str:
        """The event's own id: iFood retries and duplicates carry the same one (iFood's webhook request page)."""
        value = payload.get("id")
        return value if isinstance(value, str) else ""

    def event_type(self, payload: Any) -> str:
        """The event code (PLC, CFM, KEEPALIVE, ...)."""
        value = payload.get("code")
        return value[:100] if isinstance(value, str) else ""

    def parse(self, body: bytes) -> Any:
        """A JSON object hi can act on, read as a polled event is; iFood sends one event per POST."""
        payload = super().parse(body)
        try:
            identify(payload)
        except ItemInvalid as exc:
            raise InboundRejected(400, f"not an iFood event hi can read: {exc}") from None
        return payload

    def success_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """202; a per-merchant KEEPALIVE is answered with the merchants hi serves, which puts them online (iFood's presence page)."""
        if inbound_event.event_type == KEEPALIVE:
            try:
                asked = loads(inbound_event.body).get("merchantIds")
            except (ValueError, AttributeError):
                asked = None
            if isinstance(asked, list):
                ours = set(parse_merchants(attribute_values(inbound_event.integration).get("merchant_ids") or ""))
                return JsonResponse({"merchantIds": [m for m in asked if isinstance(m, str) and m in ours]}, status=202)
        return super().success_response(inbound_event)

    def process(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the worker: act on the event (KEEPALIVE and codes hi does not use change nothing)."""
        apply_event(inbound_event.integration, payload)
