"""GET on a receive URL: the verification handshake some providers make before they post (Meta's hub.challenge)."""
# A provider such as Meta proves the receive URL is the operator's by sending a GET with a challenge and a token
# the operator typed on both sides; the receiver answers the challenge only when the token matches. The
# framework owns the view and the log: the receiver only decides (InboundReceiver.handshake). A refused GET is
# logged like a refused POST (metadata only: a GET has no body, and its query, which carries the token tried,
# is never stored); an accepted one is a line in the integration's log. A receiver that answers no handshake
# keeps GET at 405.
from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from ..config.history import log
from ..contract.receivers import InboundReceiver
from ..core.errors import InboundRejected
from ..models import Integration, IntegrationState
from . import refusals
from .dblocks import busy_response, is_lock_timeout
from .inbound import refuse, unexpected_rejection

logger = logging.getLogger(__name__)


def handle_handshake(request: HttpRequest, integration: Integration, receiver: InboundReceiver) -> HttpResponse:
    """Run a provider's GET through active? → receiver.handshake(); refusals are logged, an answer is noted."""
    if not receiver.answers_handshake:
        return HttpResponseNotAllowed(["POST"])
    fields: dict[str, Any] = {
        "headers": {}, "body": "", "body_size": 0, "provider_event_id": "", "event_type": "handshake",
        "source_address": refusals.client_address(request),
    }
    try:
        fields["headers"] = receiver.redacted_headers(request)
        if integration.state != IntegrationState.ACTIVE:
            label = IntegrationState(integration.state).label.lower()
            raise InboundRejected(503, f"integration is {label}: not answering the verification now", retry_after=receiver.retry_after_s)
        response = receiver.handshake(request, integration)
    except InboundRejected as exc:
        return refuse(integration, receiver, exc, fields, b"")
    except Exception as exc:  # noqa: BLE001 - a provider endpoint never answers 500
        if is_lock_timeout(exc):
            return busy_response(request, provider=True)
        return refuse(integration, receiver, unexpected_rejection(receiver, integration, "handshake", exc), fields, b"")
    _note(integration)
    return response


def _note(integration: Integration) -> None:
    """An answered verification, in the integration's log (a failure to write it never changes the answer)."""
    try:
        log(integration, "info", "The provider verified the receive URL (GET handshake answered).")
    except Exception:  # noqa: BLE001 - the answer matters more than the log line
        logger.exception("Could not log the handshake of integration %s", integration.pk)
