"""What the webhooks pane on the manage page shows: the endpoint, its deliveries, its filter, rotation and the receive URL."""
from __future__ import annotations

from typing import Any

from hi.integrations.api import Integration, count_by_status, display_values, receive_url, status_options

from .deliveries import disable_rule, sent
from .handlers import test_events
from .models import Delivery
from .rotation import overlap_ends


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane template's context (no secret: only whether one is set)."""
    shown = display_values(integration)
    return {
        "integration": integration,
        "url": shown.get("url", ""),
        "events": shown.get("events") or "*",
        "description": shown.get("description", ""),
        "secret_set": bool(shown.get("secret")),
        "headers_set": bool(shown.get("headers")),
        "overlap_ends": overlap_ends(integration),
        "delivery_counts": status_options(Delivery.Status, count_by_status(sent(integration))),
        "disable_rule": disable_rule(),
        "receive_url": receive_url(integration),
        "test_types": list(test_events()),
    }
