"""Meta's calls to the receive URL: the GET verification, and signed notifications processed item by item."""
# GET: hub.mode=subscribe and the right hub.verify_token → 200 with hub.challenge as text; anything else 403
# (https://developers.facebook.com/docs/graph-api/webhooks/getting-started). POST: X-Hub-Signature-256 is
# sha256=<hex HMAC-SHA256 of the raw body under the app secret>. Meta signs the body as it sends it, with
# non-ASCII escaped (\u00e1) and / as \/, so only the raw bytes verify: re-serialising the parsed JSON would
# not (https://github.com/Secreto31126/whatsapp-api-js/issues/290). The notification is stored raw and
# answered at once; the worker splits it into items (processing.py).
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from hi.integrations.api import (
    HmacSha256Receiver,
    InboundEvent,
    InboundRejected,
    Integration,
    attribute_values,
)

from .processing import apply_item, items_of, store_and_apply

NOTIFICATION = "notification"
#: A challenge longer than this is not Meta's (it sends a number).
MAX_CHALLENGE = 200


class WhatsAppReceiver(HmacSha256Receiver):
    """The integration's /hooks/<key>/: Meta's verification GET and its signed notifications."""

    signature_header = "X-Hub-Signature-256"
    signature_prefix = "sha256="
    signature_encoding = "hex"
    answers_handshake = True

    def signing_secret(self, integration: Integration) -> str:
        """The app secret signs every notification."""
        return attribute_values(integration).get("app_secret") or ""

    def handshake(self, request: HttpRequest, integration: Integration) -> HttpResponse:
        """The challenge back as plain text when the mode is subscribe and the verify token matches; else 403."""
        if request.GET.get("hub.mode") != "subscribe":
            raise InboundRejected(403, "verification refused: hub.mode is not subscribe", public_reason="forbidden")
        expected = attribute_values(integration).get("verify_token") or ""
        given = request.GET.get("hub.verify_token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InboundRejected(403, "verification refused: hub.verify_token does not match", public_reason="forbidden")
        challenge = request.GET.get("hub.challenge", "")
        if not challenge or len(challenge) > MAX_CHALLENGE:
            raise InboundRejected(400, "verification refused: no usable hub.challenge", public_reason="bad request")
        return HttpResponse(challenge, content_type="text/plain")

    def event_id(self, request: HttpRequest, payload: Any) -> str:
        """Meta's notifications carry no id: a digest of the content, so a redelivered notification is a duplicate."""
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return f"{NOTIFICATION}:{hashlib.sha256(canonical.encode('utf-8', 'surrogatepass')).hexdigest()[:48]}"

    def event_type(self, payload: Any) -> str:
        """Every POST is a notification (its items get their own rows)."""
        return NOTIFICATION

    def success_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """200 and nothing else: Meta only needs to know it arrived."""
        return HttpResponse(status=200)

    def duplicate_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """200 too: Meta stops retrying."""
        return HttpResponse(status=200)

    def process(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the worker: each message and status of a notification is stored as its own row (deduplicated) and applied."""
        self.process_many([(inbound_event, payload)])

    def process_many(self, rows: list[tuple[InboundEvent, Any]]) -> None:
        """In the worker: the items of several notifications stored and applied together (one dedupe query, one lookup)."""
        integration = rows[0][0].integration
        items = []
        for inbound_event, payload in rows:
            if inbound_event.event_type == NOTIFICATION:
                items.extend(items_of(payload))
            else:
                apply_item(integration, inbound_event.event_type, payload)
        if items:
            store_and_apply(integration, items)
