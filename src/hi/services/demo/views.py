"""The demo pane's own action: ask hi to send a note to the provider (a directive)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from hi.integrations.api import integration_for
from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from .handlers import request_note

MAX_NOTE = 500


@require_POST
@workspace_required(Role.OPERATOR)
def send_note(request: HttpRequest, pk) -> HttpResponse:
    """Queue a note directive; the worker delivers it."""
    integration = integration_for(request, pk)
    text = request.POST.get("text", "").strip()
    if not text:
        messages.error(request, "Write the note first.")
    elif len(text) > MAX_NOTE:
        messages.error(request, f"A note has at most {MAX_NOTE} characters.")
    elif integration.integration_type != "demo":
        messages.error(request, "Only a demo integration takes notes.")
    else:
        directive = request_note(integration, text)
        messages.success(request, f"Note queued as directive #{directive.pk}; the worker sends it.")
    return redirect(integration)
