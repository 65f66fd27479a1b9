"""The receiver base classes a service subclasses for its webhooks: verify, parse, name the event (the flow: engine/inbound.py)."""
from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..core.errors import InboundRejected, ProviderDataError
from ..core.provider_data import clean_text, loads
from ..core.redaction import REDACTED
from ..models import InboundEvent, Integration
from ..outbound.signing import verify_hmac_sha256

#: The default cap on a request body (1 MiB).
MAX_BODY_BYTES = 1024 * 1024
#: Longest stored header value; providers' real headers are far shorter.
MAX_HEADER_VALUE = 2000
#: What a provider is told when hi's own code failed (the details are logged and stored).
UNAVAILABLE = "temporarily unavailable, try again later"


class InboundReceiver:
    """Base class of a service's webhook receiver: the framework runs the steps, a service fills in the hooks."""

    #: Bodies larger than this are refused with 413 before any hook runs.
    max_body_bytes: int = MAX_BODY_BYTES
    #: Header names (searched, case-insensitive) whose values are stored as REDACTED.
    sensitive_headers = re.compile(r"signature|authori[sz]ation|cookie|token|secret|passw|api[-_]?key|auth|session|credential", re.I)
    #: Seconds the provider is asked to wait (Retry-After) when hi cannot take the request now.
    retry_after_s: int = 60
    #: Whether the provider proves it owns the URL with a GET first (Meta's hub.challenge): GET then runs
    #: handshake(); otherwise GET is 405 (engine/handshakes.py).
    answers_handshake: bool = False

    # Subclasses must implement ------------------------------------------------------------------
    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Check the request is authentic (signature over the raw bytes); raise InboundRejected(401, ...)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement verify()")

    def event_id(self, request: HttpRequest, payload: Any) -> str:
        """The provider's own id of the event (a header or a payload field); '' turns dedupe off."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement event_id()")

    # Subclasses may override --------------------------------------------------------------------
    def accept(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the request, same transaction as the row, no network: only what must happen before the answer."""

    def process(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the worker, once, same transaction as marking the row processed: publish an event, enqueue a directive."""

    def process_many(self, rows: list[tuple[InboundEvent, Any]]) -> None:
        """In the worker, several accepted rows of one integration at once, oldest first: process() each by default."""
        # Override to share work across rows (one dedupe query, one lookup for all their items). It runs in one
        # savepoint; when it raises, the framework undoes it and calls process() row by row, so a row that
        # cannot be processed fails alone.
        for inbound_event, payload in rows:
            self.process(inbound_event, payload)

    def handshake(self, request: HttpRequest, integration: Integration) -> HttpResponse:
        """With answers_handshake, a provider's GET verifying the URL: the answer it expects, else InboundRejected(403, why)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement handshake()")

    def parse(self, body: bytes) -> Any:
        """The payload: by default a JSON object (bounded nesting), else InboundRejected(400, why)."""
        try:
            payload = loads(body)
        except ProviderDataError as exc:
            raise InboundRejected(400, str(exc)) from None
        if not isinstance(payload, dict):
            raise InboundRejected(400, "not JSON: the body must be a JSON object")
        return payload

    def event_type(self, payload: Any) -> str:
        """The provider's name of the event kind, shown in the inbound log ('' when unknown)."""
        return ""

    def success_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """The answer to an accepted request: 202 with the stored row's id."""
        return JsonResponse({"id": str(inbound_event.pk)}, status=202)

    def duplicate_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """The answer to a request already received: 200, so the provider stops retrying."""
        return JsonResponse({"id": str(inbound_event.pk), "duplicate": True}, status=200)

    def rejected_response(self, rejection: InboundRejected) -> HttpResponse:
        """The answer to a refused request: its status, the reason, and Retry-After when set."""
        response = JsonResponse({"error": rejection.public_reason}, status=rejection.status)
        if rejection.retry_after is not None:
            response["Retry-After"] = str(rejection.retry_after)
        return response

    def redacted_headers(self, request: HttpRequest) -> dict[str, str]:
        """The request headers, with the values of credential and signature headers replaced."""
        return {
            name: REDACTED if self.sensitive_headers.search(name) else clean_text(value, MAX_HEADER_VALUE)
            for name, value in request.headers.items()
        }


class HmacSha256Receiver(InboundReceiver):
    """A receiver whose provider signs the raw body with HMAC-SHA256 in one header (hex or base64)."""

    #: The header carrying the signature.
    signature_header: str = ""
    #: 'hex' or 'base64'.
    signature_encoding: str = "hex"
    #: A prefix the provider puts before the digest ('sha256=' for GitHub-style headers).
    signature_prefix: str = ""

    def signing_secret(self, integration: Integration) -> str | bytes:
        """The integration's webhook secret (usually a secret attribute)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement signing_secret()")

    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Compare the header's digest with the body's, in constant time."""
        signature = request.headers.get(self.signature_header, "")
        if not signature:
            raise InboundRejected(401, f"missing {self.signature_header} header")
        if self.signature_prefix and signature.startswith(self.signature_prefix):
            signature = signature[len(self.signature_prefix):]
        secret = self.signing_secret(integration)
        if not secret or not verify_hmac_sha256(secret, body, signature, self.signature_encoding):
            raise InboundRejected(401, f"{self.signature_header} does not match the body")


class UnavailableReceiver(InboundReceiver):
    """Stands in for a receiver the gateway could not build: logs the request and answers 503."""

    def __init__(self, reason: str) -> None:
        """Why the receiver could not be built (logged with each request it answers)."""
        self.reason = reason

    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Refuse every request with 503, so the provider retries once the gateway is fixed."""
        raise InboundRejected(503, self.reason, retry_after=self.retry_after_s, public_reason=UNAVAILABLE)
