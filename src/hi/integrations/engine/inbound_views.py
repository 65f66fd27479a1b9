"""The provider endpoint /hooks/<key>/: a thin view over inbound.handle_inbound (POST) and handshakes.handle_handshake (GET)."""
from __future__ import annotations

import logging
from typing import Callable

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..config.hookkeys import find
from ..contract.receivers import UNAVAILABLE, InboundReceiver, UnavailableReceiver
from ..models import Integration
from .handshakes import handle_handshake
from .inbound import gateway_receiver, handle_inbound, log_unexpected

logger = logging.getLogger(__name__)

#: Finds the receiver of an integration, or None when its type receives no webhooks.
ReceiverResolver = Callable[[Integration], "InboundReceiver | None"]


def provider_endpoint(view):
    """Mark a view a provider calls: no console login, no CSRF token, and the URL walk knows it."""
    view = csrf_exempt(login_not_required(view))
    view.hi_provider_endpoint = True
    return view


def not_found() -> HttpResponse:
    """The same answer for an unknown or expired key and a type without webhooks: nothing to learn from it."""
    return JsonResponse({"error": "not found"}, status=404)


def receiver_view(resolve: ReceiverResolver = gateway_receiver):
    """Build the endpoint view around a resolver (the gateway's in production; a test's own in tests)."""

    @provider_endpoint
    @require_http_methods(["GET", "POST"])
    def receive(request: HttpRequest, key: str) -> HttpResponse:
        """POST /hooks/<key>/: find the integration and its receiver by the key, then run inbound.handle_inbound."""
        # GET is a provider's verification handshake (405 for receivers that answer none).
        try:
            integration = find(key)
        except DatabaseError as exc:  # the database is down: ask the provider to retry, never a 500
            logger.error("Inbound webhook: the integration could not be read: %s", type(exc).__name__)
            return JsonResponse({"error": UNAVAILABLE}, status=503, headers={"Retry-After": str(InboundReceiver.retry_after_s)})
        if integration is None:
            return not_found()
        try:
            receiver = resolve(integration)
        except Exception as exc:  # noqa: BLE001 - logged; the provider is asked to retry
            message = log_unexpected(integration, "building the receiver", exc)
            receiver = UnavailableReceiver(
                f"the {integration.integration_type} gateway could not build its receiver: {type(exc).__name__}: {message}"
            )
        if receiver is None:
            return not_found()
        if request.method == "GET":
            return handle_handshake(request, integration, receiver)
        return handle_inbound(request, integration, receiver)

    return receive


#: The view routed at /hooks/<key>/.
receive = receiver_view()
