"""The event catalog: every event type hi emits, what it means, and an example payload."""
from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hi.workspaces.access import workspace_required

from ..outbox.events import EVENT_DESCRIPTIONS, EVENT_TYPES


def catalog_entries() -> list[dict[str, str]]:
    """Each event type with its description and example payload, sorted by name."""
    return [
        {"type": name, "description": EVENT_DESCRIPTIONS.get(name, ""), "example": json.dumps(example, indent=2)}
        for name, example in sorted(EVENT_TYPES.items())
    ]


@workspace_required()
def event_catalog(request: HttpRequest) -> HttpResponse:
    """The catalog page (any member)."""
    return render(request, "integrations/events.html", {"entries": catalog_entries()})
