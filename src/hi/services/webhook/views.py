"""The webhook pane's action: send a test event to the endpoint (a delivery the worker sends)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from hi.integrations.models import IntegrationState
from hi.integrations.queries import integration_for
from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from .handlers import queue_test_delivery


@require_POST
@workspace_required(Role.OPERATOR)
def send_test_event(request: HttpRequest, pk) -> HttpResponse:
    """Queue a webhook.test delivery; the directives page shows how it went."""
    integration = integration_for(request, pk)
    if integration.integration_type != "webhook":
        messages.error(request, "Only a webhook endpoint takes test events.")
    elif integration.state != IntegrationState.ACTIVE:
        messages.error(request, "Activate the endpoint first: deliveries wait while it is not active.")
    else:
        directive = queue_test_delivery(integration)
        messages.success(request, f"Test event queued as directive #{directive.pk}; the worker sends it.")
    return redirect(integration)
